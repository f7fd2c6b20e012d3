"""Rule D3: draft, submit (read-only), correction as a new version, validation, reminders and late flags."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
import time_machine

from cshub.capacity import services
from cshub.capacity.models import CapacityLine, CapacityNotice, CapacityReport, ReportStatus, StaffLine
from cshub.capacity.schedule import Quarter
from cshub.core.errors import DomainError
from cshub.notifications.models import Notification
from tests.capacity.conftest import contract, report_input, submitted

pytestmark = pytest.mark.usefixtures("catalog", "frozen_clock")  # frozen on Monday, November 23, 2026


def test_d3_draft_save_then_submit_is_read_only(world):
    report = services.capacity_report_create(actor=world.alice, plan=world.plan, quarter=Quarter(2026, 3))
    assert report.status == ReportStatus.DRAFT
    assert report.due_date == dt.date(2026, 10, 31)
    services.capacity_report_save(actor=world.alice, report=report, data=report_input())
    assert report.staff_lines.count() == 2 and report.capacity_lines.count() == 1
    report = services.capacity_report_submit(actor=world.alice, report=report)
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_late  # Q3 was due October 31; now is November 23
    with pytest.raises(DomainError) as err:
        services.capacity_report_save(actor=world.alice, report=report, data=report_input(able=99))
    assert err.value.status == 409
    assert CapacityLine.objects.get(report=report).members_able_to_serve == 20


def test_d3_on_time_submission_not_late(world):
    report = submitted(world.alice, world.plan, Quarter(2026, 4))  # due January 31, 2027
    assert not report.submitted_late


def test_d3_correction_keeps_the_earlier_version(world):
    first = submitted(world.alice, world.plan, Quarter(2026, 3))
    with pytest.raises(DomainError):
        services.capacity_report_correct(actor=world.alice, report=first, reason="  ")
    draft = services.capacity_report_correct(actor=world.alice, report=first, reason="Caseload miscounted")
    assert draft.version == 2 and draft.status == ReportStatus.DRAFT and draft.supersedes == first
    assert draft.capacity_lines.count() == 1
    first.refresh_from_db()
    assert first.status == ReportStatus.SUBMITTED  # still current until the correction is submitted
    services.capacity_report_submit(actor=world.alice, report=draft, data=report_input(serving=15))
    first.refresh_from_db()
    draft.refresh_from_db()
    assert first.status == ReportStatus.SUPERSEDED and draft.status == ReportStatus.SUBMITTED
    assert draft.submitted_late == first.submitted_late
    assert CapacityLine.objects.get(report=first).members_serving == 12  # the earlier version is kept
    assert CapacityLine.objects.get(report=draft).members_serving == 15


def test_d3_validation_names_every_field_and_saves_nothing(world):
    bad = services.ReportInput(
        current_caseload="many",
        staff=[
            services.StaffInput(role="wizard", headcount="-1", fte="x"),
            services.StaffInput(role="other", headcount=1, fte="2"),
        ],
        capacity=[
            services.CapacityInput(
                service="nope", county="Atlantis", members_able_to_serve="", members_serving=1
            ),
            services.CapacityInput(
                service="housing_deposits", county="Sacramento", members_able_to_serve=1, members_serving=1
            ),
            services.CapacityInput(
                service="housing_deposits", county="sacramento", members_able_to_serve=1, members_serving=1
            ),
        ],
    )
    with pytest.raises(DomainError) as err:
        services.capacity_report_create(
            actor=world.alice, plan=world.plan, quarter=Quarter(2026, 3), data=bad
        )
    fields = {e.field for e in err.value.errors}
    assert {
        "current_caseload",
        "staff[0].role",
        "staff[0].headcount",
        "staff[0].fte",
        "staff[1].role_detail",
        "staff[1].fte",
        "capacity[0].service",
        "capacity[0].county",
        "capacity[0].members_able_to_serve",
        "capacity[2].county",
    } <= fields
    assert not CapacityReport.objects.exists() and not StaffLine.objects.exists()


def test_d3_submit_requires_a_complete_report_and_keeps_the_draft_unchanged(world):
    report = services.capacity_report_create(
        actor=world.alice, plan=world.plan, quarter=Quarter(2026, 3), data=report_input()
    )
    empty = services.ReportInput(current_caseload="")
    with pytest.raises(DomainError) as err:
        services.capacity_report_submit(actor=world.alice, report=report, data=empty)
    assert {e.field for e in err.value.errors} >= {"current_caseload", "staff", "capacity"}
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.staff_lines.count() == 2


def test_d3_one_report_per_quarter_and_not_for_future_or_others(world):
    services.capacity_report_create(actor=world.alice, plan=world.plan, quarter=Quarter(2026, 3))
    with pytest.raises(DomainError) as err:
        services.capacity_report_create(actor=world.alice, plan=world.plan, quarter=Quarter(2026, 3))
    assert err.value.status == 409
    with pytest.raises(DomainError):
        services.capacity_report_create(actor=world.alice, plan=world.plan, quarter=Quarter(2027, 1))
    with pytest.raises(DomainError) as err:
        services.capacity_report_create(actor=world.bob, plan=world.plan, quarter=Quarter(2026, 2))
    assert err.value.status == 403
    report = CapacityReport.objects.get()
    with pytest.raises(DomainError):
        services.capacity_report_save(actor=world.charlie, report=report, data=report_input())


def _notices(kind_prefix: str) -> list[tuple[int, int, str]]:
    return sorted(
        (n.year, n.quarter, n.kind) for n in CapacityNotice.objects.filter(kind__startswith=kind_prefix)
    )


def test_d3_reminders_timed_idempotent_across_the_year_boundary(world, frozen_clock, settings):
    settings.CSHUB_CAPACITY_REMINDER_DAYS = "14,3"
    contract(world.provider_a, world.plan)  # both under contract with the plan: both expected to report
    contract(world.provider_b, world.plan)
    submitted(world.alice, world.plan, Quarter(2026, 3))  # Q3 sent by both: not late
    submitted(world.charlie, world.plan, Quarter(2026, 3))
    submitted(world.charlie, world.plan, Quarter(2026, 4))  # charlie already sent Q4: no reminder

    def run_on(day: dt.date) -> int:
        frozen_clock.move_to(dt.datetime(day.year, day.month, day.day, 17, 0, tzinfo=dt.UTC))
        return services.capacity_notices_send()

    assert run_on(dt.date(2027, 1, 16)) == 0  # 15 days before January 31, 2027
    assert run_on(dt.date(2027, 1, 17)) == 1  # 14 days before: the first reminder for 2026 Q4
    assert run_on(dt.date(2027, 1, 17)) == 0  # the same day again: nothing twice
    assert run_on(dt.date(2027, 1, 20)) == 0
    assert run_on(dt.date(2027, 1, 28)) == 1  # 3 days before
    assert run_on(dt.date(2027, 1, 31)) == 0  # the due date itself: not late yet
    assert _notices("due_in") == [(2026, 4, "due_in_14"), (2026, 4, "due_in_3")]
    leaders = Notification.objects.filter(kind="capacity_report_due")
    assert {n.recipient for n in leaders} == {world.alice}  # leadership (the CEO), never bob

    assert run_on(dt.date(2027, 2, 1)) == 1  # the day after: flagged late
    assert run_on(dt.date(2027, 2, 2)) == 0
    assert _notices("late") == [(2026, 4, "late")]
    late = Notification.objects.filter(kind="capacity_report_late")
    assert {n.recipient for n in late} == {world.alice, world.plan_users["network"]}


def test_d3_missed_days_send_only_the_nearest_reminder(world, frozen_clock):
    contract(world.provider_a, world.plan)
    submitted(world.alice, world.plan, Quarter(2026, 3))
    frozen_clock.move_to(dt.datetime(2027, 1, 30, 17, 0, tzinfo=dt.UTC))
    assert services.capacity_notices_send() == 1
    assert _notices("due_in") == [(2026, 4, "due_in_3")]


def test_d3_no_late_flag_once_submitted_and_not_before_the_contract(world, frozen_clock):
    contract(world.provider_a, world.plan)
    contract(world.provider_b, world.plan, start=date(2027, 1, 1))  # reports from 2027 Q1
    submitted(world.alice, world.plan, Quarter(2026, 3))
    # November 23, 2026: Q3 (due October 31) was submitted, so no late flag; nothing to remind yet.
    assert services.capacity_notices_send() == 0
    with time_machine.travel(dt.datetime(2027, 2, 1, 17, 0, tzinfo=dt.UTC), tick=False):
        assert services.capacity_notices_send() == 1  # alice late for Q4; charlie's contract began in 2027
    assert list(CapacityNotice.objects.values_list("provider", flat=True)) == [world.provider_a.id]


def test_d3_no_contract_no_reminder(world, frozen_clock):
    submitted(world.alice, world.plan, Quarter(2026, 3))
    frozen_clock.move_to(dt.datetime(2027, 2, 1, 17, 0, tzinfo=dt.UTC))
    assert services.capacity_notices_send() == 0
