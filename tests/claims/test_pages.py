"""The claims pages (rules C1-C5): the list with search, filters and CSV, the claim page with its lines,
reasons, adjustments and payment clock, the processor's line decisions with optimistic locking, the pended
queue, aging and totals; who sees what (provider B's CEO gets 404 on provider A's claim, a care coordinator
sees no claims), navigation and the home card."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from cshub.claims.models import Claim, ClaimStatus, LineStatus
from cshub.core.models import AuditEvent
from tests.claims.conftest import claim_input, line
from tests.claims.page_helpers import next_day, paid_claim, pended_claim, receive

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def numbers(response) -> list[str]:
    return [c.number for c in response.context["page_obj"]]


# --- who sees the claims pages -----------------------------------------------------------------------------


def test_c4_claims_list_shows_a_provider_its_own_claims_and_the_plan_all_of_them(client, clw):
    mine = paid_claim(clw)
    client.force_login(clw.billing)
    page = client.get(reverse("claims:list"))
    assert page.status_code == 200
    assert numbers(page) == [mine.number]
    body = page.content.decode()
    assert 'data-testid="clock"' in body and "Due 02/01/2027" in body
    assert reverse("claims:invoice_new") in body and reverse("claims:invoice_upload") in body
    assert reverse("claims:file_upload") in body
    client.force_login(clw.processor)
    page = client.get(reverse("claims:list"))
    assert numbers(page) == [mine.number]
    assert reverse("claims:cms1500") in page.content.decode()
    # Provider B's CEO sees none of provider A's claims.
    client.force_login(clw.charlie)
    assert numbers(client.get(reverse("claims:list"))) == []


@pytest.mark.parametrize(
    "name",
    ["claims:list", "claims:aging", "claims:totals", "claims:file_list", "claims:payment_list"],
)
def test_c4_care_coordinator_sees_no_claims_page(client, clw, name):
    client.force_login(clw.bob)
    assert client.get(reverse(name)).status_code == 403


def test_c4_claim_page_is_404_for_another_provider_and_for_a_care_coordinator(client, clw):
    claim = paid_claim(clw)
    url = reverse("claims:detail", args=[claim.uuid])
    for outsider in (clw.charlie, clw.bob, clw.other_plan_user):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(actor=clw.charlie, object_type="claims.Claim", action="denied").exists()
    client.force_login(clw.alice)  # provider A's CEO sees the claim
    assert client.get(url).status_code == 200


# --- the list: search, filters, CSV ------------------------------------------------------------------------


def test_c4_claims_list_searches_by_claim_number_provider_number_member_id_and_last_name(client, clw):
    a = paid_claim(clw, pcn="INV-ALPHA")
    b = pended_claim(clw, pcn="INV-BETA")
    client.force_login(clw.billing)
    url = reverse("claims:list")
    assert numbers(client.get(url, {"q": a.number})) == [a.number]
    assert numbers(client.get(url, {"q": "inv-beta"})) == [b.number]
    assert numbers(client.get(url, {"q": clw.member_a.cin})) == [a.number]
    assert numbers(client.get(url, {"q": clw.member_b.last_name})) == [b.number]
    assert numbers(client.get(url)) == [b.number, a.number]  # newest first
    assert AuditEvent.objects.filter(actor=clw.billing, object_type="claims.Claim", action="list").exists()


def test_c5_claims_list_filters_by_status_outcome_source_service_provider_and_dates(client, clw):
    paid = paid_claim(clw)
    pended = pended_claim(clw)
    client.force_login(clw.processor)
    url = reverse("claims:list")
    assert numbers(client.get(url, {"status": "pended"})) == [pended.number]
    assert numbers(client.get(url, {"outcome": "partially_paid"})) == [paid.number]
    assert set(numbers(client.get(url, {"status": "unpaid"}))) == {paid.number, pended.number}
    assert numbers(client.get(url, {"source": "cms1500"})) == []
    assert len(numbers(client.get(url, {"source": "invoice_web"}))) == 2
    assert len(numbers(client.get(url, {"service": clw.nav.key}))) == 2
    assert numbers(client.get(url, {"service": clw.meals.key})) == []
    assert len(numbers(client.get(url, {"provider": str(clw.provider_a.uuid)}))) == 2
    assert numbers(client.get(url, {"provider": str(clw.provider_b.uuid)})) == []
    assert len(numbers(client.get(url, {"received_from": "2026-11-23", "received_to": "2026-11-23"}))) == 2
    assert numbers(client.get(url, {"received_from": "2026-11-24"})) == []
    page = client.get(url, {"received_from": "2026-11-24", "received_to": "2026-11-01"})
    assert numbers(page) == [] and 'data-testid="form-errors"' in page.content.decode()
    # A provider has no provider filter (it sees its own claims only).
    client.force_login(clw.billing)
    assert "provider" not in client.get(url).context["form"].fields


def test_c5_claims_list_exports_what_the_filters_select_as_csv_and_audits_it(client, clw):
    paid = paid_claim(clw)
    pended_claim(clw)
    client.force_login(clw.billing)
    response = client.get(reverse("claims:list"), {"outcome": "partially_paid", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    (row,) = rows_of(response)
    assert row["claim_number"] == paid.number
    assert row["kind"] == "invoice" and row["member_id_billed"] == clw.member_a.cin
    assert (row["charged"], row["paid"], row["payment_due_on"]) == ("300.00", "250.00", "2027-02-01")
    assert row["payment_state"].startswith("Due 02/01/2027")
    assert AuditEvent.objects.filter(actor=clw.billing, object_type="claims.Claim", action="export").exists()


def test_c4_claims_list_paginates(client, clw, settings):
    settings.CSHUB_PAGE_SIZE = 2
    for _ in range(3):
        paid_claim(clw)
    client.force_login(clw.billing)
    first = client.get(reverse("claims:list"))
    assert len(numbers(first)) == 2 and "Page 1 of 2" in first.content.decode()
    assert len(numbers(client.get(reverse("claims:list"), {"page": 2}))) == 1


# --- the claim page ----------------------------------------------------------------------------------------


def test_c1_c5_claim_page_shows_the_facts_lines_adjustments_in_words_clock_and_history(client, clw):
    claim = paid_claim(clw)
    client.force_login(clw.billing)
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Invoice (web form)" in body and "11/23/2026 09:00 AM" in body
    assert f"NPI {clw.provider_a.npi}" in body
    assert f"ID {clw.member_a.cin}" in body and clw.member_a.last_name in body
    assert "Z59.01" in body
    assert "CO-45 $50.00 — charge exceeds fee schedule" in body
    assert "the contract pays $125.00 per month for 2 units" in body
    assert "02/01/2027" in body and 'data-state="on_time"' in body
    kinds = [e.kind for e in page.context["events"]]
    assert kinds == ["received", "adjudicated"]
    # A provider does not work claims: no decision form.
    assert page.context["can_work"] is False and 'data-testid="decide-form"' not in body
    assert AuditEvent.objects.filter(
        actor=clw.billing, object_type="claims.Claim", action="read", object_id=str(claim.uuid)
    ).exists()


def test_c1_denied_line_shows_the_reason_in_plain_words(client, clw):
    (claim,) = receive(clw, claim_input(clw, member_id="99999999Z", lines=[line(clw, start=next_day())]))
    client.force_login(clw.billing)
    body = client.get(reverse("claims:detail", args=[claim.uuid])).content.decode()
    assert "We could not find a Medi-Cal member with ID 99999999Z" in body
    assert "CO-31 $125.00 — patient cannot be identified" in body
    assert "No member with this ID" in body


def test_c5_processor_sees_a_form_per_pended_line(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert page.context["can_work"] is True
    assert page.content.decode().count('data-testid="decide-form"') == 1
    assert 'for="id_line1_amount"' in page.content.decode()
    # Other plan roles read the claim without working it.
    client.force_login(clw.plan_users["reporting_director"])
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert page.status_code == 200 and page.context["can_work"] is False


def test_c5_processor_pays_a_pended_line_and_the_provider_sees_the_decision(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    url = reverse("claims:line_decide", args=[claim.uuid, 1])
    response = client.post(
        url, {"version": claim.version, "action": "pay", "amount": "100.00", "note": "Authorized by phone."}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.outcome, str(claim.paid_total)) == (
        ClaimStatus.ADJUDICATED,
        "partially_paid",
        "100.00",
    )
    ln = claim.lines.get()
    assert ln.status == LineStatus.PAID and ln.adjudicated_by == clw.processor
    client.force_login(clw.billing)
    body = client.get(reverse("claims:detail", args=[claim.uuid])).content.decode()
    assert "Authorized by phone." in body and "CO-45 $25.00" in body


def test_c5_processor_denies_a_pended_line_with_a_note(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    response = client.post(
        reverse("claims:line_decide", args=[claim.uuid, 1]),
        {"version": claim.version, "action": "deny", "note": "The request was withdrawn."},
        follow=True,
    )
    assert response.status_code == 200
    assert "Line 1 denied" in response.content.decode()
    claim.refresh_from_db()
    assert claim.outcome == "denied" and claim.lines.get().status == LineStatus.DENIED


def test_c5_decision_errors_show_beside_the_fields_and_change_nothing(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    url = reverse("claims:line_decide", args=[claim.uuid, 1])
    response = client.post(url, {"version": claim.version, "action": "pay", "amount": "999.00", "note": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert "at most the charge, $125.00" in body and "Say why" in body
    response = client.post(url, {"version": claim.version, "note": "x"})
    assert response.status_code == 422 and "Choose pay or deny." in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDED and claim.version == 1


def test_c5_stale_version_is_a_conflict_and_shows_the_claim_as_it_is_now(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    stale = claim.version
    client.post(
        reverse("claims:line_decide", args=[claim.uuid, 1]),
        {"version": stale, "action": "deny", "note": "First decision."},
    )
    response = client.post(
        reverse("claims:line_decide", args=[claim.uuid, 1]),
        {"version": stale, "action": "pay", "amount": "125.00", "note": "Second decision."},
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="conflict"' in body and "changed by someone else" in body
    claim.refresh_from_db()
    assert claim.outcome == "denied" and "First decision." in claim.lines.get().explanation


def test_c5_decide_again_runs_the_edits_over_the_pended_lines(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    response = client.post(reverse("claims:readjudicate", args=[claim.uuid]), {"version": claim.version})
    assert response.status_code == 302
    client.post(
        reverse("claims:line_decide", args=[claim.uuid, 1]), {"version": 2, "action": "deny", "note": "No."}
    )
    # The claim is no longer pended: deciding it again is a conflict with a message.
    response = client.post(reverse("claims:readjudicate", args=[claim.uuid]), {"version": 3})
    assert response.status_code == 409 and "has no pended lines" in response.content.decode()


def test_c5_only_the_plans_processors_decide_lines(client, clw):
    claim = pended_claim(clw)
    url = reverse("claims:line_decide", args=[claim.uuid, 1])
    data = {"version": claim.version, "action": "deny", "note": "x"}
    client.force_login(clw.billing)
    assert client.post(url, data).status_code == 403
    client.force_login(clw.plan_users["reporting_director"])
    assert client.post(url, data).status_code == 403
    client.force_login(clw.charlie)
    assert client.post(url, data).status_code == 404
    client.force_login(clw.other_plan_user)
    assert client.post(url, data).status_code == 404
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDED


def test_c5_decision_with_htmx_swaps_the_page_in_place(client, clw):
    claim = pended_claim(clw)
    client.force_login(clw.processor)
    response = client.post(
        reverse("claims:line_decide", args=[claim.uuid, 1]),
        {"version": claim.version, "action": "deny", "note": "Not covered."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'data-testid="notice"' in response.content.decode()


# --- pended queue ------------------------------------------------------------------------------------------


def test_c5_pended_queue_lists_oldest_first_with_the_reason_of_each_pended_line(client, clw, frozen_clock):
    first = pended_claim(clw)
    frozen_clock.shift(3600)
    second = pended_claim(clw)
    paid_claim(clw)
    client.force_login(clw.processor)
    page = client.get(reverse("claims:pended"))
    assert page.status_code == 200
    assert numbers(page) == [first.number, second.number]
    body = page.content.decode()
    assert "Authorization pending" in body and "is still being reviewed" in body
    assert numbers(client.get(reverse("claims:pended"), {"reason": "no_rate"})) == []
    assert len(numbers(client.get(reverse("claims:pended"), {"reason": "authorization_pending"}))) == 2
    assert numbers(client.get(reverse("claims:pended"), {"provider": str(clw.provider_b.uuid)})) == []
    rows = rows_of(client.get(reverse("claims:pended"), {"format": "csv"}))
    assert [r["claim_number"] for r in rows] == [first.number, second.number]
    assert rows[0]["reasons"] == "Authorization pending"


@pytest.mark.parametrize("who", ["billing", "alice", "bob", "charlie"])
def test_c5_pended_queue_is_for_plan_processors_only(client, clw, who):
    client.force_login(getattr(clw, who))
    assert client.get(reverse("claims:pended")).status_code == 403
    client.force_login(clw.plan_users["provider_relations"])
    assert client.get(reverse("claims:pended")).status_code == 403


# --- aging -------------------------------------------------------------------------------------------------


def test_c5_aging_lists_claims_at_risk_and_overdue(client, clw, frozen_clock):
    claim = paid_claim(clw)  # received 11/23/2026, due 02/01/2027, not paid yet
    client.force_login(clw.processor)
    page = client.get(reverse("claims:aging"))
    assert page.context["counts"]["unpaid"] == 1 and page.context["counts"]["overdue"] == 0
    assert numbers(page) == []
    frozen_clock.move_to(dt.datetime(2027, 1, 25, 17, 0, tzinfo=dt.UTC))  # 5 business days left
    client.force_login(clw.processor)  # (the session of November has expired)
    page = client.get(reverse("claims:aging"), {"show": "at_risk"})
    assert numbers(page) == [claim.number] and page.context["counts"]["at_risk"] == 1
    frozen_clock.move_to(dt.datetime(2027, 2, 3, 17, 0, tzinfo=dt.UTC))
    client.force_login(clw.processor)
    page = client.get(reverse("claims:aging"))
    assert numbers(page) == [claim.number]
    assert 'data-state="overdue"' in page.content.decode()
    (row,) = rows_of(client.get(reverse("claims:aging"), {"show": "overdue", "format": "csv"}))
    assert row["claim_number"] == claim.number and row["payment_state"].startswith(
        "Overdue by 2 business days"
    )
    # The provider sees its own aging; provider B none of it.
    client.force_login(clw.billing)
    assert numbers(client.get(reverse("claims:aging"))) == [claim.number]
    client.force_login(clw.charlie)
    page = client.get(reverse("claims:aging"))
    assert numbers(page) == [] and page.context["counts"]["overdue"] == 0


# --- totals ------------------------------------------------------------------------------------------------


def test_c5_totals_by_provider_service_and_month_with_chart_and_denial_rate(client, clw):
    paid_claim(clw)  # charged 300, paid 250
    receive(clw, claim_input(clw, member_id="99999999Z", lines=[line(clw, start=next_day())]))  # denied 125
    client.force_login(clw.processor)
    page = client.get(reverse("claims:totals"))
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert row.label == clw.provider_a.name
    assert (row.claims, row.lines, row.charged, row.paid, row.denied_lines) == (
        2,
        2,
        Decimal("425.00"),
        Decimal("250.00"),
        1,
    )
    chart = json.loads(json.dumps(page.context["chart"]))
    assert chart["datasets"][0]["data"] == [425.0] and chart["datasets"][1]["data"] == [250.0]
    body = page.content.decode()
    assert 'id="totals-chart"' in body and "chart.umd.min.js" in body and "denial rate 50%" in body
    assert page.context["start"] == dt.date(2025, 12, 1)  # the last 12 months by default
    page = client.get(reverse("claims:totals"), {"by": "service", "start": "2026-11-01", "end": "2026-11-30"})
    # The line denied for an unknown member was never matched to a service.
    assert {r.label for r in page.context["rows"]} == {clw.nav.name, "Not a CS code"}
    page = client.get(reverse("claims:totals"), {"by": "month", "start": "2026-11-01", "end": "2026-11-30"})
    assert [r.label for r in page.context["rows"]] == ["2026-11"]
    rows = rows_of(
        client.get(
            reverse("claims:totals"),
            {"by": "month", "start": "2026-11-01", "end": "2026-11-30", "format": "csv"},
        )
    )
    assert rows == [
        {
            "month": "2026-11",
            "claims": "2",
            "lines": "2",
            "charged": "425.00",
            "paid": "250.00",
            "denied_lines": "1",
            "denial_rate": "0.500",
        }
    ]
    page = client.get(reverse("claims:totals"), {"by": "month", "start": "2026-12-01", "end": "2026-11-01"})
    assert page.context["rows"] == [] and page.context["form"].errors
    # Provider B's totals hold none of provider A's claims.
    client.force_login(clw.charlie)
    assert client.get(reverse("claims:totals")).context["rows"] == []


# --- navigation and the home card --------------------------------------------------------------------------


def _labels(client) -> set[str]:
    return {i["label"] for i in client.get(reverse("web:home")).context["nav_items"]}


def test_c4_navigation_shows_claims_to_those_who_see_them(client, clw):
    client.force_login(clw.processor)
    assert {"Claims", "Pended claims"} <= _labels(client) and "New invoice" not in _labels(client)
    client.force_login(clw.billing)
    assert {"Claims", "New invoice"} <= _labels(client) and "Pended claims" not in _labels(client)
    client.force_login(clw.bob)
    assert not {"Claims", "Pended claims", "New invoice"} & _labels(client)
    client.force_login(clw.net)
    assert not {"Claims", "Pended claims", "New invoice"} & _labels(client)


def test_c5_home_card_counts_pended_and_overdue_for_processors_and_denials_for_billing(client, clw):
    pended_claim(clw)
    receive(clw, claim_input(clw, member_id="99999999Z", lines=[line(clw, start=next_day())]))  # denied
    client.force_login(clw.processor)
    card = client.get(reverse("web:home")).context["claims_card"]
    assert (card["kind"], card["pended"], card["overdue"]) == ("processor", 1, 0)
    client.force_login(clw.billing)
    page = client.get(reverse("web:home"))
    card = page.context["claims_card"]
    assert (card["kind"], card["pended"], card["denied_this_month"]) == ("provider", 1, 1)
    assert 'data-testid="claims-denied"' in page.content.decode()
    client.force_login(clw.bob)
    assert client.get(reverse("web:home")).context["claims_card"] is None


def test_c5_reading_the_claims_pages_writes_no_claim(client, clw):
    """Reading pages never writes a claim (a guard for the tests above)."""
    paid_claim(clw)
    before = Claim.objects.count()
    client.force_login(clw.processor)
    for name in ("claims:list", "claims:pended", "claims:aging", "claims:totals"):
        client.get(reverse(name))
    assert Claim.objects.count() == before
