"""The referral page: what each party sees, the timeline, and every action panel through the page (status
with optimistic locking, outreach and rule O3, first contact check A1, member match, enrollment R4/M2,
documents, onward referrals R7/R8, plan assignment). The outsider gets 404 on every URL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cshub.core.models import AuditEvent, County
from cshub.referrals import services
from cshub.referrals.models import Enrollment, FirstContactCheck, OutreachAttempt, Referral, ReferralDocument
from tests.factories import EcmAssignmentFactory, OrganizationFactory
from tests.members.factories import ConsentFactory
from tests.referrals.factories import make_referral, member_details

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
RECEIVED = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET_NOTE = "Left voicemail with sister at the shelter"


def detail(referral) -> str:
    return reverse("referrals:detail", args=[referral.uuid])


def url(name: str, referral, *args) -> str:
    return reverse(f"referrals:{name}", args=[referral.uuid, *args])


def attempt(rw, referral, modality: str, day: int, notes: str = "") -> OutreachAttempt:
    return services.outreach_attempt_record(
        actor=rw.bob,
        referral=referral,
        attempted_at=dt.datetime(2026, 11, day, 18, 0, tzinfo=dt.UTC),
        modality=modality,
        outcome="no_answer",
        notes=notes,
    )


@pytest.fixture
def referral(rw):
    return make_referral(rw, received_at=RECEIVED)


# --- Who sees what -------------------------------------------------------------------------------------


def test_detail_for_the_provider_shows_summary_status_mapping_and_work_panels(client, rw, referral):
    for user in (rw.alice, rw.bob):
        client.force_login(user)
        page = client.get(detail(referral))
        assert page.status_code == 200
        html = page.content.decode()
        assert referral.number in html and "Ana Alvarez" in html
        assert reverse("members:detail", args=[rw.member_a.uuid]) in html  # the matched member
        assert "Shown to findhelp as “Pending”" in html and "Gravity SDOH Task status “requested”" in html
        assert rw.hospital.name in html and "Referrer portal" in html
        for panel in (
            "panel-status",
            "panel-outreach",
            "panel-first-contact",
            "panel-document",
            "panel-onward",
        ):
            assert f'id="{panel}"' in html, panel
        assert 'id="panel-assign"' not in html and 'id="panel-match"' not in html
        assert [k for k, _ in page.context["next_steps"]] == [
            "accepted",
            "not_eligible",
            "no_capacity",
            "referred_elsewhere",
            "closed",
        ]
    assert AuditEvent.objects.filter(actor=rw.bob, action="read", object_id=str(referral.uuid)).exists()


def test_detail_for_the_plan_offers_assignment_of_a_pending_referral(client, rw, referral):
    client.force_login(rw.um)
    page = client.get(detail(referral))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="panel-assign"' in html and "Re-assign to another provider" in html
    assert 'id="panel-outreach"' not in html  # outreach is the provider's
    assert 'id="panel-status"' in html and "accepted" in [k for k, _ in page.context["next_steps"]]


def test_r9_referrer_sees_the_status_timeline_only_and_may_only_close(client, rw, referral):
    attempt(rw, referral, "phone", 3, notes=SECRET_NOTE)
    referral.refresh_from_db()
    services.first_contact_check_record(
        actor=rw.bob,
        referral=referral,
        contact_on=dt.date(2026, 11, 3),
        results=["met"] * len(referral.service.eligibility),
    )
    client.force_login(rw.dana)
    page = client.get(detail(referral))
    html = page.content.decode()
    assert page.status_code == 200
    assert SECRET_NOTE not in html
    kinds = [row["event"].kind for row in page.context["events"]]
    assert kinds == ["created", "status"]  # not the outreach attempt nor the first contact check
    assert "Pending → Accepted" in html and "Outreach started" in html
    assert 'data-testid="o3-progress"' not in html and 'data-testid="first-contact-check"' not in html
    assert page.context["next_steps"] == [("closed", "Closed")]
    for panel in ("panel-outreach", "panel-first-contact", "panel-document", "panel-onward", "panel-assign"):
        assert f'id="{panel}"' not in html
    client.force_login(rw.bob)
    html = client.get(detail(referral)).content.decode()
    assert SECRET_NOTE in html and 'data-testid="o3-progress"' in html


def test_outsider_and_other_plan_get_404_on_the_referral(client, rw, referral):
    for user in (rw.charlie, rw.other_plan_user):
        client.force_login(user)
        assert client.get(detail(referral)).status_code == 404
    assert AuditEvent.objects.filter(actor=rw.charlie, action="denied", object_type="referral").exists()


ACTIONS = [
    ("transition", {"status": "accepted", "version": 1}),
    ("outreach_add", {"attempted_at": "2026-11-03T10:00", "modality": "phone", "outcome": "no_answer"}),
    ("outreach_end", {"outcome": "declined", "version": 1}),
    ("match_member", {"cin": "91000001A", "date_of_birth": "1980-05-17"}),
    ("first_contact", {"contact_on": "2026-11-03"}),
    ("enroll", {"enrolled_on": "2026-11-20", "version": 1}),
    ("enrollment_end", {"ended_on": "2026-11-20", "end_reason": "x"}),
    ("document_add", {"description": "x"}),
    ("refer_onward", {"service": "ecm", "reason": "x"}),
    ("assign_provider", {"receiving_provider": "", "version": 1}),
]


@pytest.mark.parametrize(("name", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_outsider_gets_404_on_every_action_and_nothing_changes(client, rw, referral, name, data):
    client.force_login(rw.charlie)
    response = client.post(url(name, referral), data)
    assert response.status_code == 404
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("pending", 1)
    assert referral.events.count() == 1


def test_outsider_gets_404_on_document_download_and_onward_provider_options(client, rw, referral):
    document = services.referral_document_add(
        actor=rw.bob, referral=referral, upload=SimpleUploadedFile("a.pdf", PDF, "application/pdf")
    )
    client.force_login(rw.charlie)
    assert client.get(url("document", referral, document.uuid)).status_code == 404
    assert (
        client.get(url("onward_providers", referral), {"service": "medically_tailored_meals"}).status_code
        == 404
    )


def test_actions_are_post_only(client, rw, referral):
    client.force_login(rw.bob)
    assert client.get(url("transition", referral)).status_code == 405


# --- Status (rules R5, R9) and optimistic locking ------------------------------------------------------


def test_r5_status_change_through_the_page_records_who_when_and_why(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(url("transition", referral), {"status": "accepted", "reason": "", "version": 1})
    assert response.status_code == 302 and response["Location"] == detail(referral)
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("accepted", 2)
    page = client.get(detail(referral))
    html = page.content.decode()
    assert "is now Accepted" in html  # the flash message
    status_events = [row for row in page.context["events"] if row["event"].kind == "status"]
    assert [(row["from"], row["to"], row["who"]) for row in status_events] == [
        ("Pending", "Accepted", str(rw.bob))
    ]


def test_stale_version_conflict_shows_the_message_and_the_current_state(client, rw, referral):
    client.force_login(rw.bob)
    first = client.post(url("transition", referral), {"status": "accepted", "version": 1})
    assert first.status_code == 302
    client.force_login(rw.alice)  # saw the page at version 1 too
    second = client.post(
        url("transition", referral), {"status": "no_capacity", "reason": "Waitlist full", "version": 1}
    )
    assert second.status_code == 409
    html = second.content.decode()
    assert 'data-testid="conflict"' in html
    assert "changed by someone else" in html and "reload" in html.lower()
    assert "It is now <strong>Accepted</strong>" in html
    assert second.context["status_form"]["version"].value() == 2  # a fresh form for the current state
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("accepted", 2)


def test_r5_a_step_the_workflow_does_not_allow_names_the_allowed_next_steps(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(url("transition", referral), {"status": "got_help", "version": 1})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Allowed next steps: Accepted, Not eligible, No capacity, Referred elsewhere, Closed" in html
    assert Referral.objects.get(pk=referral.pk).status == "pending"


def test_r5_reason_required_is_shown_beside_the_field(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(url("transition", referral), {"status": "no_capacity", "reason": "", "version": 1})
    assert response.status_code == 422
    assert response.context["status_form"].errors["reason"] == ["A reason is required for this status."]
    assert 'list="status-reasons"' in response.content.decode()
    assert "Waitlist full" in response.content.decode()  # the workflow's suggested reasons


def test_status_form_without_a_version_is_refused_field_by_field(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(url("transition", referral), {"status": "accepted"})
    assert response.status_code == 422
    assert "version" in response.context["status_form"].errors


def test_referrer_closing_through_the_page_and_refused_a_provider_step(client, rw, referral):
    client.force_login(rw.dana)
    refused = client.post(url("transition", referral), {"status": "accepted", "version": 1})
    assert refused.status_code == 403
    assert "Your next steps: Closed" in refused.content.decode()
    done = client.post(
        url("transition", referral), {"status": "closed", "reason": "Withdrawn by the referrer", "version": 1}
    )
    assert done.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == "closed"


def test_htmx_status_change_returns_the_page_with_a_notice(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(
        url("transition", referral), {"status": "accepted", "version": 1}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="referral-page"' in html and 'data-testid="notice"' in html
    assert 'hx-select="#referral-page"' in html
    assert "htmx-config" in html  # 409/422 answers are swapped in, not dropped


# --- Outreach (rules O1-O4) ----------------------------------------------------------------------------


def test_o1_outreach_attempt_through_the_page_accepts_and_shows_progress(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(
        url("outreach_add", referral),
        {"attempted_at": "2026-11-03T10:30", "modality": "phone", "outcome": "left_message", "notes": "Hi"},
    )
    assert response.status_code == 302
    (a,) = OutreachAttempt.objects.filter(referral=referral)
    assert a.attempted_at == dt.datetime(2026, 11, 3, 18, 30, tzinfo=dt.UTC)  # 10:30 Pacific
    page = client.get(detail(referral))
    html = page.content.decode()
    assert page.context["referral"].status == "accepted"
    assert "1 of 5 attempts within 30 days" in html and "1 of 3 different ways: Phone" in html
    assert "Left a message" in html


def test_o2_telehealth_needs_consent_and_bad_input_is_named(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(
        url("outreach_add", referral),
        {"attempted_at": "2026-11-03T10:30", "modality": "telehealth", "outcome": "reached"},
    )
    assert response.status_code == 422
    assert "telehealth_consent" in response.context["outreach_form"].errors
    response = client.post(url("outreach_add", referral), {"attempted_at": "yesterday", "modality": "pigeon"})
    assert response.status_code == 422
    assert {"attempted_at", "modality", "outcome"} <= set(response.context["outreach_form"].errors)
    future = client.post(
        url("outreach_add", referral),
        {"attempted_at": "2026-12-01T10:00", "modality": "phone", "outcome": "no_answer"},
    )
    assert future.status_code == 422
    assert future.context["outreach_form"].errors["attempted_at"] == ["The attempt is in the future."]
    assert not OutreachAttempt.objects.exists()


def test_o3_refusal_message_through_the_page_then_unreachable_once_met(client, rw, referral):
    for day in (3, 5, 8, 10):
        attempt(rw, referral, "phone", day)
    client.force_login(rw.bob)
    refused = client.post(url("outreach_end", referral), {"outcome": "unreachable", "version": 2})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Unsuccessful engagement needs rule O3 met" in html
    assert "1 more attempt(s) within 30 days of receipt (by 12/02/2026); 4 made" in html
    assert "2 more modality(ies)" in html
    assert Referral.objects.get(pk=referral.pk).status == "accepted"
    attempt(rw, referral, "text", 12)
    attempt(rw, referral, "in_person", 15)
    done = client.post(url("outreach_end", referral), {"outcome": "unreachable", "version": 2})
    assert done.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outreach_outcome) == ("unable_to_reach", "unreachable")
    html = client.get(detail(referral)).content.decode()
    assert 'id="panel-outreach"' not in html and 'id="panel-end-outreach"' not in html


# --- First contact (rule A1) ---------------------------------------------------------------------------


def test_a1_first_contact_form_records_a_result_for_each_checklist_item(client, rw):
    referral = make_referral(rw, service_key="recuperative_care", received_at=RECEIVED)
    items = referral.service.eligibility
    client.force_login(rw.bob)
    page = client.get(detail(referral))
    assert page.content.decode().count('data-testid="checklist-item"') == len(items)
    results = ["met", "met", "not_met", "unknown"][: len(items)]
    data = {"contact_on": "2026-11-03", "notes": "At the hospital"}
    for n, result in enumerate(results):
        data[f"result_{n}"] = result
        data[f"note_{n}"] = f"note {n}"
    response = client.post(url("first_contact", referral), data)
    assert response.status_code == 302
    check = FirstContactCheck.objects.get(referral=referral)
    assert [i["result"] for i in check.checklist] == results
    assert [i["note"] for i in check.checklist] == [f"note {n}" for n in range(len(items))]
    assert [i["text"] for i in check.checklist] == [i["text"] for i in items]
    assert check.plan_eligible
    page = client.get(detail(referral))
    html = page.content.decode()
    assert "Eligible with Golden State Health Plan on 11/03/2026" in html
    assert html.count('data-testid="check-item"') == len(items)
    assert "Not yet known" in html and "Duplicative programs: none found" in html


def test_a1_first_contact_form_names_missing_results_and_bad_dates(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(url("first_contact", referral), {"contact_on": "2026-11-03", "result_0": "met"})
    assert response.status_code == 422
    errors = response.context["check_form"].errors
    assert errors["result_1"] == ["Choose met, not met or not yet known."]
    data = {"contact_on": "2026-10-01"} | {f"result_{n}": "met" for n in range(3)}
    response = client.post(url("first_contact", referral), data)
    assert response.status_code == 422
    assert response.context["check_form"].errors["contact_on"] == [
        "First contact cannot be before the referral was received."
    ]
    assert not FirstContactCheck.objects.exists()


# --- Member match --------------------------------------------------------------------------------------


def test_match_member_through_the_page(client, rw):
    referral = make_referral(rw, member=False, member_details=member_details(None))
    client.force_login(rw.bob)
    page = client.get(detail(referral))
    assert 'id="panel-match"' in page.content.decode()
    assert "Match the referral to a plan member first" in page.content.decode()
    wrong = client.post(url("match_member", referral), {"cin": "91000001A", "date_of_birth": "1990-01-01"})
    assert wrong.status_code == 422
    assert "Check the CIN and the date of birth" in wrong.content.decode()
    dob = rw.member_a.date_of_birth.isoformat()
    done = client.post(url("match_member", referral), {"cin": "91000001a", "date_of_birth": dob})
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.member == rw.member_a


# --- Enrollment (rules R4, M2) -------------------------------------------------------------------------


def _make_eligible(rw, referral) -> Referral:
    attempt(rw, referral, "in_person", 3)
    referral.refresh_from_db()
    services.first_contact_check_record(
        actor=rw.bob,
        referral=referral,
        contact_on=dt.date(2026, 11, 3),
        results=["met"] * len(referral.service.eligibility),
    )
    return services.referral_transition(
        actor=rw.bob, referral=referral, to_status="eligible", expected_version=referral.version
    )


def test_r4_enrollment_without_consent_links_to_the_members_page_then_enrolls(client, rw):
    referral = _make_eligible(rw, make_referral(rw, service_key="recuperative_care", received_at=RECEIVED))
    client.force_login(rw.bob)
    refused = client.post(url("enroll", referral), {"enrolled_on": "2026-11-20", "version": referral.version})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Record the member&#x27;s consent and release of information first (rule R4)" in html
    assert 'data-testid="consent-link"' in html
    assert reverse("members:detail", args=[rw.member_a.uuid]) in html
    assert not Enrollment.objects.exists()
    ConsentFactory(member=rw.member_a, organization=rw.provider_a, signed_on=dt.date(2026, 11, 1))
    done = client.post(url("enroll", referral), {"enrolled_on": "2026-11-20", "version": referral.version})
    assert done.status_code == 302
    enrollment = Enrollment.objects.get(referral=referral)
    page = client.get(detail(referral))
    assert "enrolled 2026-11-20" in page.content.decode()
    bad_end = client.post(
        url("enrollment_end", referral),
        {"enrollment": enrollment.uuid, "ended_on": "2026-11-01", "end_reason": ""},
    )
    assert bad_end.status_code == 422
    assert "end_reason" in bad_end.context["enrollment_rows"][0][1].errors
    ended = client.post(
        url("enrollment_end", referral),
        {"enrollment": enrollment.uuid, "ended_on": "2026-11-22", "end_reason": "Moved away"},
    )
    assert ended.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.ended_on, enrollment.end_reason) == (dt.date(2026, 11, 22), "Moved away")


def test_enrollment_end_of_another_referrals_enrollment_is_404(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(
        url("enrollment_end", referral),
        {"enrollment": "00000000-0000-0000-0000-000000000000", "ended_on": "2026-11-22", "end_reason": "x"},
    )
    assert response.status_code == 404


# --- Documents -----------------------------------------------------------------------------------------


def test_documents_upload_download_audited_and_bad_files_named(client, rw, referral):
    client.force_login(rw.bob)
    bad = client.post(
        url("document_add", referral),
        {"file": SimpleUploadedFile("x.pdf", b"MZ" + b"\0" * 40, "application/pdf")},
    )
    assert bad.status_code == 422
    assert "not one of the accepted types" in bad.content.decode()
    done = client.post(
        url("document_add", referral),
        {
            "file": SimpleUploadedFile("discharge.pdf", PDF, "application/pdf"),
            "description": "Discharge plan",
        },
    )
    assert done.status_code == 302
    document = ReferralDocument.objects.get(referral=referral)
    page = client.get(detail(referral)).content.decode()
    assert "discharge.pdf" in page and "Discharge plan" in page
    download = client.get(url("document", referral, document.uuid))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert 'attachment; filename="discharge.pdf"' in download["Content-Disposition"]
    assert AuditEvent.objects.filter(
        actor=rw.bob, action="export", object_type="referral_document", object_id=str(document.uuid)
    ).exists()
    client.force_login(rw.dana)  # the referrer sees letters only
    assert client.get(url("document", referral, document.uuid)).status_code == 404
    assert "discharge.pdf" not in client.get(detail(referral)).content.decode()


# --- Onward referrals (rules R7, R8) and plan assignment -----------------------------------------------


def serve_sacramento_from_b(rw) -> None:
    rw.intake_b.counties.set(County.objects.filter(name="Sacramento"))


def test_r7_refer_onward_to_another_cs_provider_links_both_ways(client, rw, referral):
    serve_sacramento_from_b(rw)
    client.force_login(rw.bob)
    options = client.get(url("onward_providers", referral), {"service": "medically_tailored_meals"})
    assert options.status_code == 200
    assert rw.provider_b.name in options.content.decode()
    shown = client.post(
        url("refer_onward", referral),
        {"service": "medically_tailored_meals", "show_providers": "1", "reason": "Diet"},
    )
    assert shown.status_code == 200 and rw.provider_b.name in shown.content.decode()
    missing = client.post(
        url("refer_onward", referral), {"service": "medically_tailored_meals", "reason": ""}
    )
    assert missing.status_code == 422 and "reason" in missing.context["onward_form"].errors
    done = client.post(
        url("refer_onward", referral),
        {
            "service": "medically_tailored_meals",
            "receiving_provider": str(rw.provider_b.uuid),
            "reason": "Needs meals after discharge",
        },
    )
    assert done.status_code == 302
    onward = Referral.objects.get(source_referral=referral)
    assert onward.receiving_provider == rw.provider_b and onward.service.key == "medically_tailored_meals"
    page = client.get(detail(referral)).content.decode()
    assert 'data-testid="onward-referral"' in page and onward.number in page
    back = client.get(detail(onward)).content.decode()
    assert 'data-testid="source-referral"' in back and referral.number in back


def test_r8_refer_to_ecm_for_a_member_assigned_elsewhere_shows_the_letter_to_the_referrer(
    client, rw, referral
):
    other_ecm = OrganizationFactory(kind="ecm_provider", name="Harbor ECM")
    EcmAssignmentFactory(member=rw.member_a, plan=rw.plan, ecm_provider=other_ecm)
    client.force_login(rw.bob)
    done = client.post(url("refer_onward", referral), {"service": "ecm", "reason": "Complex needs"})
    assert done.status_code == 302
    onward = Referral.objects.get(source_referral=referral)
    assert onward.kind == "ecm" and onward.status == "unable_to_process"
    page = client.get(detail(onward))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="letters"' in html
    letter = ReferralDocument.objects.get(referral=onward, kind="letter")
    assert url("document", onward, letter.uuid) in html
    assert client.get(url("document", onward, letter.uuid)).status_code == 200


def test_plan_assigns_an_unassigned_referral_through_the_page(client, rw):
    serve_sacramento_from_b(rw)
    referral = make_referral(rw, provider=None, service_key="medically_tailored_meals")
    client.force_login(rw.um)
    page = client.get(detail(referral))
    assert "Assign a provider" in page.content.decode()
    choices = [v for v, _ in page.context["assign_form"].fields["receiving_provider"].choices if v]
    assert set(choices) == {str(rw.provider_a.uuid), str(rw.provider_b.uuid)}
    refused = client.post(url("assign_provider", referral), {"receiving_provider": "", "version": 1})
    assert refused.status_code == 422
    done = client.post(
        url("assign_provider", referral), {"receiving_provider": str(rw.provider_b.uuid), "version": 1}
    )
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.receiving_provider == rw.provider_b
    client.force_login(rw.bob)  # provider A never had it
    assert client.get(detail(referral)).status_code == 404
    client.force_login(rw.charlie)  # provider B has it now
    assert client.get(detail(referral)).status_code == 200


def test_provider_cannot_assign(client, rw, referral):
    client.force_login(rw.bob)
    response = client.post(
        url("assign_provider", referral), {"receiving_provider": str(rw.provider_a.uuid), "version": 1}
    )
    assert response.status_code == 403
    assert "Only the member&#x27;s plan assigns referrals." in response.content.decode()
