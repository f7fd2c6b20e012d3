"""Rule D3: when each quarter's staffing and capacity report is due, and when to remind.

The dates are data (settings, documented defaults), the arithmetic is the one clock's:

* ``CSHUB_CAPACITY_DUE_DATES`` (default ``"01-31,04-30,07-31,10-31"``): month-day pairs; a quarter's report
  is due on the first of these dates after the quarter ends (Q1 on April 30, Q2 on July 31, Q3 on
  October 31, Q4 on January 31 of the next year), computed with ``core.clock.next_annual_date``.
* ``CSHUB_CAPACITY_REMINDER_DAYS`` (default ``"14,3"``): calendar days before the due date on which the
  provider's leadership is reminded. A report is late after the end of its due date, Pacific time.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import NamedTuple

from django.conf import settings

from cshub.core import clock

DEFAULT_DUE_DATES = "01-31,04-30,07-31,10-31"
DEFAULT_REMINDER_DAYS = "14,3"
_PERIOD = re.compile(r"^\s*(\d{4})\s*[- ]?\s*[Qq]([1-4])\s*$")


class Quarter(NamedTuple):
    year: int
    quarter: int

    @property
    def label(self) -> str:
        """The state report's reporting_period: YYYY Qn."""
        return f"{self.year} Q{self.quarter}"

    @property
    def key(self) -> str:
        """The form used in URLs and the API: YYYY-Qn."""
        return f"{self.year}-Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        return clock.last_day_of_month(self.year, 3 * self.quarter)

    @property
    def due_date(self) -> date:
        return due_date(self)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.quarter == 1 else Quarter(self.year, self.quarter - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year, self.quarter + 1)


def parse_quarter(value: str) -> Quarter | None:
    """``2026-Q3``, ``2026 Q3`` or ``2026q3`` as a Quarter; None when it is not one."""
    match = _PERIOD.match(value or "")
    return Quarter(int(match[1]), int(match[2])) if match else None


def quarter_of(d: date) -> Quarter:
    return Quarter(d.year, (d.month - 1) // 3 + 1)


def due_month_days() -> tuple[tuple[int, int], ...]:
    """The due dates of rule D3 as (month, day) pairs, from ``CSHUB_CAPACITY_DUE_DATES``."""
    raw = getattr(settings, "CSHUB_CAPACITY_DUE_DATES", DEFAULT_DUE_DATES) or DEFAULT_DUE_DATES
    pairs = []
    for part in str(raw).split(","):
        month, _, day = part.strip().partition("-")
        if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            raise ValueError(f"CSHUB_CAPACITY_DUE_DATES: {part!r} is not MM-DD")
        pairs.append((int(month), int(day)))
    return tuple(sorted(set(pairs)))


def reminder_days() -> tuple[int, ...]:
    """Days before the due date on which to remind, largest first, from ``CSHUB_CAPACITY_REMINDER_DAYS``."""
    raw = getattr(settings, "CSHUB_CAPACITY_REMINDER_DAYS", DEFAULT_REMINDER_DAYS)
    days = []
    for part in str(raw or "").split(","):
        if part.strip():
            if not part.strip().isdigit() or int(part) < 1:
                raise ValueError(f"CSHUB_CAPACITY_REMINDER_DAYS: {part!r} is not a positive number of days")
            days.append(int(part))
    return tuple(sorted(set(days), reverse=True))


def due_date(quarter: Quarter) -> date:
    """Rule D3: the first due date after the quarter ends (2026 Q4 is due January 31, 2027)."""
    return clock.next_annual_date(quarter.end + timedelta(days=1), month_days=due_month_days())


def quarter_for_due(due: date) -> Quarter:
    """The quarter reported on ``due`` (the inverse of :func:`due_date` for the configured dates)."""
    candidate = quarter_of(due).previous()
    for _ in range(4):
        if due_date(candidate) == due:
            return candidate
        candidate = candidate.previous()
    raise ValueError(f"{due} is not a capacity report due date")


def quarter_due_next(on: date | None = None) -> Quarter:
    """The quarter whose report falls due next, on or after ``on`` (default today, Pacific)."""
    on = on or clock.today()
    return quarter_for_due(clock.next_annual_date(on, month_days=due_month_days()))


def last_due_passed(on: date | None = None) -> Quarter:
    """The quarter whose due date passed most recently, strictly before ``on`` (default today)."""
    on = on or clock.today()
    quarter = quarter_due_next(on)
    while due_date(quarter) >= on:
        quarter = quarter.previous()
    return quarter


def is_late(quarter: Quarter, at: object = None) -> bool:
    """Whether ``at`` (default now) is after the end of the quarter's due date, Pacific time."""
    at = at or clock.now()
    return at > clock.end_of_day(due_date(quarter))
