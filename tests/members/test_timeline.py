"""The member timeline (rule M2): every source merged newest first, scoped per source, filtered by kind,
audited once; other apps register their own sources."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.core.errors import DomainError
from cshub.core.models import AuditEvent
from cshub.members import timeline
from cshub.members.timeline import TimelineEntry, entry_at, member_timeline, register_timeline_source
from tests.factories import CareRelationshipFactory, EcmAssignmentFactory, EligibilitySpanFactory
from tests.members.factories import (
    AssessmentFactory,
    ConsentFactory,
    ExternalInformationFactory,
    GoalFactory,
    GoalProgressFactory,
    MemberNoteFactory,
    ProgramEnrollmentFactory,
    SdohNeedFactory,
)

pytestmark = pytest.mark.usefixtures("frozen_clock")  # today is 2026-11-23, Pacific
MEMBER_KINDS = [
    "eligibility",
    "ecm_assignment",
    "program_enrollment",
    "consent",
    "assessment",
    "sdoh_need",
    "goal",
    "note",
    "external_information",
]


@pytest.fixture
def records(world):
    a, org = world.member_a, world.provider_a
    EligibilitySpanFactory(
        member=a, plan=world.plan, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31)
    )
    EcmAssignmentFactory(
        member=a, plan=world.plan, ecm_provider__name="Harbor ECM", start_date=dt.date(2025, 3, 1)
    )
    ProgramEnrollmentFactory(member=a, program="mssp", start_date=dt.date(2025, 2, 1))
    goal = GoalFactory(member=a, organization=org, description="Stable housing")
    return {
        "consent": ConsentFactory(
            member=a,
            organization=org,
            signed_on=dt.date(2026, 1, 10),
            expires_on=dt.date(2026, 7, 10),  # expired
        ),
        "assessment": AssessmentFactory(member=a, organization=org, assessed_on=dt.date(2026, 11, 2)),
        "need": SdohNeedFactory(
            member=a,
            organization=org,
            identified_on=dt.date(2026, 11, 3),
            resolved_on=dt.date(2026, 11, 20),
            status="resolved",
        ),
        "goal": goal,
        "progress": GoalProgressFactory(goal=goal, status="partially_met", recorded_on=dt.date(2026, 11, 21)),
        "note": MemberNoteFactory(member=a, organization=org, text="Called; will visit Tuesday."),
        "info": ExternalInformationFactory(member=a, organization=org, received_on=dt.date(2026, 11, 5)),
    }


def titles(entries) -> list[str]:
    return [e.title for e in entries]


def test_m2_timeline_merges_every_source_newest_first(world, records):
    entries = member_timeline(user=world.bob, member=world.member_a, kinds=MEMBER_KINDS)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert {e.kind for e in entries} == set(MEMBER_KINDS)
    assert [k for k, _label in timeline.timeline_kinds()][: len(MEMBER_KINDS)] == MEMBER_KINDS
    got = titles(entries)
    # The note and the goal were written today (9:00 Pacific); dated events sit at the start of their day.
    assert got.index("Goal set: Stable housing") < got.index("Goal partially met: Stable housing")
    assert got.index("Goal partially met: Stable housing") < got.index(
        "Social need resolved: Z59.01 Sheltered homelessness"
    )
    assert got.index("Social need identified: Z59.01 Sheltered homelessness") < got.index(
        "Assessment: General Community Supports assessment"
    )
    assert "Consent expired" in got
    assert got[-1] == "Eligibility began at Golden State Health Plan"  # the 2024 span
    assert "Eligibility ended at Golden State Health Plan" in got
    assert "Assigned to ECM provider Harbor ECM" in got
    assert "Enrolled in Multipurpose Senior Services Program (1915(c) waiver)" in got
    note = next(e for e in entries if e.kind == "note")
    assert (note.label, note.organization, note.detail) == (
        "Notes",
        world.provider_a.name,
        "Called; will visit Tuesday.",
    )


def test_m2_timeline_filters_by_kind_and_is_audited_once(world, records):
    entries = member_timeline(user=world.bob, member=world.member_a, kinds=["sdoh_need", "note"])
    assert {e.kind for e in entries} == {"sdoh_need", "note"}
    assert len(entries) == 3
    event = AuditEvent.objects.get(object_type="member_timeline")
    assert (event.action, event.member_ids) == ("read", [str(world.member_a.uuid)])
    assert event.detail["kinds"] == ["sdoh_need", "note"]


def test_m2_timeline_unknown_kind_is_a_field_error(world):
    with pytest.raises(DomainError) as exc:
        member_timeline(user=world.bob, member=world.member_a, kinds=["gossip"])
    assert exc.value.errors[0].field == "kind"


def test_m2_timeline_sources_are_scoped(world, records):
    """Provider B, also on member_a's care team, sees the plan's records of member_a but none of A's."""
    CareRelationshipFactory(member=world.member_a, organization=world.provider_b)
    MemberNoteFactory(member=world.member_a, organization=world.provider_b, text="B's own note")
    kinds = {e.kind for e in member_timeline(user=world.charlie, member=world.member_a, kinds=MEMBER_KINDS)}
    assert kinds == {"eligibility", "ecm_assignment", "program_enrollment", "note"}
    notes = [e for e in member_timeline(user=world.charlie, member=world.member_a) if e.kind == "note"]
    assert [n.detail for n in notes] == ["B's own note"]
    plan_kinds = {
        e.kind for e in member_timeline(user=world.plan_users["um_reviewer"], member=world.member_a)
    }
    assert {"consent", "assessment", "note", "goal"} <= plan_kinds


def test_m2_timeline_refuses_a_member_out_of_scope(world):
    from django.http import Http404

    with pytest.raises(Http404):
        member_timeline(user=world.charlie, member=world.member_a)


def test_m2_future_dated_ends_are_left_out(world):
    EligibilitySpanFactory(
        member=world.member_a, plan=world.plan, start_date=dt.date(2023, 1, 1), end_date=dt.date(2027, 1, 1)
    )
    entries = member_timeline(user=world.bob, member=world.member_a, kinds=["eligibility"])
    assert "Eligibility ended at Golden State Health Plan" not in titles(entries)


def test_another_app_registers_a_source(world, monkeypatch):
    """What the referrals app does from its AppConfig.ready()."""
    monkeypatch.setattr(timeline, "_SOURCES", dict(timeline._SOURCES))
    calls = []

    def referral_source(*, user, member):
        calls.append((user, member))
        yield TimelineEntry(at=entry_at(dt.date(2026, 11, 22)), kind="referral", title="Referral received")

    register_timeline_source("referral", referral_source, label="Referrals")
    assert ("referral", "Referrals") in timeline.timeline_kinds()
    entries = member_timeline(user=world.bob, member=world.member_a, kinds=["referral"])
    assert [(e.title, e.label) for e in entries] == [("Referral received", "Referrals")]
    assert calls == [(world.bob, world.member_a)]
    with pytest.raises(ValueError):
        register_timeline_source("bad kind!", referral_source)


def test_timeline_query_count_does_not_grow_with_entries(world, django_assert_max_num_queries):
    for i in range(10):
        MemberNoteFactory(member=world.member_a, organization=world.provider_a)
        goal = GoalFactory(member=world.member_a, organization=world.provider_a)
        GoalProgressFactory(goal=goal, recorded_on=dt.date(2026, 10, 1 + i))
        SdohNeedFactory(member=world.member_a, organization=world.provider_a, code=f"Z60.{i % 5}")
    world.bob.role_set  # noqa: B018
    # scope check, 1 per member source (eligibility, ECM, programs, consents, assessments, needs, notes,
    # information), 2 for goals, the audit row
    with django_assert_max_num_queries(12):  # the members sources only (other apps add their own)
        entries = member_timeline(user=world.bob, member=world.member_a, kinds=MEMBER_KINDS)
    assert len(entries) >= 40
