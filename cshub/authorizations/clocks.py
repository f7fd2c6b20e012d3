"""Rule A8: when an authorization request is due. Every number is a setting (settings.py, `CSHUB_AUTH_*`);
every date and hour comes from `core.clock` (Pacific time, the plan's business calendar, DST-exact hours).

- Expedited: `CSHUB_AUTH_EXPEDITED_HOURS` (72) elapsed hours after receipt.
- Routine: the end of the `CSHUB_AUTH_ROUTINE_BUSINESS_DAYS`-th (5th) business day after receipt of the
  information needed, and never later than the end of the `CSHUB_AUTH_ROUTINE_MAX_CALENDAR_DAYS`-th (14th)
  calendar day after receipt of the request. While the plan waits for information (pended), only that
  cap applies.
- Urgent concurrent review (policy_updates item 9): an extension of an ongoing service asked for at least
  `CSHUB_AUTH_CONCURRENT_NOTICE_HOURS` (24) before the current authorization ends is due
  `CSHUB_AUTH_CONCURRENT_REVIEW_HOURS` (24) hours after receipt.
- An extension taken by the plan adds up to `CSHUB_AUTH_EXTENSION_MAX_CALENDAR_DAYS` (14) calendar days
  to whichever deadline applies (a date deadline stays at the end of its day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings

from cshub.core import clock


@dataclass(frozen=True)
class ClockSettings:
    expedited_hours: int
    routine_business_days: int
    routine_max_calendar_days: int
    extension_max_days: int
    concurrent_notice_hours: int
    concurrent_review_hours: int

    @classmethod
    def current(cls) -> ClockSettings:
        return cls(
            expedited_hours=settings.CSHUB_AUTH_EXPEDITED_HOURS,
            routine_business_days=settings.CSHUB_AUTH_ROUTINE_BUSINESS_DAYS,
            routine_max_calendar_days=settings.CSHUB_AUTH_ROUTINE_MAX_CALENDAR_DAYS,
            extension_max_days=settings.CSHUB_AUTH_EXTENSION_MAX_CALENDAR_DAYS,
            concurrent_notice_hours=settings.CSHUB_AUTH_CONCURRENT_NOTICE_HOURS,
            concurrent_review_hours=settings.CSHUB_AUTH_CONCURRENT_REVIEW_HOURS,
        )


def is_concurrent(*, received_at: datetime, current_authorization_ends: date) -> bool:
    """An extension asked for at least the notice hours before the current authorization's last day ends."""
    notice = ClockSettings.current().concurrent_notice_hours
    return clock.add_hours(received_at, notice) <= clock.end_of_day(current_authorization_ends)


def due_at(
    *,
    expedited: bool,
    received_at: datetime,
    information_complete_at: datetime | None,
    concurrent: bool = False,
    extension_days: int = 0,
) -> datetime:
    """The instant a decision is due (see the module docstring)."""
    s = ClockSettings.current()
    if concurrent:
        due = clock.add_hours(received_at, s.concurrent_review_hours)
    elif expedited:
        due = clock.add_hours(received_at, s.expedited_hours)
    else:
        due = routine_cap(received_at)
        if information_complete_at is not None:
            due = min(
                due,
                clock.end_of_day(clock.add_business_days(information_complete_at, s.routine_business_days)),
            )
    if extension_days:
        if expedited or concurrent:
            due = clock.add_hours(due, 24 * extension_days)
        else:
            due = clock.end_of_day(clock.add_calendar_days(due, extension_days))
    return due


def routine_cap(received_at: datetime) -> datetime:
    """Never later than the end of the 14th calendar day after receipt of the request."""
    return clock.end_of_day(
        clock.add_calendar_days(received_at, ClockSettings.current().routine_max_calendar_days)
    )


def time_left_fraction(*, received_at: datetime, due: datetime, now: datetime) -> float:
    """The share of the request's clock still left (negative when overdue): the queue's colors."""
    whole = (due - received_at).total_seconds()
    if whole <= 0:
        return -1.0
    return (due - now).total_seconds() / whole
