"""Who may see and change member data (STYLE 4). Which members a user sees is decided by
`members.selectors.member_queryset_for`; these say whether the role may look at all.

Rule D4: bulk member data (exports, shared files) only for the named reporting and leadership roles.
"""

from __future__ import annotations

from cshub.accounts.roles import PLAN_ROLES, SHARED_DATA_ROLES, Role

# Plan roles whose work needs member records. Network & contracting and provider relations work with
# organizations, not members, so they are left out (deny by default).
PLAN_MEMBER_ROLES = frozenset(
    {
        Role.PLAN_ADMIN,
        Role.UM_REVIEWER,
        Role.CLAIMS_PROCESSOR,
        Role.REPORTING_DIRECTOR,
        Role.REPORTING_SUPERVISOR,
    }
)
ROSTER_IMPORT_ROLES = frozenset({Role.PLAN_ADMIN, Role.REPORTING_DIRECTOR, Role.REPORTING_SUPERVISOR})
PLAN_MEMBER_EDIT_ROLES = frozenset({Role.PLAN_ADMIN})


def can_view_members(user: object) -> bool:
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_MEMBER_ROLES)
    return bool(user.role_set - PLAN_ROLES)  # every provider and referrer role, for its own care team


def can_import_roster(user: object) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.is_plan_staff
        and user.has_role(*ROSTER_IMPORT_ROLES)
    )


def can_export_members(user: object) -> bool:
    """Rule D4."""
    return getattr(user, "is_authenticated", False) and user.has_role(*SHARED_DATA_ROLES)
