"""Synthetic claims of `cshub seed` (cshub/devtools/seed_claims.py): made through the claims services, every
status, outcome and door present, the payment run balanced with its 835s in the providers' outboxes, unpaid
claims at risk and overdue, the demo provider's billing login sees work in every state, and `--reset`
removes it all with the stored files.

Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind
from cshub.authorizations.models import Authorization
from cshub.catalog.services import catalog_load
from cshub.claims.models import (
    Claim,
    ClaimFile,
    ClaimLine,
    ClaimOutcome,
    ClaimSource,
    ClaimStatus,
    PaymentRun,
    ProviderPayment,
)
from cshub.claims.payments import payment_835_bytes
from cshub.claims.selectors import aging_counts, claim_queryset_for, payment_clock
from cshub.core import clock
from cshub.core.management.commands.demo import ensure_demo_logins
from cshub.devtools import seed_claims
from cshub.devtools.seed import reset, seed
from cshub.exchange.folders import outbox_dir
from tests.claims.x12.test_remit835 import assert_valid, segments

pytestmark = pytest.mark.django_db

CLAIMS = 40


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"


@pytest.fixture
def world():
    catalog_load()
    return seed(members=1500, providers=16, seed=7, referrals=30, authorizations=0, claims=CLAIMS)


def focus() -> Organization:
    return Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("name").first()


def test_every_status_outcome_reason_and_door(world):
    claims = Claim.objects.all()
    assert CLAIMS * 0.8 <= world.claims == claims.count() <= CLAIMS * 1.5
    # RECEIVED lasts only until the adjudication that follows at once
    assert set(claims.values_list("status", flat=True)) == set(ClaimStatus.values) - {ClaimStatus.RECEIVED}
    assert set(claims.values_list("outcome", flat=True)) == set(ClaimOutcome.values)
    outcomes = Counter(claims.values_list("outcome", flat=True))
    assert outcomes[ClaimOutcome.PAID] > len(claims) / 2, "most claims are paid"
    reasons = set(ClaimLine.objects.values_list("reason_key", flat=True))
    assert reasons >= {
        "paid",
        "fee_schedule",  # CO-45
        "authorization_exceeded",  # CO-198
        "authorization_missing",  # CO-197
        "member_unknown",  # CO-31
        "timely_filing",  # CO-29
        "duplicate",  # CO-18
        "authorization_pending",
        "no_rate",
        "paid_by_reviewer",
        "denied_by_reviewer",
        "void",
    }
    assert set(claims.values_list("source", flat=True)) == set(ClaimSource.values)
    assert {"sftp", "upload", "web", "mail", "fax"} <= set(claims.values_list("channel", flat=True))
    # paper is keyed by the claims processor with the scan
    for claim in claims.filter(source__in=(ClaimSource.CMS1500, ClaimSource.INVOICE_PAPER)):
        assert claim.entered_by.email == seed_claims.PROCESSOR_EMAIL
        assert default_storage.open(claim.image.name).read(5) == b"%PDF-"
    # every line's history is in the past, on the travelled clock
    assert not claims.filter(received_at__gt=clock.now()).exists()
    assert not ClaimLine.objects.filter(service_to__gt=clock.today()).exists()


def test_the_837p_files_have_their_999s_and_one_is_rejected(world):
    files = ClaimFile.objects.all()
    assert Counter(files.values_list("ack_code", flat=True))["R"] == 1
    rejected = files.get(ack_code="R")
    assert rejected.claim_count == 0 and not rejected.claims.exists()
    assert any(p["segment_id"] == "DMG" for p in rejected.problems)
    clearinghouse = Organization.objects.get(name=seed_claims.CLEARINGHOUSE_NAME)
    for claim_file in files:
        ack = default_storage.open(claim_file.ack_999.name).read().decode()
        assert ("AK9*R" in ack) == (claim_file.ack_code == "R")
        if claim_file.channel == "sftp":
            assert claim_file.submitter_organization == clearinghouse
            reply = outbox_dir(clearinghouse) / f"{claim_file.original_name.rsplit('.', 1)[0]}.999"
            assert reply.read_text() == ack
    assert files.filter(channel="upload", submitter_organization=focus()).exists()


def test_the_payment_run_balances_and_paid_on_time(world, settings):
    run = PaymentRun.objects.get()
    payments = list(run.payments.all())
    remitted = Claim.objects.filter(status=ClaimStatus.REMITTED)
    assert run.claim_count == remitted.count() == sum(p.claim_count for p in payments)
    assert run.total_paid == sum(p.amount for p in payments) == sum(c.paid_total for c in remitted)
    for payment in payments:
        claims = Claim.objects.filter(payment=payment)
        assert payment.amount == sum((c.paid_total for c in claims), Decimal(0))
        text = payment_835_bytes(payment).decode()
        assert_valid(text)
        bpr = next(s for s in segments(text) if s[0] == "BPR")
        assert Decimal(bpr[2]) == payment.amount
        assert Path(payment.outbox_path).read_text() == text
    assert run.payment_date < clock.today()
    assert all(payment_clock(c).state == "paid" for c in remitted)
    assert remitted.filter(outcome=ClaimOutcome.DENIED).exists()  # the provider hears why


def test_aging_the_pended_queue_and_the_demo_provider(world):
    ensure_demo_logins("demo-password-1")
    processor = User.objects.get(email=seed_claims.PROCESSOR_EMAIL)
    aging = aging_counts(user=processor)
    assert aging["overdue"] >= 1 and aging["at_risk"] >= 1 and aging["pended"] >= 2
    billing = User.objects.get(email=seed_claims.FOCUS_BILLING_EMAIL)
    assert billing.organization == focus()
    mine = claim_queryset_for(billing)
    assert set(mine.values_list("status", flat=True)) == set(ClaimStatus.values) - {ClaimStatus.RECEIVED}
    assert set(mine.values_list("outcome", flat=True)) == set(ClaimOutcome.values)
    assert not mine.exclude(billing_organization=focus()).exists()
    assert {payment_clock(c).state for c in mine} >= {"paid", "overdue", "at_risk", "on_time"}


def test_reset_removes_claims_payments_and_their_files(world, django_capture_on_commit_callbacks):
    stored = [c.image.name for c in Claim.objects.exclude(image="")]
    stored += [f.original.name for f in ClaimFile.objects.all()]
    stored += [p.remittance_835.name for p in ProviderPayment.objects.all()]
    outbox = [Path(p.outbox_path) for p in ProviderPayment.objects.all()]
    clearinghouse = Organization.objects.get(name=seed_claims.CLEARINGHOUSE_NAME)
    replies = list(outbox_dir(clearinghouse).iterdir())
    assert stored and outbox and replies and all(default_storage.exists(name) for name in stored)
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion commits
        deleted = reset()
    assert deleted["claims.Claim"] == world.claims
    for model in (Claim, ClaimFile, PaymentRun, ProviderPayment, Authorization, Organization, User):
        assert not model.objects.exists(), model.__name__
    assert not any(default_storage.exists(name) for name in stored)
    assert not any(path.exists() for path in outbox + replies)


def test_summary_and_default_size(world):
    assert "claims:" in world.summary() and "by outcome" in world.summary()
    assert seed_claims.default_claims(3000) == seed_claims.DEFAULT_CLAIMS
    assert seed_claims.default_claims(600) == 30
