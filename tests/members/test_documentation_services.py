"""Rule M2: the documentation services record consent, assessments, SDOH Z codes, goals and their attainment,
notes and information from other sources; bad input gets a DomainError naming each field, and nothing is
saved. Today is 2026-11-23 (Pacific) through `frozen_clock`."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.core.errors import DomainError
from cshub.core.models import AuditEvent
from cshub.members import selectors, services
from cshub.members.models import Assessment, Consent, ExternalInformation, Goal, GoalProgress, SdohNeed
from tests.members.factories import (
    ConsentFactory,
    GoalFactory,
    GoalProgressFactory,
    ServiceFactory,
    exe_upload,
    pdf_upload,
)

pytestmark = pytest.mark.usefixtures("frozen_clock")
TODAY = dt.date(2026, 11, 23)


def field_errors(exc_info) -> dict[str, str]:
    return {e.field: e.message for e in exc_info.value.errors}


def field_codes(exc_info) -> dict[str, str]:
    return {e.field: e.code for e in exc_info.value.errors}


# --- Consent ----------------------------------------------------------------------------------------------


def make_consent(world, **overrides):
    values = {
        "actor": world.bob,
        "member": world.member_a,
        "scopes": ["cs_services", "health_information"],
        "recipients": "Golden State Health Plan\n\nHarbor ECM\n",
        "signed_on": dt.date(2026, 11, 20),
        "expires_on": dt.date(2027, 11, 20),
    }
    values.update(overrides)
    return services.consent_create(**values)


def test_m2_consent_is_recorded_with_its_signed_copy_and_audited(world, file_storage):
    consent = make_consent(world, document=pdf_upload("ROI signed.PDF"))
    assert consent.organization == world.provider_a
    assert consent.recipient_list == ["Golden State Health Plan", "Harbor ECM"]
    assert consent.status == Consent.Status.ACTIVE
    assert (consent.document_name, consent.document_content_type) == ("ROI signed.PDF", "application/pdf")
    assert consent.document.name.endswith(f"{consent.uuid}.pdf")
    assert (file_storage / consent.document.name).read_bytes().startswith(b"%PDF-")
    event = AuditEvent.objects.get(action="create", object_type="consent")
    assert event.member_ids == [str(world.member_a.uuid)]
    assert event.detail["document_sha256"] == consent.document_sha256


def test_m2_consent_status_follows_the_pacific_calendar(world):
    consent = ConsentFactory(member=world.member_a, organization=world.provider_a, expires_on=TODAY)
    assert consent.status == Consent.Status.ACTIVE  # expires at the end of its last day
    consent.expires_on = TODAY - dt.timedelta(days=1)
    assert consent.status == Consent.Status.EXPIRED
    consent.revoked_on = TODAY - dt.timedelta(days=3)
    assert consent.status == Consent.Status.REVOKED


def test_m2_consent_cannot_expire_before_it_was_signed_nor_be_signed_in_the_future(world):
    with pytest.raises(DomainError) as exc:
        make_consent(world, expires_on=dt.date(2026, 11, 19))
    assert field_errors(exc) == {"expires_on": "The consent cannot expire before it was signed."}
    with pytest.raises(DomainError) as exc:
        make_consent(world, signed_on=TODAY + dt.timedelta(days=1), expires_on=None)
    assert field_codes(exc) == {"signed_on": "future_date"}
    assert not Consent.objects.exists()


def test_m2_consent_needs_a_scope_recipients_and_a_date(world):
    with pytest.raises(DomainError) as exc:
        make_consent(world, scopes=[], recipients="  \n", signed_on=None)
    assert set(field_errors(exc)) == {"scopes", "recipients", "signed_on"}
    with pytest.raises(DomainError) as exc:
        make_consent(world, scopes=["other", "everything"])
    assert field_errors(exc) == {
        "scopes": "Not a consent scope: everything.",
        "scope_detail": "Describe the other information the consent covers.",
    }


def test_m2_a_renamed_executable_is_refused_and_nothing_is_stored(world, file_storage):
    with pytest.raises(DomainError) as exc:
        make_consent(world, document=exe_upload("signed-consent.pdf"))
    assert field_codes(exc) == {"document": "file_type"}
    assert not Consent.objects.exists()
    assert not file_storage.exists() or not [p for p in file_storage.rglob("*") if p.is_file()]


def test_m2_an_image_named_as_a_pdf_is_refused(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = SimpleUploadedFile("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with pytest.raises(DomainError) as exc:
        make_consent(world, document=png)
    assert field_codes(exc) == {"document": "file_type"}


def test_m2_an_oversize_document_is_refused(world, settings):
    settings.CSHUB_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(DomainError) as exc:
        make_consent(world, document=pdf_upload(size=2048))
    assert field_codes(exc) == {"document": "too_large"}


def test_m2_png_jpeg_and_tiff_scans_are_accepted(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    for name, head in [
        ("a.png", b"\x89PNG\r\n\x1a\n"),
        ("b.jpeg", b"\xff\xd8\xff\xe0"),
        ("c.tif", b"II*\x00"),
        ("d.TIFF", b"MM\x00*"),
    ]:
        consent = make_consent(world, document=SimpleUploadedFile(name, head + b"\x00" * 64))
        assert consent.document_content_type.startswith("image/")


def test_m2_revoking_a_consent(world):
    consent = make_consent(world)
    revoked = services.consent_revoke(actor=world.alice, consent=consent, reason="Member asked by phone.")
    assert (revoked.revoked_on, revoked.revoked_by, revoked.status) == (TODAY, world.alice, "revoked")
    with pytest.raises(DomainError) as exc:
        services.consent_revoke(actor=world.alice, consent=consent, reason="Again")
    assert exc.value.status == 409
    other = make_consent(world)
    with pytest.raises(DomainError) as exc:
        services.consent_revoke(actor=world.bob, consent=other, reason="", revoked_on=dt.date(2026, 11, 1))
    assert set(field_errors(exc)) == {"reason", "revoked_on"}


# --- Assessments ------------------------------------------------------------------------------------------

RECUPERATIVE_ANSWERS = {
    "condition_to_recover_from": "Hip fracture",
    "care_needs": ["vital_signs", "wound_care"],
    "help_with_daily_activities": "limited",
    "housing_after_stay": "housing_navigation",
    "expected_stay_days": "21",
    "discharge_date": "2026-11-20",
}


def test_m2_assessment_uses_the_services_template_and_keeps_its_version(world):
    ServiceFactory(key="recuperative_care")
    assessment = services.assessment_create(
        actor=world.bob,
        member=world.member_a,
        service_key="recuperative_care",
        assessed_on=TODAY,
        answers=RECUPERATIVE_ANSWERS,
    )
    assert (assessment.template_key, assessment.template_version) == ("recuperative_care", "2026-11")
    assert assessment.answers["care_needs"] == ["wound_care", "vital_signs"]  # template order
    assert assessment.answers["expected_stay_days"] == 21
    assert assessment.assessor == world.bob
    assert AuditEvent.objects.filter(action="create", object_type="assessment").count() == 1


def test_m2_a_service_without_its_own_template_uses_the_general_one(world):
    ServiceFactory(key="respite_services")
    assessment = services.assessment_create(
        actor=world.bob,
        member=world.member_a,
        service_key="respite_services",
        assessed_on=TODAY,
        answers={
            "needs_in_own_words": "A break for my daughter",
            "living_situation": "housed_stable",
            "enrolled_in_ecm": "no",
            "member_agrees": True,
        },
    )
    assert assessment.template_key == "general"
    assert assessment.answers["enrolled_in_ecm"] is False


def test_m2_assessment_errors_name_each_question(world):
    ServiceFactory(key="recuperative_care")
    answers = {**RECUPERATIVE_ANSWERS, "condition_to_recover_from": " ", "expected_stay_days": "900"}
    answers.update(help_with_daily_activities="total", favourite_colour="blue")
    with pytest.raises(DomainError) as exc:
        services.assessment_create(
            actor=world.bob,
            member=world.member_a,
            service_key="recuperative_care",
            assessed_on=TODAY + dt.timedelta(days=2),
            answers=answers,
        )
    assert field_codes(exc) == {
        "answers.condition_to_recover_from": "required",
        "answers.help_with_daily_activities": "invalid",
        "answers.expected_stay_days": "invalid",
        "answers.favourite_colour": "unknown",
        "assessed_on": "future_date",
    }
    assert field_errors(exc)["answers.condition_to_recover_from"] == "This question is required."
    assert not Assessment.objects.exists()


def test_m2_assessment_for_an_unknown_service_is_refused(world):
    with pytest.raises(DomainError) as exc:
        services.assessment_create(
            actor=world.bob, member=world.member_a, service_key="teleportation", assessed_on=TODAY, answers={}
        )
    assert "service" in field_errors(exc)


# --- SDOH needs -------------------------------------------------------------------------------------------


def test_m2_sdoh_need_is_stored_with_the_dot_and_the_code_sets_description(world):
    need = services.sdoh_need_create(
        actor=world.bob, member=world.member_a, code="z5901", identified_on=TODAY
    )
    assert (need.code, need.description, need.status) == ("Z59.01", "Sheltered homelessness", "open")
    assert AuditEvent.objects.get(action="create", object_type="sdoh_need").detail["code"] == "Z59.01"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("Z99.9", "Z99.9 is not a social determinants of health code (Z55\N{EN DASH}Z65)."),
        ("E11.9", "E11.9 is not a social determinants of health code (Z55\N{EN DASH}Z65)."),
        ("Z61.0", "Z61.0 is not in the ICD-10-CM code set."),
        ("housing", "housing is not an ICD-10-CM code."),
        ("", "Enter an ICD-10-CM Z code, for example Z59.01."),
    ],
)
def test_m2_sdoh_code_must_be_an_icd10cm_code_of_z55_to_z65(world, code, message):
    with pytest.raises(DomainError) as exc:
        services.sdoh_need_create(actor=world.bob, member=world.member_a, code=code, identified_on=TODAY)
    assert field_errors(exc) == {"code": message}
    assert not SdohNeed.objects.exists()


def test_m2_sdoh_category_is_refused_with_its_billable_codes_named(world):
    with pytest.raises(DomainError) as exc:
        services.sdoh_need_create(actor=world.bob, member=world.member_a, code="Z59.0", identified_on=TODAY)
    assert field_errors(exc)["code"] == (
        "Z59.0 is a category, not a billable code; use a more specific code: Z59.00, Z59.01, Z59.02."
    )


def test_m2_sdoh_need_open_once_then_resolved(world):
    need = services.sdoh_need_create(
        actor=world.bob, member=world.member_a, code="Z59.41", identified_on=dt.date(2026, 11, 2)
    )
    with pytest.raises(DomainError) as exc:
        services.sdoh_need_create(actor=world.alice, member=world.member_a, code="Z5941", identified_on=TODAY)
    assert exc.value.status == 409
    with pytest.raises(DomainError) as exc:
        services.sdoh_need_resolve(actor=world.bob, need=need, resolved_on=dt.date(2026, 11, 1))
    assert field_codes(exc) == {"resolved_on": "date_order"}
    resolved = services.sdoh_need_resolve(actor=world.bob, need=need, note="CalFresh approved")
    assert (resolved.status, resolved.resolved_on) == ("resolved", TODAY)
    assert "CalFresh approved" in resolved.note
    again = services.sdoh_need_create(
        actor=world.bob, member=world.member_a, code="Z59.41", identified_on=TODAY
    )
    assert again.status == "open"  # a new episode of the same need


# --- Goals ------------------------------------------------------------------------------------------------


def test_m2_goal_attainment_over_time_current_status_is_the_latest_row(world):
    goal = services.goal_create(
        actor=world.bob,
        member=world.member_a,
        description="Move into permanent housing",
        target_date=dt.date(2027, 5, 1),
    )  # first row: not started, today
    services.goal_progress_record(actor=world.bob, goal=goal, status="in_progress", note="Applied to 3 units")
    services.goal_progress_record(
        actor=world.alice, goal=goal, status="met", recorded_on=dt.date(2026, 11, 20)
    )
    [listed] = selectors.goal_list(user=world.bob, member=world.member_a)
    # The latest by date (then the last written that day), not the last written: "met" was back-dated.
    assert (listed.current_status, listed.current_status_on) == ("in_progress", TODAY)
    assert [p.status for p in listed.progress.all()] == ["in_progress", "not_started", "met"]
    assert AuditEvent.objects.filter(object_type="goal_progress", action="create").count() == 2


def test_m2_goal_progress_status_and_date_are_checked(world):
    goal = GoalFactory(member=world.member_a, organization=world.provider_a)
    with pytest.raises(DomainError) as exc:
        services.goal_progress_record(
            actor=world.bob, goal=goal, status="finished", recorded_on=TODAY + dt.timedelta(days=1)
        )
    assert set(field_errors(exc)) == {"status", "recorded_on"}
    assert not GoalProgress.objects.exists()
    with pytest.raises(DomainError) as exc:
        services.goal_create(actor=world.bob, member=world.member_a, description="  ")
    assert field_codes(exc) == {"description": "required"}
    assert Goal.objects.count() == 1


def test_m2_goal_list_annotates_without_a_query_per_goal(world, django_assert_num_queries):
    for _ in range(5):
        goal = GoalFactory(member=world.member_a, organization=world.provider_a)
        GoalProgressFactory(goal=goal, status="met", recorded_on=dt.date(2026, 11, 1))
        GoalProgressFactory(goal=goal, status="in_progress", recorded_on=dt.date(2026, 10, 1))
    world.bob.role_set  # noqa: B018  (roles loaded, as a request has them)
    with django_assert_num_queries(3):  # goals (annotated), their progress (one prefetch), the audit row
        goals = selectors.goal_list(user=world.bob, member=world.member_a)
    assert {g.current_status for g in goals} == {"met"}


# --- Notes and information from other sources -------------------------------------------------------------


def test_m2_note_and_external_information(world, file_storage):
    note = services.member_note_create(actor=world.bob, member=world.member_a, text="  Met at the shelter.  ")
    assert (note.text, note.author) == ("Met at the shelter.", world.bob)
    info = services.external_information_create(
        actor=world.bob,
        member=world.member_a,
        source_name="Sutter General",
        source_kind="hospital",
        received_on=dt.date(2026, 11, 21),
        summary="Discharge summary: follow-up in 7 days.",
        document=pdf_upload("discharge.pdf"),
    )
    assert info.document_content_type == "application/pdf"
    with pytest.raises(DomainError) as exc:
        services.external_information_create(
            actor=world.bob,
            member=world.member_a,
            source_name="",
            source_kind="rumour",
            received_on=TODAY + dt.timedelta(days=1),
            summary="",
            document=exe_upload("discharge.pdf"),
        )
    assert set(field_errors(exc)) == {"source_name", "source_kind", "received_on", "summary", "document"}
    assert ExternalInformation.objects.count() == 1
    with pytest.raises(DomainError):
        services.member_note_create(actor=world.bob, member=world.member_a, text="")
