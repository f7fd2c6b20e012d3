"""Rules D6, D7: the utilization page and API. The plan's reporting staff pick a provider and a month; a
provider's leadership see their own; charts, PDF and CSV; the reports already sent; field errors for a bad
month; every read audited without member ids; a pinned number of queries."""

from __future__ import annotations

import datetime as dt
import io
import json

from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader

from cshub.core import clock
from cshub.core.models import AuditEvent
from cshub.reports import selectors
from cshub.reports.models import UtilizationReport
from cshub.reports.periods import Month

URL = "/reports/utilization/"


def test_d6_plan_reporter_picks_a_provider_and_a_month(client, uw):
    client.force_login(uw.director)
    page = client.get(URL)
    assert page.status_code == 200
    assert b'data-testid="pick-provider"' in page.content
    options = page.content.decode()
    assert uw.provider_a.name in options and uw.provider_b.name in options
    assert 'value="2026-10"' in options  # last month by default

    page = client.get(URL, {"provider": str(uw.provider_a.uuid), "month": "2026-10"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Provider A Housing Services · Golden State Health Plan · October 2026" in html
    assert 'data-testid="referrals-received">3<' in html
    assert 'data-testid="amount-paid">$375.00<' in html
    assert 'data-testid="outreach-timely">1 (50.0%)<' in html
    assert 'data-testid="auth-on-time">2 of 3 (66.7%)<' in html
    charts = json.loads(html.split('id="report-charts" type="application/json">')[1].split("</script>")[0])
    assert charts["authorizations"]["datasets"][0]["data"] == [6, 2, 1, 1, 1, 2]
    assert charts["trend"]["labels"][-1] == "2026-10"
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html

    event = AuditEvent.objects.filter(object_type="utilization_report").latest("id")
    assert event.action == "read" and event.member_ids == [] and event.detail["month"] == "2026-10"


def test_d6_pdf_and_csv_downloads(client, uw):
    client.force_login(uw.alice)
    params = {"month": "2026-10"}
    pdf = client.get(URL, {**params, "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Provider A Housing Services" in text and "October 2026" in text
    csv = client.get(URL, {**params, "format": "csv"})
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == "provider_name,provider_npi,plan_name,plan_code,month,section,measure,value"
    assert (
        f"{uw.provider_a.name},{uw.provider_a.npi},{uw.plan.name},GS1,2026-10,claims,denied_lines,1" in lines
    )
    assert AuditEvent.objects.filter(object_type="utilization_report", action="export").count() == 2


def test_d6_reports_sent_are_listed_and_downloadable(client, uw):
    report = UtilizationReport.objects.create(
        provider=uw.provider_a,
        plan=uw.plan,
        month=dt.date(2026, 10, 1),
        generated_at=clock.now(),
        notified_at=clock.now(),
        notified_count=2,
    )
    report.pdf.save("a.pdf", ContentFile(b"%PDF-1.7 sent"), save=False)
    report.csv.save("a.csv", ContentFile(b"provider_name\n"), save=False)
    report.save()
    client.force_login(uw.alice)
    page = client.get(URL)
    assert page.content.count(b'data-testid="stored-report"') == 1 and b"(2 people)" in page.content
    download = client.get(reverse("reports:stored_file", args=[report.uuid, "pdf"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 sent"
    assert client.get(reverse("reports:stored_file", args=[report.uuid, "exe"])).status_code == 404


def test_d6_month_errors_beside_the_field(client, uw):
    client.force_login(uw.alice)
    bad = client.get(URL, {"month": "October"})
    assert bad.status_code == 422 and b"Enter a month as YYYY-MM" in bad.content
    future = client.get(URL, {"month": "2027-01"})
    assert future.status_code == 422 and b"That month has not started yet." in future.content
    assert client.get(URL, {"provider": "not-a-uuid"}).status_code == 404
    assert client.get("/api/v1/reports/utilization", {"month": "2026-13"}).status_code == 422


def test_d6_api_returns_the_figures(client, uw):
    client.force_login(uw.supervisor)
    missing = client.get("/api/v1/reports/utilization", {"month": "2026-10"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "provider"
    body = client.get(
        "/api/v1/reports/utilization", {"month": "2026-10", "provider": str(uw.provider_a.uuid)}
    ).json()
    expected = selectors.utilization_compute(provider=uw.provider_a, plan=uw.plan, month=Month(2026, 10))
    assert {k: v for k, v in body.items() if k != "computed_at"} == {
        k: v for k, v in expected.items() if k != "computed_at"
    }
    default = client.get("/api/v1/reports/utilization", {"provider": str(uw.provider_a.uuid)}).json()
    assert default["month"] == "2026-10"  # last month when none is given


def test_d6_page_query_count_is_pinned(client, uw, django_assert_max_num_queries):
    client.force_login(uw.director)
    with django_assert_max_num_queries(45):
        assert client.get(URL, {"provider": str(uw.provider_a.uuid)}).status_code == 200
