"""Claims pages (rules C1-C5): the claims list, the claim page with the processor's line decisions, the
pended queue, aging, totals, the provider's invoice form and CSV upload, the paper CMS-1500 and paper
invoice entry, 837P files with their 999, remittances and payment runs.

Views parse, call a selector or a service, render (no rules here). Claims are read through `selectors`
(scoped, deny by default: out of scope is 404) and what a page shows is audited. A processor's decision
posts with the claim's `version` (optimistic locking); a refused step re-renders the claim with the
service's field errors beside the form (422), or with a conflict message (409). The entry forms send what
was typed to `services.claims_receive`; its `DomainError` field names (`member_id`, `lines.1.hcpcs`,
`diagnosis_codes.0` ...) are mapped back to the form's fields, and nothing is stored on error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import PurePath
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.accounts.selectors import organization_get_for_user, organization_list
from cshub.catalog.selectors import service_list
from cshub.claims import forms, ingest, invoices, payments, permissions, selectors, services
from cshub.claims.models import (
    ZERO,
    Claim,
    ClaimFile,
    ClaimSource,
    ClaimStatus,
    LineStatus,
    ReceiptChannel,
)
from cshub.claims.services import ClaimInput, LineInput
from cshub.core import clock
from cshub.core.errors import ConflictError, DomainError, FieldError
from cshub.core.icd10 import normalize_code
from cshub.core.pagination import csv_response, list_context
from cshub.core.uploads import DOCUMENT_TYPES, check_upload

EXPORT_CHUNK = 2000

# --- helpers ------------------------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _service_choices() -> list[tuple[str, str]]:
    return [(s.key, s.name) for s in service_list()]


def _provider_choices(user: Any) -> list[tuple[str, str]]:
    return [
        (str(o.uuid), f"{o.name} · NPI {o.npi}" if o.npi else o.name)
        for o in organization_list(user=user, kind=OrganizationKind.CS_PROVIDER)
    ]


def _decorate(claims: list[Claim]) -> list[Claim]:
    """Each claim's payment clock (rule C5), computed from its own fields: no query per row."""
    today = clock.today()
    for c in claims:
        c.clock = selectors.payment_clock(c, today=today)
    return claims


def _download(field: Any, filename: str) -> FileResponse:
    if not field:
        raise Http404("No such file")
    return FileResponse(field.open("rb"), as_attachment=True, filename=filename)


CLAIM_EXPORT_HEADER = [
    "claim_number",
    "kind",
    "source",
    "channel",
    "provider",
    "billing_npi",
    "provider_claim_number",
    "member_id_billed",
    "member_last_name",
    "member_first_name",
    "received_at",
    "payment_due_on",
    "payment_state",
    "status",
    "outcome",
    "charged",
    "allowed",
    "paid",
    "paid_on",
]


def _export_row(c: Claim) -> list[object]:
    return [
        c.number,
        c.kind_label,
        c.get_source_display(),
        c.get_channel_display(),
        c.billing_organization.name if c.billing_organization_id else c.billing_name,
        c.billing_npi,
        c.patient_control_number,
        c.member_id_billed,
        c.member.last_name if c.member_id else "",
        c.member.first_name if c.member_id else "",
        clock.local(c.received_at).isoformat(),
        c.payment_due_on.isoformat(),
        c.clock.label,
        c.get_status_display(),
        c.get_outcome_display() if c.outcome else "",
        c.total_charge,
        c.allowed_total,
        c.paid_total,
        c.paid_on.isoformat() if c.paid_on else "",
    ]


def _export(user: Any, qs: Any, filters: Any, filename: str) -> HttpResponse:
    rows = _decorate(list(qs.iterator(chunk_size=EXPORT_CHUNK)))
    selectors.audit_claim_list(user=user, claims=rows, purpose="export", filters=filters)
    return csv_response(filename, CLAIM_EXPORT_HEADER, rows, _export_row)


def _links(user: Any) -> dict[str, bool]:
    """Which buttons the claims pages' headers show this user."""
    return {
        "can_submit": permissions.can_submit_claims(user),
        "can_process": permissions.can_process_claims(user),
        "can_upload_837": permissions.can_upload_837(user),
        "is_plan_staff": bool(user.is_plan_staff),
    }


# --- 1. Claims list -----------------------------------------------------------------------------------------


@login_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Providers: the claims and invoices they billed; plan staff: every claim to the plan. Search, filters,
    pagination and CSV export; what is shown or exported is audited (it carries member data)."""
    user = request.user
    if not permissions.can_view_claims(user):
        raise PermissionDenied(
            "The plan's claims staff and a provider's billing staff and leadership see claims."
        )
    form = forms.ClaimFilterForm(
        request.GET or None,
        services=_service_choices(),
        providers=_provider_choices(user) if user.is_plan_staff else None,
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.ClaimFilters(
        status=data.get("status", ""),
        outcome=data.get("outcome", ""),
        source=data.get("source", ""),
        provider=data.get("provider") or None,
        service=data.get("service", ""),
        q=data.get("q", ""),
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
    )
    qs = (
        selectors.claim_list(user=user, filters=filters)
        if not (form.is_bound and form.errors)
        else Claim.objects.none()
    )
    if request.GET.get("format") == "csv":
        return _export(user, qs, filters, "claims.csv")
    context = {**list_context(request, qs), "form": form, **_links(user)}
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    selectors.audit_claim_list(user=user, claims=page.object_list, purpose="list", filters=filters)
    return render(request, "claims/list.html", context)


# --- 2. The claim -------------------------------------------------------------------------------------------


def _line_form_id(number: int) -> str:
    """Each pended line's form has its own ids (several forms on one page; labels stay unique)."""
    return f"id_line{number}_%s"


def _detail_context(request: HttpRequest, claim: Claim, **overrides: Any) -> dict[str, Any]:
    """Everything the claim page shows this user. `overrides`: a bound line form with its errors
    (`decide_form_<n>`), `conflict`, `notice` or `refused` messages."""
    user = request.user
    lines = selectors.claim_lines(claim)
    can_work = permissions.can_work_claims(user, claim) and claim.status == ClaimStatus.PENDED
    for line in lines:
        line.decide_form = None
        if can_work and line.status == LineStatus.PENDED:
            line.decide_form = overrides.pop(f"decide_form_{line.number}", None) or forms.LineDecideForm(
                initial={"version": claim.version}, auto_id=_line_form_id(line.number)
            )
    file_visible = bool(
        claim.claim_file_id
        and selectors.claim_file_queryset_for(user).filter(pk=claim.claim_file_id).exists()
    )
    events = list(selectors.claim_events(claim))
    statuses = dict(ClaimStatus.choices)
    for e in events:
        e.label = e.kind.replace("_", " ").capitalize()
        e.from_label = statuses.get(e.from_status, e.from_status)
        e.to_label = statuses.get(e.to_status, e.to_status)
    context: dict[str, Any] = {
        "claim": claim,
        "lines": lines,
        "events": events,
        "clock": selectors.payment_clock(claim),
        "can_work": can_work,
        "file_visible": file_visible,
        "readjudicate_form": forms.VersionForm(initial={"version": claim.version}, auto_id="id_again_%s"),
        "is_plan_staff": bool(user.is_plan_staff),
    }
    context.update(overrides)
    return context


def _render_detail(request: HttpRequest, uuid: Any, *, status: int = 200, **overrides: Any) -> HttpResponse:
    """The claim page, read again through the audited selector (it may have changed)."""
    claim = selectors.claim_get_for_user(user=request.user, uuid=uuid)
    return render(request, "claims/detail.html", _detail_context(request, claim, **overrides), status=status)


@login_required
@require_GET
def claim_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _render_detail(request, uuid)


def _done(request: HttpRequest, uuid: Any, notice: str) -> HttpResponse:
    if _is_htmx(request):
        return _render_detail(request, uuid, notice=notice)
    messages.success(request, notice)
    return redirect("claims:detail", uuid=uuid)


def _refused(request: HttpRequest, uuid: Any, exc: DomainError, **forms_: Any) -> HttpResponse:
    """A refused step: a conflict (409) shows the claim as it is now; field errors go beside the form."""
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    if exc.status == 409:
        return _render_detail(request, uuid, status=409, conflict=exc.message)
    return _render_detail(request, uuid, status=exc.status, refused=exc.message, **forms_)


@login_required
@require_POST
def line_decide(request: HttpRequest, uuid: Any, number: int) -> HttpResponse:
    """Rule C5: a claims processor pays or denies a pended line, with a note the provider reads."""
    user = request.user
    claim = selectors.claim_get_for_update(user=user, uuid=uuid)
    if not permissions.can_work_claims(user, claim):
        raise PermissionDenied("Only the plan's claims processors decide pended lines.")
    form = forms.LineDecideForm(request.POST, auto_id=_line_form_id(number))
    key = f"decide_form_{number}"
    if not form.is_valid():
        return _render_detail(request, uuid, status=422, **{key: form})
    d = form.cleaned_data
    try:
        services.claim_line_decide(
            actor=user,
            claim=claim,
            line_number=number,
            action=d["action"],
            amount=d["amount"] if d["action"] == "pay" else None,
            note=d["note"],
            version=d["version"],
        )
    except ConflictError as exc:
        return _render_detail(request, uuid, status=409, conflict=exc.message)
    except DomainError as exc:
        for e in exc.errors:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        if not exc.errors and exc.status == 422:
            form.add_error(None, exc.message)
        return _refused(request, uuid, exc, **{key: form})
    verb = "paid" if d["action"] == "pay" else "denied"
    return _done(request, uuid, f"Line {number} {verb}. The provider sees the decision and your note now.")


@login_required
@require_POST
def claim_readjudicate(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Run the edits again over the pended lines (after an authorization decision or a new rate)."""
    user = request.user
    claim = selectors.claim_get_for_update(user=user, uuid=uuid)
    if not permissions.can_work_claims(user, claim):
        raise PermissionDenied("Only the plan's claims processors decide claims again.")
    form = forms.VersionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, uuid, status=422, refused="Reload the claim and try again.")
    try:
        result = services.claim_readjudicate(actor=user, claim=claim, version=form.cleaned_data["version"])
    except ConflictError as exc:
        return _render_detail(request, uuid, status=409, conflict=exc.message)
    except DomainError as exc:
        return _refused(request, uuid, exc)
    if result.status == ClaimStatus.PENDED:
        notice = "Decided again: a line still waits (see the reason beside it)."
    else:
        notice = f"Decided again: {result.get_outcome_display().lower()}."
    return _done(request, uuid, notice)


@login_required
@require_GET
def claim_image(request: HttpRequest, uuid: Any) -> FileResponse:
    """The scanned paper claim or invoice (audited as a read of the claim)."""
    claim = selectors.claim_get_for_user(user=request.user, uuid=uuid, purpose="image")
    return _download(claim.image, claim.image_name or PurePath(claim.image.name or "image").name)


# --- 3. Pended queue ----------------------------------------------------------------------------------------


PENDED_EXPORT_HEADER = [
    "claim_number",
    "provider",
    "billing_npi",
    "member_id_billed",
    "received_at",
    "payment_due_on",
    "payment_state",
    "charged",
    "pended_lines",
    "reasons",
]


@login_required
@require_GET
def pended_queue(request: HttpRequest) -> HttpResponse:
    """Rule C5: the plan's pended claims, oldest receipt first, with each pended line's reason and the
    payment clock. Filter by provider and reason; CSV."""
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied("The plan's claims processors work the pended queue.")
    reasons = selectors.pended_reasons()
    form = forms.PendedFilterForm(request.GET or None, providers=_provider_choices(user), reasons=reasons)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = {"provider": data.get("provider") or None, "reason": data.get("reason", "")}
    qs = selectors.claim_pended_queue(user=user, **filters)
    labels = dict(reasons)
    if request.GET.get("format") == "csv":
        rows = _decorate(list(qs.iterator(chunk_size=EXPORT_CHUNK)))
        selectors.audit_claim_list(user=user, claims=rows, purpose="export", filters=filters)
        return csv_response(
            "pended_claims.csv",
            PENDED_EXPORT_HEADER,
            rows,
            lambda c: [
                c.number,
                c.billing_organization.name if c.billing_organization_id else c.billing_name,
                c.billing_npi,
                c.member_id_billed,
                clock.local(c.received_at).isoformat(),
                c.payment_due_on.isoformat(),
                c.clock.label,
                c.total_charge,
                " ".join(str(ln.number) for ln in c.pended_lines),
                "; ".join(labels.get(ln.reason_key, ln.reason_key) for ln in c.pended_lines),
            ],
        )
    context = {**list_context(request, qs), "form": form, "reason_labels": labels, **_links(user)}
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    for c in page.object_list:
        for ln in c.pended_lines:
            ln.reason_label = labels.get(ln.reason_key, ln.reason_key)
    selectors.audit_claim_list(user=user, claims=page.object_list, purpose="pended_queue", filters=filters)
    return render(request, "claims/pended.html", context)


# --- 4. Aging -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def aging(request: HttpRequest) -> HttpResponse:
    """Rule C5: unpaid claims against their 45-business-day deadline: the summary, and the overdue or at-risk
    claims, soonest due first; CSV."""
    user = request.user
    if not permissions.can_view_claims(user):
        raise PermissionDenied
    form = forms.AgingFilterForm(
        request.GET or None, providers=_provider_choices(user) if user.is_plan_staff else None
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    show = data.get("show") or "overdue"
    filters = selectors.ClaimFilters(aging=show, provider=data.get("provider") or None)
    qs = selectors.claim_list(user=user, filters=filters)
    if request.GET.get("format") == "csv":
        return _export(user, qs, filters, f"claims_{show}.csv")
    context = {
        **list_context(request, qs),
        "form": form,
        "show": show,
        "show_label": dict(forms.AGING_CHOICES)[show],
        "counts": selectors.aging_counts(user=user),
        "at_risk_days": _at_risk_days(),
        **_links(user),
    }
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    selectors.audit_claim_list(user=user, claims=page.object_list, purpose="aging", filters=filters)
    return render(request, "claims/aging.html", context)


def _at_risk_days() -> int:
    return int(settings.CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS)


# --- 5. Totals ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def totals(request: HttpRequest) -> HttpResponse:
    """Charged, paid and the denial rate by provider, service or month received, with a chart (the same
    numbers are in the table); default the last 12 months; CSV."""
    user = request.user
    if not permissions.can_view_claims(user):
        raise PermissionDenied
    today = clock.today()
    default_start = clock.add_months(date(today.year, today.month, 1), -11)
    default_by = "provider" if user.is_plan_staff else "month"
    form = forms.TotalsForm(
        request.GET if "start" in request.GET else None,
        initial={"by": default_by, "start": default_start, "end": today},
    )
    by, start, end = default_by, default_start, today
    if form.is_bound and form.is_valid():
        by = form.cleaned_data["by"] or default_by
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = selectors.claim_totals(user=user, by=by, start=start, end=end) if not form.errors else []
    if request.GET.get("format") == "csv":
        return csv_response(
            f"claim_totals_by_{by}.csv",
            [by, "claims", "lines", "charged", "paid", "denied_lines", "denial_rate"],
            rows,
            lambda r: [
                r.label,
                r.claims,
                r.lines,
                f"{r.charged:.2f}",
                f"{r.paid:.2f}",
                r.denied_lines,
                f"{r.denial_rate:.3f}",
            ],
        )
    lines = sum(r.lines for r in rows)
    denied = sum(r.denied_lines for r in rows)
    chart = {
        "labels": [r.label for r in rows],
        "datasets": [
            {"label": "Charged ($)", "data": [float(r.charged) for r in rows]},
            {"label": "Paid ($)", "data": [float(r.paid) for r in rows]},
        ],
    }
    context = {
        "form": form,
        "rows": rows,
        "by": by,
        "by_label": dict(forms.TOTALS_BY)[by],
        "start": start,
        "end": end,
        "chart": chart,
        "total": {
            "claims": sum(r.claims for r in rows),
            "lines": lines,
            "charged": sum((r.charged for r in rows), ZERO),
            "paid": sum((r.paid for r in rows), ZERO),
            "denied_lines": denied,
            "denial_rate": (denied / lines) if lines else 0.0,
        },
        "csv_query": request.GET.urlencode(),
        **_links(user),
    }
    return render(request, "claims/totals.html", context)


# --- 6.-8. Entry forms: errors from the service beside the fields -------------------------------------------


def _apply_claim_errors(
    form: Any, errors: list[FieldError], field_for: Callable[[str], str | None], *, keep_form_errors: bool
) -> None:
    """The service's field errors beside the form's fields (unknown fields at the top). With
    `keep_form_errors`, a field the form already refused keeps only the form's own message."""
    already = set(form.errors) if keep_form_errors else set()
    for e in errors:
        name = field_for(e.field)
        if name is not None and name not in form.fields:
            name = None
        if name in already:
            continue
        form.add_error(name, e.message)


def _line_field(name: str, rows: list[int], fields: dict[str, str]) -> str | None:
    """`lines.2.hcpcs` -> the form field of the second line entered (`fields` maps the service's line
    field to the form's suffix)."""
    parts = name.split(".")
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    index = int(parts[1]) - 1
    if not 0 <= index < len(rows) or parts[2] not in fields:
        return None
    suffix = fields[parts[2]]
    return f"line{rows[index]}_{suffix}" if suffix else None


def _error_summary(form: Any) -> list[dict[str, str]]:
    """Every error of the form, for the summary at the top: each links to its field."""
    summary = []
    for name, errors in form.errors.items():
        if name == "__all__":
            summary.extend({"label": "", "message": str(e), "anchor": ""} for e in errors)
            continue
        bound = form[name]
        label = str(bound.label)
        if name.startswith("line") and "_" in name:
            label = f"Line {name[4 : name.index('_')]} · {label}"
        summary.extend({"label": label, "message": str(e), "anchor": bound.auto_id} for e in errors)
    return summary


def _check_problems(claim_in: ClaimInput, received_on: date, image: Any) -> list[FieldError]:
    """The service's own field checks, for a form that is already refused (so every problem shows at once);
    nothing is stored."""
    problems = list(services.claim_input_problems(claim_in, received_on=received_on))
    try:
        check_upload(image, field="image", allowed=DOCUMENT_TYPES, required=False)
    except DomainError as exc:
        problems.extend(exc.errors)
    return problems


def _split_code(value: str) -> tuple[str, list[str]]:
    hcpcs, _, modifier = (value or "").partition("|")
    return hcpcs.strip().upper(), [modifier.strip().upper()] if modifier.strip() else []


def _code_choices(rows: list[Any]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The codes the contracts in force pay for: (choices, {value: rate}) for the invoice form's select."""
    plans = {row.contract.plan_id for row in rows}
    choices: list[tuple[str, str]] = []
    rates: dict[str, str] = {}
    for row in rows:
        value = f"{row.code.hcpcs}|{row.code.modifier}"
        if value in rates:
            continue
        unit = f" {row.unit}" if row.unit else ""
        plan = f" ({row.contract.plan.name})" if len(plans) > 1 else ""
        choices.append((value, f"{row.code.code} · {row.code.service.name} · ${row.rate:,.2f}{unit}{plan}"))
        rates[value] = str(row.rate)
    return choices, rates


INVOICE_LINE_FIELDS = {
    "hcpcs": "code",
    "modifiers": "code",
    "service_from": "service_from",
    "service_to": "service_to",
    "units": "units",
    "charge": "charge",
}


def _invoice_input(form: forms.InvoiceForm, provider: Organization) -> tuple[ClaimInput, Callable]:
    """What the invoice form holds, as the service reads it, and how its error names map back."""
    data = form.cleaned_data
    rows = form.filled_lines()
    lines = []
    for n in rows:
        hcpcs, modifiers = _split_code(data.get(f"line{n}_code", ""))
        lines.append(
            LineInput(
                hcpcs=hcpcs,
                modifiers=modifiers,
                service_from=data.get(f"line{n}_service_from"),
                service_to=data.get(f"line{n}_service_to"),
                units=data.get(f"line{n}_units"),
                charge=data.get(f"line{n}_charge"),
            )
        )
    diagnosis = normalize_code(data.get("diagnosis_code", ""))
    claim_in = ClaimInput(
        billing_npi=provider.npi,
        billing_name=provider.name,
        billing_tax_id=provider.tin,
        member_id=(data.get("member_id") or "").strip().upper(),
        patient_control_number=(data.get("patient_control_number") or "").strip(),
        diagnosis_codes=[diagnosis] if diagnosis else [],
        authorization_number=(data.get("authorization_number") or "").strip().upper(),
        lines=lines,
    )
    direct = {
        "member_id": "member_id",
        "patient_control_number": "patient_control_number",
        "diagnosis_codes": "diagnosis_code",
        "diagnosis_codes.0": "diagnosis_code",
        "authorization_number": "authorization_number",
        "image": "image",
        "lines": "line1_code",
    }

    def field_for(name: str) -> str | None:
        if name.startswith("lines."):
            return _line_field(name, rows, INVOICE_LINE_FIELDS)
        return direct.get(name)

    return claim_in, field_for


def _line_count(request: HttpRequest) -> int:
    """How many line rows the invoice form shows: the posted count, one more or one less when the clerk
    pressed "Add a line" or "Remove the last line"."""
    try:
        count = int(request.POST.get("lines") or 1)
    except ValueError:
        count = 1
    action = request.POST.get("resize")
    if action == "add":
        count += 1
    elif action == "remove":
        count -= 1
    return max(1, min(count, forms.MAX_INVOICE_LINES))


def _invoice_page(
    request: HttpRequest,
    *,
    provider: Organization,
    codes: list[tuple[str, str]],
    rates: dict[str, str],
    paper: bool,
    context: dict[str, Any],
) -> HttpResponse:
    """Rule C4: the invoice form, for the provider's billing staff (web) or the plan's claims staff (mail,
    fax, email, with the received date stamp and the scanned image)."""
    user = request.user
    form_class = forms.PaperInvoiceForm if paper else forms.InvoiceForm
    status = 200
    refusal = ""
    line_count = _line_count(request) if request.method == "POST" else 1
    initial: dict[str, Any] = {"lines": line_count}
    if paper:
        initial.update(
            {"provider": provider.uuid, "channel": ReceiptChannel.MAIL, "received_at": forms.received_now()}
        )
    if request.method == "POST" and request.POST.get("resize"):
        # Add or remove a line row: the form again with what was typed, no errors yet.
        kept = {k: v for k, v in request.POST.dict().items() if k not in {"csrfmiddlewaretoken", "resize"}}
        kept["lines"] = line_count
        form = form_class(initial={**initial, **kept}, codes=codes, line_count=line_count)
    elif request.method == "POST":
        form = form_class(request.POST, request.FILES, codes=codes, line_count=line_count)
        valid = form.is_valid()
        claim_in, field_for = _invoice_input(form, provider)
        received_at = form.cleaned_data.get("received_at") if paper else None
        received_on = clock.local(received_at).date() if received_at else clock.today()
        image = form.cleaned_data.get("image") if paper else None
        if not valid:
            _apply_claim_errors(
                form, _check_problems(claim_in, received_on, image), field_for, keep_form_errors=True
            )
            status = 422
        else:
            try:
                received = services.claims_receive(
                    actor=user,
                    inputs=[claim_in],
                    source=ClaimSource.INVOICE_PAPER if paper else ClaimSource.INVOICE_WEB,
                    channel=form.cleaned_data["channel"] if paper else ReceiptChannel.WEB,
                    received_at=received_at,
                    submitter=user.organization,
                    image=image,
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                _apply_claim_errors(form, exc.errors, field_for, keep_form_errors=False)
                if not exc.errors:
                    form.add_error(None, exc.message)
                refusal = exc.message
                status = exc.status
            else:
                claim = received.claims[0]
                messages.success(request, _received_notice(claim))
                return redirect("claims:detail", uuid=claim.uuid)
    else:
        form = form_class(initial=initial, codes=codes, line_count=line_count)
    context.update(
        {
            "form": form,
            "provider": provider,
            "paper": paper,
            "rates": rates,
            "has_codes": bool(codes),
            "line_rows": form.line_rows(),
            "max_lines": forms.MAX_INVOICE_LINES,
            "refusal": refusal,
            "summary": _error_summary(form) if form.is_bound else [],
            "files_dropped": paper and bool(request.FILES) and status != 200,
        }
    )
    template = "claims/invoice_form.html"
    return render(request, template, context, status=status)


def _received_notice(claim: Claim) -> str:
    kind = "Invoice" if claim.is_invoice else "Claim"
    claim.refresh_from_db(fields=["status", "outcome", "paid_total"])
    if claim.status == ClaimStatus.PENDED:
        decision = "it is pended: a line waits for a claims processor or a pending decision"
    else:
        decision = f"{claim.get_outcome_display().lower()}, ${claim.paid_total:,.2f} allowed"
    return (
        f"{kind} {claim.number} received; payment is due by {claim.payment_due_on:%m/%d/%Y} (rule C5). "
        f"Decision: {decision}."
    )


@login_required
@require_http_methods(["GET", "POST"])
def invoice_new(request: HttpRequest) -> HttpResponse:
    """Rule C4: a provider's billing staff invoice the plan without billing software."""
    user = request.user
    if not permissions.can_submit_claims(user):
        raise PermissionDenied("A Community Supports provider's billing staff and leadership send invoices.")
    rows = selectors.billable_fee_rows(organization=user.organization, on=clock.today())
    codes, rates = _code_choices(rows)
    return _invoice_page(
        request, provider=user.organization, codes=codes, rates=rates, paper=False, context={}
    )


@login_required
@require_http_methods(["GET", "POST"])
def paper_invoice(request: HttpRequest) -> HttpResponse:
    """Rule C4: an invoice received by mail, fax or email, entered by the plan's claims staff. First the
    billing provider by NPI, then the invoice."""
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied("The plan's claims processors enter paper invoices.")
    chosen = request.POST.get("provider") or request.GET.get("provider")
    lookup = forms.ProviderLookupForm(request.GET if "npi" in request.GET else None)
    provider = None
    found: list[Organization] = []
    if chosen:
        provider = organization_get_for_user(user=user, uuid=chosen)
        if provider.kind != OrganizationKind.CS_PROVIDER:
            raise Http404("Not a Community Supports provider")
    elif lookup.is_bound and lookup.is_valid():
        found = list(
            organization_list(
                user=user, search=lookup.cleaned_data["npi"].strip(), kind=OrganizationKind.CS_PROVIDER
            )
        )
        if len(found) == 1:
            provider = found[0]
    context = {"lookup": lookup, "found": found, "searched": lookup.is_bound}
    if provider is None:
        return render(request, "claims/paper_invoice_provider.html", context)
    rows = selectors.billable_fee_rows(organization=provider, on=clock.today(), plan=user.organization)
    codes, rates = _code_choices(rows)
    return _invoice_page(request, provider=provider, codes=codes, rates=rates, paper=True, context=context)


CMS1500_LINE_FIELDS = {
    "hcpcs": "hcpcs",
    "modifiers": "modifiers",
    "service_from": "service_from",
    "service_to": "service_to",
    "units": "units",
    "charge": "charge",
    "place_of_service": "place_of_service",
    "rendering_npi": "rendering_npi",
    "diagnosis_pointers": "pointer",
}


def _cms1500_input(form: forms.Cms1500Form) -> tuple[ClaimInput, Callable]:
    data = form.cleaned_data
    rows = form.filled_lines()
    diagnoses = form.diagnoses()
    position = {forms.DIAGNOSIS_LETTERS[box - 1]: i for i, (_, _, box) in enumerate(diagnoses, start=1)}
    lines = []
    for n in rows:
        letters = (data.get(f"line{n}_pointer") or "").strip().upper().replace(" ", "").replace(",", "")
        pointers = [position.get(c, 99) for c in letters] or [1]
        lines.append(
            LineInput(
                hcpcs=(data.get(f"line{n}_hcpcs") or "").strip().upper(),
                modifiers=(data.get(f"line{n}_modifiers") or "").replace(",", " ").upper().split(),
                service_from=data.get(f"line{n}_service_from"),
                service_to=data.get(f"line{n}_service_to") or data.get(f"line{n}_service_from"),
                units=data.get(f"line{n}_units"),
                charge=data.get(f"line{n}_charge"),
                place_of_service=(data.get(f"line{n}_place_of_service") or "").strip(),
                diagnosis_pointers=pointers,
                rendering_npi=(data.get(f"line{n}_rendering_npi") or "").strip(),
            )
        )
    claim_in = ClaimInput(
        billing_npi=(data.get("billing_npi") or "").strip(),
        billing_name=(data.get("billing_name") or "").strip(),
        billing_tax_id=(data.get("federal_tax_id") or "").replace("-", "").strip()[:9],
        member_id=(data.get("insured_id") or "").strip().upper(),
        member_name=(data.get("patient_name") or "").strip(),
        member_date_of_birth=data.get("patient_birth_date"),
        patient_control_number=(data.get("patient_account") or "").strip(),
        diagnosis_codes=[normalize_code(code) for _, code, _ in diagnoses],
        authorization_number=(data.get("prior_authorization") or "").strip().upper(),
        lines=lines,
    )
    direct = {
        "member_id": "insured_id",
        "patient_control_number": "patient_account",
        "billing_npi": "billing_npi",
        "diagnosis_codes": "dx_a",
        "authorization_number": "prior_authorization",
        "image": "image",
        "lines": "line1_hcpcs",
        "place_of_service": "line1_place_of_service",
        "rendering_npi": "line1_rendering_npi",
    }

    def field_for(name: str) -> str | None:
        if name.startswith("lines."):
            return _line_field(name, rows, CMS1500_LINE_FIELDS)
        if name.startswith("diagnosis_codes."):
            index = name.split(".", 1)[1]
            if index.isdigit() and int(index) < len(diagnoses):
                return diagnoses[int(index)][0]
            return "dx_a"
        return direct.get(name)

    return claim_in, field_for


@login_required
@require_http_methods(["GET", "POST"])
def cms1500_entry(request: HttpRequest) -> HttpResponse:
    """Rule C4: a paper CMS-1500 (02/12) entered by the plan's claims staff with the received date stamp
    and the scanned image; labels carry the form's box numbers."""
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied("The plan's claims processors enter paper claims.")
    status = 200
    refusal = ""
    if request.method == "POST":
        form = forms.Cms1500Form(request.POST, request.FILES)
        valid = form.is_valid()
        claim_in, field_for = _cms1500_input(form)
        received_at: datetime | None = form.cleaned_data.get("received_at")
        received_on = clock.local(received_at).date() if received_at else clock.today()
        image = form.cleaned_data.get("image")
        if not valid:
            _apply_claim_errors(
                form, _check_problems(claim_in, received_on, image), field_for, keep_form_errors=True
            )
            status = 422
        else:
            try:
                received = services.claims_receive(
                    actor=user,
                    inputs=[claim_in],
                    source=ClaimSource.CMS1500,
                    channel=ReceiptChannel.MAIL,
                    received_at=received_at,
                    submitter=user.organization,
                    image=image,
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                _apply_claim_errors(form, exc.errors, field_for, keep_form_errors=False)
                if not exc.errors:
                    form.add_error(None, exc.message)
                refusal = exc.message
                status = exc.status
            else:
                claim = received.claims[0]
                messages.success(request, _received_notice(claim))
                return redirect("claims:detail", uuid=claim.uuid)
    else:
        form = forms.Cms1500Form(initial={"received_at": forms.received_now()})
    context = {
        "form": form,
        "line_rows": form.line_rows(),
        "diagnosis_fields": form.diagnosis_fields(),
        "refusal": refusal,
        "summary": _error_summary(form) if form.is_bound else [],
        "files_dropped": bool(request.FILES) and status != 200,
    }
    return render(request, "claims/cms1500.html", context, status=status)


# --- 9. CSV invoice upload ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invoice_upload(request: HttpRequest) -> HttpResponse:
    """Rule C4: a provider without billing software uploads its invoices as a CSV file; every problem is
    named by row and field and nothing is stored until the whole file is clean."""
    user = request.user
    if not permissions.can_submit_claims(user):
        raise PermissionDenied("A Community Supports provider's billing staff and leadership send invoices.")
    status = 200
    context: dict[str, Any] = {"errors": [], "refusal": "", "received": None}
    if request.method == "POST":
        form = forms.InvoiceUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = invoices.invoices_upload(actor=user, data=upload.read(), name=upload.name)
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                context.update({"errors": exc.errors, "refusal": exc.message})
                status = exc.status
            else:
                received = _decorate(list(result.claims))
                context["received"] = received
                messages.success(
                    request,
                    f"{len(received)} invoice{'s' if len(received) != 1 else ''} received "
                    f"from {upload.name}.",
                )
        else:
            status = 422
    else:
        form = forms.InvoiceUploadForm()
    context["form"] = form
    return render(request, "claims/invoice_upload.html", context, status=status)


@login_required
@require_GET
def invoice_template(request: HttpRequest) -> HttpResponse:
    """The CSV invoice template: the header and one example row."""
    if not permissions.can_submit_claims(request.user):
        raise PermissionDenied
    response = HttpResponse(invoices.INVOICE_CSV_TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoice_template.csv"'
    return response


# --- 10. 837P files -----------------------------------------------------------------------------------------

ACK_WORDS = {
    ClaimFile.Ack.ACCEPTED: "Accepted: every claim in the file was read.",
    ClaimFile.Ack.ACCEPTED_WITH_ERRORS: "Accepted with errors: the file was read; see the problems below.",
    ClaimFile.Ack.PARTIALLY_ACCEPTED: "Partly accepted: some transaction sets were rejected; see below.",
    ClaimFile.Ack.REJECTED: "Rejected: nothing in the file was read; correct it and send it again.",
}


@login_required
@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    """Rule C3: 837P files received (a provider: the files it sent; the plan's staff: files with claims for
    the plan), each with its 999 answer; CSV."""
    user = request.user
    if not permissions.can_view_claims(user):
        raise PermissionDenied
    ack = request.GET.get("ack", "")
    qs = selectors.claim_file_queryset_for(user).select_related("submitter_organization")
    if ack in ClaimFile.Ack.values:
        qs = qs.filter(ack_code=ack)
    qs = qs.order_by("-received_at", "-id")
    if request.GET.get("format") == "csv":
        return csv_response(
            "claim_files.csv",
            ["file", "received_at", "channel", "sender", "ack", "claims", "lines", "problems", "refusals"],
            qs.iterator(chunk_size=EXPORT_CHUNK),
            lambda f: [
                f.original_name,
                clock.local(f.received_at).isoformat(),
                f.get_channel_display(),
                f.submitter_organization.name if f.submitter_organization_id else f.sender_id,
                f.get_ack_code_display(),
                f.claim_count,
                f.line_count,
                len(f.problems or []),
                len(f.refusals or []),
            ],
        )
    context = {
        **list_context(request, qs),
        "ack": ack,
        "acks": ClaimFile.Ack.choices,
        **_links(user),
    }
    return render(request, "claims/file_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def file_upload(request: HttpRequest) -> HttpResponse:
    """Rule C3: upload an 837P file; the 999 answers it at once and the claims in it are adjudicated."""
    user = request.user
    if not permissions.can_upload_837(user):
        raise PermissionDenied(
            "A provider's billing staff and the plan's claims processors upload 837P files."
        )
    status = 200
    refusal = ""
    if request.method == "POST":
        form = forms.ClaimFileUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                claim_file = ingest.claim_file_ingest(
                    actor=user,
                    data=upload.read(),
                    name=upload.name,
                    channel=ReceiptChannel.UPLOAD,
                    submitter=user.organization,
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                for e in exc.errors:
                    form.add_error("file" if e.field in {"file", "data", "name"} else None, e.message)
                if not exc.errors:
                    form.add_error("file", exc.message)
                refusal = exc.message
                status = exc.status
            else:
                message = getattr(claim_file, "message", "") or claim_file.original_name
                if getattr(claim_file, "duplicate", False):
                    messages.info(request, f"{message} Its 999 is below.")
                else:
                    messages.success(request, message)
                return redirect("claims:file_detail", uuid=claim_file.uuid)
        else:
            status = 422
    else:
        form = forms.ClaimFileUploadForm()
    return render(request, "claims/file_upload.html", {"form": form, "refusal": refusal}, status=status)


@login_required
@require_GET
def file_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Rule C3: one 837P file: its 999 answer in words, the problems with their positions, the claims
    refused at intake, and the claims it carried (paginated, audited)."""
    user = request.user
    claim_file = selectors.claim_file_get_for_user(user=user, uuid=uuid)
    filters = selectors.ClaimFilters(claim_file=claim_file.uuid)
    qs = selectors.claim_list(user=user, filters=filters)
    context = {
        **list_context(request, qs),
        "f": claim_file,
        "ack_words": ACK_WORDS.get(claim_file.ack_code, claim_file.get_ack_code_display()),
        "problems": claim_file.problems or [],
        "refusals": claim_file.refusals or [],
    }
    page = context["page_obj"]
    page.object_list = _decorate(list(page.object_list))
    selectors.audit_claim_list(user=user, claims=page.object_list, purpose="claim_file", filters=filters)
    return render(request, "claims/file_detail.html", context)


@login_required
@require_GET
def file_original(request: HttpRequest, uuid: Any) -> FileResponse:
    claim_file = selectors.claim_file_get_for_user(user=request.user, uuid=uuid)
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ClaimFile", object_id=claim_file.uuid, what="837P"
    )
    return _download(claim_file.original, claim_file.original_name)


@login_required
@require_GET
def file_999(request: HttpRequest, uuid: Any) -> FileResponse:
    claim_file = selectors.claim_file_get_for_user(user=request.user, uuid=uuid)
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ClaimFile", object_id=claim_file.uuid, what="999"
    )
    stem = PurePath(claim_file.original_name).stem or "file"
    return _download(claim_file.ack_999, f"{stem}.999.x12")


# --- 11. Payments and payment runs --------------------------------------------------------------------------


@login_required
@require_GET
def payment_list(request: HttpRequest) -> HttpResponse:
    """Rules C3, C5: remittances (a provider: its own; the plan's staff: all), each with its EFT trace
    number, amount, claims and the 835; CSV."""
    user = request.user
    if not permissions.can_view_claims(user):
        raise PermissionDenied
    qs = selectors.payment_queryset_for(user).select_related("organization", "run")
    provider = request.GET.get("provider", "") if user.is_plan_staff else ""
    if provider:
        qs = qs.filter(organization__uuid=provider) if _is_uuid(provider) else qs.none()
    qs = qs.order_by("-payment_date", "-id")
    if request.GET.get("format") == "csv":
        return csv_response(
            "payments.csv",
            ["payment_date", "provider", "eft_trace_number", "amount", "claims", "run", "remittance"],
            qs.iterator(chunk_size=EXPORT_CHUNK),
            lambda p: [
                p.payment_date.isoformat(),
                p.organization.name,
                p.eft_trace_number,
                p.amount,
                p.claim_count,
                p.run.number,
                p.remittance_name,
            ],
        )
    context = {
        **list_context(request, qs),
        "provider": provider,
        "providers": _provider_choices(user) if user.is_plan_staff else None,
        **_links(user),
    }
    return render(request, "claims/payment_list.html", context)


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


@login_required
@require_GET
def payment_835(request: HttpRequest, uuid: Any) -> FileResponse:
    payment = selectors.payment_get_for_user(user=request.user, uuid=uuid)
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ProviderPayment", object_id=payment.uuid, what="835"
    )
    return _download(payment.remittance_835, payment.remittance_name or f"{payment.eft_trace_number}.835")


def _run_preview(user: Any, provider_ids: list[int] | None, received_through: date | None) -> dict[str, Any]:
    payable = selectors.payable_claims(
        plan=user.organization, organization_ids=provider_ids, received_through=received_through
    )
    found = payable.aggregate(claims=Count("id"), total=Sum("paid_total"))
    return {"claims": found["claims"], "total": found["total"] or ZERO}


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    """Rule C5: the plan's payment runs, and a new run: the adjudicated claims not paid yet (of the chosen
    providers, received through a date) are paid on the payment date, one EFT and 835 per provider."""
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied("The plan's claims processors run payments.")
    providers = list(organization_list(user=user, kind=OrganizationKind.CS_PROVIDER))
    choices = [(str(o.uuid), f"{o.name} · NPI {o.npi}" if o.npi else o.name) for o in providers]
    ids = {str(o.uuid): o.pk for o in providers}
    status = 200
    refusal = ""
    source = (
        request.POST if request.method == "POST" else (request.GET if "payment_date" in request.GET else None)
    )
    form = forms.PaymentRunForm(source, providers=choices, initial={"payment_date": clock.today()})
    preview = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        chosen = [ids[u] for u in d["providers"]] or None
        if request.method == "POST" and not request.POST.get("preview"):
            try:
                run = payments.payment_run_create(
                    actor=user,
                    plan=user.organization,
                    payment_date=d["payment_date"],
                    organization_ids=chosen,
                    received_through=d["received_through"],
                )
            except DomainError as exc:
                if exc.status == 403:
                    raise PermissionDenied(exc.message) from exc
                for e in exc.errors:
                    name = {"organization_ids": "providers"}.get(e.field, e.field)
                    form.add_error(name if name in form.fields else None, e.message)
                if not exc.errors:
                    form.add_error(None, exc.message)
                refusal = exc.message
                status = exc.status
            else:
                messages.success(
                    request,
                    f"Payment run {run.number}: {run.claim_count} claims paid to {run.provider_count} "
                    f"provider{'s' if run.provider_count != 1 else ''}, ${run.total_paid:,.2f}.",
                )
                return redirect("claims:run_detail", uuid=run.uuid)
        preview = _run_preview(user, chosen, d["received_through"])
    elif form.is_bound:
        status = 422
    if preview is None and not form.is_bound:
        preview = _run_preview(user, None, None)
    qs = selectors.payment_run_queryset_for(user).select_related("run_by").order_by("-run_at", "-id")
    context = {**list_context(request, qs), "form": form, "preview": preview, "refusal": refusal}
    return render(request, "claims/run_list.html", context, status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied
    run = get_object_or_404(selectors.payment_run_queryset_for(user).select_related("run_by"), uuid=uuid)
    payments_ = selectors.payment_queryset_for(user).filter(run=run).select_related("organization")
    return render(
        request, "claims/run_detail.html", {"run": run, "payments": payments_.order_by("organization__name")}
    )


# --- 12. Home card (called by cshub.web.views.home) ---------------------------------------------------------


def home_counts(user: Any) -> dict[str, Any] | None:
    """A claims processor's pended and overdue claims; a provider's billing staff their pended claims and
    this month's denials; None for everyone else."""
    if permissions.can_process_claims(user):
        kind = "processor"
    elif permissions.can_submit_claims(user):
        kind = "provider"
    else:
        return None
    counts = selectors.claim_home_counts(user=user)
    return {
        **counts,
        "kind": kind,
        "list_url": reverse("claims:list"),
        "pended_url": reverse("claims:pended")
        if kind == "processor"
        else reverse("claims:list") + "?status=pended",
        "aging_url": reverse("claims:aging"),
        "denied_url": reverse("claims:list") + "?outcome=denied",
    }
