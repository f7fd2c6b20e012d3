"""Shapes of the claims API (cshub/claims/api.py). They only shape data: the rules live in the services and
the selectors. Input field names are the `field` of the errors the services raise (`lines.1.hcpcs`: line
numbers count from 1, as on the claim). Money is a string with two decimals ("125.00"), never a float."""
# No `from __future__ import annotations` here: ninja and pydantic resolve these types at import.

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from cshub.claims.edits import code_meaning
from cshub.claims.models import (
    ClaimFile,
    ClaimOutcome,
    ClaimSource,
    ClaimStatus,
    LineStatus,
    ReceiptChannel,
)
from cshub.referrals.schemas import OrganizationRef, ServiceRef

API = "/api/v1"


def _person(user: Any) -> str | None:
    return str(user) if user is not None else None


# --- A claim or invoice: what comes in (rules C1, C4) ------------------------------------------------


class ClaimLineIn(Schema):
    """One service line (CMS-1500 box 24; 837P loop 2400). Dates, units and charge are read by the API so
    that a value it cannot read is named like every other problem (`lines.2.units`)."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    hcpcs: str = Field("", description="HCPCS code of the Community Support, e.g. H0043 (box 24D)")
    modifiers: list[str] = Field(default_factory=list, description='up to four, e.g. ["U6"]')
    service_from: str | None = Field(None, description="first date of service, YYYY-MM-DD (box 24A)")
    service_to: str | None = Field(
        None, description="last date of service, YYYY-MM-DD; default: service_from"
    )
    units: str | float | int | None = Field(None, description="more than 0, at most two decimals (box 24G)")
    charge: str | float | int | None = Field(None, description='dollars and cents, e.g. "125.00" (box 24F)')
    place_of_service: str = Field("", description="two digits; default: the claim's")
    diagnosis_pointers: list[int | str] = Field(
        default_factory=lambda: [1], description="which diagnosis codes apply: 1-12 (or A-L as on paper)"
    )
    rendering_npi: str = Field("", description="default: the claim's rendering NPI")
    authorization_number: str = Field("", description="the authorization number of the letter (rule C1)")


class ClaimIn(Schema):
    """One claim or invoice as JSON (rules C1, C4). A CS provider bills under its own NPI; the plan's
    claims processors enter paper received by mail, fax or email and may set the receipt date stamp.

    How it is recorded (`source`): a provider's JSON claim or invoice is a web invoice (`invoice_web`:
    rule C4's invoice portal; a provider's electronic claims are 837P files, POST /claim-files); what the
    plan's processors key in is paper: a CMS-1500 claim (`cms1500`) or a paper invoice (`invoice_paper`).
    """

    model_config = ConfigDict(coerce_numbers_to_str=True)

    kind: Literal["claim", "invoice"] = Field("claim", description="claim (CMS-1500 fields) or invoice")
    billing_npi: str = Field("", description="the billing provider's NPI (box 33a); '' = your organization's")
    billing_name: str = ""
    billing_tax_id: str = Field("", description="TIN, 9 digits (box 25)")
    rendering_npi: str = Field("", description="box 24J, when another NPI rendered the service")
    member_id: str = Field("", description="the member's Medi-Cal ID (CIN) or plan member ID (box 1a)")
    member_name: str = ""
    member_date_of_birth: date | None = None
    patient_control_number: str = Field("", description="your own claim or invoice number (box 26)")
    diagnosis_codes: list[str] = Field(default_factory=list, description="ICD-10-CM, primary first (box 21)")
    place_of_service: str = Field("", description="two digits, e.g. 12 (home) (box 24B)")
    frequency_code: str = Field("1", description="1 original, 7 replacement, 8 void (box 22)")
    original_reference: str = Field("", description="the claim number a replacement or void corrects")
    authorization_number: str = Field("", description="prior authorization number (box 23)")
    payer_id: str = Field("", description="routes to a plan when configured (rule C3); usually ''")
    total_charge: str | float | int | None = Field(
        None, description="the total as billed (box 28); when sent it must be the sum of the lines' charges"
    )
    received_at: datetime | None = Field(
        None,
        description="plan claims processors only: the receipt date stamp of paper received earlier "
        "(rule C5; no time zone = Pacific); default: now",
    )
    notes: str = Field("", description="a note kept with the claim (box 19)")
    lines: list[ClaimLineIn] = Field(default_factory=list, description="1 to 50 service lines")


# --- Lists --------------------------------------------------------------------------------------------


class ClaimQuery(Schema):
    """Filters of GET /claims and GET /claims.csv (a bad value is a 422 naming the filter)."""

    status: str = Field("", description="received, pended, adjudicated, remitted, void, or unpaid")
    outcome: str = Field("", description="paid, partially_paid, denied or pended")
    source: str = Field("", description="837p, cms1500, invoice_web, invoice_csv or invoice_paper")
    provider: UUID | None = Field(None, description="the billing organization (the plan's staff)")
    service: str = Field("", description="catalog key of the service of any line")
    q: str = Field("", description="claim number, your claim number, member ID or member last name")
    received_from: date | None = None
    received_to: date | None = None
    aging: str = Field("", description="at_risk or overdue (rule C5): unpaid claims, soonest due first")
    claim_file: UUID | None = Field(None, description="the 837P file the claims came in")


# --- A claim: what goes out --------------------------------------------------------------------------


class PaymentClockOut(Schema):
    """Rule C5: where the claim stands against its 45-business-day payment deadline."""

    due_on: date
    business_days_left: int
    state: str = Field(description="paid, paid_late, on_time, at_risk or overdue")
    label: str


class ClaimMemberOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    cin: str
    first_name: str
    last_name: str


class ClaimOut(Schema):
    """One claim or invoice in a list."""

    id: UUID = Field(validation_alias="uuid")
    number: str
    kind: str = Field(description="claim or invoice (from the source)")
    source: str
    source_label: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    outcome: str = Field(description="paid, partially_paid, denied, pended or '' (not yet decided)")
    outcome_label: str
    plan: OrganizationRef
    billing_organization: OrganizationRef | None = Field(description="None: the billed NPI is not known")
    billing_npi: str
    member: ClaimMemberOut | None = Field(description="None: the billed member ID is not known")
    member_id_billed: str
    patient_control_number: str
    total_charge: Decimal
    allowed_total: Decimal
    paid_total: Decimal
    received_at: datetime = Field(description="the receipt date stamp (rule C5)")
    received_on: date
    payment_due_on: date = Field(description="45 business days after receipt (rule C5)")
    payment_clock: PaymentClockOut
    adjudicated_at: datetime | None
    paid_on: date | None
    claim_file: UUID | None = Field(description="the 837P file it came in")
    payment: UUID | None
    version: int = Field(description="send it back with a decision (optimistic locking)")
    url: str

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return obj.kind_label

    @staticmethod
    def resolve_source_label(obj: Any) -> str:
        return ClaimSource(obj.source).label

    @staticmethod
    def resolve_channel_label(obj: Any) -> str:
        return ReceiptChannel(obj.channel).label

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return ClaimStatus(obj.status).label

    @staticmethod
    def resolve_outcome_label(obj: Any) -> str:
        return ClaimOutcome(obj.outcome).label

    @staticmethod
    def resolve_billing_organization(obj: Any) -> Any:
        return obj.billing_organization if obj.billing_organization_id else None

    @staticmethod
    def resolve_member(obj: Any) -> Any:
        return obj.member if obj.member_id else None

    @staticmethod
    def resolve_payment_clock(obj: Any) -> Any:
        return obj.api_payment_clock

    @staticmethod
    def resolve_claim_file(obj: Any) -> UUID | None:
        return obj.claim_file.uuid if obj.claim_file_id else None

    @staticmethod
    def resolve_payment(obj: Any) -> UUID | None:
        return obj.payment.uuid if obj.payment_id else None

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"{API}/claims/{obj.uuid}"


class AdjustmentOut(Schema):
    """One 835 CAS adjustment of a line: group, CARC (and RARC) with their meanings, and the amount."""

    group_code: str
    group_meaning: str
    reason_code: str = Field(description="CARC")
    reason_meaning: str
    remark_code: str = Field(description="RARC or ''")
    remark_meaning: str
    amount: Decimal
    units: Decimal | None

    @staticmethod
    def resolve_group_meaning(obj: Any) -> str:
        return code_meaning("GROUP", obj.group_code)

    @staticmethod
    def resolve_reason_meaning(obj: Any) -> str:
        return getattr(obj, "carc_meaning", None) or code_meaning("CARC", obj.reason_code)

    @staticmethod
    def resolve_remark_meaning(obj: Any) -> str:
        if not obj.remark_code:
            return ""
        return getattr(obj, "rarc_meaning", None) or code_meaning("RARC", obj.remark_code)


class ClaimAuthorizationRef(Schema):
    id: UUID = Field(validation_alias="uuid")
    number: str


class ClaimLineOut(Schema):
    """One line as billed and as decided, with the reason in plain words (rule C1)."""

    number: int
    hcpcs: str
    modifiers: list[str]
    code: str = Field(description="HCPCS and modifiers, e.g. H0043-U6")
    service: ServiceRef | None = Field(description="the Community Support the code resolved to")
    service_from: date
    service_to: date
    units: Decimal
    charge: Decimal
    place_of_service: str
    diagnosis_pointers: list[int]
    rendering_npi: str
    authorization_number_billed: str
    authorization: ClaimAuthorizationRef | None = Field(description="the authorization the line drew on")
    units_drawn: Decimal
    status: str
    status_label: str
    reason_key: str = Field(description="the edit of cshub/data/claim_edits.toml that decided the line")
    explanation: str
    allowed_amount: Decimal
    paid_amount: Decimal
    rate: Decimal | None
    adjudicated_at: datetime | None
    adjustments: list[AdjustmentOut]

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return obj.code_label

    @staticmethod
    def resolve_service(obj: Any) -> Any:
        return obj.service if obj.service_id else None

    @staticmethod
    def resolve_authorization(obj: Any) -> Any:
        return obj.authorization if obj.authorization_id else None

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return LineStatus(obj.status).label

    @staticmethod
    def resolve_adjustments(obj: Any) -> list[Any]:
        return list(obj.adjustments.all())


class ClaimEventOut(Schema):
    at: datetime
    kind: str
    actor: str = Field(validation_alias="actor_name")
    from_status: str
    to_status: str
    text: str


class PaymentRefOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    payment_date: date
    amount: Decimal
    eft_trace_number: str
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"{API}/payments/{obj.uuid}"


class ClaimDetailOut(ClaimOut):
    """One claim with its lines, adjustments, payment clock, payment and history."""

    billing_name: str
    billing_tax_id: str
    rendering_npi: str
    member_name_billed: str
    member_date_of_birth_billed: date | None
    place_of_service: str
    frequency_code: str
    original_reference: str
    diagnosis_codes: list[str]
    authorization_number_billed: str
    notes: str
    entered_by: str | None
    payment_detail: PaymentRefOut | None
    lines: list[ClaimLineOut] = Field(validation_alias="api_lines")
    events: list[ClaimEventOut] = Field(validation_alias="api_events")
    allowed_actions: list[str] = Field(
        validation_alias="api_allowed_actions",
        description="decide (a pended line) and readjudicate: the plan's claims processors, pended claims",
    )

    @staticmethod
    def resolve_entered_by(obj: Any) -> str | None:
        return _person(obj.entered_by) if obj.entered_by_id else None

    @staticmethod
    def resolve_payment_detail(obj: Any) -> Any:
        return obj.payment if obj.payment_id else None


class InvoiceUploadOut(Schema):
    """Rule C4: the invoices of a CSV file, stored and adjudicated, in file order."""

    file_name: str
    count: int
    claims: list[ClaimOut]


# --- Working pended claims (each carries the version the caller read) ---------------------------------


class VersionIn(Schema):
    version: int = Field(description="the claim's version as you read it; 409 when it changed since")


class LineDecisionIn(VersionIn):
    action: str = Field(description="pay or deny")
    amount: Decimal | None = Field(None, description="pay: the amount, more than 0 and at most the charge")
    note: str = Field("", description="why, in words the provider will read")


# --- Aging and totals (rule C5) -----------------------------------------------------------------------


class AgingCountsOut(Schema):
    unpaid: int
    overdue: int
    at_risk: int
    pended: int


class AgingOut(Schema):
    """Rule C5: unpaid claims against the 45-business-day deadline: counts, then the overdue and the at-risk
    claims, soonest due first (the first `limit` of each; GET /claims?aging=… pages through all)."""

    today: date
    at_risk_business_days: int = Field(description="at risk: due within this many business days")
    counts: AgingCountsOut
    overdue: list[ClaimOut]
    at_risk: list[ClaimOut]


class TotalsRowOut(Schema):
    label: str
    claims: int
    lines: int
    charged: Decimal
    paid: Decimal
    denied_lines: int
    denial_rate: float = Field(description="denied_lines / lines")


class TotalsOut(Schema):
    by: str
    start: date
    end: date
    rows: list[TotalsRowOut]


# --- 837P files (rule C3) -----------------------------------------------------------------------------


class ClaimFileOut(Schema):
    """One inbound 837P interchange and the 999 that answered it."""

    id: UUID = Field(validation_alias="uuid")
    original_name: str
    channel: str
    received_at: datetime
    submitter_organization: OrganizationRef | None
    uploaded_by: str | None
    size: int
    sha256: str
    sender_id: str
    receiver_id: str
    interchange_control_number: str
    usage: str = Field(description="T test, P production (ISA15)")
    ack_code: str = Field(description="999 IK5/AK9: A accepted, E with errors, P partially, R rejected")
    ack_label: str
    transaction_set_count: int
    claim_count: int
    line_count: int
    links: dict[str, str]

    @staticmethod
    def resolve_submitter_organization(obj: Any) -> Any:
        return obj.submitter_organization if obj.submitter_organization_id else None

    @staticmethod
    def resolve_uploaded_by(obj: Any) -> str | None:
        return _person(obj.uploaded_by) if obj.uploaded_by_id else None

    @staticmethod
    def resolve_ack_label(obj: Any) -> str:
        return ClaimFile.Ack(obj.ack_code).label if obj.ack_code else ""

    @staticmethod
    def resolve_links(obj: Any) -> dict[str, str]:
        base = f"{API}/claim-files/{obj.uuid}"
        links = {
            "self": base,
            "original": f"{base}/original",
            "claims": f"{API}/claims?claim_file={obj.uuid}",
        }
        if obj.ack_999:
            links["ack_999"] = f"{base}/999"
        return links


class ClaimFileClaimOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    number: str
    patient_control_number: str
    status: str
    outcome: str
    total_charge: Decimal
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"{API}/claims/{obj.uuid}"


class ClaimFileDetailOut(ClaimFileOut):
    """The file with its X12 problems (with their positions), the claims refused after the 999, and the
    claims it brought that the caller may see."""

    problems: list[dict[str, Any]]
    refusals: list[dict[str, Any]]
    claims: list[ClaimFileClaimOut] = Field(validation_alias="api_claims")


class ClaimFileReceiptOut(ClaimFileDetailOut):
    """The answer to an upload: the file as received (or as received before, `duplicate`), in words."""

    duplicate: bool = Field(description="the same bytes or interchange were received before; nothing changed")
    message: str


# --- Payments (rules C3, C5) ----------------------------------------------------------------------------


class PaymentRunRef(Schema):
    id: UUID = Field(validation_alias="uuid")
    number: str


class PaymentOut(Schema):
    """One provider's payment of a run: one EFT and one 835 remittance."""

    id: UUID = Field(validation_alias="uuid")
    plan: OrganizationRef
    organization: OrganizationRef
    run: PaymentRunRef
    payment_date: date = Field(description="the date of the payment (rule C5)")
    amount: Decimal
    eft_trace_number: str
    interchange_control_number: int
    remittance_name: str
    claim_count: int
    links: dict[str, str]

    @staticmethod
    def resolve_links(obj: Any) -> dict[str, str]:
        base = f"{API}/payments/{obj.uuid}"
        return {"self": base, "remittance_835": f"{base}/835"}


class PaymentDetailOut(PaymentOut):
    """The payment with the claims it paid or remitted that the caller may see."""

    claims: list[ClaimOut] = Field(validation_alias="api_claims")


class PaymentRunIn(Schema):
    payment_date: date | None = Field(None, description="the check or EFT date; default today (rule C5)")
    organizations: list[UUID] = Field(
        default_factory=list, description="pay only these providers; default: every provider"
    )
    received_through: date | None = Field(None, description="pay only claims received up to this day")


class PaymentRunOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    number: str
    plan: OrganizationRef
    payment_date: date
    run_at: datetime
    run_by: str | None
    claim_count: int
    provider_count: int
    total_paid: Decimal
    payments: list[PaymentOut]

    @staticmethod
    def resolve_run_by(obj: Any) -> str | None:
        return _person(obj.run_by) if obj.run_by_id else None

    @staticmethod
    def resolve_payments(obj: Any) -> list[Any]:
        return list(obj.payments.all())


# --- Errors (for the OpenAPI document; the API root renders them) -----------------------------------


class ClaimFieldErrorOut(Schema):
    field: str = Field(description="e.g. lines.1.hcpcs (lines count from 1), diagnosis_codes.0, billing_npi")
    message: str
    code: str
    row: int | None = Field(None, description="CSV and 837P: the row or claim the error is in")


class ClaimProblemOut(Schema):
    """RFC 9457 problem body. A refused step on a claim (403, 409) also carries its current `version`, its
    `current_status` and the caller's `allowed_actions`. Field errors of a file or CSV carry their `row`."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[ClaimFieldErrorOut] = []
    version: int | None = None
    current_status: str | None = None
    allowed_actions: list[str] | None = None
