"""Pages of the network path (rules N1-N5). Views parse a form, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cshub.core.audit import audit_record
from cshub.core.errors import DomainError
from cshub.core.pagination import csv_response, list_context
from cshub.core.ratelimit import SubmissionLimit
from cshub.network import forms, permissions, selectors, services
from cshub.network.exports import APPLICATION_CSV, INTEREST_CSV, application_row, interest_row
from cshub.network.models import Application, ApplicationAttachment, GapItemFile

INTEREST_SESSION_KEY = "network_interest_done"


# --- rule N1: the public Provider Interest Form ----------------------------------------------------
# Spam resistance without third parties, as the self-referral page does it: a honeypot field and a
# per-address limit of saved submissions per window (`CSHUB_INTEREST_FORM_RATE_LIMIT`, "5/h").


INTEREST_LIMIT = SubmissionLimit("network:interest", "CSHUB_INTEREST_FORM_RATE_LIMIT")
interest_rate_limited = INTEREST_LIMIT.seconds_to_wait
interest_count_submission = INTEREST_LIMIT.count


@require_http_methods(["GET", "POST"])
def interest_form(request: HttpRequest) -> HttpResponse:
    """No login. A filled honeypot "succeeds" without saving; above the limit the answer is 429."""
    if request.method == "POST":
        wait = interest_rate_limited(request)
        if wait:
            response = render(
                request, "network/interest_limited.html", {"minutes": max(1, -(-wait // 60))}, status=429
            )
            response["Retry-After"] = str(wait)
            return response
    form = forms.InterestFormForm(request.POST or None)
    if request.method == "POST":
        if form.honeypot_filled:
            interest_count_submission(request)
            request.session[INTEREST_SESSION_KEY] = {}
            return redirect("network:interest_done")
        if form.is_valid():
            data = form.cleaned_data
            try:
                pif = services.interest_form_submit(
                    plan=data["plan"], data=data, counties=data["counties"], service_keys=data["services"]
                )
            except DomainError as exc:
                forms.apply_errors(form, exc)
            else:
                interest_count_submission(request)
                request.session[INTEREST_SESSION_KEY] = {"number": pif.number, "email": pif.contact_email}
                return redirect("network:interest_done")
    status = 422 if request.method == "POST" else 200
    return render(request, "network/interest_form.html", {"form": form}, status=status)


@require_GET
def interest_done(request: HttpRequest) -> HttpResponse:
    return render(
        request, "network/interest_done.html", {"done": request.session.get(INTEREST_SESSION_KEY) or {}}
    )


# --- the plan's queue and invitation (rules N1, N2) ------------------------------------------------


def _require_staff(request: HttpRequest) -> None:
    if not permissions.is_network_staff(request.user):
        raise PermissionDenied


@login_required
@require_GET
def interest_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    filters = forms.InterestFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.interest_form_list(user=request.user, filters={k: v for k, v in values.items() if v})
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action="export", object_type="interest_form")
        return csv_response("interest-forms.csv", INTEREST_CSV, qs.iterator(chunk_size=500), interest_row)
    return render(request, "network/interest_list.html", {"filters": filters, **list_context(request, qs)})


@login_required
@require_http_methods(["GET", "POST"])
def interest_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    _require_staff(request)
    pif = selectors.interest_form_get_for_user(user=request.user, uuid=uuid)
    invite = forms.InviteForm(request.POST or None, initial={"version": pif.version})
    if request.method == "POST":
        if request.POST.get("action") == "close":
            try:
                services.interest_form_close(
                    actor=request.user, interest_form=pif, reason=request.POST.get("reason", "")
                )
            except DomainError as exc:
                invite.add_error(None, exc.message)
            else:
                return redirect("network:interest_detail", uuid=pif.uuid)
        elif invite.is_valid():
            data = invite.cleaned_data
            try:
                app = services.interest_form_invite(
                    actor=request.user,
                    interest_form=pif,
                    organization=data["organization"],
                    email=data["email"] or "",
                    full_name=data["full_name"] or "",
                    expected_version=data["version"],
                    request=request,
                )
            except DomainError as exc:
                forms.apply_errors(invite, exc)
            else:
                return redirect("network:application_detail", uuid=app.uuid)
    status = 422 if request.method == "POST" else 200
    return render(request, "network/interest_detail.html", {"pif": pif, "invite": invite}, status=status)


# --- applications: the review queue and the provider's own (rules N2-N5) ---------------------------


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_use_network(request.user):
        raise PermissionDenied
    filters = forms.ApplicationFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.application_list(user=request.user, filters={k: v for k, v in values.items() if v})
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action="export", object_type="network_application")
        return csv_response("applications.csv", APPLICATION_CSV, qs.iterator(chunk_size=500), application_row)
    context = {
        "filters": filters,
        "staff": permissions.is_network_staff(request.user),
        **list_context(request, qs),
    }
    return render(request, "network/application_list.html", context)


def _section_rows(app: Application, posted: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    attachments: dict[str, list[ApplicationAttachment]] = {}
    for att in app.attachments.all():
        attachments.setdefault(att.section, []).append(att)
    findings: dict[str, list[Any]] = {}
    for f in app.findings.all():
        findings.setdefault(f.section, []).append(f)
    rows = []
    for section in services.application_sections(app):
        answers = (posted or {}).get(section.id) or app.answers.get(section.id, {})
        rows.append(
            {
                "section": section,
                "questions": [
                    {"q": q, "value": answers.get(q.key, ""), "name": f"{section.id}.{q.key}"}
                    for q in section.questions
                ],
                "attachments": attachments.get(section.id, []),
                "findings": findings.get(section.id, []),
            }
        )
    return rows


def _posted_answers(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """Inputs are named "<section id>.<question key>" (section ids may hold a "/", never a ".")."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in request.POST.items():
        if "." in name:
            section, key = name.rsplit(".", 1)
            out.setdefault(section, {})[key] = value
    return out


def _detail_context(request: HttpRequest, app: Application, **extra: Any) -> dict[str, Any]:
    staff = permissions.is_network_staff(request.user)
    context: dict[str, Any] = {
        "app": app,
        "staff": staff,
        "applicant": permissions.is_applicant(request.user),
        "rows": _section_rows(app, extra.pop("posted", None)),
        "missing": services.application_missing(app) if app.status == Application.Status.DRAFT else [],
        "decisions": app.decisions.all(),
        "gap_items": app.gap_items.prefetch_related("files").all(),
        "events": selectors.organization_history(user=request.user, organization=app.organization).filter(
            application=app
        ),
        "finding_form": forms.FindingForm(),
        "decision_form": forms.DecisionForm(initial={"version": app.version}),
        "scope_form": forms.ScopeForm(
            initial={
                "services": list(app.services.values_list("key", flat=True)),
                "counties": list(app.counties.values_list("name", flat=True)),
                "version": app.version,
            }
        ),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def application_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    return render(request, "network/application_detail.html", _detail_context(request, app))


@login_required
@require_POST
def application_save(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule N3: save the draft, or (with action=submit) save then submit after the completeness check."""
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    posted = _posted_answers(request)
    try:
        app = services.application_save_draft(
            actor=request.user, application=app, answers=posted, expected_version=request.POST.get("version")
        )
        if request.POST.get("action") == "submit":
            app = services.application_submit(actor=request.user, application=app)
    except DomainError as exc:
        app.refresh_from_db()
        context = _detail_context(
            request, app, error=exc, posted=posted if exc.code != "application_incomplete" else None
        )
        return render(request, "network/application_detail.html", context, status=exc.status)
    return redirect("network:application_detail", uuid=app.uuid)


@login_required
@require_POST
def application_scope(request: HttpRequest, uuid: str) -> HttpResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    form = forms.ScopeForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("The application was not saved.")
        services.application_set_scope(
            actor=request.user,
            application=app,
            service_keys=form.cleaned_data["services"],
            counties=form.cleaned_data["counties"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return render(
            request,
            "network/application_detail.html",
            _detail_context(request, app, error=exc),
            status=exc.status,
        )
    return redirect("network:application_detail", uuid=app.uuid)


@login_required
@require_POST
def attachment_add(request: HttpRequest, uuid: str) -> HttpResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    form = forms.AttachmentForm(request.POST, request.FILES)
    form.is_valid()
    try:
        services.application_attach(
            actor=request.user,
            application=app,
            section=form.cleaned_data.get("section", ""),
            upload=request.FILES.get("file"),
            description=form.cleaned_data.get("description", ""),
        )
    except DomainError as exc:
        return render(
            request,
            "network/application_detail.html",
            _detail_context(request, app, error=exc),
            status=exc.status,
        )
    return redirect("network:application_detail", uuid=app.uuid)


@login_required
@require_GET
def attachment_download(request: HttpRequest, uuid: str, attachment: str) -> FileResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    try:
        att = app.attachments.get(uuid=attachment)
    except (ApplicationAttachment.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    audit_record(actor=request.user, action="read", object_type="network_attachment", object_id=att.uuid)
    return FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type
    )


@login_required
@require_GET
def gap_file_download(request: HttpRequest, item: str, file: str) -> FileResponse:
    gap = selectors.gap_item_get_for_user(user=request.user, uuid=item)
    try:
        f = gap.files.get(uuid=file)
    except (GapItemFile.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    audit_record(actor=request.user, action="read", object_type="network_gap_file", object_id=f.uuid)
    return FileResponse(
        f.file.open("rb"), as_attachment=True, filename=f.original_name, content_type=f.content_type
    )


@login_required
@require_POST
def finding_add(request: HttpRequest, uuid: str) -> HttpResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    form = forms.FindingForm(request.POST)
    form.is_valid()
    try:
        services.finding_record(
            actor=request.user,
            application=app,
            section=form.cleaned_data.get("section", ""),
            rating=form.cleaned_data.get("rating", ""),
            note=form.cleaned_data.get("note", ""),
        )
    except DomainError as exc:
        return render(
            request,
            "network/application_detail.html",
            _detail_context(request, app, error=exc),
            status=exc.status,
        )
    return redirect("network:application_detail", uuid=app.uuid)


@login_required
@require_POST
def decide(request: HttpRequest, uuid: str) -> HttpResponse:
    app = selectors.application_get_for_user(user=request.user, uuid=uuid)
    form = forms.DecisionForm(request.POST)
    form.is_valid()
    try:
        services.application_decide(
            actor=request.user,
            application=app,
            outcome=form.cleaned_data.get("outcome", ""),
            reasons=form.cleaned_data.get("reasons", ""),
            gap_items=form.gap_items() if form.cleaned_data.get("items") else [],
            expected_version=form.cleaned_data.get("version"),
        )
    except DomainError as exc:
        ctx = _detail_context(request, app, error=exc, decision_form=form)
        return render(request, "network/application_detail.html", ctx, status=exc.status)
    return redirect("network:application_detail", uuid=app.uuid)


@login_required
@require_POST
def gap_respond(request: HttpRequest, item: str) -> HttpResponse:
    gap = selectors.gap_item_get_for_user(user=request.user, uuid=item)
    try:
        services.gap_item_respond(
            actor=request.user,
            item=gap,
            response=request.POST.get("response", ""),
            uploads=request.FILES.getlist("files"),
            expected_version=request.POST.get("version") or None,
        )
    except DomainError as exc:
        ctx = _detail_context(request, gap.application, error=exc)
        return render(request, "network/application_detail.html", ctx, status=exc.status)
    return redirect("network:application_detail", uuid=gap.application.uuid)


@login_required
@require_POST
def gap_review(request: HttpRequest, item: str) -> HttpResponse:
    gap = selectors.gap_item_get_for_user(user=request.user, uuid=item)
    try:
        services.gap_item_review(
            actor=request.user,
            item=gap,
            accept=request.POST.get("accept") == "1",
            note=request.POST.get("note", ""),
            expected_version=request.POST.get("version") or None,
        )
    except DomainError as exc:
        ctx = _detail_context(request, gap.application, error=exc)
        return render(request, "network/application_detail.html", ctx, status=exc.status)
    return redirect("network:application_detail", uuid=gap.application.uuid)


@login_required
@require_http_methods(["GET", "POST"])
def participation_request(request: HttpRequest) -> HttpResponse:
    """Rule N5: an existing organization asks to add services or counties (CS) or to provide ECM."""
    if not permissions.is_applicant(request.user):
        raise PermissionDenied
    form = forms.ParticipationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app = services.participation_request_submit(
                actor=request.user,
                plan=data["plan"],
                program=data["program"],
                service_keys=data["services"],
                counties=data["counties"],
                note=data["note"],
            )
        except DomainError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("network:application_detail", uuid=app.uuid)
    status = 422 if request.method == "POST" else 200
    return render(request, "network/participation_request.html", {"form": form}, status=status)


def home_card(user: Any) -> dict[str, Any] | None:
    """For cshub/web home: the provider's latest application and open gap items (rule N4)."""
    return selectors.home_card(user=user)
