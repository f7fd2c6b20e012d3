"""Who may do what with organizations, users and API keys (STYLE 4: declared in one place per app)."""

from __future__ import annotations

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import ORG_ADMIN_ROLES, PLAN_ROLES, SHARED_DATA_ROLES, Role

# Plan roles that work across the network's organizations (directory, contracting, oversight).
ORGANIZATION_DIRECTORY_ROLES = PLAN_ROLES


def can_view_organizations(user: User) -> bool:
    return user.is_authenticated and user.has_role(*ORGANIZATION_DIRECTORY_ROLES)


def can_manage_organizations(user: User) -> bool:
    """Creating and editing any organization: the plan's administrator and network staff."""
    return user.is_authenticated and user.has_role(Role.PLAN_ADMIN, Role.NETWORK)


def can_manage_users_of(user: User, organization: Organization) -> bool:
    """An organization's own administrators manage its users; the plan administrator manages everyone's."""
    if not user.is_authenticated or user.organization_id is None:
        return False
    if user.has_role(Role.PLAN_ADMIN) and user.is_plan_staff:
        return True
    return user.organization_id == organization.pk and user.has_role(*ORG_ADMIN_ROLES)


def can_edit_organization(user: User, organization: Organization) -> bool:
    """Plan network staff edit any organization; an organization's administrators edit their own."""
    return can_manage_organizations(user) or can_manage_users_of(user, organization)


def can_see_shared_data(user: User) -> bool:
    """Rule D4: only the named reporting and leadership roles see shared data."""
    return user.is_authenticated and user.has_role(*SHARED_DATA_ROLES)
