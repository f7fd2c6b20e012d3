"""Who may do what with authorization requests (STYLE 4). Which requests a user sees is decided by
`selectors.request_queryset_for`; these say what a role may do."""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind, Role
from cshub.referrals.permissions import REFERRER_ROLES

# Provider staff who request authorizations for their members (billing staff read them).
PROVIDER_REQUEST_ROLES = PROVIDER_LEADERSHIP_ROLES | {Role.CARE_COORDINATOR}
PROVIDER_READ_ROLES = PROVIDER_REQUEST_ROLES | {Role.PROVIDER_BILLING}
# Rule A5: a hospital's discharge planner submits recuperative care with the discharge plan.
HOSPITAL_REQUEST_ROLES = frozenset({Role.DISCHARGE_PLANNER})
HOSPITAL_SERVICES = frozenset({"recuperative_care"})
# The referrer of a referral hears of the authorization (closed loop, policy_updates item 1).
REFERRAL_NOTICE_ROLES = REFERRER_ROLES
# Plan staff: UM reviewers decide; claims and reporting staff read; plan admins do both.
REVIEWER_ROLES = frozenset({Role.UM_REVIEWER, Role.PLAN_ADMIN})
PLAN_READ_ROLES = REVIEWER_ROLES | {
    Role.CLAIMS_PROCESSOR,
    Role.PROVIDER_RELATIONS,
    Role.REPORTING_DIRECTOR,
    Role.REPORTING_SUPERVISOR,
}


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def is_hospital_requester(user: object) -> bool:
    return (
        _active(user)
        and user.organization.kind == OrganizationKind.HOSPITAL
        and user.has_role(*HOSPITAL_REQUEST_ROLES)
    )


def can_view_requests(user: object) -> bool:
    if not _active(user):
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_READ_ROLES)
    return user.has_role(*PROVIDER_READ_ROLES) or is_hospital_requester(user)


def can_submit_requests(user: object) -> bool:
    """The portal and API doors (rule A4): CS provider staff, and hospital discharge planners (rule A5)."""
    if not _active(user) or user.is_plan_staff:
        return False
    if user.organization.kind == OrganizationKind.CS_PROVIDER:
        return user.has_role(*PROVIDER_REQUEST_ROLES)
    return is_hospital_requester(user)


def can_enter_fax(user: object) -> bool:
    """Rule A4: plan staff enter a faxed request beside the fax image."""
    return _active(user) and user.is_plan_staff and user.has_role(*REVIEWER_ROLES)


def can_review(user: object) -> bool:
    """Rule A10: take, pend, extend, change urgency and decide requests."""
    return _active(user) and user.is_plan_staff and user.has_role(*REVIEWER_ROLES)


def can_record_services(user: object) -> bool:
    """Rule G2: record a service that needs no authorization."""
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization.kind == OrganizationKind.CS_PROVIDER
        and user.has_role(*PROVIDER_REQUEST_ROLES)
    )


ACTIONS = (
    "take",
    "release",
    "urgency",
    "pend",
    "extend",
    "decide",
    "retrospective-review",
    "answer",
    "withdraw",
)


def allowed_actions(user: object, request: object, authorization: object | None = None) -> tuple[str, ...]:
    """The steps `user` may take on `request` now, named as the API's paths name them; pages and the API
    offer only these (the services still decide)."""
    from cshub.authorizations.models import OPEN_STATUSES, RequestStatus

    actions: set[str] = set()
    is_open = request.status in OPEN_STATUSES
    org = getattr(user, "organization_id", None)
    if can_review(user) and org == request.plan_id:
        if is_open and request.reviewer_id in (None, user.pk):
            actions.add("take" if request.reviewer_id is None else "release")
            actions.update({"urgency", "decide"})
            if request.status != RequestStatus.PENDED:
                actions.add("pend")
            if not request.extension_days:
                actions.add("extend")
        if authorization is not None and authorization.presumptive and authorization.retrospective_review_due:
            actions.add("retrospective-review")
    if can_submit_requests(user):
        if request.status == RequestStatus.PENDED and org in (
            request.requesting_organization_id,
            request.servicing_organization_id,
        ):
            actions.add("answer")
        if is_open and org == request.requesting_organization_id:
            actions.add("withdraw")
    return tuple(a for a in ACTIONS if a in actions)
