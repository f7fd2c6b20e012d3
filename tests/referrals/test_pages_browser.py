"""The referral work pages in a real browser (Debian's chromium through Playwright): htmx swaps a refused
form's errors into the page (the 422 is not dropped), a status change in place, and the intake queue's
quick Accept swapping just its row."""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client

from cshub.referrals.models import Referral
from tests.referrals.factories import make_referral

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "Debian's chromium is missing: `make test-browser` installs it (apt-get install chromium)."
        )
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


def signed_in_page(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def test_r5_status_form_shows_errors_in_place_then_changes_the_status(live_server, browser, rw):
    from playwright.sync_api import expect

    referral = make_referral(rw)
    page = signed_in_page(browser, live_server, rw.bob)
    page.goto(f"{live_server.url}/referrals/{referral.uuid}/")
    panel = page.locator("#panel-status")
    panel.get_by_label("New status").select_option("no_capacity")
    with page.expect_response(lambda r: "/status/" in r.url) as answer:
        panel.get_by_role("button", name="Save status").click()
    assert answer.value.status == 422
    expect(page.locator("#panel-status [data-testid=field-error]")).to_contain_text(
        "A reason is required for this status.", timeout=15000
    )
    assert page.url.endswith(f"/referrals/{referral.uuid}/")  # swapped in place, no navigation
    panel = page.locator("#panel-status")
    panel.get_by_label("New status").select_option("no_capacity")
    panel.get_by_label("Reason").fill("Waitlist full")
    panel.get_by_role("button", name="Save status").click()
    expect(page.locator("[data-testid=notice]")).to_contain_text("is now No capacity", timeout=15000)
    expect(page.locator("h1 [data-testid=status]")).to_have_text("No capacity")
    assert Referral.objects.get(pk=referral.pk).status == "no_capacity"


def test_r5_quick_accept_in_the_intake_queue_swaps_the_row(live_server, browser, rw):
    from playwright.sync_api import expect

    first = make_referral(rw)
    make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    page = signed_in_page(browser, live_server, rw.bob)
    page.goto(f"{live_server.url}/referrals/intake/")
    row = page.locator(f"#intake-{first.uuid}")
    row.get_by_role("button", name="Accept").click()
    expect(page.locator(f"#intake-{first.uuid} [data-testid=row-notice]")).to_contain_text(
        "is now Accepted", timeout=15000
    )
    expect(page.locator("[data-testid=intake-row]")).to_have_count(2)  # the other row is untouched
    assert Referral.objects.get(pk=first.pk).status == "accepted"
