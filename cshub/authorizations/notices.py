"""What the authorization services tell people, in one place: in-app + email notices (rule A9: the
provider sees the determination the moment it is made). Bodies carry the request number, the service and
what happened; never a diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from cshub.authorizations import permissions
from cshub.core import clock
from cshub.notifications.services import notify

if TYPE_CHECKING:
    from cshub.authorizations.models import AuthorizationRequest, Determination, InformationRequest

PROVIDER_ROLES = sorted(permissions.PROVIDER_READ_ROLES | permissions.HOSPITAL_REQUEST_ROLES)
REVIEWER_ROLES = sorted(permissions.REVIEWER_ROLES)


def _url(request: AuthorizationRequest) -> str:
    return reverse("authorizations:detail", args=[request.uuid])


def _providers(request: AuthorizationRequest, *, kind: str, subject: str, body: str) -> None:
    """The requesting and the servicing provider (one notice each when they differ)."""
    organizations = {request.requesting_organization_id: request.requesting_organization}
    organizations[request.servicing_organization_id] = request.servicing_organization
    for organization in organizations.values():
        notify(
            kind=kind,
            subject=subject,
            body=body,
            url=_url(request),
            organization=organization,
            roles=PROVIDER_ROLES,
            object_type="authorization_request",
            object_id=str(request.uuid),
        )


def request_received(request: AuthorizationRequest) -> None:
    """Expedited requests reach the plan's reviewers at once; routine ones wait in the queue unannounced."""
    if request.urgency != "expedited":
        return
    notify(
        kind="authorization.expedited",
        subject=f"Expedited request {request.number}",
        body=f"{request.service.name}; due {clock.local(request.due_at):%m/%d/%Y %I:%M %p}.",
        url=_url(request),
        organization=request.plan,
        roles=REVIEWER_ROLES,
        object_type="authorization_request",
        object_id=str(request.uuid),
        email=False,
    )


def information_requested(request: AuthorizationRequest, asked: InformationRequest) -> None:
    _providers(
        request,
        kind="authorization.pended",
        subject=f"Information needed for request {request.number}",
        body=f"The plan needs information by {asked.due_on:%m/%d/%Y} to decide {request.service.name}: "
        f"{asked.question}",
    )


def information_answered(request: AuthorizationRequest) -> None:
    users = [request.reviewer] if request.reviewer_id and request.reviewer.is_active else None
    notify(
        kind="authorization.answered",
        subject=f"Information received for request {request.number}",
        body=f"{request.requesting_organization.name} answered; due "
        f"{clock.local(request.due_at):%m/%d/%Y %I:%M %p}.",
        url=_url(request),
        users=users,
        organization=None if users else request.plan,
        roles=None if users else REVIEWER_ROLES,
        object_type="authorization_request",
        object_id=str(request.uuid),
    )


def request_extended(request: AuthorizationRequest) -> None:
    _providers(
        request,
        kind="authorization.extended",
        subject=f"Request {request.number}: decision extended",
        body=f"The plan took {request.extension_days} more days to decide {request.service.name} "
        f"({request.extension_reason}); now due {clock.local(request.due_at):%m/%d/%Y}.",
    )


def request_decided(request: AuthorizationRequest, determination: Determination) -> None:
    """Rule A9: the requesting and servicing providers see the determination at once, in-app and by email;
    the referring provider of the referral hears of it too (closed loop)."""
    body = f"{request.service.name}: {determination.get_outcome_display().lower()}."
    if determination.authorized_units:
        body += (
            f" {determination.authorized_units} units, {determination.start_date:%m/%d/%Y} to "
            f"{determination.end_date:%m/%d/%Y}."
        )
    subject = f"Request {request.number}: {determination.get_outcome_display().lower()}"
    _providers(request, kind="authorization.decided", subject=subject, body=body)
    referral = request.referral
    if (
        referral is not None
        and referral.referring_organization_id
        and referral.referring_organization_id
        not in (request.requesting_organization_id, request.servicing_organization_id)
    ):
        outcome = determination.get_outcome_display().lower()
        notify(
            kind="authorization.decided",
            subject=f"Referral {referral.number}: authorization {outcome}",
            body=body,
            url=reverse("referrals:detail", args=[referral.uuid]),
            organization=referral.referring_organization,
            roles=sorted(permissions.REFERRAL_NOTICE_ROLES),
            object_type="referral",
            object_id=str(referral.uuid),
        )
