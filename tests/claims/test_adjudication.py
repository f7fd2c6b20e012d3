"""Line-by-line adjudication (rules C1, C2, C5), through `claims_receive` as every door calls it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cshub.claims.models import ClaimOutcome, ClaimSource, ClaimStatus, LineStatus, ReceiptChannel
from cshub.claims.services import claims_receive
from tests.claims.conftest import SERVICE_DAY, authorize, claim_input, line


def receive(clw, *inputs, actor=None):
    result = claims_receive(
        actor=actor or clw.billing,
        inputs=list(inputs),
        source=ClaimSource.INVOICE_WEB,
        channel=ReceiptChannel.WEB,
        submitter=clw.provider_a,
    )
    return result.claims


def only_line(claim):
    return claim.lines.get()


def codes(line):
    return [(a.group_code, a.reason_code, a.remark_code, a.amount) for a in line.adjustments.all()]


def test_c1_c5_authorized_contracted_line_is_paid_at_the_lower_of_billed_and_allowed(clw):
    auth = authorize(clw, units=10)
    (claim,) = receive(clw, claim_input(clw, lines=[line(clw, units="2", charge="300.00")]))
    ln = only_line(claim)
    assert ln.status == LineStatus.PAID
    assert ln.authorization == auth
    assert ln.units_drawn == Decimal("2")
    assert ln.allowed_amount == ln.paid_amount == Decimal("250.00")
    assert codes(ln) == [("CO", "45", "", Decimal("50.00"))]
    assert "contract pays $125.00 per month for 2 units" in ln.explanation
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ADJUDICATED
    assert claim.outcome == ClaimOutcome.PARTIALLY_PAID
    assert claim.paid_total == Decimal("250.00")


def test_c1_billed_below_the_rate_is_paid_as_billed(clw):
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw, lines=[line(clw, charge="100.00")]))
    ln = only_line(claim)
    assert (ln.status, ln.paid_amount, codes(ln)) == (LineStatus.PAID, Decimal("100.00"), [])
    claim.refresh_from_db()
    assert claim.outcome == ClaimOutcome.PAID


def test_c1_unknown_member_is_denied_co31(clw):
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw, member_id="99999999Z"))
    ln = only_line(claim)
    assert ln.status == LineStatus.DENIED
    assert codes(ln) == [("CO", "31", "", Decimal("125.00"))]
    assert "99999999Z" in ln.explanation


def test_c1_member_not_enrolled_on_the_date_of_service_is_denied(clw):
    span = clw.member_a.eligibility_spans.get()
    span.start_date = date(2026, 11, 10)
    span.save()
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw))
    ln = only_line(claim)
    assert ln.reason_key == "member_not_yet_eligible"
    assert codes(ln)[0][:3] == ("CO", "26", "N30")
    assert "11/10/2026" in ln.explanation


def test_c1_no_authorization_is_denied_co197_and_an_open_request_pends(clw):
    (claim,) = receive(clw, claim_input(clw))
    assert only_line(claim).reason_key == "authorization_missing"
    assert codes(only_line(claim))[0][:3] == ("CO", "197", "N54")
    authorize(clw, status="in_review")
    (claim2,) = receive(clw, claim_input(clw, lines=[line(clw, start=SERVICE_DAY - timedelta(days=1))]))
    assert only_line(claim2).status == LineStatus.PENDED
    claim2.refresh_from_db()
    assert claim2.status == ClaimStatus.PENDED


def test_c1_units_are_drawn_down_and_the_excess_is_adjusted_co198(clw):
    auth = authorize(clw, units=3)
    (first,) = receive(clw, claim_input(clw, lines=[line(clw, units="2", charge="250.00")]))
    assert only_line(first).units_drawn == 2
    (second,) = receive(
        clw,
        claim_input(
            clw, lines=[line(clw, units="2", charge="250.00", start=SERVICE_DAY + timedelta(days=1))]
        ),
    )
    ln = only_line(second)
    assert ln.status == LineStatus.PAID
    assert ln.units_drawn == 1
    assert ln.paid_amount == Decimal("125.00")
    assert ("CO", "198", "N54", Decimal("125.00")) in codes(ln)
    (third,) = receive(clw, claim_input(clw, lines=[line(clw, start=SERVICE_DAY + timedelta(days=2))]))
    assert only_line(third).reason_key == "authorization_used_up"
    assert auth.number in only_line(third).explanation


def test_c2_received_more_than_180_days_after_the_date_of_service_is_denied_co29(clw):
    authorize(clw, start=date(2026, 1, 1))
    old = date(2026, 5, 1)  # 206 days before 2026-11-23
    (claim,) = receive(clw, claim_input(clw, lines=[line(clw, start=old)]))
    ln = only_line(claim)
    assert ln.reason_key == "timely_filing"
    assert codes(ln)[0][:2] == ("CO", "29")
    assert "206 days" in ln.explanation


def test_c1_duplicate_line_is_denied_co18_even_within_one_batch(clw):
    authorize(clw)
    first, second = receive(clw, claim_input(clw), claim_input(clw))
    assert only_line(first).status == LineStatus.PAID
    assert only_line(second).reason_key == "duplicate"
    assert first.number in only_line(second).explanation


def test_c1_not_contracted_for_the_county_is_denied_b7(clw):
    clw.member_a.county = clw.yolo
    clw.member_a.save()
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw))
    assert only_line(claim).reason_key == "not_contracted"
    assert "Yolo" in only_line(claim).explanation


def test_c1_code_that_is_not_a_community_support_is_denied(clw):
    authorize(clw)
    bad = line(clw)
    bad.hcpcs, bad.modifiers = "H0043", ["ZZ"]
    (claim,) = receive(clw, claim_input(clw, lines=[bad]))
    assert only_line(claim).reason_key == "code_invalid"
    assert codes(only_line(claim))[0][:3] == ("CO", "4", "N56")


def test_c5_payment_deadline_is_45_business_days_from_the_receipt_stamp(clw):
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw))
    # Received Monday 2026-11-23: weekends, Thanksgiving and the day after, Christmas, New Year's Day and
    # Martin Luther King Jr. Day are skipped; the 45th business day is Monday 2027-02-01.
    assert claim.received_on == date(2026, 11, 23)
    assert claim.payment_due_on == date(2027, 2, 1)
