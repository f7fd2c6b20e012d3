"""The authorizations API door and reads: submit by API (rules A2-A6, channel "api" of A4), refusals with
field errors and nothing saved, hospitals (A5), presumptive services (G2), list and queue (A10), detail,
required documents (A6), privacy (provider B never sees provider A's request) and the OpenAPI document."""

from __future__ import annotations

import uuid

import pytest

from cshub.accounts.roles import Role
from cshub.accounts.services import api_key_create
from cshub.authorizations.models import AuthorizationRequest, RequestDocument
from cshub.core.models import AuditEvent, County
from tests.authorizations.api_helpers import API, b64_file, copies, payload, post
from tests.authorizations.conftest import START

pytestmark = pytest.mark.django_db

REQUESTS = f"{API}/requests"


@pytest.fixture(autouse=True)
def _member_a_in_sacramento(aw):
    aw.member_a.county = County.objects.get(name="Sacramento")
    aw.member_a.save(update_fields=["county"])


def _submit(client, aw, **overrides):
    client.force_login(aw.bob)
    response = post(client, REQUESTS, payload(aw, **overrides))
    assert response.status_code == 201, response.json()
    return response.json()


# --- The API door (rules A2-A6) ----------------------------------------------------------------------


def test_a3_a4_api_door_creates_a_request_with_channel_api_and_its_clock(client, aw):
    body = _submit(client, aw, notes="Discharged Friday")
    saved = AuthorizationRequest.objects.get(uuid=body["id"])
    assert saved.channel == "api" and saved.submitted_by == aw.bob
    assert body["number"] == saved.number and body["number"].startswith("A-2026-")
    assert (body["status"], body["status_label"]) == ("received", "Waiting for review")
    assert (body["urgency"], body["kind"], body["channel"]) == ("expedited", "initial", "api")
    assert body["service"]["key"] == "housing_transition_navigation"
    assert (body["hcpcs"], body["modifier"]) == (saved.code.hcpcs, saved.code.modifier)
    assert body["member"] == str(aw.member_a.uuid) and body["member_county"] == "Sacramento"
    assert body["requesting_organization"]["name"] == aw.provider_a.name
    assert body["servicing_npi"] == aw.npi_a and body["diagnosis_codes"] == ["Z59.01"]
    assert body["version"] == 1 and body["due_at"].startswith("2026-11-26")
    assert body["time_left"] == {"state": "on_track", "label": "3 days left"}
    assert body["determination"] is None and body["authorization"] is None
    assert [e["kind"] for e in body["events"]] == ["received"]
    assert [d["file_name"] for d in body["documents"]] == ["assessment.pdf"]
    assert body["documents"][0]["download_url"].startswith(f"{REQUESTS}/{body['id']}/documents/")
    assert body["allowed_actions"] == ["withdraw"]
    assert AuditEvent.objects.filter(
        object_type="authorization_request", action="create", channel="api", object_id=body["id"]
    ).exists()


def test_a6_documents_answer_checklist_items_by_name(client, aw):
    items = payload(aw)["checklist_confirmed"]
    body = _submit(
        client,
        aw,
        checklist_confirmed=items[1:],
        documents=[b64_file("assessment.pdf", checklist_item=items[0]), b64_file("id.pdf")],
    )
    assert [(d["kind"], d["checklist_item"]) for d in body["documents"]] == [
        ("required", items[0]),
        ("other", ""),
    ]
    checklist = client.get(f"{REQUESTS}/{body['id']}/required-documents").json()
    assert checklist["items"] == items
    assert checklist["attached"] == [items[0]] and checklist["confirmed"] == sorted(items[1:])


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"requesting_npi": "1234567890"}, {"requesting_npi"}),
        ({"diagnosis_codes": ["Z59.01", "QQQ"]}, {"diagnosis_codes[1]"}),
        ({"hcpcs": "T9999"}, {"hcpcs"}),
        ({"units": 0, "end_date": "2026-11-01"}, {"units", "end_date"}),
        ({"kind": "forever"}, {"kind"}),
        ({"extra_modifiers": ["XYZ"]}, {"extra_modifiers"}),
        ({"service": "no_such_service"}, {"service"}),
        ({"member": str(uuid.uuid4())}, {"member"}),
        ({"member": "__member_b__"}, {"member"}),  # outside provider A's scope: unknown, not "forbidden"
        ({"start_date": "2026-13-01"}, {"start_date"}),
        ({"hcpcs": None}, {"hcpcs"}),
        ({"documents": [b64_file(content_base64="%%% not base64 %%%")]}, {"documents[0]"}),
        ({"documents": [b64_file(), b64_file("x.pdf", content=b"MZ\x90\x00 exe")]}, {"documents[1]"}),
        ({"documents": [], "checklist_confirmed": []}, {"documents"}),
        ({"urgency": "routine"}, {"urgency_reason"}),
        ({"end_date": "2027-12-31"}, {"end_date"}),  # the catalog's 12 months
        (
            {"previous_authorization": str(uuid.uuid4()), "kind": "reauthorization"},
            {"previous_authorization"},
        ),
        ({"servicing_organization": "__provider_b__"}, {"servicing_organization"}),
    ],
    ids=[
        "bad-npi",
        "bad-diagnosis",
        "unknown-code",
        "no-units-and-dates-reversed",
        "unknown-kind",
        "bad-modifier",
        "unknown-service",
        "unknown-member",
        "member-out-of-scope",
        "bad-date",
        "missing-code",
        "bad-base64",
        "not-a-pdf",
        "no-documents",
        "urgency-without-reason",
        "longer-than-catalog",
        "unknown-previous-authorization",
        "provider-serves-for-another",
    ],
)
def test_a3_bad_input_is_422_with_field_errors_and_saves_nothing(client, aw, overrides, fields):
    placeholders = {"__member_b__": str(aw.member_b.uuid), "__provider_b__": str(aw.provider_b.uuid)}
    overrides = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    client.force_login(aw.bob)
    data = payload(aw)
    data.update(overrides)
    response = post(client, REQUESTS, data)
    assert response.status_code == 422, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert fields <= _fields(response), response.json()
    assert not AuthorizationRequest.objects.exists()
    assert not RequestDocument.objects.exists()


def test_a2_not_enrolled_is_refused_naming_what_is_missing(client, aw):
    aw.member_b.care_relationships.create(organization=aw.provider_a, start_date=START)
    client.force_login(aw.bob)
    response = post(client, REQUESTS, payload(aw, member=str(aw.member_b.uuid)))
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "about:blank#authorization_not_enrolled" and "Rule A2" in body["title"]
    assert _fields(response) == {"member"}
    assert not AuthorizationRequest.objects.exists()


def test_g2_service_needing_no_authorization_points_to_service_records(client, aw):
    client.force_login(aw.bob)
    response = post(client, REQUESTS, payload(aw, service="sobering_centers", hcpcs="H0014", modifier="U6"))
    assert response.status_code == 422
    assert response.json()["type"] == "about:blank#authorization_not_required"
    assert not AuthorizationRequest.objects.exists()


def test_second_open_request_for_the_same_service_is_409(client, aw):
    first = _submit(client, aw)
    again = post(client, REQUESTS, payload(aw))
    assert again.status_code == 409
    assert again.json()["errors"][0] == {
        "field": "service",
        "message": f"{first['number']} is open.",
        "code": "duplicate",
    }
    assert AuthorizationRequest.objects.count() == 1


def test_a4_plan_staff_and_readers_cannot_submit_by_api(client, aw):
    for user in (aw.um, aw.plan_users[Role.CLAIMS_PROCESSOR]):
        client.force_login(user)
        response = post(client, REQUESTS, payload(aw))
        assert response.status_code == 403 and response.json()["type"] == "about:blank#forbidden"
    assert post(client.__class__(), REQUESTS, payload(aw)).status_code == 401
    assert not AuthorizationRequest.objects.exists()


def test_a5_g2_hospital_submits_recuperative_care_with_the_discharge_plan_and_it_is_presumptive(client, aw):
    aw.member_a.care_relationships.create(organization=aw.hospital, start_date=START)
    data = payload(
        aw,
        service="recuperative_care",
        requesting_npi=aw.npi_hospital,
        servicing_organization=str(aw.provider_a.uuid),
        member_agreement_attested=True,
    )
    plan_item = next(i for i in data["checklist_confirmed"] if "discharge" in i.lower())
    client.force_login(aw.dana)
    refused = post(client, REQUESTS, data)
    assert refused.status_code == 422 and "discharge_plan" in {e["code"] for e in refused.json()["errors"]}
    data["documents"] = [b64_file("discharge-plan.pdf", checklist_item=plan_item)]
    response = post(client, REQUESTS, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["requesting_organization"]["name"] == aw.hospital.name
    assert body["servicing_organization"]["name"] == aw.provider_a.name
    assert (body["status"], body["presumptive"]) == ("approved", True)
    assert body["authorization"]["presumptive"] and body["authorization"]["retrospective_review_due"]
    assert body["determination"]["outcome"] == "approved"
    assert body["allowed_actions"] == []
    client.force_login(aw.um)
    detail = client.get(f"{REQUESTS}/{body['id']}").json()
    assert detail["allowed_actions"] == ["retrospective-review"]
    assert client.get(f"{API}/reviewer-counts").json()["retrospective"] == 1


def test_api_key_submits_and_reads_within_its_organization(client, aw):
    _, raw = api_key_create(actor=None, organization=aw.provider_a, name="EHR", roles=[Role.CARE_COORDINATOR])
    created = post(client, REQUESTS, payload(aw), Authorization=f"Bearer {raw}")
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    listing = client.get(REQUESTS, headers={"X-API-Key": raw}).json()
    assert [r["id"] for r in listing["items"]] == [request_id]
    assert (
        client.get(f"{REQUESTS}/{request_id}", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    )
    _, other = api_key_create(actor=None, organization=aw.provider_b, name="EHR", roles=[Role.PROVIDER_CEO])
    assert (
        client.get(f"{REQUESTS}/{request_id}", headers={"Authorization": f"Bearer {other}"}).status_code
        == 404
    )
    assert client.get(REQUESTS, headers={"Authorization": f"Bearer {other}"}).json()["count"] == 0


# --- Lists: all requests and the review queue (rule A10) ---------------------------------------------


def test_a10_list_filters_and_is_audited_for_each_party(client, aw):
    body = _submit(client, aw)
    client.force_login(aw.um)
    assert [r["id"] for r in client.get(REQUESTS).json()["items"]] == [body["id"]]
    for params, count in [
        ({"status": "open"}, 1),
        ({"status": "decided"}, 0),
        ({"status": "received"}, 1),
        ({"service": "housing_transition_navigation"}, 1),
        ({"service": "recuperative_care"}, 0),
        ({"urgency": "routine"}, 0),
        ({"county": "Sacramento"}, 1),
        ({"county": "Yolo"}, 0),
        ({"provider": str(aw.provider_a.uuid)}, 1),
        ({"provider": str(aw.provider_b.uuid)}, 0),
        ({"q": aw.member_a.cin}, 1),
        ({"q": body["number"]}, 1),
        ({"q": "Nobody"}, 0),
        ({"mine": "true"}, 0),
        ({"received_from": "2026-11-23", "received_to": "2026-11-23"}, 1),
        ({"received_from": "2026-11-24"}, 0),
    ]:
        assert client.get(REQUESTS, params).json()["count"] == count, params
    event = AuditEvent.objects.filter(
        actor=aw.um, object_type="authorization_request", action="list"
    ).earliest("id")
    assert event.member_ids == [str(aw.member_a.uuid)] and event.channel == "api"
    item = client.get(REQUESTS).json()["items"][0]
    assert item["member_cin"] == aw.member_a.cin and item["time_left"]["state"] == "on_track"
    client.force_login(aw.charlie)
    assert client.get(REQUESTS).json()["count"] == 0
    client.force_login(aw.other_plan_user)
    assert client.get(REQUESTS).json()["count"] == 0


def test_list_bad_filters_are_422_with_fields(client, aw):
    client.force_login(aw.um)
    response = client.get(
        REQUESTS,
        {
            "status": "lost",
            "service": "nope",
            "urgency": "whenever",
            "received_from": "2026-11-20",
            "received_to": "2026-11-01",
        },
    )
    assert response.status_code == 422
    assert _fields(response) == {"status", "service", "urgency", "received_to"}
    assert client.get(REQUESTS, {"provider": "not-a-uuid"}).status_code == 422


def test_list_refused_to_roles_without_authorizations(client, aw):
    client.force_login(aw.plan_users[Role.NETWORK])
    assert client.get(REQUESTS).status_code == 403


def test_a10_queue_is_for_reviewers_soonest_due_first_with_time_left(client, aw):
    navigation = _submit(client, aw)
    deposits = _submit(client, aw, service="housing_deposits", units=1, end_date="2026-11-23")
    client.force_login(aw.um)
    rows = client.get(f"{REQUESTS}/queue").json()["items"]
    due = [r["due_at"] for r in rows]
    assert due == sorted(due) and {r["id"] for r in rows} == {navigation["id"], deposits["id"]}
    assert all(r["time_left"]["state"] in ("on_track", "due_soon", "overdue") for r in rows)
    assert client.get(f"{REQUESTS}/queue", {"service": "housing_deposits"}).json()["count"] == 1
    event = AuditEvent.objects.filter(actor=aw.um, action="list").latest("id")
    assert event.detail["purpose"] == "queue"
    client.force_login(aw.bob)
    assert client.get(f"{REQUESTS}/queue").status_code == 403


def test_list_query_count_does_not_grow_with_the_requests(client, aw, django_assert_max_num_queries):
    body = _submit(client, aw)
    first = AuthorizationRequest.objects.get(uuid=body["id"])
    copies(first, 4)
    client.force_login(aw.um)
    with django_assert_max_num_queries(6 + 8):  # + one query per related table
        five = client.get(REQUESTS)
    assert five.json()["count"] == 5
    copies(first, 15)
    with django_assert_max_num_queries(6 + 8):
        twenty = client.get(REQUESTS)
    assert twenty.json()["count"] == 20 and len(twenty.json()["items"]) == 20
    with django_assert_max_num_queries(6 + 8):
        queue = client.get(f"{REQUESTS}/queue")
    assert queue.json()["count"] == 20


# --- Detail and privacy ------------------------------------------------------------------------------


def test_detail_read_is_audited_and_provider_b_never_sees_provider_as_request(client, aw):
    body = _submit(client, aw)
    client.force_login(aw.alice)
    assert client.get(f"{REQUESTS}/{body['id']}").status_code == 200
    read = AuditEvent.objects.get(actor=aw.alice, object_type="authorization_request", action="read")
    assert read.member_ids == [str(aw.member_a.uuid)] and read.channel == "api"
    for outsider in (aw.charlie, aw.other_plan_user, aw.dana):
        client.force_login(outsider)
        response = client.get(f"{REQUESTS}/{body['id']}")
        assert response.status_code == 404
        assert response.json() == {
            "type": "about:blank#not_found",
            "title": "Not found.",
            "status": 404,
            "detail": "No such authorization request",
        }
    assert AuditEvent.objects.filter(actor=aw.charlie, action="denied", object_id=body["id"]).exists()
    garbage = client.get(f"{REQUESTS}/not-a-uuid")
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["field"] == "uuid"


# --- Required documents (rule A6) ----------------------------------------------------------------------


def test_a6_required_documents_of_a_service_for_each_kind(client, aw):
    client.force_login(aw.bob)
    initial = client.get(f"{API}/required-documents", {"service": "housing_transition_navigation"})
    assert initial.status_code == 200
    assert (
        initial.json()["items"] == payload(aw)["checklist_confirmed"] and initial.json()["kind"] == "initial"
    )
    again = client.get(
        f"{API}/required-documents", {"service": "housing_transition_navigation", "kind": "reauthorization"}
    ).json()
    assert again["items"] == payload(aw, kind="reauthorization")["checklist_confirmed"]
    bad = client.get(f"{API}/required-documents", {"service": "nope", "kind": "forever"})
    assert bad.status_code == 422 and _fields(bad) == {"service"}
    bad_kind = client.get(
        f"{API}/required-documents", {"service": "housing_transition_navigation", "kind": "forever"}
    )
    assert bad_kind.status_code == 422 and _fields(bad_kind) == {"kind"}


# --- The OpenAPI document ---------------------------------------------------------------------------


def test_openapi_document_builds_and_lists_every_authorizations_endpoint(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/authorizations/requests": {"get", "post"},
        "/api/v1/authorizations/requests/queue": {"get"},
        "/api/v1/authorizations/requests/{uuid}": {"get"},
        "/api/v1/authorizations/requests/{uuid}/required-documents": {"get"},
        "/api/v1/authorizations/requests/{uuid}/documents/{doc_uuid}": {"get"},
        "/api/v1/authorizations/requests/{uuid}/letters/{letter_uuid}": {"get"},
        "/api/v1/authorizations/required-documents": {"get"},
        "/api/v1/authorizations/timeliness": {"get"},
        "/api/v1/authorizations/reviewer-counts": {"get"},
        "/api/v1/authorizations/service-records": {"get", "post"},
        "/api/v1/authorizations/members/{uuid}/authorizations": {"get"},
    }
    for step in (
        "take",
        "release",
        "urgency",
        "pend",
        "extend",
        "decide",
        "retrospective-review",
        "answer",
        "withdraw",
    ):
        expected[f"/api/v1/authorizations/requests/{{uuid}}/{step}"] = {"post"}
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
    door = paths["/api/v1/authorizations/requests"]["post"]
    assert {"201", "409", "422"} <= set(door["responses"])
    assert "409" in paths["/api/v1/authorizations/requests/{uuid}/decide"]["post"]["responses"]
    assert paths["/api/v1/authorizations/requests/{uuid}"]["get"]["tags"] == ["authorizations"]
