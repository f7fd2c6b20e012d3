"""The directory cast, on top of the shared `world` (tests/conftest.py), on the frozen Monday 2026-11-23:

- provider A (alice CEO, bob care coordinator): an executed contract with plan 1 for housing transition
  navigation in Sacramento and Yolo and recuperative care in Sacramento; its referral intake accepts
  housing navigation in every county;
- provider B (charlie CEO): an executed contract with plan 2 for medically tailored meals in Yolo; its
  intake is switched off;
- providers with a draft, a terminated and an expired contract, which the directory must not show.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from cshub.accounts.roles import Role
from cshub.catalog.models import Service
from cshub.catalog.services import catalog_load
from cshub.contracts.models import Contract, ContractService, ContractStatus
from cshub.core.models import County
from cshub.referrals.models import ProviderIntake
from tests.factories import OrganizationFactory, UserFactory

HOUSING = "housing_transition_navigation"
RECUP = "recuperative_care"
MEALS = "medically_tailored_meals"
_numbers = itertools.count(1)


def make_contract(
    *, plan, organization, rows: list[tuple[str, str]], status=ContractStatus.EXECUTED, **dates
) -> Contract:
    contract = Contract.objects.create(
        number=f"K-TEST-{next(_numbers):05d}",
        plan=plan,
        organization=organization,
        status=status,
        start_date=dates.pop("start_date", dt.date(2026, 1, 1)),
        **dates,
    )
    for key, county in rows:
        ContractService.objects.create(
            contract=contract,
            plan=plan,
            organization=organization,
            service=Service.objects.get(key=key),
            county=County.objects.get(name=county),
        )
    return contract


@pytest.fixture
def dw(world, frozen_clock):
    catalog_load()
    w = world
    make_contract(
        plan=w.plan,
        organization=w.provider_a,
        rows=[(HOUSING, "Sacramento"), (HOUSING, "Yolo"), (RECUP, "Sacramento")],
    )
    make_contract(plan=w.plan2, organization=w.provider_b, rows=[(MEALS, "Yolo")])
    w.draft_org = OrganizationFactory(name="Draft Housing Co")
    make_contract(
        plan=w.plan, organization=w.draft_org, rows=[(HOUSING, "Sacramento")], status=ContractStatus.DRAFT
    )
    w.terminated_org = OrganizationFactory(name="Terminated Meals Co")
    make_contract(
        plan=w.plan,
        organization=w.terminated_org,
        rows=[(MEALS, "Yolo")],
        status=ContractStatus.TERMINATED,
        terminated_on=dt.date(2026, 6, 30),
    )
    w.expired_org = OrganizationFactory(name="Expired Respite Co")
    make_contract(
        plan=w.plan,
        organization=w.expired_org,
        rows=[(RECUP, "Yolo")],
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
    )
    intake_a = ProviderIntake.objects.create(
        organization=w.provider_a, accepting=True, intake_phone="9165550100"
    )
    intake_a.services.set(Service.objects.filter(key=HOUSING))
    ProviderIntake.objects.create(organization=w.provider_b, accepting=False).services.set(
        Service.objects.filter(key=MEALS)
    )
    w.intake_a = intake_a
    w.pm_a = UserFactory(email="pm@a.example", organization=w.provider_a, roles=[Role.CS_PROGRAM_MANAGER])
    w.network = w.plan_users[Role.NETWORK]
    return w
