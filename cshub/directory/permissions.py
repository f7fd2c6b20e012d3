"""Who may do what with program listings (STYLE 4). The public directory itself needs no login (rule N8)."""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind, Role

# Rule N9: a provider's leadership (CEO, COO, CS Program Director, CS Program Manager) claim and edit the
# organization's listings. The same roles set its referral intake, which a listing writes through to.
LISTING_EDIT_ROLES = PROVIDER_LEADERSHIP_ROLES
# Plan staff who look after the network see every listing (read only).
PLAN_LISTING_ROLES = frozenset({Role.PLAN_ADMIN, Role.NETWORK, Role.PROVIDER_RELATIONS})
LISTING_ORGANIZATION_KINDS = frozenset({OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER})


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def can_manage_listings(user: object) -> bool:
    """Claim and edit the own organization's program listings (rule N9)."""
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization.kind in LISTING_ORGANIZATION_KINDS
        and user.has_role(*LISTING_EDIT_ROLES)
    )


def can_view_all_listings(user: object) -> bool:
    return _active(user) and user.is_plan_staff and user.has_role(*PLAN_LISTING_ROLES)


def can_view_listings(user: object) -> bool:
    return can_manage_listings(user) or can_view_all_listings(user)


def can_edit_listing(user: object, listing: object) -> bool:
    return can_manage_listings(user) and listing.organization_id == user.organization_id
