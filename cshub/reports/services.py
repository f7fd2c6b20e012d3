"""Every write of the reports app (STYLE 2): making and sending the monthly utilization reports (rule D6) and
the daily referral-analytics snapshots (rule D7). Each is safe to run twice.

Locks: `utilization_report_make` relies on the (provider, plan, month) unique constraint (a second worker's
insert fails and it moves on); `utilization_notices_send` claims unsent reports with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's IMMEDIATE transactions serialize writers), so
a report's notice goes out once. `referral_snapshot_refresh` upserts one row per plan and Pacific day.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from cshub.accounts.models import Organization, OrganizationContact
from cshub.accounts.roles import OrganizationKind
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.notifications.services import notify, notify_email_address
from cshub.reports import permissions, selectors
from cshub.reports.models import ReferralSnapshot, UtilizationReport
from cshub.reports.periods import Month

logger = logging.getLogger(__name__)

# Contacts of a provider (besides its D4-role users) who get the monthly report by email (rule D6).
REPORT_CONTACT_KINDS = (OrganizationContact.Kind.POINT_OF_CONTACT, OrganizationContact.Kind.DATA)


# --- Rendering (the PDF and the CSV of one report) ---------------------------------------------------


def utilization_pdf(*, figures: dict[str, Any], provider: Organization, plan: Organization) -> bytes:
    """The report as a tagged PDF (WeasyPrint through `core.letters`), on the plan's letterhead."""
    from cshub.core.letters import render_letter_pdf  # WeasyPrint loads only when a PDF is made

    return render_letter_pdf(
        template_name="reports/utilization_pdf.html",
        context={
            "plan": plan,
            "recipient": provider,
            "subject": f"Community Supports utilization report, {figures['month_label']}",
            "figures": figures,
            "bars": _pdf_bars(figures),
        },
    )


def _pdf_bars(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The six-month trend as rows of CSS bars (a PDF runs no JavaScript, so no Chart.js here)."""
    trend = figures["trend"]
    series = [
        ("Referrals received", trend["referrals_received"]),
        ("New enrollments", trend["enrollments_new"]),
        ("Authorization requests", trend["authorization_requests"]),
        ("Claims received", trend["claims_received"]),
    ]
    peak = max([1, *(v for _, values in series for v in values)])
    return [
        {
            "label": label,
            "points": [
                {"month": month, "value": value, "width": round(100 * value / peak)}
                for month, value in zip(trend["months"], values, strict=True)
            ],
        }
        for label, values in series
    ]


def utilization_csv(figures: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(selectors.UTILIZATION_CSV_HEADER)
    writer.writerows(selectors.utilization_csv_rows(figures))
    return out.getvalue().encode("utf-8")


# --- Monthly utilization reports (rule D6) ---------------------------------------------------------------


def catchup_months() -> int:
    """How many months back the job looks for missed reports (``CSHUB_UTILIZATION_CATCHUP_MONTHS``)."""
    return max(1, int(getattr(settings, "CSHUB_UTILIZATION_CATCHUP_MONTHS", 3)))


def utilization_report_make(
    *, provider: Organization, plan: Organization, month: Month
) -> UtilizationReport | None:
    """Make and store one provider's report for one month under one plan: figures, PDF and CSV. Returns None
    when it already exists (made by an earlier run or by another worker): nothing changes then."""
    if UtilizationReport.objects.filter(provider=provider, plan=plan, month=month.first).exists():
        return None
    figures = selectors.utilization_compute(provider=provider, plan=plan, month=month)
    pdf = utilization_pdf(figures=figures, provider=provider, plan=plan)
    stem = f"utilization-{month.key}-{str(provider.uuid)[:8]}-{plan.plan_code or str(plan.uuid)[:8]}"
    try:
        with transaction.atomic():
            report = UtilizationReport.objects.create(
                provider=provider, plan=plan, month=month.first, generated_at=clock.now(), figures=figures
            )
            report.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
            report.csv.save(f"{stem}.csv", ContentFile(utilization_csv(figures)), save=False)
            report.save(update_fields=["pdf", "csv"])
            audit_record(
                actor=None,
                action="create",
                object_type="utilization_report",
                object_id=report.uuid,
                detail={"provider": provider.name, "plan": plan.name, "month": month.key},
            )
    except IntegrityError:  # another worker made it first
        return None
    return report


def utilization_reports_run(*, today: date | None = None) -> list[UtilizationReport]:
    """Rule D6: make every missing report of the months before this one (the previous month, and any month
    missed within ``catchup_months()``) for each provider with a signed contract in force in that month,
    then tell the providers. Safe to run twice: what exists is left alone. Returns the reports made."""
    today = today or clock.today()
    latest = Month.of(today).shift(-1)
    months = latest.shift(-(catchup_months() - 1)).until(latest)
    existing = set(
        UtilizationReport.objects.filter(month__gte=months[0].first, month__lte=latest.first).values_list(
            "provider_id", "plan_id", "month"
        )
    )
    wanted = [
        (provider_id, plan_id, month)
        for month in months
        for provider_id, plan_id in selectors.contracted_pairs(month=month)
        if (provider_id, plan_id, month.first) not in existing
    ]
    organizations = Organization.objects.in_bulk({i for p, q, _ in wanted for i in (p, q)})
    made = []
    for provider_id, plan_id, month in wanted:
        report = utilization_report_make(
            provider=organizations[provider_id], plan=organizations[plan_id], month=month
        )
        if report is not None:
            made.append(report)
    utilization_notices_send()
    return made


def utilization_notices_send() -> int:
    """Tell each provider about its reports not yet announced (rule D6): one notice per provider and plan,
    in the app and by email to its D4-role users, and by email to its point-of-contact and data contacts
    without a login. A report is announced once (its ``notified_at`` is set in the notice's transaction).
    Returns the number of people told."""
    pairs = (
        UtilizationReport.objects.filter(notified_at__isnull=True)
        .values_list("provider_id", "plan_id")
        .distinct()
    )
    told = 0
    for provider_id, plan_id in sorted(set(pairs)):
        with transaction.atomic():
            reports = list(
                UtilizationReport.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(provider_id=provider_id, plan_id=plan_id, notified_at__isnull=True)
                .select_related("provider", "plan")
                .order_by("month")
            )
            if not reports:
                continue
            count = _announce(reports)
            UtilizationReport.objects.filter(pk__in=[r.pk for r in reports]).update(
                notified_at=clock.now(), notified_count=count
            )
            told += count
    return told


def _announce(reports: list[UtilizationReport]) -> int:
    provider, plan = reports[0].provider, reports[0].plan
    latest = reports[-1]
    figures = latest.figures
    months = ", ".join(Month.of(r.month).label for r in reports)
    subject = f"Utilization report for {months} from {plan.name}"
    body = _notice_body(reports, plan=plan)
    url = (
        reverse("reports:utilization") + "?" + urlencode({"plan": str(plan.uuid), "month": figures["month"]})
    )
    notices = notify(
        kind="utilization_report",
        subject=subject,
        body=body,
        url=url,
        organization=provider,
        roles=permissions.PROVIDER_REPORT_ROLES,
        object_type="utilization_report",
        object_id=latest.uuid,
    )
    notified_emails = {
        email.lower()
        for email in provider.users.filter(pk__in=[n.recipient_id for n in notices]).values_list(
            "email", flat=True
        )
    }
    contacts = {
        c.email.strip().lower()
        for c in OrganizationContact.objects.filter(organization=provider, kind__in=REPORT_CONTACT_KINDS)
        if c.email.strip()
    } - notified_emails
    for address in sorted(contacts):
        notify_email_address(
            address=address,
            subject=subject,
            body=body,
            kind="utilization_report",
            object_type="utilization_report",
            object_id=latest.uuid,
        )
    return len(notices) + len(contacts)


def _notice_body(reports: list[UtilizationReport], *, plan: Organization) -> str:
    """Aggregates only (minimum necessary: no member is named)."""
    parts = [f"Your monthly Community Supports utilization report from {plan.name} is ready (rule D6)."]
    for report in reports:
        f = report.figures
        parts.append(
            f"{f['month_label']}: {f['referrals']['received']} referrals received, "
            f"{f['outreach']['attempts']} outreach attempts, {f['enrollments']['new']} new enrollments, "
            f"{f['authorizations']['requested']} authorization requests, {f['claims']['received']} claims "
            f"received, ${f['claims']['amount_paid']} paid."
        )
    parts.append("Sign in to Community Supports Hub to see the charts and download the PDF and CSV.")
    return "\n\n".join(parts)


# --- Referral analytics (rule D7) -------------------------------------------------------------------------


def referral_snapshot_refresh(*, plan: Organization) -> ReferralSnapshot:
    """Compute the plan's referral analytics now and keep them as today's snapshot (one row per plan and
    Pacific day; a second refresh on the same day replaces the figures)."""
    figures = selectors.referral_analytics_compute(plan=plan)
    now = clock.now()
    with transaction.atomic():
        snapshot, _ = ReferralSnapshot.objects.update_or_create(
            plan=plan, day=clock.today(), defaults={"computed_at": now, "figures": figures}
        )
    return snapshot


def referral_snapshot_current(*, plan: Organization) -> ReferralSnapshot:
    """Rule D7: the plan's latest snapshot when less than a day old, else a fresh one made now."""
    snapshot = selectors.latest_snapshot(plan=plan)
    if selectors.snapshot_is_fresh(snapshot):
        return snapshot
    return referral_snapshot_refresh(plan=plan)


def referral_snapshots_run() -> int:
    """The daily job: a fresh snapshot for every active plan. Returns how many were made."""
    made = 0
    for plan in Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True).order_by("pk"):
        referral_snapshot_refresh(plan=plan)
        made += 1
    return made
