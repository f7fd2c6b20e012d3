"""Reads of authorization requests (STYLE 5). `request_queryset_for` is the one scoping function: the plan's
staff see their plan's requests, a provider the requests it made or services, a hospital the requests it
made. Reads that show member data are audited by the caller through `audit_request_list` or here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404

from cshub.authorizations import clocks, permissions
from cshub.authorizations.models import (
    OPEN_STATUSES,
    Authorization,
    AuthorizationRequest,
    InformationRequest,
    Letter,
    RequestDocument,
    RequestEvent,
    RequestStatus,
    ServiceRecord,
    Urgency,
)
from cshub.core import clock
from cshub.core.audit import audit_record

_RELATIONS = (
    "member",
    "service",
    "code",
    "plan",
    "requesting_organization",
    "servicing_organization",
    "reviewer",
)


def request_queryset_for(user: object) -> QuerySet[AuthorizationRequest]:
    """Deny by default: the requests this user may see (unaudited)."""
    if not permissions.can_view_requests(user):
        return AuthorizationRequest.objects.none()
    org = user.organization_id
    if user.is_plan_staff:
        return AuthorizationRequest.objects.filter(plan_id=org)
    return AuthorizationRequest.objects.filter(
        Q(requesting_organization_id=org) | Q(servicing_organization_id=org)
    )


def request_get_for_user(*, user: object, uuid: UUID | str, purpose: str = "view") -> AuthorizationRequest:
    """One request, or 404 when out of scope. The read is audited (it carries member data)."""
    try:
        request = request_queryset_for(user).select_related(*_RELATIONS, "referral").get(uuid=uuid)
    except (AuthorizationRequest.DoesNotExist, ValueError, TypeError) as exc:
        audit_record(
            actor=user,
            action="denied",
            object_type="authorization_request",
            object_id=uuid,
            detail={"purpose": purpose},
        )
        raise Http404("No such authorization request") from exc
    audit_record(
        actor=user,
        action="read",
        object_type="authorization_request",
        object_id=request.uuid,
        member_ids=[request.member.uuid],
        detail={"purpose": purpose, "number": request.number},
    )
    return request


def request_get_for_update(*, user: object, uuid: UUID | str) -> AuthorizationRequest:
    """The request for a service call that changes it; 404 when out of scope (the write is audited)."""
    try:
        return request_queryset_for(user).select_related(*_RELATIONS).get(uuid=uuid)
    except (AuthorizationRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such authorization request") from exc


@dataclass(frozen=True)
class RequestFilters:
    status: str = "open"  # "open", "decided", "" (all) or a status key
    service: str = ""  # catalog key
    urgency: str = ""
    county: str = ""  # the member's county name
    provider: UUID | str | None = None  # servicing organization (plan staff)
    q: str = ""  # request number, member CIN or last name
    mine: bool = False  # reviewer: taken by me
    received_from: date | None = None
    received_to: date | None = None


def request_list(*, user: object, filters: RequestFilters) -> QuerySet[AuthorizationRequest]:
    """Requests in scope, filtered; open ones soonest due first (the review queue, rule A10), decided ones
    newest first. The caller audits what it shows (`audit_request_list`)."""
    qs = request_queryset_for(user).prefetch_related(*_RELATIONS, "member__county")
    if filters.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status == "decided":
        qs = qs.exclude(status__in=OPEN_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.service:
        qs = qs.filter(service__key=filters.service)
    if filters.urgency:
        qs = qs.filter(urgency=filters.urgency)
    if filters.county:
        qs = qs.filter(member__county__name=filters.county)
    if filters.provider:
        qs = qs.filter(servicing_organization__uuid=filters.provider)
    if filters.mine:
        qs = qs.filter(reviewer_id=getattr(user, "pk", None))
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(number__iexact=term) | Q(member__cin__iexact=term) | Q(member__last_name__iexact=term)
        )
    if filters.received_from:
        qs = qs.filter(received_at__gte=clock.start_of_day(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lte=clock.end_of_day(filters.received_to))
    if filters.status == "open":
        return qs.order_by("due_at", "id")
    return qs.order_by("-received_at", "-id")


def audit_request_list(
    *, user: object, requests: list[AuthorizationRequest], purpose: str, filters: object
) -> None:
    audit_record(
        actor=user,
        action="export" if purpose == "export" else "list",
        object_type="authorization_request",
        member_ids=[r.member.uuid for r in requests],
        detail={"purpose": purpose, "filters": str(filters), "count": len(requests)},
    )


@dataclass(frozen=True)
class TimeLeft:
    """How much of a request's clock is left, for the queue's colors (rule A8)."""

    state: str  # "overdue" | "due_soon" | "on_track" | "decided"
    label: str


def time_left(request: AuthorizationRequest, *, now: datetime | None = None) -> TimeLeft:
    if request.status not in OPEN_STATUSES:
        return TimeLeft("decided", "on time" if request.decided_on_time else "late")
    now = now or clock.now()
    seconds = (request.due_at - now).total_seconds()
    hours = abs(seconds) / 3600
    amount = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
    if seconds < 0:
        return TimeLeft("overdue", f"overdue by {amount}")
    fraction = clocks.time_left_fraction(received_at=request.received_at, due=request.due_at, now=now)
    state = "due_soon" if fraction < settings.CSHUB_AUTH_QUEUE_WARN_FRACTION else "on_track"
    return TimeLeft(state, f"{amount} left")


def reviewer_counts(*, user: object) -> dict[str, int]:
    """Rule A8 on the reviewer's home page: open requests overdue and due today (Pacific)."""
    if not permissions.can_review(user):
        return {"overdue": 0, "due_today": 0, "open": 0, "retrospective": 0}
    now = clock.now()
    open_qs = request_queryset_for(user).filter(status__in=OPEN_STATUSES)
    return open_qs.aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_today=Count("id", filter=Q(due_at__gte=now, due_at__lte=clock.end_of_day(clock.today()))),
    ) | {
        "retrospective": Authorization.objects.filter(
            plan_id=user.organization_id, presumptive=True, retrospective_review_due=True
        ).count()
    }


def request_events(request: AuthorizationRequest) -> QuerySet[RequestEvent]:
    return RequestEvent.objects.filter(request=request).select_related("organization").order_by("at", "id")


def request_documents(request: AuthorizationRequest) -> QuerySet[RequestDocument]:
    return (
        RequestDocument.objects.filter(request=request)
        .select_related("uploaded_by")
        .order_by("created_at", "id")
    )


def request_letters(request: AuthorizationRequest) -> QuerySet[Letter]:
    return (
        Letter.objects.filter(request=request)
        .select_related("recipient_organization")
        .order_by("created_at", "id")
    )


def document_get_for_user(
    *, user: object, request_uuid: UUID | str, document_uuid: UUID | str
) -> RequestDocument:
    """A file of a request in scope (audited as a read of member data), or 404."""
    request = request_get_for_user(user=user, uuid=request_uuid, purpose="document")
    try:
        return RequestDocument.objects.get(request=request, uuid=document_uuid)
    except (RequestDocument.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such document") from exc


def request_letters_for_user(*, user: object, request: AuthorizationRequest) -> QuerySet[Letter]:
    """The letters of a request `user` may read: the plan all of them; a provider those addressed to it and
    the member's (minimum necessary: a referring provider's letter is not the servicing provider's)."""
    letters = request_letters(request)
    if getattr(user, "is_plan_staff", False):
        return letters
    return letters.filter(
        Q(recipient_organization_id=user.organization_id) | Q(recipient=Letter.Recipient.MEMBER)
    )


def letter_get_for_user(*, user: object, request_uuid: UUID | str, letter_uuid: UUID | str) -> Letter:
    """A letter of a request in scope that the user may read (audited), or 404."""
    request = request_get_for_user(user=user, uuid=request_uuid, purpose="letter")
    try:
        return request_letters_for_user(user=user, request=request).get(uuid=letter_uuid)
    except (Letter.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such letter") from exc


def request_information_requests(request: AuthorizationRequest) -> QuerySet[InformationRequest]:
    return request.information_requests.select_related("asked_by", "answered_by").order_by("asked_at", "id")


def service_record_queryset_for(user: object) -> QuerySet[ServiceRecord]:
    """Rule G2 records the user may see: the provider's own, or the plan's (deny by default)."""
    if not permissions.can_view_requests(user) and not permissions.can_record_services(user):
        return ServiceRecord.objects.none()
    if user.is_plan_staff:
        return ServiceRecord.objects.filter(plan_id=user.organization_id)
    return ServiceRecord.objects.filter(organization_id=user.organization_id)


def service_record_list(*, user: object) -> QuerySet[ServiceRecord]:
    """Newest first; the caller audits the members it shows."""
    return (
        service_record_queryset_for(user)
        .select_related("member", "service", "code", "organization")
        .order_by("-service_date", "-id")
    )


def authorizations_for_member(*, user: object, member: Any) -> QuerySet[Authorization]:
    """A member's authorizations the user may see (the member must come from a scoped, audited read)."""
    requests = request_queryset_for(user).filter(member=member)
    return (
        Authorization.objects.filter(request__in=requests)
        .select_related("service", "code", "servicing_organization")
        .order_by("-start_date", "-id")
    )


# --- Timeliness report (rule A8) ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelinessRow:
    month: date
    urgency: str
    service: str
    decided: int
    on_time: int

    @property
    def share(self) -> float:
        return self.on_time / self.decided if self.decided else 0.0


def timeliness_report(*, user: object, start: date, end: date, service: str = "") -> list[TimelinessRow]:
    """Requests decided between `start` and `end` (Pacific dates), by month, urgency and service: how many
    and how many on time. Presumptive authorizations (decided at once) and withdrawals are left out."""
    if not permissions.can_review(user) and not (
        getattr(user, "is_plan_staff", False) and permissions.can_view_requests(user)
    ):
        return []
    qs = (
        request_queryset_for(user)
        .filter(
            decided_at__gte=clock.start_of_day(start),
            decided_at__lte=clock.end_of_day(end),
            presumptive=False,
        )
        .exclude(status=RequestStatus.WITHDRAWN)
    )
    if service:
        qs = qs.filter(service__key=service)
    rows = (
        qs.annotate(month=TruncMonth("decided_at", tzinfo=clock.PACIFIC))
        .values("month", "urgency", "service__name")
        .annotate(decided=Count("id"), on_time=Count("id", filter=Q(decided_on_time=True)))
        .order_by("month", "urgency", "service__name")
    )
    return [
        TimelinessRow(
            month=r["month"].date() if isinstance(r["month"], datetime) else r["month"],
            urgency=Urgency(r["urgency"]).label,
            service=r["service__name"],
            decided=r["decided"],
            on_time=r["on_time"],
        )
        for r in rows
    ]
