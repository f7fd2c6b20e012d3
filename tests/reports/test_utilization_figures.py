"""Rules D6, D7: the monthly utilization figures of provider A under plan 1 for October 2026, computed from
the known world of tests/reports/conftest.py (each expected number is derived there), with set-based
queries (the count does not grow with the rows), and its CSV."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cshub.reports import selectors, services
from cshub.reports.periods import Month
from tests.reports.conftest import at, attempt, referral

OCTOBER = Month(2026, 10)


def figures(uw, provider=None, plan=None, month=OCTOBER):
    return selectors.utilization_compute(
        provider=provider or uw.provider_a, plan=plan or uw.plan, month=month
    )


def test_d6_referrals_and_outreach_of_the_month(uw):
    f = figures(uw)
    assert f["month"] == "2026-10" and f["month_label"] == "October 2026"
    assert f["referrals"]["received"] == 3  # R1, R2, R3 (R7 is provider B's, R8 plan 2's)
    services_ = {row["service"]: row["count"] for row in f["referrals"]["by_service"]}
    assert services_ == {uw.nav.name: 2, uw.meals.name: 1}
    assert f["referrals"]["closed"] == 2  # R2 (no longer interested), R4 (unable to reach)
    assert {r["status"]: r["count"] for r in f["referrals"]["closed_by_status"]} == {
        "no_longer_interested": 1,
        "unable_to_reach": 1,
    }
    o = f["outreach"]
    assert o["attempts"] == 6  # R1 x3, R2, R4 (Oct 2), R5 (Oct 25)
    assert o["attempts_reached"] == 1  # R1 in person
    assert o["attempts_declined"] == 1  # R2
    assert o["members_reached"] == 2  # R1 and R2 were reached (R2 to say no)
    assert o["referrals_attempted"] == 4
    assert o["unable_to_reach"] == 1 and o["declined"] == 1
    assert o["ended"] == {"engaged": 0, "unreachable": 1, "declined": 1, "disengaged": 0, "exclusion": 0}


def test_d6_enrollments_authorizations_services_and_claims(uw):
    f = figures(uw)
    assert f["enrollments"] == {"new": 1, "ended": 1, "active_at_month_end": 1}  # E1 new, E2 ended; E3 plan 2
    assert f["authorizations"] == {
        "requested": 6,  # Q1, Q2, Q3, Q4, Q6, Q7 (Q5 came in September, Q8 is provider B's)
        "approved": 2,  # Q1, Q6 (Q5 was decided in November)
        "partially_approved": 1,
        "denied": 1,
        "withdrawn": 1,
        "presumptive": 1,
        "pending_at_month_end": 2,  # Q4 open, Q5 decided after October
    }
    assert f["services"] == {
        "authorizations_in_force": 3,  # AU1, AU3, AU6 (AU5 starts in November)
        "members_authorized": 2,
        "authorizations_started": 2,  # AU1, AU6
        "service_records": 1,
        "service_record_units": 3,
    }
    assert f["claims"] == {
        "received": 2,  # C1, C2 (C4 is void, C5 provider B's, C3 came in September)
        "lines": 3,
        "billed": "270.00",
        "paid_to_date": "125.00",
        "denied_lines": 1,
        "pended_lines": 1,
        "paid": 2,  # C1 and C3 were paid in October
        "amount_paid": "375.00",
    }


def test_d6_d7_timeliness(uw):
    t = figures(uw)["timeliness"]
    # Rule O3: R4 and R5 had their 30-day window end in October (R6 was withdrawn before any outreach was
    # due); R4 made 5 attempts in 4 ways in its window, R5's only attempt came after it.
    assert (t["outreach_due"], t["outreach_started_in_window"], t["outreach_timely"]) == (2, 1, 1)
    assert t["outreach_timely_pct"] == 50.0
    assert t["median_days_to_first_outreach"] == 1.5  # R1 one day, R2 two days
    # Rule A8: Q1 and Q3 on time, Q2 late; the presumptive Q6 and the withdrawn Q7 are left out.
    assert (t["authorizations_decided"], t["authorizations_on_time"]) == (3, 2)
    # Rule C5: C1 paid before its due date, C3 after.
    assert (t["claims_paid"], t["claims_paid_on_time"], t["claims_paid_on_time_pct"]) == (2, 1, 50.0)


def test_d6_trend_and_other_months(uw):
    f = figures(uw)
    assert f["trend"]["months"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert f["trend"]["referrals_received"] == [0, 0, 0, 0, 3, 3]  # R4, R5, R6 in September
    assert f["trend"]["enrollments_new"] == [0, 0, 0, 1, 0, 1]
    assert f["trend"]["authorization_requests"] == [0, 0, 0, 0, 1, 6]
    assert f["trend"]["claims_received"] == [0, 0, 0, 0, 1, 2]
    sept = figures(uw, month=Month(2026, 9))
    assert sept["referrals"]["received"] == 3 and sept["referrals"]["closed"] == 1  # R6 withdrawn
    plan2 = figures(uw, plan=uw.plan2)
    assert plan2["referrals"]["received"] == 1 and plan2["enrollments"]["new"] == 1  # R8, E3
    b = figures(uw, provider=uw.provider_b)
    assert b["referrals"]["received"] == 1 and b["claims"]["received"] == 1


def test_d6_queries_are_set_based(uw):
    """The number of queries is the same with many more rows (no query per referral, attempt or claim)."""
    with CaptureQueriesContext(connection) as before:
        figures(uw)
    for day in range(1, 25):
        r = referral(uw, received=at(10, day), status="accepted")
        attempt(r, at(10, day, 15))
        attempt(r, at(10, day, 16), "text")
    with CaptureQueriesContext(connection) as after:
        again = figures(uw)
    assert again["referrals"]["received"] == 3 + 24
    assert len(after.captured_queries) == len(before.captured_queries) <= 25


def test_d6_csv_has_one_row_per_measure(uw):
    f = figures(uw)
    rows = list(csv.reader(io.StringIO(services.utilization_csv(f).decode())))
    assert rows[0] == [
        "provider_name",
        "provider_npi",
        "plan_name",
        "plan_code",
        "month",
        "section",
        "measure",
        "value",
    ]
    by_measure = {(r[5], r[6]): r[7] for r in rows[1:]}
    assert all(
        r[:5] == [uw.provider_a.name, uw.provider_a.npi, uw.plan.name, "GS1", "2026-10"] for r in rows[1:]
    )
    assert by_measure[("referrals", "received")] == "3"
    assert by_measure[("referrals", f"received.{uw.nav.name}")] == "2"
    assert by_measure[("outreach", "ended.unreachable")] == "1"
    assert by_measure[("authorizations", "denied")] == "1"
    assert by_measure[("claims", "amount_paid")] == "375.00"
    assert by_measure[("timeliness", "outreach_timely")] == "1"
    assert by_measure[("timeliness", "authorizations_on_time_pct")] == "66.7"
