"""Payment runs (rules C3, C5): adjudicated claims paid per provider with one EFT trace number and one 835
(005010X221A1) each, valid per pyx12, stored, downloadable and placed in the provider's SFTP outbox."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cshub.claims.models import ClaimSource, ClaimStatus, PaymentRun, ReceiptChannel
from cshub.claims.payments import payment_835_bytes, payment_run_create
from cshub.claims.selectors import payment_clock
from cshub.claims.services import claims_receive
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.exchange.folders import organization_folder
from tests.claims.conftest import SERVICE_DAY, authorize, claim_input, line
from tests.claims.x12.test_remit835 import assert_valid, segments


@pytest.fixture
def payable(clw, settings, tmp_path):
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    clw.plan.phone = "9165550100"
    clw.plan.save(update_fields=["phone"])
    authorize(clw, units=10)
    received = claims_receive(
        actor=clw.billing,
        source=ClaimSource.INVOICE_WEB,
        channel=ReceiptChannel.WEB,
        submitter=clw.provider_a,
        inputs=[
            claim_input(clw, lines=[line(clw, units="2", charge="300.00")]),  # paid 250, CO-45 50
            claim_input(clw, member_id="99999999Z"),  # denied CO-31
            claim_input(clw, lines=[line(clw, charge="100.00", start=SERVICE_DAY + timedelta(days=1))]),
        ],
    )
    clw.claims_paid = received.claims
    return clw


def test_c5_a_run_pays_adjudicated_claims_once_with_an_eft_trace_and_a_valid_835(payable):
    clw = payable
    run = payment_run_create(actor=clw.processor, plan=clw.plan, payment_date=date(2026, 11, 25))
    assert (run.claim_count, run.provider_count, run.total_paid) == (3, 1, Decimal("350.00"))
    (payment,) = run.payments.all()
    assert payment.organization == clw.provider_a
    assert payment.amount == Decimal("350.00")
    text = payment_835_bytes(payment).decode()
    assert_valid(text)
    segs = segments(text)
    bpr = next(s for s in segs if s[0] == "BPR")
    trn = next(s for s in segs if s[0] == "TRN")
    assert bpr[2] == "350" and trn[2] == payment.eft_trace_number
    clps = [s for s in segs if s[0] == "CLP"]
    assert sorted(s[2] for s in clps) == ["1", "1", "4"]  # two processed, one denied
    assert any(s[0] == "CAS" and s[1:4] == ["CO", "31", "125"] for s in segs)
    # In the provider's SFTP outbox, and every claim carries its payment date.
    outbox = organization_folder(clw.provider_a) / "outbox"
    assert (outbox / payment.remittance_name).read_bytes().decode() == text
    for claim in clw.claims_paid:
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REMITTED
        assert claim.paid_on == date(2026, 11, 25)
        assert payment_clock(claim).state == "paid"
    # Nothing is paid twice: a second run finds nothing.
    with pytest.raises(DomainError, match="no adjudicated claims"):
        payment_run_create(actor=clw.processor, plan=clw.plan)
    assert PaymentRun.objects.count() == 1


def test_c5_pended_claims_wait_and_a_past_payment_date_is_refused(payable):
    clw = payable
    # Meals have no authorization yet, only a request under review: the line pends.
    authorize(clw, service=clw.meals, code=clw.meals_code, status="in_review")
    pended = claims_receive(
        actor=clw.billing,
        source=ClaimSource.INVOICE_WEB,
        channel=ReceiptChannel.WEB,
        submitter=clw.provider_a,
        inputs=[claim_input(clw, lines=[line(clw, code=clw.meals_code, charge="20.00")])],
    ).claims[0]
    assert pended.status == ClaimStatus.PENDED
    with pytest.raises(DomainError) as exc:
        payment_run_create(actor=clw.processor, plan=clw.plan, payment_date=date(2026, 11, 20))
    assert exc.value.errors[0].field == "payment_date"
    run = payment_run_create(actor=clw.processor, plan=clw.plan)
    assert run.claim_count == 3
    pended.refresh_from_db()
    assert pended.status == ClaimStatus.PENDED and pended.payment is None


def test_c5_only_the_plans_claims_processors_run_payments(payable):
    with pytest.raises(PermissionDeniedError):
        payment_run_create(actor=payable.alice, plan=payable.plan)
    with pytest.raises(PermissionDeniedError):
        payment_run_create(actor=payable.other_plan_user, plan=payable.plan)
