"""The roles of DESIGN.md "Who uses it", and which organization kinds may hold each.

Rule D4 names the only roles that see shared data: at the plan the Director of Reporting & Business Analytics
and the Supervisor of Reporting & Data Analysis; at the provider the CEO/Executive Director, the
COO/Director of Operations, the CS Program Director and the CS Program Manager.
"""

from __future__ import annotations

from django.db import models


class OrganizationKind(models.TextChoices):
    PLAN = "plan", "Managed care plan"
    CS_PROVIDER = "cs_provider", "Community Supports provider"
    ECM_PROVIDER = "ecm_provider", "ECM provider"
    HOSPITAL = "hospital", "Hospital"
    OTHER = "other", "Other provider or entity"


class Role(models.TextChoices):
    # plan
    PLAN_ADMIN = "plan_admin", "Plan administrator"
    NETWORK = "network", "Network & contracting"
    UM_REVIEWER = "um_reviewer", "Utilization management reviewer"
    CLAIMS_PROCESSOR = "claims_processor", "Claims processor"
    PROVIDER_RELATIONS = "provider_relations", "Provider relations / point of contact"
    REPORTING_DIRECTOR = "reporting_director", "Director of Reporting & Business Analytics"
    REPORTING_SUPERVISOR = "reporting_supervisor", "Supervisor of Reporting & Data Analysis"
    # CS provider
    PROVIDER_CEO = "provider_ceo", "CEO / Executive Director"
    PROVIDER_COO = "provider_coo", "COO / Director of Operations"
    CS_PROGRAM_DIRECTOR = "cs_program_director", "CS Program Director"
    CS_PROGRAM_MANAGER = "cs_program_manager", "CS Program Manager"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator / outreach worker"
    PROVIDER_BILLING = "provider_billing", "Billing"
    # referrers
    ECM_STAFF = "ecm_staff", "ECM provider staff"
    DISCHARGE_PLANNER = "discharge_planner", "Hospital discharge planner"
    REFERRER = "referrer", "Other provider or entity staff"


PLAN_ROLES = frozenset(
    {
        Role.PLAN_ADMIN,
        Role.NETWORK,
        Role.UM_REVIEWER,
        Role.CLAIMS_PROCESSOR,
        Role.PROVIDER_RELATIONS,
        Role.REPORTING_DIRECTOR,
        Role.REPORTING_SUPERVISOR,
    }
)
PROVIDER_LEADERSHIP_ROLES = frozenset(
    {Role.PROVIDER_CEO, Role.PROVIDER_COO, Role.CS_PROGRAM_DIRECTOR, Role.CS_PROGRAM_MANAGER}
)
PROVIDER_ROLES = PROVIDER_LEADERSHIP_ROLES | {Role.CARE_COORDINATOR, Role.PROVIDER_BILLING}

# Rule D4: the only roles that see shared data (bulk member lists, exchange files, utilization reports).
SHARED_DATA_ROLES = (
    frozenset({Role.REPORTING_DIRECTOR, Role.REPORTING_SUPERVISOR}) | PROVIDER_LEADERSHIP_ROLES
)

# Organization administrators manage their own organization's users and API keys.
ORG_ADMIN_ROLES = frozenset({Role.PLAN_ADMIN, Role.PROVIDER_CEO, Role.PROVIDER_COO})

ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.PLAN: PLAN_ROLES,
    OrganizationKind.CS_PROVIDER: PROVIDER_ROLES | {Role.ECM_STAFF},  # many CS providers also provide ECM
    OrganizationKind.ECM_PROVIDER: PROVIDER_LEADERSHIP_ROLES | {Role.ECM_STAFF, Role.CARE_COORDINATOR},
    OrganizationKind.HOSPITAL: frozenset({Role.DISCHARGE_PLANNER, Role.PROVIDER_CEO}),
    OrganizationKind.OTHER: frozenset({Role.REFERRER, Role.PROVIDER_CEO}),
}


def roles_allowed_for(kind: str) -> frozenset[str]:
    return ROLES_BY_KIND.get(kind, frozenset())
