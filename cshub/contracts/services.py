"""Contracts (rule N6) and training records (rule N7): every write and state transition.

A contract is drafted by the plan's network staff, executed (guard: certification approved, training
attested, services x counties named, a rate for every contracted service) and terminated with a reason and
a date. While a draft it is edited freely; once executed it changes only through its transitions: an
amendment is a new draft that supersedes it (executing the amendment ends the predecessor the day before),
or termination. Every change locks the contract row and checks the `version` the caller read (optimistic
locking; locks: the contract row, select_for_update), writes a history row and an audit row in the same
transaction, and refuses with a DomainError naming each field; a refused change writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import uuid4

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind
from cshub.catalog.models import Service, ServiceCode
from cshub.contracts import errors, permissions, selectors
from cshub.contracts.models import (
    Contract,
    ContractEvent,
    ContractService,
    ContractStatus,
    FeeScheduleRow,
    TrainingAttestation,
    TrainingCompletion,
)
from cshub.contracts.trainings import training_catalog
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.locking import save_versioned
from cshub.core.models import County
from cshub.core.uploads import check_upload
from cshub.notifications.services import notify

EARLIEST_DATE = date(2020, 1, 1)  # CalAIM Community Supports began in 2022; earlier dates are typos


def _fail(message: str, code: str, *field_errors: FieldError, status: int = 422) -> DomainError:
    return DomainError(message, code=code, errors=list(field_errors), status=status)


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(
    contract: Contract, kind: str, *, actor: Any, from_status: str = "", to_status: str = "", text: str = ""
) -> None:
    user = _user(actor)
    ContractEvent.objects.create(
        contract=contract,
        at=clock.now(),
        kind=kind,
        actor=user,
        actor_name=str(user)[:200] if user else "",
        from_status=from_status,
        to_status=to_status,
        text=text,
    )


def _audit(actor: Any, action: str, contract: Contract, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="contract",
        object_id=contract.uuid,
        detail={"number": contract.number, **detail},
    )


def _require_manager(actor: Any, contract: Contract | None = None) -> None:
    if not permissions.can_manage_contracts(actor) or (
        contract is not None and actor.organization_id != contract.plan_id
    ):
        raise PermissionDeniedError("Only the plan's network and contracting staff change contracts.")


def _lock(contract: Contract, expected_version: int | None) -> Contract:
    """Lock the row and refuse when someone changed it since the caller read it (optimistic locking)."""
    current = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("plan", "organization", "supersedes")
        .get(pk=contract.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(
            f"Contract {current.number} was changed by someone else (it is now "
            f"{current.get_status_display().lower()}); reload it and try again."
        )
    return current


def _bump(contract: Contract, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(contract, name, value)
    save_versioned(contract, fields)


def _require_draft(contract: Contract, step: str) -> None:
    """Rule N6: an executed contract is changed only by amendment or termination."""
    if contract.status != ContractStatus.DRAFT:
        raise _fail(
            f"Contract {contract.number} is {contract.get_status_display().lower()}; {step} is only possible "
            "on a draft. Amend it (a new draft that supersedes it) or terminate it.",
            errors.CONTRACT_NOT_EDITABLE,
            status=409,
        )


def _date_errors(start: date | None, end: date | None) -> list[FieldError]:
    problems = []
    if start is None:
        problems.append(FieldError("start_date", "Enter the agreed start date.", "required"))
    elif start < EARLIEST_DATE:
        problems.append(
            FieldError("start_date", f"Enter a date on or after {EARLIEST_DATE:%m/%d/%Y}.", "invalid")
        )
    if start and end and end < start:
        problems.append(FieldError("end_date", "The end date is before the start date.", "invalid"))
    return problems


def _next_number(start: date) -> str:
    # The number is made after the insert from the row's id: unique without a counter table or a lock.
    return f"K-{start.year}-"


# --- Drafting (rule N6) ----------------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *,
    actor: Any,
    organization: Organization,
    start_date: date | None,
    end_date: date | None = None,
    notes: str = "",
) -> Contract:
    """A draft contract between the actor's plan and a CS provider."""
    _require_manager(actor)
    problems = _date_errors(start_date, end_date)
    if organization is None or organization.kind != OrganizationKind.CS_PROVIDER:
        problems.insert(0, FieldError("organization", "Choose a Community Supports provider.", "invalid"))
    if problems:
        raise _fail("The contract was not created.", errors.CONTRACT_INVALID, *problems)
    contract = Contract.objects.create(
        number=f"tmp-{uuid4().hex[:16]}",  # replaced below, once the id is known
        plan=actor.organization,
        organization=organization,
        start_date=start_date,
        end_date=end_date,
        notes=(notes or "").strip(),
        created_by=_user(actor),
        updated_by=_user(actor),
    )
    contract.number = f"{_next_number(start_date)}{contract.pk:05d}"
    Contract.objects.filter(pk=contract.pk).update(number=contract.number)
    _event(contract, "created", actor=actor, to_status=ContractStatus.DRAFT)
    _audit(actor, "create", contract, organization=str(organization.uuid))
    return contract


@transaction.atomic
def contract_update(
    *,
    actor: Any,
    contract: Contract,
    start_date: date | None,
    end_date: date | None,
    notes: str = "",
    expected_version: int | None,
) -> Contract:
    """Change a draft's dates and notes."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    _require_draft(contract, "changing the dates")
    problems = _date_errors(start_date, end_date)
    if contract.supersedes_id and start_date and start_date <= contract.supersedes.start_date:
        problems.append(
            FieldError(
                "start_date",
                "An amendment starts after the contract it amends "
                f"({contract.supersedes.start_date:%m/%d/%Y}).",
                "invalid",
            )
        )
    if problems:
        raise _fail("The contract was not changed.", errors.CONTRACT_INVALID, *problems)
    _bump(
        contract,
        start_date=start_date,
        end_date=end_date,
        notes=(notes or "").strip(),
        updated_by=_user(actor),
    )
    _event(
        contract,
        "updated",
        actor=actor,
        text=f"{start_date:%m/%d/%Y} to {end_date:%m/%d/%Y}" if end_date else f"from {start_date:%m/%d/%Y}",
    )
    _audit(actor, "update", contract, step="dates")
    return contract


@transaction.atomic
def contract_rows_set(
    *,
    actor: Any,
    contract: Contract,
    pairs: list[tuple[Service, County]],
    expected_version: int | None,
) -> Contract:
    """Replace a draft's services x counties (rule N6). A service with rates in the fee schedule cannot be
    dropped until its rates are removed (claims would otherwise find a rate for a service not contracted)."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    _require_draft(contract, "changing services and counties")
    wanted = {(s.pk, c.pk): (s, c) for s, c in pairs}
    problems = []
    inactive = sorted({s.name for s, _ in wanted.values() if not s.active})
    if inactive:
        problems.append(
            FieldError("services", f"No longer in the catalog: {', '.join(inactive)}.", "inactive")
        )
    kept_services = {s.pk for s, _ in wanted.values()}
    priced = (
        contract.fees.exclude(code__service_id__in=kept_services)
        .select_related("code__service")
        .order_by("code__hcpcs")
    )
    for fee in priced:
        problems.append(
            FieldError(
                "services",
                f"{fee.code.service.name} has a rate ({fee.code.code}); remove the rate before the service.",
                "has_rates",
            )
        )
    if problems:
        raise _fail("The services and counties were not changed.", errors.CONTRACT_INVALID, *problems)
    existing = {(r.service_id, r.county_id): r for r in contract.rows.all()}
    removed = [r.pk for key, r in existing.items() if key not in wanted]
    added = [
        ContractService(
            contract=contract,
            plan_id=contract.plan_id,
            organization_id=contract.organization_id,
            service=s,
            county=c,
        )
        for key, (s, c) in wanted.items()
        if key not in existing
    ]
    ContractService.objects.filter(pk__in=removed).delete()
    ContractService.objects.bulk_create(added)
    _bump(contract, updated_by=_user(actor))
    _event(
        contract,
        "rows_changed",
        actor=actor,
        text=f"{len(wanted)} service-county rows ({len(added)} added, {len(removed)} removed)",
    )
    _audit(actor, "update", contract, step="rows", rows=len(wanted))
    return contract


@dataclass
class FeeInput:
    code: str  # "H0043-U6"
    rate: Any  # Decimal, str or number
    effective_from: date | None
    effective_to: date | None = None
    unit: str = ""  # "" = the catalog's billing unit


def _parse_rate(raw: Any) -> Decimal | None:
    try:
        rate = Decimal(str(raw).strip().replace("$", "").replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return rate if rate.is_finite() else None


@transaction.atomic
def fee_row_add(
    *, actor: Any, contract: Contract, data: FeeInput, expected_version: int | None
) -> FeeScheduleRow:
    """Add a rate to a draft's fee schedule (rules N6, C1). The code must belong to a contracted service, the
    rate must be more than zero with at most two decimals, and a code's rows may not overlap in dates."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    _require_draft(contract, "changing the fee schedule")
    problems: list[FieldError] = []
    hcpcs, _, modifier = (data.code or "").strip().upper().partition("-")
    code = ServiceCode.objects.select_related("service").filter(hcpcs=hcpcs, modifier=modifier).first()
    if code is None:
        problems.append(
            FieldError(
                "code", f"{data.code or 'The code'} is not a catalog HCPCS code and modifier.", "unknown"
            )
        )
    elif not code.active:
        problems.append(FieldError("code", f"{code.code} is no longer an active code.", "inactive"))
    elif not contract.rows.filter(service_id=code.service_id).exists():
        problems.append(
            FieldError(
                "code",
                f"{code.code} is for {code.service.name}, which this contract does not cover; "
                "add the service first.",
                "not_contracted",
            )
        )
    rate = _parse_rate(data.rate)
    if rate is None:
        problems.append(FieldError("rate", "Enter the rate as an amount, e.g. 125.00.", "invalid"))
    elif rate <= 0:
        problems.append(FieldError("rate", "The rate must be more than zero.", "not_positive"))
    elif rate.as_tuple().exponent < -2:  # type: ignore[operator]
        problems.append(
            FieldError("rate", "Enter the rate in dollars and cents (two decimals at most).", "precision")
        )
    elif rate >= Decimal("100000000"):
        problems.append(FieldError("rate", "The rate is too large.", "too_large"))
    start, end = data.effective_from, data.effective_to
    if start is None:
        problems.append(FieldError("effective_from", "Enter the date the rate takes effect.", "required"))
    else:
        if start < contract.start_date:
            problems.append(
                FieldError(
                    "effective_from",
                    f"The contract starts {contract.start_date:%m/%d/%Y}; the rate cannot start before it.",
                    "before_contract",
                )
            )
        if end is not None and end < start:
            problems.append(
                FieldError("effective_to", "The end date is before the effective date.", "invalid")
            )
        if contract.end_date and (end is None or end > contract.end_date) and end is not None:
            problems.append(
                FieldError(
                    "effective_to", f"The contract ends {contract.end_date:%m/%d/%Y}.", "after_contract"
                )
            )
        if code is not None and not problems:
            overlap = (
                contract.fees.filter(code=code, effective_from__lte=end or date.max)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start))
                .first()
            )
            if overlap is not None:
                until = f"{overlap.effective_to:%m/%d/%Y}" if overlap.effective_to else "open-ended"
                problems.append(
                    FieldError(
                        "effective_from",
                        f"{code.code} already has a rate from {overlap.effective_from:%m/%d/%Y} ({until}); "
                        "the dates of one code's rates may not overlap.",
                        "overlap",
                    )
                )
    unit = (data.unit or "").strip() or (code.billing_unit if code else "")
    if code is not None and not unit:
        problems.append(FieldError("unit", "Name the billing unit (e.g. per diem, 15 minutes).", "required"))
    if problems:
        raise _fail("The rate was not added.", errors.FEE_INVALID, *problems)
    fee = FeeScheduleRow.objects.create(
        contract=contract,
        code=code,
        unit=unit[:40],
        rate=rate,
        effective_from=start,
        effective_to=end,
        created_by=_user(actor),
        updated_by=_user(actor),
    )
    _bump(contract, updated_by=_user(actor))
    _event(contract, "fee_added", actor=actor, text=f"{code.code} {unit}: ${rate} from {start:%m/%d/%Y}")
    _audit(actor, "update", contract, step="fee_added", code=code.code, rate=str(rate))
    return fee


@transaction.atomic
def fee_row_remove(
    *, actor: Any, contract: Contract, fee_uuid: Any, expected_version: int | None
) -> Contract:
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    _require_draft(contract, "changing the fee schedule")
    fee = contract.fees.select_related("code").filter(uuid=fee_uuid).first()
    if fee is None:
        raise _fail(
            "That rate is not in this contract's fee schedule.",
            errors.FEE_INVALID,
            FieldError("fee", "Not found.", "not_found"),
            status=404,
        )
    fee.delete()
    _bump(contract, updated_by=_user(actor))
    _event(contract, "fee_removed", actor=actor, text=f"{fee.code.code} from {fee.effective_from:%m/%d/%Y}")
    _audit(actor, "update", contract, step="fee_removed", code=fee.code.code)
    return contract


# --- Transitions (rules N6, N7) --------------------------------------------------------------------------


def execute_problems(contract: Contract) -> list[FieldError]:
    """Everything that stands between a draft and its execution, each named (rules N4, N6, N7)."""
    from cshub.network.selectors import certification_approved

    org = contract.organization
    problems = []
    if not certification_approved(org, plan=contract.plan):
        problems.append(
            FieldError(
                "certification",
                f"{org.name}'s certification is not approved for contracting (rule N4).",
                "certification_not_approved",
            )
        )
    if selectors.attestation_for(organization=org, plan=contract.plan) is None:
        missing = selectors.onboarding_missing(org)
        detail = (
            " Nobody in the organization has completed " + ", ".join(c.title for c in missing) + "."
            if missing
            else ""
        )
        problems.append(
            FieldError(
                "attestation",
                f"No training attestation from {org.name}'s leadership is recorded (rule N7).{detail}",
                "attestation_missing",
            )
        )
    services = {r.service_id: r.service for r in contract.rows.select_related("service")}
    if not services:
        problems.append(
            FieldError("rows", "The contract names no service in any county (rule N6).", "no_services")
        )
    priced = set(contract.fees.values_list("code__service_id", flat=True))
    unpriced = sorted((s for pk, s in services.items() if pk not in priced), key=lambda s: s.sort_order)
    if unpriced:
        problems.append(
            FieldError(
                "fees",
                "No rate in the fee schedule for " + ", ".join(s.name for s in unpriced) + " (rule N6).",
                "no_rate",
            )
        )
    predecessor = contract.supersedes
    if predecessor is not None and predecessor.status != ContractStatus.EXECUTED:
        problems.append(
            FieldError(
                "supersedes",
                f"The contract it amends, {predecessor.number}, is no longer executed.",
                "invalid",
            )
        )
    return problems


@transaction.atomic
def contract_execute(*, actor: Any, contract: Contract, expected_version: int | None) -> Contract:
    """Rules N6, N7: execute a draft. Refused, naming everything missing, unless the organization's
    certification is approved, its leadership attested the training, and the contract names services and
    counties with a rate for each service. Executing an amendment ends the contract it supersedes the day
    before the amendment starts."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    _require_draft(contract, "execution")
    problems = execute_problems(contract)
    if problems:
        raise _fail(
            f"Contract {contract.number} cannot be executed yet: " + " ".join(p.message for p in problems),
            errors.CONTRACT_NOT_READY,
            *problems,
        )
    now = clock.now()
    if contract.supersedes_id:
        old = _lock(contract.supersedes, None)
        _terminate(
            old,
            actor=actor,
            on=clock.add_calendar_days(contract.start_date, -1),
            reason=f"Superseded by amendment {contract.number}.",
        )
    _bump(
        contract,
        status=ContractStatus.EXECUTED,
        executed_at=now,
        executed_by=_user(actor),
        updated_by=_user(actor),
    )
    _event(
        contract, "executed", actor=actor, from_status=ContractStatus.DRAFT, to_status=ContractStatus.EXECUTED
    )
    _audit(actor, "update", contract, step="execute")
    notify(
        kind="contract_executed",
        subject=f"Contract {contract.number} with {contract.plan.name} is executed",
        body=(
            f"{contract.plan.name} executed contract {contract.number}, "
            f"starting {contract.start_date:%m/%d/%Y}. "
            "Its services, counties and rates are on the contract page."
        ),
        url=f"/contracts/{contract.uuid}/",
        organization=contract.organization,
        roles=permissions.PROVIDER_CONTRACT_READ_ROLES,
        object_type="contract",
        object_id=contract.uuid,
        actor=actor,
    )
    return contract


def _terminate(contract: Contract, *, actor: Any, on: date, reason: str) -> None:
    _bump(
        contract,
        status=ContractStatus.TERMINATED,
        terminated_on=on,
        termination_reason=reason,
        terminated_at=clock.now(),
        terminated_by=_user(actor),
        updated_by=_user(actor),
    )
    _event(
        contract,
        "terminated",
        actor=actor,
        from_status=ContractStatus.EXECUTED,
        to_status=ContractStatus.TERMINATED,
        text=f"Last day {on:%m/%d/%Y}. {reason}",
    )
    _audit(actor, "update", contract, step="terminate", terminated_on=on.isoformat())


@transaction.atomic
def contract_terminate(
    *, actor: Any, contract: Contract, terminated_on: date | None, reason: str, expected_version: int | None
) -> Contract:
    """End an executed contract: `terminated_on` is its last day in force (claims for earlier dates of service
    still find their rates)."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    if contract.status != ContractStatus.EXECUTED:
        raise _fail(
            f"Contract {contract.number} is {contract.get_status_display().lower()}; "
            "only an executed contract can be terminated.",
            errors.CONTRACT_NOT_EDITABLE,
            status=409,
        )
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(FieldError("reason", "Say why the contract ends.", "required"))
    if terminated_on is None:
        problems.append(FieldError("terminated_on", "Enter the contract's last day.", "required"))
    elif terminated_on < contract.start_date:
        problems.append(
            FieldError(
                "terminated_on",
                f"The contract starts {contract.start_date:%m/%d/%Y}; its last day cannot be earlier.",
                "invalid",
            )
        )
    elif contract.end_date and terminated_on > contract.end_date:
        problems.append(
            FieldError("terminated_on", f"The contract already ends {contract.end_date:%m/%d/%Y}.", "invalid")
        )
    if problems:
        raise _fail("The contract was not terminated.", errors.CONTRACT_INVALID, *problems)
    _terminate(contract, actor=actor, on=terminated_on, reason=reason)
    notify(
        kind="contract_terminated",
        subject=f"Contract {contract.number} with {contract.plan.name} ends {terminated_on:%m/%d/%Y}",
        body=(
            f"{contract.plan.name} terminated contract {contract.number}; "
            f"its last day is {terminated_on:%m/%d/%Y}. Reason: {reason}"
        ),
        url=f"/contracts/{contract.uuid}/",
        organization=contract.organization,
        roles=permissions.PROVIDER_CONTRACT_READ_ROLES,
        object_type="contract",
        object_id=contract.uuid,
        actor=actor,
    )
    return contract


@transaction.atomic
def contract_amend(
    *, actor: Any, contract: Contract, start_date: date | None = None, expected_version: int | None = None
) -> Contract:
    """Rule N6: an executed contract changes by amendment: a new draft with the same services, counties and
    rates that supersedes it once executed. One open amendment at a time."""
    _require_manager(actor, contract)
    contract = _lock(contract, expected_version)
    if contract.status != ContractStatus.EXECUTED:
        raise _fail(
            f"Contract {contract.number} is {contract.get_status_display().lower()}; "
            "only an executed contract is amended (edit a draft directly).",
            errors.CONTRACT_NOT_EDITABLE,
            status=409,
        )
    open_draft = contract.amendments.filter(status=ContractStatus.DRAFT).first()
    if open_draft is not None:
        raise _fail(
            f"Amendment {open_draft.number} is already being drafted; finish or use it.",
            errors.CONTRACT_INVALID,
            FieldError("contract", f"Open amendment {open_draft.number}.", "open_amendment"),
            status=409,
        )
    start = start_date or max(clock.today(), clock.add_calendar_days(contract.start_date, 1))
    if start <= contract.start_date:
        raise _fail(
            "The amendment was not created.",
            errors.CONTRACT_INVALID,
            FieldError("start_date", f"An amendment starts after {contract.start_date:%m/%d/%Y}.", "invalid"),
        )
    if contract.end_date and start > contract.end_date:
        raise _fail(
            "The amendment was not created.",
            errors.CONTRACT_INVALID,
            FieldError("start_date", f"The contract ends {contract.end_date:%m/%d/%Y}.", "invalid"),
        )
    draft = contract_create(
        actor=actor,
        organization=contract.organization,
        start_date=start,
        end_date=contract.end_date,
        notes=contract.notes,
    )
    Contract.objects.filter(pk=draft.pk).update(supersedes=contract)
    draft.supersedes = contract
    ContractService.objects.bulk_create(
        ContractService(
            contract=draft,
            plan_id=r.plan_id,
            organization_id=r.organization_id,
            service_id=r.service_id,
            county_id=r.county_id,
        )
        for r in contract.rows.all()
    )
    # Rates carry over from the amendment's start; one that ended before it is history and stays behind.
    FeeScheduleRow.objects.bulk_create(
        FeeScheduleRow(
            contract=draft,
            code_id=f.code_id,
            unit=f.unit,
            rate=f.rate,
            effective_from=max(f.effective_from, start),
            effective_to=f.effective_to,
            created_by=_user(actor),
        )
        for f in contract.fees.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start))
    )
    _event(draft, "amendment_of", actor=actor, text=f"Amends {contract.number}.")
    _event(contract, "amendment_drafted", actor=actor, text=f"Amendment {draft.number} drafted.")
    _audit(actor, "create", draft, step="amend", supersedes=contract.number)
    return draft


# --- Training (rule N7) ----------------------------------------------------------------------------------


@transaction.atomic
def completion_record(
    *,
    actor: Any,
    person: User,
    course_key: str,
    completed_on: date | None,
    evidence: UploadedFile | None = None,
    note: str = "",
) -> TrainingCompletion:
    """Rule N7: a person of the organization completed a course of the training catalog."""
    if not permissions.can_view_own_training(actor):
        raise PermissionDeniedError("Only a Community Supports provider's staff record their trainings.")
    problems = []
    if person is None or person.organization_id != actor.organization_id or not person.is_active:
        problems.append(FieldError("person", "Choose a person of your organization.", "invalid"))
    elif not permissions.can_record_completion(actor, person):
        raise PermissionDeniedError("You record your own trainings; leadership records anyone's.")
    course = training_catalog().get((course_key or "").strip())
    if course is None:
        problems.append(FieldError("course", "Choose a course of the training catalog.", "unknown"))
    today = clock.today()
    if completed_on is None:
        problems.append(FieldError("completed_on", "Enter the date the training was completed.", "required"))
    elif completed_on > today:
        problems.append(FieldError("completed_on", "The date is in the future.", "future"))
    elif completed_on < EARLIEST_DATE:
        problems.append(
            FieldError("completed_on", f"Enter a date on or after {EARLIEST_DATE:%m/%d/%Y}.", "invalid")
        )
    checked = None
    try:
        checked = check_upload(evidence, field="evidence", required=False)
    except DomainError as exc:
        problems.extend(exc.errors)
    if (
        not problems
        and TrainingCompletion.objects.filter(
            person=person, course_key=course.key, completed_on=completed_on
        ).exists()
    ):
        problems.append(
            FieldError(
                "course", f"{person} already has {course.title} on {completed_on:%m/%d/%Y}.", "duplicate"
            )
        )
    if problems:
        raise _fail("The training was not recorded.", errors.TRAINING_INVALID, *problems)
    completion = TrainingCompletion(
        organization_id=actor.organization_id,
        person=person,
        course_key=course.key,
        completed_on=completed_on,
        note=(note or "").strip()[:300],
        created_by=_user(actor),
        updated_by=_user(actor),
    )
    if checked is not None:
        completion.evidence_name = checked.name
        completion.evidence.save(checked.name, checked.file, save=False)
    try:
        with transaction.atomic():
            completion.save()
    except IntegrityError as exc:  # a concurrent twin of the same record
        raise _fail(
            "The training was not recorded.",
            errors.TRAINING_INVALID,
            FieldError("course", "Already recorded.", "duplicate"),
            status=409,
        ) from exc
    audit_record(
        actor=actor,
        action="create",
        object_type="training_completion",
        object_id=completion.uuid,
        detail={"course": course.key, "person": str(person.uuid), "completed_on": completed_on.isoformat()},
    )
    return completion


@transaction.atomic
def attestation_record(
    *, actor: Any, plan: Organization | None, course_keys: list[str], statement: str = ""
) -> TrainingAttestation:
    """Rule N7: the organization's leadership attests, to a plan, that the trainings are complete. Every
    course required for contracting must be attested, and each attested course completed by at least one
    person of the organization."""
    if not permissions.can_attest(actor):
        raise PermissionDeniedError(
            "Only the organization's leadership (CEO, COO, CS Program Director or Manager) attests training."
        )
    catalog = training_catalog()
    keys = list(dict.fromkeys(k.strip() for k in course_keys or [] if k and k.strip()))
    problems = []
    if plan is None or plan.kind != OrganizationKind.PLAN:
        problems.append(FieldError("plan", "Choose the plan the attestation is for.", "required"))
    unknown = [k for k in keys if catalog.get(k) is None]
    if unknown:
        problems.append(
            FieldError("courses", f"Not in the training catalog: {', '.join(unknown)}.", "unknown")
        )
    not_listed = [c.title for c in catalog.required_for_contracting if c.key not in keys]
    if not_listed:
        problems.append(
            FieldError(
                "courses", "The attestation must cover " + ", ".join(not_listed) + " (rule N7).", "required"
            )
        )
    done = set(
        TrainingCompletion.objects.filter(
            organization_id=actor.organization_id, course_key__in=keys, completed_on__lte=clock.today()
        ).values_list("course_key", flat=True)
    )
    not_done = [catalog.title(k) for k in keys if catalog.get(k) and k not in done]
    if not_done:
        problems.append(
            FieldError(
                "courses",
                "Nobody in the organization has completed "
                + ", ".join(not_done)
                + "; record the completion first (rule N7).",
                "not_completed",
            )
        )
    if problems:
        raise _fail("The attestation was not recorded.", errors.ATTESTATION_INVALID, *problems)
    courses_text = "; ".join(catalog.title(k) for k in keys)
    statement = (statement or "").strip() or (
        f"I attest that at least one person of {actor.organization.name} completed: {courses_text}."
    )
    attestation = TrainingAttestation.objects.create(
        organization_id=actor.organization_id,
        plan=plan,
        attested_by=actor,
        attested_at=clock.now(),
        course_keys=keys,
        statement=statement,
        created_by=actor,
        updated_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="training_attestation",
        object_id=attestation.uuid,
        detail={"plan": str(plan.uuid), "courses": keys},
    )
    notify(
        kind="training_attested",
        subject=f"{actor.organization.name} attested its Community Supports training",
        body=f"{actor} attested for {actor.organization.name}: {courses_text}.",
        url="/training/network/",
        organization=plan,
        roles=permissions.CONTRACT_MANAGER_ROLES,
        object_type="training_attestation",
        object_id=attestation.uuid,
        actor=actor,
    )
    return attestation
