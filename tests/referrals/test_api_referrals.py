"""The referrals API: the API door (rules R1-R3), list and detail, status with optimistic locking (R5, R9),
assignment, member matching, onward referrals (R7, R8), destinations (N8) and the workflow table."""

from __future__ import annotations

import pytest

from cshub.accounts.roles import Role
from cshub.accounts.services import api_key_create
from cshub.core.models import AuditEvent
from cshub.referrals.models import Referral
from tests.referrals.factories import make_referral, member_details

pytestmark = pytest.mark.django_db

API = "/api/v1/referrals"


def _door_payload(rw, **overrides):
    """What a hospital's system sends for member_a to provider A (housing navigation)."""
    data = {
        "plan": "GS1",
        "service": "housing_transition_navigation",
        "receiving_provider": str(rw.provider_a.uuid),
        "referrer_kind": "hospital",
        "referrer_name": "Dana Discharge",
        "member_first_name": rw.member_a.first_name,
        "member_last_name": rw.member_a.last_name,
        "member_date_of_birth": rw.member_a.date_of_birth.isoformat(),
        "member_cin": rw.member_a.cin,
        "member_phone": "(916) 555-0101",
        "member_county": "Sacramento",
        "eligibility_information": "Discharged Friday; no stable housing.",
        "reason": "Needs housing navigation",
    }
    data.update(overrides)
    return data


def _post(client, path, data, **headers):
    return client.post(path, data, content_type="application/json", headers=headers or None)


# --- The API door (rules R1-R3) --------------------------------------------------------------------


def test_r1_api_door_creates_a_referral_with_channel_api_and_matches_the_member(client, rw):
    client.force_login(rw.dana)
    response = _post(client, API, _door_payload(rw))
    assert response.status_code == 201, response.json()
    body = response.json()
    referral = Referral.objects.get(uuid=body["id"])
    assert referral.channel == "api"
    assert body["number"] == referral.number and body["number"].startswith("R-2026-")
    assert (body["status"], body["status_label"], body["findhelp_status"], body["gravity_status"]) == (
        "pending",
        "Pending",
        "Pending",
        "requested",
    )
    assert body["member"] == str(rw.member_a.uuid)
    assert body["plan"]["plan_code"] == "GS1"
    assert body["receiving_provider"]["name"] == rw.provider_a.name
    assert body["referring_organization"]["name"] == rw.hospital.name
    assert body["service"] == {"key": "housing_transition_navigation", "name": referral.service.name}
    assert body["member_phone"] == "9165550101"
    assert body["eligibility_information"] == "Discharged Friday; no stable housing."
    assert body["version"] == 1
    # the referrer may only withdraw (rule R9: it follows the status, the provider works it)
    assert [s["status"] for s in body["allowed_next_steps"]] == ["closed"]
    assert body["outreach"] is None
    assert [e["kind"] for e in body["events"]] == ["created"]


def test_r1_api_door_with_no_provider_leaves_the_referral_to_the_plan(client, rw):
    client.force_login(rw.dana)
    response = _post(client, API, _door_payload(rw, receiving_provider=None, plan=str(rw.plan.uuid)))
    assert response.status_code == 201
    assert response.json()["receiving_provider"] is None
    client.force_login(rw.um)
    unassigned = client.get(API, {"box": "unassigned"}).json()
    assert [r["id"] for r in unassigned["items"]] == [response.json()["id"]]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"member_cin": "123"}, {"member_cin"}),
        ({"member_phone": "", "member_email": "", "member_address": ""}, {"member_phone"}),
        ({"service": "no_such_service", "receiving_provider": None}, {"service"}),
        ({"service": "no_such_service"}, {"receiving_provider", "service"}),
        ({"member_date_of_birth": "1975-02-30"}, {"member_date_of_birth"}),
        (
            {"member_date_of_birth": "2030-01-01", "member_first_name": ""},
            {"member_date_of_birth", "member_first_name"},
        ),
        ({"plan": "NOPE"}, {"plan"}),
        ({"kind": "xyz"}, {"kind"}),
        ({"referrer_kind": "martian"}, {"referrer_kind"}),
        ({"member_county": "Atlantis"}, {"member_county"}),
    ],
    ids=[
        "bad-cin",
        "no-contact",
        "unknown-service",
        "unknown-service-with-provider",
        "bad-date",
        "future-dob-and-no-name",
        "unknown-plan",
        "unknown-kind",
        "unknown-referrer-kind",
        "unknown-county",
    ],
)
def test_r3_api_door_bad_input_is_422_with_field_errors_and_saves_nothing(client, rw, overrides, fields):
    client.force_login(rw.dana)
    response = _post(client, API, _door_payload(rw, **overrides))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert {e["field"] for e in body["errors"]} == fields
    assert all(e["message"] for e in body["errors"])
    assert not Referral.objects.exists()


def test_api_door_refuses_a_provider_that_does_not_offer_the_service(client, rw):
    client.force_login(rw.dana)
    response = _post(client, API, _door_payload(rw, receiving_provider=str(rw.provider_b.uuid)))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["receiving_provider"]
    rw.intake_a.accepting = False
    rw.intake_a.save()
    full = _post(client, API, _door_payload(rw))
    assert full.status_code == 422 and "not accepting" in full.json()["errors"][0]["message"]
    assert not Referral.objects.exists()


def test_r1_plan_staff_do_not_use_the_referrer_door(client, rw):
    client.force_login(rw.um)
    response = _post(client, API, _door_payload(rw))
    assert response.status_code == 403
    assert response.json()["status"] == 403
    assert not Referral.objects.exists()


def test_r1_ecm_referral_by_api_goes_to_the_plan(client, rw):
    client.force_login(rw.erin)
    response = _post(
        client,
        API,
        _door_payload(rw, kind="ecm", service="", referrer_kind="ecm_provider", receiving_provider=None),
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["service"], body["receiving_provider"]) == ("ecm", None, None)


# --- Authentication ----------------------------------------------------------------------------------


def test_api_key_makes_and_reads_referrals_within_its_organization(client, rw):
    _, raw = api_key_create(
        actor=None, organization=rw.hospital, name="Discharge system", roles=[Role.DISCHARGE_PLANNER]
    )
    created = _post(client, API, _door_payload(rw), Authorization=f"Bearer {raw}")
    assert created.status_code == 201
    uuid = created.json()["id"]
    listing = client.get(API, headers={"X-API-Key": raw})
    assert [r["id"] for r in listing.json()["items"]] == [uuid]
    assert client.get(f"{API}/{uuid}", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert AuditEvent.objects.filter(object_type="referral", action="create", channel="api").exists()

    _, other = api_key_create(actor=None, organization=rw.provider_b, name="EHR", roles=[Role.PROVIDER_CEO])
    assert client.get(f"{API}/{uuid}", headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert client.get(API, headers={"Authorization": f"Bearer {other}"}).json()["count"] == 0


@pytest.mark.parametrize(
    "path",
    ["", "/workflow", "/worklist", "/destinations?service=recuperative_care", "/{uuid}", "/{uuid}/documents"],
)
def test_unauthenticated_is_401_problem(client, rw, path):
    referral = make_referral(rw)
    response = client.get(API + path.format(uuid=referral.uuid))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    wrong_key = client.get(API + path.format(uuid=referral.uuid), headers={"Authorization": "Bearer csh_x_y"})
    assert wrong_key.status_code == 401


def test_unauthenticated_cannot_post_a_referral(client, rw):
    assert _post(client, API, _door_payload(rw)).status_code == 401
    assert not Referral.objects.exists()


# --- List ------------------------------------------------------------------------------------------


def test_list_shows_each_party_its_referrals_with_filters(client, rw):
    housing = make_referral(rw)
    meals = make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals", provider="B")
    client.force_login(rw.um)
    everything = client.get(API).json()
    assert everything["count"] == 2
    item = next(i for i in everything["items"] if i["id"] == str(housing.uuid))
    assert item["member"] == str(rw.member_a.uuid)
    assert (item["member_first_name"], item["member_date_of_birth"]) == (
        rw.member_a.first_name,
        rw.member_a.date_of_birth.isoformat(),
    )
    assert item["channel"] == "portal" and item["referrer_kind"] == "hospital"
    assert item["closed"] is False and item["loop_closure_reason"] == ""
    assert [i["id"] for i in client.get(API, {"service": "medically_tailored_meals"}).json()["items"]] == [
        str(meals.uuid)
    ]
    assert client.get(API, {"q": rw.member_b.cin}).json()["count"] == 1
    assert client.get(API, {"status": "open"}).json()["count"] == 2
    assert client.get(API, {"status": "closed"}).json()["count"] == 0
    assert client.get(API, {"channel": "fax"}).json()["count"] == 0
    assert client.get(API, {"received_from": "2026-11-24"}).json()["count"] == 0
    assert client.get(API, {"received_to": "2026-11-23"}).json()["count"] == 2

    client.force_login(rw.bob)
    assert [i["id"] for i in client.get(API).json()["items"]] == [str(housing.uuid)]
    assert client.get(API, {"box": "sent"}).json()["count"] == 0
    client.force_login(rw.dana)
    assert client.get(API, {"box": "sent"}).json()["count"] == 2
    client.force_login(rw.charlie)
    assert [i["id"] for i in client.get(API).json()["items"]] == [str(meals.uuid)]


def test_list_duplicates_filter_shows_the_earlier_referral_number(client, rw):
    first = make_referral(rw)
    make_referral(rw)
    client.force_login(rw.bob)
    duplicates = client.get(API, {"duplicates": "true"}).json()["items"]
    assert [d["duplicate_of"] for d in duplicates] == [first.number]


def test_list_bad_filters_are_422_with_fields(client, rw):
    client.force_login(rw.bob)
    response = client.get(
        API,
        {
            "box": "mine",
            "status": "lost",
            "channel": "pigeon",
            "received_from": "2026-11-20",
            "received_to": "2026-11-01",
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"box", "status", "channel", "received_to"}
    bad_date = client.get(API, {"received_from": "2026-13-01"})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "received_from"


def test_list_refused_to_roles_without_referrals(client, rw):
    client.force_login(rw.plan_users[Role.NETWORK])  # network staff see no members (rule D4)
    assert client.get(API).status_code == 403


def test_list_is_audited_with_the_members_of_the_page(client, rw):
    make_referral(rw)
    make_referral(rw, member=rw.member_b, service_key="recuperative_care")
    client.force_login(rw.um)
    client.get(API, {"status": "open"})
    event = AuditEvent.objects.get(actor=rw.um, object_type="referral", action="list")
    assert set(event.member_ids) == {str(rw.member_a.uuid), str(rw.member_b.uuid)}
    assert event.channel == "api"
    assert "open" in event.detail["filters"]


def test_list_query_count_does_not_grow_with_the_referrals(client, rw, django_assert_max_num_queries):
    for _ in range(5):
        make_referral(rw)
    client.force_login(rw.um)
    with django_assert_max_num_queries(7 + 7):  # + one query per related table
        five = client.get(API)
    assert five.json()["count"] == 5
    for _ in range(15):
        make_referral(rw, member=rw.member_b, service_key="recuperative_care")
    with django_assert_max_num_queries(7 + 7):  # + one query per related table
        twenty = client.get(API)
    assert twenty.json()["count"] == 20 and len(twenty.json()["items"]) == 20


# --- Detail ----------------------------------------------------------------------------------------


def test_detail_for_the_provider_has_next_steps_history_and_outreach_progress(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    body = client.get(f"{API}/{referral.uuid}").json()
    steps = {s["status"]: s for s in body["allowed_next_steps"]}
    assert list(steps) == ["accepted", "not_eligible", "no_capacity", "referred_elsewhere", "closed"]
    assert steps["no_capacity"]["reason_required"] is True
    assert "Waitlist full" in steps["no_capacity"]["reasons"]
    assert body["outreach"] == {
        "received_on": "2026-11-23",
        "deadline": "2026-12-23",
        "days_left": 30,
        "attempts": 0,
        "attempts_in_window": 0,
        "modalities": [],
        "o3_met": False,
        "missing": body["outreach"]["missing"],
        "outcome": "",
    }
    assert len(body["outreach"]["missing"]) == 2
    assert body["member_county"] == "Sacramento"
    assert body["eligibility_checklist"] and body["eligibility_checklist"][0]["text"]


def test_detail_read_is_audited_and_out_of_scope_is_404_and_audited_as_denied(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.alice)
    assert client.get(f"{API}/{referral.uuid}").status_code == 200
    read = AuditEvent.objects.get(actor=rw.alice, object_type="referral", action="read")
    assert read.member_ids == [str(rw.member_a.uuid)] and read.channel == "api"
    client.force_login(rw.charlie)
    response = client.get(f"{API}/{referral.uuid}")
    assert response.status_code == 404 and response.json()["title"] == "Not found."
    assert AuditEvent.objects.filter(actor=rw.charlie, action="denied", object_id=str(referral.uuid)).exists()
    garbage = client.get(f"{API}/not-a-uuid")
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["field"] == "uuid"


# --- Status (rules R5, R9) -----------------------------------------------------------------------


def test_r5_status_change_moves_the_referral_and_returns_the_new_version(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    response = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "accepted", "version": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["version"]) == ("accepted", 2)
    assert body["events"][-1]["kind"] == "status" and body["events"][-1]["to_status"] == "accepted"
    assert body["events"][-1]["actor"] == str(rw.bob)

    closed = _post(
        client,
        f"{API}/{referral.uuid}/status",
        {"to_status": "no_capacity", "reason": "Waitlist full", "version": 2},
    ).json()
    assert (closed["status"], closed["closed"], closed["loop_closure_reason"]) == (
        "no_capacity",
        True,
        "Provider has no capacity",
    )
    assert closed["allowed_next_steps"] == []


def test_r5_stale_version_is_409_and_the_referral_is_unchanged(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    assert (
        _post(client, f"{API}/{referral.uuid}/status", {"to_status": "accepted", "version": 1}).status_code
        == 200
    )
    client.force_login(rw.alice)
    stale = _post(
        client,
        f"{API}/{referral.uuid}/status",
        {"to_status": "no_capacity", "reason": "Waitlist full", "version": 1},
    )
    assert stale.status_code == 409
    assert stale["Content-Type"] == "application/problem+json"
    body = stale.json()
    assert "changed by someone else" in body["title"]
    assert (body["version"], body["current_status"]) == (2, "accepted")
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("accepted", 2)


def test_r5_invalid_transition_is_409_listing_the_allowed_next_steps(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    response = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "got_help", "version": 1})
    assert response.status_code == 409
    body = response.json()
    assert [s["status"] for s in body["allowed_next_steps"]] == [
        "accepted",
        "not_eligible",
        "no_capacity",
        "referred_elsewhere",
        "closed",
    ]
    assert "Allowed next steps" in body["title"]
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("pending", 1)


def test_r5_a_party_not_allowed_is_403_with_its_own_next_steps(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.dana)
    response = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "accepted", "version": 1})
    assert response.status_code == 403
    assert response.json()["allowed_next_steps"] == [{"status": "closed", "label": "Closed"}]
    withdrawn = _post(
        client,
        f"{API}/{referral.uuid}/status",
        {"to_status": "closed", "reason": "Withdrawn by the referrer", "version": 1},
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "closed"


def test_r5_missing_reason_and_unknown_status_are_422(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    no_reason = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "no_capacity", "version": 1})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    unknown = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "teleported", "version": 1})
    assert unknown.status_code == 422
    no_version = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "accepted"})
    assert no_version.status_code == 422 and no_version.json()["errors"][0]["field"] == "version"


# --- Assignment and member matching --------------------------------------------------------------


def test_plan_assigns_a_referral_left_to_it(client, rw):
    referral = make_referral(rw, provider=None)
    client.force_login(rw.dana)
    assert (
        _post(
            client, f"{API}/{referral.uuid}/assign", {"provider": str(rw.provider_a.uuid), "version": 1}
        ).status_code
        == 403
    )
    client.force_login(rw.um)
    wrong = _post(
        client, f"{API}/{referral.uuid}/assign", {"provider": str(rw.provider_b.uuid), "version": 1}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "provider"
    response = _post(
        client, f"{API}/{referral.uuid}/assign", {"provider": str(rw.provider_a.uuid), "version": 1}
    )
    assert response.status_code == 200
    assert response.json()["receiving_provider"]["id"] == str(rw.provider_a.uuid)
    assert response.json()["version"] == 2
    stale = _post(
        client, f"{API}/{referral.uuid}/assign", {"provider": str(rw.provider_a.uuid), "version": 1}
    )
    assert stale.status_code == 409 and stale.json()["version"] == 2


def test_provider_matches_an_unmatched_referral_to_the_member(client, rw):
    referral = make_referral(rw, member=False, member_details=member_details(None, cin=""))
    assert referral.member is None
    client.force_login(rw.bob)
    bad = _post(client, f"{API}/{referral.uuid}/match-member", {"cin": "123", "date_of_birth": "1980-05-17"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cin"
    bad_date = _post(
        client, f"{API}/{referral.uuid}/match-member", {"cin": rw.member_a.cin, "date_of_birth": "17/05/1980"}
    )
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "date_of_birth"
    nobody = _post(
        client, f"{API}/{referral.uuid}/match-member", {"cin": rw.member_a.cin, "date_of_birth": "1990-01-01"}
    )
    assert nobody.status_code == 422
    response = _post(
        client,
        f"{API}/{referral.uuid}/match-member",
        {"cin": rw.member_a.cin.lower(), "date_of_birth": rw.member_a.date_of_birth.isoformat()},
    )
    assert response.status_code == 200
    assert response.json()["member"] == str(rw.member_a.uuid)
    client.force_login(rw.dana)
    assert (
        _post(
            client,
            f"{API}/{referral.uuid}/match-member",
            {"cin": rw.member_a.cin, "date_of_birth": rw.member_a.date_of_birth.isoformat()},
        ).status_code
        == 403
    )


# --- Onward (rules R7, R8) -----------------------------------------------------------------------


def test_r7_provider_refers_the_member_on_to_another_cs_provider(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    response = _post(
        client,
        f"{API}/{referral.uuid}/onward",
        {
            "service_key": "medically_tailored_meals",
            "provider": str(rw.provider_b.uuid),
            "reason": "Needs meals",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["receiving_provider"]["id"] == str(rw.provider_b.uuid)
    assert body["referring_organization"]["id"] == str(rw.provider_a.uuid)
    assert body["channel"] == "cs_to_cs" and body["source_referral"] == referral.number
    no_reason = _post(client, f"{API}/{referral.uuid}/onward", {"service_key": "ecm", "reason": ""})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    unknown = _post(client, f"{API}/{referral.uuid}/onward", {"service_key": "nope", "reason": "x"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "service"


def test_r8_provider_refers_the_member_to_ecm_and_the_referrer_may_not(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.dana)
    assert (
        _post(client, f"{API}/{referral.uuid}/onward", {"service_key": "ecm", "reason": "x"}).status_code
        == 403
    )
    client.force_login(rw.bob)
    response = _post(
        client, f"{API}/{referral.uuid}/onward", {"service_key": "ecm", "reason": "Complex needs"}
    )
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["receiving_provider"]) == ("ecm", None)


# --- Destinations and the workflow ----------------------------------------------------------------


def test_n8_destinations_list_providers_for_a_service_and_county(client, rw):
    client.force_login(rw.dana)
    meals = client.get(f"{API}/destinations", {"service": "medically_tailored_meals"}).json()["items"]
    assert [d["name"] for d in meals] == sorted([rw.provider_a.name, rw.provider_b.name])
    assert all(d["accepting"] for d in meals)
    housing = client.get(
        f"{API}/destinations", {"service": "housing_transition_navigation", "county": "Yolo"}
    )
    assert [d["id"] for d in housing.json()["items"]] == [str(rw.provider_a.uuid)]
    assert (
        client.get(
            f"{API}/destinations", {"service": "housing_transition_navigation", "county": "Kern"}
        ).json()["count"]
        == 0
    )
    # provider B lists no counties: it takes referrals from every county, as routing reads it
    kern = client.get(f"{API}/destinations", {"service": "medically_tailored_meals", "county": "Kern"}).json()
    assert [d["id"] for d in kern["items"]] == [str(rw.provider_b.uuid)]
    rw.intake_a.accepting = False
    rw.intake_a.save()
    assert client.get(f"{API}/destinations", {"service": "recuperative_care"}).json()["count"] == 0
    full = client.get(
        f"{API}/destinations", {"service": "recuperative_care", "accepting_only": "false"}
    ).json()
    assert [(d["name"], d["accepting"]) for d in full["items"]] == [(rw.provider_a.name, False)]
    bad = client.get(f"{API}/destinations", {"service": "nope", "county": "Atlantis"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"service", "county"}


def test_d9_workflow_gives_statuses_with_findhelp_and_gravity_and_the_transition_table(client, rw):
    client.force_login(rw.dana)
    body = client.get(f"{API}/workflow").json()
    statuses = {s["key"]: s for s in body["statuses"]}
    assert statuses["pending"]["findhelp"] == "Pending" and statuses["pending"]["gravity"] == "requested"
    assert statuses["got_help"]["closed"] and statuses["got_help"]["loop_closure"] == "Services received"
    assert "Waitlist full" in statuses["no_capacity"]["reasons"]
    transitions = {(t["from_status"], t["to_status"]): t for t in body["transitions"]}
    assert transitions[("pending", "accepted")]["by"] == ["plan", "provider"]
    assert transitions[("accepted", "unable_to_reach")]["guard"] == "outreach_o3"
    assert body["outreach"] == {"window_days": 30, "min_attempts": 5, "min_modalities": 3}


# --- The OpenAPI document -------------------------------------------------------------------------


def test_openapi_document_lists_every_referrals_endpoint(client, db):
    schema = client.get("/api/openapi.json", follow=True).json()
    paths = schema["paths"]
    expected = {
        "/api/v1/referrals": {"get", "post"},
        "/api/v1/referrals/workflow": {"get"},
        "/api/v1/referrals/destinations": {"get"},
        "/api/v1/referrals/worklist": {"get"},
        "/api/v1/referrals/{uuid}": {"get"},
        "/api/v1/referrals/{uuid}/status": {"post"},
        "/api/v1/referrals/{uuid}/assign": {"post"},
        "/api/v1/referrals/{uuid}/match-member": {"post"},
        "/api/v1/referrals/{uuid}/onward": {"post"},
        "/api/v1/referrals/{uuid}/outreach-attempts": {"get", "post"},
        "/api/v1/referrals/{uuid}/outreach-end": {"post"},
        "/api/v1/referrals/{uuid}/first-contact-checks": {"get", "post"},
        "/api/v1/referrals/{uuid}/enrollments": {"get", "post"},
        "/api/v1/referrals/{uuid}/documents": {"get", "post"},
        "/api/v1/referrals/{uuid}/documents/{doc_uuid}/download": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
    door = paths["/api/v1/referrals"]["post"]
    assert "201" in door["responses"] and "422" in door["responses"]
    assert "409" in paths["/api/v1/referrals/{uuid}/status"]["post"]["responses"]
    assert paths["/api/v1/referrals/{uuid}"]["get"]["tags"] == ["referrals"]
