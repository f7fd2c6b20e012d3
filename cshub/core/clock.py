"""The one clock (DESIGN.md principle 2).

Every "now", business-day and due-date calculation in cshub goes through this module:

* Instants are aware datetimes in UTC (what the database stores); :func:`now` is the single source,
  so a test can freeze or move it with ``time_machine.travel(...)``.
* Deadlines are dates in America/Los_Angeles (:data:`PACIFIC`). A date deadline is due at the end of
  that day, Pacific time (:func:`end_of_day`).
* Business days are Monday to Friday minus the plan's observed holidays, read from the business calendar
  data file ``cshub/data/business_calendar.toml`` (or the file named by the Django setting
  ``CSHUB_BUSINESS_CALENDAR``).

This module is arithmetic only. The rule numbers (72 hours and 5 business days for rule A8, 45 business
days for C5, the 15th and 29th for D1, the 5th for D2, the quarterly dates for D3) live with the rules
that own them and are passed in as arguments. The only data this module owns is the holiday calendar.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_CALENDAR_PATH",
    "PACIFIC",
    "CalendarError",
    "add_business_days",
    "add_calendar_days",
    "add_hours",
    "add_months",
    "annual_dates",
    "business_calendar_path",
    "business_days_between",
    "day_of_next_month",
    "end_of_day",
    "holidays_between",
    "is_business_day",
    "last_day_of_month",
    "local",
    "monthly_dates",
    "next_annual_date",
    "next_monthly_date",
    "now",
    "plan_holidays",
    "reset_calendar_cache",
    "start_of_day",
    "today",
]

logger = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
"""The time zone of every deadline."""

DEFAULT_CALENDAR_PATH = Path(__file__).resolve().parent.parent / "data" / "business_calendar.toml"
"""The shipped business calendar; the ``CSHUB_BUSINESS_CALENDAR`` setting may name another file."""

CALENDAR_SETTING = "CSHUB_BUSINESS_CALENDAR"

_HOLIDAYS_COUNTRY = "US"
_HOLIDAYS_SUBDIVISION = "CA"
_SATURDAY, _SUNDAY = 5, 6
_OBSERVANCE_SHIFTS = {"saturday": {"friday": -1, "none": 0}, "sunday": {"monday": 1, "none": 0}}


class CalendarError(ValueError):
    """The business calendar file is malformed."""


# --------------------------------------------------------------------------------------------------
# Now, today, time zones
# --------------------------------------------------------------------------------------------------


def now() -> datetime:
    """Return the current instant as an aware UTC datetime.

    Deliberately ``datetime.now(tz=UTC)`` rather than ``django.utils.timezone.now()`` so that it works
    without Django settings; ``time-machine`` freezes both. Never cache the result at import time.
    """
    return datetime.now(tz=UTC)


def today() -> date:
    """Return today's date in America/Los_Angeles (not in UTC: 02:00 UTC is still yesterday there)."""
    return now().astimezone(PACIFIC).date()


def local(dt: datetime) -> datetime:
    """Convert an aware datetime to America/Los_Angeles. Naive datetimes are refused."""
    _require_aware(dt)
    return dt.astimezone(PACIFIC)


def start_of_day(d: date) -> datetime:
    """Return the first instant of ``d`` in Pacific time, as an aware Pacific datetime."""
    return datetime.combine(_as_local_date(d), time.min, tzinfo=PACIFIC)


def end_of_day(d: date) -> datetime:
    """Return the last instant (23:59:59.999999) of ``d`` in Pacific time, as an aware Pacific datetime.

    A deadline expressed as a date (business or calendar days) is due at this instant. Compare it with
    :func:`now` directly (aware datetimes compare across zones) or store it; Django converts to UTC.
    """
    return datetime.combine(_as_local_date(d), time.max, tzinfo=PACIFIC)


# --------------------------------------------------------------------------------------------------
# Elapsed time and calendar arithmetic
# --------------------------------------------------------------------------------------------------


def add_hours(start: datetime, hours: float) -> datetime:
    """Return the instant ``hours`` real (elapsed) hours after ``start``, in ``start``'s time zone.

    Across a daylight-saving change the Pacific wall clock moves by one hour more or less than
    ``hours``; the elapsed time is exact (72 hours is always 72 hours).
    """
    _require_aware(start)
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)


def add_calendar_days(start: date | datetime, n: int) -> date:
    """Return the Pacific date ``n`` calendar days after ``start`` (negative ``n`` goes back).

    A result that falls on a weekend or holiday stays on that date (DESIGN.md principle 2).
    """
    return _as_local_date(start) + timedelta(days=n)


def last_day_of_month(year: int, month: int) -> date:
    """Return the last day of the given month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(d: date, n: int) -> date:
    """Return the same day ``n`` months later, clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    d = _as_local_date(d)
    year, month0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
    return _clamped(year, month0 + 1, d.day)


def day_of_next_month(d: date, *, day: int) -> date:
    """Return day ``day`` of the month after ``d``'s month, clamped to that month's last day.

    For example the CSPRTF due date (rule D2) is ``day_of_next_month(service_month, day=5)``.
    """
    d = _as_local_date(d)
    nxt = add_months(d.replace(day=1), 1)
    return _clamped(nxt.year, nxt.month, _check_day(day))


def monthly_dates(year: int, month: int, *, days: Iterable[int]) -> list[date]:
    """Return the given days of one month, sorted; a day the month lacks becomes its last day.

    Rule D1 (CSASF on the 15th and 29th): ``monthly_dates(2026, 2, days=(15, 29))`` is February 15
    and 28, 2026. Duplicates after clamping are returned once.
    """
    return sorted({_clamped(year, month, _check_day(day)) for day in days})


def next_monthly_date(on_or_after: date, *, days: Iterable[int]) -> date:
    """Return the first of :func:`monthly_dates` falling on or after ``on_or_after``."""
    d = _as_local_date(on_or_after)
    days = tuple(days)
    if not days:
        raise ValueError("days must not be empty")
    for candidate in monthly_dates(d.year, d.month, days=days):
        if candidate >= d:
            return candidate
    nxt = add_months(d.replace(day=1), 1)
    return monthly_dates(nxt.year, nxt.month, days=days)[0]


def annual_dates(year: int, *, month_days: Iterable[tuple[int, int]]) -> list[date]:
    """Return the given (month, day) pairs in ``year``, sorted; February 29 becomes 28 in common years.

    Rule D3 (quarterly reports): ``month_days=((1, 31), (4, 30), (7, 31), (10, 31))``.
    """
    return sorted({_clamped(year, month, _check_day(day)) for month, day in month_days})


def next_annual_date(on_or_after: date, *, month_days: Iterable[tuple[int, int]]) -> date:
    """Return the first of :func:`annual_dates` falling on or after ``on_or_after``."""
    d = _as_local_date(on_or_after)
    month_days = tuple(month_days)
    if not month_days:
        raise ValueError("month_days must not be empty")
    for candidate in annual_dates(d.year, month_days=month_days):
        if candidate >= d:
            return candidate
    return annual_dates(d.year + 1, month_days=month_days)[0]


# --------------------------------------------------------------------------------------------------
# Business days
# --------------------------------------------------------------------------------------------------


def is_business_day(d: date | datetime) -> bool:
    """Return whether ``d`` (a datetime counts by its Pacific date) is Monday-Friday and not a holiday."""
    d = _as_local_date(d)
    return d.weekday() < _SATURDAY and d not in _year_holidays(d.year)


def add_business_days(start: date | datetime, n: int) -> date:
    """Return the date ``n`` business days after ``start``; the start day itself is not counted.

    Weekends and plan holidays are skipped, so a positive ``n`` always lands on a business day even
    when ``start`` is not one. ``n == 0`` returns ``start``'s date; a negative ``n`` counts backwards.
    A datetime counts from its Pacific date. The result is due at :func:`end_of_day`.
    """
    day = _as_local_date(start)
    if n > 0:
        remaining = n
        while remaining:
            target = _shift_weekdays(day, remaining)
            remaining = _weekday_holidays_in(day, target)  # holidays in (day, target] push it on
            day = target
    elif n < 0:
        remaining = -n
        while remaining:
            target = _shift_weekdays(day, -remaining)
            remaining = _weekday_holidays_in(target - timedelta(days=1), day - timedelta(days=1))
            day = target
    return day


def business_days_between(start: date | datetime, end: date | datetime) -> int:
    """Return the number of business days after ``start`` up to and including ``end``.

    The inverse of :func:`add_business_days`: ``business_days_between(s, add_business_days(s, n)) == n``.
    When ``end`` is before ``start`` the result is minus the business days from ``end`` up to, not
    including, ``start`` (counting backwards the way a negative :func:`add_business_days` does).
    """
    first, last = _as_local_date(start), _as_local_date(end)
    if last < first:
        one_day = timedelta(days=1)
        return -business_days_between(last - one_day, first - one_day)
    weekdays = _weekdays_through(last) - _weekdays_through(first)
    return weekdays - _weekday_holidays_in(first, last)


def plan_holidays(year: int) -> dict[date, str]:
    """Return the plan's holidays in ``year``: date -> name, sorted by date.

    Each listed holiday appears on its own date and, when that is a weekend, on the observed weekday
    as ``"<name> (observed)"``. An observed day can fall in the neighbouring year (New Year's Day 2028,
    a Saturday, is observed on Friday, December 31, 2027, and is listed under 2027).
    """
    return dict(_year_holidays(year))


def holidays_between(start: date, end: date) -> dict[date, str]:
    """Return the plan's holidays from ``start`` to ``end``, both included: date -> name."""
    first, last = _as_local_date(start), _as_local_date(end)
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update((d, name) for d, name in _year_holidays(year).items() if first <= d <= last)
    return found


def business_calendar_path() -> Path:
    """Return the business calendar file in use: the ``CSHUB_BUSINESS_CALENDAR`` setting or the default.

    The setting is read only when Django settings are already configured, so this module works (with
    the default file) without Django.
    """
    from django.conf import settings

    if settings.configured:
        override = getattr(settings, CALENDAR_SETTING, None)
        if override:
            return Path(override)
    return DEFAULT_CALENDAR_PATH


def reset_calendar_cache() -> None:
    """Forget the loaded calendar and computed holidays (after editing the file or the setting)."""
    _calendar.cache_clear()
    _year_holidays.cache_clear()
    _weekday_holidays.cache_clear()


# --------------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    names: frozenset[str]
    saturday_shift: int
    sunday_shift: int
    extra: Mapping[date, str]
    removed: frozenset[date]


@functools.cache
def _calendar() -> _Calendar:
    path = business_calendar_path()
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"cannot read business calendar {path}: {exc}") from exc
    return _parse_calendar(raw, path)


def _parse_calendar(raw: Mapping[str, Any], path: Path) -> _Calendar:
    def fail(message: str) -> CalendarError:
        return CalendarError(f"{path}: {message}")

    observance, section = raw.get("observance", {}), raw.get("holidays", {})
    if not isinstance(observance, dict) or not isinstance(section, dict):
        raise fail("[observance] and [holidays] must be tables")
    shifts = {}
    for weekday, choices in _OBSERVANCE_SHIFTS.items():
        value = observance.get(weekday, "none")
        if value not in choices:
            raise fail(f"observance.{weekday} must be one of {sorted(choices)}, not {value!r}")
        shifts[weekday] = choices[value]

    names = section.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise fail("holidays.names must be a list of holiday names")

    extra: dict[date, str] = {}
    for item in section.get("extra", []):
        day, name = (item.get("date"), item.get("name")) if isinstance(item, dict) else (None, None)
        if not _is_plain_date(day) or not isinstance(name, str) or not name:
            raise fail(f"holidays.extra entries need a date (YYYY-MM-DD) and a name, not {item!r}")
        extra[day] = name

    removed = section.get("removed", [])
    if not isinstance(removed, list) or not all(_is_plain_date(d) for d in removed):
        raise fail("holidays.removed must be a list of dates (YYYY-MM-DD)")

    return _Calendar(
        names=frozenset(names),
        saturday_shift=shifts["saturday"],
        sunday_shift=shifts["sunday"],
        extra=MappingProxyType(extra),
        removed=frozenset(removed),
    )


@functools.lru_cache(maxsize=256)
def _year_holidays(year: int) -> Mapping[date, str]:
    """The plan's holidays in one year (read-only mapping, sorted by date)."""
    import holidays as holidays_lib  # imported lazily: it takes ~150 ms

    cal = _calendar()
    # observed=False: the package's own observance for California is not uniform (it moves Cesar Chavez
    # Day from Sunday to Monday but not from Saturday to Friday), so the plan's rule is applied here.
    # Neighbouring years are read because an observed day can cross the year boundary.
    source = holidays_lib.country_holidays(
        _HOLIDAYS_COUNTRY, subdiv=_HOLIDAYS_SUBDIVISION, years=range(year - 1, year + 2), observed=False
    )
    found: dict[date, list[str]] = {}
    seen: set[str] = set()
    for day in sorted(source):
        for name in source.get_list(day):  # one date can carry several names, e.g. Presidents' Day and
            if name not in cal.names:  # Susan B. Anthony Day in 2027: keep only the listed ones
                continue
            seen.add(name)
            observed = _observed_day(day, cal)
            if day.year == year:
                found.setdefault(day, []).append(name)
            if observed != day and observed.year == year:
                found.setdefault(observed, []).append(f"{name} (observed)")
    for day, name in cal.extra.items():
        if day.year == year:
            found.setdefault(day, []).append(name)
    for day in cal.removed:
        found.pop(day, None)
    if missing := cal.names - seen:
        # Juneteenth before 2021 is expected; otherwise a misspelt name or a renamed package holiday.
        logger.warning("business calendar: no %s around %s in the holidays package", sorted(missing), year)
    return MappingProxyType({day: "; ".join(found[day]) for day in sorted(found)})


@functools.lru_cache(maxsize=256)
def _weekday_holidays(year: int) -> tuple[date, ...]:
    """Sorted holidays of one year that fall on a weekday (the ones that cost a business day)."""
    return tuple(d for d in _year_holidays(year) if d.weekday() < _SATURDAY)


def _weekday_holidays_in(after: date, through: date) -> int:
    """Count weekday holidays ``h`` with ``after < h <= through``."""
    total = 0
    for year in range(after.year, through.year + 1):
        days = _weekday_holidays(year)
        total += bisect.bisect_right(days, through) - bisect.bisect_right(days, after)
    return total


def _observed_day(day: date, cal: _Calendar) -> date:
    weekday = day.weekday()
    if weekday == _SATURDAY:
        return day + timedelta(days=cal.saturday_shift)
    if weekday == _SUNDAY:
        return day + timedelta(days=cal.sunday_shift)
    return day


def _weekdays_through(d: date) -> int:
    """Number of Monday-Friday dates from 0001-01-01 (a Monday) through ``d``, inclusive."""
    weeks, weekday = divmod(d.toordinal() - 1, 7)
    return 5 * weeks + min(weekday + 1, 5)


def _shift_weekdays(d: date, n: int) -> date:
    """Return the date ``n`` Monday-Friday days after (``n`` > 0) or before (``n`` < 0) ``d``."""
    weekday = d.weekday()
    if n > 0:
        if weekday >= _SATURDAY:  # count from the Friday before
            d, weekday = d - timedelta(days=weekday - 4), 4
        weeks, rest = divmod(n, 5)
        return d + timedelta(days=7 * weeks + rest + (2 if weekday + rest > 4 else 0))
    if weekday >= _SATURDAY:  # count from the Monday after
        d, weekday = d + timedelta(days=7 - weekday), 0
    weeks, rest = divmod(-n, 5)
    return d - timedelta(days=7 * weeks + rest + (2 if weekday - rest < 0 else 0))


def _as_local_date(value: date | datetime) -> date:
    """A date as is; an aware datetime as its Pacific date; a naive datetime is refused."""
    if isinstance(value, datetime):
        return local(value).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, not {type(value).__name__}")


def _require_aware(dt: datetime) -> None:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: cshub works with aware datetimes only (UTC in the database)")


def _is_plain_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _check_day(day: int) -> int:
    if not 1 <= day <= 31:
        raise ValueError(f"day of month must be 1-31, not {day}")
    return day


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))
