"""Tests for cshub.core.clock: the one clock, business days and due dates (DESIGN.md principle 2)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from cshub.core import clock
from cshub.core.clock import PACIFIC

# Rule numbers belong to the rules' owners; these tests pass them in as a caller would.
A8_EXPEDITED_HOURS = 72
A8_ROUTINE_BUSINESS_DAYS = 5
C5_PAYMENT_BUSINESS_DAYS = 45
D1_CSASF_DAYS = (15, 29)
D2_CSPRTF_DUE_DAY = 5
D3_QUARTERLY_DUE = ((1, 31), (4, 30), (7, 31), (10, 31))

LISTED_NAMES = {
    "New Year's Day",
    "Martin Luther King Jr. Day",
    "Presidents' Day",
    "Cesar Chavez Day",
    "Memorial Day",
    "Juneteenth National Independence Day",
    "Independence Day",
    "Labor Day",
    "Veterans Day",
    "Thanksgiving Day",
    "Day After Thanksgiving",
    "Christmas Day",
}


@pytest.fixture(autouse=True)
def _fresh_calendar():
    clock.reset_calendar_cache()
    yield
    clock.reset_calendar_cache()


def _naive_add_business_days(start: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    day, left = start, abs(n)
    while left:
        day += timedelta(days=step)
        if clock.is_business_day(day):
            left -= 1
    return day


# --- now, today, local ------------------------------------------------------------------------------


def test_now_is_aware_utc_and_follows_time_machine():
    with time_machine.travel(datetime(2026, 5, 1, 12, 30, tzinfo=UTC), tick=False):
        assert clock.now() == datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
        assert clock.now().utcoffset() == timedelta(0)


def test_today_is_pacific_just_after_utc_midnight():
    """02:00 UTC on November 24 is 18:00 PST on November 23: today() is the 23rd."""
    with time_machine.travel(datetime(2026, 11, 24, 2, 0, tzinfo=UTC), tick=False):
        assert clock.today() == date(2026, 11, 23)
    with time_machine.travel(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), tick=False):
        assert clock.today() == date(2026, 11, 24)


def test_local_converts_to_pacific_and_refuses_naive():
    assert clock.local(datetime(2026, 7, 1, 19, 0, tzinfo=UTC)) == datetime(2026, 7, 1, 12, 0, tzinfo=PACIFIC)
    assert clock.local(datetime(2026, 7, 1, 19, 0, tzinfo=UTC)).utcoffset() == timedelta(hours=-7)
    with pytest.raises(ValueError, match="naive"):
        clock.local(datetime(2026, 7, 1, 12, 0))


def test_end_of_day_is_last_pacific_instant():
    due = clock.end_of_day(date(2026, 3, 8))  # DST starts that morning: PDT at night
    assert due.tzinfo is PACIFIC
    assert (due.hour, due.minute, due.second, due.microsecond) == (23, 59, 59, 999_999)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 6, 59, 59, 999_999, tzinfo=UTC)
    assert clock.start_of_day(date(2026, 3, 9)) - due == timedelta(microseconds=1)


# --- the plan's holidays ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 1, 19), "Martin Luther King Jr. Day"),
        (date(2026, 2, 16), "Presidents' Day"),
        (date(2026, 3, 31), "Cesar Chavez Day"),
        (date(2026, 5, 25), "Memorial Day"),
        (date(2026, 6, 19), "Juneteenth National Independence Day"),
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 9, 7), "Labor Day"),
        (date(2026, 11, 11), "Veterans Day"),
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 11, 27), "Day After Thanksgiving"),
        (date(2026, 12, 25), "Christmas Day"),
    ],
)
def test_each_plan_holiday_of_2026_is_not_a_business_day(day, name):
    assert clock.plan_holidays(2026)[day] == name
    assert not clock.is_business_day(day)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 7, 3), "Independence Day (observed)"),  # July 4, 2026 is a Saturday
        (date(2027, 12, 24), "Christmas Day (observed)"),  # December 25, 2027 is a Saturday
        (date(2027, 12, 31), "New Year's Day (observed)"),  # January 1, 2028 is a Saturday
        (date(2027, 7, 5), "Independence Day (observed)"),  # July 4, 2027 is a Sunday
        (date(2027, 6, 18), "Juneteenth National Independence Day (observed)"),
        (date(2028, 11, 10), "Veterans Day (observed)"),
        (date(2024, 4, 1), "Cesar Chavez Day (observed)"),  # Sunday -> Monday
        # Saturday -> Friday: the plan's rule; the holidays package does not move this one.
        (date(2029, 3, 30), "Cesar Chavez Day (observed)"),
    ],
)
def test_weekend_holiday_is_observed_on_the_nearest_weekday(day, name):
    assert clock.plan_holidays(day.year)[day] == name
    assert day.weekday() < 5
    assert not clock.is_business_day(day)


def test_observed_new_years_day_is_listed_under_the_year_it_falls_in():
    assert date(2027, 12, 31) in clock.plan_holidays(2027)
    assert date(2027, 12, 31) not in clock.plan_holidays(2028)
    assert clock.plan_holidays(2028)[date(2028, 1, 1)] == "New Year's Day"


def test_weekends_are_not_business_days():
    assert clock.is_business_day(date(2026, 6, 5))  # Friday
    assert not clock.is_business_day(date(2026, 6, 6))  # Saturday
    assert not clock.is_business_day(date(2026, 6, 7))  # Sunday
    assert clock.is_business_day(date(2026, 6, 8))  # Monday


def test_commemorative_days_are_business_days():
    """Susan B. Anthony Day (Feb 15) and Diwali are listed by `holidays` for CA but are not days off."""
    assert clock.is_business_day(date(2028, 2, 15))  # Susan B. Anthony Day, a Tuesday
    assert clock.is_business_day(date(2027, 10, 29))  # Diwali, a Friday
    assert date(2026, 2, 15) not in clock.plan_holidays(2026)
    # 2027: same date as Presidents' Day; only the listed name is kept.
    assert clock.plan_holidays(2027)[date(2027, 2, 15)] == "Presidents' Day"


@pytest.mark.parametrize("year", range(2021, 2041))
def test_every_listed_holiday_is_found_in_the_holidays_package(year):
    """Guards against a `holidays` upgrade renaming a day (the calendar matches by name)."""
    names = {
        name.removesuffix(" (observed)")
        for joined in clock.plan_holidays(year).values()
        for name in joined.split("; ")
    }
    assert names >= LISTED_NAMES


def test_holidays_between_spans_years():
    found = clock.holidays_between(date(2027, 12, 20), date(2028, 1, 20))
    assert list(found) == [
        date(2027, 12, 24),
        date(2027, 12, 25),
        date(2027, 12, 31),
        date(2028, 1, 1),
        date(2028, 1, 17),
    ]


# --- calendar file ----------------------------------------------------------------------------------


def _write_calendar(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "calendar.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_setting_names_another_calendar_with_extra_and_removed_dates(tmp_path, monkeypatch):
    path = _write_calendar(
        tmp_path,
        """
[observance]
saturday = "none"
sunday = "monday"

[holidays]
names = ["Christmas Day", "Thanksgiving Day", "Independence Day"]
extra = [{ date = 2026-12-24, name = "Christmas Eve closure" }]
removed = [2026-11-26]
""",
    )
    fake_settings = SimpleNamespace(configured=True, CSHUB_BUSINESS_CALENDAR=str(path))
    monkeypatch.setattr("django.conf.settings", fake_settings)
    clock.reset_calendar_cache()

    assert clock.business_calendar_path() == path
    assert clock.plan_holidays(2026) == {
        date(2026, 7, 4): "Independence Day",  # Saturday, not moved: observance.saturday = "none"
        date(2026, 12, 24): "Christmas Eve closure",
        date(2026, 12, 25): "Christmas Day",
    }
    assert clock.is_business_day(date(2026, 7, 3))
    assert clock.is_business_day(date(2026, 11, 26))  # removed
    assert clock.is_business_day(date(2026, 1, 19))  # MLK Day not listed
    assert not clock.is_business_day(date(2026, 12, 24))


def test_without_configured_settings_the_default_file_is_used(monkeypatch):
    monkeypatch.setattr("django.conf.settings", SimpleNamespace(configured=False))
    assert clock.business_calendar_path() == clock.DEFAULT_CALENDAR_PATH
    assert clock.DEFAULT_CALENDAR_PATH.is_file()


@pytest.mark.parametrize(
    "body",
    [
        '[observance]\nsaturday = "monday"\n',
        '[holidays]\nnames = "Christmas Day"\n',
        '[holidays]\nnames = []\nextra = [{ date = "2026-12-24", name = "x" }]\n',
        "[holidays]\nnames = []\nremoved = [2026-11-26T00:00:00]\n",
        "this is not toml",
        "holidays = 3\n",
    ],
)
def test_malformed_calendar_is_a_clear_error(tmp_path, monkeypatch, body):
    path = _write_calendar(tmp_path, body)
    monkeypatch.setattr(clock, "business_calendar_path", lambda: path)
    with pytest.raises(clock.CalendarError, match=str(path)):
        clock.plan_holidays(2026)


def test_misspelt_holiday_name_is_logged(tmp_path, monkeypatch, caplog):
    path = _write_calendar(tmp_path, '[holidays]\nnames = ["Chirstmas Day"]\n')
    monkeypatch.setattr(clock, "business_calendar_path", lambda: path)
    with caplog.at_level(logging.WARNING, logger="cshub.core.clock"):
        assert clock.plan_holidays(2026) == {}
    assert "Chirstmas Day" in caplog.text


# --- business days ----------------------------------------------------------------------------------


def test_a8_routine_decision_due_five_business_days_after_receipt_across_thanksgiving():
    """Rule A8: routine requests are decided within 5 business days (Thanksgiving + day after skipped)."""
    received = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # Tuesday morning in Pacific
    due = clock.add_business_days(received, A8_ROUTINE_BUSINESS_DAYS)
    assert due == date(2026, 12, 3)
    assert clock.end_of_day(due).astimezone(UTC) == datetime(2026, 12, 4, 7, 59, 59, 999_999, tzinfo=UTC)


def test_add_business_days_uses_the_pacific_date_of_a_datetime():
    # 2026-11-24 02:00 UTC is Monday November 23 in Pacific.
    assert clock.add_business_days(datetime(2026, 11, 24, 2, 0, tzinfo=UTC), 1) == date(2026, 11, 24)


def test_add_business_days_across_a_holiday_week_and_year_end():
    assert clock.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 30)
    assert clock.add_business_days(date(2027, 12, 23), 1) == date(2027, 12, 27)  # Dec 24 observed
    assert clock.add_business_days(date(2027, 12, 29), 2) == date(2028, 1, 3)  # Dec 31 observed
    assert clock.add_business_days(date(2026, 12, 24), 2) == date(2026, 12, 29)


def test_add_business_days_from_a_weekend_or_holiday_and_backwards():
    assert clock.add_business_days(date(2026, 7, 4), 1) == date(2026, 7, 6)  # from Saturday
    assert clock.add_business_days(date(2026, 7, 3), 1) == date(2026, 7, 6)  # from a holiday
    assert clock.add_business_days(date(2026, 7, 4), 0) == date(2026, 7, 4)
    assert clock.add_business_days(date(2026, 7, 6), -1) == date(2026, 7, 2)
    assert clock.add_business_days(date(2028, 1, 3), -2) == date(2027, 12, 29)


def test_c5_payment_due_45_business_days_after_receipt_date_stamp():
    """Rule C5: paid within 45 business days of the receipt date stamp, skipping Veterans Day,
    Thanksgiving and the day after, Christmas Day and New Year's Day."""
    receipt = date(2026, 11, 2)
    due = clock.add_business_days(receipt, C5_PAYMENT_BUSINESS_DAYS)
    assert due == date(2027, 1, 11)
    assert clock.business_days_between(receipt, due) == C5_PAYMENT_BUSINESS_DAYS
    assert clock.business_days_between(receipt, date(2027, 1, 8)) == C5_PAYMENT_BUSINESS_DAYS - 1


def test_business_days_between_counts_after_start_through_end():
    assert clock.business_days_between(date(2026, 6, 5), date(2026, 6, 5)) == 0
    assert clock.business_days_between(date(2026, 6, 5), date(2026, 6, 8)) == 1  # Fri -> Mon
    assert clock.business_days_between(date(2026, 11, 25), date(2026, 11, 30)) == 1
    assert clock.business_days_between(date(2026, 11, 30), date(2026, 11, 25)) == -1
    assert clock.business_days_between(date(2021, 1, 1), date(2020, 12, 31)) == -1  # backwards from a holiday
    assert clock.business_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 261 - 12


business_dates = st.dates(min_value=date(2021, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=business_dates, n=st.integers(min_value=1, max_value=120))
def test_add_business_days_always_lands_on_a_business_day(start, n):
    assert clock.is_business_day(clock.add_business_days(start, n))
    assert clock.is_business_day(clock.add_business_days(start, -n))


@settings(max_examples=300, deadline=None)
@given(start=business_dates, n=st.integers(min_value=-120, max_value=120))
def test_business_days_between_inverts_add_business_days(start, n):
    end = clock.add_business_days(start, n)
    assert end == _naive_add_business_days(start, n)
    assert clock.business_days_between(start, end) == n


@settings(max_examples=200, deadline=None)
@given(start=business_dates, span=st.integers(min_value=0, max_value=800))
def test_business_days_between_matches_day_by_day_count(start, span):
    end = start + timedelta(days=span)
    expected = sum(clock.is_business_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert clock.business_days_between(start, end) == expected


# --- elapsed hours and calendar days ----------------------------------------------------------------


def test_a8_expedited_72_hours_across_march_dst_change():
    """Rule A8: expedited requests within 72 hours. DST starts 2026-03-08: 72 real hours later the
    Pacific wall clock reads one hour later (12:00 PST -> 13:00 PDT)."""
    received = datetime(2026, 3, 6, 12, 0, tzinfo=PACIFIC)
    due = clock.add_hours(received, A8_EXPEDITED_HOURS)
    assert due.astimezone(UTC) - received.astimezone(UTC) == timedelta(hours=72)
    assert due == datetime(2026, 3, 9, 13, 0, tzinfo=PACIFIC)
    assert (due.hour, due.utcoffset()) == (13, timedelta(hours=-7))


def test_a8_expedited_72_hours_across_november_dst_change():
    """Rule A8: DST ends 2026-11-01: 72 real hours later the wall clock reads one hour earlier."""
    received = datetime(2026, 10, 30, 12, 0, tzinfo=PACIFIC)
    due = clock.add_hours(received, A8_EXPEDITED_HOURS)
    assert due.astimezone(UTC) - received.astimezone(UTC) == timedelta(hours=72)
    assert (due.date(), due.hour, due.utcoffset()) == (date(2026, 11, 2), 11, timedelta(hours=-8))


def test_add_hours_keeps_utc_in_utc_and_refuses_naive():
    start = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    assert clock.add_hours(start, 72) == datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        clock.add_hours(datetime(2026, 3, 7, 20, 0), 72)


def test_calendar_day_deadline_on_a_weekend_stays_there():
    assert clock.add_calendar_days(date(2026, 7, 1), 3) == date(2026, 7, 4)  # Saturday and a holiday
    assert clock.add_calendar_days(datetime(2026, 7, 2, 3, 0, tzinfo=UTC), 14) == date(2026, 7, 15)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert clock.add_months(start, months) == expected


def test_last_day_of_month_in_leap_and_common_years():
    assert clock.last_day_of_month(2026, 2) == date(2026, 2, 28)
    assert clock.last_day_of_month(2028, 2) == date(2028, 2, 29)
    assert clock.last_day_of_month(2100, 2) == date(2100, 2, 28)


# --- recurring due dates ----------------------------------------------------------------------------


def test_d2_csprtf_due_by_the_5th_of_the_following_month():
    """Rule D2: a month's CSPRTF is due by the 5th of the following month."""
    assert clock.day_of_next_month(date(2026, 1, 31), day=D2_CSPRTF_DUE_DAY) == date(2026, 2, 5)
    assert clock.day_of_next_month(date(2026, 12, 1), day=D2_CSPRTF_DUE_DAY) == date(2027, 1, 5)
    assert clock.day_of_next_month(date(2026, 1, 10), day=31) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 1, [date(2026, 1, 15), date(2026, 1, 29)]),
        (2026, 2, [date(2026, 2, 15), date(2026, 2, 28)]),  # no 29th: last day
        (2028, 2, [date(2028, 2, 15), date(2028, 2, 29)]),  # leap year
        (2026, 4, [date(2026, 4, 15), date(2026, 4, 29)]),
    ],
)
def test_d1_csasf_runs_on_the_15th_and_29th_or_month_end(year, month, expected):
    """Rule D1: CSASF on the 15th and 29th; a month without a 29th runs on its last day (DESIGN 2)."""
    assert clock.monthly_dates(year, month, days=D1_CSASF_DAYS) == expected


@pytest.mark.parametrize(
    ("on_or_after", "expected"),
    [
        (date(2026, 2, 15), date(2026, 2, 15)),
        (date(2026, 2, 16), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 15)),
        (date(2026, 3, 30), date(2026, 4, 15)),
        (date(2026, 12, 30), date(2027, 1, 15)),
    ],
)
def test_d1_next_csasf_run(on_or_after, expected):
    """Rule D1: the next CSASF run on or after a date."""
    assert clock.next_monthly_date(on_or_after, days=D1_CSASF_DAYS) == expected


def test_d3_quarterly_reports_due_dates():
    """Rule D3: staffing and capacity reports due January 31, April 30, July 31, October 31."""
    assert clock.annual_dates(2026, month_days=D3_QUARTERLY_DUE) == [
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
    ]
    assert clock.next_annual_date(date(2026, 5, 1), month_days=D3_QUARTERLY_DUE) == date(2026, 7, 31)
    assert clock.next_annual_date(date(2026, 10, 31), month_days=D3_QUARTERLY_DUE) == date(2026, 10, 31)
    assert clock.next_annual_date(date(2026, 11, 1), month_days=D3_QUARTERLY_DUE) == date(2027, 1, 31)


def test_annual_february_29_falls_back_to_28_in_common_years():
    assert clock.annual_dates(2027, month_days=[(2, 29)]) == [date(2027, 2, 28)]
    assert clock.annual_dates(2028, month_days=[(2, 29)]) == [date(2028, 2, 29)]


def test_invalid_day_numbers_are_refused():
    with pytest.raises(ValueError, match="1-31"):
        clock.monthly_dates(2026, 1, days=[0])
    with pytest.raises(ValueError, match="empty"):
        clock.next_monthly_date(date(2026, 1, 1), days=[])
