"""Every read of the reports app (STYLE 2, 3): who may ask for which provider and plan, the monthly
utilization figures (rules D6, D7), the plan's referral analytics (rule D7) and the de-identified extracts
(rule D5).

The figures are aggregates over other apps' tables, read here with set-based queries (a fixed number of
queries per report, whatever the number of rows: DESIGN principle 7); no query runs per row. The scoping
functions decide which providers and plans a user may ask about (rule D4; out of scope is 404); the
``*_compute`` functions take an already scoped provider and plan and are what the monthly job calls.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear, TruncMonth
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.authorizations.models import (
    Authorization,
    AuthorizationRequest,
    RequestStatus,
    ServiceRecord,
)
from cshub.claims.models import Claim, ClaimLine, ClaimStatus, LineStatus
from cshub.contracts.models import SIGNED_STATUSES, Contract
from cshub.core import clock
from cshub.members.models import EligibilitySpan
from cshub.referrals.models import Enrollment, OutreachAttempt, Referral
from cshub.referrals.selectors import outreach_progress
from cshub.referrals.workflow import workflow
from cshub.reports import deidentify, permissions
from cshub.reports.models import ReferralSnapshot, UtilizationReport
from cshub.reports.periods import Month

ZERO = Decimal("0.00")
ECM_LABEL = "Enhanced Care Management"
UNKNOWN = "Unknown"
# Outreach attempt outcomes where the member was reached (rule O3: outreach succeeded or the member said no).
REACHED_OUTCOMES = frozenset(
    {OutreachAttempt.Outcome.REACHED, OutreachAttempt.Outcome.SCHEDULED, OutreachAttempt.Outcome.DECLINED}
)
TREND_MONTHS = 6
ANALYTICS_MONTHS = 12
TOP_SERIES = 8  # the dashboard charts this many counties (or services) and adds the rest as "Other"


# --- Scope (rule D4) ------------------------------------------------------------------------------------


def _signed_contracts_overlapping(first: date, last: date) -> QuerySet[Contract]:
    """Signed contracts in force on at least one day from ``first`` to ``last``."""
    return Contract.objects.filter(status__in=SIGNED_STATUSES, start_date__lte=last).filter(
        (Q(end_date__isnull=True) | Q(end_date__gte=first))
        & (Q(terminated_on__isnull=True) | Q(terminated_on__gte=first))
    )


def provider_queryset_for(user: object) -> QuerySet[Organization]:
    """The providers whose utilization the user may see: for the plan's reporting roles every provider with
    a signed contract with the plan or a referral from it; for a provider's leadership, their own."""
    if permissions.is_plan_reporter(user):
        plan_id = user.organization_id
        contracted = Contract.objects.filter(
            plan_id=plan_id, organization=OuterRef("pk"), status__in=SIGNED_STATUSES
        )
        referred = Referral.objects.filter(plan_id=plan_id, receiving_provider=OuterRef("pk"))
        return Organization.objects.filter(kind__in=permissions.PROVIDER_KINDS).filter(
            Exists(contracted) | Exists(referred)
        )
    if permissions.is_provider_reporter(user):
        return Organization.objects.filter(pk=user.organization_id)
    return Organization.objects.none()


def plan_queryset_for(user: object) -> QuerySet[Organization]:
    """The plans a user may read utilization under: the plan's own staff their plan; a provider the plans it
    has a signed contract with or referrals from."""
    if permissions.is_plan_reporter(user):
        return Organization.objects.filter(pk=user.organization_id)
    if permissions.is_provider_reporter(user):
        org = user.organization_id
        contracted = Contract.objects.filter(
            plan=OuterRef("pk"), organization_id=org, status__in=SIGNED_STATUSES
        )
        referred = Referral.objects.filter(plan=OuterRef("pk"), receiving_provider_id=org)
        return Organization.objects.filter(kind=OrganizationKind.PLAN).filter(
            Exists(contracted) | Exists(referred)
        )
    return Organization.objects.none()


def _get(qs: QuerySet[Organization], uuid: UUID | str, what: str) -> Organization:
    try:
        return qs.get(uuid=uuid)
    except (Organization.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No such {what}") from exc


@dataclass(frozen=True)
class UtilizationScope:
    provider: Organization | None
    plan: Organization | None
    providers: list[Organization]
    plans: list[Organization]


def utilization_scope(
    *, user: object, provider: UUID | str | None = None, plan: UUID | str | None = None
) -> UtilizationScope:
    """Resolve the provider and plan asked for within the user's scope (404 outside it). A provider's
    leadership always reads their own organization; without a plan the first of the provider's plans is
    taken; plan staff without a provider get the list to pick from (provider None)."""
    providers = list(provider_queryset_for(user).order_by("name"))
    plans = list(plan_queryset_for(user).order_by("name"))
    chosen_provider = None
    if provider:
        chosen_provider = next((p for p in providers if str(p.uuid) == str(provider)), None)
        if chosen_provider is None:
            raise Http404("No such provider")
    elif permissions.is_provider_reporter(user):
        chosen_provider = providers[0] if providers else None
    chosen_plan = None
    if plan:
        chosen_plan = next((p for p in plans if str(p.uuid) == str(plan)), None)
        if chosen_plan is None:
            raise Http404("No such plan")
    elif plans:
        chosen_plan = plans[0]
    return UtilizationScope(chosen_provider, chosen_plan, providers, plans)


def contracted_pairs(*, month: Month) -> list[tuple[int, int]]:
    """(provider_id, plan_id) of every signed contract in force on some day of the month: the providers that
    get a utilization report (rule D6)."""
    return sorted(
        set(
            _signed_contracts_overlapping(month.first, month.last)
            .filter(organization__kind__in=permissions.PROVIDER_KINDS)
            .values_list("organization_id", "plan_id")
        )
    )


def stored_report_queryset_for(user: object) -> QuerySet[UtilizationReport]:
    """Stored monthly reports the user may see (deny by default)."""
    if permissions.is_plan_reporter(user):
        return UtilizationReport.objects.filter(plan_id=user.organization_id)
    if permissions.is_provider_reporter(user):
        return UtilizationReport.objects.filter(provider_id=user.organization_id)
    return UtilizationReport.objects.none()


def stored_report_get_for_user(*, user: object, uuid: UUID | str) -> UtilizationReport:
    try:
        return stored_report_queryset_for(user).select_related("provider", "plan").get(uuid=uuid)
    except (UtilizationReport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such report") from exc


def stored_reports_for(
    *, user: object, provider: Organization, plan: Organization
) -> list[UtilizationReport]:
    return list(
        stored_report_queryset_for(user)
        .filter(provider=provider, plan=plan)
        .select_related("provider", "plan")
        .order_by("-month")[:24]
    )


# --- Utilization figures (rules D6, D7) ---------------------------------------------------------------


def _money(value: Decimal | None) -> str:
    return f"{(value or ZERO).quantize(Decimal('0.01'))}"


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _median_days(durations: Iterable[timedelta]) -> float | None:
    days = [max(d.total_seconds(), 0) / 86400 for d in durations]
    return round(statistics.median(days), 1) if days else None


def _in(field: str, month: Month) -> Q:
    """``field`` (an instant) within the month, Pacific."""
    return Q(**{f"{field}__gte": month.start, f"{field}__lte": month.end})


def _on(field: str, month: Month) -> Q:
    """``field`` (a date) within the month."""
    return Q(**{f"{field}__gte": month.first, f"{field}__lte": month.last})


def _enrollments_under(provider: Organization, plan: Organization) -> QuerySet[Enrollment]:
    """A provider's enrollments under a plan: the referral's plan, or (no referral) the plan the member was
    eligible with on the enrollment date."""
    eligible = EligibilitySpan.objects.filter(
        member=OuterRef("member"), plan=plan, start_date__lte=OuterRef("enrolled_on")
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("enrolled_on")))
    return Enrollment.objects.filter(organization=provider).filter(
        Q(referral__plan=plan) | Q(referral__isnull=True) & Exists(eligible)
    )


def _outreach_window(referrals: QuerySet[Referral], month: Month) -> dict[str, int]:
    """Rule O3 for the referrals whose 30-day outreach window ended in the month: how many started outreach
    within the window, and how many were timely (started in the window, and the member was reached in it or
    the rule's attempts and modalities were all made in it). Referrals closed inside the window without any
    outreach (withdrawn, not eligible, no capacity, referred elsewhere) needed none and are left out.
    Two queries: the referrals, then their attempts."""
    rule = workflow().outreach
    due_from = clock.start_of_day(clock.add_calendar_days(month.first, -rule.window_days))
    due_to = clock.end_of_day(clock.add_calendar_days(month.last, -rule.window_days))
    cohort = list(
        referrals.filter(received_at__gte=due_from, received_at__lte=due_to).values_list(
            "id", "received_at", "closed_at"
        )
    )
    attempts: dict[int, list[Any]] = defaultdict(list)
    for referral_id, at, modality, outcome in (
        OutreachAttempt.objects.filter(referral_id__in=[c[0] for c in cohort])
        .order_by("attempted_at")
        .values_list("referral_id", "attempted_at", "modality", "outcome")
    ):
        attempts[referral_id].append(SimpleNamespace(attempted_at=at, modality=modality, outcome=outcome))
    due = started = timely = 0
    for referral_id, received_at, closed_at in cohort:
        made = attempts.get(referral_id, [])
        progress = outreach_progress(SimpleNamespace(received_at=received_at), made, today=month.last)
        if not made and closed_at is not None and clock.local(closed_at).date() <= progress.deadline:
            continue
        due += 1
        in_window = [
            a for a in made if progress.received_on <= clock.local(a.attempted_at).date() <= progress.deadline
        ]
        if in_window:
            started += 1
            if progress.o3_met or any(a.outcome in REACHED_OUTCOMES for a in in_window):
                timely += 1
    return {"due": due, "started_in_window": started, "timely": timely}


def _trend(provider: Organization, plan: Organization, month: Month) -> dict[str, Any]:
    """The six months up to the report's month: referrals received, new enrollments, authorization requests
    and claims received (four grouped queries)."""
    months = month.shift(-(TREND_MONTHS - 1)).until(month)
    first, last = months[0], months[-1]

    def by_month(rows: Iterable[dict[str, Any]]) -> list[int]:
        counts = {}
        for row in rows:
            m = row["m"]
            counts[Month(m.year, m.month)] = row["n"]
        return [counts.get(m, 0) for m in months]

    referrals = (
        Referral.objects.filter(plan=plan, receiving_provider=provider, received_at__gte=first.start)
        .filter(received_at__lte=last.end)
        .annotate(m=TruncMonth("received_at", tzinfo=clock.PACIFIC))
        .values("m")
        .annotate(n=Count("id"))
        .order_by()
    )
    enrollments = (
        _enrollments_under(provider, plan)
        .filter(enrolled_on__gte=first.first, enrolled_on__lte=last.last)
        .annotate(m=TruncMonth("enrolled_on"))
        .values("m")
        .annotate(n=Count("id"))
        .order_by()
    )
    requests = (
        AuthorizationRequest.objects.filter(
            plan=plan,
            servicing_organization=provider,
            received_at__gte=first.start,
            received_at__lte=last.end,
        )
        .annotate(m=TruncMonth("received_at", tzinfo=clock.PACIFIC))
        .values("m")
        .annotate(n=Count("id"))
        .order_by()
    )
    claims = (
        Claim.objects.filter(plan=plan, billing_organization=provider)
        .filter(received_on__gte=first.first, received_on__lte=last.last)
        .exclude(status=ClaimStatus.VOID)
        .annotate(m=TruncMonth("received_on"))
        .values("m")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "months": [m.key for m in months],
        "referrals_received": by_month(referrals),
        "enrollments_new": by_month(enrollments),
        "authorization_requests": by_month(requests),
        "claims_received": by_month(claims),
    }


def utilization_compute(*, provider: Organization, plan: Organization, month: Month) -> dict[str, Any]:
    """Rules D6, D7: one provider's month under one plan, as JSON-ready figures. Unscoped: callers pass a
    provider and plan already in scope (`utilization_for_user`) or are the monthly job. About twenty
    queries, whatever the volume."""
    wf = workflow()
    referrals = Referral.objects.filter(plan=plan, receiving_provider=provider)

    # Referrals received and closed in the month.
    received = referrals.filter(_in("received_at", month))
    by_service = [
        {"service": row["service__name"] or ECM_LABEL, "count": row["n"]}
        for row in received.values("service__name").annotate(n=Count("id")).order_by("-n", "service__name")
    ]
    first_attempt = (
        OutreachAttempt.objects.filter(referral=OuterRef("pk"))
        .order_by("attempted_at")
        .values("attempted_at")[:1]
    )
    to_first = [
        first - at
        for at, first in received.annotate(first=Subquery(first_attempt))
        .filter(first__isnull=False)
        .values_list("received_at", "first")
    ]
    closed = {
        row["status"]: row["n"]
        for row in referrals.filter(_in("closed_at", month))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    }
    closed_by_status = [
        {"status": key, "label": wf.status(key).label, "count": closed[key]}
        for key in wf.closed_statuses
        if closed.get(key)
    ]

    # Outreach (rules O1-O4).
    attempts = OutreachAttempt.objects.filter(
        referral__plan=plan, referral__receiving_provider=provider
    ).filter(_in("attempted_at", month))
    outreach = attempts.aggregate(
        attempts=Count("id"),
        attempts_reached=Count("id", filter=Q(outcome__in=REACHED_OUTCOMES - {"declined"})),
        attempts_declined=Count("id", filter=Q(outcome=OutreachAttempt.Outcome.DECLINED)),
        referrals_attempted=Count("referral", distinct=True),
        members_reached=Count("referral", distinct=True, filter=Q(outcome__in=REACHED_OUTCOMES)),
    )
    ended = {
        row["outreach_outcome"]: row["n"]
        for row in referrals.filter(_in("outreach_ended_at", month))
        .values("outreach_outcome")
        .annotate(n=Count("id"))
        .order_by()
    }
    outreach["ended"] = {o.value: ended.get(o.value, 0) for o in Referral.OutreachOutcome}
    outreach["unable_to_reach"] = ended.get(Referral.OutreachOutcome.UNREACHABLE, 0)
    outreach["declined"] = ended.get(Referral.OutreachOutcome.DECLINED, 0)

    # Enrollments (rule M2).
    enrollments = _enrollments_under(provider, plan).aggregate(
        new=Count("id", filter=_on("enrolled_on", month)),
        ended=Count("id", filter=_on("ended_on", month)),
        active_at_month_end=Count(
            "id",
            filter=Q(enrolled_on__lte=month.last) & (Q(ended_on__isnull=True) | Q(ended_on__gt=month.last)),
        ),
    )

    # Authorization requests (rules A8, A9): received in the month; decided in the month by outcome;
    # still waiting at the month's end; decided on time (presumptive ones and withdrawals left out, as in
    # the authorizations app's timeliness report).
    decided = _in("decided_at", month)
    timed = decided & Q(presumptive=False) & ~Q(status=RequestStatus.WITHDRAWN)
    authorizations = AuthorizationRequest.objects.filter(
        plan=plan, servicing_organization=provider
    ).aggregate(
        requested=Count("id", filter=_in("received_at", month)),
        approved=Count("id", filter=decided & Q(status=RequestStatus.APPROVED)),
        partially_approved=Count("id", filter=decided & Q(status=RequestStatus.PARTIALLY_APPROVED)),
        denied=Count("id", filter=decided & Q(status=RequestStatus.DENIED)),
        withdrawn=Count("id", filter=decided & Q(status=RequestStatus.WITHDRAWN)),
        presumptive_decided=Count("id", filter=decided & Q(presumptive=True)),
        pending_at_month_end=Count(
            "id",
            filter=Q(received_at__lte=month.end) & (Q(decided_at__isnull=True) | Q(decided_at__gt=month.end)),
        ),
        decided_timed=Count("id", filter=timed),
        decided_on_time=Count("id", filter=timed & Q(decided_on_time=True)),
    )

    # Services: authorizations in force during the month, and services recorded without one (rule G2).
    in_force = (
        Authorization.objects.filter(plan=plan, servicing_organization=provider, voided_at__isnull=True)
        .filter(start_date__lte=month.last, end_date__gte=month.first)
        .aggregate(
            authorizations_in_force=Count("id"),
            members_authorized=Count("member", distinct=True),
            authorizations_started=Count("id", filter=_on("start_date", month)),
        )
    )
    records = ServiceRecord.objects.filter(plan=plan, organization=provider).filter(
        _on("service_date", month)
    )
    services = in_force | records.aggregate(
        service_records=Count("id"), service_record_units=Coalesce(Sum("units"), 0)
    )

    # Claims and invoices (rules C1, C5): received in the month, and paid in the month.
    claims = Claim.objects.filter(plan=plan, billing_organization=provider).exclude(status=ClaimStatus.VOID)
    lines = (
        ClaimLine.objects.filter(claim__in=claims.filter(_on("received_on", month)))
        .exclude(status=LineStatus.VOID)
        .aggregate(
            claims_received=Count("claim", distinct=True),
            lines=Count("id"),
            billed=Sum("charge"),
            paid_to_date=Sum("paid_amount"),
            denied_lines=Count("id", filter=Q(status=LineStatus.DENIED)),
            pended_lines=Count("id", filter=Q(status=LineStatus.PENDED)),
        )
    )
    paid = claims.filter(_on("paid_on", month)).aggregate(
        claims_paid=Count("id"),
        amount_paid=Sum("paid_total"),
        paid_on_time=Count("id", filter=Q(paid_on__lte=F("payment_due_on"))),
    )
    claim_figures = {
        "received": lines["claims_received"],
        "lines": lines["lines"],
        "billed": _money(lines["billed"]),
        "paid_to_date": _money(lines["paid_to_date"]),
        "denied_lines": lines["denied_lines"],
        "pended_lines": lines["pended_lines"],
        "paid": paid["claims_paid"],
        "amount_paid": _money(paid["amount_paid"]),
    }

    # Timeliness: outreach (rule O3), authorization decisions (rule A8), payment (rule C5).
    window = _outreach_window(referrals, month)
    rule = wf.outreach
    timeliness = {
        "outreach_window_days": rule.window_days,
        "outreach_min_attempts": rule.min_attempts,
        "outreach_min_modalities": rule.min_modalities,
        "outreach_due": window["due"],
        "outreach_started_in_window": window["started_in_window"],
        "outreach_timely": window["timely"],
        "outreach_timely_pct": _share(window["timely"], window["due"]),
        "median_days_to_first_outreach": _median_days(to_first),
        "authorizations_decided": authorizations["decided_timed"],
        "authorizations_on_time": authorizations["decided_on_time"],
        "authorizations_on_time_pct": _share(
            authorizations["decided_on_time"], authorizations["decided_timed"]
        ),
        "claims_paid": paid["claims_paid"],
        "claims_paid_on_time": paid["paid_on_time"],
        "claims_paid_on_time_pct": _share(paid["paid_on_time"], paid["claims_paid"]),
    }
    return {
        "provider": {"id": str(provider.uuid), "name": provider.name, "npi": provider.npi},
        "plan": {"id": str(plan.uuid), "name": plan.name, "plan_code": plan.plan_code},
        "month": month.key,
        "month_label": month.label,
        "first_day": month.first.isoformat(),
        "last_day": month.last.isoformat(),
        "computed_at": clock.now().isoformat(),
        "referrals": {
            "received": sum(r["count"] for r in by_service),
            "by_service": by_service,
            "closed": sum(closed.values()),
            "closed_by_status": closed_by_status,
        },
        "outreach": outreach,
        "enrollments": enrollments,
        "authorizations": {
            "requested": authorizations["requested"],
            "approved": authorizations["approved"],
            "partially_approved": authorizations["partially_approved"],
            "denied": authorizations["denied"],
            "withdrawn": authorizations["withdrawn"],
            "presumptive": authorizations["presumptive_decided"],
            "pending_at_month_end": authorizations["pending_at_month_end"],
        },
        "services": services,
        "claims": claim_figures,
        "timeliness": timeliness,
        "trend": _trend(provider, plan, month),
    }


# The CSV of a utilization report: one row per measure (section, measure, value), so a measure added
# later is a new row, not a new column.
UTILIZATION_CSV_HEADER = [
    "provider_name",
    "provider_npi",
    "plan_name",
    "plan_code",
    "month",
    "section",
    "measure",
    "value",
]


def utilization_csv_rows(figures: dict[str, Any]) -> Iterator[list[Any]]:
    base = [
        figures["provider"]["name"],
        figures["provider"]["npi"],
        figures["plan"]["name"],
        figures["plan"]["plan_code"],
        figures["month"],
    ]

    def flat(section: str, data: dict[str, Any]) -> Iterator[list[Any]]:
        for key, value in data.items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    yield [*base, section, f"{key}.{sub}", "" if v is None else v]
            elif not isinstance(value, list):
                yield [*base, section, key, "" if value is None else value]

    referrals = figures["referrals"]
    yield [*base, "referrals", "received", referrals["received"]]
    for row in referrals["by_service"]:
        yield [*base, "referrals", f"received.{row['service']}", row["count"]]
    yield [*base, "referrals", "closed", referrals["closed"]]
    for row in referrals["closed_by_status"]:
        yield [*base, "referrals", f"closed.{row['status']}", row["count"]]
    for section in ("outreach", "enrollments", "authorizations", "services", "claims", "timeliness"):
        yield from flat(section, figures[section])


def utilization_for_user(
    *, user: object, provider: Organization, plan: Organization, month: Month
) -> dict[str, Any]:
    """The figures for a provider and plan already resolved by `utilization_scope` for this user (so in
    scope). The caller audits the read (aggregates only: no member ids)."""
    in_scope = (
        provider_queryset_for(user).filter(pk=provider.pk).exists()
        and plan_queryset_for(user).filter(pk=plan.pk).exists()
    )
    if not in_scope:
        raise Http404("No such provider")
    return utilization_compute(provider=provider, plan=plan, month=month)


# --- Referral analytics (rule D7) ----------------------------------------------------------------------


def _series(
    rows: Iterable[dict[str, Any]], months: list[Month], label: str, top: int | None = None
) -> dict[str, Any]:
    """Grouped counts {label, m, n} -> {"labels": [...], "series": [{label, data per month, total}]}, the
    largest first; beyond ``top`` the rest are summed as "Other"."""
    index = {m: i for i, m in enumerate(months)}
    data: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for row in rows:
        m = row["m"]
        key = Month(m.year, m.month)
        if key in index:
            data[str(row[label] or UNKNOWN)][index[key]] += row["n"]
    ordered = sorted(data.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    if top is not None and len(ordered) > top:
        rest = [sum(col) for col in zip(*(v for _, v in ordered[top:]), strict=True)]
        ordered = [*ordered[:top], ("Other", rest)]
    return {
        "months": [m.key for m in months],
        "series": [{"label": k, "data": v, "total": sum(v)} for k, v in ordered],
    }


def referral_analytics_compute(*, plan: Organization) -> dict[str, Any]:
    """Rule D7: the plan's referrals received in the last twelve months (this one included), by status,
    service, county, source and channel per month; closure rates; median days to first outreach and to
    closure, overall and by month received. Unscoped: the caller passes the user's own plan (or is the daily
    job). Eight queries, whatever the volume."""
    wf = workflow()
    now = clock.now()
    this_month = Month.of(clock.today())
    months = this_month.shift(-(ANALYTICS_MONTHS - 1)).until(this_month)
    base = Referral.objects.filter(plan=plan, received_at__gte=months[0].start, received_at__lte=now)
    monthly = base.annotate(m=TruncMonth("received_at", tzinfo=clock.PACIFIC))

    def grouped(field: str) -> list[dict[str, Any]]:
        return list(monthly.values("m", field).annotate(n=Count("id")).order_by())

    status_rows = grouped("status")
    labels = {k: s.label for k, s in wf.statuses.items()}
    by_status = _series(
        [{**r, "status": labels.get(r["status"], r["status"])} for r in status_rows], months, "status"
    )
    source_labels = dict(Referral._meta.get_field("referrer_kind").choices)
    channel_labels = dict(Referral._meta.get_field("channel").choices)
    by_source = _series(
        [{**r, "referrer_kind": source_labels.get(r["referrer_kind"])} for r in grouped("referrer_kind")],
        months,
        "referrer_kind",
    )
    by_channel = _series(
        [{**r, "channel": channel_labels.get(r["channel"])} for r in grouped("channel")], months, "channel"
    )
    by_service = _series(
        [{**r, "service__name": r["service__name"] or ECM_LABEL} for r in grouped("service__name")],
        months,
        "service__name",
        top=TOP_SERIES,
    )
    by_county = _series(grouped("member_county__name"), months, "member_county__name", top=TOP_SERIES)

    # Closure: of the referrals received each month, how many are closed now, and how many got help.
    closed_keys = set(wf.closed_statuses)
    index = {m: i for i, m in enumerate(months)}
    received = [0] * len(months)
    closed = [0] * len(months)
    got_help = [0] * len(months)
    for row in status_rows:
        i = index.get(Month(row["m"].year, row["m"].month))
        if i is None:
            continue
        received[i] += row["n"]
        if row["status"] in closed_keys:
            closed[i] += row["n"]
        if row["status"] == "got_help":
            got_help[i] += row["n"]

    # Medians (computed here, not in SQL: SQLite has no percentile function).
    first_attempt = (
        OutreachAttempt.objects.filter(referral=OuterRef("pk"))
        .order_by("attempted_at")
        .values("attempted_at")[:1]
    )
    to_first: dict[Month, list[timedelta]] = defaultdict(list)
    for at, first in (
        base.annotate(first=Subquery(first_attempt))
        .filter(first__isnull=False)
        .values_list("received_at", "first")
        .iterator(chunk_size=5000)
    ):
        to_first[Month.of(clock.local(at).date())].append(first - at)
    to_close: dict[Month, list[timedelta]] = defaultdict(list)
    for at, done in (
        base.filter(closed_at__isnull=False).values_list("received_at", "closed_at").iterator(chunk_size=5000)
    ):
        to_close[Month.of(clock.local(at).date())].append(done - at)
    total = sum(received)
    return {
        "plan": {"id": str(plan.uuid), "name": plan.name},
        "computed_at": now.isoformat(),
        "period": {"from": months[0].first.isoformat(), "to": clock.today().isoformat()},
        "months": [m.key for m in months],
        "month_labels": [f"{m.first:%b %Y}" for m in months],
        "totals": {
            "received": total,
            "open": total - sum(closed),
            "closed": sum(closed),
            "got_help": sum(got_help),
            "closure_rate_pct": _share(sum(closed), total),
            "got_help_pct_of_closed": _share(sum(got_help), sum(closed)),
            "median_days_to_first_outreach": _median_days(d for ds in to_first.values() for d in ds),
            "median_days_to_closure": _median_days(d for ds in to_close.values() for d in ds),
        },
        "closure_by_month": {
            "received": received,
            "closed": closed,
            "got_help": got_help,
            "closure_rate_pct": [_share(c, r) for c, r in zip(closed, received, strict=True)],
            "median_days_to_first_outreach": [_median_days(to_first.get(m, [])) for m in months],
            "median_days_to_closure": [_median_days(to_close.get(m, [])) for m in months],
        },
        "by_status": by_status,
        "by_service": by_service,
        "by_county": by_county,
        "by_source": by_source,
        "by_channel": by_channel,
    }


def latest_snapshot(*, plan: Organization) -> ReferralSnapshot | None:
    return ReferralSnapshot.objects.filter(plan=plan).order_by("-computed_at", "-id").first()


def snapshot_is_fresh(snapshot: ReferralSnapshot | None, *, now: datetime | None = None) -> bool:
    """Rule D7: figures are current when computed less than a day ago."""
    now = now or clock.now()
    return snapshot is not None and snapshot.computed_at > now - timedelta(days=1)


def analytics_plan_for(user: object) -> Organization:
    """The plan whose referral analytics the user sees (their own); 404 for anyone else (the views raise 403
    first for roles that never see it)."""
    if not permissions.can_view_referral_analytics(user):
        raise Http404("No referral analytics")
    return user.organization


# --- De-identified extracts (rule D5) ------------------------------------------------------------------


EXTRACT_KINDS = {
    "referrals": "Referrals",
    "authorizations": "Authorization requests",
    "claim_lines": "Claim and invoice lines",
}

EXTRACT_COLUMNS: dict[str, list[str]] = {
    "referrals": [
        "row_id",
        "year_received",
        "referral_kind",
        "service",
        "channel",
        "source",
        "receiving_provider",
        "status",
        "closed",
        "year_closed",
        "outreach_outcome",
        "outreach_attempts",
        "days_to_first_outreach",
        "days_to_closure",
        "member_age",
        "member_sex",
        "member_zip3",
    ],
    "authorizations": [
        "row_id",
        "year_received",
        "service",
        "hcpcs",
        "modifier",
        "request_kind",
        "urgency",
        "channel",
        "servicing_provider",
        "status",
        "presumptive",
        "decided_on_time",
        "year_decided",
        "days_to_decision",
        "units_requested",
        "primary_diagnosis",
        "member_age",
        "member_sex",
        "member_zip3",
    ],
    "claim_lines": [
        "row_id",
        "year_of_service",
        "year_received",
        "service",
        "hcpcs",
        "modifiers",
        "units",
        "charge",
        "allowed_amount",
        "paid_amount",
        "line_status",
        "adjudication_edit",
        "claim_source",
        "billing_provider",
        "primary_diagnosis",
        "year_paid",
        "days_to_payment",
        "member_age",
        "member_sex",
        "member_zip3",
    ],
}


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _pacific(value: datetime | None) -> date | None:
    return clock.local(value).date() if value is not None else None


def _referral_rows(plan: Organization, first: date, last: date) -> tuple[QuerySet, Any]:
    wf = workflow()
    attempts = (
        OutreachAttempt.objects.filter(referral=OuterRef("pk"))
        .order_by()
        .values("referral")
        .annotate(n=Count("id"))
        .values("n")
    )
    first_attempt = (
        OutreachAttempt.objects.filter(referral=OuterRef("pk"))
        .order_by("attempted_at")
        .values("attempted_at")[:1]
    )
    qs = (
        Referral.objects.filter(
            plan=plan, received_at__gte=clock.start_of_day(first), received_at__lte=clock.end_of_day(last)
        )
        .annotate(
            y=ExtractYear("received_at", tzinfo=clock.PACIFIC),
            attempts=Coalesce(Subquery(attempts), Value(0)),
            first_attempt=Subquery(first_attempt),
        )
        .values(
            "kind",
            "service__name",
            "channel",
            "referrer_kind",
            "receiving_provider__name",
            "status",
            "closed_at",
            "outreach_outcome",
            "attempts",
            "first_attempt",
            "received_at",
            "member_date_of_birth",
            "member__sex",
            "member__zip_code",
        )
    )

    def row(r: dict[str, Any]) -> list[Any]:
        received = _pacific(r["received_at"])
        closed = wf.statuses[r["status"]].closed if r["status"] in wf.statuses else r["closed_at"] is not None
        return [
            deidentify.row_id(),
            deidentify.year(received),
            r["kind"],
            r["service__name"] or ECM_LABEL,
            r["channel"],
            r["referrer_kind"],
            r["receiving_provider__name"] or "",
            r["status"],
            _yes_no(closed),
            deidentify.year(_pacific(r["closed_at"])),
            r["outreach_outcome"],
            r["attempts"],
            deidentify.days_between(r["received_at"], r["first_attempt"]),
            deidentify.days_between(r["received_at"], r["closed_at"]),
            deidentify.age(r["member_date_of_birth"], received),
            r["member__sex"] or "U",
            deidentify.zip3(r["member__zip_code"]),
        ]

    return qs, row


def _authorization_rows(plan: Organization, first: date, last: date) -> tuple[QuerySet, Any]:
    qs = (
        AuthorizationRequest.objects.filter(
            plan=plan, received_at__gte=clock.start_of_day(first), received_at__lte=clock.end_of_day(last)
        )
        .annotate(y=ExtractYear("received_at", tzinfo=clock.PACIFIC))
        .values(
            "service__name",
            "code__hcpcs",
            "code__modifier",
            "kind",
            "urgency",
            "channel",
            "servicing_organization__name",
            "status",
            "presumptive",
            "decided_on_time",
            "received_at",
            "decided_at",
            "units",
            "diagnosis_codes",
            "member__date_of_birth",
            "member__sex",
            "member__zip_code",
        )
    )

    def row(r: dict[str, Any]) -> list[Any]:
        received = _pacific(r["received_at"])
        codes = r["diagnosis_codes"] or []
        return [
            deidentify.row_id(),
            deidentify.year(received),
            r["service__name"],
            r["code__hcpcs"],
            r["code__modifier"],
            r["kind"],
            r["urgency"],
            r["channel"],
            r["servicing_organization__name"],
            r["status"],
            _yes_no(r["presumptive"]),
            _yes_no(r["decided_on_time"]),
            deidentify.year(_pacific(r["decided_at"])),
            deidentify.days_between(r["received_at"], r["decided_at"]),
            r["units"],
            codes[0] if codes else "",
            deidentify.age(r["member__date_of_birth"], received),
            r["member__sex"] or "U",
            deidentify.zip3(r["member__zip_code"]),
        ]

    return qs, row


def _claim_line_rows(plan: Organization, first: date, last: date) -> tuple[QuerySet, Any]:
    qs = (
        ClaimLine.objects.filter(claim__plan=plan, service_from__gte=first, service_from__lte=last)
        .exclude(claim__status=ClaimStatus.VOID)
        .annotate(y=ExtractYear("service_from"))
        .values(
            "service__name",
            "hcpcs",
            "modifiers",
            "units",
            "charge",
            "allowed_amount",
            "paid_amount",
            "status",
            "reason_key",
            "service_from",
            "claim__received_on",
            "claim__paid_on",
            "claim__source",
            "claim__billing_organization__name",
            "claim__diagnosis_codes",
            "claim__member__date_of_birth",
            "claim__member_date_of_birth_billed",
            "claim__member__sex",
            "claim__member__zip_code",
        )
    )

    def row(r: dict[str, Any]) -> list[Any]:
        codes = r["claim__diagnosis_codes"] or []
        born = r["claim__member__date_of_birth"] or r["claim__member_date_of_birth_billed"]
        return [
            deidentify.row_id(),
            deidentify.year(r["service_from"]),
            deidentify.year(r["claim__received_on"]),
            r["service__name"] or "",
            r["hcpcs"],
            "-".join(r["modifiers"] or []),
            r["units"],
            r["charge"],
            r["allowed_amount"],
            r["paid_amount"],
            r["status"],
            r["reason_key"],
            r["claim__source"],
            r["claim__billing_organization__name"] or "",
            codes[0] if codes else "",
            deidentify.year(r["claim__paid_on"]),
            deidentify.days_between(r["claim__received_on"], r["claim__paid_on"]),
            deidentify.age(born, r["service_from"]),
            r["claim__member__sex"] or "U",
            deidentify.zip3(r["claim__member__zip_code"]),
        ]

    return qs, row


@dataclass
class Extract:
    kind: str
    from_year: int
    to_year: int
    header: list[str]
    count: int
    rows: Iterator[list[Any]]


def deidentified_extract(*, user: object, kind: str, from_year: int, to_year: int) -> Extract:
    """Rule D5: member-level rows of the user's plan (referrals received, authorization requests received or
    claim lines by date of service, in the years asked), de-identified by the Safe Harbor method
    (`deidentify`). Rows come in a random order within each year, each with a new random id. One COUNT and
    one streamed query; the caller audits the export (with the count, never member ids)."""
    if not permissions.can_export_deidentified(user):
        raise Http404("No extracts")
    builders = {
        "referrals": _referral_rows,
        "authorizations": _authorization_rows,
        "claim_lines": _claim_line_rows,
    }
    qs, row = builders[kind](user.organization, date(from_year, 1, 1), date(to_year, 12, 31))
    count = qs.count()
    ordered = qs.order_by("y", "?")
    return Extract(
        kind=kind,
        from_year=from_year,
        to_year=to_year,
        header=EXTRACT_COLUMNS[kind],
        count=count,
        rows=(row(r) for r in ordered.iterator(chunk_size=2000)),
    )
