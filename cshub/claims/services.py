"""Every write of claims and invoices (rules C1-C5), each in a transaction with its history and audit rows.

Doors (837P file, CMS-1500 entry, invoice form, CSV invoice, API) turn what they read into `ClaimInput`s
and call `claims_receive`, which checks every field (`claim_input_problems`), resolves the billing
provider by NPI, the member by CIN or plan member ID and the plan (payer ID, eligibility or the provider's
only plan), stores the claims with their receipt date stamp and 45-business-day payment deadline, and
adjudicates them at once (`claims_adjudicate`, cshub/claims/adjudication.py). Pended lines are worked by
plan staff (`claim_line_decide`, `claim_readjudicate`) or picked up again by the hourly job when what they
waited for (an authorization decision, a fee schedule rate) arrives. Payment runs are in `payments.py`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.claims import permissions
from cshub.claims.adjudication import Adjudicator, Decision, adjustments_for_denial, money
from cshub.claims.edits import edit
from cshub.claims.models import (
    INVOICE_SOURCES,
    ZERO,
    Claim,
    ClaimEvent,
    ClaimFile,
    ClaimLine,
    ClaimOutcome,
    ClaimSource,
    ClaimStatus,
    LineAdjustment,
    LineStatus,
)
from cshub.core import clock, icd10
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.locking import save_versioned
from cshub.core.uploads import DOCUMENT_TYPES, check_upload
from cshub.core.validators import npi_is_valid
from cshub.members.models import EligibilitySpan, Member

HCPCS_RE = re.compile(r"^[A-Z][0-9]{4}$")
MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")
POS_RE = re.compile(r"^[0-9]{2}$")
MAX_LINES = 50  # 837P allows 50 service lines per claim; the paper CMS-1500 has 6 per page
MAX_CHARGE = Decimal("9999999.99")
FINAL_LINE_STATUSES = frozenset({LineStatus.PAID, LineStatus.DENIED, LineStatus.VOID})


@dataclass
class LineInput:
    hcpcs: str
    modifiers: list[str]
    service_from: date | None
    service_to: date | None
    units: Decimal | None
    charge: Decimal | None
    place_of_service: str = ""
    diagnosis_pointers: list[int] = field(default_factory=lambda: [1])
    rendering_npi: str = ""
    authorization_number: str = ""


@dataclass
class ClaimInput:
    """A claim or invoice as a door read it, before any check."""

    billing_npi: str
    member_id: str
    patient_control_number: str
    lines: list[LineInput]
    diagnosis_codes: list[str] = field(default_factory=list)
    billing_name: str = ""
    billing_tax_id: str = ""
    rendering_npi: str = ""
    member_name: str = ""
    member_date_of_birth: date | None = None
    place_of_service: str = ""
    frequency_code: str = "1"
    original_reference: str = ""
    authorization_number: str = ""
    payer_id: str = ""
    total_charge: Decimal | None = None  # as billed (CLM02, box 28): must equal the lines' charges


# --- checks ------------------------------------------------------------------------------------------------


def parse_decimal(raw: object) -> Decimal | None:
    """'1,234.50', '$12', 3 -> Decimal; None for empty or not a number."""
    if raw is None or isinstance(raw, Decimal):
        return raw
    text = str(raw).strip().replace(",", "").replace("$", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def claim_input_problems(claim: ClaimInput, *, row: int | None = None, received_on: date) -> list[FieldError]:
    """Every field problem of one claim or invoice, named by field (and row for files); [] when clean.
    Rule C1: HCPCS and modifiers, units, charges and dates of service must be there and make sense."""
    problems: list[FieldError] = []

    def bad(name: str, message: str, code: str = "invalid") -> None:
        problems.append(FieldError(name, message, code, row=row))

    if not claim.billing_npi:
        bad("billing_npi", "Enter the billing provider's NPI (box 33a).", "required")
    elif not npi_is_valid(claim.billing_npi):
        bad("billing_npi", f"{claim.billing_npi} is not a valid NPI (10 digits with a check digit).")
    if claim.rendering_npi and not npi_is_valid(claim.rendering_npi):
        bad("rendering_npi", f"{claim.rendering_npi} is not a valid NPI.")
    if not claim.member_id.strip():
        bad("member_id", "Enter the member's Medi-Cal ID (CIN) (box 1a).", "required")
    elif len(claim.member_id.strip()) > 30:
        bad("member_id", "The member ID is longer than 30 characters.")
    if not claim.patient_control_number.strip():
        bad("patient_control_number", "Enter your claim or invoice number (box 26).", "required")
    elif len(claim.patient_control_number) > 38:
        bad("patient_control_number", "Your claim or invoice number is longer than 38 characters.")
    if claim.place_of_service and not POS_RE.match(claim.place_of_service):
        bad("place_of_service", "The place of service is a two-digit code, for example 12 (home).")
    if claim.frequency_code not in {"1", "7", "8"}:
        bad("frequency_code", "Use 1 (original), 7 (replacement) or 8 (void).")
    elif claim.frequency_code in {"7", "8"} and not claim.original_reference.strip():
        bad("original_reference", "A replacement or void names the claim number it corrects.", "required")
    if not claim.diagnosis_codes:
        bad("diagnosis_codes", "Enter at least one ICD-10-CM diagnosis code (box 21).", "required")
    for i, raw in enumerate(claim.diagnosis_codes):
        try:
            icd10.diagnosis_code_check(raw, field=f"diagnosis_codes.{i}", error_code="invalid")
        except DomainError as exc:
            for e in exc.errors:
                bad(e.field, e.message, e.code)
    if not claim.lines:
        bad("lines", "Enter at least one service line.", "required")
    charges = [line.charge for line in claim.lines if line.charge is not None]
    if claim.total_charge is not None and len(charges) == len(claim.lines):
        total = sum(charges, ZERO)
        if claim.total_charge != total:
            bad(
                "total_charge",
                f"The total charge ${claim.total_charge:,.2f} is not the sum of the lines, "
                f"${total:,.2f} (box 28, CLM02).",
            )
    if len(claim.lines) > MAX_LINES:
        bad("lines", f"A claim has at most {MAX_LINES} service lines; split it into more claims.")
    for n, line in enumerate(claim.lines, start=1):
        problems.extend(
            _line_problems(line, n, row=row, received_on=received_on, dx_count=len(claim.diagnosis_codes))
        )
    return problems


def _line_problems(
    line: LineInput, n: int, *, row: int | None, received_on: date, dx_count: int
) -> list[FieldError]:
    problems: list[FieldError] = []
    prefix = f"lines.{n}."

    def bad(name: str, message: str, code: str = "invalid") -> None:
        problems.append(FieldError(prefix + name, f"Line {n}: {message}", code, row=row))

    if not line.hcpcs:
        bad("hcpcs", "enter the HCPCS code (box 24D).", "required")
    elif not HCPCS_RE.match(line.hcpcs):
        bad("hcpcs", f"{line.hcpcs[:10]} is not a HCPCS code (a letter and four digits, e.g. H0043).")
    if len(line.modifiers) > 4:
        bad("modifiers", "at most four modifiers.")
    for m in line.modifiers:
        if not MODIFIER_RE.match(m):
            bad("modifiers", f"{m[:10]} is not a modifier (two letters or digits, e.g. U6).")
    if line.service_from is None:
        bad("service_from", "enter the first date of service (box 24A).", "required")
    if line.service_to is None:
        bad("service_to", "enter the last date of service (box 24A).", "required")
    if line.service_from and line.service_to:
        if line.service_to < line.service_from:
            bad("service_to", "the last date of service is before the first.")
        if line.service_to > received_on:
            bad(
                "service_to",
                f"the date of service {line.service_to:%m/%d/%Y} is in the future; bill after the service.",
            )
    if line.units is None:
        bad("units", "enter the units (box 24G).", "required")
    elif line.units <= 0 or line.units > Decimal("99999"):
        bad("units", "units must be more than 0 and at most 99,999.")
    elif line.units != line.units.quantize(Decimal("0.01")):
        bad("units", "units have at most two decimals.")
    if line.charge is None:
        bad("charge", "enter the charge (box 24F).", "required")
    elif line.charge < 0 or line.charge > MAX_CHARGE:
        bad("charge", "the charge must be between $0.00 and $9,999,999.99.")
    elif line.charge != line.charge.quantize(Decimal("0.01")):
        bad("charge", "the charge has at most two decimals (cents).")
    if line.place_of_service and not POS_RE.match(line.place_of_service):
        bad("place_of_service", "the place of service is a two-digit code.")
    if line.rendering_npi and not npi_is_valid(line.rendering_npi):
        bad("rendering_npi", f"{line.rendering_npi} is not a valid NPI.")
    for p in line.diagnosis_pointers:
        if not 1 <= p <= max(dx_count, 1):
            bad("diagnosis_pointers", f"diagnosis pointer {p} points at no diagnosis code.")
    return problems


# --- resolving who and whom --------------------------------------------------------------------------------


def payer_plans() -> dict[str, str]:
    """CSHUB_CLAIMS_PAYER_IDS as {payer ID: plan code or ""} (rule C3: 95567 direct, 68069 via Availity)."""
    result: dict[str, str] = {}
    for item in str(settings.CSHUB_CLAIMS_PAYER_IDS).split(","):
        payer, _, plan_code = item.strip().partition("=")
        if payer:
            result[payer.strip()] = plan_code.strip()
    return result


@dataclass
class _Resolved:
    organizations: dict[str, Organization]
    members: dict[str, Member]
    spans: dict[int, list[EligibilitySpan]]
    plans_by_code: dict[str, Organization]
    provider_plans: dict[int, list[Organization]]


def _resolve(inputs: Sequence[ClaimInput]) -> _Resolved:
    """Set-based lookups for a batch: providers by NPI, members by CIN or plan member ID, their spans."""
    from cshub.contracts.models import Contract  # claims read contracts; contracts never read claims

    npis = {c.billing_npi for c in inputs}
    orgs: dict[str, Organization] = {}
    for org in Organization.objects.filter(npi__in=npis, is_active=True).order_by("id"):
        orgs.setdefault(org.npi, org)
    ids = {c.member_id.strip().upper() for c in inputs}
    members: dict[str, Member] = {
        m.cin: m for m in Member.objects.filter(cin__in=ids).select_related("county")
    }
    for span in EligibilitySpan.objects.filter(plan_member_id__in=ids - set(members)).select_related(
        "member__county"
    ):
        members.setdefault(span.plan_member_id.upper(), span.member)
    spans: dict[int, list[EligibilitySpan]] = defaultdict(list)
    for span in EligibilitySpan.objects.filter(member_id__in=[m.pk for m in members.values()]).select_related(
        "plan"
    ):
        spans[span.member_id].append(span)
    plans_by_code = {
        p.plan_code: p for p in Organization.objects.filter(kind=OrganizationKind.PLAN).exclude(plan_code="")
    }
    provider_plans: dict[int, list[Organization]] = defaultdict(list)
    for contract in (
        Contract.objects.filter(organization__in=orgs.values()).select_related("plan").order_by("id")
    ):
        if contract.plan not in provider_plans[contract.organization_id]:
            provider_plans[contract.organization_id].append(contract.plan)
    return _Resolved(orgs, members, spans, plans_by_code, provider_plans)


def _plan_for(
    claim: ClaimInput, org: Organization | None, member: Member | None, r: _Resolved
) -> Organization | None:
    """Rule C3: the payer ID routes to a plan when configured so; else the member's plan on the first date
    of service; else the provider's only contracting plan; else the only plan there is."""
    code = payer_plans().get(claim.payer_id, "")
    if code and code in r.plans_by_code:
        return r.plans_by_code[code]
    first = min((line.service_from for line in claim.lines if line.service_from), default=None)
    if member is not None and first is not None:
        for span in r.spans.get(member.pk, []):
            if span.start_date <= first and (span.end_date is None or span.end_date >= first):
                return span.plan
        if r.spans.get(member.pk):
            return sorted(r.spans[member.pk], key=lambda s: s.start_date)[-1].plan
    if org is not None and len(r.provider_plans.get(org.pk, [])) == 1:
        return r.provider_plans[org.pk][0]
    if len(r.plans_by_code) == 1:
        return next(iter(r.plans_by_code.values()))
    return None


# --- receiving ---------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    """A claim not stored, and why (an 837P claim that passed the 999 but fails a field or routing check)."""

    patient_control_number: str
    errors: list[FieldError]

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_control_number": self.patient_control_number,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class Received:
    claims: list[Claim]
    refusals: list[Refusal]


def claims_receive(
    *,
    actor: Any,
    inputs: Sequence[ClaimInput],
    source: str,
    channel: str,
    received_at: datetime | None = None,
    submitter: Organization | None = None,
    claim_file: ClaimFile | None = None,
    image: UploadedFile | None = None,
    notes: str = "",
    refuse_individually: bool = False,
) -> Received:
    """Store and adjudicate claims (rules C1-C5). With `refuse_individually` (837P files) a claim with a
    problem is refused on its own and the others are stored; otherwise any problem refuses the whole batch
    with every field error named (forms, CSV invoices, API) and nothing is stored."""
    received_at = received_at or clock.now()
    if received_at > clock.now():
        raise DomainError(
            "The received date stamp is in the future; nothing was saved.",
            errors=[
                FieldError("received_at", "The received date and time cannot be later than now.", "future")
            ],
        )
    received_on = clock.local(received_at).date()
    checked_image = check_upload(image, field="image", allowed=DOCUMENT_TYPES, required=False)
    inputs = [_normalized(c) for c in inputs]
    resolved = _resolve(inputs)
    accepted: list[tuple[ClaimInput, Organization | None, Member | None, Organization]] = []
    refusals: list[Refusal] = []
    all_problems: list[FieldError] = []
    earlier_invoices = _earlier_invoices(inputs, resolved) if source in INVOICE_SOURCES else {}
    for i, claim in enumerate(inputs):
        row = i + 1 if len(inputs) > 1 else None
        problems = claim_input_problems(claim, row=row, received_on=received_on)
        org = resolved.organizations.get(claim.billing_npi)
        member = resolved.members.get(claim.member_id)
        if not problems:
            problems.extend(_submitter_problems(actor, submitter, claim, org, row))
        earlier = earlier_invoices.get((org.pk if org else None, claim.patient_control_number))
        if earlier is not None and claim.frequency_code == "1":
            problems.append(
                FieldError(
                    "patient_control_number",
                    f"Invoice {claim.patient_control_number} was already received as {earlier.number} on "
                    f"{earlier.received_on:%m/%d/%Y}. Use a new invoice number, or send a replacement "
                    f"naming {earlier.number}.",
                    "duplicate_invoice",
                    row=row,
                )
            )
        plan = None
        if not problems:
            plan = _plan_for(claim, org, member, resolved)
            if plan is None:
                problems.append(
                    FieldError(
                        "payer_id",
                        "No plan could be found for this claim: the member is not "
                        "on any plan's roster and the provider has no contract.",
                        "no_plan",
                        row=row,
                    )
                )
            elif (
                submitter is not None and submitter.kind == OrganizationKind.PLAN and plan.pk != submitter.pk
            ):
                problems.append(
                    FieldError(
                        "member_id",
                        f"The member is enrolled with {plan.name} on the date of service, "
                        f"not {submitter.name}; send the claim to that plan.",
                        "other_plan",
                        row=row,
                    )
                )
        if problems:
            refusals.append(Refusal(claim.patient_control_number, problems))
            all_problems.extend(problems)
            continue
        accepted.append((claim, org, member, plan))
    if all_problems and not refuse_individually:
        kind = (
            "invoice"
            if source in {ClaimSource.INVOICE_CSV, ClaimSource.INVOICE_WEB, ClaimSource.INVOICE_PAPER}
            else "claim"
        )
        raise DomainError(f"The {kind} has problems; nothing was saved.", errors=all_problems)
    with transaction.atomic():
        claims = _store(
            actor=actor,
            accepted=accepted,
            source=source,
            channel=channel,
            received_at=received_at,
            received_on=received_on,
            claim_file=claim_file,
            notes=notes,
        )
        if checked_image and claims:
            for claim in claims:
                claim.image.save(checked_image.name, checked_image.file, save=False)
                claim.image_name = checked_image.name
            Claim.objects.bulk_update(claims, ["image", "image_name"])
        _apply_corrections(actor, claims)
        claims_adjudicate(claims=[c for c in claims if c.status == ClaimStatus.RECEIVED], actor=None)
    return Received(claims, refusals)


def _earlier_invoices(inputs: Sequence[ClaimInput], resolved: _Resolved) -> dict[tuple, Claim]:
    """Invoices already received under the same provider and invoice number (one query for the batch)."""
    org_ids = {o.pk for o in resolved.organizations.values()}
    numbers = {c.patient_control_number for c in inputs}
    found = Claim.objects.filter(
        billing_organization_id__in=org_ids, patient_control_number__in=numbers, source__in=INVOICE_SOURCES
    ).exclude(status=ClaimStatus.VOID)
    return {(c.billing_organization_id, c.patient_control_number): c for c in found}


def _normalized(c: ClaimInput) -> ClaimInput:
    c.billing_npi = (c.billing_npi or "").strip()
    c.rendering_npi = (c.rendering_npi or "").strip()
    c.member_id = (c.member_id or "").strip().upper()
    c.patient_control_number = (c.patient_control_number or "").strip()
    c.diagnosis_codes = [icd10.normalize_code(d) for d in c.diagnosis_codes if (d or "").strip()]
    c.authorization_number = (c.authorization_number or "").strip().upper()
    c.original_reference = (c.original_reference or "").strip().upper()
    c.place_of_service = (c.place_of_service or "").strip()
    c.frequency_code = (c.frequency_code or "1").strip()
    for line in c.lines:
        line.hcpcs = (line.hcpcs or "").strip().upper()
        line.modifiers = [m.strip().upper() for m in line.modifiers if (m or "").strip()]
        line.authorization_number = (line.authorization_number or "").strip().upper()
        line.place_of_service = (line.place_of_service or "").strip() or c.place_of_service
        line.rendering_npi = (line.rendering_npi or "").strip() or c.rendering_npi
    return c


def _submitter_problems(
    actor: Any, submitter: Organization | None, claim: ClaimInput, org: Organization | None, row: int | None
) -> list[FieldError]:
    """A provider bills only under its own NPI; the plan's staff, clearinghouses and the command line may
    submit for any provider. An NPI no organization holds is stored and denied (CO-B7) when a clearinghouse
    or the plan submits it, so the provider can see why."""
    if submitter is None or submitter.kind in {OrganizationKind.PLAN, OrganizationKind.OTHER}:
        return []
    if org is None or org.pk != submitter.pk:
        return [
            FieldError(
                "billing_npi",
                f"{submitter.name} can bill only under its own NPI ({submitter.npi or 'none on file'}); "
                f"this claim names {claim.billing_npi}.",
                "not_your_npi",
                row=row,
            )
        ]
    return []


def _store(
    *,
    actor: Any,
    accepted: list,
    source: str,
    channel: str,
    received_at: datetime,
    received_on: date,
    claim_file: ClaimFile | None,
    notes: str,
) -> list[Claim]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    due = clock.add_business_days(received_on, settings.CSHUB_CLAIMS_PAYMENT_BUSINESS_DAYS)
    claims: list[Claim] = []
    for claim_in, org, member, plan in accepted:
        total = sum((line.charge for line in claim_in.lines), ZERO)
        claims.append(
            Claim(
                number=f"T{clock.now():%H%M%S%f}{len(claims):07d}"[:20],  # replaced below from the row id
                plan=plan,
                source=source,
                channel=channel,
                claim_file=claim_file,
                billing_organization=org,
                billing_npi=claim_in.billing_npi,
                billing_name=claim_in.billing_name[:200],
                billing_tax_id=claim_in.billing_tax_id[:9],
                rendering_npi=claim_in.rendering_npi,
                member=member,
                member_id_billed=claim_in.member_id,
                member_name_billed=claim_in.member_name[:200],
                member_date_of_birth_billed=claim_in.member_date_of_birth,
                patient_control_number=claim_in.patient_control_number,
                total_charge=money(total),
                place_of_service=claim_in.place_of_service,
                frequency_code=claim_in.frequency_code,
                original_reference=claim_in.original_reference,
                diagnosis_codes=claim_in.diagnosis_codes,
                authorization_number_billed=claim_in.authorization_number[:50],
                received_at=received_at,
                received_on=received_on,
                payment_due_on=due,
                entered_by=user,
                notes=notes,
                created_by=user,
                updated_by=user,
            )
        )
    Claim.objects.bulk_create(claims, batch_size=1000)
    if (
        claims and claims[0].pk is None
    ):  # a backend without RETURNING: read the ids back by the temporary numbers
        ids = dict(Claim.objects.filter(number__in=[c.number for c in claims]).values_list("number", "pk"))
        for c in claims:
            c.pk = ids[c.number]
    for c in claims:
        c.number = f"C-{received_on.year}-{c.pk:07d}"
    Claim.objects.bulk_update(claims, ["number"], batch_size=1000)
    lines: list[ClaimLine] = []
    for claim, (claim_in, *_rest) in zip(claims, accepted, strict=True):
        for n, line in enumerate(claim_in.lines, start=1):
            lines.append(
                ClaimLine(
                    claim=claim,
                    number=n,
                    hcpcs=line.hcpcs,
                    modifiers=line.modifiers,
                    service_from=line.service_from,
                    service_to=line.service_to,
                    units=line.units,
                    charge=line.charge,
                    place_of_service=line.place_of_service,
                    diagnosis_pointers=line.diagnosis_pointers,
                    rendering_npi=line.rendering_npi,
                    authorization_number_billed=line.authorization_number[:50],
                )
            )
    ClaimLine.objects.bulk_create(lines, batch_size=2000)
    by_claim: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in lines:
        by_claim[line.claim_id].append(line)
    for claim in claims:
        claim._lines = by_claim[claim.pk]  # adjudication reads these instead of querying again
    now = clock.now()
    ClaimEvent.objects.bulk_create(
        [
            ClaimEvent(
                claim=c,
                at=now,
                kind="received",
                actor=user,
                actor_name=str(user or "")[:200],
                to_status=ClaimStatus.RECEIVED,
                text=f"Received by {c.get_channel_display().lower()} on "
                f"{clock.local(received_at):%m/%d/%Y %I:%M %p}; payment due by {c.payment_due_on:%m/%d/%Y}.",
            )
            for c in claims
        ],
        batch_size=2000,
    )
    if claims:
        audit_record(
            actor=actor,
            action="create",
            object_type="claims.Claim",
            object_id=claims[0].uuid if len(claims) == 1 else "",
            member_ids=sorted({c.member.uuid for c in claims if c.member_id}),
            detail={
                "claims": len(claims),
                "source": source,
                "channel": channel,
                "file": str(claim_file.uuid) if claim_file else "",
            },
        )
    return claims


def _apply_corrections(actor: Any, claims: list[Claim]) -> None:
    """Frequency 7 (replacement) and 8 (void) name an earlier claim: it is voided when it has not been paid
    yet; a void claim is itself void once applied. When the earlier claim is not found or was already
    remitted, the correction's lines pend for a claims processor."""
    corrections = [c for c in claims if c.frequency_code in {"7", "8"}]
    if not corrections:
        return
    refs = {c.original_reference for c in corrections}
    originals = {
        o.number: o for o in Claim.objects.filter(Q(number__in=refs)).exclude(status=ClaimStatus.VOID)
    }
    now = clock.now()
    for claim in corrections:
        original = originals.get(claim.original_reference)
        usable = (
            original is not None
            and original.billing_organization_id == claim.billing_organization_id
            and original.status != ClaimStatus.REMITTED
        )
        if not usable:
            reason = (
                "was already paid"
                if original is not None and original.status == ClaimStatus.REMITTED
                else "was not found for this provider"
            )
            _pend_all(
                claim,
                edit("correction_review").explain(original=claim.original_reference, reason=reason),
                "correction_review",
                now,
            )
            continue
        _void(original, by=claim, actor=actor, now=now)
        if claim.frequency_code == "8":
            _void(claim, by=claim, actor=actor, now=now, text=f"Voids {original.number}.")


def _void(claim: Claim, *, by: Claim, actor: Any, now: datetime, text: str = "") -> None:
    explanation = edit("void").explain(claim=by.number)
    lines = getattr(claim, "_lines", None) or list(claim.lines.all())
    for line in lines:
        line.status, line.reason_key, line.explanation = LineStatus.VOID, "void", explanation
        line.paid_amount = line.allowed_amount = ZERO
        line.units_drawn = ZERO
        line.adjudicated_at = now
    ClaimLine.objects.bulk_update(
        lines,
        [
            "status",
            "reason_key",
            "explanation",
            "paid_amount",
            "allowed_amount",
            "units_drawn",
            "adjudicated_at",
        ],
    )
    LineAdjustment.objects.filter(line__claim=claim).delete()
    _event(
        claim,
        "void",
        actor=actor,
        at=now,
        from_status=claim.status,
        to_status=ClaimStatus.VOID,
        text=text or explanation,
    )
    claim.status, claim.outcome = ClaimStatus.VOID, ClaimOutcome.NONE
    claim.paid_total = claim.allowed_total = ZERO
    Claim.objects.filter(pk=claim.pk).update(
        status=claim.status, outcome="", paid_total=ZERO, allowed_total=ZERO, version=claim.version + 1
    )
    claim.version += 1


def _pend_all(claim: Claim, explanation: str, key: str, now: datetime) -> None:
    lines = claim._lines
    for line in lines:
        line.status, line.reason_key, line.explanation, line.adjudicated_at = (
            LineStatus.PENDED,
            key,
            explanation,
            now,
        )
    ClaimLine.objects.bulk_update(lines, ["status", "reason_key", "explanation", "adjudicated_at"])
    Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.PENDED, outcome=ClaimOutcome.PENDED)
    _event(
        claim,
        "pended",
        actor=None,
        at=now,
        from_status=claim.status,
        to_status=ClaimStatus.PENDED,
        text=explanation,
    )
    claim.status, claim.outcome = ClaimStatus.PENDED, ClaimOutcome.PENDED


# --- adjudication ------------------------------------------------------------------------------------------


def claims_adjudicate(*, claims: Iterable[Claim], actor: Any = None) -> None:
    """Decide every line not yet final (received or pended) of these claims, per plan in one batch, and set
    each claim's status, outcome and totals. Final lines (paid, denied, void) are never decided again."""
    by_plan: dict[int, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_plan[claim.plan_id].append(claim)
    now = clock.now()
    for plan_claims in by_plan.values():
        _adjudicate_batch(plan_claims, actor=actor, now=now)


def _adjudicate_batch(claims: list[Claim], *, actor: Any, now: datetime) -> None:
    missing = [c.pk for c in claims if not hasattr(c, "_lines")]
    if missing:
        fetched: dict[int, list[ClaimLine]] = defaultdict(list)
        for line in ClaimLine.objects.filter(claim_id__in=missing).order_by("claim_id", "number"):
            fetched[line.claim_id].append(line)
        for c in claims:
            if c.pk in fetched or not hasattr(c, "_lines"):
                c._lines = fetched.get(c.pk, [])
    engine = Adjudicator(claims[0].plan, claims)
    changed: list[ClaimLine] = []
    adjustments: list[LineAdjustment] = []
    redo: list[int] = []
    events: list[ClaimEvent] = []
    user = actor if getattr(actor, "is_authenticated", False) else None
    for claim in claims:
        if claim.status in {ClaimStatus.VOID, ClaimStatus.REMITTED}:
            continue
        for line in claim._lines:
            if line.status in FINAL_LINE_STATUSES:
                continue
            decision = engine.decide(claim, line)
            _apply(line, decision, now)
            changed.append(line)
            redo.append(line.pk)
            adjustments.extend(_adjustment_rows(line, decision))
        before = claim.status
        _summarize(claim, now)
        if claim.status != before or before == ClaimStatus.RECEIVED:
            events.append(
                ClaimEvent(
                    claim=claim,
                    at=now,
                    kind="adjudicated",
                    actor=user,
                    actor_name=str(user or "")[:200],
                    from_status=before,
                    to_status=claim.status,
                    text=_outcome_text(claim),
                )
            )
    LineAdjustment.objects.filter(line_id__in=redo).delete()
    ClaimLine.objects.bulk_update(
        changed,
        [
            "status",
            "reason_key",
            "explanation",
            "allowed_amount",
            "paid_amount",
            "rate",
            "units_drawn",
            "authorization",
            "code",
            "service",
            "adjudicated_at",
        ],
        batch_size=1000,
    )
    LineAdjustment.objects.bulk_create(adjustments, batch_size=2000)
    Claim.objects.bulk_update(
        claims, ["status", "outcome", "allowed_total", "paid_total", "adjudicated_at"], batch_size=1000
    )
    ClaimEvent.objects.bulk_create(events, batch_size=2000)


def _apply(line: ClaimLine, decision: Decision, now: datetime) -> None:
    line.status = decision.status
    line.reason_key = decision.reason_key
    line.explanation = decision.explanation
    line.allowed_amount = decision.allowed
    line.paid_amount = decision.paid
    line.rate = decision.rate
    line.units_drawn = decision.units_drawn
    line.authorization = decision.authorization
    line.code = decision.code
    line.service_id = decision.code.service_id if decision.code else None
    line.adjudicated_at = now


def _adjustment_rows(line: ClaimLine, decision: Decision) -> list[LineAdjustment]:
    if decision.status == LineStatus.DENIED:
        adjustments = adjustments_for_denial(decision, line.charge)
    elif decision.status == LineStatus.PAID:
        adjustments = decision.adjustments
    else:
        return []
    return [
        LineAdjustment(
            line=line,
            group_code=a.group_code,
            reason_code=a.reason_code,
            remark_code=a.remark_code,
            amount=money(a.amount),
            units=a.units,
        )
        for a in adjustments
        if a.amount
    ]


def _summarize(claim: Claim, now: datetime) -> None:
    lines = [line for line in claim._lines if line.status != LineStatus.VOID]
    claim.allowed_total = money(sum((line.allowed_amount for line in lines), ZERO))
    claim.paid_total = money(sum((line.paid_amount for line in lines), ZERO))
    statuses = {line.status for line in lines}
    if LineStatus.PENDED in statuses or LineStatus.RECEIVED in statuses:
        claim.status, claim.outcome = ClaimStatus.PENDED, ClaimOutcome.PENDED
        return
    claim.status = ClaimStatus.ADJUDICATED
    claim.adjudicated_at = now
    if statuses == {LineStatus.DENIED} or not lines:
        claim.outcome = ClaimOutcome.DENIED
    elif claim.paid_total < money(sum((line.charge for line in lines), ZERO)):
        claim.outcome = ClaimOutcome.PARTIALLY_PAID
    else:
        claim.outcome = ClaimOutcome.PAID


def _outcome_text(claim: Claim) -> str:
    if claim.status == ClaimStatus.PENDED:
        return "Pended: a line needs a claims processor or a pending decision."
    return f"{claim.get_outcome_display()}: {claim.paid_total:,.2f} of {claim.total_charge:,.2f} allowed."


def _event(
    claim: Claim,
    kind: str,
    *,
    actor: Any,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
) -> ClaimEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ClaimEvent.objects.create(
        claim=claim,
        at=at,
        kind=kind,
        actor=user,
        actor_name=str(user or "")[:200],
        from_status=from_status,
        to_status=to_status,
        text=text,
    )


# --- working pended claims ---------------------------------------------------------------------------------


def _locked_claim(actor: Any, claim: Claim, version: int | None) -> Claim:
    if not permissions.can_work_claims(actor, claim):
        raise PermissionDeniedError("Only the plan's claims processors work pended claims.")
    locked = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("plan", "member__county", "billing_organization")
        .get(pk=claim.pk)
    )
    if version is not None and locked.version != version:
        raise ConflictError()
    return locked


@transaction.atomic
def claim_readjudicate(*, actor: Any, claim: Claim, version: int | None = None) -> Claim:
    """Run the edits again over the claim's pended lines (after an authorization decision or a new rate)."""
    claim = _locked_claim(actor, claim, version)
    if claim.status != ClaimStatus.PENDED:
        raise DomainError(f"{claim.number} has no pended lines.", code="not_pended", status=409)
    claims_adjudicate(claims=[claim], actor=actor)
    save_versioned(claim, [])
    audit_record(
        actor=actor,
        action="update",
        object_type="claims.Claim",
        object_id=claim.uuid,
        member_ids=[claim.member.uuid] if claim.member_id else [],
        detail={"step": "readjudicate"},
    )
    return claim


@transaction.atomic
def claim_line_decide(
    *,
    actor: Any,
    claim: Claim,
    line_number: int,
    action: str,
    amount: Decimal | None = None,
    note: str = "",
    version: int | None = None,
) -> Claim:
    """A claims processor decides a pended line by hand: pay an amount (up to the charge) or deny with a
    reason the provider will read. The decision and its author are kept in the claim's history."""
    claim = _locked_claim(actor, claim, version)
    line = claim.lines.filter(number=line_number).first()
    if line is None:
        raise DomainError(
            "No such line.", errors=[FieldError("line", f"{claim.number} has no line {line_number}.")]
        )
    if line.status != LineStatus.PENDED:
        raise DomainError(
            f"Line {line_number} is {line.get_status_display().lower()}, not pended.",
            code="not_pended",
            status=409,
        )
    note = (note or "").strip()
    errors: list[FieldError] = []
    if action not in {"pay", "deny"}:
        errors.append(FieldError("action", "Choose pay or deny."))
    if action == "pay":
        if amount is None:
            errors.append(FieldError("amount", "Enter the amount to pay.", "required"))
        elif amount <= 0 or amount > line.charge:
            errors.append(
                FieldError("amount", f"Pay more than $0.00 and at most the charge, ${line.charge:,.2f}.")
            )
        elif amount != amount.quantize(Decimal("0.01")):
            errors.append(FieldError("amount", "Enter dollars and cents."))
    if not note:
        errors.append(FieldError("note", "Say why, in words the provider will read.", "required"))
    if errors:
        raise DomainError("The decision has problems; nothing was changed.", errors=errors)
    now = clock.now()
    LineAdjustment.objects.filter(line=line).delete()
    if action == "pay":
        line.status, line.reason_key = LineStatus.PAID, "paid_by_reviewer"
        line.allowed_amount = line.paid_amount = money(amount)
        line.explanation = edit("paid_by_reviewer").explain(paid=f"${amount:,.2f}", note=note)
        line.units_drawn = line.units if line.authorization_id else ZERO
        if amount < line.charge:
            e = edit("fee_schedule")
            LineAdjustment.objects.create(
                line=line, group_code=e.group, reason_code=e.carc, amount=line.charge - amount
            )
    else:
        e = edit("denied_by_reviewer")
        line.status, line.reason_key = LineStatus.DENIED, "denied_by_reviewer"
        line.allowed_amount = line.paid_amount = line.units_drawn = ZERO
        line.explanation = e.explain(note=note)
        LineAdjustment.objects.create(line=line, group_code=e.group, reason_code=e.carc, amount=line.charge)
    line.adjudicated_at, line.adjudicated_by = now, actor
    line.save()
    claim._lines = list(claim.lines.all())
    before = claim.status
    _summarize(claim, now)
    save_versioned(claim, ["status", "outcome", "allowed_total", "paid_total", "adjudicated_at"])
    _event(
        claim,
        "line_decided",
        actor=actor,
        at=now,
        from_status=before,
        to_status=claim.status,
        text=f"Line {line_number}: {line.explanation}",
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="claims.Claim",
        object_id=claim.uuid,
        member_ids=[claim.member.uuid] if claim.member_id else [],
        detail={"step": "line_decided", "line": line_number, "action": action},
    )
    return claim


def claims_readjudicate_pended(*, plan: Organization | None = None) -> int:
    """The hourly job: pended claims whose lines wait on something that may have arrived are decided again.
    Idempotent: a line still waiting stays pended with the same reason."""
    qs = Claim.objects.filter(status=ClaimStatus.PENDED).exclude(lines__reason_key="correction_review")
    if plan is not None:
        qs = qs.filter(plan=plan)
    claims = list(qs.select_related("plan", "member__county", "billing_organization").distinct()[:5000])
    with transaction.atomic():
        claims_adjudicate(claims=claims)
    return len(claims)
