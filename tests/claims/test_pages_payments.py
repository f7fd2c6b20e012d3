"""The payment pages (rules C3, C5): a claims processor previews and runs payments from the page, the run's
page lists one EFT and 835 per provider, a provider sees its remittances and downloads its 835, the claim
page shows the payment it was paid in; provider B sees none of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cshub.claims.models import ClaimStatus, PaymentRun, ProviderPayment
from cshub.core.models import AuditEvent
from tests.claims.page_helpers import paid_claim, pended_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def payable(clw, settings, tmp_path):
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    clw.plan.phone = "9165550100"
    clw.plan.save(update_fields=["phone"])
    clw.paid = [paid_claim(clw), paid_claim(clw)]  # $250.00 each
    clw.waiting = pended_claim(clw)  # pended claims wait
    return clw


def test_c5_run_page_previews_what_a_run_would_pay(client, payable):
    clw = payable
    client.force_login(clw.processor)
    page = client.get(reverse("claims:run_list"))
    assert page.status_code == 200
    assert page.context["preview"] == {"claims": 2, "total": page.context["preview"]["total"]}
    assert str(page.context["preview"]["total"]) in {"500.00", "500"}
    page = client.post(
        reverse("claims:run_list"),
        {"payment_date": "2026-11-25", "providers": [str(clw.provider_b.uuid)], "preview": "1"},
    )
    assert page.status_code == 200 and page.context["preview"]["claims"] == 0
    assert PaymentRun.objects.count() == 0


def test_c3_c5_processor_runs_payments_and_the_provider_sees_its_remittance(client, payable):
    clw = payable
    client.force_login(clw.processor)
    response = client.post(
        reverse("claims:run_list"),
        {"payment_date": "2026-11-25", "received_through": "2026-11-23"},
        follow=True,
    )
    assert response.status_code == 200
    run = PaymentRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("claims:run_detail", args=[run.uuid])
    body = response.content.decode()
    assert f"Payment run {run.number}: 2 claims paid to 1 provider" in body
    (payment,) = response.context["payments"]
    assert payment.organization == clw.provider_a
    assert list(client.get(reverse("claims:run_list")).context["page_obj"]) == [run]
    clw.waiting.refresh_from_db()
    assert clw.waiting.status == ClaimStatus.PENDED  # pended claims wait
    # The provider's remittances, its 835, and the claim page's "paid in".
    client.force_login(clw.billing)
    page = client.get(reverse("claims:payment_list"))
    assert list(page.context["page_obj"]) == [payment]
    assert payment.eft_trace_number in page.content.decode()
    download = client.get(reverse("claims:payment_835", args=[payment.uuid]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"ISA")
    assert AuditEvent.objects.filter(actor=clw.billing, object_type="claims.ProviderPayment").exists()
    claim = clw.paid[0]
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert 'data-testid="payment"' in page.content.decode()
    assert page.context["clock"].state == "paid"
    # Provider B sees no payment of provider A's.
    client.force_login(clw.charlie)
    assert list(client.get(reverse("claims:payment_list")).context["page_obj"]) == []
    assert client.get(reverse("claims:payment_835", args=[payment.uuid])).status_code == 404


def test_c5_payment_run_errors_show_on_the_page_and_pay_nothing(client, payable):
    clw = payable
    client.force_login(clw.processor)
    response = client.post(reverse("claims:run_list"), {"payment_date": "2026-11-20"})
    assert response.status_code == 422
    assert "cannot be in the past" in str(response.context["form"].errors["payment_date"])
    response = client.post(reverse("claims:run_list"), {"payment_date": "not a date"})
    assert response.status_code == 422
    response = client.post(
        reverse("claims:run_list"), {"payment_date": "2026-11-25", "providers": [str(clw.provider_b.uuid)]}
    )
    assert response.status_code == 422 and "No adjudicated, unpaid claims match." in response.content.decode()
    assert PaymentRun.objects.count() == 0 and ProviderPayment.objects.count() == 0


def test_c5_plan_lists_payments_by_provider_and_exports_them(client, payable):
    clw = payable
    client.force_login(clw.processor)
    client.post(reverse("claims:run_list"), {"payment_date": "2026-11-25"})
    page = client.get(reverse("claims:payment_list"), {"provider": str(clw.provider_a.uuid)})
    assert len(page.context["page_obj"]) == 1
    assert (
        len(
            client.get(reverse("claims:payment_list"), {"provider": str(clw.provider_b.uuid)}).context[
                "page_obj"
            ]
        )
        == 0
    )
    response = client.get(reverse("claims:payment_list"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("payment_date,provider,eft_trace_number") and "2026-11-25" in text


@pytest.mark.parametrize("who", ["billing", "alice", "charlie"])
def test_c5_payment_runs_are_for_plan_processors(client, payable, who):
    clw = payable
    client.force_login(getattr(clw, who))
    assert client.get(reverse("claims:run_list")).status_code == 403
    assert client.post(reverse("claims:run_list"), {"payment_date": "2026-11-25"}).status_code == 403
    assert PaymentRun.objects.count() == 0


def test_c5_run_page_of_another_plan_is_404(client, payable):
    clw = payable
    client.force_login(clw.processor)
    client.post(reverse("claims:run_list"), {"payment_date": "2026-11-25"})
    run = PaymentRun.objects.get()
    client.force_login(clw.other_plan_user)
    assert client.get(reverse("claims:run_detail", args=[run.uuid])).status_code == 404
    assert run.payment_date == dt.date(2026, 11, 25)
