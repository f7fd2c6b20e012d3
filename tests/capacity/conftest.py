from __future__ import annotations

from datetime import date
from itertools import count

import pytest

from cshub.capacity import services
from cshub.capacity.schedule import Quarter
from cshub.catalog.services import catalog_load

NAV = "housing_transition_navigation"
DEPOSITS = "housing_deposits"


@pytest.fixture
def catalog(db):
    catalog_load()


def report_input(
    *, able: int = 20, serving: int = 12, county: str = "Sacramento", service: str = NAV, **extra
):
    return services.ReportInput(
        current_caseload=extra.get("caseload", serving),
        notes=extra.get("notes", ""),
        staff=[
            services.StaffInput(role="care_coordinator", headcount=3, fte="2.5"),
            services.StaffInput(role="program_director", headcount=1, fte="1"),
        ],
        capacity=[
            services.CapacityInput(
                service=service, county=county, members_able_to_serve=able, members_serving=serving
            )
        ],
    )


def submitted(user, plan, quarter: Quarter, **kwargs):
    report = services.capacity_report_create(
        actor=user, plan=plan, quarter=quarter, data=report_input(**kwargs)
    )
    return services.capacity_report_submit(actor=user, report=report)


_numbers = count(1)


def contract(
    provider, plan, *, start: date = date(2026, 1, 1), service: str = NAV, county: str = "Sacramento"
):
    """An executed contract in force (test data written directly: the contracts app owns its rules)."""
    from cshub.catalog.models import Service
    from cshub.contracts.models import Contract, ContractService
    from cshub.core.models import County

    k = Contract.objects.create(
        number=f"K-T-{next(_numbers):05d}",
        plan=plan,
        organization=provider,
        status="executed",
        start_date=start,
    )
    ContractService.objects.create(
        contract=k,
        plan=plan,
        organization=provider,
        service=Service.objects.get(key=service),
        county=County.objects.get(name=county),
    )
    return k
