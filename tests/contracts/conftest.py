"""The contracts cast, on top of the shared `world` (tests/conftest.py), on the frozen clock (Monday
2026-11-23):

- `cw.net`: the plan's network & contracting staff (manages contracts), `cw.claims`: a claims processor;
- `cw.nav` / `cw.meals`: the housing navigation and medically tailored meals services; `cw.sac`, `cw.yolo`:
  Sacramento and Yolo counties; `cw.nav_code`: navigation's first active code;
- `approve_certification(cw, org)` certifies an organization through the network app's own tables,
  `attest(cw, org)` records onboarding and the attestation through this app's services.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal

import pytest

from cshub.accounts.roles import Role
from cshub.catalog.models import Service
from cshub.catalog.services import catalog_load
from cshub.contracts import services
from cshub.core.models import County
from cshub.network.models import Application, Decision

START = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    return tmp_path / "files"


@pytest.fixture
def cw(world, frozen_clock):
    catalog_load()
    world.net = world.plan_users[Role.NETWORK]
    world.claims = world.plan_users[Role.CLAIMS_PROCESSOR]
    world.nav = Service.objects.get(key="housing_transition_navigation")
    world.meals = Service.objects.get(key="medically_tailored_meals")
    world.nav_code = world.nav.codes.filter(active=True).order_by("hcpcs", "modifier").first()
    world.meals_code = world.meals.codes.filter(active=True).order_by("hcpcs", "modifier").first()
    world.sac = County.objects.get(name="Sacramento")
    world.yolo = County.objects.get(name="Yolo")
    world.frozen = frozen_clock
    return world


_apps = iter(range(1, 10_000))


def approve_certification(cw, org, plan=None):
    """Rule N4 through the network app's tables: an application decided 'approve for contracting'."""
    app = Application.objects.create(
        number=f"CA-C-{next(_apps)}",
        kind=Application.Kind.CERTIFICATION,
        plan=plan or cw.plan,
        organization=org,
        status=Application.Status.UNDER_REVIEW,
        status_changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    Decision.objects.create(
        application=app,
        review_round=1,
        outcome=Decision.Outcome.APPROVE,
        decided_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    )
    return app


def onboard(cw, person, on=date(2026, 11, 2)):
    return services.completion_record(
        actor=person, person=person, course_key="cs_onboarding", completed_on=on
    )


def attest(cw, leader, plan=None):
    onboard(cw, leader)
    return services.attestation_record(actor=leader, plan=plan or cw.plan, course_keys=["cs_onboarding"])


def draft(cw, org=None, start=START, end=None, rows=None, fees=True):
    """A draft for provider A (default) with navigation in Sacramento and Yolo and a rate for it."""
    contract = services.contract_create(
        actor=cw.net, organization=org or cw.provider_a, start_date=start, end_date=end
    )
    pairs = rows if rows is not None else [(cw.nav, cw.sac), (cw.nav, cw.yolo)]
    contract = services.contract_rows_set(
        actor=cw.net, contract=contract, pairs=pairs, expected_version=contract.version
    )
    if fees and pairs:
        add_fee(cw, contract)
        contract.refresh_from_db()
    return contract


def add_fee(cw, contract, code=None, rate="125.00", start=None, end=None, unit=""):
    contract.refresh_from_db()
    return services.fee_row_add(
        actor=cw.net,
        contract=contract,
        data=services.FeeInput(
            code=(code or cw.nav_code).code,
            rate=Decimal(rate) if isinstance(rate, str) and rate[:1].isdigit() else rate,
            effective_from=start or contract.start_date,
            effective_to=end,
            unit=unit,
        ),
        expected_version=contract.version,
    )


def ready(cw, org=None):
    """Certified and attested: the contract can be executed (rules N4, N7)."""
    org = org or cw.provider_a
    approve_certification(cw, org)
    leader = cw.alice if org == cw.provider_a else cw.charlie
    attest(cw, leader)


def execute(cw, contract):
    contract.refresh_from_db()
    return services.contract_execute(actor=cw.net, contract=contract, expected_version=contract.version)
