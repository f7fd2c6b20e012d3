"""The authorization cast, on top of the referral cast (`rw`, tests/referrals/conftest.py):

- provider A (NPI set) has enrolled member A in housing transition navigation (rule A2) and in recuperative
  care; member B is not enrolled anywhere;
- `aw.bob` (care coordinator at A) requests; `aw.um` (UM reviewer) and `aw.um2` review;
- `aw.dana` is a hospital discharge planner (rule A5).
"""

from __future__ import annotations

from datetime import date

import pytest

from cshub.accounts.roles import Role
from cshub.authorizations import services
from cshub.catalog.models import Service
from cshub.core.validators import npi_with_check_digit
from cshub.referrals.models import Enrollment
from tests.factories import UserFactory
from tests.members.factories import pdf_upload
from tests.referrals.conftest import file_storage, rw  # noqa: F401  (fixtures used here)

START = date(2026, 11, 23)  # the frozen clock's Monday (tests/conftest.py)


@pytest.fixture
def aw(rw):  # noqa: F811
    rw.npi_a = npi_with_check_digit("123456789")
    rw.provider_a.npi = rw.npi_a
    rw.provider_a.save(update_fields=["npi"])
    rw.npi_hospital = npi_with_check_digit("223456789")
    rw.hospital.npi = rw.npi_hospital
    rw.hospital.save(update_fields=["npi"])
    for key in ("housing_transition_navigation", "recuperative_care", "housing_deposits"):
        Enrollment.objects.create(
            member=rw.member_a,
            organization=rw.provider_a,
            service=Service.objects.get(key=key),
            enrolled_on=START,
        )
    rw.um2 = UserFactory(email="um2@plan.example", organization=rw.plan, roles=[Role.UM_REVIEWER])
    return rw


def request_input(aw, **overrides) -> services.RequestInput:
    """A complete navigation request for member A from provider A."""
    service_key = overrides.pop("service_key", "housing_transition_navigation")
    service = Service.objects.get(key=service_key)
    code = service.codes.filter(active=True).order_by("hcpcs", "modifier").first()
    values = {
        "member": aw.member_a,
        "service_key": service_key,
        "hcpcs": code.hcpcs,
        "modifier": code.modifier,
        "requesting_npi": aw.npi_a,
        "servicing_npi": aw.npi_a,
        "diagnosis_codes": ["Z59.01"],
        "units": 30,
        "start_date": START,
        "end_date": date(2026, 12, 22),
        "checklist_confirmed": services.required_documents(service, overrides.get("kind", "initial")),
    }
    values.update(overrides)
    return services.RequestInput(**values)


def documents(name: str = "assessment.pdf") -> list[services.DocumentUpload]:
    return [services.DocumentUpload(file=pdf_upload(name))]


def submit(aw, actor=None, channel="portal", docs=None, **overrides):
    return services.request_submit(
        actor=actor or aw.bob,
        channel=channel,
        data=request_input(aw, **overrides),
        documents=documents() if docs is None else docs,
    )
