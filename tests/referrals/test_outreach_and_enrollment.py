"""Outreach (rules O1-O4, P3), the first contact check (A1), enrollment (R4, M2), onward referrals (R7, R8)
and reminders (R6), through the services with the clock frozen."""

from __future__ import annotations

import datetime as dt

import pytest
from pypdf import PdfReader

from cshub.core.errors import DomainError
from cshub.members.models import Consent
from cshub.referrals import selectors, services
from cshub.referrals.models import Enrollment, OutreachAttempt, Referral, ReferralReminder
from tests.factories import EcmAssignmentFactory
from tests.referrals.factories import make_referral, member_details

pytestmark = pytest.mark.django_db

RECEIVED = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)  # three weeks before the frozen "now"


def _attempt(rw, referral, modality, *, day, outcome="no_answer"):
    return services.outreach_attempt_record(
        actor=rw.bob,
        referral=referral,
        attempted_at=dt.datetime(2026, 11, day, 18, 0, tzinfo=dt.UTC),
        modality=modality,
        outcome=outcome,
        telehealth_consent=modality == "telehealth",
    )


@pytest.fixture
def referral(rw):
    return make_referral(rw, received_at=RECEIVED)


def test_o1_first_attempt_accepts_a_pending_referral(rw, referral):
    _attempt(rw, referral, "phone", day=3)
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert referral.events.filter(kind="status", to_status="accepted").exists()


def test_o2_p3_telehealth_needs_the_members_consent(rw, referral):
    with pytest.raises(DomainError) as exc:
        services.outreach_attempt_record(
            actor=rw.bob,
            referral=referral,
            attempted_at=RECEIVED,
            modality="telehealth",
            outcome="reached",
        )
    assert exc.value.errors[0].field == "telehealth_consent"
    assert not OutreachAttempt.objects.exists()


def test_outreach_attempt_refuses_future_and_before_receipt_and_outsiders(rw, referral):
    with pytest.raises(DomainError) as exc:
        services.outreach_attempt_record(
            actor=rw.bob,
            referral=referral,
            attempted_at=RECEIVED - dt.timedelta(days=1),
            modality="phone",
            outcome="no_answer",
        )
    assert exc.value.errors[0].code == "range"
    with pytest.raises(DomainError) as exc:
        services.outreach_attempt_record(
            actor=rw.bob,
            referral=referral,
            attempted_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            modality="phone",
            outcome="no_answer",
        )
    assert exc.value.errors[0].code == "future"
    with pytest.raises(DomainError):  # the referrer is not the provider
        services.outreach_attempt_record(
            actor=rw.dana, referral=referral, attempted_at=RECEIVED, modality="phone", outcome="no_answer"
        )


def test_o3_unsuccessful_engagement_is_refused_until_five_attempts_and_three_modalities(rw, referral):
    for day in (3, 5, 8, 10):
        _attempt(rw, referral, "phone", day=day)
    referral.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        services.outreach_end(
            actor=rw.bob, referral=referral, outcome="unreachable", expected_version=referral.version
        )
    message = exc.value.message
    assert exc.value.code == "outreach_o3_not_met"
    assert "1 more attempt(s) within 30 days of receipt (by 12/02/2026); 4 made" in message
    assert "2 more modality(ies)" in message and "used so far: phone" in message
    referral.refresh_from_db()
    assert referral.status == "accepted"

    _attempt(rw, referral, "text", day=12)
    _attempt(rw, referral, "in_person", day=15)
    referral.refresh_from_db()
    progress = selectors.outreach_progress(referral, list(referral.outreach_attempts.all()))
    assert progress.o3_met and progress.attempts_in_window == 6
    assert progress.days_left == 9  # deadline 12/02, today 11/23
    referral = services.outreach_end(
        actor=rw.bob, referral=referral, outcome="unreachable", expected_version=referral.version
    )
    assert referral.status == "unable_to_reach"
    assert referral.outreach_outcome == "unreachable"
    assert referral.loop_closure_reason == "Unable to reach"


def test_o3_attempts_after_the_30_day_window_do_not_count(rw):
    referral = make_referral(rw, received_at=dt.datetime(2026, 10, 1, 17, 0, tzinfo=dt.UTC))
    attempts = [
        OutreachAttempt(
            referral=referral,
            attempted_at=dt.datetime(2026, 11, d, 18, tzinfo=dt.UTC),
            modality=m,
            outcome="no_answer",
        )
        for d, m in ((1, "phone"), (2, "text"), (3, "email"), (4, "in_person"), (5, "phone"))
    ]
    progress = selectors.outreach_progress(referral, attempts)
    assert progress.attempts_in_window == 0
    assert progress.days_left < 0
    assert not progress.o3_met


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("declined", "no_longer_interested"),
        ("disengaged", "no_longer_interested"),
        ("exclusion", "not_eligible"),
    ],
)
def test_o4_other_outreach_outcomes_end_outreach_and_tell_the_referrer(
    rw, referral, outcome, status, mailoutbox
):
    from cshub.notifications.models import Notification

    referral = services.outreach_end(actor=rw.bob, referral=referral, outcome=outcome, expected_version=1)
    assert (referral.status, referral.outreach_outcome) == (status, outcome)
    assert referral.outreach_ended_at is not None
    assert Notification.objects.filter(recipient=rw.dana, object_id=str(referral.uuid)).exists()
    with pytest.raises(DomainError):
        _attempt(rw, referral, "phone", day=20)


def test_a1_first_contact_check_records_plan_eligibility_checklist_and_duplicative_programs(rw, referral):
    from cshub.members.models import ProgramEnrollment

    ProgramEnrollment.objects.create(member=rw.member_a, program="hhap", start_date=dt.date(2026, 1, 1))
    _attempt(rw, referral, "phone", day=3, outcome="reached")
    referral.refresh_from_db()
    items = referral.service.eligibility
    check = services.first_contact_check_record(
        actor=rw.bob, referral=referral, contact_on=dt.date(2026, 11, 3), results=["met"] * len(items)
    )
    assert check.plan_eligible
    assert "Eligible with Golden State Health Plan on 11/03/2026" in check.plan_eligibility_detail
    assert check.checklist_met is (not any(i.get("kind") == "exclusion" for i in items))
    assert [d["kind"] for d in check.duplicative] == [
        "program"
    ]  # county coordinated entry duplicates navigation
    assert not check.passed
    with pytest.raises(DomainError) as exc:
        services.referral_transition(
            actor=rw.bob, referral=referral, to_status="eligible", expected_version=referral.version
        )
    assert "did not pass" in exc.value.message


def test_a1_check_needs_a_result_for_each_item_and_a_matched_member(rw):
    unmatched = make_referral(rw, member=False, member_details=member_details(None))
    with pytest.raises(DomainError) as exc:
        services.first_contact_check_record(
            actor=rw.bob, referral=unmatched, contact_on=dt.date(2026, 11, 23), results=[]
        )
    assert exc.value.code == "referral_member_not_matched"
    referral = make_referral(rw, service_key="recuperative_care")
    with pytest.raises(DomainError) as exc:
        services.first_contact_check_record(
            actor=rw.bob, referral=referral, contact_on=dt.date(2026, 11, 23), results=["met"]
        )
    assert exc.value.errors[0].field == "results"


def test_a1_plan_eligibility_ended_before_contact_fails_the_check(rw, referral):
    span = rw.member_a.eligibility_spans.get()
    span.start_date, span.end_date = dt.date(2025, 1, 1), dt.date(2026, 10, 31)
    span.save()
    items = referral.service.eligibility
    check = services.first_contact_check_record(
        actor=rw.bob, referral=referral, contact_on=dt.date(2026, 11, 3), results=["met"] * len(items)
    )
    assert not check.plan_eligible
    assert check.plan_eligibility_detail == "Not eligible with Golden State Health Plan on 11/03/2026"


def _make_eligible(rw, referral):
    _attempt(rw, referral, "in_person", day=3, outcome="reached")
    referral.refresh_from_db()
    items = referral.service.eligibility
    results = ["not_met" if i.get("kind") == "exclusion" else "met" for i in items]
    services.first_contact_check_record(
        actor=rw.bob, referral=referral, contact_on=dt.date(2026, 11, 3), results=results
    )
    return services.referral_transition(
        actor=rw.bob, referral=referral, to_status="eligible", expected_version=referral.version
    )


def test_r4_m2_enrollment_needs_consent_then_got_help_closes_the_loop(rw, referral):
    referral = _make_eligible(rw, referral)
    with pytest.raises(DomainError) as exc:
        services.enrollment_create(
            actor=rw.bob,
            referral=referral,
            enrolled_on=dt.date(2026, 11, 4),
            expected_version=referral.version,
        )
    assert exc.value.errors[0].field == "consent"
    Consent.objects.create(
        member=rw.member_a,
        organization=rw.provider_a,
        scopes=["cs_services"],
        recipients="Golden State Health Plan",
        signed_on=dt.date(2026, 11, 3),
    )
    with pytest.raises(DomainError):  # got help needs the enrollment first
        services.referral_transition(
            actor=rw.bob, referral=referral, to_status="got_help", expected_version=referral.version
        )
    enrollment = services.enrollment_create(
        actor=rw.bob, referral=referral, enrolled_on=dt.date(2026, 11, 4), expected_version=referral.version
    )
    assert enrollment.organization == rw.provider_a
    referral.refresh_from_db()
    assert referral.outreach_outcome == "engaged"
    referral = services.referral_transition(
        actor=rw.bob, referral=referral, to_status="got_help", expected_version=referral.version
    )
    assert referral.loop_closure_reason == "Services received"


def test_a1_enrollment_with_another_provider_is_a_duplicative_program(rw):
    Enrollment.objects.create(
        member=rw.member_a,
        organization=rw.provider_b,
        service_id=make_referral(rw).service_id,
        enrolled_on=dt.date(2026, 6, 1),
    )
    referral = Referral.objects.get()
    items = referral.service.eligibility
    check = services.first_contact_check_record(
        actor=rw.bob, referral=referral, contact_on=dt.date(2026, 11, 23), results=["met"] * len(items)
    )
    assert check.duplicative[0]["kind"] == "same_service"
    assert rw.provider_b.name in check.duplicative[0]["description"]


def test_r7_provider_refers_the_member_on_to_another_cs_provider(rw, referral):
    onward = services.referral_refer_onward(
        actor=rw.bob,
        referral=referral,
        service_key="medically_tailored_meals",
        receiving_provider=rw.provider_b,
        reason="Needs meals after discharge",
    )
    assert onward.channel == "cs_to_cs"
    assert onward.source_referral == referral
    assert onward.referring_organization == rw.provider_a
    assert onward.member == rw.member_a
    assert referral.events.filter(kind="onward").exists()


def test_r8_ecm_referral_for_a_member_assigned_elsewhere_is_unable_to_process_with_a_letter(
    rw, referral, mailoutbox
):
    EcmAssignmentFactory(
        member=rw.member_a, plan=rw.plan, ecm_provider=rw.ecm_org, start_date=dt.date(2026, 1, 1)
    )
    onward = services.referral_refer_onward(
        actor=rw.bob, referral=referral, service_key="ecm", receiving_provider=None, reason="Complex needs"
    )
    assert onward.kind == "ecm" and onward.receiving_provider is None
    assert onward.status == "unable_to_process"
    assert onward.loop_closure_reason.startswith("Unable to process")
    letter = onward.documents.get(kind="letter")
    text = "".join(page.extract_text() for page in PdfReader(letter.file.open("rb")).pages)
    assert onward.number in text
    assert "already assigned to another ECM provider" in " ".join(text.split())
    # the referring provider (provider A) sees the letter; the notice is in-app
    from cshub.notifications.models import Notification

    assert Notification.objects.filter(recipient=rw.bob, kind="referral.unable_to_process").exists()


def test_r8_ecm_referral_for_an_unassigned_member_waits_for_the_plan(rw, referral):
    onward = services.referral_refer_onward(
        actor=rw.bob, referral=referral, service_key="ecm", receiving_provider=None, reason="Complex needs"
    )
    assert onward.status == "pending"
    assert not onward.documents.exists()


def test_r6_reminder_after_a_week_without_update_once_per_week(
    rw, frozen_clock, mailoutbox, django_capture_on_commit_callbacks
):
    from cshub.notifications.models import Notification

    referral = make_referral(
        rw,
        member_details=member_details(rw.member_a, email="ana@example.org", contact_preference="email"),
        received_at=dt.datetime(2026, 11, 16, 16, 0, tzinfo=dt.UTC),  # 7 days and 1 hour ago
    )
    fresh = make_referral(rw, service_key="recuperative_care")  # changed today: no reminder
    with django_capture_on_commit_callbacks(execute=True):
        assert services.referral_reminders_send() == 2  # provider + member (email preferred)
    assert services.referral_reminders_send() == 0  # same week: nothing again
    assert set(ReferralReminder.objects.values_list("recipient", flat=True)) == {"provider", "member"}
    assert not ReferralReminder.objects.filter(referral=fresh).exists()
    assert Notification.objects.filter(recipient=rw.bob, kind="referral.reminder").count() == 1
    assert any(m.to == ["ana@example.org"] for m in mailoutbox)

    frozen_clock.move_to(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC))  # the next week
    assert services.referral_reminders_send() == 3  # the second week of the first, the first of the other
    assert ReferralReminder.objects.filter(referral=referral).count() == 4


def test_r6_reminder_interval_is_a_setting(rw, settings):
    settings.CSHUB_REFERRAL_REMINDER_DAYS = 30
    make_referral(rw, received_at=dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC))
    assert services.referral_reminders_send() == 0


@pytest.mark.parametrize(
    ("expires_on", "revoked_on", "in_force"),
    [
        (None, None, True),
        (dt.date(2026, 11, 10), None, True),  # expires that day: still in force
        (dt.date(2026, 11, 9), None, False),
        (None, dt.date(2026, 11, 10), False),  # revoked that day
        (None, dt.date(2026, 11, 11), True),
    ],
)
def test_r4_consent_in_force_query_agrees_with_the_consent_status(rw, expires_on, revoked_on, in_force):
    consent = Consent.objects.create(
        member=rw.member_a,
        organization=rw.provider_a,
        scopes=["cs_services"],
        recipients="Golden State Health Plan",
        signed_on=dt.date(2026, 11, 1),
        expires_on=expires_on,
        revoked_on=revoked_on,
    )
    day = dt.date(2026, 11, 10)
    assert (consent.status_on(day) == Consent.Status.ACTIVE) is in_force
    assert Consent.objects.filter(Consent.in_force_on(day), pk=consent.pk).exists() is in_force
    problem = services.consent_problem(member=rw.member_a, organization_id=rw.provider_a.pk, on=day)
    assert (problem is None) is in_force


def test_r6_the_hourly_worker_job_sends_the_reminders_once(rw):
    from huey.contrib.djhuey import HUEY

    from cshub.referrals import tasks

    make_referral(rw, received_at=dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC))
    assert "send_referral_reminders" in [t.name for t in HUEY._registry.periodic_tasks]
    assert tasks.send_referral_reminders.call_local() == 1
    assert tasks.send_referral_reminders.call_local() == 0
