"""Authorization requests through the service layer: submit (A2-A6, G2), review (A7, A8, A10), decide (A9)."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.authorizations import services
from cshub.authorizations.models import Authorization, AuthorizationRequest, Letter, RequestStatus
from cshub.core import clock
from cshub.core.errors import ConflictError, DomainError, PermissionDeniedError
from tests.authorizations.conftest import START, documents, request_input, submit

pytestmark = pytest.mark.django_db


def _codes(exc: DomainError) -> set[str]:
    return {e.code for e in exc.errors}


def test_a3_a8_routine_request_is_received_with_its_clock(aw):
    request = submit(aw)
    assert request.number.startswith("A-2026-")
    assert request.status == RequestStatus.RECEIVED
    assert request.urgency == "expedited"  # navigation is urgent by default (Reference Guide §8.2.2)
    assert request.due_at == clock.add_hours(request.received_at, 72)
    assert request.documents.count() == 1
    assert list(request.events.values_list("kind", flat=True)) == ["received"]


def test_a8_routine_clock_is_five_business_days(aw):
    request = submit(aw, urgency="routine", urgency_reason="stable housing, no risk this month")
    # Monday Nov 23 + 5 business days, Thanksgiving (Thu) and the day after are plan holidays.
    assert clock.local(request.due_at).date() == clock.add_business_days(START, 5)
    assert clock.local(request.due_at).date() > dt.date(2026, 11, 30)


def test_a2_no_request_before_enrollment(aw):
    with pytest.raises(DomainError) as exc:
        submit(aw, member=aw.member_b)
    # member B is outside provider A's scope (no care relationship): refused as unknown, nothing saved
    assert exc.value.errors[0].field == "member"
    aw.member_b.care_relationships.create(organization=aw.provider_a, start_date=START)
    with pytest.raises(DomainError) as exc:
        submit(aw, member=aw.member_b)
    assert exc.value.code == "authorization_not_enrolled"
    assert "Rule A2" in exc.value.message
    assert not AuthorizationRequest.objects.exists()


def test_a3_bad_fields_are_all_named_and_nothing_is_saved(aw):
    with pytest.raises(DomainError) as exc:
        submit(
            aw,
            requesting_npi="1234567890",
            diagnosis_codes=["Z59", "QQQ"],
            hcpcs="T9999",
            units=0,
            end_date=dt.date(2026, 11, 1),
        )
    fields = {e.field for e in exc.value.errors}
    assert {"requesting_npi", "hcpcs", "units", "end_date"} <= fields
    assert any(f.startswith("diagnosis_codes") for f in fields)
    assert not AuthorizationRequest.objects.exists()


def test_a6_missing_required_documents_are_listed(aw):
    with pytest.raises(DomainError) as exc:
        submit(aw, checklist_confirmed=[], docs=[])
    assert exc.value.code == "authorization_documents_missing"
    assert any("Missing:" in e.message for e in exc.value.errors)


def test_g2_presumptive_service_is_authorized_at_once_with_letters(aw):
    request = submit(aw, service_key="recuperative_care", units=30, end_date=dt.date(2026, 12, 22))
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.presumptive
    auth = Authorization.objects.get(request=request)
    assert auth.retrospective_review_due and auth.units == 30
    assert Letter.objects.filter(request=request, recipient="member").exists()


def test_a7_pend_answer_returns_to_queue(aw):
    request = submit(aw)
    services.request_take(actor=aw.um, request=request, expected_version=request.version)
    request.refresh_from_db()
    asked = services.request_pend(
        actor=aw.um,
        request=request,
        question="Send the housing assessment.",
        due_on=START,
        expected_version=request.version,
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDED and request.information_complete_at is None
    services.information_answer(
        actor=aw.bob, request=request, answer="Attached.", files=[documents()[0].file]
    )
    request.refresh_from_db()
    asked.refresh_from_db()
    assert asked.answered_at is not None and request.status == RequestStatus.IN_REVIEW
    assert [e.kind for e in request.events.all()] == ["received", "taken", "pended", "answered"]


def test_a9_decide_approve_partial_deny_and_letters(aw):
    request = submit(aw)
    with pytest.raises(DomainError) as exc:
        services.request_decide(
            actor=aw.um,
            request=request,
            decision=services.DecisionInput(outcome="denied"),
            expected_version=request.version,
        )
    assert {"reason_code", "reason", "criteria"} <= {e.field for e in exc.value.errors}
    determination = services.request_decide(
        actor=aw.um,
        request=request,
        decision=services.DecisionInput(
            outcome="partially_approved",
            units=20,
            reason_code="not_appropriate",
            reason="Twenty days meet the need.",
            criteria="Housing navigation guide, §5",
        ),
        expected_version=request.version,
    )
    assert determination.on_time and determination.authorized_units == 20
    request.refresh_from_db()
    assert request.status == RequestStatus.PARTIALLY_APPROVED
    assert set(request.letters.values_list("recipient", flat=True)) >= {"member", "servicing_provider"}


def test_a10_two_reviewers_cannot_both_decide(aw):
    request = submit(aw)
    services.request_take(actor=aw.um, request=request, expected_version=request.version)
    request.refresh_from_db()
    with pytest.raises(ConflictError):
        services.request_decide(
            actor=aw.um2,
            request=request,
            decision=services.DecisionInput(outcome="approved"),
            expected_version=request.version,
        )
    stale = request.version
    services.request_decide(
        actor=aw.um,
        request=request,
        decision=services.DecisionInput(outcome="approved"),
        expected_version=stale,
    )
    with pytest.raises(ConflictError):
        services.request_decide(
            actor=aw.um,
            request=request,
            decision=services.DecisionInput(outcome="approved"),
            expected_version=stale,
        )


def test_a4_email_is_not_a_channel_and_roles_are_checked(aw):
    with pytest.raises(DomainError):
        services.request_submit(actor=aw.bob, channel="email", data=request_input(aw), documents=documents())
    with pytest.raises(PermissionDeniedError):
        services.request_submit(actor=aw.um, channel="portal", data=request_input(aw), documents=documents())


def test_a5_hospital_submits_recuperative_care_with_the_discharge_plan(aw):
    data = request_input(
        aw,
        service_key="recuperative_care",
        requesting_npi=aw.npi_hospital,
        servicing_organization=aw.provider_a,
        member_agreement_attested=True,
    )
    aw.member_a.care_relationships.create(organization=aw.hospital, start_date=START)
    with pytest.raises(DomainError) as exc:
        services.request_submit(actor=aw.dana, channel="portal", data=data, documents=documents())
    assert "discharge plan" in str(exc.value)
    plan_item = next(i for i in data.checklist_confirmed if "discharge" in i.lower())
    docs = [services.DocumentUpload(file=documents("discharge.pdf")[0].file, checklist_item=plan_item)]
    request = services.request_submit(actor=aw.dana, channel="portal", data=data, documents=docs)
    assert request.requesting_organization == aw.hospital and request.servicing_organization == aw.provider_a
    with pytest.raises(DomainError) as exc:
        services.request_submit(
            actor=aw.dana,
            channel="portal",
            data=request_input(aw, requesting_npi=aw.npi_hospital),
            documents=docs,
        )
    assert "recuperative care only" in str(exc.value)


def test_a4_fax_is_entered_by_plan_staff_beside_the_image(aw):
    from tests.members.factories import pdf_upload

    received = clock.now() - dt.timedelta(hours=3)
    data = request_input(
        aw, requesting_organization=aw.provider_a, received_at=received, checklist_confirmed=[]
    )
    request = services.request_submit(
        actor=aw.um, channel="fax", data=data, documents=[], fax_file=pdf_upload("fax.pdf")
    )
    assert request.channel == "fax" and request.received_at == received
    assert request.documents.get().kind == "fax"
    with pytest.raises(DomainError):
        services.request_submit(
            actor=aw.um,
            channel="fax",
            data=request_input(
                aw, requesting_organization=aw.provider_a, service_key="medically_tailored_meals"
            ),
            documents=[],
            fax_file=None,
        )


def test_a8_extension_recomputes_the_clock_and_writes_the_member_notice(aw):
    request = submit(aw)
    before = request.due_at
    with pytest.raises(DomainError):
        services.request_extend(
            actor=aw.um, request=request, days=20, reason="", expected_version=request.version
        )
    request = services.request_extend(
        actor=aw.um,
        request=request,
        days=14,
        reason="Waiting for the hospital's records",
        expected_version=request.version,
    )
    assert request.due_at == clock.add_hours(before, 14 * 24)
    assert request.letters.filter(kind="extension", recipient="member").exists()
    with pytest.raises(DomainError):
        services.request_extend(
            actor=aw.um, request=request, days=1, reason="again", expected_version=request.version
        )


def test_a8_reviewer_changes_urgency_with_a_reason(aw):
    request = submit(aw)
    with pytest.raises(DomainError):
        services.request_set_urgency(
            actor=aw.um, request=request, urgency="routine", reason="", expected_version=request.version
        )
    request = services.request_set_urgency(
        actor=aw.um,
        request=request,
        urgency="routine",
        reason="Member is housed this month",
        expected_version=request.version,
    )
    assert request.urgency == "routine"
    assert request.due_at == clock.end_of_day(clock.add_business_days(request.received_at, 5))


def test_a9_approval_cannot_exceed_what_was_requested(aw):
    request = submit(aw)
    with pytest.raises(DomainError) as exc:
        services.request_decide(
            actor=aw.um,
            request=request,
            decision=services.DecisionInput(outcome="approved", units=99),
            expected_version=request.version,
        )
    assert "more_than_requested" in _codes(exc.value)
    with pytest.raises(DomainError) as exc:
        services.request_decide(
            actor=aw.um,
            request=request,
            decision=services.DecisionInput(outcome="approved", units=10),
            expected_version=request.version,
        )
    assert "partial" in _codes(exc.value)


def test_g2_no_auth_service_is_recorded_not_requested(aw):
    from cshub.catalog.models import Service

    service = Service.objects.filter(authorization="not_required").first()
    assert service is not None
    code = service.codes.filter(active=True).first()
    with pytest.raises(DomainError) as exc:
        submit(aw, service_key=service.key, hcpcs=code.hcpcs, modifier=code.modifier)
    assert exc.value.code == "authorization_not_required"
    record = services.service_record_create(
        actor=aw.bob,
        member=aw.member_a,
        service_key=service.key,
        hcpcs=code.hcpcs,
        modifier=code.modifier,
        service_date=START,
        units=1,
        diagnosis_codes=["F10.129"],
    )
    assert record.plan == aw.plan


def test_privacy_another_provider_cannot_see_or_act(aw):
    from django.http import Http404

    from cshub.authorizations import selectors

    request = submit(aw)
    assert not selectors.request_queryset_for(aw.charlie).filter(pk=request.pk).exists()
    with pytest.raises(Http404):
        selectors.request_get_for_user(user=aw.charlie, uuid=request.uuid)
    assert not selectors.request_queryset_for(aw.other_plan_user).filter(pk=request.pk).exists()
    with pytest.raises(PermissionDeniedError):
        services.request_take(actor=aw.other_plan_user, request=request, expected_version=request.version)


def test_a9_benefit_limit_is_enforced_across_the_members_history(aw):
    """Housing deposits: once per lifetime (catalog limits), checked against earlier authorizations."""
    from cshub.catalog.models import Service

    service = Service.objects.get(key="housing_deposits")
    if not service.limits.exists():
        pytest.skip("catalog has no housing deposits limit")
    first = submit(aw, service_key="housing_deposits", units=1, end_date=START)
    first.refresh_from_db()
    if first.status != RequestStatus.APPROVED:
        services.request_decide(
            actor=aw.um,
            request=first,
            decision=services.DecisionInput(outcome="approved"),
            expected_version=first.version,
        )
    with pytest.raises(DomainError) as exc:
        submit(
            aw,
            service_key="housing_deposits",
            units=1,
            start_date=dt.date(2027, 1, 4),
            end_date=dt.date(2027, 1, 4),
        )
    assert exc.value.code == "authorization_limit_exceeded"
    assert first.number.split("-")[0] in str(exc.value) or "limit" in str(exc.value).lower()
