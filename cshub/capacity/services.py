"""Every write of staffing and capacity reports (rule D3), each in one transaction with its audit row.

A report is created as a draft, saved as often as needed, then submitted; a submitted report is read-only.
A correction copies the submitted version into a new draft (version + 1); submitting it marks the earlier
version superseded, which is kept. Bad input raises `DomainError` with every field's problem and saves
nothing. Locks: each transition takes `select_for_update` on the report it changes.

`capacity_notices_send` is the periodic job's service: reminders N days before the due date and a late flag
after it, one `CapacityNotice` row per (provider, plan, quarter, kind), so running it twice sends nothing
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from cshub.accounts.models import Organization
from cshub.accounts.roles import PROVIDER_LEADERSHIP_ROLES, OrganizationKind
from cshub.capacity import errors, permissions, schedule, selectors
from cshub.capacity.models import (
    CapacityLine,
    CapacityNotice,
    CapacityReport,
    ReportStatus,
    StaffLine,
    StaffRole,
)
from cshub.capacity.schedule import Quarter
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
from cshub.core.models import County
from cshub.notifications.services import notify

MAX_LINES = 500
MAX_COUNT = 1_000_000
MAX_FTE = Decimal("99999.99")


@dataclass
class StaffInput:
    role: str
    headcount: Any
    fte: Any
    role_detail: str = ""


@dataclass
class CapacityInput:
    service: str  # catalog service key
    county: str  # county name
    members_able_to_serve: Any
    members_serving: Any


@dataclass
class ReportInput:
    current_caseload: Any = None
    notes: str = ""
    staff: list[StaffInput] = field(default_factory=list)
    capacity: list[CapacityInput] = field(default_factory=list)


@dataclass
class _Clean:
    current_caseload: int | None
    notes: str
    staff: list[StaffLine]
    capacity: list[CapacityLine]


# --- Validation -------------------------------------------------------------------------------------------


def _count(value: Any, name: str, problems: list[FieldError], *, required: bool = True) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(FieldError(name, "Enter a number.", "required"))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(FieldError(name, "Enter a whole number.", "invalid"))
        return None
    if not 0 <= number <= MAX_COUNT:
        problems.append(FieldError(name, f"Enter a number from 0 to {MAX_COUNT:,}.", "range"))
        return None
    return number


def _fte(value: Any, name: str, problems: list[FieldError]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(FieldError(name, "Enter the full-time equivalents (for example 2.5).", "required"))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(FieldError(name, "Enter a number such as 2.5.", "invalid"))
        return None
    if not number.is_finite() or number < 0 or number > MAX_FTE or number != number.quantize(Decimal("0.01")):
        problems.append(FieldError(name, "Enter 0 or more, with at most two decimals.", "range"))
        return None
    return number


def _clean(data: ReportInput, *, complete: bool) -> _Clean:
    """Check every field; raise one DomainError naming each problem (nothing is written before this)."""
    problems: list[FieldError] = []
    caseload = _count(data.current_caseload, "current_caseload", problems, required=complete)
    if len(data.staff) > MAX_LINES or len(data.capacity) > MAX_LINES:
        problems.append(FieldError("request", f"At most {MAX_LINES} rows per table.", "too_many"))
        raise DomainError("The report is not valid.", code=errors.REPORT_INVALID, errors=problems)

    staff: list[StaffLine] = []
    for i, line in enumerate(data.staff):
        name = f"staff[{i}]"
        role = (line.role or "").strip()
        if role not in StaffRole.values:
            problems.append(FieldError(f"{name}.role", "Choose a role from the list.", "invalid_choice"))
        detail = (line.role_detail or "").strip()
        if role == StaffRole.OTHER and not detail:
            problems.append(FieldError(f"{name}.role_detail", "Name the role (its title).", "required"))
        if len(detail) > 100:
            problems.append(FieldError(f"{name}.role_detail", "At most 100 characters.", "max_length"))
        headcount = _count(line.headcount, f"{name}.headcount", problems)
        fte = _fte(line.fte, f"{name}.fte", problems)
        if headcount is not None and fte is not None and fte > headcount:
            problems.append(
                FieldError(
                    f"{name}.fte", "FTE cannot be more than the number of people.", "fte_over_headcount"
                )
            )
        staff.append(StaffLine(role=role, role_detail=detail[:100], headcount=headcount or 0, fte=fte or 0))

    services = {s.key: s for s in Service.objects.filter(key__in={c.service for c in data.capacity})}
    counties = {c.name.lower(): c for c in County.objects.filter(name__in={c.county for c in data.capacity})}
    if len(counties) < len({(c.county or "").lower() for c in data.capacity}):  # names typed in another case
        counties = {c.name.lower(): c for c in County.objects.all()}
    capacity: list[CapacityLine] = []
    seen: dict[tuple[int, int], int] = {}
    for i, line in enumerate(data.capacity):
        name = f"capacity[{i}]"
        service = services.get((line.service or "").strip())
        if service is None or not service.active:
            problems.append(
                FieldError(f"{name}.service", "Choose a Community Support from the list.", "unknown")
            )
        county = counties.get((line.county or "").strip().lower())
        if county is None:
            problems.append(FieldError(f"{name}.county", "Choose a California county.", "unknown"))
        able = _count(line.members_able_to_serve, f"{name}.members_able_to_serve", problems)
        serving = _count(line.members_serving, f"{name}.members_serving", problems)
        if service is not None and county is not None:
            key = (service.id, county.id)
            if key in seen:
                problems.append(
                    FieldError(
                        f"{name}.county",
                        f"{service.name} in {county.name} is already on row {seen[key] + 1}.",
                        "duplicate",
                    )
                )
            seen.setdefault(key, i)
            capacity.append(
                CapacityLine(
                    service=service,
                    county=county,
                    members_able_to_serve=able or 0,
                    members_serving=serving or 0,
                )
            )
    if complete:
        if not data.staff:
            problems.append(FieldError("staff", "List the staff by role with their FTE.", "required"))
        if not data.capacity:
            problems.append(
                FieldError("capacity", "Give the capacity of at least one service in one county.", "required")
            )
    if problems:
        message = "The report cannot be submitted." if complete else "The report is not valid."
        raise DomainError(message, code=errors.REPORT_INVALID, errors=problems)
    return _Clean(current_caseload=caseload, notes=(data.notes or "").strip(), staff=staff, capacity=capacity)


# --- Writes ----------------------------------------------------------------------------------------------


def _require_editor(actor: Any, provider: Organization) -> None:
    if not permissions.can_edit_reports(actor) or actor.organization_id != provider.id:
        raise PermissionDeniedError("Only the provider's leadership fills and submits its capacity reports.")


def _write_lines(report: CapacityReport, clean: _Clean) -> None:
    StaffLine.objects.filter(report=report).delete()
    CapacityLine.objects.filter(report=report).delete()
    for line in clean.staff:
        line.report = report
    for line in clean.capacity:
        line.report = report
    StaffLine.objects.bulk_create(clean.staff)
    CapacityLine.objects.bulk_create(clean.capacity)


def _locked(report: CapacityReport) -> CapacityReport:
    locked = CapacityReport.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise DomainError(
            "This report was submitted and is read-only; start a correction to change it.",
            code=errors.REPORT_NOT_EDITABLE,
            status=409,
        )
    return locked


@transaction.atomic
def capacity_report_create(
    *, actor: Any, plan: Organization, quarter: Quarter, data: ReportInput | None = None
) -> CapacityReport:
    """Start the quarter's draft report to ``plan`` (rule D3), saving ``data`` when given."""
    provider = actor.organization
    _require_editor(actor, provider)
    problems = []
    if plan is None or plan.kind != OrganizationKind.PLAN:
        problems.append(FieldError("plan", "Choose the plan the report is for.", "invalid_choice"))
    if quarter.start > clock.today():
        problems.append(FieldError("quarter", f"{quarter.label} has not started yet.", "future"))
    if problems:
        raise DomainError("The report cannot be started.", code=errors.REPORT_INVALID, errors=problems)
    clean = _clean(data or ReportInput(), complete=False)
    existing = CapacityReport.objects.filter(
        provider=provider, plan=plan, year=quarter.year, quarter=quarter.quarter
    ).exclude(status=ReportStatus.SUPERSEDED)
    if existing.exists():
        raise DomainError(
            f"There is already a {quarter.label} report to {plan.name}; open it (or correct it).",
            code=errors.REPORT_EXISTS,
            errors=[FieldError("quarter", "A report for this quarter and plan exists.", "duplicate")],
            status=409,
        )
    try:
        with transaction.atomic():
            report = CapacityReport.objects.create(
                provider=provider,
                plan=plan,
                year=quarter.year,
                quarter=quarter.quarter,
                due_date=schedule.due_date(quarter),
                current_caseload=clean.current_caseload,
                notes=clean.notes,
                created_by=actor,
                updated_by=actor,
            )
    except IntegrityError:  # a concurrent request created it first
        raise DomainError(
            f"There is already a {quarter.label} report to {plan.name}.",
            code=errors.REPORT_EXISTS,
            status=409,
        ) from None
    _write_lines(report, clean)
    audit_record(
        actor=actor,
        action="create",
        object_type="capacity_report",
        object_id=report.uuid,
        detail={"period": quarter.label, "plan": str(plan.uuid)},
    )
    return report


@transaction.atomic
def capacity_report_save(*, actor: Any, report: CapacityReport, data: ReportInput) -> CapacityReport:
    """Save the draft (every field checked; nothing saved when one is wrong)."""
    _require_editor(actor, report.provider)
    report = _locked(report)
    clean = _clean(data, complete=False)
    report.current_caseload = clean.current_caseload
    report.notes = clean.notes
    report.updated_by = actor
    report.save(update_fields=["current_caseload", "notes", "updated_by", "updated_at"])
    _write_lines(report, clean)
    audit_record(actor=actor, action="update", object_type="capacity_report", object_id=report.uuid)
    return report


@transaction.atomic
def capacity_report_submit(
    *, actor: Any, report: CapacityReport, data: ReportInput | None = None
) -> CapacityReport:
    """Submit the draft (rule D3), saving ``data`` first when given, all in one transaction: a report that
    is not complete is refused with every missing field and nothing is saved. A correction supersedes the
    version it corrects; the quarter's late flag is that of its first submission."""
    _require_editor(actor, report.provider)
    report = _locked(report)
    if data is None:
        data = report_input_from(report)
    clean = _clean(data, complete=True)
    now = clock.now()
    previous = None
    if report.supersedes_id:
        previous = CapacityReport.objects.select_for_update().get(pk=report.supersedes_id)
        previous.status = ReportStatus.SUPERSEDED
        previous.save(update_fields=["status", "updated_at"])
    report.current_caseload = clean.current_caseload
    report.notes = clean.notes
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = now
    report.submitted_by = actor
    report.submitted_late = previous.submitted_late if previous else now > clock.end_of_day(report.due_date)
    report.updated_by = actor
    report.save()
    _write_lines(report, clean)
    audit_record(
        actor=actor,
        action="update",
        object_type="capacity_report",
        object_id=report.uuid,
        detail={
            "event": "submitted",
            "period": report.period,
            "version": report.version,
            "late": report.submitted_late,
        },
    )
    return report


@transaction.atomic
def capacity_report_correct(*, actor: Any, report: CapacityReport, reason: str) -> CapacityReport:
    """Start a correction of a submitted report: a new draft version copied from it. The submitted version
    stays current (and is kept) until the correction is submitted."""
    _require_editor(actor, report.provider)
    report = CapacityReport.objects.select_for_update().get(pk=report.pk)
    reason = (reason or "").strip()
    if report.status != ReportStatus.SUBMITTED:
        raise DomainError(
            "Only the current submitted version can be corrected.",
            code=errors.REPORT_NOT_EDITABLE,
            status=409,
        )
    if not reason:
        raise DomainError(
            "Say what the correction changes.",
            code=errors.REPORT_INVALID,
            errors=[FieldError("reason", "Say what the correction changes.", "required")],
        )
    if (
        CapacityReport.objects.filter(supersedes=report).exists()
        or CapacityReport.objects.filter(
            provider_id=report.provider_id,
            plan_id=report.plan_id,
            year=report.year,
            quarter=report.quarter,
            status=ReportStatus.DRAFT,
        ).exists()
    ):
        raise DomainError(
            "A correction of this report is already open.", code=errors.REPORT_EXISTS, status=409
        )
    draft = CapacityReport.objects.create(
        provider_id=report.provider_id,
        plan_id=report.plan_id,
        year=report.year,
        quarter=report.quarter,
        version=report.version + 1,
        due_date=report.due_date,
        current_caseload=report.current_caseload,
        notes=report.notes,
        correction_reason=reason[:2000],
        supersedes=report,
        created_by=actor,
        updated_by=actor,
    )
    StaffLine.objects.bulk_create(
        StaffLine(report=draft, role=s.role, role_detail=s.role_detail, headcount=s.headcount, fte=s.fte)
        for s in report.staff_lines.order_by("id")
    )
    CapacityLine.objects.bulk_create(
        CapacityLine(
            report=draft,
            service_id=c.service_id,
            county_id=c.county_id,
            members_able_to_serve=c.members_able_to_serve,
            members_serving=c.members_serving,
        )
        for c in report.capacity_lines.order_by("id")
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="capacity_report",
        object_id=draft.uuid,
        detail={"event": "correction", "corrects": str(report.uuid), "reason": reason[:500]},
    )
    return draft


def report_input_from(report: CapacityReport) -> ReportInput:
    """The report's saved content as input (to submit a saved draft as is)."""
    return ReportInput(
        current_caseload=report.current_caseload,
        notes=report.notes,
        staff=[
            StaffInput(role=s.role, role_detail=s.role_detail, headcount=s.headcount, fte=s.fte)
            for s in report.staff_lines.order_by("id")
        ],
        capacity=[
            CapacityInput(
                service=c.service.key,
                county=c.county.name,
                members_able_to_serve=c.members_able_to_serve,
                members_serving=c.members_serving,
            )
            for c in report.capacity_lines.select_related("service", "county").order_by("id")
        ],
    )


# --- Reminders and late flags (the periodic job) ----------------------------------------------------------


def _claim(*, provider: Organization, plan: Organization, quarter: Quarter, kind: str, now: Any) -> bool:
    """Insert the notice row; False when it was already sent (the job ran before)."""
    try:
        with transaction.atomic():
            _, created = CapacityNotice.objects.get_or_create(
                provider=provider,
                plan=plan,
                year=quarter.year,
                quarter=quarter.quarter,
                kind=kind,
                defaults={"due_date": schedule.due_date(quarter), "sent_at": now},
            )
    except IntegrityError:
        return False
    return created


def capacity_notices_send(*, today: date | None = None) -> int:
    """Rule D3: remind each expected provider's leadership N days before the quarter's due date (each N of
    ``CSHUB_CAPACITY_REMINDER_DAYS``; when the job missed a day only the nearest reminder is sent) and flag
    the quarter late after its due date (the provider's leadership and the plan's network staff are told).
    A provider that has submitted the quarter's report gets neither. Returns the number of notices sent."""
    today = today or clock.today()
    now = clock.now()
    sent = 0
    upcoming = schedule.quarter_due_next(today)
    due = schedule.due_date(upcoming)
    days_left = (due - today).days
    in_window = [n for n in schedule.reminder_days() if days_left <= n]
    overdue = schedule.last_due_passed(today)
    pairs = selectors.expected_reporters(on=today)
    if not pairs:
        return 0
    done_upcoming = selectors.submitted_pairs(quarter=upcoming)
    done_overdue = selectors.submitted_pairs(quarter=overdue)
    for reporter in pairs:
        provider, plan = reporter.provider, reporter.plan
        key = (provider.id, plan.id)
        if in_window and key not in done_upcoming and reporter.since <= upcoming:
            n = min(in_window)
            if _claim(provider=provider, plan=plan, quarter=upcoming, kind=f"due_in_{n}", now=now):
                when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
                notify(
                    kind="capacity_report_due",
                    subject=f"Staffing and capacity report for {upcoming.label} due {when}",
                    body=(
                        f"The {upcoming.label} staffing and capacity report to {plan.name} is due "
                        f"{due:%B %-d, %Y} (rule D3)."
                    ),
                    url="/capacity/",
                    organization=provider,
                    roles=PROVIDER_LEADERSHIP_ROLES,
                    object_type="capacity_quarter",
                    object_id=f"{plan.uuid}:{upcoming.key}",
                )
                sent += 1
        if (
            key not in done_overdue
            and reporter.since <= overdue
            and _flag_late(provider=provider, plan=plan, quarter=overdue, now=now)
        ):
            sent += 1
    return sent


def _flag_late(*, provider: Organization, plan: Organization, quarter: Quarter, now: Any) -> bool:
    if not _claim(provider=provider, plan=plan, quarter=quarter, kind="late", now=now):
        return False
    due = schedule.due_date(quarter)
    body = (
        f"The {quarter.label} staffing and capacity report of {provider.name} to {plan.name} was due "
        f"{due:%B %-d, %Y} and has not been submitted (rule D3)."
    )
    subject = f"Late: {quarter.label} staffing and capacity report"
    about = {"object_type": "capacity_quarter", "object_id": f"{plan.uuid}:{quarter.key}"}
    notify(
        kind="capacity_report_late",
        subject=subject,
        body=body,
        url="/capacity/",
        organization=provider,
        roles=PROVIDER_LEADERSHIP_ROLES,
        **about,
    )
    notify(
        kind="capacity_report_late",
        subject=f"{subject}: {provider.name}",
        body=body,
        url="/capacity/",
        organization=plan,
        roles=permissions.PLAN_LATE_NOTICE_ROLES,
        **about,
    )
    return True


def expected_quarters(*, today: date | None = None) -> Sequence[Quarter]:
    """The quarter due next and the one whose due date passed last (for pages that show the schedule)."""
    today = today or clock.today()
    return (schedule.quarter_due_next(today), schedule.last_due_passed(today))
