"""Who may do what with the file exchange (STYLE 4: declared in one place per app).

SSH keys log a whole organization in to its exchange folder, so only the organization's administrators
(ORG_ADMIN_ROLES: at a plan the plan administrator, at a provider its CEO or COO) manage them, and only
their own organization's. The log of inbox files names the organization's exchange files (rule D4 shared
data): its administrators and the D4 roles of the organization see it; a superuser sees every one.

Rule D4, exchange files (CSASF, CSPRTF) and their contents: only the roles the Data Sharing document names
(SHARED_DATA_ROLES: at the plan the Director of Reporting & Business Analytics and the Supervisor of
Reporting & Data Analysis; at a provider its CEO/Executive Director, COO/Director of Operations, CS Program
Director and CS Program Manager), plus the plan administrator and a superuser. Which files they see
(their own organization's) is the selectors' scoping.
"""

from __future__ import annotations

from typing import Any

from cshub.accounts.roles import (
    ORG_ADMIN_ROLES,
    PROVIDER_LEADERSHIP_ROLES,
    SHARED_DATA_ROLES,
    OrganizationKind,
    Role,
)

KEY_ADMIN_ROLES = ORG_ADMIN_ROLES
INBOX_LOG_ROLES = ORG_ADMIN_ROLES | SHARED_DATA_ROLES
# Rule D4 (+ the plan administrator, who administers the plan's side of the exchange).
EXCHANGE_FILE_ROLES = SHARED_DATA_ROLES | {Role.PLAN_ADMIN}


def _member_of_organization(user: Any) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def can_manage_keys(user: Any, organization: Any = None) -> bool:
    """Add and revoke the SSH keys of `organization` (default: the user's own)."""
    if not _member_of_organization(user) or not user.has_role(*KEY_ADMIN_ROLES):
        return False
    return organization is None or organization.pk == user.organization_id


def can_view_inbox_log(user: Any) -> bool:
    if getattr(user, "is_superuser", False) and user.is_authenticated:
        return True
    return _member_of_organization(user) and user.has_role(*INBOX_LOG_ROLES)


def can_view_shared_data(user: Any) -> bool:
    """Rule D4: whether the user may see exchange files (CSASF, CSPRTF) and their contents at all. The
    plan administrator counts only at a plan (a provider holds no such role anyway)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    if not _member_of_organization(user):
        return False
    if user.has_role(*SHARED_DATA_ROLES):
        return True
    return user.has_role(Role.PLAN_ADMIN) and user.organization.kind == OrganizationKind.PLAN


# Rules D2, D4: a provider's CSPRTF is sent by the provider roles the Data Sharing document names (CEO /
# Executive Director, COO / Director of Operations, CS Program Director, CS Program Manager), for their own
# organization only; the plan's D4 roles read it (`can_view_shared_data`).
CSPRTF_SENDER_ROLES = PROVIDER_LEADERSHIP_ROLES
CSPRTF_SENDER_KINDS = frozenset({OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER})


def can_send_csprtf(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return (
        _member_of_organization(user)
        and user.organization.kind in CSPRTF_SENDER_KINDS
        and user.has_role(*CSPRTF_SENDER_ROLES)
    )
