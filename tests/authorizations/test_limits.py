"""Benefit limits across the member's whole history (rules G1, A10; issue 6 item 7; policy_updates item 4).

The pure tests read the limits and billing units from the real catalog files (cshub/data/catalog), so a
changed value in a file changes what is checked here. Kinds the catalog does not use yet
(rolling_window_days, per_period_count in "times") use a limit written in the test.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cshub.authorizations.limits import (
    LimitSpec,
    Use,
    limit_problems,
    limit_spec,
    limit_specs_for,
    member_history,
    months_to_days,
)
from cshub.authorizations.models import Authorization, AuthorizationRequest, ServiceRecord
from cshub.catalog.loader import CatalogSpec, read_catalog
from cshub.catalog.models import Service, ServiceCode, ServiceLimit
from cshub.catalog.services import catalog_load
from cshub.core import clock

Kind = ServiceLimit.Kind
ROOM_AND_BOARD = {"recuperative_care", "short_term_post_hospitalization_housing", "transitional_rent"}


@cache
def _catalog() -> CatalogSpec:
    return read_catalog()


def specs(key: str) -> list[LimitSpec]:
    """The service's limits as `limit_specs_for` builds them, from the files instead of the database."""
    by_key = {service.key: service for service in _catalog().services}
    service = by_key[key]
    return [
        limit_spec(
            kind=limit.kind,
            value=limit.value,
            service_key=key,
            service_name=service.values["name"],
            unit=limit.unit,
            window_days=limit.window_days,
            calendar_year=limit.calendar_year,
            group=limit.group,
            partners=[
                (other, by_key[other].values["name"])
                for other in sorted(
                    limit.shared_with,
                    key=lambda other: (by_key[other].values["sort_order"], by_key[other].values["name"]),
                )
            ],
            note=limit.note,
        )
        for limit in service.limits
    ]


def spec(key: str, kind: str) -> LimitSpec:
    (found,) = [limit for limit in specs(key) if limit.kind == kind]
    return found


def billing_unit(code: str) -> str:
    (unit,) = [c.billing_unit for c in _catalog().codes if c.code == code]
    return unit


def d(text: str) -> date:
    return date.fromisoformat(text)


def use(
    key: str,
    code: str,
    start: str,
    end: str | None = None,
    *,
    units: int | None = None,
    ref: str = "A-NEW",
    amount: str | None = None,
    continues: str = "",
) -> Use:
    """A use billed with the real code's unit; units default to the days of the span."""
    first, last = d(start), d(end or start)
    return Use(
        service_key=key,
        start=first,
        end=last,
        units=(last - first).days + 1 if units is None else units,
        billing_unit=billing_unit(code),
        reference=ref,
        amount_usd=Decimal(amount) if amount is not None else None,
        continues=continues,
    )


def days_from(start: str, days: int) -> str:
    return (d(start) + timedelta(days=days - 1)).isoformat()


def check(proposed: Use, history: list[Use], limit: LimitSpec):
    return limit_problems(proposed=proposed, history=history, limits=[limit])


# --- the catalog's limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "labels"),
    [
        ("housing_deposits", ["Once per lifetime"]),
        ("housing_tenancy_sustaining", ["Once per lifetime"]),
        ("environmental_accessibility_adaptations", ["$7,500 per lifetime"]),
        ("asthma_remediation", ["$7,500 per lifetime"]),
        ("community_transition_nf_to_home", ["$7,500 per lifetime"]),
        ("medically_tailored_meals", ["2 meals per day"]),
        ("respite_services", ["336 hours per calendar year"]),
        ("sobering_centers", ["24 hours per stay"]),
        (
            "recuperative_care",
            [
                "6 months in a rolling 12 months (shared with Transitional Rent and Short-Term "
                "Post-Hospitalization Housing)",
                "90 continuous days",
            ],
        ),
        ("housing_transition_navigation", []),
    ],
)
def test_g1_limit_labels_from_the_real_catalog(key, labels):
    assert [limit.label for limit in specs(key)] == labels


def test_g1_room_and_board_limit_is_one_limit_over_three_services():
    """policy_updates item 4: the three services share one six-months-in-a-rolling-12 limit."""
    for key in ROOM_AND_BOARD:
        limit = spec(key, Kind.ROLLING_WINDOW_MONTHS)
        assert limit.service_keys == ROOM_AND_BOARD
        assert (limit.value, limit.window_days) == (6, 365)


def test_g1_six_months_are_182_days():
    """Half of the catalog's 365-day year (182.5), rounded down so the limit is never exceeded."""
    assert months_to_days(6) == 182
    assert months_to_days(12) == 365
    assert months_to_days(1) == 30


def test_use_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="ends"):
        use("respite_services", "H0045-U6", "2026-03-02", "2026-03-01", units=1)


# --- lifetime_count: housing deposits, housing tenancy ------------------------------------------


DEPOSITS = ("housing_deposits", "H0044-U2")
TENANCY = ("housing_tenancy_sustaining", "T2040-U6")


@pytest.mark.parametrize(
    ("service", "history", "proposed", "fails"),
    [
        pytest.param(DEPOSITS, [], ("2026-03-01", "2026-03-31", ""), False, id="first-time"),
        pytest.param(
            DEPOSITS,
            [("2019-05-01", "2019-05-31", "A-OLD")],
            ("2026-03-01", "2026-03-31", ""),
            True,
            id="years-later-still-counts",
        ),
        pytest.param(
            TENANCY,
            [("2025-01-01", "2025-06-30", "A-1")],
            ("2025-07-01", "2025-12-31", "A-1"),
            False,
            id="reauthorization-continues",
        ),
        pytest.param(
            TENANCY,
            [("2025-01-01", "2025-06-30", "A-1")],
            ("2025-09-01", "2025-12-31", "A-1"),
            False,
            id="late-reauthorization-continues",
        ),
        pytest.param(
            TENANCY,
            [("2025-01-01", "2025-06-30", "A-1")],
            ("2025-07-01", "2025-12-31", ""),
            False,
            id="adjoining-is-the-same-time",
        ),
        pytest.param(
            TENANCY,
            [("2025-01-01", "2025-06-30", "A-1")],
            ("2025-06-01", "2025-12-31", ""),
            False,
            id="overlapping-is-the-same-time",
        ),
        pytest.param(
            TENANCY,
            [("2025-01-01", "2025-06-30", "A-1")],
            ("2025-07-02", "2025-12-31", ""),
            True,
            id="after-a-break-is-a-second-time",
        ),
    ],
)
def test_g1_once_per_lifetime(service, history, proposed, fails):
    key, code = service
    earlier = [use(key, code, start, end, ref=ref) for start, end, ref in history]
    start, end, continues = proposed
    problems = check(use(key, code, start, end, continues=continues), earlier, spec(key, Kind.LIFETIME_COUNT))
    assert bool(problems) == fails
    if fails:
        (problem,) = problems
        assert problem.limit_label == "Once per lifetime"
        assert problem.max_units == 0
        assert earlier[0].reference in problem.message
        assert "A-NEW" in problem.message
        assert "second time" in problem.message


def test_g1_once_per_lifetime_message_names_the_earlier_use_and_dates():
    key, code = DEPOSITS
    (problem,) = check(
        use(key, code, "2026-03-01", "2026-03-31"),
        [use(key, code, "2024-03-01", "2024-03-31", ref="A-2024-000012")],
        spec(key, Kind.LIFETIME_COUNT),
    )
    assert problem.message.startswith("Once per lifetime: once in the member's lifetime.")
    assert "A-2024-000012 (March 1, 2024 to March 31, 2024)" in problem.message
    assert "A-NEW, March 1, 2026 to March 31, 2026" in problem.message


def test_g1_once_per_lifetime_counts_only_the_service_itself():
    """Housing navigation before a deposit is not a deposit."""
    navigation = use("housing_transition_navigation", "H0043-U6", "2025-01-01", "2025-06-30", ref="A-NAV")
    key, code = DEPOSITS
    assert check(use(key, code, "2026-03-01"), [navigation], spec(key, Kind.LIFETIME_COUNT)) == []


# --- lifetime_amount_usd: home modifications, asthma, community transition ---------------------------


EAA = ("environmental_accessibility_adaptations", "S5165-U6")


@pytest.mark.parametrize(
    ("history_amounts", "amount", "remaining"),
    [
        pytest.param([], "7500", None, id="the-whole-maximum-at-once"),
        pytest.param(["5000"], "2500", None, id="exactly-at-the-maximum"),
        pytest.param(["5000"], "2500.01", "$2,500.00", id="one-cent-over"),
        pytest.param(["3000", "4000"], "1000", "$500.00", id="summed-across-uses"),
        pytest.param(["7000"], None, None, id="no-amount-something-left"),
        pytest.param(["7500"], None, "$0.00", id="no-amount-nothing-left"),
    ],
)
def test_g1_lifetime_dollar_maximum(history_amounts, amount, remaining):
    key, code = EAA
    history = [
        use(key, code, f"{2020 + i}-06-01", ref=f"A-{i}", amount=value)
        for i, value in enumerate(history_amounts)
    ]
    problems = check(
        use(key, code, "2026-06-01", amount=amount), history, spec(key, Kind.LIFETIME_AMOUNT_USD)
    )
    if remaining is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label == "$7,500 per lifetime"
    assert f"At most {remaining} can still be authorized." in problem.message
    assert problem.max_units is None
    for earlier in history:
        assert earlier.reference in problem.message


def test_g1_dollar_maximum_names_uses_without_an_amount():
    key, code = EAA
    history = [
        use(key, code, "2024-06-01", ref="A-1", amount="7000"),
        use(key, code, "2025-06-01", ref="A-2"),
    ]
    (problem,) = check(
        use(key, code, "2026-06-01", amount="600"), history, spec(key, Kind.LIFETIME_AMOUNT_USD)
    )
    assert "Already used: $7,000.00 (A-1 (June 1, 2024 to June 1, 2024), $7,000.00)." in problem.message
    assert "would bring it to $7,600.00" in problem.message
    assert "Not counted, no amount recorded: A-2." in problem.message


def test_g1_dollar_maximums_are_per_service():
    """Asthma remediation has its own $7,500, apart from home modifications (same HCPCS S5165)."""
    history = [use(*EAA, "2025-06-01", ref="A-EAA", amount="7500")]
    proposed = use("asthma_remediation", "S5165-U5", "2026-06-01", amount="7500")
    assert check(proposed, history, spec("asthma_remediation", Kind.LIFETIME_AMOUNT_USD)) == []


# --- per_period_count: medically tailored meals, two a day --------------------------------------------


MEALS = ("medically_tailored_meals", "S5170-U6")


@pytest.mark.parametrize(
    ("history", "proposed", "max_units"),
    [
        pytest.param([], ("2026-06-01", 90, 180), None, id="two-a-day-exactly"),
        pytest.param([], ("2026-06-01", 90, 181), 180, id="one-meal-over"),
        pytest.param([("2026-06-01", 90, 90)], ("2026-06-01", 90, 90), None, id="one-a-day-each"),
        pytest.param([("2026-06-01", 90, 90)], ("2026-06-01", 90, 91), 90, id="one-over-with-history"),
        pytest.param([("2026-06-01", 30, 60)], ("2026-07-01", 31, 62), None, id="next-month-window-slides"),
        pytest.param([("2026-06-01", 30, 60)], ("2026-06-16", 30, 60), 0, id="overlapping-days-full"),
    ],
)
def test_g1_two_meals_a_day(history, proposed, max_units):
    key, code = MEALS
    earlier = [
        use(key, code, start, days_from(start, days), units=units, ref=f"A-{i}")
        for i, (start, days, units) in enumerate(history)
    ]
    start, days, units = proposed
    problems = check(
        use(key, code, start, days_from(start, days), units=units), earlier, spec(key, Kind.PER_PERIOD_COUNT)
    )
    if max_units is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label == "2 meals per day"
    assert problem.max_units == max_units
    assert f"At most {max_units} unit" in problem.message


def test_g1_two_meals_a_day_message():
    key, code = MEALS
    (problem,) = check(
        use(key, code, "2026-06-16", "2026-07-15", units=60),
        [use(key, code, "2026-06-01", "2026-06-30", units=60, ref="A-2026-000040")],
        spec(key, Kind.PER_PERIOD_COUNT),
    )
    assert problem.message.startswith(
        "2 meals per day. On June 16, 2026 the member already has 2 meals "
        "(A-2026-000040 (June 1, 2026 to June 30, 2026): 2 meals)."
    )
    assert "would make it 4 meals" in problem.message


def test_g1_meal_limit_does_not_count_other_units():
    """A dietitian visit (per visit) or a per diem grocery code is not a meal."""
    key = MEALS[0]
    limit = spec(key, Kind.PER_PERIOD_COUNT)
    visit = use(key, "S9470-U6", "2026-06-01", units=5)
    assert check(visit, [], limit) == []
    groceries = use(key, "S9977-U7", "2026-06-01", "2026-06-30", units=30, ref="A-GROC")
    assert check(use(*MEALS, "2026-06-01", "2026-06-30", units=60), [groceries], limit) == []


# --- per_period_hours: respite, 336 hours per calendar year ----------------------------------------------


RESPITE = ("respite_services", "H0045-U6")


@pytest.mark.parametrize(
    ("history", "proposed", "max_units"),
    [
        pytest.param([], ("2026-03-01", 14), None, id="14-days-is-336-hours"),
        pytest.param([], ("2026-03-01", 15), 14, id="15-days-over"),
        pytest.param([("2026-03-01", 10)], ("2026-08-01", 4), None, id="summed-to-exactly-336"),
        pytest.param([("2026-03-01", 10)], ("2026-08-01", 5), 4, id="summed-one-day-over"),
        pytest.param([("2025-12-18", 14)], ("2026-01-01", 14), None, id="resets-on-january-1"),
        pytest.param([("2026-07-01", 14)], ("2026-12-29", 7), 0, id="new-year-span-counts-in-each-year"),
        pytest.param([("2026-12-18", 14)], ("2027-01-01", 14), None, id="next-year-fresh"),
    ],
)
def test_g1_respite_hours_per_calendar_year(history, proposed, max_units):
    key, code = RESPITE
    earlier = [
        use(key, code, start, days_from(start, days), ref=f"A-{i}") for i, (start, days) in enumerate(history)
    ]
    start, days = proposed
    problems = check(use(key, code, start, days_from(start, days)), earlier, spec(key, Kind.PER_PERIOD_HOURS))
    if max_units is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label == "336 hours per calendar year"
    assert problem.max_units == max_units


def test_g1_respite_message_names_the_year_and_the_uses():
    key, code = RESPITE
    (problem,) = check(
        use(key, code, "2026-08-01", "2026-08-05"),
        [use(key, code, "2026-03-01", "2026-03-10", ref="A-2026-000007")],
        spec(key, Kind.PER_PERIOD_HOURS),
    )
    assert problem.message == (
        "336 hours per calendar year. In calendar year 2026 the member already has 240 hours "
        "(A-2026-000007 (March 1, 2026 to March 10, 2026): 240 hours). This request (A-NEW, August 1, 2026 "
        "to August 5, 2026, 120 hours) would make it 360 hours. At most 4 units (per diem) can be "
        "authorized for these dates."
    )


@pytest.mark.parametrize(
    ("unit", "units", "max_units"),
    [
        ("15 minutes", 1344, None),
        ("15 minutes", 1345, 1344),
        ("per hour", 336, None),
        ("per hour", 337, 336),
    ],
)
def test_g1_hours_convert_from_the_billing_unit(unit, units, max_units):
    proposed = dataclasses.replace(use(*RESPITE, "2026-03-01", "2026-06-30"), billing_unit=unit, units=units)
    problems = check(proposed, [], spec("respite_services", Kind.PER_PERIOD_HOURS))
    assert [p.max_units for p in problems] == ([] if max_units is None else [max_units])


def test_g1_hours_fall_back_to_the_dates_when_the_unit_has_none():
    """A per-month or unit-less code: 24 hours a day of its dates; units cannot be computed."""
    proposed = dataclasses.replace(
        use(*RESPITE, "2026-03-01", "2026-03-15"), billing_unit="per month", units=1
    )
    (problem,) = check(proposed, [], spec("respite_services", Kind.PER_PERIOD_HOURS))
    assert problem.max_units is None
    assert "360 hours" in problem.message
    assert "At most 336 hours can be authorized" in problem.message


# --- rolling_window_months: six months in a rolling 12 (policy_updates item 4) -------------------------


RECUPERATIVE = ("recuperative_care", "T2033-U6")
POST_HOSPITAL = ("short_term_post_hospitalization_housing", "H0043-U3")
POST_HOSPITAL_MONTHLY = ("short_term_post_hospitalization_housing", "H0044-U3")
RENT = ("transitional_rent", "H0043-U2")
RENT_MONTHLY = ("transitional_rent", "H0044-U6")


def six_in_twelve(service: tuple[str, str]) -> LimitSpec:
    return spec(service[0], Kind.ROLLING_WINDOW_MONTHS)


@pytest.mark.parametrize(
    ("service", "history", "proposed", "max_units"),
    [
        pytest.param(RECUPERATIVE, [], ("2026-01-01", 182), None, id="182-days-alone"),
        pytest.param(RECUPERATIVE, [], ("2026-01-01", 183), 182, id="183-days-alone"),
        pytest.param(
            RENT,
            [(RECUPERATIVE, "2026-01-01", 59), (POST_HOSPITAL, "2026-03-01", 61)],
            ("2026-05-01", 62),
            None,
            id="three-services-exactly-182",
        ),
        pytest.param(
            RENT,
            [(RECUPERATIVE, "2026-01-01", 59), (POST_HOSPITAL, "2026-03-01", 61)],
            ("2026-05-01", 63),
            62,
            id="three-services-one-day-over",
        ),
        pytest.param(
            RENT_MONTHLY,
            [(RECUPERATIVE, "2026-01-01", 59), (POST_HOSPITAL, "2026-03-01", 61)],
            ("2026-05-01", 92),
            2,
            id="per-month-code-max-in-months",
        ),
        pytest.param(
            POST_HOSPITAL,
            [(RECUPERATIVE, "2026-01-01", 90), (RENT, "2026-02-01", 59)],
            ("2026-04-01", 92),
            None,
            id="overlapping-history-counted-once",
        ),
        pytest.param(
            POST_HOSPITAL,
            [(RECUPERATIVE, "2026-01-01", 90), (RENT, "2026-02-01", 59)],
            ("2026-04-01", 93),
            92,
            id="overlapping-history-one-over",
        ),
        pytest.param(
            RECUPERATIVE,
            [(RECUPERATIVE, "2026-01-01", 90)],
            ("2026-02-01", 151),
            None,
            id="overlapping-the-proposed-counted-once",
        ),
        pytest.param(
            RECUPERATIVE,
            [(RECUPERATIVE, "2025-01-01", 181)],
            ("2025-07-01", 1),
            None,
            id="window-before-the-stay-ends-one-day-fits",
        ),
        pytest.param(
            RECUPERATIVE,
            [(RECUPERATIVE, "2025-01-01", 181)],
            ("2025-07-01", 2),
            1,
            id="window-before-the-stay-ends-two-days-over",
        ),
        pytest.param(
            RECUPERATIVE,
            [(RECUPERATIVE, "2025-01-01", 181)],
            ("2026-01-01", 181),
            None,
            id="a-year-later-the-window-slides",
        ),
        pytest.param(
            RECUPERATIVE,
            [(RECUPERATIVE, "2025-01-01", 181)],
            ("2025-12-31", 183),
            182,
            id="a-year-later-still-182-at-most",
        ),
        pytest.param(
            RECUPERATIVE,
            [(("housing_transition_navigation", "H0043-U6"), "2026-01-01", 300)],
            ("2026-01-01", 182),
            None,
            id="other-services-not-counted",
        ),
    ],
)
def test_g1_six_months_in_a_rolling_twelve(service, history, proposed, max_units):
    """policy_updates item 4: recuperative care, post-hospitalization housing and Transitional Rent
    together at most six months (182 days) in any 365 days."""
    earlier = [
        use(*other, start, days_from(start, days), ref=f"A-{i}")
        for i, (other, start, days) in enumerate(history)
    ]
    start, days = proposed
    proposed_use = use(*service, start, days_from(start, days), units=days if service[1] != "H0044-U6" else 3)
    problems = check(proposed_use, earlier, six_in_twelve(service))
    if max_units is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label.startswith("6 months in a rolling 12 months (shared with")
    assert problem.max_units == max_units


def test_g1_six_months_message_names_the_limit_the_services_and_every_reference():
    history = [
        use(*RECUPERATIVE, "2026-01-01", "2026-02-28", ref="A-2026-000101"),
        use(*POST_HOSPITAL, "2026-03-01", "2026-04-30", ref="A-2026-000102"),
    ]
    (problem,) = check(
        use(*RENT, "2026-05-01", "2026-07-02", ref="A-2026-000150"), history, six_in_twelve(RENT)
    )
    label = (
        "6 months in a rolling 12 months (shared with Recuperative Care (Medical Respite) and "
        "Short-Term Post-Hospitalization Housing)"
    )
    assert problem.limit_label == label
    assert problem.message == (
        f"{label}: at most 182 days (6 months) of Transitional Rent, Recuperative Care (Medical Respite) and "
        "Short-Term Post-Hospitalization Housing in any 365 days. In the 365 days from July 3, 2025 to "
        "July 2, 2026 the member already has 120 days: A-2026-000101 (Recuperative Care (Medical Respite), "
        "January 1, 2026 to February 28, 2026): 59 days; A-2026-000102 (Short-Term Post-Hospitalization "
        "Housing, March 1, 2026 to April 30, 2026): 61 days. This request (A-2026-000150, May 1, 2026 to "
        "July 2, 2026, 63 days) would make it 183 days. At most 62 days can be authorized from May 1, 2026, "
        "to July 1, 2026."
    )
    assert problem.max_units == 62


def test_g1_six_months_message_says_overlapping_days_count_once():
    history = [
        use(*RECUPERATIVE, "2026-01-01", "2026-03-31", ref="A-1"),
        use(*RENT, "2026-02-01", "2026-03-31", ref="A-2"),
    ]
    (problem,) = check(use(*POST_HOSPITAL, "2026-04-01", "2026-12-31"), history, six_in_twelve(POST_HOSPITAL))
    assert "already has 90 days" in problem.message
    assert "(days that overlap counted once)" in problem.message


def test_g1_nothing_left_says_so():
    history = [use(*RECUPERATIVE, "2026-01-01", days_from("2026-01-01", 182), ref="A-1")]
    (problem,) = check(use(*RENT, "2026-07-02", "2026-07-31"), history, six_in_twelve(RENT))
    assert problem.max_units == 0
    assert problem.message.endswith("Nothing can be authorized from July 2, 2026.")


# --- rolling_window_days (no catalog service uses it yet) ------------------------------------------------


def test_g1_days_within_a_rolling_window():
    limit = limit_spec(
        kind=Kind.ROLLING_WINDOW_DAYS, value=30, window_days=90, service_key="recuperative_care"
    )
    assert limit.label == "30 days within any 90 days"
    history = [use(*RECUPERATIVE, "2026-01-01", "2026-01-20", ref="A-1")]
    assert check(use(*RECUPERATIVE, "2026-02-01", "2026-02-10"), history, limit) == []
    (problem,) = check(use(*RECUPERATIVE, "2026-02-01", "2026-02-11"), history, limit)
    assert problem.max_units == 10
    # 90 days after the first stay began, the window has slid past it.
    assert check(use(*RECUPERATIVE, "2026-04-21", "2026-05-20"), history, limit) == []


# --- max_continuous_days: recuperative care, 90 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "proposed", "max_units"),
    [
        pytest.param([], ("2026-01-01", 90), None, id="90-days"),
        pytest.param([], ("2026-01-01", 91), 90, id="91-days"),
        pytest.param([("2026-01-01", 59)], ("2026-03-01", 31), None, id="adjoining-to-exactly-90"),
        pytest.param([("2026-01-01", 59)], ("2026-03-01", 32), 31, id="adjoining-one-over"),
        pytest.param([("2026-01-01", 59)], ("2026-03-02", 60), None, id="a-one-day-break-starts-anew"),
        pytest.param([("2026-01-01", 59)], ("2026-02-01", 59), None, id="overlapping-counted-once"),
        pytest.param([("2026-01-01", 59)], ("2026-02-01", 60), 59, id="overlapping-one-over"),
        pytest.param([("2026-03-01", 31)], ("2026-01-01", 59), None, id="a-later-stay-adjoins-exactly-90"),
        pytest.param([("2026-03-01", 32)], ("2026-01-01", 59), 58, id="a-later-stay-adjoins-leave-a-break"),
        pytest.param([("2025-12-01", 60), ("2026-02-01", 28)], ("2026-01-30", 2), None, id="bridging-is-90"),
        pytest.param([("2025-12-01", 60), ("2026-02-01", 29)], ("2026-01-30", 2), 1, id="bridging-over"),
    ],
)
def test_g1_recuperative_care_90_continuous_days(history, proposed, max_units):
    key, code = RECUPERATIVE
    earlier = [
        use(key, code, start, days_from(start, days), ref=f"A-{i}") for i, (start, days) in enumerate(history)
    ]
    start, days = proposed
    problems = check(
        use(key, code, start, days_from(start, days)), earlier, spec(key, Kind.MAX_CONTINUOUS_DAYS)
    )
    if max_units is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label == "90 continuous days"
    assert problem.max_units == max_units


def test_g1_continuous_days_message():
    key, code = RECUPERATIVE
    (problem,) = check(
        use(key, code, "2026-03-01", "2026-04-01"),
        [use(key, code, "2026-01-01", "2026-02-28", ref="A-2026-000200")],
        spec(key, Kind.MAX_CONTINUOUS_DAYS),
    )
    assert problem.message == (
        "90 continuous days: a stay may last at most 90 days without a break. With A-2026-000200 "
        "(January 1, 2026 to February 28, 2026), this request (A-NEW, March 1, 2026 to April 1, 2026) would "
        "make one stay of 91 days, from January 1, 2026 to April 1, 2026. At most 31 days can be authorized "
        "from March 1, 2026, to March 31, 2026."
    )


def test_g1_continuous_days_count_only_the_service_itself():
    """The 90 days are recuperative care's own limit: adjoining post-hospitalization housing is apart."""
    history = [use(*POST_HOSPITAL, "2026-01-01", "2026-02-28", ref="A-1")]
    limit = spec("recuperative_care", Kind.MAX_CONTINUOUS_DAYS)
    assert check(use(*RECUPERATIVE, "2026-03-01", "2026-05-29"), history, limit) == []


def test_g1_recuperative_care_reports_both_of_its_limits():
    history = [use(*RENT, "2026-01-01", "2026-04-30", ref="A-RENT")]
    problems = limit_problems(
        proposed=use(*RECUPERATIVE, "2026-05-01", "2026-08-31"),
        history=history,
        limits=specs("recuperative_care"),
    )
    assert [p.limit_label.split(" (")[0] for p in problems] == [
        "6 months in a rolling 12 months",
        "90 continuous days",
    ]
    assert [p.max_units for p in problems] == [62, 90]


# --- max_stay_hours: sobering centers --------------------------------------------------------------------


SOBERING = ("sobering_centers", "H0014-U6")


@pytest.mark.parametrize(
    ("start", "end", "units", "billing", "max_units"),
    [
        pytest.param("2026-03-01", "2026-03-01", 1, None, None, id="same-day-visit"),
        pytest.param("2026-03-01", "2026-03-02", 1, None, None, id="overnight-visit-may-be-under-24h"),
        pytest.param("2026-03-01", "2026-03-03", 1, None, "none", id="three-calendar-days-is-over-24h"),
        pytest.param("2026-03-01", "2026-03-05", 3, None, None, id="several-visits-unknown-lengths"),
        pytest.param("2026-03-01", "2026-03-02", 24, "per hour", None, id="24-hours"),
        pytest.param("2026-03-01", "2026-03-02", 25, "per hour", 24, id="25-hours"),
        pytest.param("2026-03-01", "2026-03-02", 96, "15 minutes", None, id="96-quarter-hours"),
        pytest.param("2026-03-01", "2026-03-02", 97, "15 minutes", 96, id="97-quarter-hours"),
        pytest.param("2026-03-01", "2026-03-02", 2, "per diem", 1, id="two-per-diem-units"),
    ],
)
def test_g1_sobering_center_stay_hours(start, end, units, billing, max_units):
    proposed = use(*SOBERING, start, end, units=units)
    if billing:
        proposed = dataclasses.replace(proposed, billing_unit=billing)
    history = [use(*SOBERING, "2026-02-01", "2026-02-09", ref="A-OLD")]  # an earlier stay does not matter
    problems = check(proposed, history, spec("sobering_centers", Kind.MAX_STAY_HOURS))
    if max_units is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.limit_label == "24 hours per stay"
    assert problem.max_units == (None if max_units == "none" else max_units)
    assert "a stay may last at most 24 hours" in problem.message


# --- per_period_count in "times" (no catalog service uses it yet) ---------------------------------------


@pytest.mark.parametrize(
    ("history", "proposed", "fails"),
    [
        pytest.param([], "2026-03-01", False, id="first"),
        pytest.param(["2026-01-10"], "2026-03-01", True, id="second-in-the-year"),
        pytest.param(["2025-12-10"], "2026-03-01", False, id="last-year"),
        pytest.param(["2025-12-20"], "2026-01-01", False, id="december-then-january-adjoining-is-one"),
    ],
)
def test_g1_times_per_calendar_year(history, proposed, fails):
    limit = limit_spec(
        kind=Kind.PER_PERIOD_COUNT, value=1, unit="times", calendar_year=True, service_key="housing_deposits"
    )
    key, code = DEPOSITS
    earlier = [use(key, code, start, days_from(start, 12), ref=f"A-{i}") for i, start in enumerate(history)]
    problems = check(use(key, code, proposed, days_from(proposed, 10)), earlier, limit)
    assert [p.max_units for p in problems] == ([0] if fails else [])
    if fails:
        assert "In calendar year 2026 the member already had A-0" in problems[0].message


# --- common behaviour ------------------------------------------------------------------------------------


def test_g1_the_proposed_use_in_the_history_is_not_counted_twice():
    proposed = use(*RESPITE, "2026-03-01", "2026-03-14", ref="A-2026-000300")
    history = [proposed, use(*RESPITE, "2026-03-01", "2026-03-14", ref="A-2026-000300")]
    assert limit_problems(proposed=proposed, history=history, limits=specs("respite_services")) == []
    key, code = DEPOSITS
    again = use(key, code, "2026-03-01", ref="A-2026-000301")
    assert limit_problems(proposed=again, history=[again], limits=specs(key)) == []


def test_g1_limits_of_another_service_are_skipped():
    proposed = use(*RESPITE, "2026-01-01", "2026-12-31")
    assert limit_problems(proposed=proposed, history=[], limits=specs("recuperative_care")) == []


def test_g1_every_limit_kind_has_a_check():
    from cshub.authorizations import limits

    assert set(limits._CHECKS) == set(Kind.values)


@settings(max_examples=300, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(0, 80), st.integers(1, 25)), max_size=5),
    start=st.integers(0, 80),
    length=st.integers(1, 40),
    limit=st.integers(1, 30),
    window=st.integers(1, 40),
)
def test_g1_rolling_window_matches_counting_every_window(spans, start, length, limit, window):
    """The rolling-window check against the plainest reading: for every window of `window` days holding
    a requested day, count the distinct days covered; the longest request from `start` that fits."""
    origin = date(2026, 1, 1)
    history = [
        Use(
            "recuperative_care",
            origin + timedelta(first),
            origin + timedelta(first + days - 1),
            days,
            "per diem",
            f"A-{i}",
        )
        for i, (first, days) in enumerate(spans)
    ]
    covered = {first + k for first, days in spans for k in range(days)}

    def fits(days: int) -> bool:
        asked = set(range(start, start + days))
        return days == 0 or all(
            len((covered | asked) & set(range(low, low + window))) <= limit
            for low in range(start - window + 1, start + days)
        )

    longest = max(days for days in range(length + 1) if fits(days))
    limit_row = limit_spec(
        kind=Kind.ROLLING_WINDOW_DAYS, value=limit, window_days=window, service_key="recuperative_care"
    )
    proposed = Use(
        "recuperative_care",
        origin + timedelta(start),
        origin + timedelta(start + length - 1),
        length,
        "per diem",
        "A-NEW",
    )
    problems = check(proposed, history, limit_row)
    assert [p.max_units for p in problems] == ([] if longest == length else [longest])


# --- the database side ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_g1_limit_specs_for_reads_the_loaded_catalog_like_the_files():
    catalog_load()
    for service in Service.objects.all():
        assert limit_specs_for(service) == specs(service.key), service.key


@pytest.mark.django_db
def test_g1_limit_specs_for_a_group_counts_every_service_of_the_group():
    catalog_load()
    (shared, continuous) = limit_specs_for(Service.objects.get(key="recuperative_care"))
    assert shared.service_keys == ROOM_AND_BOARD
    assert continuous.service_keys == {"recuperative_care"}
    assert limit_specs_for(Service.objects.get(key="housing_transition_navigation")) == []


def _authorization(world, key: str, code: str, start: str, end: str, number: str, previous=None, **extra):
    hcpcs, modifier = code.split("-")
    service_code = ServiceCode.objects.get(hcpcs=hcpcs, modifier=modifier)
    now = clock.now()
    request = AuthorizationRequest.objects.create(
        number=f"R{number}",
        plan=world.plan,
        member=world.member_a,
        service=service_code.service,
        code=service_code,
        channel="portal",
        requesting_organization=world.provider_a,
        requesting_npi="1234567893",
        servicing_organization=world.provider_a,
        servicing_npi="1234567893",
        units=(d(end) - d(start)).days + 1,
        start_date=d(start),
        end_date=d(end),
        urgency="routine",
        received_at=now,
        due_at=now,
        previous_authorization=previous,
    )
    return Authorization.objects.create(
        number=number,
        request=request,
        member=world.member_a,
        service=service_code.service,
        code=service_code,
        servicing_organization=world.provider_a,
        plan=world.plan,
        units=(d(end) - d(start)).days + 1,
        start_date=d(start),
        end_date=d(end),
        **extra,
    )


@pytest.mark.django_db
def test_g1_member_history_reads_authorizations_and_service_records(world, django_assert_num_queries):
    catalog_load()
    first = _authorization(world, "recuperative_care", "T2033-U6", "2026-01-01", "2026-02-28", "A-1")
    _authorization(world, "transitional_rent", "H0044-U6", "2026-03-01", "2026-04-30", "A-2", previous=first)
    _authorization(
        world, "recuperative_care", "T2033-U6", "2026-05-01", "2026-05-31", "A-VOID", voided_at=clock.now()
    )
    excluded = _authorization(world, "recuperative_care", "T2033-U6", "2026-06-01", "2026-06-30", "A-3")
    _authorization(world, "respite_services", "H0045-U6", "2026-01-01", "2026-01-05", "A-OTHER")
    sobering = ServiceCode.objects.get(hcpcs="H0014", modifier="U6")
    recuperative = ServiceCode.objects.get(hcpcs="T2033", modifier="U6")
    common = {"member": world.member_a, "organization": world.provider_b, "plan": world.plan}
    ServiceRecord.objects.create(
        service=sobering.service, code=sobering, service_date=d("2026-02-01"), **common
    )
    ServiceRecord.objects.create(
        service=recuperative.service, code=recuperative, service_date=d("2026-07-01"), units=3, **common
    )
    ServiceRecord.objects.create(
        service=recuperative.service,
        code=recuperative,
        service_date=d("2026-07-01"),
        units=3,
        member=world.member_b,
        organization=world.provider_b,
        plan=world.plan,
    )

    with django_assert_num_queries(2):
        uses = member_history(
            world.member_a,
            service_keys=ROOM_AND_BOARD | {"sobering_centers"},
            exclude_request_id=excluded.request_id,
        )
    by_reference = {u.reference: u for u in uses}
    assert {"A-1", "A-2"} <= set(by_reference)
    assert {"A-VOID", "A-3", "A-OTHER"}.isdisjoint(by_reference)
    assert by_reference["A-2"] == Use(
        "transitional_rent", d("2026-03-01"), d("2026-04-30"), 61, "per month", "A-2", continues="A-1"
    )
    records = [u for u in uses if u.reference.startswith("service record")]
    assert sorted((u.service_key, u.start, u.end, u.billing_unit) for u in records) == [
        ("recuperative_care", d("2026-07-01"), d("2026-07-03"), "per diem"),  # 3 per diem units: 3 days
        ("sobering_centers", d("2026-02-01"), d("2026-02-01"), "per visit"),
    ]
    # The history feeds the check: 59 + 61 + 3 days used, so 59 are left of the 182.
    proposed = use(*RENT, "2026-08-01", "2026-12-31")
    (problem,) = limit_problems(proposed=proposed, history=uses, limits=specs("transitional_rent"))
    assert problem.max_units == 59
