"""Who sees reports (STYLE 4). Rule D4: only the named roles see shared data; here that means

* at the plan, the Director of Reporting & Business Analytics and the Supervisor of Reporting & Data
  Analysis, plus the plan administrator (who administers access to everything): utilization reports of any
  provider under their plan, the referral-analytics dashboard and de-identified extracts;
* at a CS (or ECM) provider, the CEO/Executive Director, COO/Director of Operations, CS Program Director
  and CS Program Manager: their own organization's utilization reports only.

Nobody else sees any of it (403). Which provider and plan a user may ask for is decided by the selectors
(out of scope is 404).
"""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, SHARED_DATA_ROLES, OrganizationKind, Role

PLAN_REPORT_ROLES = frozenset(SHARED_DATA_ROLES - PROVIDER_LEADERSHIP_ROLES) | {Role.PLAN_ADMIN}
PROVIDER_REPORT_ROLES = frozenset(SHARED_DATA_ROLES & PROVIDER_LEADERSHIP_ROLES)
PROVIDER_KINDS = frozenset({OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER})


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
        and getattr(user, "organization_id", None) is not None
    )


def is_plan_reporter(user: object) -> bool:
    return _active(user) and user.is_plan_staff and user.has_role(*PLAN_REPORT_ROLES)


def is_provider_reporter(user: object) -> bool:
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization.kind in PROVIDER_KINDS
        and user.has_role(*PROVIDER_REPORT_ROLES)
    )


def can_view_utilization(user: object) -> bool:
    """Rules D4, D6: the monthly utilization report."""
    return is_plan_reporter(user) or is_provider_reporter(user)


def can_view_referral_analytics(user: object) -> bool:
    """Rules D4, D7: the plan's referral-analytics dashboard."""
    return is_plan_reporter(user)


def can_export_deidentified(user: object) -> bool:
    """Rules D4, D5: member-level rows de-identified by the Safe Harbor method."""
    return is_plan_reporter(user)
