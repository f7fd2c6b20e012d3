"""Benefit limits: a proposed authorization checked against the member's whole history (rules G1, A10;
issue 6 item 7: "lifetime and per-period limits are enforced across the member's whole history").

The catalog states each service's limits (`catalog.ServiceLimit`, loaded from
cshub/data/catalog/services/*.toml). `limit_specs_for(service)` turns them into `LimitSpec`s,
`member_history(member, ...)` reads the member's authorizations and no-authorization service records as
`Use`s, and `limit_problems(...)` (pure: no database) says which limits the proposed use would break, in
words a reviewer can put in a determination letter, with the most that could still be authorized.

How each kind counts. `history` is narrowed to the services sharing the limit (its group, or the service
alone), and a history use with the proposed use's reference is ignored (never counted twice):

- lifetime_count: episodes of service over the whole history. Uses that overlap, adjoin (one ends the
  day before the next starts) or continue one another (`Use.continues`, a reauthorization or extension)
  are one episode, so reauthorizing "once per lifetime, for as long as needed" is not a second time.
- lifetime_amount_usd: the sum of `amount_usd`; uses without an amount are not counted and are named.
- per_period_count: with unit "times", episodes starting in the period; with a unit such as "meals",
  the units of the uses billed in that unit ("per meal"), spread evenly over each use's dates. A
  proposed use billed in another unit (a dietitian visit under "2 meals a day") is not checked.
- per_period_hours: hours (units converted, below) spread evenly over each use's dates, summed.
- rolling_window_days / rolling_window_months: the days covered by the dates of the uses (overlapping
  dates counted once), in every window of `window_days` days that holds a day of the proposed span.
- max_continuous_days: the proposed span joined with every overlapping or adjoining history span.
- max_stay_hours: the proposed use alone is one stay.

Assumptions (say them in a letter if challenged):

- A month is a twelfth of the catalog's 365-day year: the room-and-board files give "six months in a
  rolling 12 months" (Health Net provider manual, source `healthnet_manual_tr`; policy_updates item 4)
  as `value = 6`, `window_days = 365`, so six months is half of any 365 days, 182.5 days, rounded down to
  182 so the limit is never exceeded. No source found gives a day count. Six calendar months are 181 to
  184 days, so a July-to-December stay is two days over.
- Day limits count the authorized date span, not units: room-and-board authorizations are periods, and
  the catalog's own notes show units that are not days (Transitional Rent H0040-U1 "1 unit for 6
  months"). Where a history record has no end date, a per diem record covers `units` days.
- Units to hours: per diem = 24 hours (respite's 336 hours per calendar year are 14 days of 24 hours),
  per hour = 1, per 15 minutes = 0.25. Per month, per visit, per service, per session and an empty unit
  have no hours: the date span is used instead (24 hours a day), which is an upper bound.
- Units to days (for `max_units` under a day limit): per diem = 1 day, per month = 365/12 days; other
  units give `max_units = None`.
- Quantities spread evenly over a use's dates: 180 meals from June 1 to August 29 are two a day.
  Units are summed even when dates overlap (two meal authorizations for the same days are four meals
  a day); only day counts take the union of dates.
- A stay recorded by dates alone (per visit) is known to exceed N hours only when its dates do: a stay
  over n calendar days lasts more than (n - 2) x 24 hours; a one- or two-day stay is not flagged.

Withdrawn and voided uses are the caller's to leave out (`member_history` leaves out voided ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import TYPE_CHECKING

from cshub.authorizations.models import Authorization, ServiceRecord
from cshub.catalog.loader import LIMIT_DEFAULT_UNITS
from cshub.catalog.models import ServiceLimit
from cshub.catalog.selectors import shared_limit_partners

if TYPE_CHECKING:
    from cshub.catalog.models import Service
    from cshub.members.models import Member

Kind = ServiceLimit.Kind

DAYS_PER_YEAR = 365
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = Fraction(DAYS_PER_YEAR, MONTHS_PER_YEAR)
HOURS_PER_DAY = 24

# Billing units (hcpcs.csv) as hours and as days; keys are the unit without "per ", lower case.
_HOURS_PER_UNIT: dict[str, Fraction] = {
    "diem": Fraction(HOURS_PER_DAY),
    "day": Fraction(HOURS_PER_DAY),
    "hour": Fraction(1),
    "15 minutes": Fraction(1, 4),
}
_DAYS_PER_UNIT: dict[str, Fraction] = {
    "diem": Fraction(1),
    "day": Fraction(1),
    "week": Fraction(7),
    "month": DAYS_PER_MONTH,
}
# A limit's unit ("meals", "days") against a billing unit's word ("meal", "diem").
_UNIT_SYNONYMS = {"diem": "day"}
_EPISODE_UNITS = {"", "time", "times"}


@dataclass(frozen=True)
class Use:
    """One authorization or no-authorization service record in the member's history, or the proposed
    one. `continues` is the reference of the use this one reauthorizes or extends, if any."""

    service_key: str
    start: date
    end: date  # inclusive
    units: int
    billing_unit: str
    reference: str
    amount_usd: Decimal | None = None
    continues: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"{self.reference}: ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class LimitSpec:
    """One catalog limit as the check needs it. `service_keys` are every service whose uses count
    (the limit's group, or the one service); `service_names` name them in messages."""

    kind: str
    value: Decimal
    unit: str = ""
    window_days: int | None = None
    calendar_year: bool = False
    group: str = ""
    service_keys: frozenset[str] = frozenset()
    label: str = ""
    service_names: tuple[tuple[str, str], ...] = ()
    note: str = ""

    def name_of(self, service_key: str) -> str:
        return dict(self.service_names).get(service_key, service_key.replace("_", " "))


@dataclass(frozen=True)
class LimitProblem:
    limit_label: str
    message: str
    max_units: int | None  # in the proposed use's billing unit; None when it cannot be computed


# --- building specs ---------------------------------------------------------------------------------


def limit_spec(
    *,
    kind: str,
    value: Decimal | int,
    service_key: str,
    service_name: str = "",
    unit: str = "",
    window_days: int | None = None,
    calendar_year: bool = False,
    group: str = "",
    partners: Sequence[tuple[str, str]] = (),
    note: str = "",
) -> LimitSpec:
    """A `LimitSpec` for `service_key` from a limit's values; `partners` are the (key, name) of the other
    services sharing its group."""
    if kind not in Kind.values:
        raise ValueError(f"unknown limit kind '{kind}'")
    value = Decimal(value)
    unit = unit or LIMIT_DEFAULT_UNITS.get(kind, "")
    names = ((service_key, service_name or service_key.replace("_", " ")), *partners)
    label = _label(kind=kind, value=value, unit=unit, window_days=window_days, calendar_year=calendar_year)
    if partners:
        label += f" (shared with {_and([name for _, name in partners])})"
    return LimitSpec(
        kind=kind,
        value=value,
        unit=unit,
        window_days=window_days,
        calendar_year=calendar_year,
        group=group,
        service_keys=frozenset(key for key, _ in names),
        label=label,
        service_names=tuple(names),
        note=note,
    )


def limit_specs_for(service: Service) -> list[LimitSpec]:
    """The limits that apply to a request for `service`: its own `ServiceLimit` rows, each group limit
    counting the uses of every active service sharing it (`shared_limit_partners`). Up to three queries;
    one at most (the group's partners) when the service's limits are prefetched (`service_get`)."""
    partners = shared_limit_partners(service)
    specs = []
    for row in sorted(service.limits.all(), key=lambda limit: limit.position):
        seen: dict[str, str] = {}
        group = partners.get(row.group, []) if row.group else []
        for partner in sorted(group, key=lambda other: (other.sort_order, other.name)):
            seen.setdefault(partner.key, partner.name)
        specs.append(
            limit_spec(
                kind=row.kind,
                value=row.value,
                service_key=service.key,
                service_name=service.name,
                unit=row.unit,
                window_days=row.window_days,
                calendar_year=row.calendar_year,
                group=row.group,
                partners=list(seen.items()),
                note=row.note,
            )
        )
    return specs


def months_to_days(months: Decimal | int) -> int:
    """Whole days in `months` (a month is 365/12 days), rounded down so the limit is never exceeded:
    6 months are 182 days."""
    return floor(Fraction(Decimal(months)) * DAYS_PER_MONTH)


# --- the check --------------------------------------------------------------------------------------


def limit_problems(
    *, proposed: Use, history: Sequence[Use], limits: Sequence[LimitSpec]
) -> list[LimitProblem]:
    """Rules G1 and A10 (issue 6 item 7): every limit in `limits` the proposed use would break, given the
    member's `history` (any services: each limit picks the uses of its own services). Empty when the
    request fits. Limits of other services than the proposed one's are skipped."""
    problems = []
    for spec in limits:
        keys = spec.service_keys or frozenset({proposed.service_key})
        if proposed.service_key not in keys:
            continue
        uses = _uses_counted(keys, proposed, history)
        problem = _CHECKS[spec.kind](spec, proposed, uses)
        if problem is not None:
            problems.append(problem)
    return problems


def _uses_counted(keys: frozenset[str], proposed: Use, history: Sequence[Use]) -> list[Use]:
    # The same authorization read twice (or the proposed one already in the history) counts once.
    seen = {proposed.reference} if proposed.reference else set()
    uses = []
    for use in history:
        if use.service_key not in keys:
            continue
        if use.reference:
            if use.reference in seen:
                continue
            seen.add(use.reference)
        uses.append(use)
    return sorted(uses, key=lambda use: (use.start, use.end, use.reference))


def _check_lifetime_count(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 "once per lifetime": episodes of service; a reauthorization or extension is no new one."""
    limit = int(spec.value)
    episodes = _episodes([*uses, proposed])
    mine = next(episode for episode in episodes if any(use is proposed for use in episode))
    if len(mine) > 1 or len(episodes) <= limit:
        return None
    earlier = [episode for episode in episodes if episode is not mine]
    message = (
        f"{spec.label}: {_times(limit)} in the member's lifetime. The member already had "
        f"{_episodes_text(spec, earlier)}. This request ({_span_text(proposed)}) would be the "
        f"{_ordinal(len(episodes))}; it can be authorized only as a reauthorization or extension of an "
        f"earlier one, or as an exception the plan documents."
    )
    return LimitProblem(spec.label, message, 0)


def _check_lifetime_amount(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 lifetime maximum in dollars (home modifications, asthma remediation, community transition)."""
    known = [use for use in uses if use.amount_usd is not None]
    used = sum((use.amount_usd for use in known if use.amount_usd is not None), Decimal(0))
    remaining = max(spec.value - used, Decimal(0))
    if proposed.amount_usd is None:
        if remaining > 0:
            return None
        would = f"This request ({_span_text(proposed)}) has no amount, and nothing is left."
    else:
        total = used + proposed.amount_usd
        if total <= spec.value:
            return None
        asked = f"{_span_text(proposed)}, {_usd(proposed.amount_usd)}"
        would = f"This request ({asked}) would bring it to {_usd(total)}."
    listed = "; ".join(f"{_use_text(spec, use)}, {_usd(use.amount_usd)}" for use in known)
    message = f"{spec.label}: at most {_usd(spec.value)} in the member's lifetime. "
    message += f"Already used: {_usd(used)}" + (f" ({listed}). " if listed else ". ") + would
    message += f" At most {_usd(remaining)} can still be authorized."
    unknown = [use.reference for use in uses if use.amount_usd is None]
    if unknown:
        message += f" Not counted, no amount recorded: {_and(unknown)}."
    return LimitProblem(spec.label, message, None)


def _check_per_period_count(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 count per period: episodes ("times") or units in the limit's unit ("2 meals a day")."""
    unit = _singular(spec.unit)
    if unit in _EPISODE_UNITS:
        return _check_period_times(spec, proposed, uses)
    if _unit_word(proposed.billing_unit) != unit:
        return None  # the limit counts another unit than this code's (meals, not dietitian visits)

    def quantity(use: Use) -> Fraction | None:
        return Fraction(use.units) if _unit_word(use.billing_unit) == unit else None

    return _check_quantity(spec, proposed, uses, quantity=quantity, unit=spec.unit, per_unit=Fraction(1))


def _check_per_period_hours(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 hours per period (respite: 336 hours per calendar year)."""
    return _check_quantity(
        spec, proposed, uses, quantity=_hours, unit="hours", per_unit=_hours_per_unit(proposed.billing_unit)
    )


def _check_rolling_window(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 days within a rolling window, and policy_updates item 4: recuperative care, post-
    hospitalization housing and Transitional Rent together at most six months in a rolling 12 months."""
    months = spec.kind == Kind.ROLLING_WINDOW_MONTHS
    limit = months_to_days(spec.value) if months else int(spec.value)
    window = spec.window_days or DAYS_PER_YEAR
    start = proposed.start.toordinal()
    # Every window that could hold a day of the proposed span, and nothing else, is looked at.
    low, high = start - window + 1, proposed.end.toordinal() + window - 1
    history_days = bytearray(high - low + 1)
    for first, last in _merged(uses, join_adjoining=False):
        for day in range(max(first, low), min(last, high) + 1):
            history_days[day - low] = 1

    def counts(length: int) -> list[tuple[int, int]]:
        """(days covered, window start) for each window holding a day of the first `length` days."""
        days = bytearray(history_days)
        days[start - low : start - low + length] = b"\x01" * length
        running = [0]
        for covered in days:
            running.append(running[-1] + covered)
        return [
            (running[first + window - low] - running[first - low], first)
            for first in range(start - window + 1, start + length)
        ]

    def fits(length: int) -> bool:
        return all(count <= limit for count, _ in counts(length))

    if fits(proposed.days):
        return None
    allowed = _longest(proposed.days, fits)
    total, first = max(counts(proposed.days), key=lambda item: (item[0], -item[1]))
    window_start, window_end = date.fromordinal(first), date.fromordinal(first + window - 1)
    inside = [use for use in uses if use.start <= window_end and use.end >= window_start]
    already = sum(history_days[first - low : first + window - low])
    amount = f"{limit} days ({_number(spec.value)} months)" if months else f"{limit} days"
    message = (
        f"{spec.label}: at most {amount} of {_services_text(spec)} in any {window} days. "
        f"In the {window} days from {_date(window_start)} to {_date(window_end)} the member already has "
        f"{_plural(already, 'day')}"
    )
    if inside:
        message += ": " + "; ".join(
            f"{_use_text(spec, use)}: {_plural(_overlap(use, window_start, window_end), 'day')}"
            for use in inside
        )
        if sum(_overlap(use, window_start, window_end) for use in inside) > already:
            message += " (days that overlap counted once)"
    message += (
        f". This request ({_span_text(proposed)}, {_plural(proposed.days, 'day')}) would make it "
        f"{_plural(total, 'day')}. " + _days_left(proposed, allowed)
    )
    return LimitProblem(spec.label, message, _days_as_units(allowed, proposed.billing_unit))


def _check_continuous(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 maximum continuous days (recuperative care: 90): the proposed span joined with every
    overlapping or adjoining earlier or later span."""
    limit = int(spec.value)
    spans = _merged(uses, join_adjoining=True)
    start = proposed.start.toordinal()

    def stay(length: int) -> tuple[int, int]:
        first, last = start, start + length - 1
        for span_first, span_last in spans:
            # Spans are merged with gaps between them, so one pass finds every span joining this one.
            if span_first <= last + 1 and span_last >= first - 1:
                first, last = min(first, span_first), max(last, span_last)
        return first, last

    def fits(length: int) -> bool:
        if length == 0:
            return True
        first, last = stay(length)
        return last - first + 1 <= limit

    if fits(proposed.days):
        return None
    allowed = _longest(proposed.days, fits)
    first, last = stay(proposed.days)
    joined = [use for use in uses if use.start.toordinal() <= last and use.end.toordinal() >= first]
    message = f"{spec.label}: a stay may last at most {_plural(limit, 'day')} without a break. "
    if joined:
        message += f"With {'; '.join(_use_text(spec, use) for use in joined)}, this request "
    else:
        message += "This request "
    message += (
        f"({_span_text(proposed)}) would make one stay of {_plural(last - first + 1, 'day')}, from "
        f"{_date(date.fromordinal(first))} to {_date(date.fromordinal(last))}. "
        + _days_left(proposed, allowed)
    )
    return LimitProblem(spec.label, message, _days_as_units(allowed, proposed.billing_unit))


def _check_stay_hours(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Rule G1 maximum hours per stay (sobering centers: stays under 24 hours). The proposed use is one
    stay; the history does not matter."""
    limit = Fraction(spec.value)
    per_unit = _hours_per_unit(proposed.billing_unit)
    if per_unit is not None:
        hours = proposed.units * per_unit
        if hours <= limit:
            return None
        max_units: int | None = floor(limit / per_unit)
        length = f"{_number(hours)} hours ({_units_text(proposed.units, proposed.billing_unit)})"
    else:
        # Dates alone: a stay over n calendar days lasts more than (n - 2) x 24 hours, at least.
        if proposed.units != 1 or (proposed.days - 2) * HOURS_PER_DAY < limit:  # may be shorter
            return None
        max_units = None
        at_least = (proposed.days - 2) * HOURS_PER_DAY
        length = f"more than {at_least} hours ({_plural(proposed.days, 'calendar day')})"
    message = (
        f"{spec.label}: a stay may last at most {_number(limit)} hours. This request "
        f"({_span_text(proposed)}) is for {length}."
    )
    if max_units is not None:
        message += f" At most {_units_text(max_units, proposed.billing_unit)} can be authorized for one stay."
    return LimitProblem(spec.label, message, max_units)


_CHECKS: dict[str, Callable[[LimitSpec, Use, list[Use]], LimitProblem | None]] = {
    Kind.LIFETIME_COUNT: _check_lifetime_count,
    Kind.LIFETIME_AMOUNT_USD: _check_lifetime_amount,
    Kind.PER_PERIOD_COUNT: _check_per_period_count,
    Kind.PER_PERIOD_HOURS: _check_per_period_hours,
    Kind.ROLLING_WINDOW_DAYS: _check_rolling_window,
    Kind.ROLLING_WINDOW_MONTHS: _check_rolling_window,
    Kind.MAX_CONTINUOUS_DAYS: _check_continuous,
    Kind.MAX_STAY_HOURS: _check_stay_hours,
}


# --- per-period machinery ---------------------------------------------------------------------------


def _windows(spec: LimitSpec, proposed: Use) -> list[tuple[int, int]]:
    """The (first, last) days of every period holding a day of the proposed span."""
    if spec.calendar_year:
        return [
            (date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal())
            for year in range(proposed.start.year, proposed.end.year + 1)
        ]
    window = spec.window_days or 1
    start, end = proposed.start.toordinal(), proposed.end.toordinal()
    return [(first, first + window - 1) for first in range(start - window + 1, end + 1)]


def _period_text(spec: LimitSpec, first: int, last: int) -> str:
    if spec.calendar_year:
        return f"In calendar year {date.fromordinal(first).year}"
    if first == last:
        return f"On {_date(date.fromordinal(first))}"
    start, end = _date(date.fromordinal(first)), _date(date.fromordinal(last))
    return f"In the {last - first + 1} days from {start} to {end}"


def _check_quantity(
    spec: LimitSpec,
    proposed: Use,
    uses: list[Use],
    *,
    quantity: Callable[[Use], Fraction | None],
    unit: str,
    per_unit: Fraction | None,
) -> LimitProblem | None:
    """A quantity (hours, meals) per period, each use's quantity spread evenly over its dates."""
    limit = Fraction(spec.value)
    windows = _windows(spec, proposed)
    low, high = windows[0][0], windows[-1][1]
    # Daily rates as a running sum, so each window's load is one subtraction.
    change = [Fraction(0)] * (high - low + 2)
    counted = []
    for use in uses:
        amount = quantity(use)
        first, last = max(use.start.toordinal(), low), min(use.end.toordinal(), high)
        if amount is None or first > last:
            continue
        counted.append(use)
        change[first - low] += amount / use.days
        change[last - low + 1] -= amount / use.days
    running, rate = [Fraction(0)], Fraction(0)
    for step in change[:-1]:
        rate += step
        running.append(running[-1] + rate)
    asked = quantity(proposed) or Fraction(0)
    worst: tuple[Fraction, int, int, Fraction, Fraction] | None = None
    most: Fraction | None = None
    for first, last in windows:
        inside = _overlap_days(proposed, first, last)
        if inside == 0:
            continue
        already = running[last - low + 1] - running[first - low]
        added = asked * inside / proposed.days
        room = max((limit - already) * proposed.days / inside, Fraction(0))
        most = room if most is None else min(most, room)
        if already + added > limit and (worst is None or already + added > worst[0]):
            worst = (already + added, first, last, already, added)
    if worst is None:
        return None
    total, first, last, already, added = worst
    period = _period_text(spec, first, last)
    shares = [
        f"{_use_text(spec, use)}: {_number(_share(quantity(use), use, first, last))} {unit}"
        for use in counted
        if _overlap_days(use, first, last)
    ]
    message = (
        f"{spec.label}. {period} the member already has {_number(already)} {unit}"
        + (f" ({'; '.join(shares)})" if shares else "")
        + f". This request ({_span_text(proposed)}, {_number(asked)} {unit}"
        + (f", {_number(added)} of them in that period" if added != asked else "")
        + f") would make it {_number(total)} {unit}."
    )
    max_units = floor((most or Fraction(0)) / per_unit) if per_unit else None
    if max_units is not None:
        message += (
            f" At most {_units_text(max_units, proposed.billing_unit)} can be authorized for these dates."
        )
    else:
        message += f" At most {_number(most or Fraction(0))} {unit} can be authorized for these dates."
    return LimitProblem(spec.label, message, max_units)


def _check_period_times(spec: LimitSpec, proposed: Use, uses: list[Use]) -> LimitProblem | None:
    """Episodes per period, each counted in the period where it starts."""
    limit = int(spec.value)
    episodes = _episodes([*uses, proposed])
    mine = next(episode for episode in episodes if any(use is proposed for use in episode))
    if len(mine) > 1:
        return None  # a continuation is not a new time
    starts = {id(episode): episode[0].start.toordinal() for episode in episodes}
    begin = proposed.start.toordinal()
    if spec.calendar_year:
        year = proposed.start.year
        periods = [(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal())]
    else:
        window = spec.window_days or 1
        periods = [(first, first + window - 1) for first in range(begin - window + 1, begin + 1)]
    for first, last in periods:
        inside = [episode for episode in episodes if first <= starts[id(episode)] <= last]
        if len(inside) > limit:
            earlier = [episode for episode in inside if episode is not mine]
            message = (
                f"{spec.label}. {_period_text(spec, first, last)} the member already had "
                f"{_episodes_text(spec, earlier)}. This request ({_span_text(proposed)}) would be the "
                f"{_ordinal(len(inside))}; at most {_times(limit)}."
            )
            return LimitProblem(spec.label, message, 0)
    return None


# --- helpers ----------------------------------------------------------------------------------------


def _episodes(uses: list[Use]) -> list[list[Use]]:
    """Uses that overlap, adjoin or continue one another, grouped; each group in date order."""
    ordered = sorted(uses, key=lambda use: (use.start, use.end))
    parent = list(range(len(ordered)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    last_end: date | None = None
    for index, use in enumerate(ordered):
        if last_end is not None and use.start <= last_end + timedelta(days=1):
            parent[root(index)] = root(index - 1)
        last_end = use.end if last_end is None else max(last_end, use.end)
    by_reference = {use.reference: index for index, use in enumerate(ordered) if use.reference}
    for index, use in enumerate(ordered):
        if use.continues in by_reference:
            parent[root(index)] = root(by_reference[use.continues])
    groups: dict[int, list[Use]] = {}
    for index, use in enumerate(ordered):
        groups.setdefault(root(index), []).append(use)
    return sorted(groups.values(), key=lambda group: group[0].start)


def _merged(uses: Iterable[Use], *, join_adjoining: bool) -> list[tuple[int, int]]:
    """The union of the uses' dates as (first, last) day ordinals."""
    gap = 1 if join_adjoining else 0
    spans: list[list[int]] = []
    for first, last in sorted((use.start.toordinal(), use.end.toordinal()) for use in uses):
        if spans and first <= spans[-1][1] + gap:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    return [(first, last) for first, last in spans]


def _longest(length: int, fits: Callable[[int], bool]) -> int:
    """The longest prefix (0..length days) of the proposed span that still `fits`; `fits` only gets
    harder as days are added, so a binary search finds it."""
    low, high = 0, length
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _overlap_days(use: Use, first: int, last: int) -> int:
    return max(0, min(use.end.toordinal(), last) - max(use.start.toordinal(), first) + 1)


def _overlap(use: Use, first: date, last: date) -> int:
    return _overlap_days(use, first.toordinal(), last.toordinal())


def _share(amount: Fraction | None, use: Use, first: int, last: int) -> Fraction:
    return (amount or Fraction(0)) * _overlap_days(use, first, last) / use.days


def _unit_word(billing_unit: str) -> str:
    word = billing_unit.strip().lower().removeprefix("per ").strip()
    return _singular(_UNIT_SYNONYMS.get(word, word))


def _singular(unit: str) -> str:
    word = unit.strip().lower()
    if word.endswith("minutes"):
        return word
    return _UNIT_SYNONYMS.get(word, word).removesuffix("s")


def _hours_per_unit(billing_unit: str) -> Fraction | None:
    word = billing_unit.strip().lower().removeprefix("per ").strip()
    return _HOURS_PER_UNIT.get(word, _HOURS_PER_UNIT.get(word.removesuffix("s")))


def _hours(use: Use) -> Fraction:
    per_unit = _hours_per_unit(use.billing_unit)
    if per_unit is None:
        return Fraction(use.days * HOURS_PER_DAY)  # no hours in the unit: the dates, 24 hours a day
    return use.units * per_unit


def _days_as_units(days: int, billing_unit: str) -> int | None:
    per_unit = _DAYS_PER_UNIT.get(billing_unit.strip().lower().removeprefix("per ").strip())
    return floor(days / per_unit) if per_unit else None


def _days_left(proposed: Use, allowed: int) -> str:
    if allowed == 0:
        return f"Nothing can be authorized from {_date(proposed.start)}."
    units = _days_as_units(allowed, proposed.billing_unit)
    text = (
        f"At most {_plural(allowed, 'day')} can be authorized from {_date(proposed.start)}, "
        f"to {_date(proposed.start + timedelta(days=allowed - 1))}"
    )
    if units is not None and _unit_word(proposed.billing_unit) != "day":
        text += f" ({_units_text(units, proposed.billing_unit)})"
    return text + "."


def _label(*, kind: str, value: Decimal, unit: str, window_days: int | None, calendar_year: bool) -> str:
    number = _number(value)
    if kind == Kind.LIFETIME_COUNT:
        times = {1: "Once", 2: "Twice"}.get(int(value), f"{number} times")
        return f"{times} per lifetime" if unit == "times" else f"{number} {unit} per lifetime"
    if kind == Kind.LIFETIME_AMOUNT_USD:
        return f"{_usd(value).removesuffix('.00')} per lifetime"
    if kind in (Kind.PER_PERIOD_COUNT, Kind.PER_PERIOD_HOURS):
        if calendar_year:
            period = "per calendar year"
        elif window_days == 1:
            period = "per day"
        else:
            period = f"within any {window_days} days"
        return f"{number} {unit} {period}"
    if kind == Kind.ROLLING_WINDOW_DAYS:
        return f"{number} days within any {window_days} days"
    if kind == Kind.ROLLING_WINDOW_MONTHS:
        if window_days and window_days % DAYS_PER_YEAR == 0:
            return f"{number} months in a rolling {window_days // DAYS_PER_YEAR * MONTHS_PER_YEAR} months"
        return f"{number} months within any {window_days} days"
    if kind == Kind.MAX_CONTINUOUS_DAYS:
        return f"{number} continuous days"
    return f"{number} hours per stay"


def _number(value: Decimal | Fraction | int) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return f"{Decimal(int(value)) if isinstance(value, Fraction) else value:,.2f}".removesuffix(".00")


def _usd(value: Decimal | None) -> str:
    return f"${value or 0:,.2f}"


def _date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _ordinal(count: int) -> str:
    words = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
    return f"{words.get(count, f'{count}th')} time"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _units_text(units: int, billing_unit: str) -> str:
    unit = billing_unit.strip() or "unit of service"
    return f"{_plural(units, 'unit')} ({unit})"


def _services_text(spec: LimitSpec) -> str:
    return _and([name for _, name in spec.service_names]) if spec.service_names else "this service"


def _span_text(use: Use) -> str:
    return f"{use.reference}, {_date(use.start)} to {_date(use.end)}"


def _use_text(spec: LimitSpec, use: Use) -> str:
    service = f"{spec.name_of(use.service_key)}, " if len(spec.service_keys) > 1 else ""
    return f"{use.reference} ({service}{_date(use.start)} to {_date(use.end)})"


def _episodes_text(spec: LimitSpec, episodes: list[list[Use]]) -> str:
    parts = []
    for episode in episodes:
        references = _and([use.reference for use in episode])
        first, last = episode[0].start, max(use.end for use in episode)
        service = f"{spec.name_of(episode[0].service_key)}, " if len(spec.service_keys) > 1 else ""
        parts.append(f"{references} ({service}{_date(first)} to {_date(last)})")
    return "; ".join(parts) if parts else "none"


# --- the database reader ----------------------------------------------------------------------------


def member_history(
    member: Member, *, service_keys: Iterable[str], exclude_request_id: int | None = None
) -> list[Use]:
    """The member's uses of `service_keys` for `limit_problems`: authorizations not voided (less the one
    of request `exclude_request_id`, when re-checking a request already authorized) and no-authorization
    service records. Two queries. Neither table records an amount, so `amount_usd` is None."""
    keys = sorted(set(service_keys))
    authorizations = Authorization.objects.filter(
        member=member, service__key__in=keys, voided_at__isnull=True
    ).order_by("start_date", "id")
    if exclude_request_id is not None:
        authorizations = authorizations.exclude(request_id=exclude_request_id)
    uses = [
        Use(
            service_key=row["service__key"],
            start=row["start_date"],
            end=row["end_date"],
            units=row["units"],
            billing_unit=row["code__billing_unit"],
            reference=row["number"],
            continues=row["request__previous_authorization__number"] or "",
        )
        for row in authorizations.values(
            "number",
            "service__key",
            "code__billing_unit",
            "units",
            "start_date",
            "end_date",
            "request__previous_authorization__number",
        )
    ]
    records = ServiceRecord.objects.filter(member=member, service__key__in=keys)
    records = records.order_by("service_date", "id")
    for row in records.values(
        "uuid", "service__key", "code__billing_unit", "units", "service_date", "end_date"
    ):
        end = row["end_date"]
        if end is None:
            # A per diem record without an end date covers one day per unit.
            per_diem = _DAYS_PER_UNIT.get(_unit_word(row["code__billing_unit"])) == 1
            end = row["service_date"] + timedelta(days=max(row["units"], 1) - 1 if per_diem else 0)
        uses.append(
            Use(
                service_key=row["service__key"],
                start=row["service_date"],
                end=max(end, row["service_date"]),
                units=row["units"],
                billing_unit=row["code__billing_unit"],
                reference=f"service record {str(row['uuid'])[:8]}",
            )
        )
    return uses
