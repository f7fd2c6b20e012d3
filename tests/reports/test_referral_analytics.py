"""Rule D7: the plan's referral analytics (by status, service, county, source and channel over time, closure
rates, median days to first outreach and to closure) are at most a day old: a daily snapshot, recomputed
on demand when the latest is older than a day."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from cshub.reports import selectors, services, tasks
from cshub.reports.models import ReferralSnapshot
from tests.reports.conftest import referral


def series(figures, key):
    return {s["label"]: s["total"] for s in figures[key]["series"]}


def test_d7_figures_from_the_known_world(uw):
    f = selectors.referral_analytics_compute(plan=uw.plan)
    t = f["totals"]
    # Plan 1 received R1-R7 (R8 is plan 2's); R2, R4 and R6 are closed; none got help yet.
    assert (t["received"], t["open"], t["closed"], t["got_help"]) == (7, 4, 3, 0)
    assert t["closure_rate_pct"] == 42.9 and t["got_help_pct_of_closed"] == 0.0
    # First outreach after 1 (R1), 2 (R2), 1 (R4) and 35 days (R5); closure after 2.08 (R2), 35 (R4), 1 (R6).
    assert t["median_days_to_first_outreach"] == 1.5
    assert t["median_days_to_closure"] == 2.1
    assert series(f, "by_service") == {uw.nav.name: 4, uw.meals.name: 2, uw.recup.name: 1}
    assert series(f, "by_status") == {
        "Pending": 2,
        "Eligible": 1,
        "Accepted": 1,
        "No longer interested": 1,
        "Unable to reach": 1,
        "Closed": 1,
    }
    assert series(f, "by_county") == {"Sacramento": 7}
    assert series(f, "by_source") == {"Hospital": 7}
    assert series(f, "by_channel") == {"Referrer portal": 7}
    months = f["months"]
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    sep, oct_ = months.index("2026-09"), months.index("2026-10")
    by_month = f["closure_by_month"]
    assert (by_month["received"][sep], by_month["closed"][sep]) == (3, 2)
    assert (by_month["received"][oct_], by_month["closed"][oct_]) == (4, 1)
    assert by_month["closure_rate_pct"][oct_] == 25.0
    assert by_month["median_days_to_first_outreach"][sep] == 18.0  # R4 1 day, R5 35 days
    nav_by_month = next(s for s in f["by_service"]["series"] if s["label"] == uw.nav.name)["data"]
    assert (nav_by_month[sep], nav_by_month[oct_]) == (2, 2)


def test_d7_snapshot_is_at_most_a_day_old(client, uw, frozen_clock):
    client.force_login(uw.director)
    page = client.get(reverse("reports:referrals"))
    assert page.status_code == 200
    assert b"As of 11/23/2026 9:00 AM Pacific" in page.content
    assert b'data-testid="total-received">7<' in page.content
    first = ReferralSnapshot.objects.get(plan=uw.plan)

    # A referral arrives; within the day the page shows the snapshot as it was (and says when).
    referral(uw, received=dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC))
    frozen_clock.shift(dt.timedelta(hours=23))
    client.force_login(uw.director)  # a session lasts 8 hours
    page = client.get(reverse("reports:referrals"))
    assert b"As of 11/23/2026 9:00 AM Pacific" in page.content
    assert b'data-testid="total-received">7<' in page.content
    assert ReferralSnapshot.objects.count() == 1

    # More than a day later the page recomputes before it shows anything.
    frozen_clock.shift(dt.timedelta(hours=2))
    client.force_login(uw.director)
    page = client.get(reverse("reports:referrals"))
    assert b"As of 11/24/2026 10:00 AM Pacific" in page.content
    assert b'data-testid="total-received">8<' in page.content
    assert ReferralSnapshot.objects.filter(plan=uw.plan).count() == 2
    latest = selectors.latest_snapshot(plan=uw.plan)
    assert latest.computed_at > first.computed_at and latest.day == dt.date(2026, 11, 24)


def test_d7_daily_job_refreshes_every_plan_once_a_day(uw, frozen_clock):
    assert tasks.refresh_referral_snapshots.call_local() == 2  # plan 1 and plan 2
    frozen_clock.shift(dt.timedelta(hours=1))
    assert services.referral_snapshots_run() == 2  # the same day: the day's row is replaced
    assert ReferralSnapshot.objects.count() == 2
    snap = ReferralSnapshot.objects.get(plan=uw.plan2)
    assert snap.figures["totals"]["received"] == 1  # R8
    assert selectors.snapshot_is_fresh(snap)
    frozen_clock.shift(dt.timedelta(hours=24))
    assert not selectors.snapshot_is_fresh(snap)


def test_d7_api_and_csv(client, uw):
    client.force_login(uw.supervisor)
    body = client.get("/api/v1/reports/referrals").json()
    assert body["as_of"].startswith("2026-11-23T17:00") and body["figures"]["totals"]["received"] == 7
    csv = client.get(reverse("reports:referrals"), {"format": "csv"})
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == "dimension,label,month,referrals"
    assert "county,Sacramento,2026-10,4" in lines and "source,Hospital,2026-09,3" in lines
