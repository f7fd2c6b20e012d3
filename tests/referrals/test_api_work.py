"""The referrals API for the provider's work: outreach (rules O1-O4, P3), the eligibility check at first
contact (A1), enrollment (R4, M2), documents (R2) and the outreach worklist; and scoping: charlie (provider
B) gets 404 on every endpoint for provider A's referral."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cshub.core.models import AuditEvent
from cshub.referrals import services
from cshub.referrals.models import Enrollment, FirstContactCheck, OutreachAttempt, Referral, ReferralDocument
from tests.members.factories import ConsentFactory
from tests.referrals.factories import make_referral

pytestmark = pytest.mark.django_db

API = "/api/v1/referrals"
RECEIVED = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)  # three weeks before the frozen "now"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _post(client, path, data):
    return client.post(path, data, content_type="application/json")


@pytest.fixture
def referral(rw):
    return make_referral(rw, received_at=RECEIVED)


def _attempt(client, referral, modality, day, **extra):
    data = {
        "attempted_at": f"2026-11-{day:02d}T10:00:00-08:00",
        "modality": modality,
        "outcome": "no_answer",
        "telehealth_consent": modality == "telehealth",
        **extra,
    }
    return _post(client, f"{API}/{referral.uuid}/outreach-attempts", data)


def _all_met(referral):
    return [
        "met" if item.get("kind", "all") != "exclusion" else "not_met"
        for item in referral.service.eligibility
    ]


# --- Outreach (rules O1-O4, P3) ----------------------------------------------------------------------


def test_o1_recording_an_attempt_accepts_the_referral_and_shows_progress(client, rw, referral):
    client.force_login(rw.bob)
    response = _attempt(client, referral, "phone", 3, notes="Voicemail full")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["modality"], body["modality_label"], body["outcome_label"]) == (
        "phone",
        "Phone",
        "No answer",
    )
    assert body["by"] == str(rw.bob)
    listing = client.get(f"{API}/{referral.uuid}/outreach-attempts").json()
    assert [a["notes"] for a in listing] == ["Voicemail full"]
    detail = client.get(f"{API}/{referral.uuid}").json()
    assert detail["status"] == "accepted"
    assert detail["outreach"]["attempts"] == 1 and detail["outreach"]["modalities"] == ["phone"]
    assert detail["outreach"]["deadline"] == "2026-12-02" and detail["outreach"]["days_left"] == 9


def test_o1_a_time_without_offset_is_pacific(client, rw, referral):
    client.force_login(rw.bob)
    response = _post(
        client,
        f"{API}/{referral.uuid}/outreach-attempts",
        {"attempted_at": "2026-11-03T09:30", "modality": "in_person", "outcome": "not_found"},
    )
    assert response.status_code == 201
    attempt = OutreachAttempt.objects.get()
    assert attempt.attempted_at == dt.datetime(2026, 11, 3, 17, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"modality": "telehealth", "telehealth_consent": False}, "telehealth_consent"),
        ({"attempted_at": "2026-12-01T10:00:00-08:00"}, "attempted_at"),
        ({"attempted_at": "2026-10-01T10:00:00-08:00"}, "attempted_at"),
        ({"modality": "carrier_pigeon"}, "modality"),
        ({"attempted_at": "yesterday"}, "attempted_at"),
    ],
    ids=["o2-telehealth-without-consent", "future", "before-receipt", "unknown-modality", "not-a-time"],
)
def test_o2_bad_attempts_are_422_with_the_field_and_save_nothing(client, rw, referral, data, field):
    client.force_login(rw.bob)
    payload = {
        "attempted_at": "2026-11-03T10:00:00-08:00",
        "modality": "phone",
        "outcome": "no_answer",
        **data,
    }
    response = _post(client, f"{API}/{referral.uuid}/outreach-attempts", payload)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not OutreachAttempt.objects.exists()


def test_o1_only_the_receiving_provider_records_outreach_and_a_referrer_sees_none(client, rw, referral):
    client.force_login(rw.dana)
    assert _attempt(client, referral, "phone", 3).status_code == 403
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3)
    client.force_login(rw.dana)
    assert client.get(f"{API}/{referral.uuid}/outreach-attempts").json() == []
    detail = client.get(f"{API}/{referral.uuid}").json()
    assert detail["outreach"] is None
    assert [e["kind"] for e in detail["events"]] == ["created", "status"]  # the status timeline only (R9)
    client.force_login(rw.um)
    assert len(client.get(f"{API}/{referral.uuid}/outreach-attempts").json()) == 1


def test_o3_unreachable_needs_five_attempts_and_three_modalities(client, rw, referral):
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3)
    early = _post(client, f"{API}/{referral.uuid}/outreach-end", {"outcome": "unreachable", "version": 2})
    assert early.status_code == 422
    body = early.json()
    assert body["type"].endswith("outreach_o3_not_met")
    assert "4 more attempt(s)" in body["title"]
    for modality, day in (("text", 4), ("in_person", 5), ("phone", 6), ("email", 9)):
        assert _attempt(client, referral, modality, day).status_code == 201
    assert client.get(f"{API}/{referral.uuid}").json()["outreach"]["o3_met"] is True
    ended = _post(client, f"{API}/{referral.uuid}/outreach-end", {"outcome": "unreachable", "version": 2})
    assert ended.status_code == 200, ended.json()
    body = ended.json()
    assert (body["status"], body["outreach_outcome"], body["loop_closure_reason"]) == (
        "unable_to_reach",
        "unreachable",
        "Unable to reach",
    )
    assert body["outreach"]["outcome"] == "unreachable"


def test_o4_declined_ends_outreach_and_a_stale_version_is_409(client, rw, referral):
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3, outcome="declined")
    stale = _post(client, f"{API}/{referral.uuid}/outreach-end", {"outcome": "declined", "version": 1})
    assert stale.status_code == 409 and stale.json()["version"] == 2
    bad = _post(client, f"{API}/{referral.uuid}/outreach-end", {"outcome": "bored", "version": 2})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "outcome"
    ended = _post(client, f"{API}/{referral.uuid}/outreach-end", {"outcome": "declined", "version": 2})
    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["outreach_outcome"]) == ("no_longer_interested", "declined")
    again = _attempt(client, referral, "phone", 4)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "referral"


# --- First contact (rule A1) and enrollment (rules R4, M2) -------------------------------------------


def test_a1_first_contact_check_shows_plan_eligibility_each_item_and_passed(client, rw, referral):
    client.force_login(rw.bob)
    items = referral.service.eligibility
    response = _post(
        client,
        f"{API}/{referral.uuid}/first-contact-checks",
        {"contact_on": "2026-11-20", "results": _all_met(referral), "notes": "Met at the shelter"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["plan_eligible"] is True and rw.plan.name in body["plan_eligibility_detail"]
    assert [c["text"] for c in body["checklist"]] == [i["text"] for i in items]
    assert body["checklist_met"] is True and body["duplicative"] == [] and body["passed"] is True
    listing = client.get(f"{API}/{referral.uuid}/first-contact-checks").json()
    assert [c["id"] for c in listing] == [body["id"]]


def test_a1_first_contact_check_bad_input_is_422(client, rw, referral):
    client.force_login(rw.bob)
    path = f"{API}/{referral.uuid}/first-contact-checks"
    too_few = _post(client, path, {"contact_on": "2026-11-20", "results": ["met"]})
    assert too_few.status_code == 422 and too_few.json()["errors"][0]["field"] == "results"
    wrong_word = ["yes"] * len(referral.service.eligibility)
    assert _post(client, path, {"contact_on": "2026-11-20", "results": wrong_word}).json()["errors"][0][
        "field"
    ] == ("results.0")
    future = _post(client, path, {"contact_on": "2026-12-20", "results": _all_met(referral)})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "contact_on"
    bad_date = _post(client, path, {"contact_on": "2026-11-31", "results": _all_met(referral)})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "contact_on"
    assert not FirstContactCheck.objects.exists()
    client.force_login(rw.dana)
    assert _post(client, path, {"contact_on": "2026-11-20", "results": _all_met(referral)}).status_code == 403
    assert client.get(path).json() == []


def _make_eligible(client, rw, referral):
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3, outcome="reached")  # accepts: version 2
    _post(
        client,
        f"{API}/{referral.uuid}/first-contact-checks",
        {"contact_on": "2026-11-20", "results": _all_met(referral)},
    )
    response = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "eligible", "version": 2})
    assert response.status_code == 200, response.json()
    return response.json()["version"]


def test_a1_eligible_needs_a_passed_first_contact_check(client, rw, referral):
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3, outcome="reached")
    response = _post(client, f"{API}/{referral.uuid}/status", {"to_status": "eligible", "version": 2})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "first_contact_eligible"


def test_r4_m2_enrollment_needs_consent_then_got_help_closes_the_loop(client, rw, referral):
    version = _make_eligible(client, rw, referral)
    path = f"{API}/{referral.uuid}/enrollments"
    no_consent = _post(client, path, {"enrolled_on": "2026-11-21", "version": version})
    assert no_consent.status_code == 422 and no_consent.json()["errors"][0]["field"] == "consent"
    ConsentFactory(member=rw.member_a, organization=rw.provider_a, signed_on=dt.date(2026, 11, 20))
    stale = _post(client, path, {"enrolled_on": "2026-11-21", "version": version - 1})
    assert stale.status_code == 409 and stale.json()["version"] == version
    bad_date = _post(client, path, {"enrolled_on": "21/11/2026", "version": version})
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "enrolled_on"
    assert not Enrollment.objects.exists()
    response = _post(client, path, {"enrolled_on": "2026-11-21", "version": version})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["enrolled_on"], body["organization"]["name"], body["service"]["key"]) == (
        "2026-11-21",
        rw.provider_a.name,
        "housing_transition_navigation",
    )
    assert [e["id"] for e in client.get(path).json()] == [body["id"]]
    referral.refresh_from_db()
    done = _post(
        client, f"{API}/{referral.uuid}/status", {"to_status": "got_help", "version": referral.version}
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["closed"], done.json()["gravity_status"]) == (
        "got_help",
        True,
        "completed",
    )


# --- Documents (rule R2) ------------------------------------------------------------------------------


def test_r2_documents_upload_list_and_download_are_audited(client, rw, referral):
    client.force_login(rw.bob)
    upload = SimpleUploadedFile("discharge-plan.pdf", PDF, content_type="application/pdf")
    response = client.post(
        f"{API}/{referral.uuid}/documents", {"file": upload, "description": "Discharge plan"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["original_name"], body["content_type"], body["size"]) == (
        "discharge-plan.pdf",
        "application/pdf",
        len(PDF),
    )
    listing = client.get(f"{API}/{referral.uuid}/documents").json()
    assert [d["id"] for d in listing] == [body["id"]]
    download = client.get(listing[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    exported = AuditEvent.objects.get(actor=rw.bob, object_type="referral_document", action="export")
    assert exported.member_ids == [str(rw.member_a.uuid)] and exported.object_id == body["id"]

    exe = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused = client.post(f"{API}/{referral.uuid}/documents", {"file": exe})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    missing = client.post(f"{API}/{referral.uuid}/documents", {"description": "no file"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    assert ReferralDocument.objects.count() == 1

    client.force_login(rw.dana)  # a referrer sees only letters addressed to it
    assert client.get(f"{API}/{referral.uuid}/documents").json() == []
    assert client.get(listing[0]["download_url"]).status_code == 404
    upload = SimpleUploadedFile("more.pdf", PDF, content_type="application/pdf")
    assert client.post(f"{API}/{referral.uuid}/documents", {"file": upload}).status_code == 403


# --- The outreach worklist ------------------------------------------------------------------------


def test_o3_worklist_has_progress_per_row_soonest_deadline_first(client, rw, referral):
    newer = make_referral(rw, member=rw.member_b, service_key="recuperative_care")
    client.force_login(rw.bob)
    _attempt(client, referral, "phone", 3)
    _attempt(client, referral, "text", 4)
    rows = client.get(f"{API}/worklist").json()["items"]
    assert [r["id"] for r in rows] == [str(referral.uuid), str(newer.uuid)]
    assert rows[0]["outreach"]["attempts"] == 2
    assert rows[0]["outreach"]["modalities"] == ["phone", "text"]
    assert rows[0]["outreach"]["days_left"] == 9
    assert rows[1]["outreach"]["attempts"] == 0
    assert client.get(f"{API}/worklist", {"service": "recuperative_care"}).json()["count"] == 1
    event = AuditEvent.objects.filter(actor=rw.bob, action="list", object_type="referral").latest("id")
    assert event.detail["purpose"] == "worklist"
    client.force_login(rw.dana)
    assert client.get(f"{API}/worklist").status_code == 403
    client.force_login(rw.charlie)
    assert client.get(f"{API}/worklist").json()["count"] == 0


def test_worklist_query_count_does_not_grow_with_the_rows(client, rw, django_assert_max_num_queries):
    def add(n):
        for _ in range(n):
            r = make_referral(rw, received_at=RECEIVED)
            services.outreach_attempt_record(
                actor=rw.bob, referral=r, attempted_at=RECEIVED, modality="phone", outcome="no_answer"
            )

    add(5)
    client.force_login(rw.bob)
    with django_assert_max_num_queries(8 + 7):  # + one query per related table
        five = client.get(f"{API}/worklist")
    assert five.json()["count"] == 5
    add(15)
    with django_assert_max_num_queries(8 + 7):  # + one query per related table
        twenty = client.get(f"{API}/worklist")
    assert twenty.json()["count"] == 20
    assert all(row["outreach"]["attempts"] == 1 for row in twenty.json()["items"])


# --- Scoping: charlie (provider B) gets 404 everywhere -------------------------------------------------

ENDPOINTS = [
    ("get", "/{uuid}", None),
    ("post", "/{uuid}/status", {"to_status": "closed", "reason": "x", "version": 1}),
    ("post", "/{uuid}/assign", {"provider": "{provider_b}", "version": 1}),
    ("post", "/{uuid}/match-member", {"cin": "91000001A", "date_of_birth": "1980-05-17"}),
    ("get", "/{uuid}/outreach-attempts", None),
    (
        "post",
        "/{uuid}/outreach-attempts",
        {"attempted_at": "2026-11-03T10:00:00-08:00", "modality": "phone", "outcome": "no_answer"},
    ),
    ("post", "/{uuid}/outreach-end", {"outcome": "declined", "version": 1}),
    ("get", "/{uuid}/first-contact-checks", None),
    ("post", "/{uuid}/first-contact-checks", {"contact_on": "2026-11-20", "results": []}),
    ("get", "/{uuid}/enrollments", None),
    ("post", "/{uuid}/enrollments", {"enrolled_on": "2026-11-21", "version": 1}),
    ("get", "/{uuid}/documents", None),
    ("post", "/{uuid}/documents", "upload"),
    ("get", "/{uuid}/documents/{doc}/download", None),
    (
        "post",
        "/{uuid}/onward",
        {"service_key": "medically_tailored_meals", "provider": "{provider_b}", "reason": "x"},
    ),
]


@pytest.mark.parametrize(("method", "path", "data"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", ["charlie", "other_plan_user"])
def test_outsiders_get_404_for_provider_as_referral_on_every_endpoint(
    client, rw, referral, method, path, data, outsider
):
    document = services.referral_document_add(
        actor=rw.bob,
        referral=referral,
        upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
    )
    referral.refresh_from_db()
    before = (referral.status, referral.version, referral.member_id, referral.receiving_provider_id)
    client.force_login(getattr(rw, outsider))
    url = API + path.format(uuid=referral.uuid, doc=document.uuid)
    if data == "upload":
        response = client.post(
            url, {"file": SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf")}
        )
    elif data is None:
        response = client.get(url)
    else:
        body = {
            k: (v.format(provider_b=rw.provider_b.uuid) if isinstance(v, str) else v) for k, v in data.items()
        }
        response = _post(client, url, body)
    assert response.status_code == 404, response.content
    assert response.json() == {
        "type": "about:blank#not_found",
        "title": "Not found.",
        "status": 404,
        "detail": "No such referral",
    }
    referral.refresh_from_db()
    assert (referral.status, referral.version, referral.member_id, referral.receiving_provider_id) == before
    assert Referral.objects.count() == 1
    assert ReferralDocument.objects.count() == 1
    assert not OutreachAttempt.objects.exists()
