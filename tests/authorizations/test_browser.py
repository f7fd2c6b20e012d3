"""The authorization path in a real browser (Debian's chromium through Playwright): a provider submits in
the portal (rules A3, A6), a reviewer takes the request in the queue (A10) and decides a partial approval
swapped in place by htmx (A9), and the provider sees the determination and a letter link at once."""

from __future__ import annotations

from datetime import date

import pytest

from cshub.authorizations import services
from cshub.authorizations.models import AuthorizationRequest
from cshub.catalog.models import Service
from tests.authorizations.conftest import START
from tests.referrals.test_pages_browser import browser, signed_in_page  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NAV = "housing_transition_navigation"


def test_a9_submit_take_decide_partial_and_the_provider_sees_it(live_server, browser, aw, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    service = Service.objects.get(key=NAV)
    code = service.codes.filter(active=True).order_by("hcpcs", "modifier").first()
    checklist = services.required_documents(service, "initial")
    assessment = tmp_path / "assessment.pdf"
    assessment.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n")

    # The provider submits in the portal.
    page = signed_in_page(browser, live_server, aw.bob)
    page.goto(f"{live_server.url}/authorizations/new/?member={aw.member_a.uuid}&service={NAV}")
    page.locator("#id_code").select_option(f"{code.hcpcs}|{code.modifier}")
    page.get_by_label("Primary diagnosis (ICD-10-CM)").fill("Z59.01")
    page.get_by_label("Units requested").fill("30")
    page.get_by_label("First date of service").fill(START.isoformat())
    page.get_by_label("Last date of service").fill(date(2026, 12, 22).isoformat())
    page.locator("#id_doc_0").set_input_files(str(assessment))
    for i in range(len(checklist)):
        page.locator(f"#id_included_{i}").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("h1")).to_contain_text("Authorization request A-", timeout=15000)
    request = AuthorizationRequest.objects.get()
    assert request.channel == "portal" and request.documents.count() == 1

    # The reviewer takes it in the queue, then decides a partial approval on the request page.
    reviewer = signed_in_page(browser, live_server, aw.um)
    reviewer.goto(f"{live_server.url}/authorizations/queue/")
    expect(reviewer.locator("[data-testid=queue-row]")).to_have_count(1)
    expect(reviewer.locator("[data-testid=queue-row] [data-testid=time-left]")).to_contain_text("On track")
    reviewer.get_by_role("button", name=f"Take {request.number}").click()
    expect(reviewer.locator(".messages")).to_contain_text("You are reviewing", timeout=15000)
    panel = reviewer.locator("#panel-decide")
    panel.get_by_label("Decision").select_option("partially_approved")
    panel.get_by_label("Units authorized").fill("15")
    with reviewer.expect_response(lambda r: "/decide/" in r.url) as answer:
        panel.get_by_role("button", name="Record the decision").click()
    assert answer.value.status == 422  # reasons missing: shown in place
    expect(reviewer.locator("#panel-decide [data-testid=field-error]").first).to_be_visible(timeout=15000)
    panel = reviewer.locator("#panel-decide")
    panel.get_by_label("Decision").select_option("partially_approved")
    panel.get_by_label("Units authorized").fill("15")
    panel.get_by_label("Reason code").select_option("not_appropriate")
    panel.get_by_label("Reason in plain language (for the member's letter)").fill(
        "Fifteen units cover the search."
    )
    panel.get_by_label("Criteria cited").fill("Housing navigation guide, eligibility criteria.")
    panel.get_by_role("button", name="Record the decision").click()
    expect(reviewer.locator("[data-testid=notice]")).to_contain_text("partially approved", timeout=15000)
    assert reviewer.url.endswith(f"/authorizations/{request.uuid}/")  # swapped in place

    # The provider sees the determination and a letter link at once (rule A9).
    page.goto(f"{live_server.url}/authorizations/{request.uuid}/")
    expect(page.locator("[data-testid=determination]")).to_contain_text("Partially approved")
    expect(page.locator("[data-testid=authorization]")).to_contain_text("15 units")
    expect(page.locator("[data-testid=letter-link]").first).to_be_visible()
