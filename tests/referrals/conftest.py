"""The referral cast, on top of the shared `world` (tests/conftest.py):

- provider A takes referrals for housing navigation, recuperative care and medically tailored meals in
  Sacramento and Yolo counties; provider B for medically tailored meals only;
- `rw.dana`: a discharge planner at a hospital (a referrer); `rw.erin`: staff of an ECM provider;
- `rw.intake_a` is provider A's intake, `rw.um`: the plan's UM reviewer, who assigns referrals.
"""

from __future__ import annotations

import pytest

from cshub.accounts.roles import OrganizationKind, Role
from cshub.catalog.models import Service
from cshub.catalog.services import catalog_load
from cshub.core.models import County
from cshub.referrals.models import ProviderIntake
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    """Faxes, documents and letters go to a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    return tmp_path / "files"


@pytest.fixture
def rw(world, frozen_clock):
    catalog_load()
    counties = list(County.objects.filter(name__in=["Sacramento", "Yolo"]))
    intake_a = ProviderIntake.objects.create(organization=world.provider_a, accepting=True)
    intake_a.services.set(
        Service.objects.filter(
            key__in=["housing_transition_navigation", "recuperative_care", "medically_tailored_meals"]
        )
    )
    intake_a.counties.set(counties)
    intake_b = ProviderIntake.objects.create(organization=world.provider_b, accepting=True)
    intake_b.services.set(Service.objects.filter(key="medically_tailored_meals"))
    world.intake_a = intake_a
    world.intake_b = intake_b
    world.hospital = OrganizationFactory(kind=OrganizationKind.HOSPITAL, name="Mercy General")
    world.dana = UserFactory(
        email="dana@mercy.example", organization=world.hospital, roles=[Role.DISCHARGE_PLANNER]
    )
    world.ecm_org = OrganizationFactory(kind=OrganizationKind.ECM_PROVIDER, name="Valley ECM")
    world.erin = UserFactory(email="erin@ecm.example", organization=world.ecm_org, roles=[Role.ECM_STAFF])
    world.um = world.plan_users[Role.UM_REVIEWER]
    return world
