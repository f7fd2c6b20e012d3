"""Rule D4: every role walks every page and API of the reports app. Only the plan's reporting roles (and
the plan administrator) and a provider's leadership see reports; a provider sees only its own (another
provider's is 404); another plan's staff never see plan 1's stored reports (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from cshub.accounts.roles import PLAN_ROLES
from cshub.core import clock
from cshub.reports.models import UtilizationReport

PLAN_REPORTERS = {"reporting_director", "reporting_supervisor", "plan_admin"}
PAGES = {
    "utilization": lambda w: reverse("reports:utilization"),
    "utilization_a": lambda w: (
        reverse("reports:utilization") + f"?provider={w.provider_a.uuid}&month=2026-10"
    ),
    "stored_pdf_a": lambda w: reverse("reports:stored_file", args=[w.stored_a.uuid, "pdf"]),
    "stored_csv_a": lambda w: reverse("reports:stored_file", args=[w.stored_a.uuid, "csv"]),
    "referrals": lambda w: reverse("reports:referrals"),
    "deidentified": lambda w: reverse("reports:deidentified"),
    "deidentified_csv": lambda w: (
        reverse("reports:deidentified") + "?kind=referrals&from_year=2026&to_year=2026&format=csv"
    ),
    "api_utilization": lambda w: f"/api/v1/reports/utilization?month=2026-10&provider={w.provider_a.uuid}",
    "api_referrals": lambda w: "/api/v1/reports/referrals",
    "api_deidentified": lambda w: "/api/v1/reports/deidentified.csv?kind=referrals&from_year=2026",
}
ALL = set(PAGES)
PLAN_ONLY = {"referrals", "deidentified", "deidentified_csv", "api_referrals", "api_deidentified"}
UTILIZATION_A = {"utilization", "utilization_a", "stored_pdf_a", "stored_csv_a", "api_utilization"}


def expected(persona: str) -> dict[str, int]:
    """The status each persona gets on each page."""
    if persona in PLAN_REPORTERS:
        return dict.fromkeys(ALL, 200)
    if persona in PLAN_ROLES or persona in ("bob", "dana"):
        return dict.fromkeys(ALL, 403)
    if persona == "alice":  # provider A's CEO: her own utilization, none of the plan's pages
        return {**dict.fromkeys(PLAN_ONLY, 403), **dict.fromkeys(UTILIZATION_A, 200)}
    if persona == "charlie":  # provider B's CEO: his own report page; provider A's is 404
        return {**dict.fromkeys(PLAN_ONLY, 403), **dict.fromkeys(UTILIZATION_A, 404), "utilization": 200}
    if persona == "other_plan_user":  # plan 2's administrator: plan 1's stored reports are 404
        codes = dict.fromkeys(ALL, 200)
        codes.update(stored_pdf_a=404, stored_csv_a=404)
        return codes
    raise AssertionError(persona)


PERSONAS = [*sorted(PLAN_ROLES), "alice", "bob", "charlie", "dana", "other_plan_user"]


def persona_user(w, persona):
    if persona in PLAN_ROLES:
        return w.plan_users[persona]
    return getattr(w, persona)


@pytest.fixture
def walk(uw):
    """Provider A's stored October report (its files are placeholders: test_monthly_job makes real ones)."""
    report = UtilizationReport.objects.create(
        provider=uw.provider_a, plan=uw.plan, month=dt.date(2026, 10, 1), generated_at=clock.now()
    )
    report.pdf.save("a.pdf", ContentFile(b"%PDF-1.7 placeholder"), save=False)
    report.csv.save("a.csv", ContentFile(b"provider_name\n"), save=False)
    report.save()
    uw.stored_a = report
    return uw


@pytest.mark.parametrize("persona", PERSONAS)
def test_d4_every_role_walks_every_page(client, walk, persona):
    client.force_login(persona_user(walk, persona))
    got = {}
    for name, url in PAGES.items():
        response = client.get(url(walk))
        got[name] = response.status_code
        if response.streaming:  # a download is read to its end: an error while streaming would show here
            b"".join(response.streaming_content)
    assert got == expected(persona)


def test_d4_outsiders_are_asked_to_sign_in(client, walk):
    assert client.get(reverse("reports:utilization")).status_code == 302
    assert client.get("/api/v1/reports/referrals").status_code == 401


def test_d4_navigation_shows_reports_to_the_named_roles_only(client, walk):
    def labels(user):
        client.force_login(user)
        page = client.get(reverse("web:home")).content.decode()
        return {
            label
            for label in ("Utilization report", "Referral analytics", "De-identified extracts")
            if label in page
        }

    assert labels(walk.plan_users["reporting_director"]) == {
        "Utilization report",
        "Referral analytics",
        "De-identified extracts",
    }
    assert labels(walk.alice) == {"Utilization report"}
    assert labels(walk.bob) == set()
    assert labels(walk.plan_users["claims_processor"]) == set()


def test_d4_provider_sees_only_its_own_figures(client, walk):
    client.force_login(walk.charlie)
    page = client.get(reverse("reports:utilization"), {"month": "2026-10"})
    assert page.status_code == 200
    assert walk.provider_b.name.encode() in page.content
    assert walk.provider_a.name.encode() not in page.content
    api = client.get("/api/v1/reports/utilization", {"month": "2026-10"}).json()
    assert api["provider"]["name"] == walk.provider_b.name
    assert (
        client.get("/api/v1/reports/utilization", {"provider": str(walk.provider_a.uuid)}).status_code == 404
    )


def test_d4_openapi_lists_the_reports_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/reports/utilization",
        "/api/v1/reports/referrals",
        "/api/v1/reports/deidentified.csv",
    } <= set(paths)
