"""Claims, invoices, 837P files and payments over REST (rules C1-C5), mounted at the API root:

- `/claims`: the JSON door for one claim or invoice (C1, C4; channel "api"), the list with its filters and
  CSV export (`/claims.csv`), the aging view and totals (C5), one claim with its lines, CARC/RARC
  adjustments in plain words, payment clock and history, and the processors' steps on pended claims;
- `/claim-invoices.csv`: invoices as a CSV file (C4); `/claim-files`: 837P files in, with their 999 (C3);
- `/payments` (one EFT and one 835 per provider) and `/payment-runs` (C5).

Parse, call a selector or service, shape the response. Every read goes through the scoped selectors
(`claim_queryset_for`, `claim_file_queryset_for`, `payment_queryset_for`), which audit member data; out of
scope is 404, never a 403 that tells the record exists. Errors are problem bodies rendered by the API root;
a refused step on a claim (403, 409) also carries its current version, status and the caller's allowed
actions.
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Query, Router, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.catalog import selectors as catalog_selectors
from cshub.claims import ingest, invoices, payments, permissions, selectors, services
from cshub.claims.models import (
    Claim,
    ClaimFile,
    ClaimOutcome,
    ClaimSource,
    ClaimStatus,
    ProviderPayment,
    ReceiptChannel,
)
from cshub.claims.schemas import (
    AgingOut,
    ClaimDetailOut,
    ClaimFileDetailOut,
    ClaimFileOut,
    ClaimFileReceiptOut,
    ClaimIn,
    ClaimLineIn,
    ClaimOut,
    ClaimProblemOut,
    ClaimQuery,
    InvoiceUploadOut,
    LineDecisionIn,
    PaymentDetailOut,
    PaymentOut,
    PaymentRunIn,
    PaymentRunOut,
    TotalsOut,
    VersionIn,
)
from cshub.core import clock
from cshub.core.errors import DomainError, FieldError
from cshub.core.pagination import csv_response

router = Router(tags=["claims"])

REFUSALS = {
    403: ClaimProblemOut,
    404: ClaimProblemOut,
    409: ClaimProblemOut,
    422: ClaimProblemOut,
}
AGING = ("at_risk", "overdue")
TOTALS_BY = ("provider", "service", "month")
CENT = Decimal("0.01")
X12_TYPES = ("application/edi-x12", "text/plain", "application/octet-stream")
X12_RESPONSE = {
    "responses": {
        "200": {
            "description": "The X12 file",
            "content": {"application/edi-x12": {"schema": {"type": "string"}}},
        }
    }
}
POINTER_LETTERS = "ABCDEFGHIJKL"  # CMS-1500 box 24E points at box 21's A-L; the 837P at 1-12


# --- Helpers: parse, shape ---------------------------------------------------------------------------


def _invalid(message: str, problems: list[FieldError]) -> DomainError:
    return DomainError(message, errors=problems)


def _can_view(request: HttpRequest) -> None:
    if not permissions.can_view_claims(request.user):
        raise PermissionDenied(
            "Your role does not work with claims: a provider's billing staff and leadership do, and the "
            "plan's claims, provider relations and reporting staff."
        )


def _allowed_actions(user: Any, claim: Claim) -> list[str]:
    if claim.status == ClaimStatus.PENDED and permissions.can_work_claims(user, claim):
        return ["decide", "readjudicate"]
    return []


def _detail(user: Any, claim: Claim) -> Claim:
    """Attach what the detail shows: payment clock, lines with adjustments, history, allowed actions."""
    claim.api_payment_clock = selectors.payment_clock(claim)
    claim.api_lines = selectors.claim_lines(claim)
    claim.api_events = list(selectors.claim_events(claim))
    claim.api_allowed_actions = _allowed_actions(user, claim)
    return claim


def _refused(request: HttpRequest, exc: DomainError, uuid: UUID) -> HttpResponse:
    """A refused step. 422 goes to the API root as is; 403 and 409 also carry the claim's current version
    and status and the caller's allowed actions, so an integrator can reload or offer the right choices."""
    if exc.status not in (403, 409):
        raise exc
    from cshub.core.api import problem  # the API root imports this module; import it late

    current = selectors.claim_get_for_update(user=request.user, uuid=uuid)
    return problem(
        request,
        exc.status,
        exc.message,
        errors=[e.as_dict() for e in exc.errors],
        code=exc.code,
        version=current.version,
        current_status=current.status,
        allowed_actions=_allowed_actions(request.user, current),
    )


def _filters(query: ClaimQuery) -> selectors.ClaimFilters:
    problems = []
    if query.status and query.status != "unpaid" and query.status not in ClaimStatus.values:
        problems.append(
            FieldError("status", f"unpaid or a status: {', '.join(ClaimStatus.values)}.", "choice")
        )
    outcomes = [v for v in ClaimOutcome.values if v]
    if query.outcome and query.outcome not in outcomes:
        problems.append(FieldError("outcome", f"One of: {', '.join(outcomes)}.", "choice"))
    if query.source and query.source not in ClaimSource.values:
        problems.append(FieldError("source", f"One of: {', '.join(ClaimSource.values)}.", "choice"))
    if query.aging and query.aging not in AGING:
        problems.append(FieldError("aging", f"One of: {', '.join(AGING)}.", "choice"))
    service = query.service.strip()
    if service and not catalog_selectors.service_list().filter(key=service).exists():
        problems.append(FieldError("service", "Choose a Community Support (GET /api/v1/catalog).", "choice"))
    if query.received_from and query.received_to and query.received_from > query.received_to:
        problems.append(FieldError("received_to", "The end date is before the start date.", "range"))
    if problems:
        raise _invalid("The filters are not valid.", problems)
    return selectors.ClaimFilters(
        status=query.status,
        outcome=query.outcome,
        source=query.source,
        provider=query.provider,
        service=service,
        q=query.q.strip(),
        received_from=query.received_from,
        received_to=query.received_to,
        aging=query.aging,
        claim_file=query.claim_file,
    )


def _filters_used(query: ClaimQuery) -> dict[str, str]:
    return {k: str(v) for k, v in query.dict().items() if v not in (None, "")}


class AuditedClaimPagination(LimitOffsetPagination):
    """Limit/offset pagination that audits the claims of the page it returns (they carry member data) and
    adds each row's payment clock (rule C5) without a query per row."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        rows = list(page["items"])
        for row in rows:
            row.api_payment_clock = selectors.payment_clock(row)
        page["items"] = rows
        query = params.get("filters")
        used = _filters_used(query) if query is not None else {}
        selectors.audit_claim_list(
            user=request.user, claims=rows, purpose="search" if used else "list", filters=used
        )
        return page


# --- The JSON door: one claim or invoice (rules C1, C4) ---------------------------------------------


def _day(raw: str | None, field: str, n: int, problems: list[FieldError]) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    problems.append(
        FieldError(f"lines.{n}.{field}", f"Line {n}: {text[:20]} is not a date; use YYYY-MM-DD.", "date")
    )
    return None


def _amount(raw: Any, field: str, problems: list[FieldError], label: str = "") -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = None if isinstance(raw, bool) else services.parse_decimal(str(raw))
    if value is None:
        problems.append(FieldError(field, f"{label}{str(raw)[:20]} is not a number.", "number"))
    return value


def _pointers(raw: list[int | str], n: int, problems: list[FieldError]) -> list[int]:
    result = []
    for value in raw:
        text = str(value).strip().upper()
        if text.isdigit():
            result.append(int(text))
        elif len(text) == 1 and text in POINTER_LETTERS:
            result.append(POINTER_LETTERS.index(text) + 1)
        else:
            problems.append(
                FieldError(
                    f"lines.{n}.diagnosis_pointers",
                    f"Line {n}: {text[:10]} is not a diagnosis pointer (1-12, or A-L).",
                    "invalid",
                )
            )
    return result


def _line(raw: ClaimLineIn, n: int, problems: list[FieldError]) -> services.LineInput:
    service_from = _day(raw.service_from, "service_from", n, problems)
    given_to = bool((raw.service_to or "").strip())
    service_to = _day(raw.service_to, "service_to", n, problems) if given_to else service_from
    return services.LineInput(
        hcpcs=raw.hcpcs.strip().upper(),
        modifiers=[m.strip().upper() for m in raw.modifiers if m.strip()],
        service_from=service_from,
        service_to=service_to,
        units=_amount(raw.units, f"lines.{n}.units", problems, f"Line {n}: "),
        charge=_amount(raw.charge, f"lines.{n}.charge", problems, f"Line {n}: "),
        place_of_service=raw.place_of_service.strip(),
        diagnosis_pointers=_pointers(raw.diagnosis_pointers, n, problems),
        rendering_npi=raw.rendering_npi.strip(),
        authorization_number=raw.authorization_number.strip().upper(),
    )


def _claim_input(payload: ClaimIn, user: Any, problems: list[FieldError]) -> services.ClaimInput:
    billing_npi = payload.billing_npi.strip()
    if not billing_npi and not user.is_plan_staff:
        billing_npi = user.organization.npi or ""
    return services.ClaimInput(
        billing_npi=billing_npi,
        billing_name=payload.billing_name.strip(),
        billing_tax_id=payload.billing_tax_id.strip(),
        rendering_npi=payload.rendering_npi.strip(),
        member_id=payload.member_id.strip().upper(),
        member_name=payload.member_name.strip(),
        member_date_of_birth=payload.member_date_of_birth,
        patient_control_number=payload.patient_control_number.strip(),
        diagnosis_codes=[d.strip() for d in payload.diagnosis_codes if d.strip()],
        place_of_service=payload.place_of_service.strip(),
        frequency_code=payload.frequency_code.strip() or "1",
        original_reference=payload.original_reference.strip().upper(),
        authorization_number=payload.authorization_number.strip().upper(),
        payer_id=payload.payer_id.strip(),
        total_charge=_amount(payload.total_charge, "total_charge", problems),
        lines=[_line(raw, n, problems) for n, raw in enumerate(payload.lines, start=1)],
    )


def _received_at(payload: ClaimIn, processor: bool, problems: list[FieldError]) -> datetime | None:
    """Rule C5: the receipt date stamp is the moment the claim arrives; the plan's claims processors, keying
    in paper, stamp the day the paper came in (not a day to come)."""
    if payload.received_at is None:
        return None
    if not processor:
        problems.append(
            FieldError(
                "received_at",
                "Only the plan's claims processors set the receipt date stamp; yours is the moment "
                "the claim arrives.",
                "not_allowed",
            )
        )
        return None
    stamp = payload.received_at
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=clock.PACIFIC)
    if stamp > clock.now():
        problems.append(FieldError("received_at", "The receipt date stamp is in the future.", "future"))
        return None
    return stamp


def _source(kind: str, processor: bool) -> str:
    """What door the bill came through. The model has no source for a JSON claim: a provider's JSON bill is
    a web invoice (rule C4's invoice portal; its electronic claims are 837P files); what the plan's
    processors key in came on paper: a CMS-1500 claim or a paper invoice."""
    if processor:
        return ClaimSource.CMS1500 if kind == "claim" else ClaimSource.INVOICE_PAPER
    return ClaimSource.INVOICE_WEB


@router.post(
    "/claims",
    response={201: ClaimDetailOut, 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="Submit one claim or invoice (rules C1, C4); adjudicated at once; 422 names every field",
)
def submit_claim(request: HttpRequest, payload: ClaimIn):
    user = request.user
    processor = permissions.can_process_claims(user)
    if not processor and not permissions.can_submit_claims(user):
        raise PermissionDenied(
            "Your role cannot submit claims: a CS provider's billing staff and leadership can, and the "
            "plan's claims processors (for paper)."
        )
    problems: list[FieldError] = []
    received_at = _received_at(payload, processor, problems)
    claim_in = _claim_input(payload, user, problems)
    kind = "claim" if payload.kind == "claim" and processor else "invoice"
    if problems:  # what the API could not read, with what the checks say of the rest; nothing is stored
        unreadable = {p.field for p in problems}
        # a last date of service left out is the first date: when that is unreadable, so is the last
        unreadable |= {f.replace(".service_from", ".service_to") for f in unreadable}
        received_on = clock.local(received_at or clock.now()).date()
        problems += [
            p
            for p in services.claim_input_problems(claim_in, received_on=received_on)
            if p.field not in unreadable
        ]
        raise _invalid(f"The {kind} has problems; nothing was saved.", problems)
    received = services.claims_receive(
        actor=user,
        inputs=[claim_in],
        source=_source(payload.kind, processor),
        channel=ReceiptChannel.API,
        received_at=received_at,
        submitter=user.organization,
        notes=payload.notes.strip(),
    )
    (claim,) = received.claims
    return Status(
        201, _detail(user, selectors.claim_get_for_user(user=user, uuid=claim.uuid, purpose="submit"))
    )


# --- Lists and reports (declared before /claims/{uuid}) ---------------------------------------------


@router.get(
    "/claims",
    response={200: list[ClaimOut], 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="Claims and invoices the caller may see (a provider its own; the plan its own), filtered",
)
@paginate(AuditedClaimPagination)
def list_claims(request: HttpRequest, filters: Query[ClaimQuery]):
    _can_view(request)
    return selectors.claim_list(user=request.user, filters=_filters(filters))


CLAIM_CSV = (
    "number",
    "kind",
    "source",
    "channel",
    "status",
    "outcome",
    "provider",
    "billing_npi",
    "member_id",
    "member_last_name",
    "member_first_name",
    "patient_control_number",
    "received_on",
    "payment_due_on",
    "payment_clock",
    "total_charge",
    "allowed_total",
    "paid_total",
    "paid_on",
    "claim_file",
    "eft_trace_number",
)


def _claim_csv_row(c: Claim) -> list[Any]:
    return [
        c.number,
        c.kind_label,
        c.source,
        c.channel,
        c.status,
        c.outcome,
        c.billing_organization.name if c.billing_organization_id else "",
        c.billing_npi,
        c.member_id_billed,
        c.member.last_name if c.member_id else "",
        c.member.first_name if c.member_id else "",
        c.patient_control_number,
        c.received_on.isoformat(),
        c.payment_due_on.isoformat(),
        selectors.payment_clock(c).state,
        c.total_charge,
        c.allowed_total,
        c.paid_total,
        c.paid_on.isoformat() if c.paid_on else "",
        c.claim_file.original_name if c.claim_file_id else "",
        c.payment.eft_trace_number if c.payment_id else "",
    ]


@router.get(
    "/claims.csv",
    response={200: None, 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="The filtered claims as CSV (audited as an export)",
    openapi_extra={
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}
    },
)
def export_claims(request: HttpRequest, filters: Query[ClaimQuery]) -> StreamingHttpResponse:
    _can_view(request)
    qs = selectors.claim_list(user=request.user, filters=_filters(filters))
    selectors.audit_claim_export(user=request.user, claims=qs, filters=_filters_used(filters))
    return csv_response("claims.csv", CLAIM_CSV, qs.iterator(chunk_size=500), _claim_csv_row)


@router.get(
    "/claims/aging",
    response={200: AgingOut, 403: ClaimProblemOut},
    summary="Unpaid claims against the 45-business-day deadline: counts, overdue and at risk (rule C5)",
)
def aging(request: HttpRequest, limit: int = 20):
    _can_view(request)
    limit = max(1, min(limit, 100))
    user = request.user
    lists = {}
    for name in AGING:
        rows = list(selectors.claim_list(user=user, filters=selectors.ClaimFilters(aging=name))[:limit])
        for row in rows:
            row.api_payment_clock = selectors.payment_clock(row)
        lists[name] = rows
    selectors.audit_claim_list(
        user=user, claims=lists["overdue"] + lists["at_risk"], purpose="aging", filters={"limit": limit}
    )
    return {
        "today": clock.today(),
        "at_risk_business_days": settings.CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS,
        "counts": selectors.aging_counts(user=user),
        **lists,
    }


@router.get(
    "/claims/totals",
    response={200: TotalsOut, 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="Lines charged, paid and denied by provider, service or month of receipt (default: this year)",
)
def totals(request: HttpRequest, by: str = "provider", start: date | None = None, end: date | None = None):
    _can_view(request)
    end = end or clock.today()
    start = start or date(end.year, 1, 1)
    problems = []
    if by not in TOTALS_BY:
        problems.append(FieldError("by", f"One of: {', '.join(TOTALS_BY)}.", "choice"))
    if end < start:
        problems.append(FieldError("end", "The end date is before the start date.", "range"))
    if problems:
        raise _invalid("The report's filters are not valid.", problems)
    rows = selectors.claim_totals(user=request.user, by=by, start=start, end=end)
    return {
        "by": by,
        "start": start,
        "end": end,
        "rows": [
            {
                "label": r.label,
                "claims": r.claims,
                "lines": r.lines,
                "charged": r.charged.quantize(CENT),
                "paid": r.paid.quantize(CENT),
                "denied_lines": r.denied_lines,
                "denial_rate": r.denial_rate,
            }
            for r in rows
        ],
    }


# --- One claim and the processors' steps (rules C1, C5) ---------------------------------------------


@router.get(
    "/claims/{uuid}",
    response={200: ClaimDetailOut, 404: ClaimProblemOut},
    summary="One claim: lines, adjustments with their meanings, payment clock and history (audited)",
)
def get_claim(request: HttpRequest, uuid: UUID):
    return _detail(request.user, selectors.claim_get_for_user(user=request.user, uuid=uuid))


@router.post(
    "/claims/{uuid}/lines/{number}/decision",
    response={200: ClaimDetailOut, **REFUSALS},
    summary="Decide a pended line: pay an amount or deny, with a note the provider reads (processors)",
)
def decide_line(request: HttpRequest, uuid: UUID, number: int, payload: LineDecisionIn):
    claim = selectors.claim_get_for_update(user=request.user, uuid=uuid)
    try:
        services.claim_line_decide(
            actor=request.user,
            claim=claim,
            line_number=number,
            action=payload.action.strip(),
            amount=payload.amount,
            note=payload.note,
            version=payload.version,
        )
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return _detail(request.user, selectors.claim_get_for_update(user=request.user, uuid=uuid))


@router.post(
    "/claims/{uuid}/readjudicate",
    response={200: ClaimDetailOut, **REFUSALS},
    summary="Run the edits again over the pended lines (after an authorization decision or a new rate)",
)
def readjudicate(request: HttpRequest, uuid: UUID, payload: VersionIn):
    claim = selectors.claim_get_for_update(user=request.user, uuid=uuid)
    try:
        services.claim_readjudicate(actor=request.user, claim=claim, version=payload.version)
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return _detail(request.user, selectors.claim_get_for_update(user=request.user, uuid=uuid))


# --- CSV invoices (rule C4) --------------------------------------------------------------------------


def _upload_bytes(request: HttpRequest, file: UploadedFile | None, default_name: str) -> tuple[bytes, str]:
    """The file of a multipart upload (`file`), or the raw request body (named by an `X-File-Name` header);
    422 when there is none or it is larger than CSHUB_MAX_UPLOAD_BYTES. The raw body is read from the stream
    up to that limit (Django's DATA_UPLOAD_MAX_MEMORY_SIZE is for forms, smaller than a large 837P)."""
    limit = int(settings.CSHUB_MAX_UPLOAD_BYTES)
    too_large = FieldError("file", f"At most {limit:,} bytes.", "too_large")
    if file is not None:
        if file.size is not None and file.size > limit:
            raise _invalid("The file is too large.", [too_large])
        return file.read(), file.name or default_name
    if request.content_type.startswith("multipart/"):
        raise _invalid(
            "The request is not valid.", [FieldError("file", "Attach the file as `file`.", "required")]
        )
    if int(request.headers.get("Content-Length") or 0) > limit:
        raise _invalid("The file is too large.", [too_large])
    data = request.read(limit + 1)
    if len(data) > limit:
        raise _invalid("The file is too large.", [too_large])
    name = (request.headers.get("X-File-Name") or "").strip() or default_name
    return data, name


@router.get(
    "/claim-invoices/template.csv",
    response={200: None},
    summary="The CSV invoice layout: the header and one example row (rule C4)",
    openapi_extra={
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}
    },
)
def invoice_csv_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(invoices.INVOICE_CSV_TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoices-template.csv"'
    return response


@router.post(
    "/claim-invoices.csv",
    response={201: InvoiceUploadOut, 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="Upload invoices as CSV (rule C4; the provider's billing staff): stored and adjudicated at once, "
    "or 422 naming each row and column and nothing stored",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
def upload_invoice_csv(request: HttpRequest, file: UploadedFile | None = File(None)):  # noqa: B008
    user = request.user
    if not permissions.can_submit_claims(user):
        raise PermissionDenied("Only a CS provider's billing staff and leadership send invoices.")
    data, name = _upload_bytes(request, file, "invoices.csv")
    received = invoices.invoices_upload(actor=user, data=data, name=name)
    ids = [c.pk for c in received.claims]
    claims = list(selectors.claim_list(user=user, filters=selectors.ClaimFilters()).filter(pk__in=ids))
    claims.sort(key=lambda c: c.pk)
    for claim in claims:
        claim.api_payment_clock = selectors.payment_clock(claim)
    selectors.audit_claim_list(user=user, claims=claims, purpose="upload", filters={"file": name})
    return Status(201, {"file_name": name, "count": len(claims), "claims": claims})


# --- 837P files (rule C3) ------------------------------------------------------------------------------


def _file_detail(user: Any, claim_file: ClaimFile) -> ClaimFile:
    """Attach the file's claims the caller may see (audited: they carry member data)."""
    claims = list(
        selectors.claim_queryset_for(user)
        .filter(claim_file=claim_file)
        .select_related("member")
        .order_by("id")
    )
    if claims:
        selectors.audit_claim_list(
            user=user, claims=claims, purpose="claim_file", filters={"claim_file": str(claim_file.uuid)}
        )
    claim_file.api_claims = claims
    return claim_file


def _x12_file(field_file: Any, name: str) -> FileResponse:
    return FileResponse(
        field_file.open("rb"), as_attachment=True, filename=name, content_type="application/edi-x12"
    )


@router.post(
    "/claim-files",
    response={
        200: ClaimFileReceiptOut,
        201: ClaimFileReceiptOut,
        403: ClaimProblemOut,
        409: ClaimProblemOut,
        422: ClaimProblemOut,
    },
    summary="Send an 837P file (rule C3): the raw body (application/edi-x12 or text/plain) or a multipart "
    "`file`; answered with its 999; 200 and nothing changed when it was received before",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/edi-x12": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            }
        }
    },
)
def upload_claim_file(request: HttpRequest, file: UploadedFile | None = File(None)):  # noqa: B008
    user = request.user
    if not permissions.can_upload_837(user):
        raise PermissionDenied(
            "Your role does not send claim files: a CS provider's billing staff and leadership do, and the "
            "plan's claims processors."
        )
    raw_body = file is None and not request.content_type.startswith("multipart/")
    if raw_body and request.content_type not in X12_TYPES:
        raise _invalid(
            "The request is not valid.",
            [
                FieldError(
                    "file",
                    f"Send the 837P as {', '.join(X12_TYPES[:2])} or as a multipart `file`.",
                    "content_type",
                )
            ],
        )
    data, name = _upload_bytes(request, file, "claims.837")
    claim_file = ingest.claim_file_ingest(
        actor=user, data=data, name=name, channel=ReceiptChannel.API, submitter=user.organization
    )
    duplicate, message = claim_file.duplicate, claim_file.message
    if duplicate and not selectors.claim_file_queryset_for(user).filter(pk=claim_file.pk).exists():
        # Received before from someone else: say so without showing their file.
        raise DomainError(
            "This file or interchange (ISA sender and control number) was already received; nothing changed. "
            "Send new claims with a new interchange control number (ISA13).",
            code="duplicate_interchange",
            status=409,
        )
    claim_file = selectors.claim_file_get_for_user(user=user, uuid=claim_file.uuid)
    claim_file.duplicate, claim_file.message = duplicate, message
    return Status(200 if duplicate else 201, _file_detail(user, claim_file))


@router.get(
    "/claim-files",
    response={200: list[ClaimFileOut], 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="837P files the caller may see: a provider the files it sent; the plan's staff its own",
)
@paginate(LimitOffsetPagination)
def list_claim_files(request: HttpRequest, ack: str = ""):
    _can_view(request)
    if ack and ack not in ClaimFile.Ack.values:
        raise _invalid(
            "The filters are not valid.",
            [FieldError("ack", f"One of: {', '.join(ClaimFile.Ack.values)}.", "choice")],
        )
    qs = selectors.claim_file_queryset_for(request.user).select_related(
        "submitter_organization", "uploaded_by"
    )
    if ack:
        qs = qs.filter(ack_code=ack)
    return qs.order_by("-received_at", "-id")


@router.get(
    "/claim-files/{uuid}",
    response={200: ClaimFileDetailOut, 404: ClaimProblemOut},
    summary="One 837P file: its 999 code, X12 problems with their positions, refusals and claims",
)
def get_claim_file(request: HttpRequest, uuid: UUID):
    return _file_detail(request.user, selectors.claim_file_get_for_user(user=request.user, uuid=uuid))


@router.get(
    "/claim-files/{uuid}/999",
    response={200: None, 404: ClaimProblemOut},
    summary="The 999 implementation acknowledgment that answered the file (audited: it may echo values)",
    openapi_extra=X12_RESPONSE,
)
def download_999(request: HttpRequest, uuid: UUID):
    claim_file = selectors.claim_file_get_for_user(user=request.user, uuid=uuid)
    if not claim_file.ack_999:
        raise Http404("This file has no 999.")
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ClaimFile", object_id=claim_file.uuid, what="999"
    )
    stem = claim_file.original_name.rsplit(".", 1)[0] or "claims"
    return _x12_file(claim_file.ack_999, f"{stem}.999")


@router.get(
    "/claim-files/{uuid}/original",
    response={200: None, 404: ClaimProblemOut},
    summary="The file as it was received (audited: it carries member data)",
    openapi_extra=X12_RESPONSE,
)
def download_original(request: HttpRequest, uuid: UUID):
    claim_file = selectors.claim_file_get_for_user(user=request.user, uuid=uuid)
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ClaimFile", object_id=claim_file.uuid, what="837p"
    )
    return _x12_file(claim_file.original, claim_file.original_name)


# --- Payments and payment runs (rules C3, C5) --------------------------------------------------------


def _payments(user: Any) -> Any:
    return selectors.payment_queryset_for(user).select_related("organization", "plan", "run")


@router.get(
    "/payments",
    response={200: list[PaymentOut], 403: ClaimProblemOut},
    summary="Payments: a provider its own, the plan's staff the plan's; newest first",
)
@paginate(LimitOffsetPagination)
def list_payments(
    request: HttpRequest,
    provider: UUID | None = None,
    paid_from: date | None = None,
    paid_to: date | None = None,
):
    _can_view(request)
    qs = _payments(request.user)
    if provider is not None:
        qs = qs.filter(organization__uuid=provider)
    if paid_from:
        qs = qs.filter(payment_date__gte=paid_from)
    if paid_to:
        qs = qs.filter(payment_date__lte=paid_to)
    return qs.order_by("-payment_date", "-id")


@router.get(
    "/payments/{uuid}",
    response={200: PaymentDetailOut, 404: ClaimProblemOut},
    summary="One payment with the claims it paid or remitted (audited)",
)
def get_payment(request: HttpRequest, uuid: UUID):
    user = request.user
    payment = selectors.payment_get_for_user(user=user, uuid=uuid)
    claims = list(
        selectors.claim_list(user=user, filters=selectors.ClaimFilters())
        .filter(payment=payment)
        .order_by("id")
    )
    for claim in claims:
        claim.api_payment_clock = selectors.payment_clock(claim)
    selectors.audit_claim_list(user=user, claims=claims, purpose="payment", filters={"payment": str(uuid)})
    payment.api_claims = claims
    return payment


@router.get(
    "/payments/{uuid}/835",
    response={200: None, 404: ClaimProblemOut},
    summary="The payment's 835 remittance advice (audited: it carries member data)",
    openapi_extra=X12_RESPONSE,
)
def download_835(request: HttpRequest, uuid: UUID):
    payment = selectors.payment_get_for_user(user=request.user, uuid=uuid)
    selectors.audit_claim_download(
        user=request.user, object_type="claims.ProviderPayment", object_id=payment.uuid, what="835"
    )
    return _x12_file(payment.remittance_835, payment.remittance_name)


def _runs(user: Any) -> Any:
    return (
        selectors.payment_run_queryset_for(user)
        .select_related("plan", "run_by")
        .prefetch_related(
            Prefetch(
                "payments",
                queryset=ProviderPayment.objects.select_related("organization", "plan", "run").order_by("id"),
            )
        )
    )


@router.post(
    "/payment-runs",
    response={201: PaymentRunOut, 403: ClaimProblemOut, 422: ClaimProblemOut},
    summary="Pay and remit the plan's adjudicated claims: one EFT and one 835 per provider (rule C5; "
    "the plan's claims processors)",
)
def create_payment_run(request: HttpRequest, payload: PaymentRunIn):
    user = request.user
    if not permissions.can_process_claims(user):
        raise PermissionDenied("Only the plan's claims processors run payments.")
    organization_ids = None
    if payload.organizations:
        found = dict(Organization.objects.filter(uuid__in=payload.organizations).values_list("uuid", "pk"))
        unknown = [
            FieldError(f"organizations.{i}", f"No organization has the id {u}.", "choice")
            for i, u in enumerate(payload.organizations)
            if u not in found
        ]
        if unknown:
            raise _invalid("The payment run cannot start; nothing was paid.", unknown)
        organization_ids = [found[u] for u in payload.organizations]
    run = payments.payment_run_create(
        actor=user,
        plan=user.organization,
        payment_date=payload.payment_date,
        organization_ids=organization_ids,
        received_through=payload.received_through,
    )
    return Status(201, _runs(user).get(pk=run.pk))


@router.get(
    "/payment-runs",
    response={200: list[PaymentRunOut], 403: ClaimProblemOut},
    summary="The plan's payment runs, newest first, with their payments (the plan's claims processors)",
)
@paginate(LimitOffsetPagination)
def list_payment_runs(request: HttpRequest):
    if not permissions.can_process_claims(request.user):
        raise PermissionDenied("Payment runs are for the plan's claims processors.")
    return _runs(request.user).order_by("-run_at", "-id")
