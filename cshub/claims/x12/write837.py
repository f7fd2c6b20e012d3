"""Write professional claims as an 837P (005010X222A1) interchange.

Used by the demo seed, the benchmark, the tests, and a provider's "export my claim as 837P". Pure Python:
the caller maps its models onto the frozen dataclasses below, then `write_837p(batch)` returns the text.

Shape: one ISA/GS; one ST per billing provider (a provider with more than 5,000 claims gets several, the
TR3's limit per transaction set); under it the billing provider (2000A/2010AA) and, per claim, one
subscriber level (2000B, the member is always the patient) with the payer (2010BB), the claim (2300), its
rendering provider (2310B) when given, and the service lines (2400).

Free text is cleaned by `envelope.Delimiters.clean` (delimiters and unsupported characters become spaces);
a required value that is empty after cleaning raises ValueError naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cshub.claims.x12.envelope import (
    DEFAULT_DELIMITERS,
    Delimiters,
    Envelope,
    write_interchange,
    x12_amount,
    x12_date,
    x12_npi,
    x12_number,
    x12_state,
    x12_zip,
)

VERSION = "005010X222A1"
MAX_CLAIMS_PER_TRANSACTION = 5000  # 837P TR3 section 1.4.1: at most 5,000 CLM per ST-SE
MAX_LINES_PER_CLAIM = 50
MAX_DIAGNOSES = 12
MAX_POINTERS_PER_LINE = 4
MAX_MODIFIERS = 4
MEMBER_SEXES = ("F", "M", "U")
FREQUENCY_CODES = ("1", "7", "8")  # original, replacement, void
REPLACEMENT_FREQUENCIES = ("7", "8")  # both need the payer's original claim number


@dataclass(frozen=True)
class LineOut837:
    hcpcs: str
    modifiers: list[str]
    charge: Decimal
    units: Decimal
    service_from: date
    service_to: date
    diagnosis_pointers: list[int] = field(default_factory=lambda: [1])
    place_of_service: str = ""  # written (SV105) only when it differs from the claim's
    authorization_number: str = ""  # the line's own REF*G1
    line_control_number: str = ""  # REF*6R: comes back in the 835's REF*6R, to match paid lines to ours


@dataclass(frozen=True)
class ClaimOut837:
    patient_control_number: str
    member_id: str
    member_last_name: str
    member_first_name: str
    member_date_of_birth: date
    member_sex: str
    member_address_line: str
    member_city: str
    member_zip: str
    payer_id: str
    payer_name: str
    place_of_service: str
    frequency_code: str = "1"
    diagnosis_codes: list[str] = field(default_factory=list)  # ICD-10-CM, dots optional; first is principal
    authorization_number: str = ""
    original_reference: str = ""  # payer claim control number being replaced or voided (frequency 7/8)
    rendering_npi: str = ""
    rendering_last_name: str = ""
    rendering_first_name: str = ""
    lines: list[LineOut837] = field(default_factory=list)
    member_state: str = "CA"  # Medi-Cal members live in California; kept overridable for out-of-state moves


@dataclass(frozen=True)
class BillingProvider837:
    npi: str
    name: str
    tax_id: str
    address_line: str
    city: str
    state: str
    zip_code: str
    claims: list[ClaimOut837]


@dataclass(frozen=True)
class Batch837:
    sender_id: str
    receiver_id: str  # the payer ID, e.g. "95567"
    interchange_control_number: int
    group_control_number: int
    created_at: datetime
    usage: str  # "T" test, "P" production
    submitter_name: str
    submitter_contact_name: str
    submitter_phone: str
    receiver_name: str
    billing_providers: list[BillingProvider837]
    delimiters: Delimiters = DEFAULT_DELIMITERS


def write_837p(batch: Batch837) -> str:
    """The batch as one 837P interchange; raises ValueError on data the TR3 would reject."""
    if not batch.billing_providers:
        raise ValueError("an 837P batch needs at least one billing provider")
    envelope = Envelope(
        sender_id=batch.sender_id,
        receiver_id=batch.receiver_id,
        interchange_control_number=batch.interchange_control_number,
        group_control_number=batch.group_control_number,
        created_at=batch.created_at,
        usage=batch.usage,
        delimiters=batch.delimiters,
    )
    return write_interchange(
        envelope,
        functional_id_code="HC",
        version=VERSION,
        transaction_set_id="837",
        bodies=_bodies(batch),
    )


class _Text:
    """Cleaning and rendering, memoised: a batch repeats the same members, payers, codes, dates and service
    lines many times, and 10,000 claims must take well under a second."""

    def __init__(self, delimiters: Delimiters) -> None:
        self.delimiters = delimiters
        self.segment = delimiters.segment_text
        self.composite = delimiters.composite
        self._cleaned: dict[str, str] = {}
        self._dates: dict[date, str] = {}
        # Rendered segments, keyed by every input they depend on (their checks run when first built).
        self.subscribers: dict[tuple[object, ...], list[str]] = {}
        self.diagnoses: dict[tuple[str, ...], tuple[str, int]] = {}
        self.renderings: dict[tuple[str, str, str], str] = {}
        self.services: dict[tuple[object, ...], list[str]] = {}

    def clean(self, value: str) -> str:
        cleaned = self._cleaned.get(value)
        if cleaned is None:
            cleaned = self._cleaned[value] = self.delimiters.clean(value)
        return cleaned

    def required(self, value: str, name: str) -> str:
        cleaned = self.clean(value)
        if not cleaned:
            raise ValueError(f"{name} is required (got {value!r})")
        return cleaned

    def day(self, day: date) -> str:
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = x12_date(day)
        return text


def _bodies(batch: Batch837) -> Iterator[list[str]]:
    d = _Text(batch.delimiters)
    header = _header(d, batch)
    number = 0
    for provider in batch.billing_providers:
        if not provider.claims:
            raise ValueError(f"billing provider {provider.npi!r} has no claims")
        provider_segments = _billing_provider(d, provider)
        for start in range(0, len(provider.claims), MAX_CLAIMS_PER_TRANSACTION):
            number += 1
            # BHT03 identifies this transaction set for the submitter; ISA13 + ST02 is unique per sender.
            reference = f"{batch.interchange_control_number:09d}{number:04d}"
            body = [
                d.segment(["BHT", "0019", "00", reference, header.date, header.time, "CH"]),
                *header.segments,
                *provider_segments,
            ]
            hl = 1
            for claim in provider.claims[start : start + MAX_CLAIMS_PER_TRANSACTION]:
                hl += 1
                try:
                    _claim(d, body, hl, claim)
                except ValueError as error:
                    raise ValueError(f"claim {claim.patient_control_number!r}: {error}") from None
            yield body


@dataclass(frozen=True)
class _Header:
    date: str
    time: str
    segments: list[str]


def _header(d: _Text, batch: Batch837) -> _Header:
    """1000A submitter and 1000B receiver: the same in every transaction set of the batch."""
    phone = "".join(ch for ch in batch.submitter_phone if ch.isdigit())
    if not phone:
        raise ValueError("submitter_phone is required (1000A PER*IC)")
    at = batch.created_at
    return _Header(
        date=x12_date(at.date()),
        time=f"{at.hour:02d}{at.minute:02d}",
        segments=[
            d.segment(
                [
                    "NM1",
                    "41",
                    "2",
                    d.required(batch.submitter_name, "submitter_name"),
                    "",
                    "",
                    "",
                    "",
                    "46",
                    d.required(batch.sender_id, "sender_id"),
                ]
            ),
            d.segment(
                ["PER", "IC", d.required(batch.submitter_contact_name, "submitter_contact_name"), "TE", phone]
            ),
            d.segment(
                [
                    "NM1",
                    "40",
                    "2",
                    d.required(batch.receiver_name, "receiver_name"),
                    "",
                    "",
                    "",
                    "",
                    "46",
                    d.required(batch.receiver_id, "receiver_id"),
                ]
            ),
        ],
    )


def _billing_provider(d: _Text, provider: BillingProvider837) -> list[str]:
    """2000A HL and 2010AA: the billing provider, with its NPI, address and employer ID."""
    tax_id = "".join(ch for ch in provider.tax_id if ch.isdigit())
    if len(tax_id) != 9:
        raise ValueError(f"billing provider tax_id must be 9 digits (EIN), not {provider.tax_id!r}")
    return [
        d.segment(["HL", "1", "", "20", "1"]),
        d.segment(
            [
                "NM1",
                "85",
                "2",
                d.required(provider.name, "billing provider name"),
                "",
                "",
                "",
                "",
                "XX",
                x12_npi(provider.npi, "billing provider npi"),
            ]
        ),
        d.segment(["N3", d.required(provider.address_line, "billing provider address_line")]),
        d.segment(
            [
                "N4",
                d.required(provider.city, "billing provider city"),
                x12_state(provider.state, "billing provider state"),
                x12_zip(provider.zip_code, "billing provider zip_code"),
            ]
        ),
        d.segment(["REF", "EI", tax_id]),
    ]


def _claim(d: _Text, body: list[str], hl: int, claim: ClaimOut837) -> None:
    """2000B/2010BA/2010BB, 2300, 2310B and the 2400 lines of one claim, appended to `body`."""
    seg = d.segment
    pcn = d.required(claim.patient_control_number, "patient_control_number")
    if len(pcn) > 38:
        raise ValueError(f"patient_control_number {pcn!r} is longer than the 38 characters CLM01 allows")
    if not claim.lines or len(claim.lines) > MAX_LINES_PER_CLAIM:
        raise ValueError(f"an 837P claim has 1 to 50 service lines, not {len(claim.lines)}")
    place = d.required(claim.place_of_service, "place_of_service")
    frequency = claim.frequency_code
    if frequency not in FREQUENCY_CODES:
        raise ValueError(f"frequency_code must be 1, 7 or 8, not {frequency!r}")
    original = d.clean(claim.original_reference)
    if frequency in REPLACEMENT_FREQUENCIES and not original:
        raise ValueError(f"frequency_code {frequency} needs original_reference (REF*F8)")
    hi, diagnoses = _diagnoses(d, tuple(claim.diagnosis_codes))

    body.append(seg(["HL", str(hl), "1", "22", "0"]))
    body.extend(_subscriber(d, claim))
    total = sum((line.charge for line in claim.lines), Decimal(0))
    body.append(
        seg(
            [
                "CLM",
                pcn,
                x12_amount(total, "claim total charge"),
                "",
                "",
                d.composite([place, "B", frequency]),
                "Y",  # provider signature on file
                "A",  # assignment accepted
                "Y",  # benefits assigned
                "Y",  # release of information on file
            ]
        )
    )
    # REF order follows the map: G1 (prior authorization) before F8 (payer claim control number).
    authorization = d.clean(claim.authorization_number)
    if authorization:
        body.append(seg(["REF", "G1", authorization]))
    if original:
        body.append(seg(["REF", "F8", original]))
    body.append(hi)
    if claim.rendering_npi:
        body.append(_rendering(d, claim.rendering_npi, claim.rendering_last_name, claim.rendering_first_name))

    for number, line in enumerate(claim.lines, start=1):
        try:
            _line(d, body, number, line, place, diagnoses)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None


def _subscriber(d: _Text, claim: ClaimOut837) -> list[str]:
    """SBR, 2010BA (the member, who is also the patient) and 2010BB (the payer): same member, same text."""
    key = (
        claim.member_id,
        claim.member_last_name,
        claim.member_first_name,
        claim.member_date_of_birth,
        claim.member_sex,
        claim.member_address_line,
        claim.member_city,
        claim.member_state,
        claim.member_zip,
        claim.payer_name,
        claim.payer_id,
    )
    segments = d.subscribers.get(key)
    if segments is not None:
        return segments
    if claim.member_sex not in MEMBER_SEXES:
        raise ValueError(f"member_sex must be F, M or U, not {claim.member_sex!r}")
    seg = d.segment
    segments = d.subscribers[key] = [
        seg(["SBR", "P", "18", "", "", "", "", "", "", "MC"]),
        seg(
            [
                "NM1",
                "IL",
                "1",
                d.required(claim.member_last_name, "member_last_name"),
                d.clean(claim.member_first_name),
                "",
                "",
                "",
                "MI",
                d.required(claim.member_id, "member_id"),
            ]
        ),
        # The subscriber is the patient, so the TR3 requires the address and demographics here.
        seg(["N3", d.required(claim.member_address_line, "member_address_line")]),
        seg(
            [
                "N4",
                d.required(claim.member_city, "member_city"),
                x12_state(claim.member_state, "member_state"),
                x12_zip(claim.member_zip, "member_zip"),
            ]
        ),
        seg(["DMG", "D8", d.day(claim.member_date_of_birth), claim.member_sex]),
        seg(
            [
                "NM1",
                "PR",
                "2",
                d.required(claim.payer_name, "payer_name"),
                "",
                "",
                "",
                "",
                "PI",
                d.required(claim.payer_id, "payer_id"),
            ]
        ),
    ]
    return segments


def _diagnoses(d: _Text, codes: tuple[str, ...]) -> tuple[str, int]:
    """The HI segment (ABK principal, ABF the others) and how many codes the line pointers may point at."""
    cached = d.diagnoses.get(codes)
    if cached is not None:
        return cached
    diagnoses = [code.replace(".", "").strip().upper() for code in codes]
    if not 1 <= len(diagnoses) <= MAX_DIAGNOSES:
        raise ValueError(f"a claim needs 1 to 12 diagnosis codes, got {list(codes)!r}")
    for code in diagnoses:
        if not (code.isascii() and code.isalnum() and 3 <= len(code) <= 7):
            raise ValueError(f"diagnosis code {code!r} is not an ICD-10-CM code")
    hi = ["HI", d.composite(["ABK", diagnoses[0]])]
    hi.extend(d.composite(["ABF", code]) for code in diagnoses[1:])
    cached = d.diagnoses[codes] = (d.segment(hi), len(diagnoses))
    return cached


def _rendering(d: _Text, npi: str, last_name: str, first_name: str) -> str:
    """2310B: the rendering provider, a person identified by NPI."""
    key = (npi, last_name, first_name)
    segment = d.renderings.get(key)
    if segment is None:
        segment = d.renderings[key] = d.segment(
            [
                "NM1",
                "82",
                "1",
                d.required(last_name, "rendering_last_name"),
                d.clean(first_name),
                "",
                "",
                "",
                "XX",
                x12_npi(npi, "rendering_npi"),
            ]
        )
    return segment


def _line(d: _Text, body: list[str], number: int, line: LineOut837, claim_place: str, diagnoses: int) -> None:
    """One 2400 loop: LX, SV1, DTP*472, the line's own prior authorization and its control number."""
    seg = d.segment
    body.append(seg(["LX", str(number)]))
    body.extend(_service(d, line, claim_place, diagnoses))
    # REF order follows the map: G1 (prior authorization) before 6R (line item control number).
    authorization = d.clean(line.authorization_number)
    if authorization:
        body.append(seg(["REF", "G1", authorization]))
    control = d.clean(line.line_control_number)
    if control:
        body.append(seg(["REF", "6R", control]))


def _service(d: _Text, line: LineOut837, claim_place: str, diagnoses: int) -> list[str]:
    """SV1 and DTP*472 of a line: the same service on the same dates renders the same text."""
    key = (
        line.hcpcs,
        tuple(line.modifiers),
        line.charge,
        line.units,
        line.service_from,
        line.service_to,
        tuple(line.diagnosis_pointers),
        line.place_of_service,
        claim_place,
        diagnoses,
    )
    segments = d.services.get(key)
    if segments is not None:
        return segments
    if len(line.modifiers) > MAX_MODIFIERS:
        raise ValueError(f"SV1 holds at most 4 modifiers, not {len(line.modifiers)}")
    pointers = line.diagnosis_pointers
    if not 1 <= len(pointers) <= MAX_POINTERS_PER_LINE or min(pointers) < 1 or max(pointers) > diagnoses:
        raise ValueError(f"diagnosis_pointers {pointers!r} must be 1 to 4 of 1..{diagnoses}")
    if line.units <= 0:
        raise ValueError(f"units must be positive, not {line.units}")
    if line.charge < 0:
        raise ValueError(f"charge must not be negative, not {line.charge}")
    if line.service_to < line.service_from:
        raise ValueError(f"service_to {line.service_to} is before service_from {line.service_from}")
    procedure = ["HC", d.required(line.hcpcs, "hcpcs")]
    for modifier in line.modifiers:
        procedure.append(d.required(modifier, "modifier"))
    place = d.clean(line.place_of_service)
    if line.service_from == line.service_to:
        when = d.segment(["DTP", "472", "D8", d.day(line.service_from)])
    else:
        when = d.segment(["DTP", "472", "RD8", f"{d.day(line.service_from)}-{d.day(line.service_to)}"])
    segments = d.services[key] = [
        d.segment(
            [
                "SV1",
                d.composite(procedure),
                x12_amount(line.charge, "charge"),
                "UN",
                x12_number(line.units),
                place if place != claim_place else "",  # SV105 only when it differs from CLM05-1
                "",
                d.composite([str(p) for p in pointers]),
            ]
        ),
        when,
    ]
    return segments
