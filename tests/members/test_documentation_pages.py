"""Rule M2 documentation pages: lists, add forms with field errors, downloads, the timeline page; scoped
(charlie gets 404; plan staff read, and a POST from them is 403), audited, query counts pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cshub.core.models import AuditEvent
from cshub.members.models import Assessment, Consent, ExternalInformation, Goal, MemberNote, SdohNeed
from tests.factories import CareRelationshipFactory
from tests.members.factories import (
    ConsentFactory,
    GoalFactory,
    GoalProgressFactory,
    MemberNoteFactory,
    ServiceFactory,
    exe_upload,
    pdf_upload,
    provider_a_records,
)

pytestmark = pytest.mark.usefixtures("frozen_clock")  # today is 2026-11-23, Pacific

LIST_PAGES = ["consents", "assessments", "sdoh_needs", "goals", "notes", "external_information", "timeline"]


def url(name, member, *args):
    return reverse(f"members:{name}", args=[member.uuid, *args])


@pytest.mark.parametrize("page", LIST_PAGES)
def test_m2_charlie_gets_404_on_every_documentation_page_of_member_a(client, world, page):
    provider_a_records(world)
    client.force_login(world.charlie)
    assert client.get(url(page, world.member_a)).status_code == 404
    assert client.post(url(page, world.member_a), {"text": "x"}).status_code == 404


def test_m2_charlie_gets_404_for_provider_as_records_even_on_a_shared_member(client, world, file_storage):
    """member_a is on provider B's care team too: the record pages and downloads still answer 404."""
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    records = provider_a_records(world)
    consent = records["consent"]
    consent.document.save("c.pdf", pdf_upload(), save=True)
    client.force_login(world.charlie)
    assert client.get(url("consents", world.member_a)).status_code == 200
    assert client.get(url("consent_document", world.member_a, consent.uuid)).status_code == 404
    assert client.get(url("assessment_detail", world.member_a, records["assessment"].uuid)).status_code == 404
    response = client.post(url("consent_revoke", world.member_a, consent.uuid), {"reason": "mine now"})
    assert response.status_code == 404
    html = client.get(url("notes", world.member_a)).content.decode()
    assert records["member_note"].text not in html


@pytest.mark.parametrize("page", LIST_PAGES)
def test_m2_plan_staff_read_every_page(client, world, page):
    records = provider_a_records(world)
    client.force_login(world.plan_users["um_reviewer"])
    response = client.get(url(page, world.member_a))
    assert response.status_code == 200
    if page == "notes":
        assert records["member_note"].text in response.content.decode()


def test_m2_plan_staff_cannot_write(client, world):
    client.force_login(world.plan_users["plan_admin"])
    response = client.get(url("notes", world.member_a))
    assert "Add the note" not in response.content.decode()
    assert client.post(url("notes", world.member_a), {"text": "From the plan"}).status_code == 403
    assert not MemberNote.objects.exists()


def test_m2_member_detail_links_to_the_documentation(client, world):
    client.force_login(world.bob)
    html = client.get(reverse("members:detail", args=[world.member_a.uuid])).content.decode()
    for page in LIST_PAGES:
        assert url(page, world.member_a) in html


def test_m2_bob_records_a_consent_with_its_signed_copy_and_downloads_it(client, world, file_storage):
    client.force_login(world.bob)
    response = client.post(
        url("consents", world.member_a),
        {
            "scopes": ["cs_services", "housing"],
            "recipients": "Golden State Health Plan\nCounty Coordinated Entry",
            "signed_on": "2026-11-20",
            "expires_on": "2027-11-19",
            "document": pdf_upload("ROI.pdf"),
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    html = client.get(url("consents", world.member_a)).content.decode()
    assert "Active" in html and "County Coordinated Entry" in html
    download = client.get(url("consent_document", world.member_a, consent.uuid))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    event = AuditEvent.objects.get(action="export", object_type="consent")
    assert (event.actor, event.member_ids) == (world.bob, [str(world.member_a.uuid)])


def test_m2_consent_form_shows_field_errors(client, world):
    client.force_login(world.bob)
    response = client.post(
        url("consents", world.member_a),
        {
            "scopes": ["cs_services"],
            "recipients": "Plan",
            "signed_on": "2026-11-20",
            "expires_on": "2026-11-01",
            "document": exe_upload("signed.pdf"),
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "The consent cannot expire before it was signed." in html
    assert "signed.pdf is not one of the accepted types" in html
    assert not Consent.objects.exists()


def test_m2_revoking_from_the_page(client, world):
    consent = ConsentFactory(member=world.member_a, organization=world.provider_a)
    client.force_login(world.alice)
    response = client.post(url("consent_revoke", world.member_a, consent.uuid), {"reason": "Member asked"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == "revoked"


def test_m2_assessment_form_renders_the_template_questions_and_reports_missing_answers(client, world):
    ServiceFactory(key="medically_tailored_meals")
    client.force_login(world.bob)
    page = client.get(url("assessments", world.member_a), {"service": "medically_tailored_meals"})
    html = page.content.decode()
    assert "Medically tailored meals: nutrition assessment" in html
    assert "Conditions the meals are tailored for (required)" in html
    partial = client.get(url("assessment_form", world.member_a), {"service": "recuperative_care"})
    assert "Recuperative care: intake assessment" in partial.content.decode()
    assert "<html" not in partial.content.decode()
    response = client.post(
        url("assessments", world.member_a),
        {
            "service": "medically_tailored_meals",
            "assessed_on": "2026-11-23",
            "answer_qualifying_conditions": "diabetes",
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["answer_recent_discharge"] == ["This question is required."]
    assert "answer_qualifying_conditions" not in errors


def test_m2_assessment_is_recorded_and_shown_with_labels(client, world):
    ServiceFactory(key="medically_tailored_meals")
    client.force_login(world.bob)
    data = {
        "service": "medically_tailored_meals",
        "assessed_on": "2026-11-23",
        "answer_qualifying_conditions": ["diabetes", "kidney_disease"],
        "answer_recent_discharge": "yes",
        "answer_diet": ["renal"],
        "answer_worried_food_would_run_out": "often_true",
        "answer_can_store_and_reheat": "no",
        "answer_meals_per_day": "2",
        "answer_delivery_address_confirmed": "yes",
    }
    assert client.post(url("assessments", world.member_a), data).status_code == 302
    record = Assessment.objects.get()
    assert record.answers["meals_per_day"] == 2 and record.answers["can_store_and_reheat"] is False
    html = client.get(url("assessment_detail", world.member_a, record.uuid)).content.decode()
    assert "Diabetes; Chronic kidney disease" in html
    assert "Often true" in html


def test_m2_sdoh_page_lookup_and_bad_codes(client, world):
    client.force_login(world.bob)
    lookup = client.get(
        reverse("members:sdoh_code_lookup"), {"code": "z5902"}, headers={"HX-Request": "true"}
    )
    assert "Unsheltered homelessness" in lookup.content.decode()
    words = client.get(reverse("members:sdoh_code_lookup"), {"code": "food"}).content.decode()
    assert "Z59.41" in words
    response = client.post(
        url("sdoh_needs", world.member_a), {"code": "Z99.9", "identified_on": "2026-11-23"}
    )
    assert response.status_code == 422
    assert (
        "Z99.9 is not a social determinants of health code (Z55\N{EN DASH}Z65)." in response.content.decode()
    )
    assert (
        client.post(
            url("sdoh_needs", world.member_a), {"code": "Z59.02", "identified_on": "2026-11-23"}
        ).status_code
        == 302
    )
    need = SdohNeed.objects.get()
    response = client.post(url("sdoh_need_resolve", world.member_a, need.uuid), {"note": "Housed"})
    need.refresh_from_db()
    assert (response.status_code, need.status) == (302, "resolved")


def test_m2_goals_page_records_goal_and_progress(client, world):
    client.force_login(world.bob)
    response = client.post(
        url("goals", world.member_a),
        {"description": "Get a California ID", "target_date": "2027-01-31", "status": "in_progress"},
    )
    assert response.status_code == 302
    goal = Goal.objects.get()
    response = client.post(
        url("goal_progress", world.member_a, goal.uuid), {"status": "met", "note": "ID received"}
    )
    assert response.status_code == 302
    page = client.get(url("goals", world.member_a))
    assert [g.current_status for g in page.context["page_obj"]] == ["met"]
    assert "ID received" in page.content.decode()


def test_m2_external_information_with_a_document(client, world, file_storage):
    client.force_login(world.bob)
    response = client.post(
        url("external_information", world.member_a),
        {
            "source_name": "Sutter General",
            "source_kind": "hospital",
            "received_on": "2026-11-21",
            "summary": "Discharge summary",
            "document": pdf_upload("discharge.pdf"),
        },
    )
    assert response.status_code == 302
    info = ExternalInformation.objects.get()
    download = client.get(url("external_information_document", world.member_a, info.uuid))
    assert download.status_code == 200
    response = client.post(url("external_information", world.member_a), {"source_kind": ""})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"source_name", "source_kind", "received_on", "summary"}


def test_m2_list_pages_are_audited(client, world):
    provider_a_records(world)
    client.force_login(world.bob)
    client.get(url("notes", world.member_a))
    event = AuditEvent.objects.get(action="list", object_type="member_note")
    assert (event.actor, event.member_ids, event.detail["count"]) == (
        world.bob,
        [str(world.member_a.uuid)],
        1,
    )
    client.get(url("timeline", world.member_a))
    assert AuditEvent.objects.filter(action="read", object_type="member_timeline").count() == 1


@pytest.mark.parametrize(
    ("page", "queries"),
    [("notes", 9), ("goals", 11), ("consents", 9), ("sdoh_needs", 9), ("external_information", 9)],
)
def test_m2_list_page_query_counts_are_pinned(client, world, django_assert_max_num_queries, page, queries):
    """Session, user, organization, roles, member (+ its audit row), the records (+ the goals' progress),
    their audit row, the unread-notifications badge; the services for the goal form. None per record."""
    for i in range(15):
        MemberNoteFactory(member=world.member_a, organization=world.provider_a)
        goal = GoalFactory(member=world.member_a, organization=world.provider_a)
        GoalProgressFactory(goal=goal, recorded_on=dt.date(2026, 11, 1 + i))
        ConsentFactory(member=world.member_a, organization=world.provider_a)
    client.force_login(world.bob)
    client.get(url(page, world.member_a))
    with django_assert_max_num_queries(queries):
        response = client.get(url(page, world.member_a))
    assert response.status_code == 200


def test_m2_timeline_page_filters_paginates_and_exports_for_d4_roles(client, world, settings):
    settings.CSHUB_PAGE_SIZE = 5
    for _ in range(7):
        MemberNoteFactory(member=world.member_a, organization=world.provider_a, text="=HYPERLINK(1)")
    client.force_login(world.bob)
    page = client.get(url("timeline", world.member_a), {"kind": "note"})
    assert page.status_code == 200
    assert len(page.context["page_obj"]) == 5
    assert page.context["page_obj"].paginator.count == 7
    assert client.get(url("timeline", world.member_a), {"kind": "gossip"}).status_code == 422
    partial = client.get(url("timeline", world.member_a), {"kind": "note"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert client.get(url("timeline", world.member_a), {"format": "csv"}).status_code == 403  # bob: rule D4
    client.force_login(world.alice)
    export = client.get(url("timeline", world.member_a), {"format": "csv", "kind": "note"})
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == "at,kind,title,detail,organization,url"
    assert len(lines) == 8
    assert ",'=HYPERLINK(1)," in lines[1]  # formula neutralised
    assert AuditEvent.objects.filter(action="export", object_type="member_timeline").count() == 1
