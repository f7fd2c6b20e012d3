"""Rule M2 documentation is scoped (deny by default, DESIGN principle 4): the organization that recorded it
sees it while it can see the member; the member's plan sees it (M2: shared with the plan); another provider on
the same member's care team does not. Only the provider's care roles write it; plan staff never do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from cshub.accounts.roles import Role
from cshub.core.errors import PermissionDeniedError
from cshub.members import selectors, services
from tests.factories import CareRelationshipFactory, UserFactory
from tests.members.factories import MemberNoteFactory, provider_a_records

pytestmark = pytest.mark.usefixtures("frozen_clock")

SCOPING = {
    "consent": selectors.consent_queryset_for,
    "assessment": selectors.assessment_queryset_for,
    "sdoh_need": selectors.sdoh_need_queryset_for,
    "goal": selectors.goal_queryset_for,
    "goal_progress": selectors.goal_progress_queryset_for,
    "member_note": selectors.member_note_queryset_for,
    "external_information": selectors.external_information_queryset_for,
}
PLAN_READERS = ["plan_admin", "um_reviewer", "claims_processor", "reporting_director", "reporting_supervisor"]


def visible(user, records) -> set[str]:
    return {kind for kind, record in records.items() if SCOPING[kind](user).filter(pk=record.pk).exists()}


def test_m2_recording_organization_sees_its_documentation(world):
    records = provider_a_records(world)
    billing = UserFactory(organization=world.provider_a, roles=[Role.PROVIDER_BILLING])
    for user in (world.alice, world.bob, billing):
        assert visible(user, records) == set(SCOPING)


@pytest.mark.parametrize("role", PLAN_READERS)
def test_m2_documentation_is_shared_with_the_members_plan(world, role):
    records = provider_a_records(world)
    assert visible(world.plan_users[role], records) == set(SCOPING)


@pytest.mark.parametrize("role", ["network", "provider_relations"])
def test_m2_plan_roles_without_member_work_see_no_documentation(world, role):
    assert visible(world.plan_users[role], provider_a_records(world)) == set()


def test_m2_another_plan_and_an_outsider_see_nothing(world):
    records = provider_a_records(world)
    assert visible(world.other_plan_user, records) == set()
    assert visible(world.charlie, records) == set()


def test_m2_other_provider_on_the_same_care_team_does_not_see_it(world):
    """member_a is on provider B's care team too: charlie sees member_a, not provider A's notes."""
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    records = provider_a_records(world)
    b_note = MemberNoteFactory(member=world.member_a, organization=world.provider_b)
    assert selectors.member_queryset_for(world.charlie).filter(pk=world.member_a.pk).exists()
    assert visible(world.charlie, records) == set()
    assert [n.pk for n in selectors.member_note_list(user=world.charlie, member=world.member_a)] == [
        b_note.pk
    ]
    assert b_note.pk not in {n.pk for n in selectors.member_note_list(user=world.bob, member=world.member_a)}


def test_m2_a_provider_that_leaves_the_care_team_loses_sight_of_its_records(world):
    records = provider_a_records(world)
    world.member_a.care_relationships.all().delete()
    assert visible(world.alice, records) == set()
    assert visible(world.plan_users["plan_admin"], records) == set(SCOPING)


def test_m2_plan_staff_read_but_cannot_write(world):
    plan_admin = world.plan_users["plan_admin"]
    with pytest.raises(PermissionDeniedError):
        services.member_note_create(actor=plan_admin, member=world.member_a, text="From the plan")
    with pytest.raises(PermissionDeniedError):
        services.sdoh_need_create(actor=plan_admin, member=world.member_a, code="Z59.01", identified_on=None)
    records = provider_a_records(world)
    with pytest.raises(PermissionDeniedError):
        services.consent_revoke(actor=plan_admin, consent=records["consent"], reason="x")


def test_m2_billing_reads_but_cannot_write(world):
    billing = UserFactory(organization=world.provider_a, roles=[Role.PROVIDER_BILLING])
    with pytest.raises(PermissionDeniedError):
        services.member_note_create(actor=billing, member=world.member_a, text="Billing note")


def test_m2_outsider_writing_gets_404_not_403(world):
    with pytest.raises(Http404):
        services.member_note_create(actor=world.charlie, member=world.member_a, text="Hello")
    with pytest.raises(Http404):
        services.member_note_create(actor=world.other_plan_user, member=world.member_a, text="Hello")


def test_m2_only_the_recording_organization_changes_a_record(world):
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    records = provider_a_records(world)
    with pytest.raises(Http404):
        services.consent_revoke(actor=world.charlie, consent=records["consent"], reason="Not mine")
    with pytest.raises(Http404):
        services.goal_progress_record(actor=world.charlie, goal=records["goal"], status="met")
    with pytest.raises(Http404):
        services.sdoh_need_resolve(
            actor=world.charlie, need=records["sdoh_need"], resolved_on=dt.date(2026, 11, 5)
        )


def test_m2_get_for_user_404s_and_audits_the_denial(world):
    from cshub.core.models import AuditEvent

    consent = provider_a_records(world)["consent"]
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    with pytest.raises(Http404):
        selectors.consent_get_for_user(user=world.charlie, member=world.member_a, uuid=consent.uuid)
    denied = AuditEvent.objects.get(action="denied", object_type="consent")
    assert (denied.actor, denied.object_id) == (world.charlie, str(consent.uuid))
    got = selectors.consent_get_for_user(
        user=world.plan_users["um_reviewer"], member=world.member_a, uuid=consent.uuid
    )
    assert got == consent
    read = AuditEvent.objects.get(action="read", object_type="consent")
    assert read.member_ids == [str(world.member_a.uuid)]
