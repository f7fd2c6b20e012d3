"""Helpers of the claims page tests: claims made through `claims_receive` as every door makes them.

`paid_claim` bills member A (authorized for navigation); `pended_claim` bills member B, whose authorization
request is still in review, so the line pends (rule C5: a claims processor works it). Each call bills a new
date of service so no line is a duplicate of another."""

from __future__ import annotations

from datetime import timedelta

from cshub.claims.models import Claim, ClaimSource, ReceiptChannel
from cshub.claims.services import claims_receive
from tests.claims.conftest import SERVICE_DAY, authorize, claim_input, line

_days = iter(range(10_000))


def next_day():
    """A new date of service in the authorization's span and before today (2026-10-03 .. 2026-11-22)."""
    return SERVICE_DAY + timedelta(days=20 - next(_days) % 50)


def receive(clw, *inputs, actor=None, source=ClaimSource.INVOICE_WEB, channel=ReceiptChannel.WEB):
    result = claims_receive(
        actor=actor or clw.billing,
        inputs=list(inputs),
        source=source,
        channel=channel,
        submitter=clw.provider_a,
    )
    return result.claims


def paid_claim(clw, **overrides) -> Claim:
    """A navigation invoice of member A, authorized and paid $250.00 of $300.00 (CO-45 $50.00)."""
    if not getattr(clw, "_authorized", False):
        authorize(clw, units=1000)
        clw._authorized = True
    values = {"lines": [line(clw, units="2", charge="300.00", start=next_day())]}
    values.update(overrides)
    (claim,) = receive(clw, claim_input(clw, **values))
    claim.refresh_from_db()
    return claim


def pended_claim(clw, **overrides) -> Claim:
    """A navigation invoice of member B whose line pends: B's authorization request is still in review."""
    if not getattr(clw, "_in_review", False):
        authorize(clw, member=clw.member_b, status="in_review")
        clw._in_review = True
    values = {"member_id": clw.member_b.cin, "lines": [line(clw, start=next_day())]}
    values.update(overrides)
    (claim,) = receive(clw, claim_input(clw, **values))
    claim.refresh_from_db()
    assert claim.status == "pended", claim.lines.get().explanation
    return claim
