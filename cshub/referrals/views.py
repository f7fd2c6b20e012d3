"""Referral work pages: the provider's intake queue and outreach worklist, the referral list, and the
referral itself with its timeline and one small form per thing that can be done to it.

Views parse, call a selector or a service, render (no rules here). Every page that shows referrals reads
them through `selectors` (scoped, deny by default: out of scope is 404) and audits what it showed. Each
action posts to its own URL; a refused action re-renders the referral with the service's field errors
beside the form (422, or 409 for a conflict or a step the workflow does not allow). With htmx the forms
swap the page's content in place; without JavaScript they post and redirect as usual.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cshub.accounts.roles import SHARED_DATA_ROLES, OrganizationKind
from cshub.catalog.selectors import service_list
from cshub.core import clock
from cshub.core.errors import ConflictError, DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import csv_response, list_context
from cshub.members.selectors import member_queryset_for
from cshub.referrals import permissions, selectors, services
from cshub.referrals.forms import (
    AssignForm,
    DocumentForm,
    EnrollmentEndForm,
    EnrollmentForm,
    FirstContactForm,
    IntakeFilterForm,
    MatchMemberForm,
    OutreachAttemptForm,
    OutreachEndForm,
    ReferOnwardForm,
    ReferralFilterForm,
    StatusForm,
    WorklistFilterForm,
)
from cshub.referrals.models import FirstContactCheck, OutreachAttempt, Referral, ReferralDocument
from cshub.referrals.workflow import workflow

# --- Helpers -------------------------------------------------------------------------------------------


def _services() -> list[tuple[str, str]]:
    return [(s.key, s.name) for s in service_list()]


def _status_of(referral: Referral) -> Any:
    return workflow().statuses.get(referral.status)


def _visible_ids(user: Any, ids: set[int]) -> set[int]:
    """Which of these referrals the user may open (one query), for links to earlier/onward referrals."""
    ids.discard(None)
    if not ids:
        return set()
    return set(selectors.referral_queryset_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def _decorate_rows(user: Any, referrals: list[Referral]) -> list[Referral]:
    """Status, days waiting and whether the earlier referral of a duplicate may be opened, for list rows."""
    today = clock.today()
    visible = _visible_ids(user, {r.duplicate_of_id for r in referrals})
    for r in referrals:
        r.status_obj = _status_of(r)
        r.days_waiting = (today - clock.local(r.received_at).date()).days
        r.duplicate_visible = r.duplicate_of_id in visible
    return referrals


def _can_export_all(user: Any) -> bool:
    """Rule D4: bulk exports of member data are for the named leadership and reporting roles."""
    return user.has_role(*SHARED_DATA_ROLES)


def _default_box(user: Any) -> str:
    if user.is_plan_staff:
        return "all"
    if user.organization is not None and user.organization.kind == OrganizationKind.CS_PROVIDER:
        return "received"
    return "sent"


def _boxes(user: Any) -> list[tuple[str, str]]:
    if user.is_plan_staff:
        return [("all", "Every referral to the plan"), ("unassigned", "Waiting for the plan to assign")]
    return [("received", "Received by us"), ("sent", "Sent by us"), ("all", "Received and sent")]


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- Referral list -------------------------------------------------------------------------------------

# Exports read in chunks, so related rows are fetched per chunk (bounded IN lists on every database).
EXPORT_CHUNK = 2000

LIST_EXPORT_HEADER = [
    "number",
    "kind",
    "status",
    "status_changed_at",
    "status_reason",
    "received_at",
    "channel",
    "service",
    "member_last_name",
    "member_first_name",
    "member_date_of_birth",
    "member_cin",
    "receiving_provider",
    "referring_organization",
    "referrer_name",
    "duplicate_of",
    "outreach_attempts",
]


def _list_export_row(r: Referral) -> list[object]:
    status = _status_of(r)
    return [
        r.number,
        r.kind,
        status.label if status else r.status,
        clock.local(r.status_changed_at).isoformat(),
        r.status_reason,
        clock.local(r.received_at).isoformat(),
        r.get_channel_display(),
        r.service.name if r.service else "Enhanced Care Management",
        r.member_last_name,
        r.member_first_name,
        r.member_date_of_birth.isoformat(),
        r.member_cin,
        r.receiving_provider.name if r.receiving_provider else "",
        r.referring_organization.name if r.referring_organization else "",
        r.referrer_name,
        r.duplicate_of.number if r.duplicate_of else "",
        r.attempt_count,
    ]


@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    """Referrals in the user's scope: received (providers), sent (referrers), or everything and the
    unassigned ones (the plan), with filters, pages and a CSV export.

    CSV export and rule D4: a user in a D4 role (`SHARED_DATA_ROLES`: the provider's leadership, the plan's
    reporting roles) exports whatever the filters select. Anyone else may export only the referrals they
    made themselves (box "sent", narrowed to referrals whose referring user is them: data they supplied);
    any other export is refused (403). Every export is audited with purpose "export".
    """
    user = request.user
    if not permissions.can_view_referrals(user):
        raise PermissionDenied
    default_box = _default_box(user)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    services_ = _services()
    if params:
        form = ReferralFilterForm(request.GET, boxes=_boxes(user), services=services_)
    else:
        form = ReferralFilterForm(initial={"box": default_box}, boxes=_boxes(user), services=services_)
    if form.is_bound and not form.is_valid():
        filters = selectors.ReferralFilters(box="" if default_box == "all" else default_box)
        qs = Referral.objects.none()
    else:
        filters = (
            form.filters(default_box)
            if form.is_bound
            else selectors.ReferralFilters(box="" if default_box == "all" else default_box)
        )
        qs = selectors.referral_list(user=user, filters=filters)
    if request.GET.get("format") == "csv":
        if not _can_export_all(user):
            if filters.box != "sent":
                raise PermissionDenied(
                    "Rule D4: only leadership and reporting roles export referrals; "
                    "you may export the referrals you sent (Show: Sent by us)."
                )
            qs = qs.filter(referring_user=user)
        rows = list(qs.iterator(chunk_size=EXPORT_CHUNK))  # related rows fetched per chunk
        selectors.audit_referral_list(user=user, referrals=rows, purpose="export", filters=filters)
        return csv_response("referrals.csv", LIST_EXPORT_HEADER, rows, _list_export_row)
    context = {
        **list_context(request, qs),
        "form": form,
        "can_export": _can_export_all(user) or filters.box == "sent",
        "can_assign": permissions.can_manage_plan_referrals(user),
        "export_mine_only": not _can_export_all(user),
        "can_make_referrals": permissions.can_make_referrals(user),
        "box": filters.box or "all",
    }
    page = context["page_obj"]
    page.object_list = _decorate_rows(user, list(page.object_list))
    selectors.audit_referral_list(user=user, referrals=page.object_list, purpose="list", filters=filters)
    return render(request, "referrals/referral_list.html", context)


# --- Provider intake queue -----------------------------------------------------------------------------


def _intake_row(user: Any, referral: Referral) -> Referral:
    referral.next_steps = services.allowed_next_steps(user=user, referral=referral)
    referral.can_accept = any(key == "accepted" for key, _ in referral.next_steps)
    referral.decline_steps = [(k, label) for k, label in referral.next_steps if k != "accepted"]
    return referral


@login_required
def intake_queue(request: HttpRequest) -> HttpResponse:
    """The provider's new referrals, oldest first, with quick Accept / Decline (rule R5)."""
    user = request.user
    if not permissions.can_work_referrals(user):
        raise PermissionDenied
    form = IntakeFilterForm(request.GET or None)
    status = "pending"
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or "pending"
    elif not form.is_bound:
        form = IntakeFilterForm(initial={"status": "pending"})
    qs = selectors.intake_queue(user=user, status="" if status == "all" else status)
    context = {
        **list_context(request, qs),
        "form": form,
        "status": status,
        "can_edit_intake": permissions.can_edit_provider_intake(request.user, request.user.organization),
    }
    page = context["page_obj"]
    page.object_list = [_intake_row(user, r) for r in _decorate_rows(user, list(page.object_list))]
    selectors.audit_referral_list(
        user=user, referrals=page.object_list, purpose="intake_queue", filters={"status": status}
    )
    return render(request, "referrals/intake_queue.html", context)


# --- Outreach worklist ---------------------------------------------------------------------------------

WORKLIST_EXPORT_HEADER = [
    "number",
    "status",
    "service",
    "member_last_name",
    "member_first_name",
    "member_cin",
    "received_on",
    "deadline",
    "days_left",
    "attempts_in_window",
    "modalities",
    "o3_met",
    "missing",
]


def _with_progress(referrals: list[Referral]) -> list[Referral]:
    """Rule O3 per row, from the attempts the worklist prefetched (no query per row)."""
    for r in referrals:
        r.status_obj = _status_of(r)
        r.progress = selectors.outreach_progress(r, list(r.outreach_attempts.all()))
        r.modality_labels = [OutreachAttempt.Modality(m).label for m in r.progress.modalities_in_window]
        r.overdue = not r.progress.o3_met and r.progress.days_left < 0
        r.at_risk = not r.progress.o3_met and 0 <= r.progress.days_left <= workflow().outreach.at_risk_days
    return referrals


def _worklist_export_row(r: Referral) -> list[object]:
    p = r.progress
    return [
        r.number,
        r.status_obj.label if r.status_obj else r.status,
        r.service.name if r.service else "",
        r.member_last_name,
        r.member_first_name,
        r.member_cin,
        p.received_on.isoformat(),
        p.deadline.isoformat(),
        p.days_left,
        p.attempts_in_window,
        " ".join(p.modalities_in_window),
        "Y" if p.o3_met else "N",
        "; ".join(p.missing),
    ]


@login_required
def outreach_worklist(request: HttpRequest) -> HttpResponse:
    """Rules O1-O3: the provider's referrals in outreach, soonest deadline first, with attempts, modalities
    and days left of the 30. The CSV export is a bulk member list, so it follows rule D4 (leadership roles
    only)."""
    user = request.user
    if not permissions.can_work_referrals(user):
        raise PermissionDenied
    form = WorklistFilterForm(request.GET or None, services=_services())
    q = service = ""
    if form.is_bound and form.is_valid():
        q, service = form.cleaned_data["q"].strip(), form.cleaned_data["service"]
    qs = selectors.outreach_worklist(user=user, q=q, service=service)
    filters = {"q": q, "service": service}
    if request.GET.get("format") == "csv":
        if not _can_export_all(user):
            raise PermissionDenied("Rule D4: only leadership roles export the outreach worklist.")
        rows = _with_progress(list(qs.iterator(chunk_size=EXPORT_CHUNK)))
        selectors.audit_referral_list(user=user, referrals=rows, purpose="export", filters=filters)
        return csv_response("outreach_worklist.csv", WORKLIST_EXPORT_HEADER, rows, _worklist_export_row)
    context = {
        **list_context(request, qs),
        "form": form,
        "can_export": _can_export_all(user),
        "rule": workflow().outreach,
        "at_risk_days": workflow().outreach.at_risk_days,
    }
    page = context["page_obj"]
    page.object_list = _with_progress(list(page.object_list))
    selectors.audit_referral_list(user=user, referrals=page.object_list, purpose="worklist", filters=filters)
    return render(request, "referrals/outreach_worklist.html", context)


# --- The referral --------------------------------------------------------------------------------------


def _provider_choices(orgs: Any) -> list[tuple[str, str]]:
    return [(str(o.uuid), o.name) for o in orgs]


def _onward_providers(referral: Referral, service_key: str) -> list[tuple[str, str]]:
    if not service_key or service_key == "ecm":
        return []
    county = referral.member_county.name if referral.member_county else ""
    return _provider_choices(selectors.referral_destinations(service_key=service_key, county=county))


def _assign_providers(referral: Referral) -> list[tuple[str, str]]:
    if referral.service is None:
        return []
    county = referral.member_county.name if referral.member_county else ""
    return _provider_choices(
        selectors.referral_destinations(service_key=referral.service.key, county=county, accepting_only=False)
    )


def _event_detail(event: Any) -> str:
    """A short line for the kinds whose detail means something to a reader (the events a referrer sees
    carry none of these)."""
    d = event.detail or {}
    if event.kind == "outreach":
        modality = OutreachAttempt.Modality(d["modality"]).label if d.get("modality") else ""
        outcome = OutreachAttempt.Outcome(d["outcome"]).label if d.get("outcome") else ""
        return " · ".join(x for x in (modality, outcome) if x)
    if event.kind == "document":
        return d.get("name", "")
    if event.kind == "enrolled":
        return f"Enrolled on {d.get('enrolled_on', '')}"
    return ""


def _events(user: Any, referral: Referral) -> list[dict[str, Any]]:
    wf = workflow()

    def label(key: str) -> str:
        status = wf.statuses.get(key)
        return status.label if status else key

    rows = []
    for e in selectors.referral_events_for(user=user, referral=referral):
        rows.append(
            {
                "event": e,
                "kind": e.get_kind_display(),
                "who": e.actor_label or "System",
                "organization": e.organization.name if e.organization else "",
                "from": label(e.from_status) if e.from_status else "",
                "to": label(e.to_status) if e.to_status else "",
                "detail": _event_detail(e),
            }
        )
    return rows


def _checks(user: Any, referral: Referral) -> list[FirstContactCheck]:
    labels = dict(FirstContactCheck.Result.choices)
    checks = list(selectors.first_contact_checks_for(user=user, referral=referral))
    for c in checks:
        c.rows = [{**item, "result_label": labels.get(item.get("result"), "")} for item in c.checklist]
    return checks


def _detail_context(request: HttpRequest, referral: Referral, **overrides: Any) -> dict[str, Any]:
    """Everything the referral page shows, for this user. `overrides` replaces forms (bound, with errors)
    or adds messages (`conflict`, `notice`)."""
    user = request.user
    wf = workflow()
    parties = permissions.parties_of(user, referral)
    works = bool(parties & {"provider", "plan"})
    sees_work = selectors.referral_sees_work(user=user, referral=referral)
    status = wf.status(referral.status)
    next_steps = services.allowed_next_steps(user=user, referral=referral)
    outreach_open = referral.status in services.OUTREACH_OPEN_STATUSES and referral.outreach_ended_at is None
    attempts = list(selectors.outreach_attempts_for(user=user, referral=referral))
    progress = selectors.outreach_progress(referral, attempts) if sees_work else None
    documents = list(selectors.documents_for(user=user, referral=referral))
    enrollments = list(selectors.enrollments_for(user=user, referral=referral))
    in_scope = selectors.referral_queryset_for(user)
    onward = list(in_scope.filter(source_referral=referral).select_related("service", "receiving_provider"))
    for o in onward:
        o.status_obj = _status_of(o)
    source = (
        in_scope.filter(pk=referral.source_referral_id).only("uuid", "number").first()
        if referral.source_referral_id
        else None
    )
    duplicate_visible = bool(
        referral.duplicate_of_id and in_scope.filter(pk=referral.duplicate_of_id).exists()
    )
    member_visible = bool(
        referral.member_id and member_queryset_for(user).filter(pk=referral.member_id).exists()
    )
    reasons = []
    for key, label in next_steps:
        reasons += [(r, label) for r in wf.reasons.get(key, ())]
    version = {"version": referral.version}
    can_enroll = "provider" in parties and referral.status == "eligible"
    end_enrollment_form = overrides.pop("end_enrollment_form", None)
    enrollment_rows = []
    for e in enrollments:
        form = None
        if "provider" in parties and e.ended_on is None:
            posted = end_enrollment_form.data.get("enrollment") if end_enrollment_form else None
            bound = posted is not None and str(posted) == str(e.uuid)
            form = (
                end_enrollment_form
                if bound
                else EnrollmentEndForm(
                    initial={"enrollment": e.uuid, "ended_on": clock.today()}, auto_id=f"id_end_{e.pk}_%s"
                )
            )
        enrollment_rows.append((e, form))
    context: dict[str, Any] = {
        "referral": referral,
        "status": status,
        "parties": parties,
        "works": works,
        "sees_work": sees_work,
        "events": _events(user, referral),
        "next_steps": next_steps,
        "reasons": reasons,
        "attempts": attempts,
        "progress": progress,
        "progress_modalities": [OutreachAttempt.Modality(m).label for m in progress.modalities_in_window]
        if progress
        else [],
        "rule": wf.outreach,
        "outreach_open": outreach_open,
        "checks": _checks(user, referral) if sees_work else [],
        "enrollment_rows": enrollment_rows,
        "documents": documents,
        "letters": [d for d in documents if d.kind == ReferralDocument.Kind.LETTER],
        "onward": onward,
        "source": source,
        "duplicate_visible": duplicate_visible,
        "member_visible": member_visible,
        "can_outreach": "provider" in parties and outreach_open,
        "can_end_outreach": works and outreach_open and referral.status != "pending",
        "can_match": works and referral.member_id is None,
        "can_check": works and not status.closed and referral.service_id is not None,
        "can_enroll": can_enroll,
        "can_upload": works,
        "can_refer_onward": "provider" in parties,
        "can_assign": "plan" in parties
        and referral.kind == Referral.Kind.COMMUNITY_SUPPORT
        and referral.status == "pending",
        "status_form": StatusForm(initial=version, next_steps=next_steps),
        "outreach_form": OutreachAttemptForm(),
        "end_outreach_form": OutreachEndForm(initial=version),
        "match_form": MatchMemberForm(
            initial={"cin": referral.member_cin, "date_of_birth": referral.member_date_of_birth}
        ),
        "check_form": FirstContactForm(items=referral.service.eligibility if referral.service else []),
        "enroll_form": EnrollmentForm(initial=version),
        "document_form": DocumentForm(),
        "onward_form": ReferOnwardForm(services=_services()) if "provider" in parties else None,
        "assign_form": AssignForm(initial=version, providers=_assign_providers(referral))
        if "plan" in parties and referral.status == "pending"
        else None,
    }
    context.update(overrides)
    return context


def _render_detail(request: HttpRequest, uuid: str, *, status: int = 200, **overrides: Any) -> HttpResponse:
    """The referral page, read again through the audited selector (it may have changed)."""
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid)
    return render(
        request,
        "referrals/referral_detail.html",
        _detail_context(request, referral, **overrides),
        status=status,
    )


@login_required
@require_GET
def referral_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    return _render_detail(request, uuid)


def _done(request: HttpRequest, uuid: str, notice: str) -> HttpResponse:
    """After a successful action: htmx gets the page (the form swaps it in); a plain POST redirects."""
    if _is_htmx(request):
        return _render_detail(request, uuid, notice=notice)
    messages.success(request, notice)
    return redirect("referrals:detail", uuid=uuid)


def _refused(
    request: HttpRequest, uuid: str, form_name: str, form: Any, exc: DomainError, **extra: Any
) -> HttpResponse:
    """A refused action: the page again, with the form and its errors (a conflict shows fresh forms)."""
    if isinstance(exc, ConflictError):
        return _render_detail(request, uuid, status=409, conflict=exc.message)
    if exc.status == 403:
        extra["refused"] = exc.message  # shown at the top: the panel may not be shown to this user
    if form is not None:
        apply_domain_errors(form, exc)
        extra[form_name] = form
    return _render_detail(request, uuid, status=exc.status, **extra)


def _invalid(request: HttpRequest, uuid: str, form_name: str, form: Any, **extra: Any) -> HttpResponse:
    return _render_detail(request, uuid, status=422, **{form_name: form}, **extra)


# --- Actions (each posts to its own URL) ---------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    return "intake" if request.POST.get("return") == "intake" else ""


def _intake_row_response(
    request: HttpRequest, referral: Referral, *, error: str = "", notice: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    row = _intake_row(user, _decorate_rows(user, [referral])[0])
    context = {"r": row, "row_error": error, "row_notice": notice}
    return render(request, "referrals/partials/intake_row.html", context, status=status)


@login_required
@require_POST
def referral_transition(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule R5: move the referral to a next status (optimistic locking on `version`). Also serves the intake
    queue's quick Accept / Decline (`return=intake`), which swaps just the row."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    next_steps = services.allowed_next_steps(user=user, referral=referral)
    form = StatusForm(request.POST, next_steps=next_steps)
    from_queue = _safe_next(request) == "intake"
    if not form.is_valid():
        if from_queue:
            error = "; ".join(f"{m}" for errs in form.errors.values() for m in errs)
            return _queue_refused(request, referral, error, 422)
        return _invalid(request, uuid, "status_form", form)
    try:
        referral = services.referral_transition(
            actor=user,
            referral=referral,
            to_status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            expected_version=int(form.cleaned_data["version"]),
        )
    except DomainError as exc:
        if from_queue:
            return _queue_refused(request, referral, str(exc.message), exc.status)
        return _refused(request, uuid, "status_form", form, exc)
    notice = f"Referral {referral.number} is now {workflow().status(referral.status).label}."
    if from_queue:
        if _is_htmx(request):
            return _intake_row_response(
                request, selectors.referral_get_for_update(user=user, uuid=uuid), notice=notice
            )
        messages.success(request, notice)
        return redirect("referrals:intake_queue")
    return _done(request, uuid, notice)


def _queue_refused(request: HttpRequest, referral: Referral, error: str, status: int) -> HttpResponse:
    if _is_htmx(request):
        fresh = selectors.referral_get_for_update(user=request.user, uuid=referral.uuid)
        return _intake_row_response(request, fresh, error=error, status=status)
    messages.error(request, f"{referral.number}: {error}")
    return redirect("referrals:intake_queue")


@login_required
@require_POST
def outreach_attempt_add(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rules O1-O3, P3: one outreach attempt."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = OutreachAttemptForm(request.POST)
    if not form.is_valid():
        return _invalid(request, uuid, "outreach_form", form)
    data = form.cleaned_data
    try:
        services.outreach_attempt_record(
            actor=user,
            referral=referral,
            attempted_at=data["attempted_at"],
            modality=data["modality"],
            outcome=data["outcome"],
            notes=data["notes"],
            telehealth_consent=data["telehealth_consent"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "outreach_form", form, exc)
    return _done(request, uuid, "Outreach attempt recorded.")


@login_required
@require_POST
def outreach_end(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule O4 (unreachable only once rule O3 is met: the service says what is missing)."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = OutreachEndForm(request.POST)
    if not form.is_valid():
        return _invalid(request, uuid, "end_outreach_form", form)
    try:
        referral = services.outreach_end(
            actor=user,
            referral=referral,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "end_outreach_form", form, exc)
    return _done(
        request, uuid, f"Outreach ended; the referral is {workflow().status(referral.status).label}."
    )


@login_required
@require_POST
def member_match(request: HttpRequest, uuid: str) -> HttpResponse:
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = MatchMemberForm(request.POST)
    if not form.is_valid():
        return _invalid(request, uuid, "match_form", form)
    try:
        services.referral_match_member(
            actor=user,
            referral=referral,
            cin=form.cleaned_data["cin"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "match_form", form, exc)
    return _done(request, uuid, "The referral is matched to the plan's member.")


@login_required
@require_POST
def first_contact_check(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule A1: plan eligibility, the service's checklist item by item, and duplicative programs."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    items = referral.service.eligibility if referral.service else []
    form = FirstContactForm(request.POST, items=items)
    if not form.is_valid():
        return _invalid(request, uuid, "check_form", form)
    try:
        check = services.first_contact_check_record(
            actor=user,
            referral=referral,
            contact_on=form.cleaned_data["contact_on"],
            results=form.results(),
            item_notes=form.item_notes(),
            notes=form.cleaned_data["notes"],
        )
    except DomainError as exc:
        if isinstance(exc, ConflictError):
            return _refused(request, uuid, "check_form", form, exc)
        for e in exc.errors:
            form.add_error(form.field_for(e.field), e.message)
        if not exc.errors:
            form.add_error(None, exc.message)
        return _render_detail(request, uuid, status=exc.status, check_form=form)
    notice = (
        "Eligibility check recorded: passed."
        if check.passed
        else "Eligibility check recorded: did not pass (see the result of each part)."
    )
    return _done(request, uuid, notice)


@login_required
@require_POST
def enrollment_add(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rules R4, M2: enroll the member (needs status Eligible and a consent in force)."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = EnrollmentForm(request.POST)
    if not form.is_valid():
        return _invalid(request, uuid, "enroll_form", form)
    try:
        services.enrollment_create(
            actor=user,
            referral=referral,
            enrolled_on=form.cleaned_data["enrolled_on"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        consent_missing = any(e.field == "consent" for e in exc.errors)
        return _refused(request, uuid, "enroll_form", form, exc, consent_missing=consent_missing)
    return _done(request, uuid, "The member is enrolled.")


@login_required
@require_POST
def enrollment_end(request: HttpRequest, uuid: str) -> HttpResponse:
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = EnrollmentEndForm(request.POST)
    if not form.is_valid():
        return _invalid(request, uuid, "end_enrollment_form", form)
    try:
        enrollment = selectors.enrollments_for(user=user, referral=referral).get(
            uuid=form.cleaned_data["enrollment"]
        )
    except ObjectDoesNotExist as exc:
        raise Http404("No such enrollment") from exc
    try:
        services.enrollment_end(
            actor=user,
            enrollment=enrollment,
            ended_on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["end_reason"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "end_enrollment_form", form, exc)
    return _done(request, uuid, "The enrollment has ended.")


@login_required
@require_POST
def document_add(request: HttpRequest, uuid: str) -> HttpResponse:
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, uuid, "document_form", form)
    try:
        document = services.referral_document_add(
            actor=user,
            referral=referral,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "document_form", form, exc)
    return _done(request, uuid, f"{document.original_name} added.")


@login_required
@require_GET
def document_download(request: HttpRequest, uuid: str, document: str) -> FileResponse:
    """A document of the referral (fax, letter, other), audited as an export; 404 out of scope."""
    doc = selectors.document_get_for_user(user=request.user, referral_uuid=uuid, uuid=document)
    return FileResponse(
        doc.file.open("rb"), as_attachment=True, filename=doc.original_name, content_type=doc.content_type
    )


@login_required
@require_POST
def refer_onward(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule R7 (another CS provider) or R8 (ECM, through the plan)."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    service_key = request.POST.get("service", "")
    providers = _onward_providers(referral, service_key)
    if request.POST.get("show_providers"):
        # Without JavaScript: the form again, its provider list narrowed to the chosen service.
        form = ReferOnwardForm(
            initial={"service": service_key, "reason": request.POST.get("reason", "")},
            services=_services(),
            providers=providers,
        )
        return _render_detail(request, uuid, onward_form=form)
    form = ReferOnwardForm(request.POST, services=_services(), providers=providers)
    if not form.is_valid():
        return _invalid(request, uuid, "onward_form", form)
    data = form.cleaned_data
    provider = None
    if data["receiving_provider"] and data["service"] != "ecm":
        provider = (
            selectors.referral_destinations(service_key=data["service"])
            .filter(uuid=data["receiving_provider"])
            .first()
        )
    try:
        onward = services.referral_refer_onward(
            actor=user,
            referral=referral,
            service_key=data["service"],
            receiving_provider=provider,
            reason=data["reason"],
        )
    except DomainError as exc:
        return _refused(request, uuid, "onward_form", form, exc)
    return _done(request, uuid, f"Referred on as {onward.number}.")


@login_required
@require_GET
def onward_providers(request: HttpRequest, uuid: str) -> HttpResponse:
    """The provider options for the refer-onward form once a service is chosen (htmx; public directory
    data, but only for a referral in the user's scope)."""
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    service_key = request.GET.get("service", "")
    form = ReferOnwardForm(
        initial={"service": service_key}, providers=_onward_providers(referral, service_key)
    )
    return render(request, "referrals/partials/onward_providers.html", {"onward_form": form})


@login_required
@require_POST
def plan_assign(request: HttpRequest, uuid: str) -> HttpResponse:
    """The plan routes a pending referral to a provider (even one that is not accepting: it knows why)."""
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    form = AssignForm(request.POST, providers=_assign_providers(referral))
    if not form.is_valid():
        return _invalid(request, uuid, "assign_form", form)
    provider = (
        selectors.referral_destinations(service_key=referral.service.key, accepting_only=False)
        .filter(uuid=form.cleaned_data["receiving_provider"])
        .first()
        if referral.service
        else None
    )
    if provider is None:
        form.add_error("receiving_provider", "Choose a provider of this service.")
        return _invalid(request, uuid, "assign_form", form)
    try:
        services.referral_assign(
            actor=user, referral=referral, provider=provider, expected_version=form.cleaned_data["version"]
        )
    except DomainError as exc:
        return _refused(request, uuid, "assign_form", form, exc)
    return _done(request, uuid, f"Assigned to {provider.name}.")


# --- Home page counts (called by cshub.web.views.home) ---------------------------------------------------


def home_counts(user: Any) -> dict[str, Any] | None:
    """Counts for the home page (a few COUNT queries through the selectors), or None when the user has no
    referral work."""
    if not permissions.can_view_referrals(user):
        return None
    counts: dict[str, Any] = {
        "pending_intake": None,
        "outreach_due": None,
        "at_risk_days": workflow().outreach.at_risk_days,
        "window_days": workflow().outreach.window_days,
    }
    if permissions.can_work_referrals(user):
        counts["pending_intake"] = selectors.intake_queue(user=user).count()
        soon = clock.add_calendar_days(
            clock.today(), workflow().outreach.at_risk_days - workflow().outreach.window_days + 1
        )
        counts["outreach_due"] = (
            selectors.outreach_worklist(user=user).filter(received_at__lt=clock.start_of_day(soon)).count()
        )
    box = _default_box(user)
    counts["box"] = box
    counts["open"] = selectors.referral_list(
        user=user, filters=selectors.ReferralFilters(box="" if box == "all" else box, status="open")
    ).count()
    return counts
