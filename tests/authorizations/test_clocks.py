"""Rule A8: the regulatory clocks, computed by `core.clock` from settings, across weekends, plan holidays
and daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.authorizations import clocks
from cshub.core import clock

PT = clock.PACIFIC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PT)


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two instants (subtracting two datetimes of one zone gives wall-clock time)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def test_a8_expedited_is_72_elapsed_hours_across_the_spring_dst_change():
    received = at(2026, 3, 7, 10, 0)  # Saturday; clocks spring forward Sunday March 8
    due = clocks.due_at(expedited=True, received_at=received, information_complete_at=received)
    assert elapsed(received, due) == dt.timedelta(hours=72)
    assert due.astimezone(PT).hour == 11  # the wall clock moved by one hour


def test_a8_expedited_is_72_elapsed_hours_across_the_fall_dst_change():
    received = at(2026, 10, 31, 10, 0)  # clocks fall back Sunday November 1
    due = clocks.due_at(expedited=True, received_at=received, information_complete_at=received)
    assert elapsed(received, due) == dt.timedelta(hours=72)
    assert due.astimezone(PT).hour == 9


def test_a8_routine_skips_the_weekend():
    received = at(2026, 7, 10, 16, 0)  # Friday
    due = clocks.due_at(expedited=False, received_at=received, information_complete_at=received)
    assert due == clock.end_of_day(dt.date(2026, 7, 17))  # Mon..Fri of the next week


def test_a8_routine_skips_juneteenth():
    received = at(2026, 6, 12, 16, 0)  # Friday; Friday June 19 is a plan holiday
    due = clocks.due_at(expedited=False, received_at=received, information_complete_at=received)
    assert due == clock.end_of_day(dt.date(2026, 6, 22))


def test_a8_routine_skips_plan_holidays():
    received = at(2026, 11, 23, 9, 0)  # Monday of Thanksgiving week (Thu 26 and Fri 27 are holidays)
    due = clocks.due_at(expedited=False, received_at=received, information_complete_at=received)
    assert due == clock.end_of_day(dt.date(2026, 12, 2))  # Tue, Wed, Mon, Tue, Wed


def test_a8_routine_is_never_later_than_14_calendar_days_after_receipt():
    received = at(2026, 6, 1, 9, 0)
    info = at(2026, 6, 12, 9, 0)  # information arrives late: 5 business days would end June 19
    due = clocks.due_at(expedited=False, received_at=received, information_complete_at=info)
    assert due == clock.end_of_day(dt.date(2026, 6, 15))


def test_a7_a8_while_pended_only_the_cap_applies():
    received = at(2026, 6, 1, 9, 0)
    due = clocks.due_at(expedited=False, received_at=received, information_complete_at=None)
    assert due == clock.end_of_day(dt.date(2026, 6, 15))


def test_a8_extension_adds_calendar_days():
    received = at(2026, 6, 1, 9, 0)
    due = clocks.due_at(
        expedited=False, received_at=received, information_complete_at=received, extension_days=14
    )
    assert due == clock.end_of_day(dt.date(2026, 6, 22))  # June 8 + 14


def test_a8_concurrent_review_is_24_hours():
    received = at(2026, 6, 1, 9, 0)
    assert clocks.is_concurrent(received_at=received, current_authorization_ends=dt.date(2026, 6, 2))
    assert not clocks.is_concurrent(
        received_at=at(2026, 6, 2, 9, 0), current_authorization_ends=dt.date(2026, 6, 2)
    )
    due = clocks.due_at(
        expedited=False, received_at=received, information_complete_at=received, concurrent=True
    )
    assert elapsed(received, due) == dt.timedelta(hours=24)


def test_a8_the_numbers_are_settings(settings):
    settings.CSHUB_AUTH_EXPEDITED_HOURS = 48
    settings.CSHUB_AUTH_ROUTINE_BUSINESS_DAYS = 3
    received = at(2026, 6, 1, 9, 0)  # Monday
    assert clocks.due_at(
        expedited=True, received_at=received, information_complete_at=received
    ) == clock.add_hours(received, 48)
    assert clocks.due_at(
        expedited=False, received_at=received, information_complete_at=received
    ) == clock.end_of_day(dt.date(2026, 6, 4))


@pytest.mark.parametrize("fraction_left,expected", [(0.5, True), (-0.1, False)])
def test_time_left_fraction(fraction_left, expected):
    received = at(2026, 6, 1, 9, 0)
    due = received + dt.timedelta(hours=10)
    now = due - dt.timedelta(hours=10 * fraction_left)
    assert (clocks.time_left_fraction(received_at=received, due=due, now=now) > 0) is expected
