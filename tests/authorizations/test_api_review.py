"""The authorizations API for review and after: take, pend, answer, urgency, extend, decide, withdraw and
retrospective review with optimistic locking (rules A7-A10, G2), letters and files downloaded (A9), the
timeliness report and reviewer counts (A8), services without authorization (G2); 403 by role and 404 for
outsiders on every endpoint (provider B never sees provider A's request)."""

from __future__ import annotations

import uuid

import pytest

from cshub.accounts.roles import Role
from cshub.authorizations.models import (
    Authorization,
    Determination,
    InformationRequest,
    RequestDocument,
    RequestEvent,
    ServiceRecord,
)
from cshub.core.models import AuditEvent
from tests.authorizations.api_helpers import API, PDF, b64_file, post
from tests.authorizations.conftest import submit

pytestmark = pytest.mark.django_db

REQUESTS = f"{API}/requests"


@pytest.fixture
def auth_request(aw):
    return submit(aw)


def _step(client, auth_request, step, **data):
    return post(client, f"{REQUESTS}/{auth_request.uuid}/{step}", data)


def _ok(response):
    assert response.status_code == 200, response.json()
    return response.json()


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def _download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- The whole path by API ---------------------------------------------------------------------------


def test_a7_a9_submit_take_pend_answer_decide_then_the_provider_sees_the_determination_and_letters(
    client, aw, auth_request
):
    client.force_login(aw.um)
    body = _ok(_step(client, auth_request, "take", version=1))
    assert (body["status"], body["version"], body["reviewer"]) == ("in_review", 2, str(aw.um))
    assert body["allowed_actions"] == ["release", "urgency", "pend", "extend", "decide"]
    body = _ok(
        _step(
            client,
            auth_request,
            "pend",
            version=2,
            question="Send the housing assessment.",
            due_on="2026-11-24",
        )
    )
    assert body["status"] == "pended" and body["information_complete_at"] is None
    assert body["information_requests"][0]["question"] == "Send the housing assessment."
    assert body["information_requests"][0]["answered_at"] is None

    client.force_login(aw.bob)
    seen = client.get(f"{REQUESTS}/{auth_request.uuid}").json()
    assert seen["allowed_actions"] == ["answer", "withdraw"]
    body = _ok(
        _step(
            client,
            auth_request,
            "answer",
            version=body["version"],
            answer="Attached.",
            files=[b64_file("housing-assessment.pdf")],
        )
    )
    assert body["status"] == "in_review" and body["information_complete_at"] is not None
    answered = body["information_requests"][0]
    assert (answered["answer"], answered["answered_by"]) == ("Attached.", str(aw.bob))
    extra = next(d for d in body["documents"] if d["file_name"] == "housing-assessment.pdf")
    assert extra["kind"] == "information" and extra["information_request"] == answered["id"]
    assert _download(client, extra["download_url"]) == PDF

    client.force_login(aw.um)
    body = _ok(_step(client, auth_request, "decide", version=body["version"], outcome="approved"))
    assert body["status"] == "approved" and body["allowed_actions"] == []

    client.force_login(aw.bob)
    seen = client.get(f"{REQUESTS}/{auth_request.uuid}").json()
    determination = seen["determination"]
    assert (determination["outcome"], determination["authorized_units"], determination["on_time"]) == (
        "approved",
        30,
        True,
    )
    assert determination["decided_by"] == str(aw.um)
    assert seen["authorization"]["number"].startswith("AU-2026-") and seen["authorization"]["units"] == 30
    assert [e["kind"] for e in seen["events"]] == ["received", "taken", "pended", "answered", "decided"]
    assert seen["time_left"] == {"state": "decided", "label": "on time"}
    recipients = {letter["recipient"] for letter in seen["letters"]}
    assert "member" in recipients and "servicing_provider" in recipients
    letter = next(letter for letter in seen["letters"] if letter["recipient"] == "servicing_provider")
    assert _download(client, letter["download_url"]).startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        actor=aw.bob, action="read", object_type="authorization_request", detail__purpose="letter"
    ).exists()
    authorizations = client.get(f"{API}/members/{aw.member_a.uuid}/authorizations").json()
    assert [a["number"] for a in authorizations] == [seen["authorization"]["number"]]

    client.force_login(aw.um)
    report = client.get(f"{API}/timeliness", {"start": "2026-11-01", "end": "2026-11-30"}).json()
    assert (report["decided"], report["on_time"], report["share"]) == (1, 1, 1.0)
    assert report["rows"][0]["service"] == "Housing Transition Navigation Services"


def test_a9_deny_needs_reason_code_reason_and_criteria_and_nothing_is_saved(client, aw, auth_request):
    client.force_login(aw.um)
    refused = _step(client, auth_request, "decide", version=1, outcome="denied")
    assert refused.status_code == 422
    assert _fields(refused) == {"reason_code", "reason", "criteria"}
    bad = _step(client, auth_request, "decide", version=1, outcome="maybe")
    assert bad.status_code == 422 and _fields(bad) == {"outcome"}
    too_many = _step(client, auth_request, "decide", version=1, outcome="partially_approved", units=99)
    assert too_many.status_code == 422 and "units" in _fields(too_many)
    assert not Determination.objects.exists() and not Authorization.objects.exists()
    auth_request.refresh_from_db()
    assert (auth_request.status, auth_request.version) == ("received", 1)
    body = _ok(
        _step(
            client,
            auth_request,
            "decide",
            version=1,
            outcome="denied",
            reason_code="not_eligible",
            reason="You already have stable housing.",
            criteria="Housing navigation guide, eligibility",
        )
    )
    assert body["determination"]["reason_code_label"] == "Member does not meet the eligibility criteria"
    assert body["authorization"] is None


@pytest.mark.parametrize(
    ("step", "data", "fields"),
    [
        ("pend", {"question": "", "due_on": None}, {"question", "due_on"}),
        ("pend", {"question": "More?", "due_on": "2026-11-01"}, {"due_on"}),
        ("pend", {"question": "More?", "due_on": "2027-01-01"}, {"due_on"}),
        ("urgency", {"urgency": "soon", "reason": ""}, {"urgency", "reason"}),
        ("urgency", {"urgency": "expedited", "reason": "x"}, {"urgency"}),
        ("extend", {"days": 30, "reason": ""}, {"days", "reason"}),
        ("decide", {"outcome": "approved", "end_date": "2027-01-31"}, {"start_date"}),
    ],
    ids=[
        "pend-empty",
        "pend-past",
        "pend-after-due",
        "urgency-bad",
        "urgency-same",
        "extend-bad",
        "decide-dates",
    ],
)
def test_review_steps_with_bad_input_are_422_with_fields_and_change_nothing(
    client, aw, auth_request, step, data, fields
):
    client.force_login(aw.um)
    response = _step(client, auth_request, step, version=1, **data)
    assert response.status_code == 422, response.json()
    assert fields <= _fields(response)
    auth_request.refresh_from_db()
    assert (auth_request.status, auth_request.version, auth_request.urgency) == ("received", 1, "expedited")
    assert list(RequestEvent.objects.values_list("kind", flat=True)) == ["received"]
    assert not InformationRequest.objects.exists() and not Determination.objects.exists()


def test_a8_urgency_and_extension_move_the_clock_and_the_extension_sends_a_notice(client, aw, auth_request):
    client.force_login(aw.um)
    before = auth_request.due_at
    body = _ok(
        _step(client, auth_request, "urgency", version=1, urgency="routine", reason="Housed until March")
    )
    assert body["urgency"] == "routine" and body["urgency_reason"] == "Housed until March"
    body = _ok(_step(client, auth_request, "extend", version=2, days=14, reason="Waiting for records"))
    assert (body["extension_days"], body["extension_reason"]) == (14, "Waiting for records")
    assert body["due_at"] > before.isoformat()
    assert [letter["kind"] for letter in body["letters"]] == ["extension"]
    assert "extend" not in body["allowed_actions"]
    again = _step(client, auth_request, "extend", version=3, days=2, reason="more")
    assert again.status_code == 422 and _fields(again) == {"days"}


def test_provider_withdraws_its_open_request_with_a_reason(client, aw, auth_request):
    client.force_login(aw.bob)
    refused = _step(client, auth_request, "withdraw", version=1, reason="")
    assert refused.status_code == 422 and _fields(refused) == {"reason"}
    body = _ok(_step(client, auth_request, "withdraw", version=1, reason="Member moved away"))
    assert body["status"] == "withdrawn" and body["determination"]["outcome"] == "withdrawn"
    again = _step(client, auth_request, "withdraw", version=2, reason="again")
    assert again.status_code == 409 and again.json()["current_status"] == "withdrawn"


def test_a7_answer_bad_base64_or_nothing_is_422_and_not_pended_is_409(client, aw, auth_request):
    client.force_login(aw.bob)
    not_pended = _step(client, auth_request, "answer", version=1, answer="Here")
    assert not_pended.status_code == 409 and not_pended.json()["version"] == 1
    client.force_login(aw.um)
    _ok(_step(client, auth_request, "pend", version=1, question="Assessment?", due_on="2026-11-24"))
    client.force_login(aw.bob)
    bad = _step(client, auth_request, "answer", version=2, files=[b64_file(), b64_file(content_base64="@@@")])
    assert bad.status_code == 422 and _fields(bad) == {"files[1]"}
    empty = _step(client, auth_request, "answer", version=2, answer=" ")
    assert empty.status_code == 422 and _fields(empty) == {"answer"}
    exe = _step(client, auth_request, "answer", version=2, files=[b64_file("a.pdf", content=b"MZ\x90 exe")])
    assert exe.status_code == 422 and _fields(exe) == {"files[0]"}
    assert RequestDocument.objects.count() == 1  # the one submitted with the request
    assert not InformationRequest.objects.filter(answered_at__isnull=False).exists()


def test_g2_retrospective_review_of_a_presumptive_authorization(client, aw):
    presumptive = submit(aw, service_key="recuperative_care")
    presumptive.refresh_from_db()
    client.force_login(aw.um)
    refused = _step(client, presumptive, "retrospective-review", version=presumptive.version, upheld=False)
    assert refused.status_code == 422 and _fields(refused) == {"note"}
    body = _ok(
        _step(
            client, presumptive, "retrospective-review", version=presumptive.version, upheld=True, note="OK"
        )
    )
    assert body["retrospective_review_done_at"] is not None
    assert body["authorization"]["retrospective_review_due"] is False
    again = _step(client, presumptive, "retrospective-review", version=body["version"], upheld=True)
    assert again.status_code == 409


# --- Optimistic locking: two reviewers (rule A10) ------------------------------------------------------


def test_a10_two_reviewers_cannot_both_take_or_decide_and_a_stale_version_is_409(client, aw, auth_request):
    client.force_login(aw.um)
    _ok(_step(client, auth_request, "take", version=1))
    client.force_login(aw.um2)
    stale = _step(client, auth_request, "take", version=1)
    assert stale.status_code == 409
    body = stale.json()
    assert body["type"] == "about:blank#conflict" and "changed by someone else" in body["title"]
    assert (body["version"], body["current_status"], body["allowed_actions"]) == (2, "in_review", [])
    taken = _step(client, auth_request, "decide", version=2, outcome="approved")
    assert taken.status_code == 409 and str(aw.um) in taken.json()["title"]
    auth_request.refresh_from_db()
    assert (auth_request.status, auth_request.version, auth_request.reviewer) == ("in_review", 2, aw.um)
    assert not Determination.objects.exists()

    client.force_login(aw.um)
    _ok(_step(client, auth_request, "release", version=2))
    client.force_login(aw.um2)
    assert _ok(_step(client, auth_request, "take", version=3))["reviewer"] == str(aw.um2)


# --- Roles: 403 to who may see but not act --------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "step", "data"),
    [
        ("bob", "take", {}),
        ("bob", "decide", {"outcome": "approved"}),
        ("bob", "pend", {"question": "x", "due_on": "2026-11-24"}),
        ("claims", "take", {}),
        ("um", "withdraw", {"reason": "x"}),
        ("um", "answer", {"answer": "x"}),
    ],
)
def test_steps_refused_by_role_are_403_with_the_current_version(client, aw, auth_request, who, step, data):
    user = {"bob": aw.bob, "um": aw.um, "claims": aw.plan_users[Role.CLAIMS_PROCESSOR]}[who]
    client.force_login(user)
    response = _step(client, auth_request, step, version=1, **data)
    assert response.status_code == 403, response.json()
    assert response.json()["type"] == "about:blank#forbidden" and response.json()["version"] == 1
    auth_request.refresh_from_db()
    assert (auth_request.status, auth_request.version) == ("received", 1)


def test_reports_and_queue_are_for_plan_staff(client, aw, auth_request):
    client.force_login(aw.um)
    assert client.get(f"{API}/reviewer-counts").json() == {
        "open": 1,
        "overdue": 0,
        "due_today": 0,
        "retrospective": 0,
    }
    bad = client.get(f"{API}/timeliness", {"start": "2026-11-30", "end": "2026-11-01", "service": "nope"})
    assert bad.status_code == 422 and _fields(bad) == {"end", "service"}
    client.force_login(aw.plan_users[Role.CLAIMS_PROCESSOR])
    assert client.get(f"{API}/timeliness", {"start": "2026-11-01", "end": "2026-11-30"}).status_code == 200
    assert client.get(f"{API}/reviewer-counts").status_code == 403
    client.force_login(aw.bob)
    assert client.get(f"{API}/reviewer-counts").status_code == 403
    assert client.get(f"{API}/timeliness", {"start": "2026-11-01", "end": "2026-11-30"}).status_code == 403


# --- Services without authorization (rule G2) ----------------------------------------------------------


def _record(aw, **overrides):
    data = {
        "member": str(aw.member_a.uuid),
        "service": "sobering_centers",
        "hcpcs": "H0014",
        "modifier": "U6",
        "service_date": "2026-11-22",
        "diagnosis_codes": ["F10.129"],
        "notes": "Overnight stay",
    }
    data.update(overrides)
    return data


def test_g2_service_records_are_recorded_and_listed_to_the_provider_and_its_plan(client, aw):
    client.force_login(aw.bob)
    response = post(client, f"{API}/service-records", _record(aw))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["hcpcs"], body["service"]["key"], body["plan"]["name"]) == (
        "H0014",
        "sobering_centers",
        aw.plan.name,
    )
    listing = client.get(f"{API}/service-records").json()
    assert [r["id"] for r in listing["items"]] == [body["id"]]
    assert AuditEvent.objects.filter(actor=aw.bob, object_type="service_record", action="list").exists()
    client.force_login(aw.plan_users[Role.CLAIMS_PROCESSOR])
    assert client.get(f"{API}/service-records").json()["count"] == 1
    for outsider in (aw.charlie, aw.other_plan_user):
        client.force_login(outsider)
        assert client.get(f"{API}/service-records").json()["count"] == 0
    client.force_login(aw.um)
    assert post(client, f"{API}/service-records", _record(aw)).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"service": "housing_transition_navigation"}, {"service"}),
        ({"hcpcs": "T9999"}, {"hcpcs"}),
        ({"service_date": "2026-12-25", "units": 0}, {"service_date", "units"}),
        ({"diagnosis_codes": ["QQQ"]}, {"diagnosis_codes[0]"}),
        ({"member": str(uuid.uuid4())}, {"member"}),
    ],
    ids=["needs-request", "bad-code", "future-and-no-units", "bad-diagnosis", "bad-member-id"],
)
def test_g2_bad_service_records_are_422_and_save_nothing(client, aw, overrides, fields):
    client.force_login(aw.bob)
    response = post(client, f"{API}/service-records", _record(aw, **overrides))
    assert response.status_code == 422, response.json()
    assert fields <= _fields(response)
    assert not ServiceRecord.objects.exists()


# --- Scoping: provider B and another plan get 404 everywhere ---------------------------------------------

ENDPOINTS = [
    ("get", "/requests/{uuid}", None),
    ("get", "/requests/{uuid}/required-documents", None),
    ("get", "/requests/{uuid}/documents/{doc}", None),
    ("get", "/requests/{uuid}/letters/{letter}", None),
    ("post", "/requests/{uuid}/take", {"version": 1}),
    ("post", "/requests/{uuid}/release", {"version": 1}),
    ("post", "/requests/{uuid}/urgency", {"urgency": "routine", "reason": "x", "version": 1}),
    ("post", "/requests/{uuid}/pend", {"question": "x", "due_on": "2026-11-24", "version": 1}),
    ("post", "/requests/{uuid}/extend", {"days": 3, "reason": "x", "version": 1}),
    ("post", "/requests/{uuid}/decide", {"outcome": "approved", "version": 1}),
    ("post", "/requests/{uuid}/retrospective-review", {"upheld": True, "version": 1}),
    ("post", "/requests/{uuid}/answer", {"answer": "x", "version": 1}),
    ("post", "/requests/{uuid}/withdraw", {"reason": "x", "version": 1}),
    ("get", "/members/{member}/authorizations", None),
]


@pytest.mark.parametrize(("method", "path", "data"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", ["charlie", "other_plan_user"])
def test_outsiders_get_404_for_provider_as_request_on_every_endpoint(
    client, aw, auth_request, method, path, data, outsider
):
    client.force_login(aw.um)  # an extension letter, so that a letter exists
    _ok(_step(client, auth_request, "extend", version=1, days=2, reason="Records"))
    auth_request.refresh_from_db()
    document = auth_request.documents.get()
    letter = auth_request.letters.get()
    before = (auth_request.status, auth_request.version, auth_request.reviewer_id)
    client.force_login(getattr(aw, outsider))
    url = API + path.format(
        uuid=auth_request.uuid, doc=document.uuid, letter=letter.uuid, member=aw.member_a.uuid
    )
    response = client.get(url) if data is None else post(client, url, data)
    assert response.status_code == 404, response.content
    assert response.json()["type"] == "about:blank#not_found"
    auth_request.refresh_from_db()
    assert (auth_request.status, auth_request.version, auth_request.reviewer_id) == before
    assert not Determination.objects.exists() and not InformationRequest.objects.exists()


def test_a9_a_provider_only_downloads_letters_addressed_to_it_or_the_member(client, aw, auth_request):
    client.force_login(aw.um)
    _ok(_step(client, auth_request, "decide", version=1, outcome="approved"))
    letters = list(auth_request.letters.all())
    client.force_login(aw.bob)
    listed = {letter["id"] for letter in client.get(f"{REQUESTS}/{auth_request.uuid}").json()["letters"]}
    for letter in letters:
        response = client.get(f"{REQUESTS}/{auth_request.uuid}/letters/{letter.uuid}")
        mine = letter.recipient == "member" or letter.recipient_organization_id == aw.provider_a.pk
        assert (response.status_code == 200) == mine == (str(letter.uuid) in listed)
