"""Calendar months in Pacific time, the period every utilization report covers (rule D6)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from cshub.core import clock

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, raw: str | None) -> Month | None:
        """``"2026-10"`` -> Month(2026, 10); anything else (or a month before 2000) -> None."""
        match = _MONTH_RE.match((raw or "").strip())
        if not match:
            return None
        year, month = int(match[1]), int(match[2])
        if not (1 <= month <= 12 and year >= 2000):
            return None
        return cls(year, month)

    @classmethod
    def previous_of_today(cls) -> Month:
        """The month before today's (Pacific): the one the monthly job reports on."""
        return cls.of(clock.today()).shift(-1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.first:%B %Y}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return clock.last_day_of_month(self.year, self.month)

    @property
    def start(self) -> datetime:
        """The first instant of the month, Pacific."""
        return clock.start_of_day(self.first)

    @property
    def end(self) -> datetime:
        """The last instant of the month, Pacific."""
        return clock.end_of_day(self.last)

    def shift(self, n: int) -> Month:
        return Month.of(clock.add_months(self.first, n))

    def until(self, other: Month) -> list[Month]:
        """This month and every month after it up to ``other``, both included (empty when ``other`` is
        earlier)."""
        months, m = [], self
        while m <= other:
            months.append(m)
            m = m.shift(1)
        return months

    def __str__(self) -> str:
        return self.key
