"""Pinned query counts of the claims list pages (DESIGN principle 7): the claims list, the pended queue and
the aging page cost the same number of queries for a few claims as for many (no query per claim, per line
or per payment clock)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.claims.models import Claim, ClaimFile
from cshub.claims.payments import payment_run_create
from cshub.core import clock
from tests.claims.page_helpers import paid_claim, pended_claim

pytestmark = pytest.mark.django_db


def _count(client, url: str, params: dict | None = None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("who", ["processor", "billing"])
def test_c5_claims_list_query_count_does_not_grow_with_the_rows(client, clw, who):
    """Plan, provider, member, file and payment are joined; the payment clock is computed from the row."""
    paid_claim(clw)
    pended_claim(clw)
    client.force_login(getattr(clw, who))
    url = reverse("claims:list")
    few, page = _count(client, url)
    assert len(page.context["page_obj"]) == 2
    for _ in range(4):
        paid_claim(clw)
        pended_claim(clw)
    many, page = _count(client, url)
    assert len(page.context["page_obj"]) == 10
    assert few == many
    few_filtered, _ = _count(client, url, {"service": clw.nav.key, "status": "unpaid"})
    pended_claim(clw)
    many_filtered, _ = _count(client, url, {"service": clw.nav.key, "status": "unpaid"})
    assert few_filtered == many_filtered


def test_c5_pended_queue_query_count_does_not_grow_with_the_rows(client, clw):
    """The pended lines of the page's claims are read in one query (prefetch), whatever their number."""
    pended_claim(clw)
    client.force_login(clw.processor)
    few, page = _count(client, reverse("claims:pended"))
    assert len(page.context["page_obj"]) == 1
    for _ in range(6):
        pended_claim(clw)
    many, page = _count(client, reverse("claims:pended"))
    assert len(page.context["page_obj"]) == 7
    assert few == many


def test_c5_aging_query_count_does_not_grow_with_the_rows(client, clw, frozen_clock):
    paid_claim(clw)
    frozen_clock.move_to(dt.datetime(2027, 2, 3, 17, 0, tzinfo=dt.UTC))  # everything overdue
    client.force_login(clw.processor)
    few, page = _count(client, reverse("claims:aging"))
    assert len(page.context["page_obj"]) == 1
    frozen_clock.move_to(dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC))
    for _ in range(5):
        paid_claim(clw)
    frozen_clock.move_to(dt.datetime(2027, 2, 3, 17, 0, tzinfo=dt.UTC))
    client.force_login(clw.processor)
    many, page = _count(client, reverse("claims:aging"))
    assert len(page.context["page_obj"]) == 6
    assert few == many


def _claim_file(clw, n: int) -> None:
    f = ClaimFile(
        submitter_organization=clw.provider_a,
        channel="upload",
        received_at=clock.now(),
        original_name=f"f{n}.837",
        sha256=f"{n:064d}",
        size=3,
        ack_code="A",
        problems=[{"segment_id": "CLM", "message": "x"}],
    )
    f.original.save(f"f{n}.837", ContentFile(b"ISA"), save=False)
    f.save()


@pytest.mark.parametrize("who", ["processor", "billing"])
def test_c3_claim_file_list_query_count_does_not_grow_with_the_rows(client, clw, who):
    _claim_file(clw, 1)
    paid = paid_claim(clw)
    Claim.objects.filter(pk=paid.pk).update(
        claim_file=ClaimFile.objects.get()
    )  # the plan sees it by its claim
    client.force_login(getattr(clw, who))
    few, page = _count(client, reverse("claims:file_list"))
    assert len(page.context["page_obj"]) == 1
    for n in range(2, 7):
        _claim_file(clw, n)
    Claim.objects.filter(pk=paid_claim(clw).pk).update(
        claim_file=ClaimFile.objects.get(original_name="f2.837")
    )
    for f in ClaimFile.objects.exclude(original_name__in=["f1.837", "f2.837"]):
        Claim.objects.filter(pk=paid_claim(clw).pk).update(claim_file=f)
    many, page = _count(client, reverse("claims:file_list"))
    assert len(page.context["page_obj"]) == 6
    assert few == many


def test_c5_payment_list_and_runs_query_count_does_not_grow_with_the_rows(client, clw, settings, tmp_path):
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    clw.plan.phone = "9165550100"
    clw.plan.save(update_fields=["phone"])
    paid_claim(clw)
    payment_run_create(actor=clw.processor, plan=clw.plan)
    counts = {}
    for who, name in (("billing", "claims:payment_list"), ("processor", "claims:run_list")):
        client.force_login(getattr(clw, who))
        counts[name], page = _count(client, reverse(name))
        assert len(page.context["page_obj"]) == 1
    for _ in range(3):
        paid_claim(clw)
        payment_run_create(actor=clw.processor, plan=clw.plan)
    for who, name in (("billing", "claims:payment_list"), ("processor", "claims:run_list")):
        client.force_login(getattr(clw, who))
        many, page = _count(client, reverse(name))
        assert len(page.context["page_obj"]) == 4
        assert many == counts[name], name
