"""Every read of referrals, scoped to the acting user and audited (DESIGN principle 4).

`referral_queryset_for` is the one scoping function for referrals and everything hanging off them
(events, outreach attempts, checks, documents): the receiving provider and the referring organization see
their referrals; the plan's member roles see the referrals made to it; nobody else sees any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.referrals import permissions
from cshub.referrals.models import (
    Enrollment,
    FirstContactCheck,
    OutreachAttempt,
    ProviderIntake,
    Referral,
    ReferralDocument,
    ReferralEvent,
)
from cshub.referrals.workflow import workflow

# What a referrer sees of the history (rule R9: the status and its timeline); outreach notes, checks and
# enrollment details stay with the provider and the plan (minimum necessary).
REFERRER_EVENT_KINDS = frozenset(
    {
        ReferralEvent.Kind.CREATED,
        ReferralEvent.Kind.STATUS,
        ReferralEvent.Kind.ASSIGNED,
        ReferralEvent.Kind.OUTREACH_ENDED,
        ReferralEvent.Kind.LETTER,
        ReferralEvent.Kind.ONWARD,
    }
)


def referral_queryset_for(user: object, *, box: str = "") -> QuerySet[Referral]:
    """Deny by default: the referrals this user may see, unaudited (callers that show them audit).

    `box` narrows a provider's scope to the referrals it received or sent. Each box is a part of the scope,
    written as one condition so PostgreSQL can read it in order from the (provider, received_at) index
    instead of merging both halves of the scope and sorting (benchmarks/referral_api.py)."""
    if not permissions.can_view_referrals(user):
        return Referral.objects.none()
    if user.is_plan_staff:
        return Referral.objects.filter(plan_id=user.organization_id)
    org = user.organization_id
    if box == "received":
        return Referral.objects.filter(receiving_provider_id=org)
    if box == "sent":
        return Referral.objects.filter(referring_organization_id=org)
    return Referral.objects.filter(Q(receiving_provider_id=org) | Q(referring_organization_id=org))


_RELATIONS = (
    "plan",
    "service",
    "receiving_provider",
    "referring_organization",
    "member",
    "member_county",
    "duplicate_of",
)


def _with_relations(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    """One referral with its related rows in the same query."""
    return qs.select_related(*_RELATIONS)


def _page_relations(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    """A list's related rows, fetched for the page's referrals only (one small query per relation): a
    seven-way join makes PostgreSQL plan the join before the LIMIT on large scopes."""
    return qs.prefetch_related(*_RELATIONS)


def referral_get_for_user(*, user: object, uuid: UUID | str, purpose: str = "view") -> Referral:
    """One referral, or 404 when out of scope. The read is audited (it carries member data)."""
    try:
        referral = _with_relations(referral_queryset_for(user)).get(uuid=uuid)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        audit_record(
            actor=user, action="denied", object_type="referral", object_id=uuid, detail={"purpose": purpose}
        )
        raise Http404("No such referral") from exc
    audit_record(
        actor=user,
        action="read",
        object_type="referral",
        object_id=referral.uuid,
        member_ids=[referral.member.uuid] if referral.member else [],
        detail={"purpose": purpose, "number": referral.number},
    )
    return referral


def referral_get_for_update(*, user: object, uuid: UUID | str) -> Referral:
    """The referral for a service call that changes it; 404 when out of scope (no audit: the write is)."""
    try:
        return _with_relations(referral_queryset_for(user)).get(uuid=uuid)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such referral") from exc


@dataclass(frozen=True)
class ReferralFilters:
    box: str = ""  # received | sent | unassigned (plan) | "" = everything in scope
    status: str = ""  # a status key, "open" or "closed"
    service: str = ""  # catalog key
    channel: str = ""
    q: str = ""  # referral number, member last name or CIN
    received_from: date | None = None
    received_to: date | None = None
    duplicates: bool = False


def referral_list(*, user: object, filters: ReferralFilters) -> QuerySet[Referral]:
    """Referrals in scope, filtered, newest first; with attempt counts for the page (no N+1). The caller
    audits what it shows (`audit_referral_list`)."""
    qs = _page_relations(referral_queryset_for(user, box=filters.box))
    org = getattr(user, "organization_id", None)
    if filters.box == "received":
        qs = qs.filter(receiving_provider_id=org)
    elif filters.box == "sent":
        qs = qs.filter(referring_organization_id=org)
    elif filters.box == "unassigned":
        qs = qs.filter(receiving_provider__isnull=True, kind=Referral.Kind.COMMUNITY_SUPPORT)
        qs = qs.filter(status__in=workflow().open_statuses)
    wf = workflow()
    if filters.status == "open":
        qs = qs.filter(status__in=wf.open_statuses)
    elif filters.status == "closed":
        qs = qs.filter(status__in=wf.closed_statuses)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.service:
        qs = qs.filter(service__key=filters.service)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(number__iexact=term) | Q(member_last_name__iexact=term) | Q(member_cin__iexact=term))
    if filters.received_from:
        qs = qs.filter(received_at__gte=clock.start_of_day(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lte=clock.end_of_day(filters.received_to))
    if filters.duplicates:
        qs = qs.filter(duplicate_of__isnull=False)
    # A correlated count, not a JOIN + GROUP BY over every selected column: PostgreSQL then reads the page's
    # rows from the (provider, received_at) index and counts attempts for those rows only.
    attempts = (
        OutreachAttempt.objects.filter(referral=OuterRef("pk"))
        .order_by()
        .values("referral")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(attempt_count=Coalesce(Subquery(attempts), 0)).order_by("-received_at", "-id")


def audit_referral_list(*, user: object, referrals: list[Referral], purpose: str, filters: object) -> None:
    audit_record(
        actor=user,
        action="export" if purpose == "export" else "list",
        object_type="referral",
        member_ids=[r.member.uuid for r in referrals if r.member_id],
        detail={"purpose": purpose, "filters": str(filters), "count": len(referrals)},
    )


def referral_events_for(*, user: object, referral: Referral) -> QuerySet[ReferralEvent]:
    """The history of a referral already read through `referral_get_for_user`. A referrer that is not also
    the provider or the plan sees the status timeline only."""
    events = (
        ReferralEvent.objects.filter(referral=referral).select_related("organization").order_by("at", "id")
    )
    if permissions.parties_of(user, referral) & {"provider", "plan"} or user.is_plan_staff:
        return events
    if user.organization_id == referral.receiving_provider_id:
        return events
    return events.filter(kind__in=REFERRER_EVENT_KINDS)


def referral_sees_work(*, user: object, referral: Referral) -> bool:
    """Whether the user sees outreach, checks and enrollment (the provider and the plan do; a referrer
    that is neither does not)."""
    return user.is_plan_staff or user.organization_id == referral.receiving_provider_id


def outreach_attempts_for(*, user: object, referral: Referral) -> QuerySet[OutreachAttempt]:
    if not referral_sees_work(user=user, referral=referral):
        return OutreachAttempt.objects.none()
    return OutreachAttempt.objects.filter(referral=referral).select_related("by")


def first_contact_checks_for(*, user: object, referral: Referral) -> QuerySet[FirstContactCheck]:
    if not referral_sees_work(user=user, referral=referral):
        return FirstContactCheck.objects.none()
    return FirstContactCheck.objects.filter(referral=referral).select_related("by")


def enrollments_for(*, user: object, referral: Referral) -> QuerySet[Enrollment]:
    if not referral_sees_work(user=user, referral=referral):
        return Enrollment.objects.none()
    return Enrollment.objects.filter(referral=referral).select_related("service", "organization")


def documents_for(*, user: object, referral: Referral) -> QuerySet[ReferralDocument]:
    """Fax images and other documents are for the provider and the plan; the referrer sees letters
    addressed to it (rule R8)."""
    docs = ReferralDocument.objects.filter(referral=referral)
    if referral_sees_work(user=user, referral=referral):
        return docs
    return docs.filter(kind=ReferralDocument.Kind.LETTER)


def document_get_for_user(*, user: object, referral_uuid: UUID | str, uuid: UUID | str) -> ReferralDocument:
    referral = referral_get_for_user(user=user, uuid=referral_uuid, purpose="document")
    try:
        document = documents_for(user=user, referral=referral).get(uuid=uuid)
    except (ReferralDocument.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such document") from exc
    audit_record(
        actor=user,
        action="export",
        object_type="referral_document",
        object_id=document.uuid,
        member_ids=[referral.member.uuid] if referral.member else [],
        detail={"referral": referral.number, "kind": document.kind},
    )
    return document


# --- Outreach (rules O1-O4) -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutreachProgress:
    """Rule O3 measured for one referral."""

    received_on: date
    deadline: date
    days_left: int
    attempts: int
    attempts_in_window: int
    modalities_in_window: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def o3_met(self) -> bool:
        return not self.missing


def outreach_progress(
    referral: Referral, attempts: list[OutreachAttempt], *, today: date | None = None
) -> OutreachProgress:
    """Rule O3: at least `min_attempts` attempts within `window_days` calendar days of receipt, using at
    least `min_modalities` modalities. `missing` says what is still lacking, in words."""
    rule = workflow().outreach
    today = today or clock.today()
    received_on = clock.local(referral.received_at).date()
    deadline = clock.add_calendar_days(received_on, rule.window_days)
    in_window = [a for a in attempts if received_on <= clock.local(a.attempted_at).date() <= deadline]
    modalities = tuple(sorted({a.modality for a in in_window}))
    missing = []
    if len(in_window) < rule.min_attempts:
        missing.append(
            f"{rule.min_attempts - len(in_window)} more attempt(s) within {rule.window_days} days of receipt "
            f"(by {deadline:%m/%d/%Y}); {len(in_window)} made"
        )
    if len(modalities) < rule.min_modalities:
        labels = ", ".join(OutreachAttempt.Modality(m).label.lower() for m in modalities) or "none"
        missing.append(
            f"{rule.min_modalities - len(modalities)} more modality(ies): at least {rule.min_modalities} "
            f"different ones are needed; used so far: {labels}"
        )
    return OutreachProgress(
        received_on=received_on,
        deadline=deadline,
        days_left=(deadline - today).days,
        attempts=len(attempts),
        attempts_in_window=len(in_window),
        modalities_in_window=modalities,
        missing=tuple(missing),
    )


def outreach_worklist(*, user: object, q: str = "", service: str = "") -> QuerySet[Referral]:
    """The provider's open referrals still in outreach, soonest rule-O3 deadline first (the deadline is
    receipt + 30 days, so receipt order is deadline order). Pages prefetch attempts for the rows shown."""
    if not permissions.can_work_referrals(user):
        return Referral.objects.none()
    qs = _page_relations(referral_queryset_for(user, box="received")).filter(
        receiving_provider_id=user.organization_id,
        status__in=["pending", "accepted", "needs_member_action"],
        outreach_ended_at__isnull=True,
    )
    if service:
        qs = qs.filter(service__key=service)
    if q:
        term = q.strip()
        qs = qs.filter(Q(number__iexact=term) | Q(member_last_name__iexact=term) | Q(member_cin__iexact=term))
    return qs.prefetch_related(
        Prefetch("outreach_attempts", queryset=OutreachAttempt.objects.order_by("attempted_at"))
    ).order_by("received_at", "id")


def intake_queue(*, user: object, status: str = "pending") -> QuerySet[Referral]:
    """The provider's new referrals (status pending by default), oldest first, duplicates flagged."""
    if not permissions.can_work_referrals(user):
        return Referral.objects.none()
    qs = _page_relations(referral_queryset_for(user, box="received")).filter(
        receiving_provider_id=user.organization_id
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("received_at", "id")


# --- Routing -------------------------------------------------------------------------------------------


def referral_destinations(
    *, service_key: str, county: str = "", accepting_only: bool = True
) -> QuerySet[Organization]:
    """Providers a referrer may pick: they take referrals for the service in the member's county and are
    accepting new ones. Public directory data (no member data), so not scoped."""
    intakes = ProviderIntake.objects.filter(organization=OuterRef("pk"), services__key=service_key)
    if county:  # no counties listed = every county, as `services._check_destination` reads it
        intakes = intakes.filter(Q(counties__name=county) | Q(counties__isnull=True))
    if accepting_only:
        intakes = intakes.filter(accepting=True)
    return Organization.objects.filter(Exists(intakes), is_active=True).order_by("name")


def referral_plans() -> QuerySet[Organization]:
    """The health plans a member may be referred under (directory data, no member data)."""
    return Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True).order_by("name")


def provider_intake_for(organization: Organization) -> ProviderIntake | None:
    return (
        ProviderIntake.objects.filter(organization=organization)
        .prefetch_related("services", "counties")
        .first()
    )


def open_referrals_for_member(*, member_id: int, service_id: int | None, kind: str) -> QuerySet[Referral]:
    """Unscoped helper for services (duplicate detection); never shown to a user as is."""
    return Referral.objects.filter(
        member_id=member_id, service_id=service_id, kind=kind, status__in=workflow().open_statuses
    )
