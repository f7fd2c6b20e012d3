"""Every read of claims, 837P files and payments, scoped to the acting user and audited (DESIGN principle 4).

One scoping function per model: `claim_queryset_for` (plan staff: their plan's claims; a provider: the
claims it billed), `claim_file_queryset_for` (the plan's staff: files with claims for their plan or that
they uploaded; a provider: the files it sent), `payment_queryset_for` (the plan's payments; a provider its
own). Out of scope is a 404 and an audited denial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from cshub.claims import permissions
from cshub.claims.edits import code_meaning
from cshub.claims.models import (
    ZERO,
    Claim,
    ClaimEvent,
    ClaimFile,
    ClaimLine,
    ClaimStatus,
    LineStatus,
    PaymentRun,
    ProviderPayment,
)
from cshub.core import clock
from cshub.core.audit import audit_record

_RELATIONS = ("plan", "billing_organization", "member", "claim_file", "payment")
UNPAID_STATUSES = (ClaimStatus.RECEIVED, ClaimStatus.PENDED, ClaimStatus.ADJUDICATED)


def claim_queryset_for(user: object) -> QuerySet[Claim]:
    """Deny by default: the claims and invoices this user may see (unaudited; callers audit)."""
    if not permissions.can_view_claims(user):
        return Claim.objects.none()
    if user.is_plan_staff:
        return Claim.objects.filter(plan_id=user.organization_id)
    return Claim.objects.filter(billing_organization_id=user.organization_id)


def claim_get_for_user(*, user: object, uuid: UUID | str, purpose: str = "view") -> Claim:
    """One claim, or 404 when out of scope. The read is audited (it carries member data)."""
    try:
        claim = claim_queryset_for(user).select_related(*_RELATIONS, "member__county").get(uuid=uuid)
    except (Claim.DoesNotExist, ValueError, TypeError) as exc:
        audit_record(
            actor=user,
            action="denied",
            object_type="claims.Claim",
            object_id=uuid,
            detail={"purpose": purpose},
        )
        raise Http404("No such claim") from exc
    audit_record(
        actor=user,
        action="read",
        object_type="claims.Claim",
        object_id=claim.uuid,
        member_ids=[claim.member.uuid] if claim.member_id else [],
        detail={"purpose": purpose, "number": claim.number},
    )
    return claim


def claim_get_for_update(*, user: object, uuid: UUID | str) -> Claim:
    """The claim for a service call that changes it; 404 when out of scope (the write is audited)."""
    try:
        return claim_queryset_for(user).select_related(*_RELATIONS).get(uuid=uuid)
    except (Claim.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such claim") from exc


@dataclass(frozen=True)
class ClaimFilters:
    status: str = ""  # a ClaimStatus, "unpaid", or "" (all)
    outcome: str = ""
    source: str = ""
    provider: UUID | str | None = None  # billing organization (plan staff)
    service: str = ""  # catalog key of any line
    q: str = ""  # claim number, the provider's claim number, member CIN or last name
    received_from: date | None = None
    received_to: date | None = None
    aging: str = ""  # "at_risk" or "overdue" (rule C5)
    claim_file: UUID | str | None = None


def claim_list(*, user: object, filters: ClaimFilters) -> QuerySet[Claim]:
    """Claims in scope, filtered, newest first (the aging view: soonest due first). The caller audits what
    it shows (`audit_claim_list`)."""
    qs = claim_queryset_for(user).select_related(*_RELATIONS)
    if filters.status == "unpaid":
        qs = qs.filter(status__in=UNPAID_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.provider:
        qs = qs.filter(billing_organization__uuid=filters.provider)
    if filters.service:
        qs = qs.filter(lines__service__key=filters.service).distinct()
    if filters.claim_file:
        qs = qs.filter(claim_file__uuid=filters.claim_file)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(number__iexact=term)
            | Q(patient_control_number__iexact=term)
            | Q(member_id_billed__iexact=term)
            | Q(member__last_name__iexact=term)
        )
    if filters.received_from:
        qs = qs.filter(received_at__gte=clock.start_of_day(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lte=clock.end_of_day(filters.received_to))
    if filters.aging:
        today = clock.today()
        qs = qs.filter(status__in=UNPAID_STATUSES)
        if filters.aging == "overdue":
            qs = qs.filter(payment_due_on__lt=today)
        else:
            horizon = clock.add_business_days(today, settings.CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS)
            qs = qs.filter(payment_due_on__gte=today, payment_due_on__lte=horizon)
        return qs.order_by("payment_due_on", "id")
    return qs.order_by("-received_at", "-id")


def audit_claim_list(*, user: object, claims: list[Claim], purpose: str, filters: object) -> None:
    audit_record(
        actor=user,
        action="export" if purpose == "export" else "list",
        object_type="claims.Claim",
        member_ids=sorted({c.member.uuid for c in claims if c.member_id}, key=str),
        detail={"purpose": purpose, "filters": str(filters), "count": len(claims)},
    )


def claim_lines(claim: Claim) -> list[ClaimLine]:
    """The claim's lines with their adjustments, each adjustment's meaning attached for the page."""
    lines = list(claim.lines.select_related("service", "authorization").prefetch_related("adjustments"))
    for line in lines:
        for adj in line.adjustments.all():
            adj.carc_meaning = code_meaning("CARC", adj.reason_code)
            adj.rarc_meaning = code_meaning("RARC", adj.remark_code) if adj.remark_code else ""
    return lines


def claim_events(claim: Claim) -> QuerySet[ClaimEvent]:
    return claim.events.select_related("actor")


@dataclass(frozen=True)
class PaymentClock:
    """Rule C5: where a claim stands against its 45-business-day payment deadline."""

    due_on: date
    business_days_left: int
    state: str  # "paid", "paid_late", "on_time", "at_risk", "overdue"
    label: str


def payment_clock(claim: Claim, *, today: date | None = None) -> PaymentClock:
    today = today or clock.today()
    if claim.status == ClaimStatus.REMITTED and claim.paid_on:
        late = claim.paid_on > claim.payment_due_on
        return PaymentClock(
            claim.payment_due_on,
            0,
            "paid_late" if late else "paid",
            f"Paid {claim.paid_on:%m/%d/%Y}" + (" (after the deadline)" if late else ""),
        )
    if claim.status == ClaimStatus.VOID:
        return PaymentClock(claim.payment_due_on, 0, "paid", "Void")
    left = clock.business_days_between(today, claim.payment_due_on)
    if left < 0:
        return PaymentClock(
            claim.payment_due_on,
            left,
            "overdue",
            f"Overdue by {-left} business day{'s' if left != -1 else ''}",
        )
    state = "at_risk" if left <= settings.CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS else "on_time"
    return PaymentClock(
        claim.payment_due_on,
        left,
        state,
        f"Due {claim.payment_due_on:%m/%d/%Y} ({left} business day{'s' if left != 1 else ''} left)",
    )


def aging_counts(*, user: object) -> dict[str, int]:
    """Unpaid claims by where they stand against the deadline (the aging page's summary, rule C5)."""
    today = clock.today()
    horizon = clock.add_business_days(today, settings.CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS)
    unpaid = claim_queryset_for(user).filter(status__in=UNPAID_STATUSES)
    return unpaid.aggregate(
        unpaid=Count("id"),
        overdue=Count("id", filter=Q(payment_due_on__lt=today)),
        at_risk=Count("id", filter=Q(payment_due_on__gte=today, payment_due_on__lte=horizon)),
        pended=Count("id", filter=Q(status=ClaimStatus.PENDED)),
    )


@dataclass(frozen=True)
class TotalsRow:
    label: str
    claims: int
    lines: int
    charged: Decimal
    paid: Decimal
    denied_lines: int

    @property
    def denial_rate(self) -> float:
        return self.denied_lines / self.lines if self.lines else 0.0


def claim_totals(*, user: object, by: str, start: date, end: date) -> list[TotalsRow]:
    """Totals of the lines in scope received between start and end, grouped by "provider", "service" or
    "month" (plan staff see every provider; a provider its own)."""
    claims = claim_queryset_for(user).exclude(status=ClaimStatus.VOID)
    lines = ClaimLine.objects.filter(
        claim__in=claims, claim__received_on__gte=start, claim__received_on__lte=end
    ).exclude(status=LineStatus.VOID)
    key = {"provider": "claim__billing_organization__name", "service": "service__name", "month": "month"}[by]
    if by == "month":
        lines = lines.annotate(month=TruncMonth("claim__received_on"))
    rows = (
        lines.values(key)
        .annotate(
            claims=Count("claim", distinct=True),
            lines=Count("id"),
            charged=Sum("charge"),
            paid=Sum("paid_amount"),
            denied_lines=Count("id", filter=Q(status=LineStatus.DENIED)),
        )
        .order_by(key)
    )
    result = []
    for row in rows:
        label = row[key]
        if by == "month" and label is not None:
            label = f"{label:%Y-%m}"
        result.append(
            TotalsRow(
                str(label or ("Unknown provider" if by == "provider" else "Not a CS code")),
                row["claims"],
                row["lines"],
                row["charged"] or ZERO,
                row["paid"] or ZERO,
                row["denied_lines"],
            )
        )
    return result


# --- 837P files -----------------------------------------------------------------------------------------


def claim_file_queryset_for(user: object) -> QuerySet[ClaimFile]:
    """Plan claims staff: every file with claims for their plan or uploaded by their organization; a provider:
    the files its organization sent."""
    if not permissions.can_view_claims(user):
        return ClaimFile.objects.none()
    if user.is_plan_staff:
        return ClaimFile.objects.filter(
            Q(submitter_organization_id=user.organization_id) | Q(claims__plan_id=user.organization_id)
        ).distinct()
    return ClaimFile.objects.filter(submitter_organization_id=user.organization_id)


def claim_file_get_for_user(*, user: object, uuid: UUID | str) -> ClaimFile:
    try:
        return (
            claim_file_queryset_for(user)
            .select_related("submitter_organization", "uploaded_by")
            .get(uuid=uuid)
        )
    except (ClaimFile.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such file") from exc


# --- payments ----------------------------------------------------------------------------------------------


def payment_queryset_for(user: object) -> QuerySet[ProviderPayment]:
    if not permissions.can_view_claims(user):
        return ProviderPayment.objects.none()
    if user.is_plan_staff:
        return ProviderPayment.objects.filter(plan_id=user.organization_id)
    return ProviderPayment.objects.filter(organization_id=user.organization_id)


def payment_get_for_user(*, user: object, uuid: UUID | str) -> ProviderPayment:
    try:
        return payment_queryset_for(user).select_related("organization", "plan", "run").get(uuid=uuid)
    except (ProviderPayment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such payment") from exc


def payment_run_queryset_for(user: object) -> QuerySet[PaymentRun]:
    if not permissions.can_process_claims(user):
        return PaymentRun.objects.none()
    return PaymentRun.objects.filter(plan_id=user.organization_id)


def payable_claims(
    *, plan: object, organization_ids: list[int] | None = None, received_through: date | None = None
) -> QuerySet[Claim]:
    """Adjudicated claims of a plan not yet in a payment run (pended claims wait): what a run pays and
    remits. Claims from an unknown billing NPI have no one to pay and stay out."""
    qs = Claim.objects.filter(
        plan=plan, status=ClaimStatus.ADJUDICATED, payment__isnull=True, billing_organization__isnull=False
    )
    if organization_ids:
        qs = qs.filter(billing_organization_id__in=organization_ids)
    if received_through:
        qs = qs.filter(received_on__lte=received_through)
    return qs


# --- reads of the claims pages (cshub/claims/views.py) ------------------------------------------------------


def pended_reasons() -> list[tuple[str, str]]:
    """The edits that pend a line (cshub/data/claim_edits.toml), as (key, label) for the queue's filter."""
    from cshub.claims.edits import edits

    return [(e.key, e.key.replace("_", " ").capitalize()) for e in edits().values() if e.outcome == "pend"]


def claim_pended_queue(
    *, user: object, provider: UUID | str | None = None, reason: str = ""
) -> QuerySet[Claim]:
    """Rule C5: the plan's pended claims, oldest receipt first, each with its pended lines loaded
    (`claim.pended_lines`, one query for the page). The caller audits what it shows."""
    from django.db.models import Exists, OuterRef, Prefetch

    qs = claim_queryset_for(user).filter(status=ClaimStatus.PENDED).select_related(*_RELATIONS)
    if provider:
        qs = qs.filter(billing_organization__uuid=provider)
    if reason:
        qs = qs.filter(
            Exists(
                ClaimLine.objects.filter(claim=OuterRef("pk"), status=LineStatus.PENDED, reason_key=reason)
            )
        )
    pended = ClaimLine.objects.filter(status=LineStatus.PENDED).order_by("number")
    return qs.prefetch_related(Prefetch("lines", queryset=pended, to_attr="pended_lines")).order_by(
        "received_at", "id"
    )


def billable_fee_rows(*, organization: object, on: date, plan: object | None = None) -> list:
    """Rule C1: the fee schedule rows of the organization's contracts in force on `on` (of one plan, or of
    every plan it contracts with), code, service and plan loaded: what its invoice form offers to bill."""
    from cshub.contracts.models import FeeScheduleRow
    from cshub.contracts.selectors import in_force_q

    qs = FeeScheduleRow.objects.filter(
        in_force_q(on, "contract__"), contract__organization=organization, effective_from__lte=on
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
    if plan is not None:
        qs = qs.filter(contract__plan=plan)
    return list(
        qs.select_related("code__service", "contract__plan").order_by(
            "code__hcpcs", "code__modifier", "contract__plan__name", "-effective_from"
        )
    )


def claim_home_counts(*, user: object) -> dict[str, int]:
    """The home card: unpaid claims by deadline (rule C5), and this month's pended and denied claims."""
    from cshub.claims.models import ClaimOutcome

    today = clock.today()
    month_start = clock.start_of_day(date(today.year, today.month, 1))
    counts = aging_counts(user=user)
    counts.update(
        claim_queryset_for(user).aggregate(
            received_this_month=Count("id", filter=Q(received_at__gte=month_start)),
            denied_this_month=Count(
                "id", filter=Q(outcome=ClaimOutcome.DENIED, adjudicated_at__gte=month_start)
            ),
        )
    )
    return counts


def audit_claim_download(*, user: object, object_type: str, object_id: object, what: str) -> None:
    """A downloaded file that carries member data (837P, 999, 835, a scanned claim) is a read, audited."""
    audit_record(
        actor=user, action="read", object_type=object_type, object_id=object_id, detail={"download": what}
    )


# --- API (cshub/claims/api.py) -----------------------------------------------------------------------------


def audit_claim_export(*, user: object, claims: QuerySet[Claim], filters: object) -> None:
    """Audit a CSV export before it streams: the members of every claim exported, read in one query so an
    export of many claims is never held in memory to be audited."""
    member_ids = (
        claims.filter(member__isnull=False).order_by().values_list("member__uuid", flat=True).distinct()
    )
    audit_record(
        actor=user,
        action="export",
        object_type="claims.Claim",
        member_ids=sorted(set(member_ids), key=str),
        detail={"purpose": "export", "filters": str(filters), "count": claims.count()},
    )
