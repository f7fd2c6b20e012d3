"""Who may do what with staffing and capacity reports (STYLE 4). Which reports a user sees is decided by
`selectors.report_queryset_for`; these say what a role may do.

A report describes the organization, not members; still only the named roles see it: at the provider its
leadership (who fill and submit it, rule D3, and the D4 roles), at the plan the network staff, the plan
administrator and the reporting roles (D4)."""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind, Role

PROVIDER_REPORT_ROLES = PROVIDER_LEADERSHIP_ROLES
PLAN_REPORT_ROLES = frozenset(
    {Role.NETWORK, Role.PLAN_ADMIN, Role.REPORTING_DIRECTOR, Role.REPORTING_SUPERVISOR}
)
# Plan staff told when a provider's report is late.
PLAN_LATE_NOTICE_ROLES = frozenset({Role.NETWORK})


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def is_plan_viewer(user: object) -> bool:
    return _active(user) and user.is_plan_staff and user.has_role(*PLAN_REPORT_ROLES)


def is_provider_reporter(user: object) -> bool:
    return (
        _active(user)
        and user.organization.kind in (OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER)
        and user.has_role(*PROVIDER_REPORT_ROLES)
    )


def can_view_reports(user: object) -> bool:
    return is_plan_viewer(user) or is_provider_reporter(user)


def can_edit_reports(user: object) -> bool:
    """Fill, save, submit and correct the organization's own reports."""
    return is_provider_reporter(user)
