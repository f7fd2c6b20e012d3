"""Who may do what with claims and invoices (STYLE 4). Which claims a user sees is decided by
`selectors.claim_queryset_for`; these say what a role may do.

Rule C4: invoice-portal accounts are ordinary provider users with the billing role. Provider leadership reads
its organization's claims and payments; billing staff also submit. At the plan, claims processors (and
plan administrators) enter paper, work pended claims and run payments; provider relations and reporting read.
"""

from __future__ import annotations

from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind, Role

PROVIDER_SUBMIT_ROLES = frozenset({Role.PROVIDER_BILLING}) | PROVIDER_LEADERSHIP_ROLES
PROVIDER_READ_ROLES = PROVIDER_SUBMIT_ROLES
PROCESSOR_ROLES = frozenset({Role.CLAIMS_PROCESSOR, Role.PLAN_ADMIN})
PLAN_READ_ROLES = PROCESSOR_ROLES | {
    Role.PROVIDER_RELATIONS,
    Role.REPORTING_DIRECTOR,
    Role.REPORTING_SUPERVISOR,
}
# Organizations that may drop 837P files for many providers (a clearinghouse is an "other" organization).
CLEARINGHOUSE_KINDS = frozenset({OrganizationKind.OTHER})


def _active(user: object) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and getattr(user, "organization_id", None) is not None
    )


def can_view_claims(user: object) -> bool:
    if not _active(user):
        return False
    if user.is_plan_staff:
        return user.has_role(*PLAN_READ_ROLES)
    if user.organization.kind == OrganizationKind.CS_PROVIDER:
        return user.has_role(*PROVIDER_READ_ROLES)
    return False


def can_submit_claims(user: object) -> bool:
    """Rules C3, C4: a CS provider's billing staff or leadership upload 837P files and enter invoices."""
    return (
        _active(user)
        and not user.is_plan_staff
        and user.organization.kind == OrganizationKind.CS_PROVIDER
        and user.has_role(*PROVIDER_SUBMIT_ROLES)
    )


def can_process_claims(user: object) -> bool:
    """Rules C4, C5: plan claims processors enter paper, work the pended queue and run payments."""
    return _active(user) and user.is_plan_staff and user.has_role(*PROCESSOR_ROLES)


def can_work_claims(user: object, claim: object) -> bool:
    return can_process_claims(user) and claim.plan_id == user.organization_id


def can_upload_837(user: object) -> bool:
    """837P files come from providers (their own NPI) and from the plan's claims staff (a clearinghouse
    batch received another way)."""
    return can_submit_claims(user) or can_process_claims(user)
