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


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# Which records a user sees is decided by the scoping functions in `selectors.py` (`consent_queryset_for`
# and the others): the organization that recorded a record, if it can see the member, and the member's plan
# (M2: assessments and plans are shared with the plan). Other organizations on the care team do not see it.

# Plan roles that read providers' documentation of their plan's members: the roles that work with member
# records. Plan staff never write a provider's documentation.
PLAN_DOCUMENTATION_READ_ROLES = PLAN_MEMBER_ROLES

# Provider roles that record documentation: every provider role but billing (billing reads it, to bill).
DOCUMENTATION_WRITE_ROLES = frozenset(
    {
        Role.PROVIDER_CEO,
        Role.PROVIDER_COO,
        Role.CS_PROGRAM_DIRECTOR,
        Role.CS_PROGRAM_MANAGER,
        Role.CARE_COORDINATOR,
    }
)


def can_view_documentation(user: object) -> bool:
    """Whether the role may read member documentation at all (the records are then scoped)."""
    if not can_view_members(user):
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_DOCUMENTATION_READ_ROLES)
    return True


def can_write_documentation(user: object) -> bool:
    """Whether the role may record documentation (for members its organization has in scope)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.organization_id is not None
        and not user.is_plan_staff
        and user.has_role(*DOCUMENTATION_WRITE_ROLES)
    )


def can_export_timeline(user: object) -> bool:
    """Rule D4: a member's timeline as CSV is shared data, like the member export."""
    return can_export_members(user)
