"""Every read of staffing and capacity reports, scoped to the user (DESIGN principle 4, STYLE 3).

`report_queryset_for` is the one scoping function: a provider's leadership sees its own organization's
reports (drafts included); the plan's network, administrator and reporting staff see the reports sent to
their plan, once submitted (never a draft). Everyone else sees none. Out of scope is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.capacity import permissions
from cshub.capacity.models import CapacityLine, CapacityNotice, CapacityReport, ReportStatus, StaffLine
from cshub.capacity.schedule import Quarter, quarter_of
from cshub.core import clock

SUBMITTED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.SUPERSEDED)


def report_queryset_for(user: Any) -> QuerySet[CapacityReport]:
    """The one scoping function of CapacityReport (deny by default)."""
    qs = CapacityReport.objects.select_related("provider", "plan")
    if permissions.is_plan_viewer(user):
        return qs.filter(plan_id=user.organization_id, status__in=SUBMITTED_STATUSES)
    if permissions.is_provider_reporter(user):
        return qs.filter(provider_id=user.organization_id)
    return qs.none()


def report_get_for_user(*, user: Any, uuid: object) -> CapacityReport:
    """One report with its lines; 404 when out of scope."""
    try:
        return (
            report_queryset_for(user)
            .select_related("submitted_by", "supersedes", "superseded_by")
            .prefetch_related(
                Prefetch("staff_lines", queryset=StaffLine.objects.order_by("id")),
                Prefetch(
                    "capacity_lines",
                    queryset=CapacityLine.objects.select_related("service", "county").order_by("id"),
                ),
            )
            .get(uuid=uuid)
        )
    except (CapacityReport.DoesNotExist, ValueError, TypeError):
        raise Http404("No such capacity report.") from None


def report_list(
    *,
    user: Any,
    quarter: Quarter | None = None,
    provider: str = "",
    status: str = "",
    late: bool | None = None,
) -> QuerySet[CapacityReport]:
    """Reports in scope, newest quarter first, with their totals; `provider` is an organization uuid."""
    qs = report_queryset_for(user)
    if quarter is not None:
        qs = qs.filter(year=quarter.year, quarter=quarter.quarter)
    if provider:
        qs = qs.filter(provider__uuid=provider)
    if status:
        qs = qs.filter(status=status)
    if late is not None:
        qs = qs.filter(submitted_late=late)
    return qs.annotate(
        total_capacity=Subquery(_line_sum("members_able_to_serve")),
        total_serving=Subquery(_line_sum("members_serving")),
        total_fte=Subquery(
            StaffLine.objects.filter(report=OuterRef("pk"))
            .values("report")
            .annotate(t=Sum("fte"))
            .values("t")
        ),
    ).order_by("-year", "-quarter", "provider__name", "plan__name", "-version")


def _line_sum(field: str) -> QuerySet:
    return (
        CapacityLine.objects.filter(report=OuterRef("pk")).values("report").annotate(t=Sum(field)).values("t")
    )


def provider_choices_for(user: Any) -> QuerySet[Organization]:
    """The providers whose reports the user sees (the filter's choices)."""
    ids = report_queryset_for(user).values("provider_id")
    return Organization.objects.filter(id__in=ids).order_by("name")


def plan_choices_for(user: Any) -> QuerySet[Organization]:
    """The plans a provider may report to: every active plan organization. (When contracts land, the
    plans it holds an executed contract with.)"""
    if not permissions.can_edit_reports(user):
        return Organization.objects.none()
    return Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True).order_by("name")


def provider_get_for_user(*, user: Any, uuid: object) -> Organization:
    """A provider whose reports the user sees (its own organization for a provider); 404 otherwise."""
    try:
        provider = Organization.objects.get(uuid=uuid)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such provider.") from None
    if permissions.is_provider_reporter(user) and provider.id == user.organization_id:
        return provider
    if not report_queryset_for(user).filter(provider=provider).exists():
        raise Http404("No such provider.")
    return provider


@dataclass(frozen=True)
class HistoryRow:
    quarter: Quarter
    plan: str
    version: int
    submitted_late: bool
    staff_headcount: int
    staff_fte: Decimal
    current_caseload: int | None
    capacity: int
    serving: int


def provider_history(*, user: Any, provider: Organization) -> list[HistoryRow]:
    """The provider's submitted reports quarter by quarter (the current version of each), oldest first."""
    qs = (
        report_queryset_for(user)
        .filter(provider=provider, status=ReportStatus.SUBMITTED)
        .annotate(
            capacity=Subquery(_line_sum("members_able_to_serve")),
            serving=Subquery(_line_sum("members_serving")),
            fte=Subquery(
                StaffLine.objects.filter(report=OuterRef("pk"))
                .values("report")
                .annotate(t=Sum("fte"))
                .values("t")
            ),
            headcount=Subquery(
                StaffLine.objects.filter(report=OuterRef("pk"))
                .values("report")
                .annotate(t=Sum("headcount"))
                .values("t")
            ),
        )
        .order_by("year", "quarter", "plan__name")
    )
    return [
        HistoryRow(
            quarter=Quarter(r.year, r.quarter),
            plan=r.plan.name,
            version=r.version,
            submitted_late=r.submitted_late,
            staff_headcount=r.headcount or 0,
            staff_fte=r.fte or Decimal("0"),
            current_caseload=r.current_caseload,
            capacity=r.capacity or 0,
            serving=r.serving or 0,
        )
        for r in qs
    ]


@dataclass(frozen=True)
class MatrixCell:
    county: str
    service: str
    service_key: str
    providers: int
    capacity: int
    caseload: int

    @property
    def over_capacity(self) -> bool:
        return self.caseload > self.capacity


def latest_reports_for_plan(*, plan_id: int, as_of: Quarter | None = None) -> QuerySet[CapacityReport]:
    """Per provider, its latest submitted (current version) report to the plan up to ``as_of``."""
    scope = Q(plan_id=plan_id, status=ReportStatus.SUBMITTED)
    if as_of is not None:
        scope &= Q(year__lt=as_of.year) | Q(year=as_of.year, quarter__lte=as_of.quarter)
    latest = (
        CapacityReport.objects.filter(scope, provider_id=OuterRef("provider_id"))
        .order_by("-year", "-quarter")
        .values("id")[:1]
    )
    return CapacityReport.objects.filter(scope).filter(id=Subquery(latest))


def adequacy_matrix(
    *, user: Any, as_of: Quarter | None = None, county: str = "", service: str = ""
) -> list[MatrixCell]:
    """The network adequacy matrix (rule D3): county x service with the number of providers, their total
    capacity and total caseload, from each provider's latest submitted report to the user's plan, counting
    only providers with an executed contract in force today (contracts.active_contracted_services).
    `county` is a county name, `service` a service key. Plan viewers only (others get an empty matrix)."""
    if not permissions.is_plan_viewer(user):
        return []
    from cshub.contracts.selectors import active_contracted_services

    in_force = active_contracted_services(on=clock.today(), plan=user.organization)
    contracted = in_force.values("organization_id")
    reports = latest_reports_for_plan(plan_id=user.organization_id, as_of=as_of).filter(
        provider_id__in=contracted
    )
    lines = CapacityLine.objects.filter(report__in=reports)
    if county:
        lines = lines.filter(county__name=county)
    if service:
        lines = lines.filter(service__key=service)
    rows = (
        lines.values("county__name", "service__name", "service__key")
        .annotate(
            providers=Count("report__provider", distinct=True),
            capacity=Sum("members_able_to_serve"),
            caseload=Sum("members_serving"),
        )
        .order_by("county__name", "service__name")
    )
    return [
        MatrixCell(
            county=r["county__name"],
            service=r["service__name"],
            service_key=r["service__key"],
            providers=r["providers"],
            capacity=r["capacity"] or 0,
            caseload=r["caseload"] or 0,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Reporter:
    provider: Organization
    plan: Organization
    since: Quarter  # the first quarter the pair is expected to report


def expected_reporters(*, on: date | None = None) -> list[Reporter]:
    """The (provider, plan) pairs expected to report (rule D3): those with an executed contract in force on
    ``on`` (``contracts.selectors.active_contracted_services``), each from the quarter its contract began."""
    from cshub.contracts.selectors import active_contracted_services

    firsts: dict[tuple[int, int], Reporter] = {}
    for row in active_contracted_services(on=on or clock.today()):
        since = quarter_of(row.contract.start_date)
        key = (row.organization_id, row.plan_id)
        if key not in firsts or since < firsts[key].since:
            firsts[key] = Reporter(provider=row.organization, plan=row.plan, since=since)
    return sorted(firsts.values(), key=lambda r: (r.provider.name, r.plan.name))


def submitted_pairs(*, quarter: Quarter) -> set[tuple[int, int]]:
    """(provider_id, plan_id) pairs that have submitted the quarter's report."""
    return set(
        CapacityReport.objects.filter(
            year=quarter.year, quarter=quarter.quarter, status__in=SUBMITTED_STATUSES
        ).values_list("provider_id", "plan_id")
    )


def overdue_list(*, user: Any) -> QuerySet[CapacityNotice]:
    """Late flags (rule D3) of quarters still not submitted, in the user's scope."""
    if permissions.is_plan_viewer(user):
        scope = Q(plan_id=user.organization_id)
    elif permissions.is_provider_reporter(user):
        scope = Q(provider_id=user.organization_id)
    else:
        return CapacityNotice.objects.none()
    submitted = CapacityReport.objects.filter(
        provider_id=OuterRef("provider_id"),
        plan_id=OuterRef("plan_id"),
        year=OuterRef("year"),
        quarter=OuterRef("quarter"),
        status__in=SUBMITTED_STATUSES,
    )
    return (
        CapacityNotice.objects.filter(scope, kind="late")
        .filter(~Exists(submitted))
        .select_related("provider", "plan")
        .order_by("-year", "-quarter", "provider__name")
    )
