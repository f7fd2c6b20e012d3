"""Member and roster pages: parse, call a selector or service, render (no rules here).

Every page that shows member data reads it through `selectors` (scoped, deny by default) and audits what it
showed (DESIGN principle 4); exports follow rule D4.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cshub.core import clock
from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import csv_response, list_context
from cshub.members import permissions, selectors, services
from cshub.members.errors import RosterRejected
from cshub.members.forms import MemberSearchForm, RosterUploadForm
from cshub.members.models import Member, RosterImport
from cshub.members.roster import COLUMNS, REQUIRED_COLUMNS, language_names, program_names

EXPORT_HEADER = [
    "id",
    "cin",
    "last_name",
    "first_name",
    "date_of_birth",
    "sex",
    "preferred_language",
    "address_line",
    "city",
    "zip_code",
    "county",
    "phone",
    "email",
    "contact_preference",
    "is_homeless",
    "eligible_today",
]
ERRORS_SHOWN = 100


def _search_filters(form: MemberSearchForm) -> dict[str, Any] | None:
    """The search as `member_search` keywords, or None (and errors on the form) when it is not valid."""
    if not form.is_valid():
        return None
    data = {name: form.cleaned_data[name] for name in form.fields}
    try:
        selectors.member_search_validate(
            last_name=data["last_name"],
            first_name=data["first_name"],
            date_of_birth=data["date_of_birth"],
            county=data["county"],
        )
    except DomainError as exc:
        apply_domain_errors(form, exc)
        return None
    return data


def _export_row(m: Member) -> list[object]:
    return [
        m.uuid,
        m.cin,
        m.last_name,
        m.first_name,
        m.date_of_birth.isoformat(),
        m.sex,
        m.preferred_language,
        m.address_line,
        m.city,
        m.zip_code,
        m.county.name if m.county else "",
        m.phone,
        m.email,
        m.contact_preference,
        "Y" if m.is_homeless else "N",
        "Y" if m.eligible_on_day else "N",
    ]


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_view_members(user):
        raise PermissionDenied
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv and not permissions.can_export_members(user):
        raise PermissionDenied("Rule D4: only the named reporting and leadership roles export member data.")
    form = MemberSearchForm(request.GET)
    filters = _search_filters(form)
    qs = selectors.member_search(user=user, **filters) if filters is not None else Member.objects.none()
    qs = selectors.member_annotate_eligible(qs, user=user, on=clock.today())
    audit_filters = filters or {}
    if wants_csv:
        members = list(qs)
        selectors.audit_member_list(user=user, members=members, purpose="export", filters=audit_filters)
        return csv_response("members.csv", EXPORT_HEADER, members, _export_row)
    context = {
        **list_context(request, qs),
        "form": form,
        "can_export": permissions.can_export_members(user),
        "can_import": permissions.can_import_roster(user),
        "today": clock.today(),
    }
    page = context["page_obj"]
    page.object_list = list(page.object_list)
    purpose = "search" if any(audit_filters.values()) else "list"
    selectors.audit_member_list(user=user, members=page.object_list, purpose=purpose, filters=audit_filters)
    template = "members/_member_rows.html" if request.htmx else "members/member_list.html"
    return render(request, template, context)


@login_required
def member_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    member = selectors.member_get_for_user(user=request.user, uuid=uuid)
    today = clock.today()
    programs = program_names()
    context = {
        "member": member,
        "today": today,
        "language": language_names().get(member.preferred_language, member.preferred_language),
        "spans": [(s, s.covers(today)) for s in member.eligibility_spans.all()],
        "ecm_assignments": member.ecm_assignments.all(),
        "programs": [(p, programs.get(p.program, p.program)) for p in member.program_enrollments.all()],
        "care_team": selectors.member_care_team(user=request.user, member=member),
    }
    return render(request, "members/member_detail.html", context)


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_import_roster(user):
        raise PermissionDenied
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    rejected: RosterRejected | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.roster_import(
                actor=user,
                plan=user.organization,
                file_name=upload.name,
                content=upload.read(),
                channel=RosterImport.Channel.WEB,
            )
        except RosterRejected as exc:
            rejected = exc
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(
                request,
                f"Roster imported: {record.created_count} new, {record.updated_count} updated, "
                f"{record.unchanged_count} unchanged.",
            )
            return redirect("members:import_detail", uuid=record.uuid)
    context = {
        "form": form,
        "rejected": rejected,
        "record": rejected.roster_import if rejected else None,
        "errors_shown": rejected.roster_import.errors[:ERRORS_SHOWN] if rejected else [],
        "required_columns": REQUIRED_COLUMNS,
        "optional_columns": [c for c in COLUMNS if c not in REQUIRED_COLUMNS],
    }
    status = 422 if rejected or form.errors else 200
    return render(request, "members/roster_import.html", context, status=status)


@login_required
def roster_import_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_import_roster(request.user):
        raise PermissionDenied
    context = list_context(request, selectors.roster_import_list(user=request.user))
    return render(request, "members/roster_import_list.html", context)


@login_required
def roster_import_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    record = selectors.roster_import_get_for_user(user=request.user, uuid=uuid)
    context = {"record": record, "errors_shown": record.errors[:ERRORS_SHOWN]}
    return render(request, "members/roster_import_detail.html", context)


@login_required
def roster_import_errors(request: HttpRequest, uuid: str) -> FileResponse:
    record = selectors.roster_import_get_for_user(user=request.user, uuid=uuid, purpose="error_report")
    if not record.error_report:
        raise Http404("This import has no error report.")
    return FileResponse(
        record.error_report.open("rb"),
        as_attachment=True,
        filename=f"{Path(record.original_name).stem}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
