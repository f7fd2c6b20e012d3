"""Rule D3: quarterly due dates January 31, April 30, July 31, October 31 (data: CSHUB_CAPACITY_DUE_DATES)."""

from __future__ import annotations

from datetime import date

import pytest

from cshub.capacity import schedule
from cshub.capacity.schedule import Quarter


@pytest.mark.parametrize(
    ("quarter", "due"),
    [
        (Quarter(2026, 1), date(2026, 4, 30)),
        (Quarter(2026, 2), date(2026, 7, 31)),
        (Quarter(2026, 3), date(2026, 10, 31)),
        (Quarter(2026, 4), date(2027, 1, 31)),  # across the year boundary
    ],
)
def test_d3_due_date_per_quarter(quarter, due):
    assert schedule.due_date(quarter) == due
    assert schedule.quarter_for_due(due) == quarter


def test_d3_quarter_due_next_and_last_passed():
    assert schedule.quarter_due_next(date(2026, 11, 23)) == Quarter(2026, 4)
    assert schedule.quarter_due_next(date(2026, 10, 31)) == Quarter(2026, 3)
    assert schedule.quarter_due_next(date(2027, 2, 1)) == Quarter(2027, 1)
    assert schedule.last_due_passed(date(2026, 11, 1)) == Quarter(2026, 3)
    assert schedule.last_due_passed(date(2027, 1, 31)) == Quarter(2026, 3)
    assert schedule.last_due_passed(date(2027, 2, 1)) == Quarter(2026, 4)


def test_d3_due_dates_are_a_setting(settings):
    settings.CSHUB_CAPACITY_DUE_DATES = "02-15,05-15,08-15,11-15"
    settings.CSHUB_CAPACITY_REMINDER_DAYS = "7, 30"
    assert schedule.due_date(Quarter(2026, 4)) == date(2027, 2, 15)
    assert schedule.reminder_days() == (30, 7)
    settings.CSHUB_CAPACITY_DUE_DATES = "13-01"
    with pytest.raises(ValueError, match="MM-DD"):
        schedule.due_month_days()


def test_parse_quarter():
    assert schedule.parse_quarter("2026-Q3") == Quarter(2026, 3)
    assert schedule.parse_quarter("2026 q4") == Quarter(2026, 4)
    assert schedule.parse_quarter("2026-Q5") is None
    assert schedule.parse_quarter("") is None
