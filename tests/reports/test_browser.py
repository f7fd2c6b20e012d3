"""The report charts in a real browser (Debian's chromium through Playwright): Chart.js draws every chart of
the utilization page (rule D6) and of the referral analytics (rule D7) from the page's own numbers."""

from __future__ import annotations

import os

import pytest

from tests.referrals.test_pages_browser import browser, signed_in_page  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHARTS = "Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => !!Chart.getChart(c))"


def test_d6_d7_charts_are_drawn(live_server, browser, uw):  # noqa: F811
    page = signed_in_page(browser, live_server, uw.director)
    page.goto(f"{live_server.url}/reports/utilization/?provider={uw.provider_a.uuid}&month=2026-10")
    page.wait_for_load_state("load")
    assert page.evaluate(CHARTS) == [True, True, True, True]
    if os.environ.get("CSHUB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CSHUB_SCREENSHOTS"], "utilization.png"), full_page=True)
    page.goto(f"{live_server.url}/reports/referrals/")
    page.wait_for_load_state("load")
    assert page.evaluate(CHARTS) == [True] * 7
    assert "As of 11/23/2026" in page.locator("[data-testid=as-of]").inner_text()
    if os.environ.get("CSHUB_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CSHUB_SCREENSHOTS"], "referrals.png"), full_page=True)
