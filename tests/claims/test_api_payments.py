"""Payments over the API (rules C3, C5): the plan's claims processors run payments (one EFT and one 835 per
provider); providers read their own payments, the claims paid and the 835; refusals (role, past date,
nothing to pay, unknown provider); privacy (provider B and the other plan get 404); flat query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cshub.accounts.roles import Role
from cshub.claims.models import Claim, PaymentRun
from cshub.core.models import AuditEvent
from tests.claims.api_helpers import API, CLAIMS, post, receive
from tests.claims.conftest import SERVICE_DAY, authorize, claim_input, line

pytestmark = pytest.mark.django_db

RUNS = f"{API}/payment-runs"
PAYMENTS = f"{API}/payments"


@pytest.fixture
def payable(clw, settings, tmp_path):
    """Provider A: a claim paid $250 of $300 and one denied (unknown member); provider B: one denied."""
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    clw.plan.phone = "9165550100"
    clw.plan.save(update_fields=["phone"])
    authorize(clw, units=10)
    clw.a_claims = receive(
        clw,
        claim_input(clw, lines=[line(clw, units="2", charge="300.00")]),
        claim_input(clw, member_id="99999999Z"),
    )
    clw.b_claims = receive(clw, claim_input(clw, billing_npi=clw.provider_b.npi), actor=clw.charlie)
    return clw


def _run(client, clw, **data):
    client.force_login(clw.processor)
    return post(client, RUNS, {"payment_date": "2026-11-25", **data})


def test_c5_processor_runs_a_payment_one_per_provider_with_its_835(client, payable):
    response = _run(client, payable)
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["number"].startswith("PR-2026-") and run["payment_date"] == "2026-11-25"
    assert (run["claim_count"], run["provider_count"], run["total_paid"]) == (3, 2, "250.00")
    assert run["run_by"] == str(payable.processor)
    amounts = {p["organization"]["name"]: (p["amount"], p["claim_count"]) for p in run["payments"]}
    assert amounts == {payable.provider_a.name: ("250.00", 2), payable.provider_b.name: ("0.00", 1)}
    assert all(p["run"]["number"] == run["number"] for p in run["payments"])
    listed = client.get(RUNS).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == run["id"]
    again = _run(client, payable)  # nothing left to pay
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "claims"
    assert PaymentRun.objects.count() == 1


def test_c3_c5_provider_reads_its_payment_the_claims_paid_and_the_835(client, payable):
    _run(client, payable)
    client.force_login(payable.billing)
    payments = client.get(PAYMENTS).json()
    assert payments["count"] == 1
    (payment,) = payments["items"]
    assert (payment["organization"]["name"], payment["amount"]) == (payable.provider_a.name, "250.00")
    assert payment["links"]["remittance_835"] == f"{PAYMENTS}/{payment['id']}/835"
    detail = client.get(payment["links"]["self"]).json()
    assert {c["number"] for c in detail["claims"]} == {c.number for c in payable.a_claims}
    assert {c["status"] for c in detail["claims"]} == {"remitted"}
    assert {c["payment_clock"]["state"] for c in detail["claims"]} == {"paid"}
    remittance = client.get(payment["links"]["remittance_835"])
    assert remittance.status_code == 200 and remittance["Content-Type"] == "application/edi-x12"
    text = b"".join(remittance.streaming_content).decode()
    assert text.startswith("ISA") and payment["eft_trace_number"] in text
    assert AuditEvent.objects.filter(
        object_type="claims.ProviderPayment", action="read", object_id=payment["id"]
    ).exists()
    claim = client.get(f"{CLAIMS}/{payable.a_claims[0].uuid}").json()
    assert (claim["status"], claim["paid_on"], claim["payment"]) == ("remitted", "2026-11-25", payment["id"])
    assert claim["payment_detail"]["eft_trace_number"] == payment["eft_trace_number"]
    assert claim["events"][-1]["kind"] == "remitted"


def test_c5_payments_are_private_to_the_provider_and_the_plan(client, payable):
    run = _run(client, payable).json()
    a_payment = next(p for p in run["payments"] if p["organization"]["name"] == payable.provider_a.name)
    client.force_login(payable.charlie)
    assert client.get(PAYMENTS).json()["count"] == 1  # provider B's own
    for url in (f"{PAYMENTS}/{a_payment['id']}", f"{PAYMENTS}/{a_payment['id']}/835"):
        assert client.get(url).status_code == 404
    client.force_login(payable.other_plan_user)
    assert client.get(PAYMENTS).json()["count"] == 0
    assert client.get(f"{PAYMENTS}/{a_payment['id']}").status_code == 404
    client.force_login(payable.plan_users[Role.PROVIDER_RELATIONS])
    assert client.get(f"{PAYMENTS}?provider={payable.provider_b.uuid}").json()["count"] == 1
    assert client.get(f"{PAYMENTS}?paid_from=2026-11-26").json()["count"] == 0
    client.force_login(payable.bob)
    assert client.get(PAYMENTS).status_code == 403


def test_c5_who_may_run_payments_and_what_is_refused(client, payable):
    for user in (payable.alice, payable.billing, payable.plan_users[Role.PROVIDER_RELATIONS]):
        client.force_login(user)
        assert post(client, RUNS, {}).status_code == 403
        assert client.get(RUNS).status_code == 403
    past = _run(client, payable, payment_date=(SERVICE_DAY - timedelta(days=1)).isoformat())
    assert past.status_code == 422 and [e["field"] for e in past.json()["errors"]] == ["payment_date"]
    unknown = _run(client, payable, organizations=[str(payable.provider_a.uuid), str(payable.member_a.uuid)])
    assert unknown.status_code == 422 and [e["field"] for e in unknown.json()["errors"]] == [
        "organizations.1"
    ]
    assert PaymentRun.objects.count() == 0
    assert not Claim.objects.filter(payment__isnull=False).exists()
    only_a = _run(client, payable, organizations=[str(payable.provider_a.uuid)])
    assert only_a.status_code == 201
    assert [p["organization"]["name"] for p in only_a.json()["payments"]] == [payable.provider_a.name]


def test_c5_payment_and_run_lists_cost_the_same_queries_for_few_and_many(client, payable):
    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    _run(client, payable)
    few = (count(PAYMENTS), count(RUNS))
    for day in range(1, 4):
        receive(payable, claim_input(payable, lines=[line(payable, start=SERVICE_DAY + timedelta(days=day))]))
        receive(
            payable,
            claim_input(
                payable,
                billing_npi=payable.provider_b.npi,
                lines=[line(payable, start=SERVICE_DAY + timedelta(days=day))],
            ),
            actor=payable.charlie,
        )
        assert _run(client, payable, payment_date=f"2026-11-2{4 + day}").status_code == 201
    assert client.get(PAYMENTS).json()["count"] == 8
    assert (count(PAYMENTS), count(RUNS)) == few
