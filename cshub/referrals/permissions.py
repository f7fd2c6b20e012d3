"""Who may do what with referrals (STYLE 4). Which referrals a user sees is decided by
`selectors.referral_queryset_for`; these say what a role may do, and which party of a referral a user is.

Parties (the `by` column of the workflow file): the receiving provider, the plan, the referrer.
"""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind, Role
from cshub.members.permissions import PLAN_MEMBER_ROLES

# Provider staff who work referrals: intake, outreach, eligibility, enrollment (billing does not).
PROVIDER_WORK_ROLES = PROVIDER_LEADERSHIP_ROLES | {Role.CARE_COORDINATOR, Role.ECM_STAFF}
# Plan staff who assign referrals and process ECM referrals; other member roles at the plan only read.
PLAN_REFERRAL_ROLES = frozenset({Role.PLAN_ADMIN, Role.UM_REVIEWER})
# Rule R1: everyone outside the plan who serves members may refer.
REFERRER_ROLES = PROVIDER_WORK_ROLES | {Role.DISCHARGE_PLANNER, Role.REFERRER}
INTAKE_ORGANIZATION_KINDS = frozenset({OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER})
REFERRING_KINDS = frozenset(
    {
        OrganizationKind.CS_PROVIDER,
        OrganizationKind.ECM_PROVIDER,
        OrganizationKind.HOSPITAL,
        OrganizationKind.OTHER,
    }
)


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def can_view_referrals(user: object) -> bool:
    if not _active(user):
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_MEMBER_ROLES)
    return user.has_role(*REFERRER_ROLES)


def can_make_referrals(user: object) -> bool:
    """Referrer portal (rule R1): staff of providers, hospitals and other entities."""
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization.kind in REFERRING_KINDS
        and user.has_role(*REFERRER_ROLES)
    )


def can_work_referrals(user: object) -> bool:
    """Intake queue, outreach, eligibility and enrollment at a provider."""
    return _active(user) and not user.is_plan_staff and user.has_role(*PROVIDER_WORK_ROLES)


def can_manage_plan_referrals(user: object) -> bool:
    """Assign referrals for outreach, route unassigned ones, process ECM referrals (rule R8)."""
    return _active(user) and user.is_plan_staff and user.has_role(*PLAN_REFERRAL_ROLES)


def can_edit_provider_intake(user: object, organization: object) -> bool:
    """A provider's leadership set what their own organization takes referrals for (routing data)."""
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization_id == organization.pk
        and organization.kind in INTAKE_ORGANIZATION_KINDS
        and user.has_role(*PROVIDER_LEADERSHIP_ROLES)
    )


def parties_of(user: object, referral: object) -> set[str]:
    """The parties `user` acts as on `referral` (the referral must already be in the user's scope)."""
    parties: set[str] = set()
    if not _active(user):
        return parties
    org = user.organization_id
    if org == referral.receiving_provider_id and can_work_referrals(user):
        parties.add("provider")
    if org == referral.plan_id and can_manage_plan_referrals(user):
        parties.add("plan")
    if org == referral.referring_organization_id and user.has_role(*REFERRER_ROLES, *PLAN_REFERRAL_ROLES):
        parties.add("referrer")
    return parties
