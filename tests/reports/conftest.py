"""The reports cast: a small, known October 2026 for provider A under plan 1, on top of the referral cast
(`rw`, tests/referrals/conftest.py) and the frozen clock (Monday 2026-11-23, so "last month" is October).

Referrals are made through `referral_create` (tests/referrals/factories.py) and then placed on known dates;
outreach, enrollments, authorization requests and claims are written straight into their tables, the way
tests/claims/conftest.py writes authorizations (the owning apps' own tests prove how each is made). Every
figure the tests expect is derived in the comments below.

Provider A (plan 1), referrals:
  R1 navigation, received Oct 5 10:00: attempts Oct 6 10:00 phone no answer, Oct 7 text left message,
     Oct 8 in person reached; eligible; enrolled Oct 9 (E1).
  R2 meals, received Oct 12 10:00: attempt Oct 14 10:00 phone declined; closed Oct 14 12:00 no longer
     interested (outreach ended: declined).
  R3 navigation, received Oct 20: no attempt, pending.
  R4 recuperative care, received Sep 10 (its 30-day window ends Oct 10): 5 attempts in 4 ways from Sep 11
     to Oct 2; closed Oct 15 unable to reach (outreach ended: unreachable).
  R5 navigation, received Sep 20 (window ends Oct 20): one attempt Oct 25, too late.
  R6 navigation, received Sep 25, withdrawn Sep 26 without outreach (needs none: not in the O3 cohort).
Not provider A's plan-1 October: R7 (provider B, Oct 10), R8 (provider A under plan 2, Oct 10).
Enrollments at A: E1 (Oct 9, R1); E2 recuperative care of member A without a referral (eligible with plan
  1) Aug 1 to Oct 20; E3 of the plan-2 member (not plan 1's), Oct 3.
Authorization requests served by A under plan 1 (Q) and authorizations (AU):
  Q1 received Oct 2, approved Oct 6 on time (AU1 Oct 6 - Dec 31); Q2 received Oct 5, denied Oct 20 late;
  Q3 received Oct 10, partially approved Oct 12 on time (AU3 Sep 1 - Oct 31); Q4 received Oct 28, open;
  Q5 received Sep 28, approved Nov 3 (AU5 from Nov 3); Q6 received Oct 15, presumptive, approved at once
  (AU6 for member B, Oct 15 - Oct 30); Q7 received Oct 16, withdrawn Oct 17; Q8 served by provider B.
Service record without authorization: Oct 12, 3 units.
Claims billed by A to plan 1: C1 received Oct 3 (line 1 paid $125.00, line 2 denied, $20.00 charged),
  paid Oct 20, due Dec 5; C2 received Oct 25 (one pended line, $125.00); C3 received Sep 10, paid Oct 15
  ($250.00), due Oct 10 (late); C4 received Oct 5 but void; C5 billed by provider B.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from types import SimpleNamespace

import pytest

from cshub.accounts.models import OrganizationContact
from cshub.authorizations.models import Authorization, AuthorizationRequest, ServiceRecord
from cshub.catalog.models import Service
from cshub.claims.models import Claim, ClaimLine
from cshub.contracts.models import Contract, ContractService
from cshub.core import clock
from cshub.core.models import County
from cshub.referrals.models import Enrollment, OutreachAttempt, Referral
from tests.referrals.conftest import rw  # noqa: F401  (the referral cast)
from tests.referrals.factories import make_referral

NAV = "housing_transition_navigation"
MEALS = "medically_tailored_meals"
RECUP = "recuperative_care"

_numbers = count(1)


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    """Report PDFs and CSVs go to a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    return tmp_path / "files"


def at(month: int, day: int, hour: int = 10, year: int = 2026) -> dt.datetime:
    """An instant in Pacific time."""
    return dt.datetime(year, month, day, hour, tzinfo=clock.PACIFIC)


def contract(provider, plan, *, start=dt.date(2026, 1, 1), service=NAV):
    """An executed contract (written directly: the contracts app owns its rules)."""
    k = Contract.objects.create(
        number=f"K-R-{next(_numbers):05d}",
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
        county=County.objects.get(name="Sacramento"),
    )
    return k


def referral(w, *, received, service=NAV, provider="A", member=None, status=None, **fields):
    """A referral made through `referral_create`, then placed on its date (and status) for the report."""
    r = make_referral(w, service_key=service, provider=provider, member=member)
    values = {"received_at": received, "status_changed_at": received, **fields}
    if status:
        values["status"] = status
    Referral.objects.filter(pk=r.pk).update(**values)
    r.refresh_from_db()
    return r


def attempt(r, when, modality="phone", outcome="no_answer"):
    return OutreachAttempt.objects.create(referral=r, attempted_at=when, modality=modality, outcome=outcome)


def request(
    w, *, received, status="received", decided=None, on_time=None, provider=None, member=None, **extra
):
    n = next(_numbers)
    provider = provider or w.provider_a
    service = extra.pop("service", w.nav)
    return AuthorizationRequest.objects.create(
        number=f"A-2026-9{n:05d}",
        plan=extra.pop("plan", w.plan),
        member=member or w.member_a,
        service=service,
        code=service.codes.order_by("hcpcs", "modifier").first(),
        channel="portal",
        requesting_organization=provider,
        requesting_npi=provider.npi,
        servicing_organization=provider,
        servicing_npi=provider.npi,
        diagnosis_codes=["Z59.01"],
        units=30,
        start_date=dt.date(2026, 10, 1),
        end_date=dt.date(2026, 12, 31),
        urgency="routine",
        received_at=received,
        due_at=received + dt.timedelta(days=7),
        status=status,
        decided_at=decided,
        decided_on_time=on_time,
        **extra,
    )


def authorization(w, req, *, start, end, member=None):
    n = next(_numbers)
    return Authorization.objects.create(
        number=f"AU-2026-9{n:05d}",
        request=req,
        member=member or req.member,
        service=req.service,
        code=req.code,
        servicing_organization=req.servicing_organization,
        plan=req.plan,
        units=30,
        start_date=start,
        end_date=end,
    )


def claim(w, *, received_on, lines, provider=None, status="adjudicated", paid_on=None, due=None, paid=None):
    n = next(_numbers)
    provider = provider or w.provider_a
    c = Claim.objects.create(
        number=f"C-2026-9{n:06d}",
        plan=w.plan,
        source="invoice_web",
        channel="web",
        billing_organization=provider,
        billing_npi=provider.npi,
        member=w.member_a,
        member_id_billed=w.member_a.cin,
        member_name_billed="Ana Alvarez",
        patient_control_number=f"INV-{n}",
        total_charge=sum((Decimal(charge) for _, charge, _ in lines), Decimal("0")),
        paid_total=Decimal(paid or "0"),
        diagnosis_codes=["Z59.01"],
        received_at=at(received_on.month, received_on.day),
        received_on=received_on,
        payment_due_on=due or received_on + dt.timedelta(days=63),
        status=status,
        paid_on=paid_on,
    )
    code = w.nav.codes.order_by("hcpcs", "modifier").first()
    for i, (line_status, charge, line_paid) in enumerate(lines, start=1):
        ClaimLine.objects.create(
            claim=c,
            number=i,
            hcpcs=code.hcpcs,
            modifiers=[code.modifier],
            code=code,
            service=w.nav,
            service_from=received_on - dt.timedelta(days=2),
            service_to=received_on - dt.timedelta(days=2),
            units=Decimal("1"),
            charge=Decimal(charge),
            paid_amount=Decimal(line_paid),
            status=line_status,
        )
    return c


@pytest.fixture
def uw(rw):  # noqa: F811
    """The known October (see the module docstring)."""
    w = rw
    w.nav = Service.objects.get(key=NAV)
    w.meals = Service.objects.get(key=MEALS)
    w.recup = Service.objects.get(key=RECUP)
    w.contract_a = contract(w.provider_a, w.plan)
    w.contract_b = contract(w.provider_b, w.plan, service=MEALS)
    w.director = w.plan_users["reporting_director"]
    w.supervisor = w.plan_users["reporting_supervisor"]

    # Referrals and outreach.
    r1 = referral(w, received=at(10, 5), status="eligible")
    attempt(r1, at(10, 6), "phone", "no_answer")
    attempt(r1, at(10, 7), "text", "left_message")
    attempt(r1, at(10, 8), "in_person", "reached")
    r2 = referral(
        w,
        received=at(10, 12),
        service=MEALS,
        status="no_longer_interested",
        closed_at=at(10, 14, 12),
        outreach_outcome="declined",
        outreach_ended_at=at(10, 14, 12),
    )
    attempt(r2, at(10, 14), "phone", "declined")
    r3 = referral(w, received=at(10, 20))
    r4 = referral(
        w,
        received=at(9, 10),
        service=RECUP,
        status="unable_to_reach",
        closed_at=at(10, 15),
        outreach_outcome="unreachable",
        outreach_ended_at=at(10, 15),
    )
    for when, modality in (
        (at(9, 11), "phone"),
        (at(9, 15), "text"),
        (at(9, 20), "email"),
        (at(9, 25), "in_person"),
        (at(10, 2), "phone"),
    ):
        attempt(r4, when, modality, "no_answer" if modality != "in_person" else "not_found")
    r5 = referral(w, received=at(9, 20), status="accepted")
    attempt(r5, at(10, 25), "phone", "no_answer")
    r6 = referral(w, received=at(9, 25), status="closed", closed_at=at(9, 26))
    r7 = referral(w, received=at(10, 10), service=MEALS, provider="B", member=w.member_b)
    r8 = referral(w, received=at(10, 10), plan_id=w.plan2.pk)
    w.referrals = SimpleNamespace(r1=r1, r2=r2, r3=r3, r4=r4, r5=r5, r6=r6, r7=r7, r8=r8)

    # Enrollments.
    Enrollment.objects.create(
        member=w.member_a,
        organization=w.provider_a,
        service=w.nav,
        referral=r1,
        enrolled_on=dt.date(2026, 10, 9),
    )
    Enrollment.objects.create(
        member=w.member_a,
        organization=w.provider_a,
        service=w.recup,
        enrolled_on=dt.date(2026, 8, 1),
        ended_on=dt.date(2026, 10, 20),
    )
    Enrollment.objects.create(
        member=w.member_plan2, organization=w.provider_a, service=w.meals, enrolled_on=dt.date(2026, 10, 3)
    )

    # Authorization requests and authorizations.
    q1 = request(w, received=at(10, 2), status="approved", decided=at(10, 6), on_time=True)
    authorization(w, q1, start=dt.date(2026, 10, 6), end=dt.date(2026, 12, 31))
    request(w, received=at(10, 5), status="denied", decided=at(10, 20), on_time=False)
    q3 = request(w, received=at(10, 10), status="partially_approved", decided=at(10, 12), on_time=True)
    authorization(w, q3, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 31))
    request(w, received=at(10, 28))
    q5 = request(w, received=at(9, 28), status="approved", decided=at(11, 3), on_time=True)
    authorization(w, q5, start=dt.date(2026, 11, 3), end=dt.date(2027, 1, 31))
    q6 = request(
        w,
        received=at(10, 15),
        status="approved",
        decided=at(10, 15),
        on_time=True,
        presumptive=True,
        member=w.member_b,
    )
    authorization(w, q6, start=dt.date(2026, 10, 15), end=dt.date(2026, 10, 30))
    request(w, received=at(10, 16), status="withdrawn", decided=at(10, 17), on_time=True)
    request(w, received=at(10, 3), status="approved", decided=at(10, 4), on_time=True, provider=w.provider_b)
    ServiceRecord.objects.create(
        member=w.member_a,
        service=w.nav,
        code=w.nav.codes.order_by("hcpcs", "modifier").first(),
        organization=w.provider_a,
        plan=w.plan,
        service_date=dt.date(2026, 10, 12),
        units=3,
    )

    # Claims and invoices.
    claim(
        w,
        received_on=dt.date(2026, 10, 3),
        lines=[("paid", "125.00", "125.00"), ("denied", "20.00", "0")],
        paid_on=dt.date(2026, 10, 20),
        due=dt.date(2026, 12, 5),
        paid="125.00",
        status="remitted",
    )
    claim(w, received_on=dt.date(2026, 10, 25), lines=[("pended", "125.00", "0")], status="pended")
    claim(
        w,
        received_on=dt.date(2026, 9, 10),
        lines=[("paid", "250.00", "250.00")],
        paid_on=dt.date(2026, 10, 15),
        due=dt.date(2026, 10, 10),
        paid="250.00",
        status="remitted",
    )
    claim(w, received_on=dt.date(2026, 10, 5), lines=[("void", "125.00", "0")], status="void")
    claim(w, received_on=dt.date(2026, 10, 5), lines=[("paid", "20.00", "20.00")], provider=w.provider_b)

    # Provider A's point of contact without a login (rule D6) and a data contact who is also alice.
    OrganizationContact.objects.create(
        organization=w.provider_a,
        kind=OrganizationContact.Kind.POINT_OF_CONTACT,
        name="Pat Contact",
        email="pat.contact@a.example",
    )
    OrganizationContact.objects.create(
        organization=w.provider_a, kind=OrganizationContact.Kind.DATA, name="Alice", email="ALICE@a.example"
    )
    return w
