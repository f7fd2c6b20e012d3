"""CSV invoices (rule C4): a provider without billing software uploads its invoices as a spreadsheet.

The layout (one row per service line; rows sharing an invoice number are one invoice, in file order):

    invoice_number, member_id, diagnosis_codes, hcpcs, modifiers, service_from, service_to, units, charge,
    authorization_number, place_of_service, rendering_npi

Required: invoice_number, member_id, diagnosis_codes (ICD-10-CM, several separated by ";"), hcpcs,
service_from, units, charge. Optional: modifiers (space or ";" separated, e.g. "U8 GQ"), service_to (empty:
one day), authorization_number, place_of_service (two digits), rendering_npi. Dates as YYYY-MM-DD or
MM/DD/YYYY; amounts with or without "$" and thousands commas. The billing NPI is the uploader's
organization's. `INVOICE_CSV_TEMPLATE` is the header and one example row, offered for download.

Every problem is reported at once by data row (the first row after the header is row 1) and column, and a
file with any problem stores nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cshub.claims import permissions, services
from cshub.claims.models import ClaimSource, ReceiptChannel
from cshub.core import clock
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError

COLUMNS = (
    "invoice_number",
    "member_id",
    "diagnosis_codes",
    "hcpcs",
    "modifiers",
    "service_from",
    "service_to",
    "units",
    "charge",
    "authorization_number",
    "place_of_service",
    "rendering_npi",
)
REQUIRED = frozenset(
    {"invoice_number", "member_id", "diagnosis_codes", "hcpcs", "service_from", "units", "charge"}
)
MAX_ROWS = 5000
INVOICE_CSV_TEMPLATE = (
    ",".join(COLUMNS) + "\r\n" + "INV-1001,91234567A,Z59.01,H0043,U6,2026-11-02,2026-11-02,1,125.00,,12,\r\n"
)
# Errors in a claim's own fields point at the column they came from.
_FIELD_COLUMN = {
    "billing_npi": "invoice_number",
    "patient_control_number": "invoice_number",
    "lines": "hcpcs",
}


@dataclass
class _Row:
    number: int
    values: dict[str, str]


def parse_invoice_csv(data: bytes) -> tuple[list[services.ClaimInput], list[list[int]], list[FieldError]]:
    """The invoices of a CSV file, with the data row of each line, and every problem found reading it."""
    errors: list[FieldError] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "The file is not UTF-8 text.",
            errors=[
                FieldError(
                    "file",
                    f"Byte {exc.start + 1} is not UTF-8; save the spreadsheet as 'CSV UTF-8'.",
                    "encoding",
                )
            ],
        ) from exc
    if "\x00" in text:
        raise DomainError(
            "The file is not a CSV file.",
            errors=[FieldError("file", "The file holds binary data.", "format")],
        )
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise DomainError(
            "The file is empty.", errors=[FieldError("file", "The file has no header row.", "empty")]
        ) from None
    except csv.Error as exc:
        raise DomainError(
            "The file is not valid CSV.", errors=[FieldError("file", str(exc), "format")]
        ) from exc
    missing = [c for c in COLUMNS if c in REQUIRED and c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = [FieldError("header", f"Column {c} is missing.", "missing_column") for c in missing]
        problems += [
            FieldError("header", f"Column {h} is not one of the invoice columns.", "unknown_column")
            for h in unknown
        ]
        if len(set(header)) != len(header):
            problems.append(FieldError("header", "A column appears twice.", "duplicate_column"))
        raise DomainError(
            "The header row does not match the invoice layout: " + ", ".join(COLUMNS) + ".", errors=problems
        )
    rows: list[_Row] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                errors.append(
                    FieldError(
                        "row",
                        f"The row has {len(cells)} cells; the header has {len(header)}.",
                        "cell_count",
                        row=number,
                    )
                )
                continue
            rows.append(_Row(number, {h: cell.strip() for h, cell in zip(header, cells, strict=True)}))
            if len(rows) > MAX_ROWS:
                raise DomainError(
                    "The file is too long.",
                    errors=[
                        FieldError("file", f"At most {MAX_ROWS:,} rows per file; split it.", "too_many_rows")
                    ],
                )
    except csv.Error as exc:
        raise DomainError(
            "The file is not valid CSV.", errors=[FieldError("file", str(exc), "format")]
        ) from exc
    if not rows and not errors:
        raise DomainError(
            "The file has no invoice rows.", errors=[FieldError("file", "No rows after the header.", "empty")]
        )
    invoices: dict[str, services.ClaimInput] = {}
    row_numbers: dict[str, list[int]] = {}
    for row in rows:
        v = row.values
        for column in REQUIRED:
            if not v.get(column):
                errors.append(FieldError(column, f"{column} is required.", "required", row=row.number))
        start = _date(v.get("service_from", ""), "service_from", row.number, errors)
        end = (
            _date(v.get("service_to", ""), "service_to", row.number, errors) if v.get("service_to") else start
        )
        units = _amount(v.get("units", ""), "units", row.number, errors)
        charge = _amount(v.get("charge", ""), "charge", row.number, errors)
        key = v.get("invoice_number", "")
        if key not in invoices:
            invoices[key] = services.ClaimInput(
                billing_npi="",
                member_id=v.get("member_id", ""),
                patient_control_number=key,
                diagnosis_codes=[
                    d for d in v.get("diagnosis_codes", "").replace(",", ";").split(";") if d.strip()
                ],
                authorization_number="",
                lines=[],
            )
            row_numbers[key] = []
        elif invoices[key].member_id.strip().upper() != v.get("member_id", "").strip().upper():
            errors.append(
                FieldError(
                    "member_id",
                    f"Invoice {key} names another member on an earlier row; one invoice is for one member.",
                    "mixed_members",
                    row=row.number,
                )
            )
        invoices[key].lines.append(
            services.LineInput(
                hcpcs=v.get("hcpcs", ""),
                modifiers=v.get("modifiers", "").replace(";", " ").split(),
                service_from=start,
                service_to=end,
                units=units,
                charge=charge,
                place_of_service=v.get("place_of_service", ""),
                rendering_npi=v.get("rendering_npi", ""),
                authorization_number=v.get("authorization_number", ""),
            )
        )
        row_numbers[key].append(row.number)
    return list(invoices.values()), list(row_numbers.values()), errors


def _date(raw: str, column: str, row: int, errors: list[FieldError]) -> date | None:
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    errors.append(
        FieldError(column, f"{raw[:20]} is not a date; use YYYY-MM-DD or MM/DD/YYYY.", "date", row=row)
    )
    return None


def _amount(raw: str, column: str, row: int, errors: list[FieldError]) -> Any:
    if not raw:
        return None
    value = services.parse_decimal(raw)
    if value is None:
        errors.append(FieldError(column, f"{raw[:20]} is not a number.", "number", row=row))
    return value


def _to_rows(problems: list[FieldError], rows_of: list[list[int]]) -> list[FieldError]:
    """Point each problem of invoice i (row = i + 1) at its CSV data row and column."""
    result = []
    for p in problems:
        invoice_rows = rows_of[(p.row or 1) - 1]
        column, row = p.field, invoice_rows[0]
        parts = p.field.split(".")
        if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit():
            row = invoice_rows[min(int(parts[1]), len(invoice_rows)) - 1]
            column = parts[2]
        elif parts[0] == "diagnosis_codes":
            column = "diagnosis_codes"
        else:
            column = _FIELD_COLUMN.get(parts[0], parts[0])
        result.append(FieldError(column, p.message, p.code, row=row))
    return result


def invoices_upload(*, actor: Any, data: bytes, name: str = "invoices.csv") -> services.Received:
    """Store and adjudicate the invoices of a CSV file, or refuse the whole file with every problem."""
    if not permissions.can_submit_claims(actor):
        raise PermissionDeniedError("Only a provider's billing staff send invoices.")
    if not data:
        raise DomainError("The file is empty.", errors=[FieldError("file", f"{name} is empty.", "empty")])
    invoices, rows_of, errors = parse_invoice_csv(data)
    org = actor.organization
    received_on = clock.today()
    for i, invoice in enumerate(invoices):
        invoice.billing_npi = org.npi
        invoice.billing_name = org.name
        errors.extend(
            _to_rows(services.claim_input_problems(invoice, row=i + 1, received_on=received_on), rows_of)
        )
    if errors:
        errors.sort(key=lambda e: (e.row or 0, COLUMNS.index(e.field) if e.field in COLUMNS else 99))
        raise DomainError(
            f"{name} has {len(errors)} problem{'s' if len(errors) != 1 else ''}; nothing was saved.",
            errors=errors,
        )
    try:
        return services.claims_receive(
            actor=actor,
            inputs=invoices,
            source=ClaimSource.INVOICE_CSV,
            channel=ReceiptChannel.UPLOAD,
            submitter=org,
        )
    except DomainError as exc:
        if len(invoices) == 1:
            for e in exc.errors:
                e.row = e.row or 1
        exc.errors = _to_rows(exc.errors, rows_of)
        raise
