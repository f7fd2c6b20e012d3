"""The one place the directory reads contracts (rule N8): which organization offers which service in which
county under an executed contract in force on a date. Everything else in this app goes through
`contracted_services`; what "in force" means (executed, started, not ended, not terminated) is decided by
`cshub.contracts.selectors.active_contracted_services` alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cshub.accounts.models import Organization
from cshub.contracts.selectors import active_contracted_services


@dataclass(frozen=True)
class ContractedService:
    organization_id: int
    service_id: int
    county_id: int


def contracted_services(*, on: dt.date, plan: Organization | None = None) -> list[ContractedService]:
    """Rule N8: the distinct (organization, service, county) rows of executed contracts in force on `on`,
    optionally under one plan; several plans contracting the same program count once. One query."""
    rows = (
        active_contracted_services(on=on, plan=plan)
        .order_by()
        .values_list("organization_id", "service_id", "county_id")
        .distinct()
    )
    return [ContractedService(*r) for r in rows]
