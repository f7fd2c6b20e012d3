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
from django.urls import reverse

from cshub.core import clock
from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import csv_response, list_context
from cshub.members import permissions, selectors, services, timeline
from cshub.members.errors import RosterRejected
from cshub.members.forms import (
    ANSWER_PREFIX,
    AssessmentForm,
    ConsentForm,
    ConsentRevokeForm,
    ExternalInformationForm,
    GoalForm,
    GoalProgressForm,
    MemberNoteForm,
    MemberSearchForm,
    RosterUploadForm,
    SdohNeedForm,
    SdohResolveForm,
    TimelineFilterForm,
)
from cshub.members.models import GoalProgress, Member, RosterImport
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


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# One page per kind of record: the member's records the user may see (scoped and audited by the selectors),
# and, for the provider's care roles, a form that calls the service. Plan staff read; a POST from a role that
# does not write is 403; a member or record out of scope is 404. The timeline merges every source.

DOCUMENTATION_TABS = [
    ("consents", "Consents", "members:consents"),
    ("assessments", "Assessments", "members:assessments"),
    ("sdoh_needs", "SDOH needs", "members:sdoh_needs"),
    ("goals", "Goals", "members:goals"),
    ("notes", "Notes", "members:notes"),
    ("external_information", "Information received", "members:external_information"),
    ("timeline", "Timeline", "members:timeline"),
]
TIMELINE_HEADER = ["at", "kind", "title", "detail", "organization", "url"]


def _doc_member(request: HttpRequest, uuid: str) -> Member:
    """The member of a documentation page (404 when out of scope; the read is audited)."""
    member = selectors.member_get_for_user(
        user=request.user, uuid=uuid, purpose="documentation", related=False
    )
    if not permissions.can_view_documentation(request.user):
        raise Http404("No such member")
    return member


def _require_write(request: HttpRequest) -> None:
    if not permissions.can_write_documentation(request.user):
        raise PermissionDenied("Rule M2: the provider's care staff record member documentation.")


def _services() -> list[tuple[str, str]]:
    from cshub.catalog.selectors import service_list

    return list(service_list().values_list("key", "name"))


def _doc_render(
    request: HttpRequest,
    member: Member,
    tab: str,
    template: str,
    records: list[Any],
    form: Any | None,
    **extra: Any,
) -> HttpResponse:
    context = {
        "member": member,
        "tab": tab,
        "tabs": DOCUMENTATION_TABS,
        "can_write": permissions.can_write_documentation(request.user),
        "form": form,
        "today": clock.today(),
        **list_context(request, records),
        **extra,
    }
    invalid = form is not None and request.method == "POST" and bool(form.errors)
    return render(request, template, context, status=422 if invalid else 200)


def _created(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(request.path)


def _document_response(record: Any) -> FileResponse:
    if not record.document:
        raise Http404("No document is stored for this record.")
    return FileResponse(
        record.document.open("rb"),
        as_attachment=True,
        filename=record.document_name or Path(record.document.name).name,
        content_type=record.document_content_type or "application/octet-stream",
    )


@login_required
def consents(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    form = ConsentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.consent_create(
                    actor=request.user,
                    member=member,
                    scopes=data["scopes"],
                    scope_detail=data["scope_detail"],
                    recipients=data["recipients"],
                    signed_on=data["signed_on"],
                    expires_on=data["expires_on"],
                    document=request.FILES.get("document"),
                )
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                return _created(request, "The consent was recorded.")
    records = selectors.consent_list(user=request.user, member=member)
    return _doc_render(
        request,
        member,
        "consents",
        "members/doc_consents.html",
        records,
        form,
        revoke_form=ConsentRevokeForm(),
    )


@login_required
def consent_revoke(request: HttpRequest, uuid: str, record: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    consent = selectors.consent_get_for_user(user=request.user, member=member, uuid=record, purpose="revoke")
    if request.method != "POST":
        return redirect("members:consents", uuid=member.uuid)
    _require_write(request)
    form = ConsentRevokeForm(request.POST)
    if form.is_valid():
        try:
            services.consent_revoke(
                actor=request.user,
                consent=consent,
                reason=form.cleaned_data["reason"],
                revoked_on=form.cleaned_data["revoked_on"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The consent was revoked.")
    else:
        messages.error(request, "The revocation date is not valid.")
    return redirect("members:consents", uuid=member.uuid)


@login_required
def consent_document(request: HttpRequest, uuid: str, record: str) -> FileResponse:
    member = _doc_member(request, uuid)
    consent = selectors.consent_get_for_user(
        user=request.user, member=member, uuid=record, purpose="download"
    )
    return _document_response(consent)


def _assessment_template(request: HttpRequest) -> Any:
    from cshub.members.assessments import template_for_service

    key = (request.POST if request.method == "POST" else request.GET).get("service", "")
    return template_for_service(key or None)


@login_required
def assessments(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    service_choices = _services()
    template = _assessment_template(request)
    data = request.POST if request.method == "POST" else None
    initial = {"service": request.GET.get("service", ""), "assessed_on": clock.today()}
    form = AssessmentForm(data, template=template, services=service_choices, initial=initial)
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            try:
                services.assessment_create(
                    actor=request.user,
                    member=member,
                    service_key=form.cleaned_data["service"] or None,
                    assessed_on=form.cleaned_data["assessed_on"],
                    answers=form.answers(),
                )
            except DomainError as exc:
                _apply_answer_errors(form, exc)
            else:
                return _created(request, "The assessment was recorded.")
    records = selectors.assessment_list(user=request.user, member=member)
    return _doc_render(request, member, "assessments", "members/doc_assessments.html", records, form)


def _apply_answer_errors(form: AssessmentForm, exc: DomainError) -> None:
    """Errors `answers.<key>` go beside the question's field `answer_<key>`."""
    for e in exc.errors:
        name = e.field.replace("answers.", ANSWER_PREFIX, 1) if e.field.startswith("answers.") else e.field
        form.add_error(name if name in form.fields else None, e.message)
    if not exc.errors:
        form.add_error(None, str(exc))


@login_required
def assessment_form(request: HttpRequest, uuid: str) -> HttpResponse:
    """The questions of the chosen service's template (htmx swaps them into the form)."""
    member = _doc_member(request, uuid)
    _require_write(request)
    form = AssessmentForm(template=_assessment_template(request), services=_services())
    return render(request, "members/_assessment_questions.html", {"form": form, "member": member})


@login_required
def assessment_detail(request: HttpRequest, uuid: str, record: str) -> HttpResponse:
    from cshub.members.assessments import answer_display, template_get

    member = _doc_member(request, uuid)
    assessment = selectors.assessment_get_for_user(user=request.user, member=member, uuid=record)
    template = template_get(assessment.template_key, assessment.template_version)
    rows = []
    if template is not None:
        for q in template.questions:
            if q.key in assessment.answers:
                rows.append((q.label, answer_display(q, assessment.answers[q.key])))
    else:  # the template changed since: show the answers by key
        rows = [(key, answer_display(None, value)) for key, value in assessment.answers.items()]
    context = {
        "member": member,
        "tab": "assessments",
        "tabs": DOCUMENTATION_TABS,
        "assessment": assessment,
        "template": template,
        "rows": rows,
    }
    return render(request, "members/doc_assessment_detail.html", context)


@login_required
def sdoh_needs(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    form = SdohNeedForm(request.POST or None, initial={"identified_on": clock.today()})
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            try:
                need = services.sdoh_need_create(
                    actor=request.user,
                    member=member,
                    code=form.cleaned_data["code"],
                    identified_on=form.cleaned_data["identified_on"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                return _created(request, f"Recorded {need.code} {need.description}.")
    records = selectors.sdoh_need_list(user=request.user, member=member)
    return _doc_render(
        request,
        member,
        "sdoh_needs",
        "members/doc_sdoh_needs.html",
        records,
        form,
        resolve_form=SdohResolveForm(),
    )


@login_required
def sdoh_need_resolve(request: HttpRequest, uuid: str, record: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    need = selectors.sdoh_need_get_for_user(user=request.user, member=member, uuid=record, purpose="resolve")
    if request.method != "POST":
        return redirect("members:sdoh_needs", uuid=member.uuid)
    _require_write(request)
    form = SdohResolveForm(request.POST)
    if form.is_valid():
        try:
            services.sdoh_need_resolve(
                actor=request.user,
                need=need,
                resolved_on=form.cleaned_data["resolved_on"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{need.code} was marked resolved.")
    else:
        messages.error(request, "The date is not valid.")
    return redirect("members:sdoh_needs", uuid=member.uuid)


@login_required
def sdoh_code_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: the description of a typed code, its error, or the codes whose description matches the words."""
    from cshub.members import sdoh

    if not permissions.can_view_documentation(request.user):
        raise PermissionDenied
    query = request.GET.get("code", "").strip()
    context: dict[str, Any] = {"query": query}
    if query:
        try:
            context["code"], context["description"] = sdoh.sdoh_code_check(query)
        except DomainError as exc:
            context["error"] = exc.errors[0].message
            context["matches"] = sdoh.sdoh_code_search(query)
    return render(request, "members/_sdoh_lookup.html", context)


@login_required
def goals(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    form = GoalForm(request.POST or None, services=_services())
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.goal_create(
                    actor=request.user,
                    member=member,
                    description=data["description"],
                    target_date=data["target_date"],
                    service_key=data["service"] or None,
                    status=data["status"] or "not_started",
                    note=data["note"],
                )
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                return _created(request, "The goal was recorded.")
    records = selectors.goal_list(user=request.user, member=member)
    labels = dict(GoalProgress.Status.choices)
    for goal in records:
        goal.current_status_label = labels.get(goal.current_status, "Not started")
    return _doc_render(
        request, member, "goals", "members/doc_goals.html", records, form, progress_form=GoalProgressForm()
    )


@login_required
def goal_progress(request: HttpRequest, uuid: str, record: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    goal = selectors.goal_get_for_user(user=request.user, member=member, uuid=record, purpose="progress")
    if request.method != "POST":
        return redirect("members:goals", uuid=member.uuid)
    _require_write(request)
    form = GoalProgressForm(request.POST)
    if form.is_valid():
        try:
            services.goal_progress_record(
                actor=request.user,
                goal=goal,
                status=form.cleaned_data["status"],
                recorded_on=form.cleaned_data["recorded_on"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The goal's progress was recorded.")
    else:
        messages.error(request, "The date is not valid.")
    return redirect(f"{reverse('members:goals', args=[member.uuid])}#goal-{goal.uuid}")


@login_required
def notes(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    form = MemberNoteForm(request.POST or None)
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            try:
                services.member_note_create(actor=request.user, member=member, text=form.cleaned_data["text"])
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                return _created(request, "The note was recorded.")
    records = selectors.member_note_list(user=request.user, member=member)
    return _doc_render(request, member, "notes", "members/doc_notes.html", records, form)


@login_required
def external_information(request: HttpRequest, uuid: str) -> HttpResponse:
    member = _doc_member(request, uuid)
    form = ExternalInformationForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _require_write(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.external_information_create(
                    actor=request.user,
                    member=member,
                    source_name=data["source_name"],
                    source_kind=data["source_kind"],
                    received_on=data["received_on"],
                    summary=data["summary"],
                    document=request.FILES.get("document"),
                )
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                return _created(request, "The information was recorded.")
    records = selectors.external_information_list(user=request.user, member=member)
    return _doc_render(
        request, member, "external_information", "members/doc_external_information.html", records, form
    )


@login_required
def external_information_document(request: HttpRequest, uuid: str, record: str) -> FileResponse:
    member = _doc_member(request, uuid)
    info = selectors.external_information_get_for_user(
        user=request.user, member=member, uuid=record, purpose="download"
    )
    return _document_response(info)


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in free text (notes, summaries) of an export (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _timeline_row(entry: timeline.TimelineEntry) -> list[object]:
    return [
        clock.local(entry.at).isoformat(),
        entry.kind,
        _csv_cell(entry.title),
        _csv_cell(entry.detail),
        _csv_cell(entry.organization),
        entry.url,
    ]


@login_required
def member_timeline(request: HttpRequest, uuid: str) -> HttpResponse:
    user = request.user
    wants_csv = request.GET.get("format") == "csv"
    member = _doc_member(request, uuid)
    if wants_csv and not permissions.can_export_timeline(user):
        raise PermissionDenied("Rule D4: only the named reporting and leadership roles export member data.")
    form = TimelineFilterForm(request.GET or None, kinds=timeline.timeline_kinds())
    kinds = form.cleaned_data["kind"] if form.is_valid() else []
    entries = (
        []
        if form.errors
        else timeline.member_timeline(
            user=user, member=member, kinds=kinds, purpose="export" if wants_csv else "view"
        )
    )
    if wants_csv:
        return csv_response(f"timeline-{member.cin}.csv", TIMELINE_HEADER, entries, _timeline_row)
    context = {
        "member": member,
        "tab": "timeline",
        "tabs": DOCUMENTATION_TABS,
        "filter_form": form,
        "can_export": permissions.can_export_timeline(user),
        **list_context(request, entries),
    }
    template = "members/_timeline_rows.html" if request.htmx else "members/doc_timeline.html"
    return render(request, template, context, status=422 if form.errors else 200)
