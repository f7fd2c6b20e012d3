"""The claims cast, on top of the contracts cast (`cw`, tests/contracts/conftest.py), on the frozen clock
(Monday 2026-11-23):

- provider A (NPI on file) holds an executed contract with the plan from 2026-01-01 for housing transition
  navigation and medically tailored meals in Sacramento, with rates of $125.00 (navigation) and $20.00
  (meals); member A and member B live in Sacramento;
- `clw.billing`: provider A's billing clerk (rule C4: an invoice-portal account is a billing user);
- `authorize(clw, ...)` records an authorization of member A for navigation through the ORM (the
  authorizations app's own tests prove how one is decided);
- `claim_input(clw, ...)` is a clean one-line navigation claim for member A.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal

import pytest

from cshub.accounts.roles import Role
from cshub.authorizations.models import Authorization, AuthorizationRequest, RequestStatus
from cshub.claims.services import ClaimInput, LineInput
from tests.contracts.conftest import add_fee, cw, draft, execute, file_storage, ready  # noqa: F401
from tests.factories import UserFactory

CONTRACT_START = date(2026, 1, 1)
SERVICE_DAY = date(2026, 11, 2)

_numbers = iter(range(1, 100_000))


@pytest.fixture
def clw(cw):  # noqa: F811
    for member in (cw.member_a, cw.member_b):
        member.county = cw.sac
        member.save(update_fields=["county"])
    ready(cw)
    contract = draft(cw, start=CONTRACT_START, rows=[(cw.nav, cw.sac), (cw.meals, cw.sac)], fees=False)
    add_fee(cw, contract, code=cw.nav_code, rate="125.00", unit="per month")
    add_fee(cw, contract, code=cw.meals_code, rate="20.00", unit="per meal")
    cw.contract = execute(cw, contract)
    cw.billing = UserFactory(
        email="billing@a.example", organization=cw.provider_a, roles=[Role.PROVIDER_BILLING]
    )
    cw.processor = cw.plan_users[Role.CLAIMS_PROCESSOR]
    return cw


def authorize(
    clw,
    *,
    member=None,
    service=None,
    code=None,
    units=10,
    start=date(2026, 10, 1),
    end=date(2027, 3, 31),
    organization=None,
    status=RequestStatus.APPROVED,
):
    """An authorization request (and, unless still open, its authorization) made straight in the tables."""
    n = next(_numbers)
    member = member or clw.member_a
    service = service or clw.nav
    code = code or clw.nav_code
    org = organization or clw.provider_a
    request = AuthorizationRequest.objects.create(
        number=f"A-2026-{n:06d}",
        plan=clw.plan,
        member=member,
        service=service,
        code=code,
        channel="portal",
        requesting_organization=org,
        requesting_npi=org.npi,
        servicing_organization=org,
        servicing_npi=org.npi,
        diagnosis_codes=["Z59.01"],
        units=units,
        start_date=start,
        end_date=end,
        urgency="routine",
        received_at=dt.datetime(2026, 9, 30, 17, tzinfo=dt.UTC),
        due_at=dt.datetime(2026, 10, 7, 17, tzinfo=dt.UTC),
        status=status,
    )
    if status not in {RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED}:
        return request
    return Authorization.objects.create(
        number=f"AU-2026-{n:06d}",
        request=request,
        member=member,
        service=service,
        code=code,
        servicing_organization=org,
        plan=clw.plan,
        units=units,
        start_date=start,
        end_date=end,
    )


def claim_input(clw, *, member_id=None, lines=None, pcn=None, **overrides) -> ClaimInput:
    values = {
        "billing_npi": clw.provider_a.npi,
        "billing_name": clw.provider_a.name,
        "member_id": member_id or clw.member_a.cin,
        "patient_control_number": pcn or f"INV-{next(_numbers)}",
        "diagnosis_codes": ["Z59.01"],
        "place_of_service": "12",
        "lines": lines or [line(clw)],
    }
    values.update(overrides)
    return ClaimInput(**values)


def line(clw, *, code=None, units="1", charge="125.00", start=SERVICE_DAY, end=None, auth="") -> LineInput:
    code = code or clw.nav_code
    return LineInput(
        hcpcs=code.hcpcs,
        modifiers=[code.modifier],
        service_from=start,
        service_to=end or start,
        units=Decimal(units),
        charge=Decimal(charge),
        authorization_number=auth,
    )
