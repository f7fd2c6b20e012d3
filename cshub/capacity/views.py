"""Capacity report pages (rule D3): parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cshub.accounts.models import Organization
from cshub.capacity import permissions, schedule, selectors, services
from cshub.capacity.forms import (
    MatrixFilterForm,
    NewReportForm,
    ReportFilterForm,
    ReportForms,
    initial_from,
    quarter_choices,
)
from cshub.capacity.models import CapacityReport
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError
from cshub.core.pagination import csv_response, list_context

REPORT_CSV_HEADER = [
    "plan_name",
    "plan_code",
    "reporting_period",
    "provider_name",
    "provider_npi",
    "version",
    "status",
    "due_date",
    "submitted_at",
    "late",
    "current_caseload",
    "staff_fte",
    "members_able_to_serve",
    "members_serving",
]


def report_csv_values(r: CapacityReport) -> list[Any]:
    return [
        r.plan.name,
        r.plan.plan_code,
        r.period,
        r.provider.name,
        r.provider.npi,
        r.version,
        r.status,
        r.due_date.isoformat(),
        r.submitted_at.isoformat() if r.submitted_at else "",
        "yes" if r.submitted_late else "no",
        r.current_caseload,
        r.total_fte,
        r.total_capacity,
        r.total_serving,
    ]


MATRIX_CSV_HEADER = [
    "county",
    "service_offered",
    "providers",
    "members_able_to_serve",
    "members_serving",
    "capacity_check",
]


def matrix_csv_values(c: selectors.MatrixCell) -> list[Any]:
    check = "members_serving exceeds members_able_to_serve" if c.over_capacity else ""
    return [c.county, c.service, c.providers, c.capacity, c.caseload, check]


def _require_viewer(user: Any) -> None:
    if not permissions.can_view_reports(user):
        raise PermissionDenied(
            "Capacity reports are for the provider's leadership and the plan's network staff."
        )


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """The provider's own reports, or the plan's reports from every provider, with late flags."""
    user = request.user
    _require_viewer(user)
    form = ReportFilterForm(request.GET or None, providers=selectors.provider_choices_for(user))
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        late = form.cleaned_data["late"]
        filters = {
            "quarter": form.cleaned_data["quarter"],
            "provider": form.cleaned_data["provider"],
            "status": form.cleaned_data["status"],
            "late": {"yes": True, "no": False}.get(late),
        }
    reports = (
        selectors.report_list(user=user, **filters)
        if not form.errors
        else selectors.report_list(user=user).none()
    )
    if request.GET.get("format") == "csv":
        audit_record(
            actor=user, action="export", object_type="capacity_report", detail={"filters": request.GET.dict()}
        )
        return csv_response(
            "capacity_reports.csv", REPORT_CSV_HEADER, reports.iterator(chunk_size=2000), report_csv_values
        )
    due_next = schedule.quarter_due_next()
    context = {
        "form": form,
        "is_plan": permissions.is_plan_viewer(user),
        "can_edit": permissions.can_edit_reports(user),
        "overdue": list(selectors.overdue_list(user=user)[:50]),
        "due_next": due_next,
        **list_context(request, reports),
    }
    return render(request, "capacity/report_list.html", context)


def _render_form(
    request: HttpRequest,
    *,
    report: CapacityReport | None,
    forms: ReportForms,
    new_form: Any = None,
    error: Any = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "capacity/report_form.html",
        {"report": report, "forms": forms, "new_form": new_form, "error": error},
        status=status,
    )


def _handle_error(forms: ReportForms, exc: DomainError) -> dict[str, Any]:
    left = forms.add_errors(exc.errors)
    return {"message": exc.message, "errors": left}


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    """Start a quarter's report: choose the plan and the quarter, fill the rows, save a draft or submit."""
    user = request.user
    if not permissions.can_edit_reports(user):
        raise PermissionDenied("The provider's leadership fills capacity reports.")
    plans = selectors.plan_choices_for(user)
    latest = schedule.quarter_due_next()
    choices = quarter_choices(latest=latest)
    if request.method != "POST":
        initial = {"quarter": latest.key}
        if plans:
            initial["plan"] = str(plans[0].uuid)
        return _render_form(
            request,
            report=None,
            forms=ReportForms(),
            new_form=NewReportForm(initial=initial, plans=plans, quarters=choices),
        )
    new_form = NewReportForm(request.POST, plans=plans, quarters=choices)
    forms = ReportForms(request.POST)
    if not (new_form.is_valid() & forms.is_valid()):
        return _render_form(request, report=None, forms=forms, new_form=new_form, status=422)
    plan = Organization.objects.get(uuid=new_form.cleaned_data["plan"])
    quarter = schedule.parse_quarter(new_form.cleaned_data["quarter"])
    data = forms.to_input()
    try:
        with transaction.atomic():  # started and submitted together, or nothing saved
            report = services.capacity_report_create(actor=user, plan=plan, quarter=quarter, data=data)
            if request.POST.get("action") == "submit":
                services.capacity_report_submit(actor=user, report=report, data=data)
    except DomainError as exc:
        for e in exc.errors:
            if e.field in new_form.fields:
                new_form.add_error(e.field, e.message)
        error = _handle_error(forms, exc)
        return _render_form(
            request, report=None, forms=forms, new_form=new_form, error=error, status=exc.status
        )
    return redirect("capacity:detail", uuid=report.uuid)


@login_required
def report_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    """A report: the form while it is a draft (for its provider), read-only once submitted."""
    user = request.user
    _require_viewer(user)
    report = selectors.report_get_for_user(user=user, uuid=uuid)
    editable = report.is_editable and permissions.can_edit_reports(user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("This report is read-only.")
        forms = ReportForms(request.POST)
        if not forms.is_valid():
            return _render_form(request, report=report, forms=forms, status=422)
        data = forms.to_input()
        try:
            if request.POST.get("action") == "submit":
                services.capacity_report_submit(actor=user, report=report, data=data)
            else:
                services.capacity_report_save(actor=user, report=report, data=data)
        except DomainError as exc:
            return _render_form(
                request, report=report, forms=forms, error=_handle_error(forms, exc), status=exc.status
            )
        return redirect("capacity:detail", uuid=report.uuid)
    if editable:
        return _render_form(request, report=report, forms=ReportForms(initial=initial_from(report)))
    versions = (
        selectors.report_queryset_for(user)
        .filter(
            provider_id=report.provider_id, plan_id=report.plan_id, year=report.year, quarter=report.quarter
        )
        .order_by("-version")
    )
    return render(
        request,
        "capacity/report_detail.html",
        {
            "report": report,
            "versions": versions,
            "can_correct": permissions.can_edit_reports(user) and report.status == "submitted",
        },
    )


@login_required
@require_POST
def report_correct(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    _require_viewer(user)
    report = selectors.report_get_for_user(user=user, uuid=uuid)
    try:
        draft = services.capacity_report_correct(
            actor=user, report=report, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        versions = selectors.report_queryset_for(user).filter(
            provider_id=report.provider_id, plan_id=report.plan_id, year=report.year, quarter=report.quarter
        )
        return render(
            request,
            "capacity/report_detail.html",
            {"report": report, "versions": versions, "can_correct": True, "error": exc},
            status=exc.status,
        )
    return redirect("capacity:detail", uuid=draft.uuid)


@login_required
def provider_history(request: HttpRequest, uuid: Any) -> HttpResponse:
    """One provider's reports over time: a chart and the same numbers as a table."""
    user = request.user
    _require_viewer(user)
    provider = selectors.provider_get_for_user(user=user, uuid=uuid)
    rows = selectors.provider_history(user=user, provider=provider)
    if request.GET.get("format") == "csv":
        return csv_response(
            "capacity_history.csv",
            [
                "reporting_period",
                "plan_name",
                "version",
                "late",
                "staff_headcount",
                "staff_fte",
                "current_caseload",
                "members_able_to_serve",
                "members_serving",
            ],
            rows,
            lambda r: [
                r.quarter.label,
                r.plan,
                r.version,
                "yes" if r.submitted_late else "no",
                r.staff_headcount,
                r.staff_fte,
                r.current_caseload,
                r.capacity,
                r.serving,
            ],
        )
    plans = sorted({r.plan for r in rows})
    labels = sorted({r.quarter for r in rows})
    datasets = []
    for plan in plans:
        by_quarter = {r.quarter: r for r in rows if r.plan == plan}
        suffix = f" ({plan})" if len(plans) > 1 else ""
        datasets.append(
            {
                "label": f"Capacity{suffix}",
                "data": [by_quarter[q].capacity if q in by_quarter else None for q in labels],
            }
        )
        datasets.append(
            {
                "label": f"Caseload{suffix}",
                "data": [by_quarter[q].serving if q in by_quarter else None for q in labels],
            }
        )
        datasets.append(
            {
                "label": f"Staff FTE{suffix}",
                "data": [float(by_quarter[q].staff_fte) if q in by_quarter else None for q in labels],
                "yAxisID": "fte",
            }
        )
    chart = {"labels": [q.label for q in labels], "datasets": datasets}
    return render(request, "capacity/history.html", {"provider": provider, "rows": rows, "chart": chart})


@login_required
def adequacy(request: HttpRequest) -> HttpResponse:
    """The network adequacy matrix: county x service, from each provider's latest submitted report."""
    user = request.user
    if not permissions.is_plan_viewer(user):
        raise PermissionDenied("The plan's network and reporting staff see the adequacy matrix.")
    form = MatrixFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: form.cleaned_data[k] for k in ("as_of", "county", "service")}
    cells = selectors.adequacy_matrix(user=user, **filters) if not form.errors else []
    if request.GET.get("format") == "csv":
        audit_record(
            actor=user, action="export", object_type="capacity_matrix", detail={"filters": request.GET.dict()}
        )
        return csv_response("network_adequacy.csv", MATRIX_CSV_HEADER, cells, matrix_csv_values)
    counties = sorted({c.county for c in cells})
    services_ = sorted({c.service for c in cells})
    grid = {(c.county, c.service): c for c in cells}
    table = [(county, [grid.get((county, s)) for s in services_]) for county in counties]
    params = request.GET.copy()
    params.pop("format", None)
    return render(
        request,
        "capacity/adequacy.html",
        {
            "form": form,
            "cells": cells,
            "services": services_,
            "table": table,
            "csv_query": params.urlencode(),
            "totals": {
                "capacity": sum(c.capacity for c in cells),
                "caseload": sum(c.caseload for c in cells),
            },
        },
    )
