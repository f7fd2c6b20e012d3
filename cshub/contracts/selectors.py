"""Reads of contracts and training records (STYLE 3, 5).

One scoping function per model: `contract_queryset_for(user)` (the plan's staff see their plan's contracts,
a provider its own), `completion_queryset_for(user)` and `attestation_queryset_for(user)` (a provider its
own; the plan's network staff those of the organizations contracting with, or attesting to, their plan).
Out of scope is a 404.

For other apps (unscoped, no member data): `active_contracted_services` (directory, capacity: rule N8),
`contracted_rate` (claims: rules N6, C1), `attestation_for` and `training_gaps` (the execute guard, N7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.catalog.models import ServiceCode
from cshub.contracts import permissions
from cshub.contracts.models import (
    SIGNED_STATUSES,
    Contract,
    ContractService,
    ContractStatus,
    FeeScheduleRow,
    TrainingAttestation,
    TrainingCompletion,
)
from cshub.contracts.trainings import Course, training_catalog
from cshub.core import clock

# --- in force --------------------------------------------------------------------------------------------


def in_force_q(on: date, prefix: str = "") -> Q:
    """Contracts in force on `on`: executed (or terminated later than `on`), started, not ended."""
    p = prefix
    return (
        Q(**{f"{p}status__in": SIGNED_STATUSES, f"{p}start_date__lte": on})
        & (Q(**{f"{p}end_date__isnull": True}) | Q(**{f"{p}end_date__gte": on}))
        & (Q(**{f"{p}terminated_on__isnull": True}) | Q(**{f"{p}terminated_on__gte": on}))
    )


def contract_in_force(contract: Contract, on: date) -> bool:
    """The Python form of `in_force_q` for rows already in memory (claims adjudicate thousands of lines
    against a few contracts); tests/contracts prove the two agree."""
    return (
        contract.status in SIGNED_STATUSES
        and contract.start_date <= on
        and (contract.end_date is None or contract.end_date >= on)
        and (contract.terminated_on is None or contract.terminated_on >= on)
    )


def fee_row_applies(row: FeeScheduleRow, on: date) -> bool:
    """Whether a fee schedule row (with its contract loaded) prices a date of service `on` (rules N6, C5)."""
    return (
        contract_in_force(row.contract, on)
        and row.effective_from <= on
        and (row.effective_to is None or row.effective_to >= on)
    )


def fee_rows_for(*, plan: Organization, organization_ids: list[int]) -> list[FeeScheduleRow]:
    """Every signed fee schedule row between the plan and these providers, newest contract and rate first
    (the order `contracted_rate` picks in), with contract and code loaded: for pricing many lines at once."""
    return list(
        FeeScheduleRow.objects.filter(
            contract__plan=plan,
            contract__organization_id__in=organization_ids,
            contract__status__in=SIGNED_STATUSES,
        )
        .select_related("contract", "code")
        .order_by("-contract__start_date", "-effective_from")
    )


def contracted_rows_for(*, plan: Organization, organization_ids: list[int]) -> list[ContractService]:
    """The services x counties of every signed contract between the plan and these providers, contract
    loaded; `contract_in_force` says which apply on a date (claims: rule C1)."""
    return list(
        ContractService.objects.filter(
            plan=plan, organization_id__in=organization_ids, contract__status__in=SIGNED_STATUSES
        ).select_related("contract")
    )


def active_contracted_services(*, on: date, plan: Organization | None = None) -> QuerySet[ContractService]:
    """Rule N8: the services x counties of executed contracts in force on `on` (one row per contract, service
    and county; the same organization may appear under two plans). Each row has `organization`, `plan`,
    `service`, `county` and `contract` loaded. For the directory and capacity apps; not scoped (the
    directory is public)."""
    qs = ContractService.objects.filter(in_force_q(on, "contract__"))
    if plan is not None:
        qs = qs.filter(plan=plan)
    return qs.select_related("organization", "plan", "service", "county", "contract")


def contracted_rate(
    *, plan: Organization, organization: Organization, code: ServiceCode | str, on: date
) -> FeeScheduleRow | None:
    """Rules N6, C1: the fee schedule row a claim for `code` ("H0043-U6" or a ServiceCode) on date of
    service `on` is paid by, under the plan's contract with the organization in force that day; None when
    there is no contract in force or it has no rate for that code on that day."""
    qs = FeeScheduleRow.objects.filter(
        in_force_q(on, "contract__"),
        contract__plan=plan,
        contract__organization=organization,
        effective_from__lte=on,
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
    if isinstance(code, ServiceCode):
        qs = qs.filter(code=code)
    else:
        hcpcs, _, modifier = str(code).strip().upper().partition("-")
        qs = qs.filter(code__hcpcs=hcpcs, code__modifier=modifier)
    # An amendment ends its predecessor the day before it starts, so at most one contract is in force; the
    # newest start wins should two overlap all the same.
    return qs.select_related("code", "contract").order_by("-contract__start_date", "-effective_from").first()


# --- contracts, scoped -----------------------------------------------------------------------------------


def contract_queryset_for(user: object) -> QuerySet[Contract]:
    """Deny by default: the contracts this user may see."""
    if not permissions.can_view_contracts(user):
        return Contract.objects.none()
    if user.is_plan_staff:
        return Contract.objects.filter(plan_id=user.organization_id)
    return Contract.objects.filter(organization_id=user.organization_id)


def contract_get_for_user(*, user: object, uuid: UUID | str) -> Contract:
    """One contract, or 404 when out of scope."""
    try:
        return contract_queryset_for(user).select_related("plan", "organization", "supersedes").get(uuid=uuid)
    except (Contract.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such contract") from exc


@dataclass(frozen=True)
class ContractFilters:
    status: str = ""
    provider: UUID | str | None = None  # organization uuid (plan staff)
    service: str = ""  # catalog key
    county: str = ""  # county name
    q: str = ""  # contract number or provider name


def contract_list(*, user: object, filters: ContractFilters) -> QuerySet[Contract]:
    """Contracts in scope, filtered, newest start first; provider and plan loaded, rows prefetched."""
    qs = contract_queryset_for(user).select_related("plan", "organization")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.provider:
        qs = qs.filter(organization__uuid=filters.provider)
    # Service and county in one filter() so both match the same row: nav in Yolo and meals in Sacramento is
    # not "meals in Yolo".
    row_filter = {}
    if filters.service:
        row_filter["rows__service__key"] = filters.service
    if filters.county:
        row_filter["rows__county__name"] = filters.county
    if row_filter:
        qs = qs.filter(**row_filter)
    if filters.q:
        qs = qs.filter(
            Q(number__iexact=filters.q.strip()) | Q(organization__name__icontains=filters.q.strip())
        )
    if filters.service or filters.county:
        qs = qs.distinct()
    return qs.prefetch_related("rows__service", "rows__county").order_by("-start_date", "-id")


def contract_rows(contract: Contract) -> QuerySet[ContractService]:
    return contract.rows.select_related("service", "county").order_by("service__sort_order", "county__name")


def contract_fees(contract: Contract) -> QuerySet[FeeScheduleRow]:
    return contract.fees.select_related("code", "code__service").order_by(
        "code__hcpcs", "code__modifier", "effective_from"
    )


def contract_events(contract: Contract) -> QuerySet:
    return contract.events.order_by("at", "id")


def codes_for_contract(contract: Contract) -> QuerySet[ServiceCode]:
    """The codes a fee row may name: active codes of the contracted services."""
    return (
        ServiceCode.objects.filter(active=True, service__contract_rows__contract=contract)
        .select_related("service")
        .distinct()
        .order_by("hcpcs", "modifier")
    )


# --- training, scoped ------------------------------------------------------------------------------------


def _plan_network_orgs(plan_id: int) -> QuerySet:
    """Organizations that contract with the plan (any state) or attested training to it."""
    return Organization.objects.filter(
        Q(contracts__plan_id=plan_id) | Q(training_attestations__plan_id=plan_id)
    ).values("pk")


def completion_queryset_for(user: object) -> QuerySet[TrainingCompletion]:
    if permissions.can_view_own_training(user):
        return TrainingCompletion.objects.filter(organization_id=user.organization_id)
    if permissions.can_view_network_training(user):
        return TrainingCompletion.objects.filter(organization__in=_plan_network_orgs(user.organization_id))
    return TrainingCompletion.objects.none()


def attestation_queryset_for(user: object) -> QuerySet[TrainingAttestation]:
    if permissions.can_view_own_training(user):
        return TrainingAttestation.objects.filter(organization_id=user.organization_id)
    if permissions.can_view_network_training(user):
        return TrainingAttestation.objects.filter(plan_id=user.organization_id)
    return TrainingAttestation.objects.none()


def completion_list(
    *, user: object, organization: UUID | str | None = None, course: str = ""
) -> QuerySet[TrainingCompletion]:
    qs = completion_queryset_for(user).select_related("person", "organization")
    if organization:
        qs = qs.filter(organization__uuid=organization)
    if course:
        qs = qs.filter(course_key=course)
    return qs.order_by("-completed_on", "-id")


def completion_get_for_user(*, user: object, uuid: UUID | str) -> TrainingCompletion:
    try:
        return completion_queryset_for(user).select_related("person", "organization").get(uuid=uuid)
    except (TrainingCompletion.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such training completion") from exc


def attestation_list(*, user: object) -> QuerySet[TrainingAttestation]:
    return attestation_queryset_for(user).select_related("organization", "plan", "attested_by")


# --- the execute guard's reads (rule N7) -----------------------------------------------------------------


def attestation_for(*, organization: Organization, plan: Organization) -> TrainingAttestation | None:
    """The organization's latest training attestation to the plan (rule N7)."""
    return (
        TrainingAttestation.objects.filter(organization=organization, plan=plan)
        .order_by("-attested_at", "-id")
        .first()
    )


def onboarding_missing(organization: Organization) -> list[Course]:
    """Rule N7: the courses required for contracting that nobody in the organization has completed."""
    done = set(
        TrainingCompletion.objects.filter(organization=organization).values_list("course_key", flat=True)
    )
    return [c for c in training_catalog().required_for_contracting if c.key not in done]


# --- overdue mandatory trainings (rule N7) ---------------------------------------------------------------


@dataclass(frozen=True)
class TrainingDue:
    """Where one organization stands on one mandatory ongoing course on a date."""

    organization: Organization
    course: Course
    last_completed_on: date | None
    due_on: date

    on: date

    @property
    def overdue(self) -> bool:
        return self.on > self.due_on

    @property
    def days_overdue(self) -> int:
        return max((self.on - self.due_on).days, 0)


def training_due(
    *, on: date | None = None, plan_id: int | None = None, organization_ids: list[int] | None = None
) -> list[TrainingDue]:
    """Rule N7: each mandatory ongoing course of each organization with a contract in force on `on` (with the
    plan, when given): due `every_months` after the last completion by anyone in the organization, or
    `first_due_days` after the organization's first contract started when never completed. Four queries
    whatever the number of organizations."""
    on = on or clock.today()
    courses = training_catalog().ongoing
    contracts = Contract.objects.filter(in_force_q(on))
    if plan_id is not None:
        contracts = contracts.filter(plan_id=plan_id)
    if organization_ids is not None:
        contracts = contracts.filter(organization_id__in=organization_ids)
    org_ids = set(contracts.values_list("organization_id", flat=True))
    if not org_ids or not courses:
        return []
    signed = Contract.objects.filter(status__in=SIGNED_STATUSES, organization_id__in=org_ids)
    if plan_id is not None:
        signed = signed.filter(plan_id=plan_id)
    first_start = dict(
        signed.values("organization_id")
        .annotate(first=Min("start_date"))
        .values_list("organization_id", "first")
    )
    last_done = {
        (row["organization_id"], row["course_key"]): row["last"]
        for row in TrainingCompletion.objects.filter(
            organization_id__in=org_ids, course_key__in=[c.key for c in courses], completed_on__lte=on
        )
        .values("organization_id", "course_key")
        .annotate(last=Max("completed_on"))
    }
    orgs = Organization.objects.filter(pk__in=org_ids).order_by("name")
    result = []
    for org in orgs:
        for course in courses:
            last = last_done.get((org.pk, course.key))
            if last is not None:
                due = clock.add_months(last, course.every_months or 0)
            else:
                due = clock.add_calendar_days(first_start[org.pk], course.first_due_days or 0)
            result.append(
                TrainingDue(organization=org, course=course, last_completed_on=last, due_on=due, on=on)
            )
    return result


def overdue_trainings_for(*, user: object, on: date | None = None) -> list[TrainingDue]:
    """The overdue mandatory trainings the user may see: a provider its own, the plan's network staff every
    provider contracting with their plan (rule N7)."""
    if permissions.can_view_own_training(user):
        rows = training_due(on=on, organization_ids=[user.organization_id])
    elif permissions.can_view_network_training(user):
        rows = training_due(on=on, plan_id=user.organization_id)
    else:
        return []
    return [r for r in rows if r.overdue]


def training_status_for(*, user: object, on: date | None = None) -> list[TrainingDue]:
    """A provider's own standing on every mandatory ongoing course (overdue or not)."""
    if not permissions.can_view_own_training(user):
        return []
    return training_due(on=on, organization_ids=[user.organization_id])


def contract_status_counts(*, user: object) -> dict[str, int]:
    """How many contracts in scope are in each state (home cards)."""
    counts = dict.fromkeys(ContractStatus.values, 0)
    for row in contract_queryset_for(user).values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts
