"""Referral intake, routing, status and concurrency through the services (rules R1-R5, R9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from cshub.core.errors import ConflictError, DomainError, PermissionDeniedError
from cshub.members.models import CareRelationship
from cshub.members.selectors import member_queryset_for
from cshub.referrals import selectors, services
from cshub.referrals.models import Channel, Referral, ReferralEvent, ReferrerKind
from cshub.referrals.services import MemberDetails, ReferrerDetails
from tests.referrals.factories import make_referral, member_details

pytestmark = pytest.mark.django_db

FAX_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_r1_portal_referral_from_a_hospital_matches_the_member_and_builds_the_care_team(rw):
    referral = make_referral(rw)
    assert referral.status == "pending"
    assert referral.number.startswith("R-2026-")
    assert referral.member == rw.member_a
    assert referral.referring_organization == rw.hospital
    reasons = set(
        CareRelationship.objects.filter(member=rw.member_a).values_list("organization__name", "reason")
    )
    assert (rw.hospital.name, "referral_made") in reasons
    assert (rw.provider_a.name, "referral_received") in reasons
    assert list(referral.events.values_list("kind", flat=True)) == ["created"]


def test_r3_referral_keeps_what_the_referrer_supplied_even_without_a_roster_match(rw):
    referral = make_referral(
        rw,
        member=False,
        member_details=member_details(None, cin="", email="rosa@example.org"),
        eligibility_information="Discharged Friday; no stable housing.",
    )
    assert referral.member is None
    assert referral.member_last_name == "Delgado"
    assert referral.eligibility_information == "Discharged Friday; no stable housing."


def test_r3_a_referral_without_any_way_to_reach_the_member_is_refused_with_the_field(rw):
    with pytest.raises(DomainError) as exc:
        make_referral(rw, member=False, member_details=member_details(None, phone=""))
    assert {e.field for e in exc.value.errors} == {"member_phone"}
    assert Referral.objects.count() == 0


def test_bad_member_details_name_each_field_and_write_nothing(rw):
    details = MemberDetails(
        first_name="", last_name="X", date_of_birth=dt.date(2030, 1, 1), cin="123", phone="12"
    )
    with pytest.raises(DomainError) as exc:
        make_referral(rw, member=False, member_details=details)
    fields = {e.field for e in exc.value.errors}
    assert {"member_first_name", "member_date_of_birth", "member_cin", "member_phone"} <= fields
    assert Referral.objects.count() == 0


def test_r1_self_referral_needs_consent_and_names_no_referring_organization(rw):
    with pytest.raises(DomainError) as exc:
        make_referral(
            rw,
            actor=None,
            member=False,
            channel=Channel.SELF_REFERRAL,
            referrer=ReferrerDetails(kind=ReferrerKind.FAMILY, name="Luis Delgado"),
        )
    assert [e.field for e in exc.value.errors] == ["consent_to_contact"]
    referral = make_referral(
        rw,
        actor=None,
        member=False,
        channel=Channel.SELF_REFERRAL,
        referrer=ReferrerDetails(kind=ReferrerKind.FAMILY, name="Luis Delgado", email="luis@example.org"),
        consent_to_contact=True,
    )
    assert referral.referring_organization is None
    assert referral.is_self_referral
    assert referral.consent_text_version


def test_r2_fax_referral_keeps_the_image_and_refuses_other_files(rw):
    fax = SimpleUploadedFile("fax-0412.pdf", FAX_PDF, content_type="application/pdf")
    referral = make_referral(
        rw,
        actor=rw.bob,
        channel=Channel.FAX,
        provider=None,
        referrer=ReferrerDetails(kind=ReferrerKind.OTHER_PROVIDER, name="Dr. Patel's office"),
        fax_document=fax,
    )
    assert referral.receiving_provider == rw.provider_a
    document = referral.documents.get()
    assert document.kind == "fax"
    assert document.file.read() == FAX_PDF

    exe = SimpleUploadedFile("fax.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(DomainError) as exc:
        make_referral(
            rw,
            actor=rw.bob,
            channel=Channel.FAX,
            provider=None,
            referrer=ReferrerDetails(kind=ReferrerKind.OTHER_PROVIDER, name="Dr. Patel's office"),
            fax_document=exe,
        )
    assert exc.value.errors[0].field == "fax_document"
    assert Referral.objects.count() == 1


def test_r2_only_the_receiving_providers_staff_log_phone_referrals(rw):
    with pytest.raises(PermissionDeniedError):
        make_referral(
            rw, actor=rw.dana, channel=Channel.PHONE, referrer=ReferrerDetails(kind="member", name="Rosa")
        )
    referral = make_referral(
        rw,
        actor=rw.bob,
        channel=Channel.PHONE,
        provider=None,
        referrer=ReferrerDetails(kind="member", name="Rosa"),
    )
    assert referral.channel == "phone"
    assert referral.receiving_provider == rw.provider_a


def test_routing_refuses_a_provider_that_does_not_offer_the_service_or_is_full(rw):
    with pytest.raises(DomainError) as exc:
        make_referral(rw, provider="B", service_key="housing_transition_navigation")
    assert "does not offer" in exc.value.errors[0].message
    rw.intake_a.accepting = False
    rw.intake_a.save()
    with pytest.raises(DomainError) as exc:
        make_referral(rw)
    assert "not accepting" in exc.value.errors[0].message
    names = list(
        selectors.referral_destinations(service_key="medically_tailored_meals").values_list("name", flat=True)
    )
    assert names == [rw.provider_b.name]


def test_routing_left_to_the_plan_then_assigned(rw):
    referral = make_referral(rw, provider=None)
    assert referral.receiving_provider is None
    unassigned = selectors.referral_list(user=rw.um, filters=selectors.ReferralFilters(box="unassigned"))
    assert list(unassigned) == [referral]
    with pytest.raises(PermissionDeniedError):
        services.referral_assign(actor=rw.dana, referral=referral, provider=rw.provider_a, expected_version=1)
    referral = services.referral_assign(
        actor=rw.um, referral=referral, provider=rw.provider_a, expected_version=1
    )
    assert referral.receiving_provider == rw.provider_a
    assert referral.version == 2
    assert referral.events.filter(kind="assigned").exists()


def test_second_open_referral_for_the_same_member_and_service_is_flagged_not_duplicated_silently(rw):
    first = make_referral(rw)
    second = make_referral(rw)
    assert second.duplicate_of == first
    assert second.events.filter(kind=ReferralEvent.Kind.DUPLICATE).exists()
    other_service = make_referral(rw, service_key="recuperative_care")
    assert other_service.duplicate_of is None


def test_r5_status_moves_along_the_table_and_records_history(rw):
    referral = make_referral(rw)
    referral = services.referral_transition(
        actor=rw.bob, referral=referral, to_status="accepted", expected_version=1
    )
    event = referral.events.get(kind="status")
    assert (event.from_status, event.to_status, event.actor) == ("pending", "accepted", rw.bob)


def test_invalid_transition_is_refused_with_the_allowed_next_steps(rw):
    referral = make_referral(rw)
    with pytest.raises(DomainError) as exc:
        services.referral_transition(
            actor=rw.bob, referral=referral, to_status="got_help", expected_version=1
        )
    assert exc.value.status == 409
    assert (
        "Allowed next steps: Accepted, Not eligible, No capacity, Referred elsewhere, Closed"
        in exc.value.message
    )
    referral.refresh_from_db()
    assert referral.status == "pending"


def test_closing_needs_a_reason(rw):
    referral = make_referral(rw)
    with pytest.raises(DomainError) as exc:
        services.referral_transition(
            actor=rw.bob, referral=referral, to_status="no_capacity", expected_version=1
        )
    assert exc.value.errors[0].field == "reason"


def test_the_referrer_may_withdraw_but_not_accept(rw):
    referral = make_referral(rw)
    with pytest.raises(PermissionDeniedError) as exc:
        services.referral_transition(
            actor=rw.dana, referral=referral, to_status="accepted", expected_version=1
        )
    assert "Your next steps: Closed" in exc.value.message
    referral = services.referral_transition(
        actor=rw.dana,
        referral=referral,
        to_status="closed",
        reason="Withdrawn by the referrer",
        expected_version=1,
    )
    assert referral.closed_at is not None
    assert referral.loop_closure_reason == "Closed"


def test_two_staff_changing_the_same_referral_cannot_overwrite_each_other(rw):
    """Optimistic locking: both read version 1; the second change is refused and the first one stands."""
    referral = make_referral(rw)
    seen_by_bob = Referral.objects.get(pk=referral.pk)
    seen_by_alice = Referral.objects.get(pk=referral.pk)
    services.referral_transition(actor=rw.bob, referral=seen_by_bob, to_status="accepted", expected_version=1)
    with pytest.raises(ConflictError) as exc:
        services.referral_transition(
            actor=rw.alice,
            referral=seen_by_alice,
            to_status="no_capacity",
            reason="Waitlist full",
            expected_version=seen_by_alice.version,
        )
    assert exc.value.status == 409
    assert "changed by someone else" in exc.value.message
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("accepted", 2)


def test_scoping_charlie_never_sees_provider_as_referrals(rw):
    referral = make_referral(rw)
    assert not selectors.referral_queryset_for(rw.charlie).filter(pk=referral.pk).exists()
    with pytest.raises(Http404):
        selectors.referral_get_for_user(user=rw.charlie, uuid=referral.uuid)
    assert selectors.referral_get_for_user(user=rw.dana, uuid=referral.uuid) == referral
    assert selectors.referral_get_for_user(user=rw.um, uuid=referral.uuid) == referral
    assert not selectors.referral_queryset_for(rw.other_plan_user).exists()
    # network staff see no members, so no referrals (rule D4)
    assert not selectors.referral_queryset_for(rw.plan_users["network"]).exists()


def test_referrer_sees_the_status_timeline_but_not_outreach_notes(rw):
    referral = make_referral(rw)
    services.outreach_attempt_record(
        actor=rw.bob,
        referral=referral,
        attempted_at=dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC),
        modality="phone",
        outcome="no_answer",
        notes="Voicemail full",
    )
    referral = selectors.referral_get_for_user(user=rw.dana, uuid=referral.uuid)
    kinds = list(
        selectors.referral_events_for(user=rw.dana, referral=referral).values_list("kind", flat=True)
    )
    assert kinds == ["created", "status"]
    assert not selectors.outreach_attempts_for(user=rw.dana, referral=referral).exists()
    assert selectors.outreach_attempts_for(user=rw.bob, referral=referral).count() == 1


def test_referral_read_is_audited(rw):
    from cshub.core.models import AuditEvent

    referral = make_referral(rw)
    selectors.referral_get_for_user(user=rw.alice, uuid=referral.uuid)
    event = AuditEvent.objects.filter(actor=rw.alice, object_type="referral", action="read").get()
    assert event.member_ids == [str(rw.member_a.uuid)]


def test_a_matched_referral_puts_the_member_in_the_providers_scope(rw):
    member = rw.member_b  # on provider B's care team only
    assert not member_queryset_for(rw.bob).filter(pk=member.pk).exists()
    make_referral(rw, member=member, service_key="recuperative_care")
    assert member_queryset_for(rw.bob).filter(pk=member.pk).exists()


def test_an_unknown_kind_of_referral_is_refused_with_the_field(rw):
    with pytest.raises(DomainError) as exc:
        make_referral(rw, kind="dental")
    assert [e.field for e in exc.value.errors] == ["kind"]
    assert Referral.objects.count() == 0
