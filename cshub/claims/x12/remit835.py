"""Write the plan's remittance advice to a provider as an 835 (005010X221A1) interchange.

The caller maps its adjudication results onto the frozen dataclasses below; `write_835(remittance)` checks
that the money balances (`check_balanced`) and returns the text. One ISA/GS/ST per remittance (one payment).

Shape: BPR (the payment) and TRN (its trace), 1000A payer (N1*PR, N3, N4, REF*2U, PER*BL), 1000B payee
(N1*PE with the NPI, REF*TJ), then one LX header and per claim a 2100 (CLP, CAS, NM1*QC, DTM*050) with its
2110 service lines (SVC, DTM, CAS, REF*6R, AMT*B6, LQ*HE). No provider-level adjustments (PLB) are written,
so the payment must equal the sum of the claims' paid amounts and can never be negative.

Free text is cleaned by `envelope.Delimiters.clean` (delimiters and unsupported characters become spaces).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cshub.claims.x12.envelope import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Envelope,
    required,
    write_interchange,
    x12_amount,
    x12_date,
    x12_npi,
    x12_number,
    x12_state,
    x12_zip,
)

VERSION = "005010X221A1"
GROUP_CODES = ("CO", "OA", "PI", "PR")  # contractual, other, payer-initiated, patient responsibility
CLAIM_STATUS_CODES = ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25")
PAYMENT_METHODS = ("ACH", "CHK", "NON")
REASONS_PER_CAS = 6  # CAS carries at most six reason/amount/quantity triplets
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Adjustment835:
    group_code: str  # CO, OA, PI or PR
    reason_code: str  # CARC, e.g. "45"
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class LinePayment835:
    hcpcs: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    service_from: date
    service_to: date
    line_control_number: str = ""  # REF*6R: the 837's line item control number, when it sent one
    allowed_amount: Decimal | None = None  # AMT*B6
    adjustments: list[Adjustment835] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)  # RARC, LQ*HE


@dataclass(frozen=True)
class ClaimPayment835:
    patient_control_number: str  # CLP01: the provider's CLM01, echoed back
    status_code: str  # CLP02: "1" processed as primary, "4" denied, "22" reversal …
    total_charge: Decimal
    paid_amount: Decimal
    payer_claim_control_number: str  # CLP07
    member_id: str
    member_last_name: str
    member_first_name: str
    received_date: date | None = None  # DTM*050
    claim_adjustments: list[Adjustment835] = field(default_factory=list)
    lines: list[LinePayment835] = field(default_factory=list)
    claim_filing_indicator: str = "MC"  # CLP06: Medicaid
    place_of_service: str = ""  # CLP08, from the claim's CLM05-1, when known
    frequency_code: str = ""  # CLP09, from the claim's CLM05-3, when known


@dataclass(frozen=True)
class Remittance835:
    sender_id: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    created_at: datetime
    usage: str  # "T" test, "P" production
    payer_name: str
    payer_id: str
    payer_address_line: str
    payer_city: str
    payer_state: str
    payer_zip: str
    payee_name: str
    payee_npi: str
    payee_tax_id: str
    payment_amount: Decimal
    payment_method: str  # "ACH" (EFT), "CHK", or "NON" when nothing is paid
    payment_date: date
    trace_number: str  # TRN02: the EFT trace or check number
    originating_company_id: str  # TRN03 and BPR10: "1" followed by the payer's 9-digit TIN
    claims: list[ClaimPayment835]
    # PER*BL, the payer's EDI help desk: a phone or an email is required.
    payer_contact_name: str = ""
    payer_contact_phone: str = ""
    payer_contact_email: str = ""
    # ACH details (BPR06-BPR15): all four, or none (then the payment is written as a check, see _bpr).
    payer_bank_routing: str = ""
    payer_account: str = ""
    payee_bank_routing: str = ""
    payee_account: str = ""
    delimiters: Delimiters = DEFAULT_DELIMITERS


class RemittanceNotBalanced(ValueError):
    """The amounts do not add up; `problems` lists every mismatch found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_balanced(remittance: Remittance835) -> None:
    """Raise RemittanceNotBalanced unless the 835 balancing rules hold.

    Per line: charge - sum of the line's adjustments = paid. Per claim: total charge - sum of the claim's and
    its lines' adjustments = paid. For the payment (no PLB): the claims' paid amounts add up to BPR02, which
    must not be negative.
    """
    problems: list[str] = []
    total_paid = _ZERO
    for claim in remittance.claims:
        pcn = claim.patient_control_number
        adjusted = _sum(claim.claim_adjustments)
        for number, line in enumerate(claim.lines, start=1):
            line_adjusted = _sum(line.adjustments)
            adjusted += line_adjusted
            if line.charge - line_adjusted != line.paid:
                problems.append(
                    f"claim {pcn} line {number}: charge {line.charge} - adjustments {line_adjusted} "
                    f"!= paid {line.paid}"
                )
        if claim.total_charge - adjusted != claim.paid_amount:
            problems.append(
                f"claim {pcn}: total charge {claim.total_charge} - adjustments {adjusted} "
                f"!= paid {claim.paid_amount}"
            )
        total_paid += claim.paid_amount
    if total_paid != remittance.payment_amount:
        problems.append(f"claims paid {total_paid} != payment amount {remittance.payment_amount}")
    if remittance.payment_amount < 0:
        problems.append(f"payment amount {remittance.payment_amount} is negative (that needs a PLB)")
    if problems:
        raise RemittanceNotBalanced(problems)


def write_835(remittance: Remittance835) -> str:
    """The remittance as one 835 interchange; raises ValueError (RemittanceNotBalanced for the money)."""
    check_balanced(remittance)
    envelope = Envelope(
        sender_id=remittance.sender_id,
        receiver_id=remittance.receiver_id,
        interchange_control_number=remittance.interchange_control_number,
        group_control_number=remittance.group_control_number,
        created_at=remittance.created_at,
        usage=remittance.usage,
        delimiters=remittance.delimiters,
    )
    return write_interchange(
        envelope,
        functional_id_code="HP",
        version=VERSION,
        transaction_set_id="835",
        bodies=[_body(remittance)],
        version_in_st03=False,
    )


def _body(r: Remittance835) -> list[str]:
    d = r.delimiters
    seg = d.segment_text
    originator = required(d, r.originating_company_id, "originating_company_id")
    if len(originator) != 10:
        raise ValueError(f"originating_company_id must be 10 characters ('1' + TIN), not {originator!r}")
    body = [
        _bpr(r, originator),
        seg(["TRN", "1", required(d, r.trace_number, "trace_number"), originator]),
        # 1000A: the payer.
        seg(["N1", "PR", required(d, r.payer_name, "payer_name")]),
        seg(["N3", required(d, r.payer_address_line, "payer_address_line")]),
        seg(
            [
                "N4",
                required(d, r.payer_city, "payer_city"),
                x12_state(r.payer_state, "payer_state"),
                x12_zip(r.payer_zip, "payer_zip"),
            ]
        ),
    ]
    payer_id = d.clean(r.payer_id)
    if payer_id:
        body.append(seg(["REF", "2U", payer_id]))
    body.append(_payer_contact(r))
    # 1000B: the payee, by NPI, with its TIN.
    tax_id = "".join(ch for ch in r.payee_tax_id if ch.isdigit())
    if len(tax_id) != 9:
        raise ValueError(f"payee_tax_id must be 9 digits, not {r.payee_tax_id!r}")
    body.append(
        seg(["N1", "PE", required(d, r.payee_name, "payee_name"), "XX", x12_npi(r.payee_npi, "payee_npi")])
    )
    body.append(seg(["REF", "TJ", tax_id]))
    if r.claims:
        body.append(seg(["LX", "1"]))  # one header number: every claim here is a professional claim
    for claim in r.claims:
        try:
            _claim(d, body, claim)
        except ValueError as error:
            raise ValueError(f"claim {claim.patient_control_number!r}: {error}") from None
    return body


def _bpr(r: Remittance835, originator: str) -> str:
    """BPR: the payment, and how it travels.

    Nothing paid: BPR01 "H" (notification only) with method NON, whatever method was asked for. ACH with all
    four bank fields: the CCP format with both ABA routing numbers (qualifier 01) and demand-deposit accounts.
    ACH without bank fields: written as CHK (BPR05-BPR15 empty), since the 5010 TR3 requires BPR05-BPR15
    with ACH and there is nothing true to put there; TRN02 then carries the check or payment number.
    """
    d = r.delimiters
    when = x12_date(r.payment_date)
    if r.payment_method not in PAYMENT_METHODS:
        raise ValueError(f"payment_method must be ACH, CHK or NON, not {r.payment_method!r}")
    amount = x12_amount(r.payment_amount, "payment_amount")
    empty = [""] * 11  # BPR05-BPR15
    if r.payment_amount == 0:
        return d.segment_text(["BPR", "H", "0", "C", "NON", *empty, when])
    if r.payment_method == "NON":
        raise ValueError(
            f"payment_method NON means nothing is paid, but payment_amount is {r.payment_amount}"
        )
    bank = [r.payer_bank_routing, r.payer_account, r.payee_bank_routing, r.payee_account]
    if r.payment_method == "CHK" or not any(bank):
        return d.segment_text(["BPR", "I", amount, "C", "CHK", *empty, when])
    if not all(bank):
        raise ValueError("ACH needs payer_bank_routing, payer_account, payee_bank_routing and payee_account")
    for name, routing in (
        ("payer_bank_routing", r.payer_bank_routing),
        ("payee_bank_routing", r.payee_bank_routing),
    ):
        if len(routing) != 9 or not routing.isdigit():
            raise ValueError(f"{name} must be a 9-digit ABA routing number, not {routing!r}")
    return d.segment_text(
        [
            "BPR",
            "I",
            amount,
            "C",
            "ACH",
            "CCP",
            "01",
            r.payer_bank_routing,
            "DA",
            required(d, r.payer_account, "payer_account"),
            originator,
            "",
            "01",
            r.payee_bank_routing,
            "DA",
            required(d, r.payee_account, "payee_account"),
            when,
        ]
    )


def _payer_contact(r: Remittance835) -> str:
    """PER*BL: the payer's technical contact, with the phone and/or email (at least one)."""
    d = r.delimiters
    phone = "".join(ch for ch in r.payer_contact_phone if ch.isdigit())
    email = d.clean(r.payer_contact_email)
    numbers: list[str] = []
    if phone:
        numbers += ["TE", phone]
    if email:
        numbers += ["EM", email]
    if not numbers:
        raise ValueError("payer_contact_phone or payer_contact_email is required (1000A PER*BL)")
    return d.segment_text(["PER", "BL", d.clean(r.payer_contact_name), *numbers])


def _claim(d: Delimiters, body: list[str], claim: ClaimPayment835) -> None:
    """One 2100 loop and its 2110 service lines, appended to `body`."""
    seg = d.segment_text
    if claim.status_code not in CLAIM_STATUS_CODES:
        raise ValueError(f"status_code {claim.status_code!r} is not a CLP02 claim status code")
    if not claim.lines:
        # The 2110 lines carry the service dates; without them the TR3 wants claim-level dates we don't have.
        raise ValueError("a claim payment needs at least one service line")
    patient_responsibility = sum(
        (a.amount for a in _all_adjustments(claim) if a.group_code == "PR"),
        _ZERO,
    )
    body.append(
        seg(
            [
                "CLP",
                required(d, claim.patient_control_number, "patient_control_number"),
                claim.status_code,
                x12_amount(claim.total_charge, "total_charge"),
                x12_amount(claim.paid_amount, "paid_amount"),
                x12_amount(patient_responsibility, "patient responsibility")
                if patient_responsibility
                else "",
                required(d, claim.claim_filing_indicator, "claim_filing_indicator"),
                required(d, claim.payer_claim_control_number, "payer_claim_control_number"),
                d.clean(claim.place_of_service),
                d.clean(claim.frequency_code),
            ]
        )
    )
    body.extend(_cas_segments(d, claim.claim_adjustments))
    body.append(
        seg(
            [
                "NM1",
                "QC",
                "1",
                required(d, claim.member_last_name, "member_last_name"),
                d.clean(claim.member_first_name),
                "",
                "",
                "",
                "MI",
                required(d, claim.member_id, "member_id"),
            ]
        )
    )
    if claim.received_date is not None:
        body.append(seg(["DTM", "050", x12_date(claim.received_date)]))
    for number, line in enumerate(claim.lines, start=1):
        try:
            _line(d, body, line)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None


def _line(d: Delimiters, body: list[str], line: LinePayment835) -> None:
    """One 2110 loop: SVC, its dates, CAS, REF*6R, AMT*B6 and LQ*HE remarks."""
    seg = d.segment_text
    if len(line.modifiers) > 4:
        raise ValueError(f"SVC01 holds at most 4 modifiers, not {len(line.modifiers)}")
    if line.service_to < line.service_from:
        raise ValueError(f"service_to {line.service_to} is before service_from {line.service_from}")
    procedure = ["HC", required(d, line.hcpcs, "hcpcs")]
    procedure.extend(required(d, modifier, "modifier") for modifier in line.modifiers)
    body.append(
        seg(
            [
                "SVC",
                d.composite(procedure),
                x12_amount(line.charge, "charge"),
                x12_amount(line.paid, "paid"),
                "",
                x12_number(line.units) if line.units != 1 else "",  # SVC05 only when not one unit
            ]
        )
    )
    if line.service_from == line.service_to:
        body.append(seg(["DTM", "472", x12_date(line.service_from)]))
    else:
        body.append(seg(["DTM", "150", x12_date(line.service_from)]))
        body.append(seg(["DTM", "151", x12_date(line.service_to)]))
    body.extend(_cas_segments(d, line.adjustments))
    control = d.clean(line.line_control_number)
    if control:
        body.append(seg(["REF", "6R", control]))
    if line.allowed_amount is not None:
        body.append(seg(["AMT", "B6", x12_amount(line.allowed_amount, "allowed_amount")]))
    for remark in line.remark_codes:
        body.append(seg(["LQ", "HE", required(d, remark, "remark code")]))


def _cas_segments(d: Delimiters, adjustments: Iterable[Adjustment835]) -> list[str]:
    """CAS segments: one per group code (first-seen order), six reasons each, more CAS when there are more.

    A reason repeated within a group is merged into one triplet (amounts and quantities summed): the TR3
    allows each group/reason pair once per claim or line.
    """
    groups: dict[str, dict[str, list[Decimal | None]]] = {}
    for adjustment in adjustments:
        if adjustment.group_code not in GROUP_CODES:
            raise ValueError(
                f"adjustment group_code must be one of {GROUP_CODES}, not {adjustment.group_code!r}"
            )
        reason = required(d, adjustment.reason_code, "adjustment reason_code")
        reasons = groups.setdefault(adjustment.group_code, {})
        if reason in reasons:
            amount, quantity = reasons[reason]
            reasons[reason] = [
                (amount or _ZERO) + adjustment.amount,
                quantity if adjustment.quantity is None else (quantity or _ZERO) + adjustment.quantity,
            ]
        else:
            reasons[reason] = [adjustment.amount, adjustment.quantity]
    segments = []
    for group, reasons in groups.items():
        triplets = list(reasons.items())
        for start in range(0, len(triplets), REASONS_PER_CAS):
            elements = ["CAS", group]
            for reason, (amount, quantity) in triplets[start : start + REASONS_PER_CAS]:
                elements += [
                    reason,
                    x12_amount(amount or _ZERO, f"adjustment {group}-{reason} amount"),
                    "" if quantity is None else x12_number(quantity),
                ]
            segments.append(d.segment_text(elements))
    return segments


def _all_adjustments(claim: ClaimPayment835) -> list[Adjustment835]:
    adjustments = list(claim.claim_adjustments)
    for line in claim.lines:
        adjustments.extend(line.adjustments)
    return adjustments


def _sum(adjustments: Iterable[Adjustment835]) -> Decimal:
    return sum((a.amount for a in adjustments), _ZERO)
