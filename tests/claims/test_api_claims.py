"""The claims API door and one claim: submit by JSON (rules C1, C4, channel "api"), adjudicated at once;
refusals name every field and store nothing; the receipt date stamp (C5); the claim with its lines, CARC/RARC
adjustments and their meanings, payment clock and history; the processors' steps on pended claims with
optimistic locking (409 carries the current version); privacy (provider B and the other plan get 404)."""

from __future__ import annotations

from datetime import date

import pytest

from cshub.accounts.roles import Role
from cshub.accounts.services import api_key_create
from cshub.claims.edits import code_meaning, edit
from cshub.claims.models import Claim, ClaimLine, LineAdjustment
from cshub.core.models import AuditEvent
from tests.claims.api_helpers import CLAIMS, claim_json, line_json, post, receive
from tests.claims.conftest import authorize, claim_input, line

pytestmark = pytest.mark.django_db


def _submit(client, user, data):
    client.force_login(user)
    return post(client, CLAIMS, data)


def _stored() -> tuple[int, int, int]:
    return Claim.objects.count(), ClaimLine.objects.count(), LineAdjustment.objects.count()


# --- The JSON door (rules C1, C4) ----------------------------------------------------------------------


def test_c1_c4_provider_invoice_by_api_is_stored_with_channel_api_and_adjudicated_at_once(client, clw):
    authorize(clw, units=10)
    response = _submit(client, clw.billing, claim_json(clw, lines=[line_json(clw, units=2, charge="300")]))
    assert response.status_code == 201, response.json()
    body = response.json()
    claim = Claim.objects.get(uuid=body["id"])
    assert (claim.channel, claim.source, claim.entered_by) == ("api", "invoice_web", clw.billing)
    assert claim.billing_organization == clw.provider_a and claim.member == clw.member_a
    assert body["number"] == claim.number and body["number"].startswith("C-2026-")
    assert body["billing_npi"] == clw.provider_a.npi  # '' = the caller's own NPI
    assert (body["kind"], body["source"], body["channel"]) == ("invoice", "invoice_web", "api")
    assert (body["status"], body["outcome"]) == ("adjudicated", "partially_paid")
    assert (body["total_charge"], body["allowed_total"], body["paid_total"]) == ("300.00", "250.00", "250.00")
    assert body["member"]["cin"] == clw.member_a.cin and body["plan"]["name"] == clw.plan.name
    (ln,) = body["lines"]
    assert (ln["number"], ln["status"], ln["paid_amount"], ln["units_drawn"]) == (1, "paid", "250.00", "2.00")
    assert ln["code"] == f"{clw.nav_code.hcpcs}-{clw.nav_code.modifier}"
    assert ln["service"]["key"] == "housing_transition_navigation"
    assert ln["authorization"]["number"].startswith("AU-2026-")
    assert "contract pays $125.00" in ln["explanation"]
    assert ln["adjustments"] == [
        {
            "group_code": "CO",
            "group_meaning": code_meaning("GROUP", "CO"),
            "reason_code": "45",
            "reason_meaning": code_meaning("CARC", "45"),
            "remark_code": "",
            "remark_meaning": "",
            "amount": "50.00",
            "units": None,
        }
    ]
    # Rule C5: received Monday 2026-11-23, due 45 business days later.
    assert body["received_on"] == "2026-11-23" and body["payment_due_on"] == "2027-02-01"
    assert body["payment_clock"]["state"] == "on_time"
    assert [e["kind"] for e in body["events"]] == ["received", "adjudicated"]
    assert body["allowed_actions"] == [] and body["version"] == 1
    assert AuditEvent.objects.filter(
        object_type="claims.Claim", action="create", object_id=body["id"], detail__channel="api"
    ).exists()


def test_c1_denied_line_names_group_carc_rarc_with_their_meanings(client, clw):
    body = _submit(client, clw.billing, claim_json(clw)).json()  # no authorization: CO-197 N54
    (ln,) = body["lines"]
    assert (body["outcome"], ln["status"], ln["reason_key"]) == ("denied", "denied", "authorization_missing")
    (adj,) = ln["adjustments"]
    assert (adj["group_code"], adj["reason_code"], adj["remark_code"], adj["amount"]) == (
        "CO",
        "197",
        "N54",
        "125.00",
    )
    assert adj["reason_meaning"] == code_meaning("CARC", "197") and adj["reason_meaning"]
    assert adj["remark_meaning"] == code_meaning("RARC", "N54") and adj["remark_meaning"]
    assert ln["explanation"]


def test_c4_a_providers_json_claim_is_recorded_as_a_web_invoice(client, clw):
    """The model has no source for a JSON claim: a provider's electronic claims are 837P files, its JSON
    bills are the invoice portal's (rule C4)."""
    authorize(clw)
    data = claim_json(clw, kind="claim", total_charge=125)
    body = _submit(client, clw.alice, data).json()  # leadership may bill too
    assert (body["kind"], body["source"], body["outcome"]) == ("invoice", "invoice_web", "paid")


@pytest.mark.parametrize(("kind", "source"), [("claim", "cms1500"), ("invoice", "invoice_paper")])
def test_c4_c5_processor_keys_in_paper_with_the_day_it_was_received(client, clw, kind, source):
    authorize(clw)
    data = claim_json(clw, kind=kind, billing_npi=clw.provider_a.npi, received_at="2026-11-20T08:30:00")
    response = _submit(client, clw.processor, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["source"], body["channel"]) == (kind, source, "api")
    assert body["received_at"].startswith("2026-11-20T16:30")  # 8:30 Pacific, in UTC
    assert (body["received_on"], body["payment_due_on"]) == ("2026-11-20", "2027-01-29")
    assert body["billing_organization"]["name"] == clw.provider_a.name
    assert body["lines"][0]["status"] == "paid"


def test_c5_receipt_stamp_is_the_processors_and_never_in_the_future(client, clw):
    before = _stored()
    mine = _submit(client, clw.billing, claim_json(clw, received_at="2026-11-01T09:00:00-08:00"))
    assert mine.status_code == 422
    assert [(e["field"], e["code"]) for e in mine.json()["errors"]] == [("received_at", "not_allowed")]
    data = claim_json(clw, billing_npi=clw.provider_a.npi, received_at="2026-11-24T09:00:00-08:00")
    future = _submit(client, clw.processor, data)
    assert future.status_code == 422
    assert [(e["field"], e["code"]) for e in future.json()["errors"]] == [("received_at", "future")]
    assert _stored() == before


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"billing_npi": "1234567890"}, ["billing_npi"]),
        ({"member_id": ""}, ["member_id"]),
        ({"patient_control_number": " "}, ["patient_control_number"]),
        ({"diagnosis_codes": ["Z59.01", "QQQ"]}, ["diagnosis_codes.1"]),
        ({"diagnosis_codes": []}, ["diagnosis_codes"]),
        ({"frequency_code": "7"}, ["original_reference"]),
        # the lines inherit the claim's place of service, so each of them is named too
        ({"place_of_service": "home"}, ["place_of_service", "lines.1.place_of_service"]),
        ({"lines": []}, ["lines"]),
        ({"lines": "__bad_code__"}, ["lines.1.hcpcs"]),
        ({"lines": "__second_line_unreadable__"}, ["lines.2.service_from", "lines.2.units"]),
        ({"lines": "__every_line_field__"}, ["lines.1.charge", "lines.1.service_to", "lines.1.modifiers"]),
        ({"lines": "__pointers__"}, ["lines.1.diagnosis_pointers", "lines.2.diagnosis_pointers"]),
        ({"lines": "__future_service__"}, ["lines.1.service_to"]),
        ({"total_charge": "100.00"}, ["total_charge"]),  # not the sum of the lines (box 28)
        ({"total_charge": "lots", "lines": "__bad_code__"}, ["total_charge", "lines.1.hcpcs"]),
        ({"kind": "receipt"}, ["kind"]),
        ({"member_date_of_birth": "1970-02-31"}, ["member_date_of_birth"]),
        ({"billing_npi": "__provider_b__"}, ["billing_npi"]),
    ],
    ids=[
        "bad-npi",
        "no-member",
        "no-claim-number",
        "bad-diagnosis",
        "no-diagnosis",
        "replacement-without-original",
        "bad-place-of-service",
        "no-lines",
        "bad-code",
        "unreadable-date-and-units-with-a-checked-line",
        "negative-charge-reversed-dates-bad-modifier",
        "pointers",
        "future-date-of-service",
        "total-not-the-sum",
        "unreadable-total",
        "unknown-kind",
        "bad-birth-date",
        "another-providers-npi",
    ],
)
def test_c1_refusal_names_every_field_and_stores_nothing(client, clw, overrides, fields):
    lines = {
        "__bad_code__": [line_json(clw, hcpcs="XYZ")],
        "__second_line_unreadable__": [
            line_json(clw),
            line_json(clw, service_from="2026-13-01", units="two"),
        ],
        "__every_line_field__": [
            line_json(clw, charge=-5, service_to="2026-11-01", modifiers=["U6", "TOOLONG"]),
        ],
        "__pointers__": [
            line_json(clw, diagnosis_pointers=["Z"]),
            line_json(clw, diagnosis_pointers=[2]),
        ],
        "__future_service__": [line_json(clw, service_from="2026-11-30")],
    }
    if isinstance(overrides.get("lines"), str):
        overrides = {**overrides, "lines": lines[overrides["lines"]]}
    if overrides.get("billing_npi") == "__provider_b__":
        overrides = {**overrides, "billing_npi": clw.provider_b.npi}
    before = _stored()
    response = _submit(client, clw.billing, claim_json(clw, **overrides))
    assert response.status_code == 422, response.json()
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert sorted(_fields(response)) == sorted(fields)
    assert all(e["message"] for e in body["errors"])
    assert _stored() == before


def test_c1_unreadable_values_are_reported_with_everything_the_checks_find(client, clw):
    """One answer for all problems: a date the API cannot read and a code the checks refuse, on different
    lines, with 1-based line numbers as on the claim; a lower-case code and letters as pointers are fine."""
    data = claim_json(
        clw,
        lines=[
            line_json(clw, hcpcs=clw.nav_code.hcpcs.lower(), diagnosis_pointers=["A"]),
            line_json(clw, hcpcs="", service_to="11/31/2026"),
        ],
    )
    before = _stored()
    response = _submit(client, clw.billing, data)
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert set(errors) == {"lines.2.hcpcs", "lines.2.service_to"}
    assert errors["lines.2.service_to"]["message"].startswith("Line 2: 11/31/2026 is not a date")
    assert errors["lines.2.hcpcs"]["code"] == "required"
    assert response.json()["title"] == "The invoice has problems; nothing was saved."
    assert _stored() == before


def test_c4_who_may_submit(client, clw):
    data = claim_json(clw)
    client.force_login(clw.bob)  # care coordinator at provider A
    assert post(client, CLAIMS, data).status_code == 403
    client.force_login(clw.plan_users[Role.PROVIDER_RELATIONS])
    assert post(client, CLAIMS, data).status_code == 403
    client.logout()
    assert post(client, CLAIMS, data).status_code == 401
    assert Claim.objects.count() == 0


def test_api_key_of_a_billing_system_submits_and_reads_only_its_own(client, clw):
    authorize(clw)
    _, key_a = api_key_create(
        actor=None, organization=clw.provider_a, name="Billing", roles=[Role.PROVIDER_BILLING]
    )
    _, key_b = api_key_create(
        actor=None, organization=clw.provider_b, name="Billing", roles=[Role.PROVIDER_BILLING]
    )
    created = post(client, CLAIMS, claim_json(clw), Authorization=f"Bearer {key_a}")
    assert created.status_code == 201, created.json()
    url = created.json()["url"]
    assert url == f"{CLAIMS}/{created.json()['id']}"
    assert client.get(url, headers={"Authorization": f"Bearer {key_a}"}).status_code == 200
    assert client.get(url, headers={"X-API-Key": key_b}).status_code == 404
    assert client.get(CLAIMS, headers={"X-API-Key": key_b}).json()["count"] == 0


# --- One claim ----------------------------------------------------------------------------------------


def test_c5_claim_detail_is_scoped_and_audited(client, clw):
    authorize(clw)
    (claim,) = receive(clw, claim_input(clw))
    url = f"{CLAIMS}/{claim.uuid}"
    for user in (clw.alice, clw.billing, clw.processor, clw.plan_users[Role.REPORTING_DIRECTOR]):
        client.force_login(user)
        body = client.get(url).json()
        assert body["number"] == claim.number and body["lines"][0]["status"] == "paid"
        assert body["payment_clock"] == {
            "due_on": "2027-02-01",
            "business_days_left": 45,
            "state": "on_time",
            "label": "Due 02/01/2027 (45 business days left)",
        }
    assert (
        AuditEvent.objects.filter(object_type="claims.Claim", action="read", object_id=claim.uuid).count()
        == 4
    )
    for outsider in (clw.charlie, clw.bob, clw.other_plan_user):  # provider B, no claims role, other plan
        client.force_login(outsider)
        response = client.get(url)
        assert response.status_code == 404 and response.json()["status"] == 404
    client.force_login(clw.alice)
    assert client.get(f"{CLAIMS}/00000000-0000-0000-0000-000000000000").status_code == 404


# --- Pended claims: the processors' steps (optimistic locking) ----------------------------------------


@pytest.fixture
def pended(clw):
    """A navigation claim pended while an authorization request for it is under review."""
    authorize(clw, status="in_review")
    (claim,) = receive(clw, claim_input(clw, lines=[line(clw, charge="150.00")]))
    claim.refresh_from_db()
    assert claim.status == "pended"
    return claim


def _decide(client, claim, number=1, **data):
    return post(client, f"{CLAIMS}/{claim.uuid}/lines/{number}/decision", data)


def test_c5_processor_pays_a_pended_line_with_an_amount_and_a_note(client, clw, pended):
    client.force_login(clw.processor)
    detail = client.get(f"{CLAIMS}/{pended.uuid}").json()
    assert detail["allowed_actions"] == ["decide", "readjudicate"]
    assert detail["lines"][0]["status"] == "pended"
    response = _decide(client, pended, action="pay", amount="125.00", note="Approved by phone", version=1)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["outcome"], body["version"]) == ("adjudicated", "partially_paid", 2)
    (ln,) = body["lines"]
    assert (ln["status"], ln["paid_amount"], ln["reason_key"]) == ("paid", "125.00", "paid_by_reviewer")
    assert [(a["group_code"], a["reason_code"], a["amount"]) for a in ln["adjustments"]] == [
        ("CO", "45", "25.00")
    ]
    assert body["events"][-1]["kind"] == "line_decided" and "Approved by phone" in body["events"][-1]["text"]
    assert body["allowed_actions"] == []


def test_c5_deny_needs_a_note_and_a_stale_version_is_409_with_the_current_one(client, clw, pended):
    client.force_login(clw.processor)
    bad = _decide(client, pended, action="deny", note=" ", version=1)
    assert bad.status_code == 422 and _fields(bad) == ["note"]
    bad_pay = _decide(client, pended, action="pay", amount="999.00", note="x", version=1)
    assert bad_pay.status_code == 422 and _fields(bad_pay) == ["amount"]
    assert _decide(client, pended, number=7, action="deny", note="x", version=1).status_code == 422
    Claim.objects.filter(pk=pended.pk).update(version=2)  # someone else changed it since
    stale = _decide(client, pended, action="deny", note="Not a CS service", version=1)
    assert stale.status_code == 409
    problem = stale.json()
    assert (problem["version"], problem["current_status"]) == (2, "pended")
    assert problem["allowed_actions"] == ["decide", "readjudicate"]
    denied = _decide(client, pended, action="deny", note="Not a CS service", version=2)
    assert denied.status_code == 200
    (adj,) = denied.json()["lines"][0]["adjustments"]
    assert (adj["group_code"], adj["reason_code"], adj["amount"]) == (
        "CO",
        edit("denied_by_reviewer").carc,
        "150.00",
    )
    again = _decide(client, pended, action="deny", note="again", version=3)
    assert again.status_code == 409 and again.json()["current_status"] == "adjudicated"


def test_c5_only_the_plans_processors_decide_and_outsiders_get_404(client, clw, pended):
    client.force_login(clw.alice)
    refused = _decide(client, pended, action="pay", amount="100.00", note="pay me", version=1)
    assert refused.status_code == 403
    assert (refused.json()["version"], refused.json()["allowed_actions"]) == (1, [])
    client.force_login(clw.plan_users[Role.PROVIDER_RELATIONS])
    assert _decide(client, pended, action="deny", note="x", version=1).status_code == 403
    for outsider in (clw.charlie, clw.other_plan_user):
        client.force_login(outsider)
        assert _decide(client, pended, action="deny", note="x", version=1).status_code == 404
        assert post(client, f"{CLAIMS}/{pended.uuid}/readjudicate", {"version": 1}).status_code == 404
    pended.refresh_from_db()
    assert (pended.status, pended.version) == ("pended", 1)


def test_c5_readjudicate_after_the_authorization_is_decided(client, clw, pended):
    client.force_login(clw.processor)
    url = f"{CLAIMS}/{pended.uuid}/readjudicate"
    still = post(client, url, {"version": 1})  # the request is still under review: stays pended
    assert still.status_code == 200 and still.json()["status"] == "pended"
    version = still.json()["version"]
    authorize(clw, start=date(2026, 10, 1))
    assert post(client, url, {"version": version - 1}).status_code == 409
    done = post(client, url, {"version": version})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["lines"][0]["status"]) == ("adjudicated", "paid")
    not_pended = post(client, url, {"version": done.json()["version"]})
    assert not_pended.status_code == 409 and not_pended.json()["current_status"] == "adjudicated"
    assert post(client, url, {}).status_code == 422  # the version is required
