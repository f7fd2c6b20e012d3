"""The provider picker in a real browser (Debian's chromium through Playwright): htmx refreshes the list
when the service or the county changes, on the referrer portal and on the public self-referral form."""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client

from cshub.referrals.models import Referral

# serialized_rollback: the counties and the other migration-loaded rows are restored for each test, and the
# flush after it does not re-create content types that the next serialized test restores.
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


def destination_names(page) -> list[str]:
    return [t.split(" · ")[0].strip() for t in page.locator("[data-testid=destination]").all_inner_texts()]


def test_r1_portal_provider_list_follows_service_and_county_then_the_referral_is_sent(
    live_server, browser, rw
):
    from playwright.sync_api import expect

    rw.intake_a.counties.set([])  # provider A now takes referrals from every county
    rw.intake_b.counties.set(rw.intake_a.counties.model.objects.filter(name="Yolo"))
    page = signed_in_page(browser, live_server, rw.dana)
    page.goto(f"{live_server.url}/referrals/new/")
    assert destination_names(page) == []
    with page.expect_response(lambda r: "/referrals/new/destinations/" in r.url) as answer:
        page.get_by_label("Community Support").select_option("medically_tailored_meals")
    assert answer.value.status == 200
    expect(page.locator("[data-testid=destination]")).to_have_count(2, timeout=15000)
    assert destination_names(page) == [rw.provider_a.name, rw.provider_b.name]
    with page.expect_response(lambda r: "/referrals/new/destinations/" in r.url) as answer:
        page.get_by_label("County").select_option("Sacramento")
    assert answer.value.status == 200
    assert "member_county=Sacramento" in answer.value.url
    expect(page.locator("[data-testid=destination]")).to_have_count(1, timeout=15000)  # swapped in
    assert destination_names(page) == [rw.provider_a.name]

    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Delgado")
    page.get_by_label("Date of birth").fill("1975-03-09")
    page.get_by_label("Phone", exact=True).fill("916 555 0101")
    page.get_by_label("The member's health plan").select_option(label=rw.plan.name)
    page.get_by_label(rw.provider_a.name).check()
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_url(f"{live_server.url}/referrals/*/")
    referral = Referral.objects.get()
    assert referral.receiving_provider == rw.provider_a
    assert referral.member_county.name == "Sacramento"


def test_r1_self_referral_provider_list_follows_the_chosen_help(live_server, browser, rw):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/referrals/self-referral/")
    page.get_by_label("County").select_option("Sacramento")
    page.get_by_label("Help finding a place to live and applying for housing").check()
    page.wait_for_selector("[data-testid=destination]")
    assert destination_names(page) == [rw.provider_a.name]
    assert page.get_by_label("Let the plan assign a provider").is_checked()
