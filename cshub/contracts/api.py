"""Contracts and training over REST (issue 4 items 5, 6, 9; rules N6, N7, C1), mirroring the pages:
`/api/v1/contracts` (list with filters, draft, services x counties, fee schedule, execute, terminate, amend,
the contracted rate for a claim) and `/api/v1/training` (catalog, completions, attestations, overdue).

Parse, call a selector or service, shape the response. Reads go through the scoped selectors; out of scope
is 404. Refusals are problem bodies from the API root (422 with field errors, 403, 409 on a stale version).
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind
from cshub.catalog.models import Service
from cshub.contracts import permissions, selectors, services
from cshub.contracts.models import Contract
from cshub.contracts.schemas import (
    AmendIn,
    AttestationIn,
    AttestationOut,
    CompletionIn,
    CompletionOut,
    ContractDetailOut,
    ContractIn,
    ContractOut,
    ContractUpdateIn,
    CourseOut,
    DueOut,
    FeeIn,
    RateOut,
    RowsIn,
    TerminateIn,
    VersionIn,
)
from cshub.contracts.trainings import training_catalog
from cshub.core.errors import DomainError, FieldError
from cshub.core.models import County

router = Router(tags=["contracts"])
training_router = Router(tags=["training"])


def _detail(user: Any, uuid: UUID) -> Contract:
    """The contract with what the detail shape shows: rows, fees, history, and (drafts, for the plan's
    network staff) what still stands between the draft and execution."""
    contract = selectors.contract_get_for_user(user=user, uuid=uuid)
    contract.rows_list = list(selectors.contract_rows(contract))
    contract.fees_list = list(selectors.contract_fees(contract))
    contract.history_list = list(selectors.contract_events(contract))
    contract.problems_list = []
    if contract.is_draft and permissions.can_manage_contracts(user):
        contract.problems_list = [p.as_dict() for p in services.execute_problems(contract)]
    return contract


def _for_update(user: Any, uuid: UUID) -> Contract:
    return selectors.contract_get_for_user(user=user, uuid=uuid)


@router.get("", response=list[ContractOut], summary="Contracts the caller may see, filtered (rule N6)")
@paginate(LimitOffsetPagination)
def list_contracts(
    request: HttpRequest,
    status: str = "",
    provider: UUID | None = None,
    service: str = "",
    county: str = "",
    q: str = "",
):
    if not permissions.can_view_contracts(request.user):
        raise PermissionDenied("Your role does not work with contracts.")
    filters = selectors.ContractFilters(status=status, provider=provider, service=service, county=county, q=q)
    return selectors.contract_list(user=request.user, filters=filters).select_related("supersedes")


@router.post("", response={201: ContractDetailOut}, summary="Draft a contract with a CS provider (rule N6)")
def create_contract(request: HttpRequest, payload: ContractIn):
    if not permissions.can_manage_contracts(request.user):
        raise PermissionDenied("Only the plan's network and contracting staff draft contracts.")
    org = Organization.objects.filter(uuid=payload.provider, kind=OrganizationKind.CS_PROVIDER).first()
    if org is None:
        raise DomainError(
            "The contract was not created.",
            errors=[FieldError("provider", "No Community Supports provider has this id.", "unknown")],
        )
    contract = services.contract_create(
        actor=request.user,
        organization=org,
        start_date=payload.start_date,
        end_date=payload.end_date,
        notes=payload.notes,
    )
    return Status(201, _detail(request.user, contract.uuid))


@router.get(
    "/rate",
    response=RateOut,
    summary="The contracted rate for a code on a date of service (rules N6, C1); 404 when none",
)
def contracted_rate(request: HttpRequest, provider: UUID, code: str, on: date):
    if not permissions.can_view_contracts(request.user):
        raise PermissionDenied("Your role does not work with contracts.")
    user = request.user
    if user.is_plan_staff:
        plan, org = user.organization, Organization.objects.filter(uuid=provider).first()
    else:
        # A provider asks about its own contracts with a plan: `provider` names the plan then.
        plan, org = (
            Organization.objects.filter(uuid=provider, kind=OrganizationKind.PLAN).first(),
            user.organization,
        )
    fee = None
    if plan is not None and org is not None:
        fee = selectors.contracted_rate(plan=plan, organization=org, code=code, on=on)
    if fee is None:
        raise Http404("No contracted rate for this code on that date")
    return {"contract": fee.contract.number, "fee": fee}


@router.get("/{uuid}", response=ContractDetailOut, summary="One contract: rows, fee schedule, history")
def get_contract(request: HttpRequest, uuid: UUID):
    return _detail(request.user, uuid)


@router.post("/{uuid}", response=ContractDetailOut, summary="Change a draft's dates and notes")
def update_contract(request: HttpRequest, uuid: UUID, payload: ContractUpdateIn):
    services.contract_update(
        actor=request.user,
        contract=_for_update(request.user, uuid),
        start_date=payload.start_date,
        end_date=payload.end_date,
        notes=payload.notes,
        expected_version=payload.version,
    )
    return _detail(request.user, uuid)


@router.put("/{uuid}/rows", response=ContractDetailOut, summary="Replace a draft's services x counties")
def set_rows(request: HttpRequest, uuid: UUID, payload: RowsIn):
    contract = _for_update(request.user, uuid)
    services_by_key = Service.objects.in_bulk([r.service for r in payload.rows], field_name="key")
    counties = {c.name.lower(): c for c in County.objects.all()}
    problems, pairs = [], []
    for i, row in enumerate(payload.rows):
        service, county = services_by_key.get(row.service), counties.get(row.county.strip().lower())
        if service is None:
            problems.append(
                FieldError(f"rows.{i}.service", f"No catalog service '{row.service}'.", "unknown")
            )
        if county is None:
            problems.append(
                FieldError(f"rows.{i}.county", f"No California county '{row.county}'.", "unknown")
            )
        if service and county:
            pairs.append((service, county))
    if problems:
        raise DomainError("The services and counties were not changed.", errors=problems)
    services.contract_rows_set(
        actor=request.user, contract=contract, pairs=pairs, expected_version=payload.version
    )
    return _detail(request.user, uuid)


@router.post(
    "/{uuid}/fees", response={201: ContractDetailOut}, summary="Add a rate to a draft's fee schedule"
)
def add_fee(request: HttpRequest, uuid: UUID, payload: FeeIn):
    services.fee_row_add(
        actor=request.user,
        contract=_for_update(request.user, uuid),
        data=services.FeeInput(
            code=payload.code,
            rate=payload.rate,
            effective_from=payload.effective_from,
            effective_to=payload.effective_to,
            unit=payload.unit,
        ),
        expected_version=payload.version,
    )
    return Status(201, _detail(request.user, uuid))


@router.delete("/{uuid}/fees/{fee}", response=ContractDetailOut, summary="Remove a rate from a draft")
def remove_fee(request: HttpRequest, uuid: UUID, fee: UUID, version: int):
    services.fee_row_remove(
        actor=request.user, contract=_for_update(request.user, uuid), fee_uuid=fee, expected_version=version
    )
    return _detail(request.user, uuid)


@router.post(
    "/{uuid}/execute",
    response=ContractDetailOut,
    summary="Execute a draft (rules N6, N7): refused, naming each missing piece, without an approved "
    "certification and a training attestation",
)
def execute(request: HttpRequest, uuid: UUID, payload: VersionIn):
    services.contract_execute(
        actor=request.user, contract=_for_update(request.user, uuid), expected_version=payload.version
    )
    return _detail(request.user, uuid)


@router.post("/{uuid}/terminate", response=ContractDetailOut, summary="Terminate with a reason and last day")
def terminate(request: HttpRequest, uuid: UUID, payload: TerminateIn):
    services.contract_terminate(
        actor=request.user,
        contract=_for_update(request.user, uuid),
        terminated_on=payload.terminated_on,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _detail(request.user, uuid)


@router.post(
    "/{uuid}/amend", response={201: ContractDetailOut}, summary="Draft an amendment that supersedes it"
)
def amend(request: HttpRequest, uuid: UUID, payload: AmendIn):
    draft = services.contract_amend(
        actor=request.user,
        contract=_for_update(request.user, uuid),
        start_date=payload.start_date,
        expected_version=payload.version,
    )
    return Status(201, _detail(request.user, draft.uuid))


# --- training (rule N7) ----------------------------------------------------------------------------------


@training_router.get("/courses", response=list[CourseOut], auth=None, summary="The training catalog (N7)")
def courses(request: HttpRequest):
    return [{**c.__dict__, "formats": list(c.formats)} for c in training_catalog().courses]


@training_router.get("/completions", response=list[CompletionOut], summary="Training completions in scope")
@paginate(LimitOffsetPagination)
def list_completions(request: HttpRequest, provider: UUID | None = None, course: str = ""):
    if not permissions.can_view_training(request.user):
        raise PermissionDenied("Your role does not work with training records.")
    return selectors.completion_list(user=request.user, organization=provider, course=course)


@training_router.post("/completions", response={201: CompletionOut}, summary="Record a completion (N7)")
def record_completion(request: HttpRequest, payload: CompletionIn):
    user = request.user
    person = user
    if payload.person is not None:
        person = User.objects.filter(uuid=payload.person, organization_id=user.organization_id).first()
        if person is None:
            raise DomainError(
                "The training was not recorded.",
                errors=[FieldError("person", "Choose a person of your organization.", "invalid")],
            )
    completion = services.completion_record(
        actor=user,
        person=person,
        course_key=payload.course,
        completed_on=payload.completed_on,
        note=payload.note,
    )
    return Status(201, completion)


@training_router.get("/attestations", response=list[AttestationOut], summary="Training attestations in scope")
@paginate(LimitOffsetPagination)
def list_attestations(request: HttpRequest):
    if not permissions.can_view_training(request.user):
        raise PermissionDenied("Your role does not work with training records.")
    return selectors.attestation_list(user=request.user)


@training_router.post(
    "/attestations", response={201: AttestationOut}, summary="Leadership attests the training to a plan (N7)"
)
def record_attestation(request: HttpRequest, payload: AttestationIn):
    plan = Organization.objects.filter(uuid=payload.plan, kind=OrganizationKind.PLAN).first()
    attestation = services.attestation_record(
        actor=request.user, plan=plan, course_keys=payload.courses, statement=payload.statement
    )
    return Status(201, attestation)


def _due_out(rows: list) -> list[dict[str, Any]]:
    return [
        {
            "organization": r.organization,
            "course": r.course.key,
            "course_title": r.course.title,
            "every_months": r.course.every_months,
            "last_completed_on": r.last_completed_on,
            "due_on": r.due_on,
            "overdue": r.overdue,
            "days_overdue": r.days_overdue,
        }
        for r in rows
    ]


@training_router.get(
    "/overdue",
    response=list[DueOut],
    summary="Overdue mandatory trainings: a provider its own, the plan's network staff every provider",
)
def overdue(request: HttpRequest):
    if not permissions.can_view_training(request.user):
        raise PermissionDenied("Your role does not work with training records.")
    return _due_out(selectors.overdue_trainings_for(user=request.user))


@training_router.get(
    "/status", response=list[DueOut], summary="A provider's standing on every mandatory ongoing course"
)
def status(request: HttpRequest):
    if not permissions.can_view_own_training(request.user):
        raise PermissionDenied("Only a Community Supports provider has its own training status.")
    return _due_out(selectors.training_status_for(user=request.user))
