"""Report pages (rules D4-D7): parse the choice, call a selector or service, render (page, PDF or CSV).

Who sees what is `permissions` (403 for roles that never see reports) and `selectors` (404 for a provider,
plan or stored report outside the user's scope). Every page that shows report figures is audited; the
figures are aggregates, so the audit rows name no member. The de-identified extract's audit row holds its
kind, years and row count, never member ids (rule D5).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.pagination import csv_response
from cshub.reports import deidentify, permissions, selectors, services
from cshub.reports.forms import ExtractForm, UtilizationForm
from cshub.reports.periods import Month


class _Echo:
    def write(self, value: str) -> str:
        return value


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


UTILIZATION_DENIED = (
    "Utilization reports are for the provider's leadership and the plan's reporting staff (rule D4)."
)
ANALYTICS_DENIED = "Referral analytics are for the plan's reporting staff (rule D4)."
EXTRACT_DENIED = "De-identified extracts are for the plan's reporting staff (rules D4, D5)."


# --- Utilization (rules D6, D7) -------------------------------------------------------------------------


def audit_utilization(*, user: Any, figures: dict[str, Any], purpose: str) -> None:
    audit_record(
        actor=user,
        action="export" if purpose in ("pdf", "csv") else "read",
        object_type="utilization_report",
        object_id=f"{figures['provider']['id']}:{figures['month']}"[:64],
        detail={
            "provider": figures["provider"]["name"],
            "plan": figures["plan"]["name"],
            "month": figures["month"],
            "purpose": purpose,
        },
    )


def utilization_filename(figures: dict[str, Any], extension: str) -> str:
    return f"utilization-{figures['month']}-{figures['provider']['id'][:8]}.{extension}"


def utilization_csv_response(figures: dict[str, Any]) -> HttpResponse:
    return csv_response(
        utilization_filename(figures, "csv"),
        selectors.UTILIZATION_CSV_HEADER,
        selectors.utilization_csv_rows(figures),
        lambda row: row,
    )


def utilization_pdf_response(figures: dict[str, Any], *, provider: Any, plan: Any) -> HttpResponse:
    pdf = services.utilization_pdf(figures=figures, provider=provider, plan=plan)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{utilization_filename(figures, "pdf")}"'
    return response


def _charts(figures: dict[str, Any]) -> dict[str, Any]:
    """Chart.js data for the page (the tables beside each chart hold the same numbers)."""
    a = figures["authorizations"]
    o = figures["outreach"]
    trend = figures["trend"]
    return {
        "service": {
            "type": "bar",
            "labels": [r["service"] for r in figures["referrals"]["by_service"]],
            "datasets": [
                {
                    "label": "Referrals received",
                    "data": [r["count"] for r in figures["referrals"]["by_service"]],
                }
            ],
        },
        "authorizations": {
            "type": "bar",
            "labels": [
                "Requested",
                "Approved",
                "Partially approved",
                "Denied",
                "Withdrawn",
                "Pending at month end",
            ],
            "datasets": [
                {
                    "label": "Authorization requests",
                    "data": [
                        a["requested"],
                        a["approved"],
                        a["partially_approved"],
                        a["denied"],
                        a["withdrawn"],
                        a["pending_at_month_end"],
                    ],
                }
            ],
        },
        "outreach": {
            "type": "bar",
            "labels": ["Attempts", "Reached", "Declined", "Unable to reach (closed)", "Declined (closed)"],
            "datasets": [
                {
                    "label": "Outreach",
                    "data": [
                        o["attempts"],
                        o["attempts_reached"],
                        o["attempts_declined"],
                        o["unable_to_reach"],
                        o["declined"],
                    ],
                }
            ],
        },
        "trend": {
            "type": "line",
            "labels": trend["months"],
            "datasets": [
                {"label": "Referrals received", "data": trend["referrals_received"]},
                {"label": "New enrollments", "data": trend["enrollments_new"]},
                {"label": "Authorization requests", "data": trend["authorization_requests"]},
                {"label": "Claims received", "data": trend["claims_received"]},
            ],
        },
    }


def _trend_rows(figures: dict[str, Any]) -> list[tuple[Any, ...]]:
    t = figures["trend"]
    return list(
        zip(
            t["months"],
            t["referrals_received"],
            t["enrollments_new"],
            t["authorization_requests"],
            t["claims_received"],
            strict=True,
        )
    )


@login_required
@require_GET
def utilization(request: HttpRequest) -> HttpResponse:
    """A provider's month under a plan: figures, charts, PDF and CSV (``?format=pdf|csv``), and the reports
    already sent. A provider's leadership sees their own; the plan's reporting staff pick a provider."""
    user = request.user
    _require(permissions.can_view_utilization(user), UTILIZATION_DENIED)
    scope = selectors.utilization_scope(
        user=user, provider=request.GET.get("provider") or None, plan=request.GET.get("plan") or None
    )
    form = UtilizationForm(
        request.GET if request.GET else None,
        providers=scope.providers,
        plans=scope.plans,
        initial={
            "month": Month.previous_of_today().key,
            "provider": str(scope.provider.uuid) if scope.provider else "",
            "plan": str(scope.plan.uuid) if scope.plan else "",
        },
    )
    month = Month.previous_of_today()
    if form.is_bound:
        month = form.cleaned_data["month"] if form.is_valid() else None
    figures = None
    if month is not None and scope.provider is not None and scope.plan is not None:
        figures = selectors.utilization_for_user(
            user=user, provider=scope.provider, plan=scope.plan, month=month
        )
        fmt = request.GET.get("format", "")
        audit_utilization(user=user, figures=figures, purpose=fmt if fmt in ("pdf", "csv") else "view")
        if fmt == "csv":
            return utilization_csv_response(figures)
        if fmt == "pdf":
            return utilization_pdf_response(figures, provider=scope.provider, plan=scope.plan)
    stored = (
        selectors.stored_reports_for(user=user, provider=scope.provider, plan=scope.plan)
        if scope.provider is not None and scope.plan is not None
        else []
    )
    params = request.GET.copy()
    params.pop("format", None)
    if month is not None:
        params["month"] = month.key
    if scope.provider is not None:
        params["provider"] = str(scope.provider.uuid)
    if scope.plan is not None:
        params["plan"] = str(scope.plan.uuid)
    return render(
        request,
        "reports/utilization.html",
        {
            "form": form,
            "scope": scope,
            "is_plan": permissions.is_plan_reporter(user),
            "month": month,
            "figures": figures,
            "charts": _charts(figures) if figures else None,
            "trend_rows": _trend_rows(figures) if figures else [],
            "stored": stored,
            "query": params.urlencode(),
        },
        status=200 if not form.errors else 422,
    )


@login_required
@require_GET
def stored_report_file(request: HttpRequest, uuid: UUID, kind: str) -> HttpResponse:
    """The PDF or CSV of a report as made and sent (rule D6)."""
    user = request.user
    _require(permissions.can_view_utilization(user), UTILIZATION_DENIED)
    if kind not in ("pdf", "csv"):
        raise Http404("No such file")
    report = selectors.stored_report_get_for_user(user=user, uuid=uuid)
    field = report.pdf if kind == "pdf" else report.csv
    if not field:
        raise Http404("The file is missing")
    audit_record(
        actor=user,
        action="export",
        object_type="utilization_report",
        object_id=report.uuid,
        detail={
            "provider": report.provider.name,
            "month": f"{report.month:%Y-%m}",
            "purpose": f"stored {kind}",
        },
    )
    name = f"utilization-{report.month:%Y-%m}-{str(report.provider.uuid)[:8]}.{kind}"
    return FileResponse(
        field.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="application/pdf" if kind == "pdf" else "text/csv",
    )


# --- Referral analytics (rule D7) -------------------------------------------------------------------------

ANALYTICS_CSV_HEADER = ["dimension", "label", "month", "referrals"]
ANALYTICS_DIMENSIONS = (
    ("by_status", "status"),
    ("by_service", "service"),
    ("by_county", "county"),
    ("by_source", "source"),
    ("by_channel", "channel"),
)


def analytics_csv_rows(figures: dict[str, Any]) -> Iterator[list[Any]]:
    for key, dimension in ANALYTICS_DIMENSIONS:
        data = figures[key]
        for series in data["series"]:
            for month, n in zip(data["months"], series["data"], strict=True):
                yield [dimension, series["label"], month, n]


def audit_analytics(*, user: Any, snapshot: Any, purpose: str) -> None:
    audit_record(
        actor=user,
        action="export" if purpose == "csv" else "read",
        object_type="referral_analytics",
        object_id=snapshot.uuid,
        detail={"as_of": snapshot.computed_at.isoformat(), "purpose": purpose},
    )


@login_required
@require_GET
def referral_analytics(request: HttpRequest) -> HttpResponse:
    """The plan's referral analytics, at most a day old (recomputed now when older), with charts and CSV."""
    user = request.user
    _require(permissions.can_view_referral_analytics(user), ANALYTICS_DENIED)
    plan = selectors.analytics_plan_for(user)
    snapshot = services.referral_snapshot_current(plan=plan)
    figures = snapshot.figures
    purpose = "csv" if request.GET.get("format") == "csv" else "view"
    audit_analytics(user=user, snapshot=snapshot, purpose=purpose)
    if purpose == "csv":
        return csv_response(
            f"referral-analytics-{snapshot.day:%Y-%m-%d}.csv",
            ANALYTICS_CSV_HEADER,
            analytics_csv_rows(figures),
            lambda row: row,
        )
    closure = figures["closure_by_month"]
    charts = {
        "volume": {
            "type": "bar",
            "labels": figures["month_labels"],
            "datasets": [
                {"label": "Received", "data": closure["received"]},
                {"label": "Closed since", "data": closure["closed"]},
                {"label": "Got help", "data": closure["got_help"]},
            ],
        },
        "medians": {
            "type": "line",
            "decimals": True,
            "labels": figures["month_labels"],
            "datasets": [
                {"label": "Median days to first outreach", "data": closure["median_days_to_first_outreach"]},
                {"label": "Median days to closure", "data": closure["median_days_to_closure"]},
            ],
        },
    }
    for key, dimension in ANALYTICS_DIMENSIONS:
        charts[dimension] = {
            "type": "bar",
            "stacked": True,
            "labels": figures["month_labels"],
            "datasets": [{"label": s["label"], "data": s["data"]} for s in figures[key]["series"]],
        }
    tables = [
        {
            "dimension": dimension,
            "title": f"Referrals by {dimension}",
            "rows": [(s["label"], s["total"]) for s in figures[key]["series"]],
        }
        for key, dimension in ANALYTICS_DIMENSIONS
    ]
    monthly = list(
        zip(
            figures["month_labels"],
            closure["received"],
            closure["closed"],
            closure["got_help"],
            closure["closure_rate_pct"],
            closure["median_days_to_first_outreach"],
            closure["median_days_to_closure"],
            strict=True,
        )
    )
    return render(
        request,
        "reports/referrals.html",
        {
            "snapshot": snapshot,
            "as_of": clock.local(snapshot.computed_at),
            "figures": figures,
            "charts": charts,
            "tables": tables,
            "monthly": monthly,
        },
    )


# --- De-identified extracts (rule D5) ---------------------------------------------------------------------


def extract_stream(extract: selectors.Extract) -> Iterator[str]:
    """The extract as CSV, its first line a comment stating the method (rule D5)."""
    writer = csv.writer(_Echo())
    yield f"# {deidentify.METHOD_NOTE}\n"
    yield writer.writerow(extract.header)
    for row in extract.rows:
        yield writer.writerow(["" if v is None else v for v in row])


def audit_extract(*, user: Any, extract: selectors.Extract, channel: str) -> None:
    audit_record(
        actor=user,
        action="export",
        object_type="deidentified_extract",
        object_id=extract.kind,
        detail={
            "kind": extract.kind,
            "from_year": extract.from_year,
            "to_year": extract.to_year,
            "rows": extract.count,
            "method": "HIPAA Safe Harbor (45 CFR 164.514(b)(2))",
            "via": channel,
        },
    )


def extract_response(extract: selectors.Extract) -> StreamingHttpResponse:
    response = StreamingHttpResponse(extract_stream(extract), content_type="text/csv; charset=utf-8")
    years = (
        f"{extract.from_year}"
        if extract.from_year == extract.to_year
        else f"{extract.from_year}-{extract.to_year}"
    )
    response["Content-Disposition"] = f'attachment; filename="deidentified-{extract.kind}-{years}.csv"'
    return response


@login_required
@require_GET
def deidentified(request: HttpRequest) -> HttpResponse:
    """Choose the rows and years; ``format=csv`` downloads the de-identified extract (audited)."""
    user = request.user
    _require(permissions.can_export_deidentified(user), EXTRACT_DENIED)
    this_year = clock.today().year
    form = ExtractForm(
        request.GET if "kind" in request.GET else None,
        initial={"kind": "referrals", "from_year": this_year, "to_year": this_year},
    )
    if form.is_bound and form.is_valid() and request.GET.get("format") == "csv":
        extract = selectors.deidentified_extract(
            user=user,
            kind=form.cleaned_data["kind"],
            from_year=form.cleaned_data["from_year"],
            to_year=form.cleaned_data["to_year"],
        )
        audit_extract(user=user, extract=extract, channel="web")
        return extract_response(extract)
    return render(
        request,
        "reports/deidentified.html",
        {
            "form": form,
            "columns": [(selectors.EXTRACT_KINDS[k], cols) for k, cols in selectors.EXTRACT_COLUMNS.items()],
            "method": deidentify.METHOD_NOTE,
            "restricted": sorted(deidentify.restricted_zip3()),
        },
        status=422 if form.is_bound and form.errors else 200,
    )
