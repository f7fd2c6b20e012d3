"""Browser test (Debian's chromium through Playwright): each role signs in and lands on its home page."""

import os
import shutil

import pytest

from cshub.accounts.roles import Role
from cshub.core.management.commands.demo import DEMO_ROLE_HOME
from cshub.web.views import ROLE_FOCUS
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"


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
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def test_each_role_signs_in_and_sees_its_home_page(live_server, browser):
    orgs = {
        kind: OrganizationFactory(kind=kind, name=f"Browser {kind}") for kind in set(DEMO_ROLE_HOME.values())
    }
    users = {
        role: UserFactory(
            email=f"{role}@browser.example", organization=orgs[DEMO_ROLE_HOME[role]], roles=[role]
        )
        for role in Role.values
    }
    for role, user in users.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{live_server.url}/")
        headings = page.locator("[data-testid=role-home]").all_inner_texts()
        assert ROLE_FOCUS[role][0] in headings, (role, headings)
        assert Role(role).label in page.locator("[data-testid=role]").all_inner_texts()
        # keyboard users reach the main content first
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
        context.close()
