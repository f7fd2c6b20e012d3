"""Rule D6: the monthly job makes and stores each contracted provider's report (figures, PDF, CSV), tells its
points of contact once, changes nothing when run twice, and makes a missed month on its next run."""

from __future__ import annotations

import csv
import datetime as dt
import io

import time_machine
from django.core import mail
from pypdf import PdfReader

from cshub.core import clock
from cshub.core.models import AuditEvent
from cshub.notifications.models import Notification
from cshub.reports import services, tasks
from cshub.reports.models import UtilizationReport
from cshub.reports.periods import Month
from tests.factories import UserFactory


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_d6_pdf_is_a_real_pdf_with_the_figures(uw):
    from cshub.reports import selectors

    figures = selectors.utilization_compute(provider=uw.provider_a, plan=uw.plan, month=Month(2026, 10))
    data = services.utilization_pdf(figures=figures, provider=uw.provider_a, plan=uw.plan)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Golden State Health Plan" in text  # the letterhead
    assert "Provider A Housing Services" in text and "October 2026" in text
    assert "Referrals received" in text and "Amount paid in the month" in text and "$375.00" in text
    assert uw.member_a.last_name not in text and uw.member_a.cin not in text  # aggregates only


def test_d6_job_makes_each_contracted_providers_report_and_notifies_once(
    uw, settings, django_capture_on_commit_callbacks
):
    settings.CSHUB_UTILIZATION_CATCHUP_MONTHS = 1  # last month only (the catch-up has its own test)
    UserFactory(email="coo@a.example", organization=uw.provider_a, roles=["provider_coo"])
    with django_capture_on_commit_callbacks(execute=True):
        made = services.utilization_reports_run()
    # Provider A and provider B hold contracts in force in October; plan 2 has none (no report under it).
    assert sorted((r.provider.name, r.plan.name, r.month) for r in made) == [
        (uw.provider_a.name, uw.plan.name, dt.date(2026, 10, 1)),
        (uw.provider_b.name, uw.plan.name, dt.date(2026, 10, 1)),
    ]
    october = UtilizationReport.objects.get(provider=uw.provider_a, plan=uw.plan, month=dt.date(2026, 10, 1))
    assert october.figures["referrals"]["received"] == 3
    assert october.generated_at == clock.now()
    assert pdf_text(october.pdf.read()).count("October 2026") >= 1
    october.csv.open("rb")
    rows = list(csv.reader(io.StringIO(october.csv.read().decode())))
    assert rows[0][:3] == ["provider_name", "provider_npi", "plan_name"] and len(rows) > 30

    # Provider A's D4 users (alice the CEO, the COO) are told in the app and by email, once for the run;
    # bob (care coordinator) is not; Pat the point of contact (no login) is emailed; the data contact whose
    # address is alice's is not emailed twice.
    notices = Notification.objects.filter(kind="utilization_report", organization=uw.provider_a)
    assert sorted(n.recipient.email for n in notices) == ["alice@a.example", "coo@a.example"]
    assert "October 2026" in notices[0].subject and "/reports/utilization/?plan=" in notices[0].url
    to_a = sorted(m.to[0] for m in mail.outbox if m.to[0].endswith("@a.example"))
    assert to_a == ["alice@a.example", "coo@a.example", "pat.contact@a.example"]
    october.refresh_from_db()
    assert october.notified_at == clock.now() and october.notified_count == 3
    assert Notification.objects.filter(kind="utilization_report", recipient=uw.charlie).count() == 1

    # Run twice: nothing new is made, nobody is told again.
    count, sent = UtilizationReport.objects.count(), len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.utilization_reports_run() == []
        assert tasks.make_utilization_reports.call_local() == 0  # the periodic task is the same service
    assert UtilizationReport.objects.count() == count
    assert len(mail.outbox) == sent
    assert notices.count() == 2


def test_d6_job_catches_up_a_missed_month(uw, settings, django_capture_on_commit_callbacks):
    """The job looks back CSHUB_UTILIZATION_CATCHUP_MONTHS (3) months for reports never made."""
    assert settings.CSHUB_UTILIZATION_CATCHUP_MONTHS == 3
    uw.contract_a.start_date = dt.date(2026, 8, 1)
    uw.contract_a.save(update_fields=["start_date"])
    uw.contract_b.delete()
    with time_machine.travel(dt.datetime(2026, 9, 1, 15, tzinfo=dt.UTC), tick=False):
        first = services.utilization_reports_run()
    assert [r.month for r in first] == [dt.date(2026, 8, 1)]  # no contract before August
    # The worker is down on October 1st; on November 1st September and October are both made, and the
    # provider hears once about both.
    alice_notices = Notification.objects.filter(recipient=uw.alice, kind="utilization_report")
    assert alice_notices.count() == 1
    with (
        time_machine.travel(dt.datetime(2026, 11, 1, 15, tzinfo=dt.UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        caught_up = services.utilization_reports_run()
    assert [r.month for r in caught_up] == [dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
    assert alice_notices.count() == 2
    latest = alice_notices.order_by("-created_at", "-id").first()
    assert "September 2026" in latest.subject and "October 2026" in latest.subject
    assert "September 2026:" in latest.body and "October 2026:" in latest.body
    audit = AuditEvent.objects.filter(object_type="utilization_report", action="create")
    assert audit.count() == 3 and all(e.member_ids == [] for e in audit)


def test_d6_a_notice_interrupted_is_sent_on_the_next_run(uw):
    """A report made but not yet announced (the worker stopped in between) is announced next time, once."""
    report = services.utilization_report_make(provider=uw.provider_a, plan=uw.plan, month=Month(2026, 10))
    assert report is not None and report.notified_at is None
    assert (
        services.utilization_report_make(provider=uw.provider_a, plan=uw.plan, month=Month(2026, 10)) is None
    )
    assert services.utilization_notices_send() == 2  # alice and Pat (the data contact is alice)
    assert services.utilization_notices_send() == 0
    report.refresh_from_db()
    assert report.notified_at is not None
