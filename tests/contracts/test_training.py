"""Training (rule N7): the catalog file, completions, the leadership attestation, overdue mandatory
trainings by recurrence on the frozen clock, and privacy of completions."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from cshub.accounts.roles import Role
from cshub.contracts import selectors, services
from cshub.contracts.trainings import TrainingFileError, read_training_file, training_catalog
from cshub.core.errors import DomainError, PermissionDeniedError
from tests.contracts.conftest import START, draft, execute, onboard, ready
from tests.factories import UserFactory
from tests.members.factories import pdf_upload


def _fields(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_n7_catalog_file_has_onboarding_and_ongoing_courses_with_sources():
    catalog = training_catalog()
    assert [c.key for c in catalog.required_for_contracting] == ["cs_onboarding"]
    assert all(c.every_months and c.first_due_days is not None for c in catalog.ongoing)
    assert {"live", "on_demand"} <= {f for c in catalog.courses for f in c.formats}
    assert all(c.source_title for c in catalog.courses)
    assert catalog.get("cs_onboarding").source_title.startswith("Community Supports Reference Guide, §4")


def test_n7_catalog_file_is_validated(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text(
        'version = "1"\n[sources.a]\ntitle = "A"\n[[course]]\nkey = "x"\ntitle = "X"\nkind = "ongoing"\n'
        'formats = ["live"]\nsource = "a"\nconfidence = "assumed"\n'
    )
    with pytest.raises(TrainingFileError, match="every_months"):
        read_training_file(bad)


# --- completions -----------------------------------------------------------------------------------------


def test_n7_completion_recorded_with_evidence(cw):
    c = services.completion_record(
        actor=cw.bob,
        person=cw.bob,
        course_key="cs_onboarding",
        completed_on=date(2026, 11, 20),
        evidence=pdf_upload("certificate.pdf"),
    )
    assert c.organization == cw.provider_a and c.evidence_name == "certificate.pdf" and c.evidence


def test_n7_completion_refusals(cw):
    with pytest.raises(DomainError) as exc:
        services.completion_record(
            actor=cw.bob, person=cw.bob, course_key="nope", completed_on=date(2026, 11, 24)
        )
    assert set(_fields(exc)) == {"course", "completed_on"}  # unknown course, in the future
    with pytest.raises(PermissionDeniedError):  # a coordinator records only their own
        services.completion_record(
            actor=cw.bob, person=cw.alice, course_key="cs_onboarding", completed_on=START
        )
    with pytest.raises(DomainError) as exc:  # nobody records for another organization
        services.completion_record(
            actor=cw.alice, person=cw.charlie, course_key="cs_onboarding", completed_on=START
        )
    assert "person" in _fields(exc)
    services.completion_record(actor=cw.alice, person=cw.bob, course_key="cs_onboarding", completed_on=START)
    with pytest.raises(DomainError) as exc:
        services.completion_record(
            actor=cw.bob, person=cw.bob, course_key="cs_onboarding", completed_on=START
        )
    assert "already has" in _fields(exc)["course"]
    with pytest.raises(PermissionDeniedError):  # plan staff do not record a provider's training
        services.completion_record(
            actor=cw.net, person=cw.net, course_key="cs_onboarding", completed_on=START
        )


# --- attestation (rule N7) -------------------------------------------------------------------------------


def test_n7_attestation_needs_onboarding_completed_by_someone(cw):
    with pytest.raises(DomainError) as exc:
        services.attestation_record(actor=cw.alice, plan=cw.plan, course_keys=["cs_onboarding"])
    assert (
        "Nobody in the organization has completed Community Supports provider onboarding"
        in (_fields(exc)["courses"])
    )
    onboard(cw, cw.bob)  # one person of the organization is enough; not necessarily the attester
    attestation = services.attestation_record(actor=cw.alice, plan=cw.plan, course_keys=["cs_onboarding"])
    assert attestation.attested_by == cw.alice and attestation.course_keys == ["cs_onboarding"]
    assert attestation.attested_at is not None and "Provider A Housing Services" in attestation.statement
    assert selectors.attestation_for(organization=cw.provider_a, plan=cw.plan) == attestation
    assert cw.net.notifications.filter(kind="training_attested").exists()


def test_n7_attestation_must_cover_required_onboarding(cw):
    onboard(cw, cw.alice)
    with pytest.raises(DomainError) as exc:
        services.attestation_record(actor=cw.alice, plan=cw.plan, course_keys=["cs_portal_onboarding"])
    messages = " ".join(e.message for e in exc.value.errors)
    assert "must cover Community Supports provider onboarding" in messages
    assert "Nobody in the organization has completed Provider portal" in messages
    with pytest.raises(DomainError) as exc:
        services.attestation_record(actor=cw.alice, plan=None, course_keys=["cs_onboarding"])
    assert "plan" in _fields(exc)


def test_n7_only_leadership_attests(cw):
    onboard(cw, cw.bob)
    with pytest.raises(PermissionDeniedError):
        services.attestation_record(actor=cw.bob, plan=cw.plan, course_keys=["cs_onboarding"])
    with pytest.raises(PermissionDeniedError):
        services.attestation_record(actor=cw.net, plan=cw.plan, course_keys=["cs_onboarding"])
    manager = UserFactory(email="pm@a.example", organization=cw.provider_a, roles=[Role.CS_PROGRAM_MANAGER])
    assert services.attestation_record(actor=manager, plan=cw.plan, course_keys=["cs_onboarding"])


# --- overdue mandatory trainings (rule N7) ---------------------------------------------------------------


def _due(rows, course):
    return next(r for r in rows if r.course.key == course)


def test_n7_ongoing_due_from_contract_start_when_never_completed(cw):
    ready(cw)
    execute(cw, draft(cw, start=date(2026, 6, 1)))
    rows = selectors.training_due(on=START, plan_id=cw.plan.pk)
    refresher = _due(rows, "cs_annual_refresher")  # first due 90 days after 06/01: 08/30
    assert refresher.last_completed_on is None and refresher.due_on == date(2026, 8, 30)
    assert refresher.overdue and refresher.days_overdue == (START - date(2026, 8, 30)).days
    assert {r.course.key for r in selectors.overdue_trainings_for(user=cw.net)} == {
        c.key for c in training_catalog().ongoing
    }


def test_n7_recurrence_from_last_completion_and_the_clock(cw):
    ready(cw)
    execute(cw, draft(cw))
    services.completion_record(
        actor=cw.bob, person=cw.bob, course_key="data_exchange_webinar", completed_on=date(2026, 11, 2)
    )
    row = _due(selectors.training_due(on=START, organization_ids=[cw.provider_a.pk]), "data_exchange_webinar")
    assert row.due_on == date(2027, 5, 2) and not row.overdue  # every 6 months
    with time_machine.travel("2027-05-02 12:00-07:00", tick=False):
        assert not _due(selectors.training_status_for(user=cw.bob), "data_exchange_webinar").overdue
    with time_machine.travel("2027-05-03 12:00-07:00", tick=False):
        row = _due(selectors.training_status_for(user=cw.bob), "data_exchange_webinar")
        assert row.overdue and row.days_overdue == 1
        assert "data_exchange_webinar" in {
            r.course.key for r in selectors.overdue_trainings_for(user=cw.alice)
        }
        services.completion_record(
            actor=cw.bob, person=cw.bob, course_key="data_exchange_webinar", completed_on=date(2027, 5, 3)
        )
        row = _due(selectors.training_status_for(user=cw.bob), "data_exchange_webinar")
        assert not row.overdue and row.due_on == date(2027, 11, 3)


def test_n7_no_contract_in_force_nothing_overdue(cw):
    assert selectors.training_due(on=START, plan_id=cw.plan.pk) == []
    ready(cw)
    execute(cw, draft(cw, start=date(2027, 1, 1)))  # starts later
    assert selectors.overdue_trainings_for(user=cw.net) == []


def test_n7_plan_overdue_view_across_providers_in_constant_queries(cw, django_assert_max_num_queries):
    ready(cw)
    ready(cw, org=cw.provider_b)
    execute(cw, draft(cw, start=date(2026, 1, 5)))
    execute(cw, draft(cw, org=cw.provider_b, start=date(2026, 1, 5)))
    with django_assert_max_num_queries(6):
        rows = selectors.overdue_trainings_for(user=cw.net)
    assert {r.organization for r in rows} == {cw.provider_a, cw.provider_b}
    assert selectors.overdue_trainings_for(user=cw.other_plan_user) == []  # plan 2 has no contracts
    assert {r.organization for r in selectors.overdue_trainings_for(user=cw.charlie)} == {cw.provider_b}


# --- privacy ---------------------------------------------------------------------------------------------


def test_n7_privacy_provider_sees_only_its_own(cw):
    onboard(cw, cw.bob)
    onboard(cw, cw.charlie)
    assert {c.person for c in selectors.completion_list(user=cw.alice)} == {cw.bob}
    assert {c.person for c in selectors.completion_list(user=cw.charlie)} == {cw.charlie}
    # The plan sees organizations that contract with it or attested to it; plan 2 sees none.
    assert selectors.completion_list(user=cw.net).count() == 0
    draft(cw)
    assert {c.person for c in selectors.completion_list(user=cw.net)} == {cw.bob}
    assert selectors.completion_list(user=cw.other_plan_user).count() == 0
    assert selectors.completion_list(user=cw.plan_users[Role.UM_REVIEWER]).count() == 0


def test_n6_privacy_provider_sees_only_its_own_contracts(cw):
    a = draft(cw)
    b = draft(cw, org=cw.provider_b)
    assert set(selectors.contract_queryset_for(cw.alice)) == {a}
    assert set(selectors.contract_queryset_for(cw.charlie)) == {b}
    assert set(selectors.contract_queryset_for(cw.net)) == {a, b}
    assert set(selectors.contract_queryset_for(cw.bob)) == set()  # care coordinators do not read contracts
    assert set(selectors.contract_queryset_for(cw.other_plan_user)) == set()
