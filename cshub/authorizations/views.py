"""Authorization pages (rules G2, A2-A10): the portal request form, fax entry, the review queue, the request
list, the request itself with one small form per step, services recorded without authorization, and the
timeliness report.

Views parse, call a selector or a service, render (no rules here). Requests are read through `selectors`
(scoped, deny by default: out of scope is 404) and what a page shows is audited. Each step on a request
posts to its own URL with the `version` it was read at (optimistic locking); a refused step re-renders the
request with the service's field errors beside the form (422, 403, or 409 for a conflict). With htmx the
forms swap the page in place; without JavaScript they post and redirect as usual.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cshub.accounts.models import Organization
from cshub.accounts.roles import SHARED_DATA_ROLES, OrganizationKind
from cshub.accounts.selectors import organization_list
from cshub.authorizations import clocks, permissions, selectors, services
from cshub.authorizations.forms import (
    AnswerForm,
    DecideForm,
    ExtendForm,
    FaxRequestForm,
    MemberLookupForm,
    PendForm,
    QueueFilterForm,
    RequestFilterForm,
    RequestForm,
    RetrospectiveForm,
    ServiceRecordForm,
    TimelinessForm,
    UrgencyForm,
    VersionForm,
    WithdrawForm,
)
from cshub.authorizations.models import (
    Authorization,
    AuthorizationRequest,
    Channel,
    Determination,
    RequestKind,
    Urgency,
)
from cshub.catalog.models import Service
from cshub.catalog.selectors import codes_for_service, service_list
from cshub.core import clock
from cshub.core.errors import ConflictError, DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.models import County
from cshub.core.pagination import csv_response, list_context
from cshub.members import selectors as member_selectors
from cshub.members.models import Member
from cshub.referrals.selectors import referral_destinations

EXPORT_CHUNK = 2000
MEMBER_RESULTS_SHOWN = 20

# --- Helpers -------------------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _services(*, needing_request: bool = True) -> list[tuple[str, str]]:
    """Services that take a request (required or presumptive), or those that need none (rule G2)."""
    rows = []
    for s in service_list():
        no_auth = s.authorization == Service.Authorization.NOT_REQUIRED
        if no_auth != needing_request:
            rows.append((s.key, s.name))
    return rows


def _service(key: str) -> Service | None:
    return Service.objects.filter(key=key, active=True).first() if key else None


def _code_choices(service: Service | None) -> list[tuple[str, str]]:
    if service is None:
        return []
    return [
        (f"{c.hcpcs}|{c.modifier}", f"{c.code}{' · ' + c.description if c.description else ''}")
        for c in codes_for_service(service)
    ]


def _split_code(value: str) -> tuple[str, str]:
    hcpcs, _, modifier = (value or "").partition("|")
    return hcpcs, modifier


def _can_export_all(user: Any) -> bool:
    """Rule D4: bulk exports of member data are for the named leadership and reporting roles."""
    return user.has_role(*SHARED_DATA_ROLES)


def _cs_providers(user: Any) -> list[tuple[str, str]]:
    return [(str(o.uuid), o.name) for o in organization_list(user=user, kind=OrganizationKind.CS_PROVIDER)]


def _counties() -> list[str]:
    return list(County.objects.order_by("name").values_list("name", flat=True))


def _decorate(requests: list[AuthorizationRequest]) -> list[AuthorizationRequest]:
    now = clock.now()
    for r in requests:
        r.time_left = selectors.time_left(r, now=now)
    return requests


# --- 1 & 2. New request: the portal (rules A3-A6) and fax entry (rule A4) -------------------------------


def _find_members(user: Any, lookup: MemberLookupForm) -> tuple[list[Member], bool]:
    """Members in the user's scope by CIN/plan ID or last name + date of birth, audited as shown."""
    if not lookup.is_bound or not lookup.is_valid():
        return [], False
    data = lookup.cleaned_data
    member_id, last_name, dob = data["member_id"].strip(), data["last_name"].strip(), data["date_of_birth"]
    if not (member_id or last_name or dob):
        return [], False
    try:
        member_selectors.member_search_validate(last_name=last_name, date_of_birth=dob)
    except DomainError as exc:
        apply_domain_errors(lookup, exc)
        return [], False
    members = list(
        member_selectors.member_search(
            user=user, member_id=member_id, last_name=last_name, date_of_birth=dob
        )[:MEMBER_RESULTS_SHOWN]
    )
    member_selectors.audit_member_list(
        user=user,
        members=members,
        purpose="authorization_request",
        filters={"member_id": member_id, "last_name": last_name, "date_of_birth": str(dob or "")},
    )
    return members, True


def _checklist(service: Service | None, kind: str, fax: bool) -> list[str]:
    if service is None or fax:
        return []
    return services.required_documents(service, kind if kind in RequestKind.values else RequestKind.INITIAL)


def _apply_request_errors(form: RequestForm, exc: DomainError, diagnoses: list[tuple[str, str]]) -> list[str]:
    """The service's field errors beside the form's fields; the documents' errors are returned for the
    checklist. Unknown fields go to the top."""
    doc_errors: list[str] = []
    for e in exc.errors:
        name = e.field
        if name.startswith("documents"):
            doc_errors.append(e.message)
            continue
        if name in ("hcpcs", "modifier"):
            name = "code"
        elif name == "diagnosis_codes":
            name = "diagnosis_1"
        elif name.startswith("diagnosis_codes["):
            index = int(name[len("diagnosis_codes[") : -1])
            name = diagnoses[index][0] if index < len(diagnoses) else "diagnosis_1"
        form.add_error(name if name in form.fields else None, e.message)
    if not exc.errors:
        form.add_error(None, exc.message)
    return doc_errors


def _request_page(request: HttpRequest, *, fax: bool) -> HttpResponse:
    user = request.user
    hospital = not fax and permissions.is_hospital_requester(user)
    source = request.POST if request.method == "POST" else request.GET
    lookup = MemberLookupForm(request.GET if request.method == "GET" and not source.get("member") else None)
    members, searched = _find_members(user, lookup)
    member = None
    if source.get("member"):
        member = member_selectors.member_get_for_user(
            user=user, uuid=source.get("member"), purpose="authorization_request", related=False
        )
    context: dict[str, Any] = {
        "fax": fax,
        "hospital": hospital,
        "lookup": lookup,
        "members": members,
        "searched": searched,
        "member": member,
    }
    template = "authorizations/request_form.html"
    if member is None:
        return render(request, template, context)

    service_key = source.get("service", "")
    if hospital and not service_key:
        service_key = next(iter(sorted(permissions.HOSPITAL_SERVICES)))
    service = _service(service_key)
    kind = source.get("kind", RequestKind.INITIAL)
    services_ = _services()
    if hospital:
        services_ = [s for s in services_ if s[0] in permissions.HOSPITAL_SERVICES]
    previous_qs = selectors.authorizations_for_member(user=user, member=member)
    if service is not None:
        previous_qs = previous_qs.filter(service=service)
    previous = [
        (str(a.uuid), f"{a.number} · {a.service.name} · {a.start_date:%m/%d/%Y} to {a.end_date:%m/%d/%Y}")
        for a in previous_qs[:50]
    ]
    provider_orgs = None
    if hospital:
        provider_orgs = referral_destinations(
            service_key=service_key or "recuperative_care", accepting_only=False
        )
    elif fax:
        provider_orgs = organization_list(user=user, kind=OrganizationKind.CS_PROVIDER)
    providers = [(str(o.uuid), o.name) for o in provider_orgs] if provider_orgs is not None else None
    default_urgency = (
        (Urgency.EXPEDITED if service.urgent_by_default else Urgency.ROUTINE) if service is not None else ""
    )
    form_kwargs: dict[str, Any] = {
        "services": services_,
        "codes": _code_choices(service),
        "previous": previous,
        "providers": providers,
        "default_urgency": default_urgency,
    }
    senders: list[Organization] = []
    if fax:
        senders = list(
            organization_list(user=user).filter(
                kind__in=[OrganizationKind.CS_PROVIDER, OrganizationKind.HOSPITAL]
            )
        )
        form_kwargs["organizations"] = [(str(o.uuid), o.name) for o in senders]
    form_class = FaxRequestForm if fax else RequestForm
    own_npi = user.organization.npi or ""
    initial = {
        "member": member.uuid,
        "service": service_key,
        "kind": kind,
        "requesting_npi": "" if fax else own_npi,
        "servicing_npi": "" if (fax or hospital) else own_npi,
        "received_at": clock.local(clock.now()).replace(second=0, microsecond=0, tzinfo=None)
        if fax
        else None,
    }
    items = _checklist(service, kind, fax)
    doc_errors: list[str] = []
    status = 200
    files_dropped = False
    submitted = request.method == "POST" and "refresh" not in request.POST
    if request.method == "POST" and not submitted:
        # Without JavaScript: the form again for the chosen service (its codes and checklist), no errors.
        form = form_class(initial={**initial, **request.POST.dict()}, **form_kwargs)
    elif submitted:
        form = form_class(request.POST, request.FILES, **form_kwargs)
        files_dropped = bool(request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            diagnoses = form.diagnosis_codes()
            previous_auth = (
                previous_qs.filter(uuid=data["previous_authorization"]).first()
                if data["previous_authorization"]
                else None
            )
            servicing = None
            if provider_orgs is not None and data.get("servicing_organization"):
                servicing = provider_orgs.filter(uuid=data["servicing_organization"]).first()
            requesting = None
            if fax and data.get("requesting_organization"):
                requesting = next(
                    (o for o in senders if str(o.uuid) == data["requesting_organization"]), None
                )
            hcpcs, modifier = _split_code(data["code"])
            confirmed = [item for i, item in enumerate(items) if request.POST.get(f"included_{i}")]
            documents = [
                services.DocumentUpload(file=request.FILES[f"doc_{i}"], checklist_item=item)
                for i, item in enumerate(items)
                if request.FILES.get(f"doc_{i}")
            ]
            documents += [services.DocumentUpload(file=f) for f in request.FILES.getlist("other_files")]
            received_at = data.get("received_at")
            try:
                auth_request = services.request_submit(
                    actor=user,
                    channel=Channel.FAX if fax else Channel.PORTAL,
                    data=services.RequestInput(
                        member=member,
                        service_key=data["service"],
                        hcpcs=hcpcs,
                        modifier=modifier,
                        requesting_npi=data["requesting_npi"],
                        servicing_npi=data["servicing_npi"],
                        diagnosis_codes=[code for _, code in diagnoses],
                        units=data["units"],
                        start_date=data["start_date"],
                        end_date=data["end_date"],
                        kind=data["kind"],
                        extra_modifiers=data["extra_modifiers"].replace(",", " ").split(),
                        servicing_organization=servicing,
                        requesting_organization=requesting,
                        urgency=data["urgency"],
                        urgency_reason=data["urgency_reason"],
                        notes=data["notes"],
                        previous_authorization=previous_auth,
                        member_agreement_attested=bool(data.get("member_agreement_attested")),
                        checklist_confirmed=confirmed,
                        received_at=received_at,
                    ),
                    documents=documents,
                    fax_file=data.get("fax_file") if fax else None,
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                doc_errors = _apply_request_errors(form, exc, diagnoses)
                context["refusal"] = exc.message
                status = exc.status
            else:
                if auth_request.presumptive:
                    notice = (
                        f"Request {auth_request.number} received and authorized at once (presumptive "
                        "authorization, rule G2); the plan reviews it afterwards."
                    )
                else:
                    notice = (
                        f"Request {auth_request.number} received; a decision is due "
                        f"{clock.local(auth_request.due_at):%m/%d/%Y %I:%M %p}."
                    )
                messages.success(request, notice)
                return redirect("authorizations:detail", uuid=auth_request.uuid)
        else:
            status = 422
    else:
        form = form_class(initial=initial, **form_kwargs)
    context.update(
        {
            "form": form,
            "service": service,
            "default_urgency": Urgency(default_urgency).label if default_urgency else "",
            "checklist": [
                {"index": i, "text": item, "included": bool(request.POST.get(f"included_{i}"))}
                for i, item in enumerate(items)
            ],
            "doc_errors": doc_errors,
            "files_dropped": files_dropped and status != 200,
            "authorization_note": service.get_authorization_display() if service else "",
        }
    )
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """Rules A3-A6: a provider's (or a hospital discharge planner's, rule A5) request in the portal."""
    if not permissions.can_submit_requests(request.user):
        raise PermissionDenied("CS provider staff and hospital discharge planners request authorizations.")
    return _request_page(request, fax=False)


@login_required
@require_http_methods(["GET", "POST"])
def request_fax(request: HttpRequest) -> HttpResponse:
    """Rule A4: plan UM staff upload a fax and enter the request beside it."""
    if not permissions.can_enter_fax(request.user):
        raise PermissionDenied("The plan's UM staff enter faxed requests.")
    return _request_page(request, fax=True)


@login_required
@require_GET
def request_options(request: HttpRequest) -> HttpResponse:
    """htmx: the codes, the default urgency and the required-documents checklist of the chosen service."""
    user = request.user
    if not (permissions.can_submit_requests(user) or permissions.can_enter_fax(user)):
        raise PermissionDenied
    service = _service(request.GET.get("service", ""))
    kind = request.GET.get("kind", RequestKind.INITIAL)
    fax = request.GET.get("fax") == "1"
    form = RequestForm(
        initial={"service": service.key if service else "", "kind": kind},
        services=_services(),
        codes=_code_choices(service),
        previous=[],
        default_urgency=(Urgency.EXPEDITED if service.urgent_by_default else Urgency.ROUTINE)
        if service
        else "",
    )
    context = {
        "form": form,
        "service": service,
        "fax": fax,
        "checklist": [
            {"index": i, "text": t, "included": False} for i, t in enumerate(_checklist(service, kind, fax))
        ],
        "authorization_note": service.get_authorization_display() if service else "",
    }
    return render(request, "authorizations/_service_options.html", context)


# --- 3. The review queue (rule A10) and 4. the request list ----------------------------------------------

EXPORT_HEADER = [
    "number",
    "status",
    "kind",
    "channel",
    "urgency",
    "service",
    "code",
    "member_last_name",
    "member_first_name",
    "member_cin",
    "county",
    "requesting_organization",
    "servicing_organization",
    "units",
    "start_date",
    "end_date",
    "received_at",
    "due_at",
    "time_left",
    "reviewer",
    "decided_at",
    "decided_on_time",
]


def _export_row(r: AuthorizationRequest) -> list[object]:
    return [
        r.number,
        r.get_status_display(),
        r.get_kind_display(),
        r.get_channel_display(),
        r.get_urgency_display(),
        r.service.name,
        r.code.code,
        r.member.last_name,
        r.member.first_name,
        r.member.cin,
        r.member.county.name if r.member.county_id else "",
        r.requesting_organization.name,
        r.servicing_organization.name,
        r.units,
        r.start_date.isoformat(),
        r.end_date.isoformat(),
        clock.local(r.received_at).isoformat(),
        clock.local(r.due_at).isoformat(),
        r.time_left.label,
        str(r.reviewer) if r.reviewer_id else "",
        clock.local(r.decided_at).isoformat() if r.decided_at else "",
        "" if r.decided_on_time is None else ("Y" if r.decided_on_time else "N"),
    ]


def _export(user: Any, qs: Any, filters: Any, filename: str) -> HttpResponse:
    rows = _decorate(list(qs.iterator(chunk_size=EXPORT_CHUNK)))
    selectors.audit_request_list(user=user, requests=rows, purpose="export", filters=filters)
    return csv_response(filename, EXPORT_HEADER, rows, _export_row)


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Rule A10: the plan's open requests, soonest due first, each with the time left on its clock (A8).

    CSV export and rule D4: the plan's reporting roles export what the filters select; a reviewer exports
    the requests taken by them ("Taken by me"). Every export is audited."""
    user = request.user
    if not permissions.can_review(user):
        raise PermissionDenied("The plan's UM reviewers work the review queue.")
    form = QueueFilterForm(
        request.GET or None, services=_services(), counties=_counties(), providers=_cs_providers(user)
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.RequestFilters(
        status="open",
        service=data.get("service", ""),
        urgency=data.get("urgency", ""),
        county=data.get("county", ""),
        provider=data.get("provider") or None,
        q=data.get("q", ""),
        mine=bool(data.get("mine")),
    )
    qs = selectors.request_list(user=user, filters=filters)
    if request.GET.get("format") == "csv":
        if not _can_export_all(user):
            if not filters.mine:
                raise PermissionDenied(
                    "Rule D4: only the plan's reporting roles export the queue; "
                    "you may export the requests taken by you (Taken by me)."
                )
            qs = qs.filter(reviewer=user)
        return _export(user, qs, filters, "authorization_queue.csv")
    context = {
        **list_context(request, qs),
        "form": form,
        "can_export": _can_export_all(user) or filters.mine,
        "export_mine_only": not _can_export_all(user),
        "counts": selectors.reviewer_counts(user=user),
        "clock_settings": clocks.ClockSettings.current(),
        "can_enter_fax": permissions.can_enter_fax(user),
    }
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    selectors.audit_request_list(user=user, requests=page.object_list, purpose="queue", filters=filters)
    return render(request, "authorizations/queue.html", context)


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """Providers: the requests they made or service; plan staff: every request to the plan.

    CSV export and rule D4: leadership and reporting roles export what the filters select; anyone else
    the requests they submitted themselves. Every export is audited."""
    user = request.user
    if not permissions.can_view_requests(user):
        raise PermissionDenied
    form = RequestFilterForm(request.GET or None, services=_services())
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    status = data.get("status") or "all"
    filters = selectors.RequestFilters(
        status="" if status == "all" else status,
        service=data.get("service", ""),
        urgency=data.get("urgency", ""),
        q=data.get("q", ""),
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
    )
    qs = (
        selectors.request_list(user=user, filters=filters)
        if not (form.is_bound and form.errors)
        else AuthorizationRequest.objects.none()
    )
    if request.GET.get("format") == "csv":
        if not _can_export_all(user):
            qs = qs.filter(submitted_by=user)
        return _export(user, qs, filters, "authorization_requests.csv")
    context = {
        **list_context(request, qs),
        "form": form,
        "can_export": True,
        "export_mine_only": not _can_export_all(user),
        "can_submit": permissions.can_submit_requests(user),
        "can_review": permissions.can_review(user),
        "can_record_services": permissions.can_record_services(user),
        "is_plan_staff": user.is_plan_staff,
    }
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    selectors.audit_request_list(user=user, requests=page.object_list, purpose="list", filters=filters)
    return render(request, "authorizations/list.html", context)


# --- 5. The request ------------------------------------------------------------------------------------


def _auto_id(form_name: str) -> str:
    """Each step's form has its own ids (several forms on one page; labels must stay unique)."""
    return f"id_{form_name.removesuffix('_form')}_%s"


def _detail_context(
    request: HttpRequest, auth_request: AuthorizationRequest, **overrides: Any
) -> dict[str, Any]:
    """Everything the request page shows this user, and the steps the user may take. `overrides` replaces
    forms (bound, with errors) or adds messages (`conflict`, `notice`, `refused`)."""
    user = request.user
    r = auth_request
    determination = Determination.objects.filter(request=r).select_related("decided_by").first()
    authorization = Authorization.objects.filter(request=r).first()
    letters = selectors.request_letters_for_user(user=user, request=r)
    actions = permissions.allowed_actions(user, r, authorization)
    reviewer = permissions.can_review(user) and user.organization_id == r.plan_id
    provider = permissions.can_submit_requests(user) and user.organization_id in (
        r.requesting_organization_id,
        r.servicing_organization_id,
    )
    taken_by_other = bool(r.reviewer_id and r.reviewer_id != user.pk)
    version = {"version": r.version}
    extension_max = clocks.ClockSettings.current().extension_max_days
    context: dict[str, Any] = {
        "r": r,
        "time_left": selectors.time_left(r),
        "events": selectors.request_events(r),
        "documents": selectors.request_documents(r),
        "letters": letters,
        "information_requests": selectors.request_information_requests(r),
        "determination": determination,
        "authorization": authorization,
        "reviewer": reviewer,
        "provider": provider,
        "taken_by_other": taken_by_other,
        "can_take": "take" in actions,
        "can_release": "release" in actions,
        "can_work": "decide" in actions,
        "can_pend": "pend" in actions,
        "can_extend": "extend" in actions,
        "can_retro": "retrospective-review" in actions,
        "can_answer": "answer" in actions,
        "can_withdraw": "withdraw" in actions,
        "extension_max": extension_max,
        "take_form": VersionForm(initial=version, auto_id=_auto_id("take_form")),
        "urgency_form": UrgencyForm(
            initial={
                **version,
                "urgency": Urgency.ROUTINE if r.urgency == Urgency.EXPEDITED else Urgency.EXPEDITED,
            },
            auto_id=_auto_id("urgency_form"),
        ),
        "pend_form": PendForm(initial=version, auto_id=_auto_id("pend_form")),
        "extend_form": ExtendForm(
            initial={**version, "days": extension_max}, auto_id=_auto_id("extend_form")
        ),
        "decide_form": DecideForm(
            initial={**version, "units": r.units, "start_date": r.start_date, "end_date": r.end_date},
            auto_id=_auto_id("decide_form"),
        ),
        "retro_form": RetrospectiveForm(initial=version, auto_id=_auto_id("retro_form")),
        "answer_form": AnswerForm(initial=version, auto_id=_auto_id("answer_form")),
        "withdraw_form": WithdrawForm(initial=version, auto_id=_auto_id("withdraw_form")),
    }
    context.update(overrides)
    return context


def _render_detail(request: HttpRequest, uuid: Any, *, status: int = 200, **overrides: Any) -> HttpResponse:
    """The request page, read again through the audited selector (it may have changed)."""
    auth_request = selectors.request_get_for_user(user=request.user, uuid=uuid)
    return render(
        request,
        "authorizations/detail.html",
        _detail_context(request, auth_request, **overrides),
        status=status,
    )


@login_required
@require_GET
def request_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _render_detail(request, uuid)


def _done(request: HttpRequest, uuid: Any, notice: str) -> HttpResponse:
    if _is_htmx(request):
        return _render_detail(request, uuid, notice=notice)
    messages.success(request, notice)
    return redirect("authorizations:detail", uuid=uuid)


def _step(
    request: HttpRequest, uuid: Any, form_class: type, form_name: str, call: Any, notice: Any
) -> HttpResponse:
    """One step on a request: parse the form, call the service, show the page (errors beside the form)."""
    auth_request = selectors.request_get_for_update(user=request.user, uuid=uuid)
    form = form_class(request.POST, request.FILES, auto_id=_auto_id(form_name))
    if not form.is_valid():
        return _render_detail(request, uuid, status=422, **{form_name: form})
    try:
        result = call(auth_request, form.cleaned_data)
    except ConflictError as exc:
        return _render_detail(request, uuid, status=409, conflict=exc.message)
    except DomainError as exc:
        if exc.status == 403:
            return _render_detail(request, uuid, status=403, refused=exc.message)
        apply_domain_errors(form, exc)
        return _render_detail(request, uuid, status=exc.status, **{form_name: form})
    return _done(request, uuid, notice(result) if callable(notice) else notice)


@login_required
@require_POST
def request_take(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A10: a reviewer takes the request; nobody else can then decide it."""
    return _step(
        request,
        uuid,
        VersionForm,
        "take_form",
        lambda r, d: services.request_take(actor=request.user, request=r, expected_version=d["version"]),
        "You are reviewing this request.",
    )


@login_required
@require_POST
def request_release(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _step(
        request,
        uuid,
        VersionForm,
        "take_form",
        lambda r, d: services.request_release(actor=request.user, request=r, expected_version=d["version"]),
        "The request is back in the queue.",
    )


@login_required
@require_POST
def request_urgency(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A8: change the urgency with a reason; the clock follows."""
    return _step(
        request,
        uuid,
        UrgencyForm,
        "urgency_form",
        lambda r, d: services.request_set_urgency(
            actor=request.user,
            request=r,
            urgency=d["urgency"],
            reason=d["reason"],
            expected_version=d["version"],
        ),
        lambda r: (
            f"Urgency changed to {r.get_urgency_display().lower()}; due "
            f"{clock.local(r.due_at):%m/%d/%Y %I:%M %p}."
        ),
    )


@login_required
@require_POST
def request_pend(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A7: ask the provider for specific information by a date."""
    return _step(
        request,
        uuid,
        PendForm,
        "pend_form",
        lambda r, d: services.request_pend(
            actor=request.user,
            request=r,
            question=d["question"],
            due_on=d["due_on"],
            expected_version=d["version"],
        ),
        "Information requested from the provider; the request waits for the answer.",
    )


@login_required
@require_POST
def request_extend(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A8: one extension of up to the setting's days, with a reason and a notice to the member."""
    return _step(
        request,
        uuid,
        ExtendForm,
        "extend_form",
        lambda r, d: services.request_extend(
            actor=request.user, request=r, days=d["days"], reason=d["reason"], expected_version=d["version"]
        ),
        lambda r: (
            f"Extended {r.extension_days} days; due {clock.local(r.due_at):%m/%d/%Y %I:%M %p}. "
            "The member's notice was made."
        ),
    )


@login_required
@require_POST
def request_decide(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A9: approve, approve in part, deny or mark withdrawn; letters go out."""
    return _step(
        request,
        uuid,
        DecideForm,
        "decide_form",
        lambda r, d: services.request_decide(
            actor=request.user,
            request=r,
            decision=services.DecisionInput(
                outcome=d["outcome"],
                units=d["units"],
                start_date=d["start_date"],
                end_date=d["end_date"],
                reason_code=d["reason_code"],
                reason=d["reason"],
                criteria=d["criteria"],
            ),
            expected_version=d["version"],
        ),
        lambda det: f"Decision recorded: {det.get_outcome_display().lower()}. The provider sees it now.",
    )


@login_required
@require_POST
def request_retrospective(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule G2: the plan's review of a presumptive authorization, afterwards."""
    return _step(
        request,
        uuid,
        RetrospectiveForm,
        "retro_form",
        lambda r, d: services.retrospective_review_record(
            actor=request.user, request=r, upheld=d["upheld"], note=d["note"], expected_version=d["version"]
        ),
        "Retrospective review recorded.",
    )


@login_required
@require_POST
def request_answer(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule A7: the provider answers the request for information (text and files)."""
    return _step(
        request,
        uuid,
        AnswerForm,
        "answer_form",
        lambda r, d: services.information_answer(
            actor=request.user,
            request=r,
            answer=d["answer"],
            files=request.FILES.getlist("files"),
            expected_version=d["version"],
        ),
        "Answer sent; the request is back in the plan's queue.",
    )


@login_required
@require_POST
def request_withdraw(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _step(
        request,
        uuid,
        WithdrawForm,
        "withdraw_form",
        lambda r, d: services.request_withdraw(
            actor=request.user, request=r, reason=d["reason"], expected_version=d["version"]
        ),
        "The request is withdrawn.",
    )


@login_required
@require_GET
def document_download(request: HttpRequest, uuid: Any, document: Any) -> FileResponse:
    """A file of the request, audited as a read of member data; 404 out of scope."""
    doc = selectors.document_get_for_user(user=request.user, request_uuid=uuid, document_uuid=document)
    return FileResponse(
        doc.file.open("rb"), as_attachment=True, filename=doc.file_name, content_type=doc.content_type
    )


@login_required
@require_GET
def letter_download(request: HttpRequest, uuid: Any, letter: Any) -> FileResponse:
    """Rule A9: a letter about the request (a provider reads its own and the member's); audited."""
    item = selectors.letter_get_for_user(user=request.user, request_uuid=uuid, letter_uuid=letter)
    name = f"{item.request.number}-{item.kind}-{item.recipient}.pdf"
    return FileResponse(
        item.file.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


# --- 6. Services without authorization (rule G2) -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def service_records(request: HttpRequest) -> HttpResponse:
    """Rule G2: services that need no authorization (e.g. sobering centers), listed and recorded."""
    user = request.user
    can_record = permissions.can_record_services(user)
    if not (can_record or permissions.can_view_requests(user)):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    lookup = MemberLookupForm(request.GET if request.method == "GET" and not source.get("member") else None)
    members, searched = _find_members(user, lookup) if can_record else ([], False)
    member = None
    if can_record and source.get("member"):
        member = member_selectors.member_get_for_user(
            user=user, uuid=source.get("member"), purpose="service_record", related=False
        )
    services_ = _services(needing_request=False)
    service = _service(source.get("service", "") or (services_[0][0] if len(services_) == 1 else ""))
    form_kwargs = {"services": services_, "codes": _code_choices(service)}
    status = 200
    form = None
    if member is not None:
        if request.method == "POST" and "refresh" not in request.POST:
            form = ServiceRecordForm(request.POST, **form_kwargs)
            if form.is_valid():
                d = form.cleaned_data
                hcpcs, modifier = _split_code(d["code"])
                try:
                    record = services.service_record_create(
                        actor=user,
                        member=member,
                        service_key=d["service"],
                        hcpcs=hcpcs,
                        modifier=modifier,
                        service_date=d["service_date"],
                        end_date=d["end_date"],
                        units=d["units"],
                        diagnosis_codes=[d["diagnosis_1"], d["diagnosis_2"]],
                        notes=d["notes"],
                    )
                except DomainError as exc:
                    _apply_request_errors(form, exc, [("diagnosis_1", ""), ("diagnosis_2", "")])
                    status = exc.status
                else:
                    messages.success(
                        request, f"{record.service.name} on {record.service_date:%m/%d/%Y} recorded."
                    )
                    return redirect("authorizations:service_records")
            else:
                status = 422
        else:
            initial = {"member": member.uuid, "service": service.key if service else "", "units": 1}
            if request.method == "POST":
                initial.update(request.POST.dict())
            form = ServiceRecordForm(initial=initial, **form_kwargs)
    records = selectors.service_record_list(user=user)
    context = {
        **list_context(request, records),
        "can_record": can_record,
        "lookup": lookup,
        "members": members,
        "searched": searched,
        "member": member,
        "form": form,
    }
    page = context["page_obj"]
    member_selectors.audit_member_list(
        user=user,
        members=[r.member for r in page.object_list],
        purpose="service_records",
        filters={},
    )
    return render(request, "authorizations/service_records.html", context, status=status)


# --- 7. Timeliness report (rule A8) --------------------------------------------------------------------


@login_required
@require_GET
def timeliness(request: HttpRequest) -> HttpResponse:
    """Share of requests decided on time, by month, urgency and service, with a chart and the same numbers
    as a table; CSV export."""
    user = request.user
    if not (user.is_plan_staff and permissions.can_view_requests(user)):
        raise PermissionDenied("The plan's staff see the timeliness report.")
    today = clock.today()
    default_start = clock.add_months(date(today.year, today.month, 1), -5)
    form = TimelinessForm(
        request.GET if "start" in request.GET else None,
        initial={"start": default_start, "end": today},
        services=_services(),
    )
    start, end, service = default_start, today, ""
    if form.is_bound and form.is_valid():
        start, end, service = (
            form.cleaned_data["start"],
            form.cleaned_data["end"],
            form.cleaned_data["service"],
        )
    rows = (
        selectors.timeliness_report(user=user, start=start, end=end, service=service)
        if not form.errors
        else []
    )
    if request.GET.get("format") == "csv":
        return csv_response(
            "authorization_timeliness.csv",
            ["month", "urgency", "service", "decided", "on_time", "share_on_time"],
            rows,
            lambda r: [f"{r.month:%Y-%m}", r.urgency, r.service, r.decided, r.on_time, f"{r.share:.3f}"],
        )
    # The chart: share on time per month for each urgency (all services of the selection together).
    months = sorted({r.month for r in rows})
    series: dict[str, dict[date, list[int]]] = {}
    for r in rows:
        cell = series.setdefault(r.urgency, {}).setdefault(r.month, [0, 0])
        cell[0] += r.decided
        cell[1] += r.on_time
    chart = {
        "labels": [f"{m:%b %Y}" for m in months],
        "datasets": [
            {
                "label": urgency,
                "data": [
                    round(100 * by_month[m][1] / by_month[m][0], 1) if m in by_month else None for m in months
                ],
            }
            for urgency, by_month in sorted(series.items())
        ],
    }
    total = sum(r.decided for r in rows)
    on_time = sum(r.on_time for r in rows)
    context = {
        "form": form,
        "rows": rows,
        "chart": chart,
        "total": total,
        "on_time": on_time,
        "share": (on_time / total) if total else None,
        "start": start,
        "end": end,
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "authorizations/timeliness.html", context)


# --- 8. Reviewer home (called by cshub.web.views.home) ---------------------------------------------------


def home_counts(user: Any) -> dict[str, Any] | None:
    """Overdue and due-today counts for a UM reviewer's home page, or None for everyone else."""
    if not permissions.can_review(user):
        return None
    return {**selectors.reviewer_counts(user=user), "queue_url": reverse("authorizations:queue")}
