"""Who may do what in the network path (STYLE 4: declared in one place per app)."""

from __future__ import annotations

from typing import Any

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, Role

# Rules N1-N5: the plan's network & contracting staff and its administrator run interest forms,
# invitations and certification review.
NETWORK_STAFF_ROLES = frozenset({Role.NETWORK, Role.PLAN_ADMIN})
# Rule N3: the provider's leadership (D4 roles) fills and submits its application and answers gap items.
APPLICANT_ROLES = PROVIDER_LEADERSHIP_ROLES


def is_network_staff(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_plan_staff
        and user.has_role(*NETWORK_STAFF_ROLES)
    )


def is_applicant(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.organization_id is not None
        and not user.is_plan_staff
        and user.has_role(*APPLICANT_ROLES)
    )


def can_use_network(user: Any) -> bool:
    return is_network_staff(user) or is_applicant(user)
