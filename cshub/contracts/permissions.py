"""Who may do what with contracts and training records (STYLE 4). Which rows a user sees is decided by the
scoping functions of `selectors`; these say what a role may do. State rules ("an executed contract cannot
be edited") live in `services`."""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, PROVIDER_ROLES, OrganizationKind, Role

# Plan staff who draft, execute and terminate contracts (rule N6).
CONTRACT_MANAGER_ROLES = frozenset({Role.NETWORK, Role.PLAN_ADMIN})
# Plan staff who read contracts: claims processors read the fee schedule (rule C1), provider relations and
# reporting follow the network.
PLAN_CONTRACT_READ_ROLES = CONTRACT_MANAGER_ROLES | {
    Role.PROVIDER_RELATIONS,
    Role.CLAIMS_PROCESSOR,
    Role.REPORTING_DIRECTOR,
    Role.REPORTING_SUPERVISOR,
}
# Provider staff who read their own contracts: leadership, and billing for the rates.
PROVIDER_CONTRACT_READ_ROLES = PROVIDER_LEADERSHIP_ROLES | {Role.PROVIDER_BILLING}
# Plan staff who follow the network's training (rule N7).
PLAN_TRAINING_ROLES = frozenset({Role.NETWORK, Role.PLAN_ADMIN, Role.PROVIDER_RELATIONS})
# Rule N7: the attestation is signed by provider leadership.
ATTESTER_ROLES = PROVIDER_LEADERSHIP_ROLES


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def _is_provider(user: object) -> bool:
    return _active(user) and not user.is_plan_staff and user.organization.kind == OrganizationKind.CS_PROVIDER


def can_view_contracts(user: object) -> bool:
    if not _active(user):
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_CONTRACT_READ_ROLES)
    return _is_provider(user) and user.has_role(*PROVIDER_CONTRACT_READ_ROLES)


def can_manage_contracts(user: object) -> bool:
    return _active(user) and user.is_plan_staff and user.has_role(*CONTRACT_MANAGER_ROLES)


def can_view_own_training(user: object) -> bool:
    """Everyone at a CS provider sees the catalog and the organization's completions."""
    return _is_provider(user) and user.has_role(*PROVIDER_ROLES)


def can_record_completion(user: object, person: object) -> bool:
    """A person records their own completions; leadership records anyone's in the organization."""
    if not can_view_own_training(user):
        return False
    if getattr(person, "pk", None) == user.pk:
        return True
    return user.has_role(*PROVIDER_LEADERSHIP_ROLES) and person.organization_id == user.organization_id


def can_attest(user: object) -> bool:
    """Rule N7: provider leadership attests that the trainings are complete."""
    return _is_provider(user) and user.has_role(*ATTESTER_ROLES)


def can_view_network_training(user: object) -> bool:
    """The plan's view across providers: completions, attestations and overdue trainings (rule N7)."""
    return _active(user) and user.is_plan_staff and user.has_role(*PLAN_TRAINING_ROLES)


def can_view_training(user: object) -> bool:
    return can_view_own_training(user) or can_view_network_training(user)
