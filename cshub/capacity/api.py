"""Staffing and capacity reports over REST (rule D3; issue 4 items 8-9): the schedule, the reports in the
caller's scope (filter, paginate, CSV), one report, draft/save/submit/correct, a provider's history and the
network adequacy matrix. Parse, call a selector or service, shape. Out of scope is 404."""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.capacity import permissions, schedule, selectors, services, views
from cshub.capacity.models import CapacityReport
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.core.pagination import csv_response

router = Router(tags=["capacity"])


class StaffLineIO(Schema):
    role: str
    role_detail: str = ""
    headcount: int | str
    fte: Decimal | str


class CapacityLineIO(Schema):
    service: str
    county: str
    members_able_to_serve: int | str
    members_serving: int | str


class ReportBodyIn(Schema):
    current_caseload: int | str | None = None
    notes: str = ""
    staff: list[StaffLineIO] = []
    capacity: list[CapacityLineIO] = []


class ReportCreateIn(ReportBodyIn):
    plan: UUID
    quarter: str  # YYYY-Qn
    submit: bool = False


class ReportSaveIn(ReportBodyIn):
    submit: bool = False


class CorrectIn(Schema):
    reason: str


class ReportOut(Schema):
    id: UUID
    provider: UUID
    provider_name: str
    plan: UUID
    plan_name: str
    reporting_period: str
    quarter: str
    version: int
    status: str
    due_date: date
    submitted_at: datetime | None
    late: bool
    current_caseload: int | None
    staff_fte: Decimal | None = None
    members_able_to_serve: int | None = None
    members_serving: int | None = None


class ReportDetailOut(ReportOut):
    notes: str
    correction_reason: str
    supersedes: UUID | None
    staff: list[StaffLineIO]
    capacity: list[CapacityLineIO]


class ScheduleOut(Schema):
    quarter: str
    reporting_period: str
    due_date: date
    reminder_days: list[int]
    last_due_quarter: str
    last_due_date: date


class HistoryOut(Schema):
    reporting_period: str
    plan_name: str
    version: int
    late: bool
    staff_headcount: int
    staff_fte: Decimal
    current_caseload: int | None
    members_able_to_serve: int
    members_serving: int


class MatrixCellOut(Schema):
    county: str
    service: str
    service_key: str
    providers: int
    members_able_to_serve: int
    members_serving: int
    capacity_check: str


def _out(r: CapacityReport) -> dict[str, Any]:
    return {
        "id": r.uuid,
        "provider": r.provider.uuid,
        "provider_name": r.provider.name,
        "plan": r.plan.uuid,
        "plan_name": r.plan.name,
        "reporting_period": r.period,
        "quarter": f"{r.year}-Q{r.quarter}",
        "version": r.version,
        "status": r.status,
        "due_date": r.due_date,
        "submitted_at": r.submitted_at,
        "late": r.submitted_late,
        "current_caseload": r.current_caseload,
        "staff_fte": getattr(r, "total_fte", None),
        "members_able_to_serve": getattr(r, "total_capacity", None),
        "members_serving": getattr(r, "total_serving", None),
    }


def _detail(r: CapacityReport) -> dict[str, Any]:
    return {
        **_out(r),
        "staff_fte": sum((s.fte for s in r.staff_lines.all()), Decimal("0")),
        "members_able_to_serve": sum(c.members_able_to_serve for c in r.capacity_lines.all()),
        "members_serving": sum(c.members_serving for c in r.capacity_lines.all()),
        "notes": r.notes,
        "correction_reason": r.correction_reason,
        "supersedes": r.supersedes.uuid if r.supersedes_id else None,
        "staff": [
            {"role": s.role, "role_detail": s.role_detail, "headcount": s.headcount, "fte": s.fte}
            for s in r.staff_lines.all()
        ],
        "capacity": [
            {
                "service": c.service.key,
                "county": c.county.name,
                "members_able_to_serve": c.members_able_to_serve,
                "members_serving": c.members_serving,
            }
            for c in r.capacity_lines.all()
        ],
    }


def _input(body: ReportBodyIn) -> services.ReportInput:
    return services.ReportInput(
        current_caseload=body.current_caseload,
        notes=body.notes,
        staff=[services.StaffInput(**s.dict()) for s in body.staff],
        capacity=[services.CapacityInput(**c.dict()) for c in body.capacity],
    )


def _quarter(raw: str | None, field: str) -> schedule.Quarter | None:
    if not raw:
        return None
    quarter = schedule.parse_quarter(raw)
    if quarter is None:
        raise DomainError(
            "The request is not valid.",
            errors=[FieldError(field, "Enter a quarter such as 2026-Q3.", "invalid")],
        )
    return quarter


def _require_viewer(request: HttpRequest) -> Any:
    if not permissions.can_view_reports(request.user):
        raise PermissionDenied(
            "Capacity reports are for the provider's leadership and the plan's network staff."
        )
    return request.user


def _filtered(
    request: HttpRequest, quarter: str | None, provider: UUID | None, status: str, late: bool | None
) -> Any:
    user = _require_viewer(request)
    return selectors.report_list(
        user=user,
        quarter=_quarter(quarter, "quarter"),
        provider=str(provider) if provider else "",
        status=status,
        late=late,
    )


@router.get("/schedule", response=ScheduleOut, summary="The quarter due next and its due date (rule D3)")
def capacity_schedule(request: HttpRequest) -> dict[str, Any]:
    upcoming, passed = schedule.quarter_due_next(), schedule.last_due_passed()
    return {
        "quarter": upcoming.key,
        "reporting_period": upcoming.label,
        "due_date": upcoming.due_date,
        "reminder_days": list(schedule.reminder_days()),
        "last_due_quarter": passed.key,
        "last_due_date": passed.due_date,
    }


class ReportPagination(LimitOffsetPagination):
    """Limit/offset over the queryset; only the page's rows are shaped."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["items"] = [_out(r) for r in page["items"]]
        return page


@router.get("/reports", response=list[ReportOut], summary="Reports in the caller's scope, with late flags")
@paginate(ReportPagination)
def report_list(
    request: HttpRequest,
    quarter: str | None = None,
    provider: UUID | None = None,
    status: str = "",
    late: bool | None = None,
) -> Any:
    return _filtered(request, quarter, provider, status, late)


@router.get("/reports/export", summary="The same list as CSV", response={200: None})
def report_export(
    request: HttpRequest,
    quarter: str | None = None,
    provider: UUID | None = None,
    status: str = "",
    late: bool | None = None,
) -> HttpResponse:
    reports = _filtered(request, quarter, provider, status, late)
    audit_record(
        actor=request.user, action="export", object_type="capacity_report", detail={"channel": "api"}
    )
    return csv_response(
        "capacity_reports.csv",
        views.REPORT_CSV_HEADER,
        reports.iterator(chunk_size=2000),
        views.report_csv_values,
    )


@router.post("/reports", response={201: ReportDetailOut}, summary="Start a quarter's report (and submit it)")
def report_create(request: HttpRequest, body: ReportCreateIn) -> Any:
    from django.db import transaction

    user = request.user
    if not permissions.can_edit_reports(user):
        raise PermissionDenied("The provider's leadership fills capacity reports.")
    quarter = _quarter(body.quarter, "quarter")
    plan = Organization.objects.filter(uuid=body.plan, kind=OrganizationKind.PLAN).first()
    if plan is None:
        raise DomainError(
            "The request is not valid.", errors=[FieldError("plan", "No such plan.", "invalid")]
        )
    data = _input(body)
    with transaction.atomic():
        report = services.capacity_report_create(actor=user, plan=plan, quarter=quarter, data=data)
        if body.submit:
            services.capacity_report_submit(actor=user, report=report, data=data)
    return Status(201, _detail(selectors.report_get_for_user(user=user, uuid=report.uuid)))


@router.get("/reports/{report_id}", response=ReportDetailOut, summary="One report with its rows")
def report_get(request: HttpRequest, report_id: UUID) -> dict[str, Any]:
    user = _require_viewer(request)
    return _detail(selectors.report_get_for_user(user=user, uuid=report_id))


@router.put("/reports/{report_id}", response=ReportDetailOut, summary="Save the draft (and submit it)")
def report_save(request: HttpRequest, report_id: UUID, body: ReportSaveIn) -> dict[str, Any]:
    user = _require_viewer(request)
    report = selectors.report_get_for_user(user=user, uuid=report_id)
    if body.submit:
        services.capacity_report_submit(actor=user, report=report, data=_input(body))
    else:
        services.capacity_report_save(actor=user, report=report, data=_input(body))
    return _detail(selectors.report_get_for_user(user=user, uuid=report_id))


@router.post("/reports/{report_id}/submit", response=ReportDetailOut, summary="Submit the saved draft")
def report_submit(request: HttpRequest, report_id: UUID) -> dict[str, Any]:
    user = _require_viewer(request)
    report = selectors.report_get_for_user(user=user, uuid=report_id)
    services.capacity_report_submit(actor=user, report=report)
    return _detail(selectors.report_get_for_user(user=user, uuid=report_id))


@router.post(
    "/reports/{report_id}/correct",
    response={201: ReportDetailOut},
    summary="Start a correction (new version)",
)
def report_correct(request: HttpRequest, report_id: UUID, body: CorrectIn) -> Any:
    user = _require_viewer(request)
    report = selectors.report_get_for_user(user=user, uuid=report_id)
    draft = services.capacity_report_correct(actor=user, report=report, reason=body.reason)
    return Status(201, _detail(selectors.report_get_for_user(user=user, uuid=draft.uuid)))


@router.get("/providers/{provider_id}/history", response=list[HistoryOut], summary="A provider's history")
def provider_history(request: HttpRequest, provider_id: UUID) -> list[dict[str, Any]]:
    user = _require_viewer(request)
    provider = selectors.provider_get_for_user(user=user, uuid=provider_id)
    return [
        {
            "reporting_period": r.quarter.label,
            "plan_name": r.plan,
            "version": r.version,
            "late": r.submitted_late,
            "staff_headcount": r.staff_headcount,
            "staff_fte": r.staff_fte,
            "current_caseload": r.current_caseload,
            "members_able_to_serve": r.capacity,
            "members_serving": r.serving,
        }
        for r in selectors.provider_history(user=user, provider=provider)
    ]


def _matrix(request: HttpRequest, as_of: str | None, county: str, service: str) -> list[selectors.MatrixCell]:
    if not permissions.is_plan_viewer(request.user):
        raise PermissionDenied("The plan's network and reporting staff see the adequacy matrix.")
    return selectors.adequacy_matrix(
        user=request.user, as_of=_quarter(as_of, "as_of"), county=county, service=service
    )


@router.get("/adequacy", response=list[MatrixCellOut], summary="Network adequacy matrix: county x service")
def adequacy(
    request: HttpRequest, as_of: str | None = None, county: str = "", service: str = ""
) -> list[dict]:
    return [
        {
            "county": c.county,
            "service": c.service,
            "service_key": c.service_key,
            "providers": c.providers,
            "members_able_to_serve": c.capacity,
            "members_serving": c.caseload,
            "capacity_check": "members_serving exceeds members_able_to_serve" if c.over_capacity else "",
        }
        for c in _matrix(request, as_of, county, service)
    ]


@router.get("/adequacy/export", summary="The adequacy matrix as CSV", response={200: None})
def adequacy_export(
    request: HttpRequest, as_of: str | None = None, county: str = "", service: str = ""
) -> HttpResponse:
    cells = _matrix(request, as_of, county, service)
    audit_record(
        actor=request.user, action="export", object_type="capacity_matrix", detail={"channel": "api"}
    )
    return csv_response("network_adequacy.csv", views.MATRIX_CSV_HEADER, cells, views.matrix_csv_values)
