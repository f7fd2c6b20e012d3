"""Rule M2 documentation over REST: list/create per kind, 422 problem bodies with field details, 404 for
the outsider, 403 for plan staff writing, audited reads, pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.core.models import AuditEvent
from cshub.members.models import Consent, MemberNote
from tests.factories import CareRelationshipFactory
from tests.members.factories import (
    GoalFactory,
    GoalProgressFactory,
    MemberNoteFactory,
    ServiceFactory,
    exe_upload,
    pdf_upload,
    provider_a_records,
)

pytestmark = pytest.mark.usefixtures("frozen_clock")  # today is 2026-11-23, Pacific

LISTS = ["consents", "assessments", "sdoh-needs", "goals", "notes", "external-information", "timeline"]


def api(member, path=""):
    return f"/api/v1/members/{member.uuid}/{path}"


@pytest.mark.parametrize("kind", LISTS)
def test_m2_charlie_gets_404_on_member_as_documentation(client, world, kind):
    provider_a_records(world)
    client.force_login(world.charlie)
    response = client.get(api(world.member_a, kind))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("kind", LISTS)
def test_m2_plan_staff_list_every_kind(client, world, kind):
    provider_a_records(world)
    client.force_login(world.plan_users["reporting_supervisor"])
    response = client.get(api(world.member_a, kind))
    assert response.status_code == 200, response.content
    assert response.json()["count"] >= 1


def test_m2_plan_staff_cannot_write_through_the_api(client, world):
    client.force_login(world.plan_users["um_reviewer"])
    response = client.post(
        api(world.member_a, "notes"), {"text": "plan note"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not MemberNote.objects.exists()


def test_m2_other_provider_on_the_care_team_lists_only_its_own_notes(client, world):
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    provider_a_records(world)
    MemberNoteFactory(member=world.member_a, organization=world.provider_b, text="B note")
    client.force_login(world.charlie)
    body = client.get(api(world.member_a, "notes")).json()
    assert [n["text"] for n in body["items"]] == ["B note"]


def test_m2_consent_multipart_create_download_and_revoke(client, world, file_storage):
    client.force_login(world.bob)
    response = client.post(
        api(world.member_a, "consents"),
        {
            "scopes": ["cs_services", "sud_part2"],
            "recipients": "Golden State Health Plan",
            "signed_on": "2026-11-20",
            "document": pdf_upload("roi.pdf"),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scopes"] == ["cs_services", "sud_part2"]
    assert body["status"] == "active"
    assert body["document"]["content_type"] == "application/pdf"
    download = client.get(body["document"]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    revoked = client.post(
        api(world.member_a, f"consents/{body['id']}/revoke"),
        {"reason": "Member withdrew"},
        content_type="application/json",
    )
    assert revoked.json()["status"] == "revoked"


def test_m2_consent_api_422_lists_each_field(client, world):
    client.force_login(world.bob)
    response = client.post(
        api(world.member_a, "consents"),
        {"scopes": ["cs_services"], "recipients": "", "signed_on": "2026-11-20", "expires_on": "2026-11-19"},
    )
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert fields == {"recipients": "required", "expires_on": "date_order"}
    response = client.post(
        api(world.member_a, "consents"),
        {
            "scopes": ["cs_services"],
            "recipients": "Plan",
            "signed_on": "2026-11-20",
            "document": exe_upload("x.pdf"),
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "document"
    assert not Consent.objects.exists()


def test_m2_consent_api_refuses_oversize(client, world, settings):
    settings.CSHUB_UPLOAD_MAX_BYTES = 100
    client.force_login(world.bob)
    response = client.post(
        api(world.member_a, "consents"),
        {
            "scopes": ["cs_services"],
            "recipients": "Plan",
            "signed_on": "2026-11-20",
            "document": pdf_upload(size=500),
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "document", "message": "consent.pdf is 500 bytes; the limit is 100.", "code": "too_large"}
    ]


def test_m2_assessment_api_reports_answers_by_question(client, world):
    ServiceFactory(key="housing_transition_navigation")
    client.force_login(world.bob)
    response = client.post(
        api(world.member_a, "assessments"),
        {
            "service": "housing_transition_navigation",
            "assessed_on": "2026-11-23",
            "answers": {"current_living_situation": "unsheltered", "months_without_stable_housing": 50},
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors == {
        "answers.meets_hud_homeless_definition": "required",
        "answers.coordinated_entry_prioritized": "required",
        "answers.months_without_stable_housing": "invalid",
        "answers.barriers": "required",
        "answers.has_documents": "required",
    }
    answers = {
        "current_living_situation": "unsheltered",
        "meets_hud_homeless_definition": True,
        "coordinated_entry_prioritized": False,
        "barriers": ["income", "missing_documents"],
        "has_documents": False,
        "support_plan_started_on": "2026-11-23",
    }
    response = client.post(
        api(world.member_a, "assessments"),
        {"service": "housing_transition_navigation", "assessed_on": "2026-11-23", "answers": answers},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["template_key"], body["template_version"]) == ("housing_transition_navigation", "2026-11")
    assert client.get(api(world.member_a, f"assessments/{body['id']}")).json()["answers"] == answers


def test_m2_assessment_templates_endpoint(client, world):
    client.force_login(world.bob)
    body = client.get("/api/v1/members/assessment-templates").json()
    keys = [t["key"] for t in body]
    assert {
        "general",
        "recuperative_care",
        "medically_tailored_meals",
        "housing_transition_navigation",
    } <= set(keys)
    meals = next(t for t in body if t["key"] == "medically_tailored_meals")
    assert meals["source"]["confidence"] == "assumed"
    assert {"value": "often_true", "label": "Often true"} in next(
        q for q in meals["questions"] if q["key"] == "worried_food_would_run_out"
    )["choices"]


def test_m2_sdoh_api(client, world):
    client.force_login(world.bob)
    bad = client.post(
        api(world.member_a, "sdoh-needs"),
        {"code": "Z99.9", "identified_on": "2026-11-23"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "field": "code",
            "message": "Z99.9 is not a social determinants of health code (Z55\N{EN DASH}Z65).",
            "code": "sdoh_range",
        }
    ]
    good = client.post(
        api(world.member_a, "sdoh-needs"),
        {"code": "Z5941", "identified_on": "2026-11-23"},
        content_type="application/json",
    )
    assert (good.status_code, good.json()["code"], good.json()["description"]) == (
        201,
        "Z59.41",
        "Food insecurity",
    )
    resolved = client.post(
        api(world.member_a, f"sdoh-needs/{good.json()['id']}/resolve"), {}, content_type="application/json"
    )
    assert resolved.json()["status"] == "resolved"


def test_m2_goal_api_with_progress(client, world):
    client.force_login(world.bob)
    goal = client.post(
        api(world.member_a, "goals"),
        {"description": "Stable housing", "target_date": "2027-05-01"},
        content_type="application/json",
    ).json()
    assert (goal["current_status"], len(goal["progress"])) == ("not_started", 1)
    progress = client.post(
        api(world.member_a, f"goals/{goal['id']}/progress"),
        {"status": "partially_met", "note": "Voucher issued"},
        content_type="application/json",
    )
    assert progress.status_code == 201
    history = client.get(api(world.member_a, f"goals/{goal['id']}/progress")).json()
    assert [p["status"] for p in history] == ["partially_met", "not_started"]
    listed = client.get(api(world.member_a, "goals")).json()["items"]
    assert listed[0]["current_status"] == "partially_met"
    bad = client.post(
        api(world.member_a, f"goals/{goal['id']}/progress"),
        {"status": "done"},
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_m2_external_information_api(client, world, file_storage):
    client.force_login(world.alice)
    response = client.post(
        api(world.member_a, "external-information"),
        {
            "source_name": "County BH",
            "source_kind": "county",
            "received_on": "2026-11-20",
            "summary": "Care plan",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["document"] is None


def test_m2_timeline_api_filters_and_rejects_unknown_kinds(client, world):
    provider_a_records(world)
    client.force_login(world.bob)
    body = client.get(api(world.member_a, "timeline"), {"kind": ["note", "consent"]}).json()
    assert {e["kind"] for e in body["items"]} == {"note", "consent"}
    ats = [e["at"] for e in body["items"]]
    assert ats == sorted(ats, reverse=True)
    bad = client.get(api(world.member_a, "timeline"), {"kind": "gossip"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "kind"


def test_m2_api_reads_are_audited(client, world):
    provider_a_records(world)
    client.force_login(world.plan_users["plan_admin"])
    client.get(api(world.member_a, "sdoh-needs"))
    event = AuditEvent.objects.get(action="list", object_type="sdoh_need")
    assert (event.channel, event.member_ids) == ("api", [str(world.member_a.uuid)])


def test_m2_goal_list_api_query_count_is_pinned(client, world, django_assert_max_num_queries):
    for i in range(20):
        goal = GoalFactory(member=world.member_a, organization=world.provider_a)
        GoalProgressFactory(goal=goal, recorded_on=dt.date(2026, 10, 1 + i))
    client.force_login(world.bob)
    client.get(api(world.member_a, "goals"))
    # session, user, organization, roles, member + audit, goals, progress, audit
    with django_assert_max_num_queries(9):
        response = client.get(api(world.member_a, "goals"), {"limit": 50})
    assert len(response.json()["items"]) == 20
