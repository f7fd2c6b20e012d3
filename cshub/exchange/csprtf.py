"""Reading the Community Supports Provider Return Transmission File (CSPRTF, rules D2 and O4).

The layout is data (`cshub/data/exchange/csprtf.toml`, read with `layouts.load_layout`), and so are the
meanings of its code values (`cshub/data/csprtf_codes.toml`). This module reads a file against both and
against what cshub holds, and says what every row would change; `services.csprtf_ingest` keeps the file,
applies it through the referral services and answers with the error file. Nothing here writes.

Reading, in order, stopping at the first problem that makes the rest meaningless (row 0 = the file):

1. encoding (the layout's, UTF-8; a byte-order mark is allowed), no binary data;
2. the header: the layout's labels, in order, with its delimiter (a comma-, tab- or semicolon-separated
   header is named as such);
3. every row, field by field (`LayoutField.parse`: required, length, dates, codes, flags), then the checks
   across fields (conditional columns, the Member CS Status against the other columns, date order, dates
   after the reporting period) and across rows (one plan, provider, period and production date per file;
   the rows of one member and Community Support agree on everything but the outreach columns);
4. against cshub: the plan's identifier, the sender's NPI and TIN, the reporting month (not in the future;
   accepted until the cutoff, rule D2), the member on the plan's roster, the HCPCS code and modifier in
   the catalog, and the member referred or assigned to the sender for that Community Support.

A row unit is one member, one Community Support and (optionally) one outreach attempt: a member with three
attempts in the month has three rows, alike but for the outreach columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from cshub.core import clock
from cshub.core.validators import CIN_PATTERN, npi_is_valid

LAYOUT_KEY = "csprtf"
CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "csprtf_codes.toml"
MAX_ERRORS = 5000  # an error file longer than this helps nobody; the count says how many more
OUTREACH_FIELDS = ("outreach_date", "outreach_method", "outreach_successful", "telehealth_consent")
FILE_FIELDS = ("plan_code", "provider_npi", "provider_tin", "reporting_period", "production_date")
ADDRESS_FIELDS = ("residential_address", "residential_city", "residential_state", "residential_zip")
OTHER_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
PERIOD_RE = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")


def chunks(items: Iterable[Any], size: int = 2000) -> Iterable[list[Any]]:
    """`items` in lists of `size`: the IN lists of the bulk lookups stay under SQLite's variable limit."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def layout() -> Any:
    from cshub.exchange.layouts import load_layout

    return load_layout(LAYOUT_KEY)


# --- The code values (cshub/data/csprtf_codes.toml) -----------------------------------------------------


class CodesFileError(ValueError):
    """The CSPRTF codes file is not valid, or disagrees with the layout or the referral workflow."""


@dataclass(frozen=True)
class CsStatus:
    key: str
    label: str
    enrollment: bool  # a CS Enrollment Start Date is required (else none is allowed)
    discontinuation: bool  # a Discontinuation Date and Reason Code are required (else none allowed)
    outreach_outcomes: frozenset[str]
    referral_statuses: frozenset[str]
    outcome_or_closing_status: bool = False


@dataclass(frozen=True)
class Codes:
    version: str
    cs_status: dict[str, CsStatus]
    referral_status: dict[str, str]  # file code -> workflow status key
    loop_closure_reason: dict[str, str]  # file code -> the closing workflow status it reports
    outreach_method: dict[str, str]  # file code -> OutreachAttempt.Modality
    outreach_outcome: dict[str, str]  # file code -> Referral.OutreachOutcome
    discontinuation_reason_code: dict[str, str]  # file code -> words

    def status_code_for(self, workflow_status: str) -> str:
        for code, key in self.referral_status.items():
            if key == workflow_status:
                return code
        return workflow_status.upper()

    def closure_code_for(self, workflow_status: str) -> str:
        for code, key in self.loop_closure_reason.items():
            if key == workflow_status:
                return code
        return ""


def _table(raw: dict, name: str, problems: list[str]) -> dict[str, str]:
    value = raw.get(name)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.append(f'[{name}] must be a table of code = "value"')
        return {}
    return dict(value)


def parse_codes(raw: dict, path: Path | str = CODES_FILE) -> Codes:
    """The codes file, checked against the layout's valid_values, the referral workflow and the models."""
    from cshub.referrals.models import OutreachAttempt, Referral
    from cshub.referrals.workflow import workflow

    problems: list[str] = []
    tables = {
        name: _table(raw, name, problems)
        for name in (
            "referral_status",
            "loop_closure_reason",
            "outreach_method",
            "outreach_outcome",
            "discontinuation_reason_code",
        )
    }
    statuses: dict[str, CsStatus] = {}
    for key, item in (raw.get("cs_status") or {}).items():
        try:
            statuses[key] = CsStatus(
                key=key,
                label=str(item["label"]),
                enrollment=item["enrollment"] == "required",
                discontinuation=item["discontinuation"] == "required",
                outreach_outcomes=frozenset(item.get("outreach_outcomes", [])),
                referral_statuses=frozenset(item.get("referral_statuses", [])),
                outcome_or_closing_status=bool(item.get("outcome_or_closing_status", False)),
            )
        except (KeyError, TypeError) as exc:
            problems.append(f"[cs_status.{key}] lacks {exc}")
            continue
        for name in ("enrollment", "discontinuation"):
            if item.get(name) not in ("required", "none"):
                problems.append(f'[cs_status.{key}] {name} must be "required" or "none"')
        unknown = statuses[key].outreach_outcomes - set(tables["outreach_outcome"])
        unknown |= statuses[key].referral_statuses - set(tables["referral_status"])
        if unknown:
            problems.append(f"[cs_status.{key}] names unknown codes {sorted(unknown)}")
    wf = workflow()
    for code, key in tables["referral_status"].items():
        if key not in wf.statuses:
            problems.append(f"[referral_status] {code} = {key!r} is not a status of the referral workflow")
    for code, key in tables["loop_closure_reason"].items():
        if key not in wf.statuses or not wf.status(key).closed:
            problems.append(f"[loop_closure_reason] {code} = {key!r} is not a closing status of the workflow")
    for code, value in tables["outreach_method"].items():
        if value not in OutreachAttempt.Modality.values:
            problems.append(f"[outreach_method] {code} = {value!r} is not an outreach modality")
    for code, value in tables["outreach_outcome"].items():
        if value not in Referral.OutreachOutcome.values:
            problems.append(f"[outreach_outcome] {code} = {value!r} is not an outreach outcome")
    try:
        fields = {f.name: f for f in layout().fields}
    except Exception as exc:  # the layout's own check names its problems
        raise CodesFileError(f"{path}: the CSPRTF layout could not be loaded: {exc}") from exc
    for name, codes_of in (
        ("cs_status", set(statuses)),
        ("referral_status", set(tables["referral_status"])),
        ("loop_closure_reason", set(tables["loop_closure_reason"])),
        ("outreach_method", set(tables["outreach_method"])),
        ("outreach_outcome", set(tables["outreach_outcome"])),
        ("discontinuation_reason_code", set(tables["discontinuation_reason_code"])),
    ):
        layout_field = fields.get(name)
        if layout_field is None:
            problems.append(f"the CSPRTF layout has no field {name!r}")
        elif set(layout_field.valid_values) != codes_of:
            problems.append(
                f"[{name}] codes {sorted(codes_of)} differ from the layout's valid_values "
                f"{sorted(layout_field.valid_values)}"
            )
    if problems:
        raise CodesFileError(f"{path}: " + "; ".join(problems))
    return Codes(version=str(raw.get("version", "")), cs_status=statuses, **tables)


@cache
def codes() -> Codes:
    path = Path(getattr(settings, "CSHUB_CSPRTF_CODES_FILE", "") or CODES_FILE)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CodesFileError(f"{path}: {exc}") from exc
    return parse_codes(raw, path)


def check_codes() -> None:
    """Start-up check: raises CodesFileError when the codes file disagrees with the layout or workflow."""
    codes.cache_clear()
    codes()


# --- The cutoff (rule D2) -----------------------------------------------------------------------------


def cutoff_day() -> int:
    return int(settings.CSHUB_CSPRTF_CUTOFF_DAY)


def due_date(period_start: date) -> date:
    """Rule D2: the file for a month is due by the cutoff day (default the 5th) of the next month, in
    Pacific time; a weekend or holiday does not move it (DESIGN principle 2). A cutoff day the month lacks
    becomes its last day."""
    return clock.day_of_next_month(period_start, day=cutoff_day())


def is_late(period_start: date, *, at: datetime | None = None) -> bool:
    return (at or clock.now()) > clock.end_of_day(due_date(period_start))


def late_message(period_start: date) -> str:
    next_month = clock.add_months(period_start, 1)
    return (
        f"The CSPRTF for {period_start:%B %Y} was due by {due_date(period_start):%B %-d, %Y} (Pacific time) "
        f"and was not taken (rule D2). Send these updates with your {next_month:%B %Y} file, due by "
        f"{due_date(next_month):%B %-d, %Y}."
    )


def period_of(text: str) -> date | None:
    """The first day of the month a CCYYMM reporting period names, or None."""
    match = PERIOD_RE.match(text or "")
    return date(int(match[1]), int(match[2]), 1) if match else None


def period_end(period_start: date) -> date:
    return clock.last_day_of_month(period_start.year, period_start.month)


# --- Errors ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsprtfError:
    """One problem: its data row (1 = the first row after the header; 0 = the file itself), the field
    (the layout's name, or file / header / row), the value as sent, and what is wrong."""

    row: int
    field: str
    value: str
    message: str
    code: str = "invalid"

    @property
    def column(self) -> str:
        try:
            return layout().field(self.field).label
        except KeyError:
            return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "code": self.code,
        }


ERROR_FILE_COLUMNS = ("Row", "Column", "Field", "Value", "Error Code", "Message")


def _safe_cell(value: str) -> str:
    """Cells a spreadsheet would run as a formula get a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def error_file(errors: Iterable[CsprtfError | dict], *, total: int | None = None) -> bytes:
    """The error file sent back (outbox) and offered for download: CSV, one problem per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERROR_FILE_COLUMNS)
    count = 0
    for error in errors:
        e = error.as_dict() if isinstance(error, CsprtfError) else error
        writer.writerow(
            [
                e["row"] or "",
                e.get("column", ""),
                e["field"],
                _safe_cell(str(e.get("value", ""))),
                e.get("code", ""),
                _safe_cell(e["message"]),
            ]
        )
        count += 1
    if total is not None and total > count:
        writer.writerow(["", "", "file", "", "truncated", f"{total - count} more problems are not listed."])
    return out.getvalue().encode("utf-8")


# --- Reading --------------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    raw: dict[str, str]
    member: Any = None
    code: Any = None  # catalog.ServiceCode
    referral: Any = None

    @property
    def key(self) -> tuple[str, str, str]:
        """One member and one Community Support (code and modifier)."""
        return (
            str(self.values.get("member_cin") or ""),
            str(self.values.get("hcpcs_code") or "").upper(),
            str(self.values.get("hcpcs_modifier") or "").upper(),
        )


@dataclass
class Reading:
    rows: list[Row] = field(default_factory=list)
    errors: list[CsprtfError] = field(default_factory=list)
    plan: Any = None
    period_start: date | None = None
    production_date: date | None = None
    late: bool = False
    row_count: int = 0

    @property
    def period_end(self) -> date | None:
        return period_end(self.period_start) if self.period_start else None

    @property
    def error_rows(self) -> set[int]:
        return {e.row for e in self.errors}

    def add(self, row: int, field_name: str, value: Any, message: str, code: str = "invalid") -> None:
        self.errors.append(CsprtfError(row, field_name, _text(value), message, code))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, date):
        return value.strftime(layout().date_format)
    return str(value)[:200]


def looks_like_csprtf(name: str, data: bytes) -> bool:
    """The inbox's test: the file name matches the layout's pattern, or the first line holds its first
    two column labels (whatever the delimiter, so a comma-separated CSPRTF still gets a precise answer)."""
    lay = layout()
    if lay.match_file_name(name):
        return True
    head = data[:4096].lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    return all(label.lower() in head for label in lay.header_row()[:2])


def _decode(data: bytes, reading: Reading) -> str | None:
    lay = layout()
    encoding = "utf-8-sig" if lay.encoding.replace("_", "-").lower() in ("utf-8", "utf8") else lay.encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reading.add(
            0,
            "file",
            data[exc.start : exc.start + 4].hex(" "),
            f"The file is not {lay.encoding.upper()} text: byte {exc.start + 1} (line {line}) cannot be "
            f"read. Save the file as {lay.encoding.upper()} (in Excel: 'CSV UTF-8'; elsewhere: encoding "
            "UTF-8).",
            "encoding",
        )
        return None
    if "\x00" in text:
        reading.add(0, "file", "", "The file holds binary data; the CSPRTF is a text file.", "binary")
        return None
    return text


def _check_header(header: list[str], reading: Reading) -> bool:
    lay = layout()
    expected = lay.header_row()
    cells = [c.strip() for c in header]
    if [c.lower() for c in cells] == [e.lower() for e in expected]:
        return True
    joined = lay.delimiter.join(header)
    if len(cells) == 1:
        for delimiter, word in OTHER_DELIMITERS.items():
            if delimiter != lay.delimiter and joined.count(delimiter) >= len(expected) // 2:
                reading.add(
                    0,
                    "header",
                    joined[:200],
                    f"The file is separated by {word}s ({delimiter!r}); the CSPRTF's columns are "
                    f"separated by {OTHER_DELIMITERS.get(lay.delimiter, lay.delimiter)}s "
                    f"({lay.delimiter!r}).",
                    "delimiter",
                )
                return False
    if not {c.lower() for c in cells} & {e.lower() for e in expected}:
        reading.add(
            0,
            "header",
            joined[:200],
            f"The first line must be the header row, starting with {expected[0]!r}; this file has no "
            "CSPRTF column names in it.",
            "header",
        )
        return False
    known = {e.lower(): e for e in expected}
    got = [c.lower() for c in cells]
    missing = [e for e in expected if e.lower() not in got]
    unknown = [c for c in cells if c.lower() not in known]
    for label in missing:
        reading.add(0, "header", "", f"Column {label!r} is missing.", "missing_column")
    for label in unknown:
        reading.add(0, "header", label, f"{label!r} is not a CSPRTF column.", "unknown_column")
    if not missing and not unknown:
        for position, (cell, label) in enumerate(zip(cells, expected, strict=False), start=1):
            if cell.lower() != label.lower():
                reading.add(
                    0,
                    "header",
                    cell,
                    f"Column {position} must be {label!r}, not {cell!r}: the columns are in the layout's "
                    "order.",
                    "column_order",
                )
                break
        if len(cells) != len(set(got)):
            reading.add(0, "header", "", "A column appears twice.", "duplicate_column")
    return False


def _parse_rows(text: str, reading: Reading) -> None:
    lay = layout()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=lay.delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            reading.add(
                0, "file", "", "The file is empty: it needs the header row and a row per member.", "empty"
            )
            return
        if not _check_header(header, reading):
            return
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            reading.row_count += 1
            values, problems = lay.parse_row(cells)
            raw = {f.name: (cells[i].strip() if i < len(cells) else "") for i, f in enumerate(lay.fields)}
            if "_row" in problems:
                hint = ""
                if len(cells) == 1:
                    for delimiter, word in OTHER_DELIMITERS.items():
                        if delimiter != lay.delimiter and delimiter in cells[0]:
                            hint = f" It is separated by {word}s; use {lay.delimiter!r}."
                            break
                reading.add(
                    number, "row", lay.delimiter.join(cells)[:200], problems["_row"] + hint, "cell_count"
                )
                continue
            for name, message in problems.items():
                f = lay.field(name)
                code = (
                    "required"
                    if not raw[name]
                    else ("length" if f.max_length and len(raw[name]) > f.max_length else f.type)
                )
                reading.add(number, name, raw[name], message, code)
            reading.rows.append(Row(number=number, values=values, raw=raw))
    except csv.Error as exc:
        reading.add(reading.row_count + 1, "row", "", f"The row cannot be read: {exc}.", "format")
    if not reading.rows and not reading.errors:
        reading.add(0, "file", "", "The file has a header but no rows.", "empty")


# --- Checks across fields and rows (no database) -------------------------------------------------------


def _label(name: str) -> str:
    return layout().field(name).label


def _check_row(row: Row, reading: Reading, period_start: date | None) -> None:
    v, n = row.values, row.number
    cds = codes()
    add = reading.add

    def need(name: str, why: str) -> None:
        if not row.raw[name]:  # a value that did not parse has its own error already
            add(n, name, "", f"{_label(name)} is required {why}.", "required")

    def forbid(name: str, why: str) -> None:
        if row.raw[name]:
            add(n, name, row.raw[name], f"{_label(name)} must be empty {why}.", "not_allowed")

    cin = v.get("member_cin")
    if cin and not CIN_PATTERN.match(str(cin).upper()):
        add(
            n,
            "member_cin",
            cin,
            f"{cin!r} is not a Medi-Cal CIN: 8 digits and a letter, e.g. 91234567A.",
            "cin",
        )
    npi = v.get("provider_npi")
    if npi and not npi_is_valid(str(npi)):
        add(n, "provider_npi", npi, "Not a valid NPI: 10 digits, the last its check digit.", "npi")
    tin = v.get("provider_tin")
    if tin and not re.fullmatch(r"\d{9}", str(tin)):
        add(n, "provider_tin", tin, "A TIN is 9 digits, without a dash.", "tin")
    period = v.get("reporting_period")
    if period and period_of(str(period)) is None:
        add(n, "reporting_period", period, f"{period!r} is not a month: write CCYYMM, e.g. 202610.", "period")

    status = cds.cs_status.get(str(v.get("cs_status") or ""))
    if status is not None:
        label = f"when the Member CS Status is {status.key}"
        if status.enrollment:
            need("enrollment_start_date", label)
        else:
            forbid("enrollment_start_date", label)
            forbid("service_start_date", label)
            forbid("service_end_date", label)
            forbid("service_units", label)
        if status.discontinuation:
            need("discontinuation_date", label)
            need("discontinuation_reason_code", label)
        else:
            forbid("discontinuation_date", label)
            forbid("discontinuation_reason_code", label)
            forbid("discontinuation_reason", label)
        outcome = v.get("outreach_outcome")
        if outcome and outcome not in status.outreach_outcomes:
            allowed = ", ".join(sorted(status.outreach_outcomes)) or "none"
            add(
                n,
                "outreach_outcome",
                outcome,
                f"With {status.key}, the Outreach Outcome can be: {allowed}.",
                "status",
            )
        referral_status = v.get("referral_status")
        if referral_status and referral_status not in status.referral_statuses:
            allowed = ", ".join(sorted(status.referral_statuses))
            add(
                n,
                "referral_status",
                referral_status,
                f"With Member CS Status {status.key}, the Referral Status can be: {allowed}.",
                "status",
            )
        if status.outcome_or_closing_status and not outcome and not referral_status:
            add(
                n,
                "outreach_outcome",
                "",
                f"With {status.key}, give the Outreach Outcome or the Referral Status the referral closed "
                "with.",
                "required",
            )
        if outcome and referral_status and status.outcome_or_closing_status:
            from cshub.referrals.services import OUTREACH_END_STATUS

            ends_as = OUTREACH_END_STATUS.get(cds.outreach_outcome.get(outcome, ""))
            if ends_as and cds.referral_status.get(referral_status) != ends_as:
                add(
                    n,
                    "referral_status",
                    referral_status,
                    f"Outreach Outcome {outcome} closes the referral as {cds.status_code_for(ends_as)}.",
                    "status",
                )

    # The service period: both dates or neither, in order, within the enrollment.
    start, end = v.get("service_start_date"), v.get("service_end_date")
    if row.raw["service_start_date"] and not row.raw["service_end_date"]:
        need("service_end_date", "with a service period start date")
    if row.raw["service_end_date"] and not row.raw["service_start_date"]:
        need("service_start_date", "with a service period end date")
    units = v.get("service_units")
    if row.raw["service_units"] and not row.raw["service_start_date"]:
        add(n, "service_units", row.raw["service_units"], "Units need the service period dates.", "required")
    elif units is not None and units < 1:
        add(n, "service_units", row.raw["service_units"], "Units must be at least 1.", "range")
    enrolled_on, ended_on = v.get("enrollment_start_date"), v.get("discontinuation_date")
    if start and end and end < start:
        add(
            n,
            "service_end_date",
            row.raw["service_end_date"],
            "The service period ends before it starts.",
            "order",
        )
    if start and enrolled_on and start < enrolled_on:
        add(
            n,
            "service_start_date",
            row.raw["service_start_date"],
            "Services cannot start before the CS Enrollment Start Date.",
            "order",
        )
    if ended_on and enrolled_on and ended_on < enrolled_on:
        add(
            n,
            "discontinuation_date",
            row.raw["discontinuation_date"],
            "The Discontinuation Date is before the CS Enrollment Start Date.",
            "order",
        )
    if end and ended_on and end > ended_on:
        add(
            n,
            "service_end_date",
            row.raw["service_end_date"],
            "Services end after the Discontinuation Date.",
            "order",
        )
    if v.get("discontinuation_reason_code") == "09":
        need("discontinuation_reason", "with reason code 09 (other)")

    # Outreach: the method and whether it reached the member come with the date.
    if v.get("outreach_date") is not None or row.raw["outreach_date"]:
        need("outreach_method", "with a Date of Outreach Attempt")
        need("outreach_successful", "with a Date of Outreach Attempt")
    else:
        for name in ("outreach_method", "outreach_successful", "telehealth_consent"):
            forbid(name, "without a Date of Outreach Attempt")
    if v.get("outreach_method") == "TELEHEALTH" and v.get("telehealth_consent") is not True:
        add(
            n,
            "telehealth_consent",
            row.raw["telehealth_consent"],
            "Telehealth outreach needs the member's consent (rule O2): Y.",
            "required",
        )

    # Contact updates.
    if v.get("new_address_indicator") is True:
        for name in ADDRESS_FIELDS:
            need(name, "when the New Address Indicator is Y")
    state = v.get("residential_state")
    if state and not re.fullmatch(r"[A-Za-z]{2}", str(state)):
        add(n, "residential_state", state, "A state is two letters, e.g. CA.", "state")
    zip_code = v.get("residential_zip")
    if zip_code and not re.fullmatch(r"\d{5}(-?\d{4})?", str(zip_code)):
        add(n, "residential_zip", zip_code, "A ZIP code is 5 digits (or ZIP+4).", "zip")
    if v.get("new_phone_indicator") is True:
        need("member_phone", "when the New Phone Number Indicator is Y")
    phone = v.get("member_phone")
    if phone and not re.fullmatch(r"\d{10}", str(phone)):
        add(n, "member_phone", phone, "A phone number is 10 digits, without spaces or dashes.", "phone")

    # Closed loop referral: the closure reason goes with a closing status, and is that status's reason.
    referral_status = v.get("referral_status")
    if referral_status:
        need("referral_status_date", "with the Referral Status")
        from cshub.referrals.workflow import workflow

        target = cds.referral_status.get(referral_status, "")
        closing = bool(target) and workflow().status(target).closed
        reason = v.get("loop_closure_reason")
        if closing:
            expected = cds.closure_code_for(target)
            if not reason:
                need("loop_closure_reason", f"when the Referral Status {referral_status} closes the loop")
            elif cds.loop_closure_reason.get(reason) != target:
                add(
                    n,
                    "loop_closure_reason",
                    reason,
                    f"Referral Status {referral_status} closes the loop with reason {expected}, not "
                    f"{reason}.",
                    "status",
                )
        else:
            forbid("loop_closure_reason", f"while the Referral Status {referral_status} keeps the loop open")
    else:
        for name in ("referral_status_date", "loop_closure_reason"):
            forbid(name, "without a Referral Status")

    # Nothing dated after the month reported, nor after the day the file was made.
    production = v.get("production_date")
    if period_start is not None:
        last = period_end(period_start)
        for name in (
            "enrollment_start_date",
            "service_start_date",
            "service_end_date",
            "outreach_date",
            "discontinuation_date",
            "referral_status_date",
        ):
            day = v.get(name)
            if day is not None and day > last:
                add(
                    n,
                    name,
                    row.raw[name],
                    f"{_label(name)} is after the reporting period ({period_start:%B %Y}); report it in that "
                    "month's file.",
                    "after_period",
                )
            elif day is not None and isinstance(production, date) and day > production:
                add(
                    n,
                    name,
                    row.raw[name],
                    f"{_label(name)} is after the file's production date.",
                    "after_production",
                )


def _check_file_values(reading: Reading) -> None:
    """Plan, provider, period and production date: the same on every row (row 1 decides)."""
    first = reading.rows[0]
    known = {(e.row, e.field) for e in reading.errors}
    for row in reading.rows[1:]:
        for name in FILE_FIELDS:
            if row.raw[name] != first.raw[name] and (row.number, name) not in known:
                reading.add(
                    row.number,
                    name,
                    row.raw[name],
                    f"{_label(name)} must be the same on every row; row {first.number} has "
                    f"{first.raw[name]!r}.",
                    "differs",
                )


def _check_groups(reading: Reading) -> None:
    """The rows of one member and Community Support repeat everything but the outreach columns."""
    groups: dict[tuple[str, str, str], Row] = {}
    compared = [f.name for f in layout().fields if f.name not in OUTREACH_FIELDS]
    for row in reading.rows:
        first = groups.setdefault(row.key, row)
        if first is row:
            continue
        for name in compared:
            if row.raw[name] != first.raw[name]:
                reading.add(
                    row.number,
                    name,
                    row.raw[name],
                    f"Row {first.number} reports the same member and Community Support with "
                    f"{_label(name)} {first.raw[name]!r}: repeat the same values on every row of a member "
                    "and Community Support (only the outreach columns differ).",
                    "differs",
                )
                break


# --- Checks against cshub -------------------------------------------------------------------------------


def _check_sender(reading: Reading, organization: Any, name: str) -> None:
    """Row 1's plan, NPI, TIN and period, against the sender, the plans and the file name. File-level: a
    problem here is reported once (row 0) and stops the reading."""
    from cshub.accounts.models import Organization
    from cshub.accounts.roles import OrganizationKind

    first = reading.rows[0]
    values = first.values
    plan_code = str(values.get("plan_code") or "")
    if plan_code:
        reading.plan = Organization.objects.filter(
            kind=OrganizationKind.PLAN, plan_code__iexact=plan_code, is_active=True
        ).first()
        if reading.plan is None:
            reading.add(
                first.number,
                "plan_code",
                plan_code,
                f"No plan has the identifier {plan_code!r}; use the DHCS plan code of the plan you report "
                "to.",
                "plan",
            )
    npi = str(values.get("provider_npi") or "")
    if npi and npi != organization.npi:
        reading.add(
            first.number,
            "provider_npi",
            npi,
            f"The file reports for NPI {npi}, but it was sent by {organization.name} (NPI "
            f"{organization.npi or 'not on file'}); a provider sends its own CSPRTF.",
            "sender",
        )
    tin = str(values.get("provider_tin") or "")
    if tin and organization.tin and tin != organization.tin:
        reading.add(
            first.number, "provider_tin", tin, f"{organization.name}'s TIN on file is not {tin}.", "sender"
        )
    reading.period_start = period_of(str(values.get("reporting_period") or ""))
    production = values.get("production_date")
    reading.production_date = production if isinstance(production, date) else None
    today = clock.today()
    if reading.period_start is not None:
        if reading.period_start > today:
            reading.add(
                first.number,
                "reporting_period",
                first.raw["reporting_period"],
                f"{reading.period_start:%B %Y} has not started; a CSPRTF reports a month under way or past.",
                "future",
            )
        elif is_late(reading.period_start):
            reading.late = True
            reading.add(
                first.number,
                "reporting_period",
                first.raw["reporting_period"],
                late_message(reading.period_start),
                "late",
            )
    if reading.production_date is not None:
        if reading.production_date > today:
            reading.add(
                first.number,
                "production_date",
                first.raw["production_date"],
                "The production date is in the future.",
                "future",
            )
        elif reading.period_start and reading.production_date < reading.period_start:
            reading.add(
                first.number,
                "production_date",
                first.raw["production_date"],
                "The production date is before the reporting period starts.",
                "order",
            )
    parts = layout().match_file_name(name or "")
    if parts:
        for part, field_name, value in (
            ("plan_code", "plan_code", plan_code),
            ("provider_npi", "provider_npi", npi),
            ("period", "reporting_period", first.raw["reporting_period"]),
            ("date", "production_date", first.raw["production_date"]),
        ):
            if part in parts and value and parts[part].upper() != value.upper():
                reading.add(
                    0,
                    "file_name",
                    name,
                    f"The file name says {_label(field_name)} {parts[part]}; the rows say {value}.",
                    "file_name",
                )


def _check_against_cshub(reading: Reading, organization: Any) -> None:
    """Members on the plan's roster, codes in the catalog, and a referral to the sender for each (bulk
    queries, one per kind of thing, whatever the number of rows)."""
    from cshub.catalog.models import ServiceCode
    from cshub.members.models import EligibilitySpan, Member
    from cshub.referrals.models import Referral
    from cshub.referrals.workflow import workflow

    plan = reading.plan
    last = reading.period_end or clock.today()
    cins = {r.key[0].upper() for r in reading.rows if r.key[0]}
    members = {m.cin: m for part in chunks(cins) for m in Member.objects.filter(cin__in=part)}
    on_roster = {
        member_id
        for part in chunks([m.pk for m in members.values()])
        for member_id in EligibilitySpan.objects.filter(
            member_id__in=part, plan=plan, start_date__lte=last
        ).values_list("member_id", flat=True)
    }
    service_codes = {
        (c.hcpcs.upper(), c.modifier.upper()): c
        for c in ServiceCode.objects.filter(active=True, service__active=True).select_related("service")
    }
    known_hcpcs = defaultdict(list)
    for hcpcs, modifier in service_codes:
        known_hcpcs[hcpcs].append(modifier)
    bad_cin = {e.row for e in reading.errors if e.field == "member_cin"}
    for row in reading.rows:
        cin, hcpcs, modifier = row.key
        member = members.get(cin.upper())
        if cin and row.number not in bad_cin and (member is None or member.pk not in on_roster):
            reading.add(
                row.number,
                "member_cin",
                cin,
                f"Member {cin} is not on {plan.name}'s roster for {reading.period_start:%B %Y}.",
                "not_on_roster",
            )
            member = None
        row.member = member
        if hcpcs and modifier:
            row.code = service_codes.get((hcpcs, modifier))
            if row.code is None:
                if hcpcs in known_hcpcs:
                    message = (
                        f"{hcpcs}-{modifier} is not a Community Support code; {hcpcs} goes with modifier "
                        + " or ".join(sorted(known_hcpcs[hcpcs]))
                        + "."
                    )
                    reading.add(row.number, "hcpcs_modifier", modifier, message, "code")
                else:
                    reading.add(
                        row.number,
                        "hcpcs_code",
                        hcpcs,
                        f"{hcpcs} is not a Community Support HCPCS code.",
                        "code",
                    )
    wanted = {(r.member.pk, r.code.service_id) for r in reading.rows if r.member and r.code}
    if not wanted:
        return
    open_statuses = set(workflow().open_statuses)
    best: dict[tuple[int, int], Referral] = {}
    services = {s for _, s in wanted}
    referrals = sorted(
        (
            referral
            for part in chunks(sorted({m for m, _ in wanted}))
            for referral in Referral.objects.filter(
                plan=plan,
                receiving_provider=organization,
                kind=Referral.Kind.COMMUNITY_SUPPORT,
                member_id__in=part,
                service_id__in=services,
            ).select_related("service", "member")
        ),
        key=lambda r: (r.received_at, r.pk),
    )
    for referral in referrals:
        key = (referral.member_id, referral.service_id)
        current = best.get(key)
        # The newest open referral, else the newest closed one.
        if current is None or referral.status in open_statuses or current.status not in open_statuses:
            best[key] = referral
    for row in reading.rows:
        if row.member is None or row.code is None:
            continue
        row.referral = best.get((row.member.pk, row.code.service_id))
        if row.referral is None:
            reading.add(
                row.number,
                "member_cin",
                row.key[0],
                f"Member {row.key[0]} is not referred or assigned to {organization.name} for "
                f"{row.code.service.name} ({row.code.code}) with {plan.name}.",
                "not_assigned",
            )
            continue
        status_date = row.values.get("referral_status_date")
        if status_date and status_date < clock.local(row.referral.received_at).date():
            reading.add(
                row.number,
                "referral_status_date",
                row.raw["referral_status_date"],
                f"Referral {row.referral.number} was received on "
                f"{clock.local(row.referral.received_at):%m/%d/%Y}, after this status date.",
                "order",
            )
        if not row.values.get("referral_status") and row.referral.service.closed_loop_referral:
            reading.add(
                row.number,
                "referral_status",
                "",
                f"Referral Status is required for {row.referral.service.name} (closed-loop referral "
                "tracking).",
                "required",
            )


def read_csprtf(data: bytes, *, organization: Any, name: str = "") -> Reading:
    """Read and check a CSPRTF sent by `organization` (see the module's docstring). The reading's errors
    say everything found; its rows carry their member, code and referral when those were found."""
    reading = Reading()
    text = _decode(data, reading)
    if text is None:
        return reading
    _parse_rows(text, reading)
    if not reading.rows or any(e.row == 0 for e in reading.errors):
        return reading
    _check_sender(reading, organization, name)
    if reading.late or any(e.code == "sender" and e.field == "provider_npi" for e in reading.errors):
        return reading  # too late, or another provider's file: the rows say nothing more
    for row in reading.rows:
        _check_row(row, reading, reading.period_start)
    _check_file_values(reading)
    _check_groups(reading)
    if reading.plan is not None and reading.period_start is not None:
        _check_against_cshub(reading, organization)
    reading.errors.sort(key=lambda e: (e.row, _field_order(e.field)))
    return reading


@cache
def _field_positions() -> dict[str, int]:
    return {f.name: i for i, f in enumerate(layout().fields)}


def _field_order(name: str) -> int:
    return _field_positions().get(name, -1)


# --- What a row changes ---------------------------------------------------------------------------------


def attempt_instant(day: date, referral: Any) -> datetime:
    """The instant kept for an outreach attempt the file dates by day only: noon Pacific, or the referral's
    receipt when it came in later that day, and never after now."""
    noon = datetime.combine(day, time(12, 0), tzinfo=clock.PACIFIC)
    instant = max(noon, referral.received_at) if clock.local(referral.received_at).date() == day else noon
    return min(instant, clock.now())


def attempts_in(rows: list[Row]) -> Counter:
    """(day, modality, reached, consent) -> how many times the rows report it."""
    cds = codes()
    found: Counter = Counter()
    for row in rows:
        day = row.values.get("outreach_date")
        if day is None:
            continue
        found[
            (
                day,
                cds.outreach_method[row.values["outreach_method"]],
                bool(row.values.get("outreach_successful")),
                bool(row.values.get("telehealth_consent")),
            )
        ] += 1
    return found


def groups_of(rows: list[Row]) -> list[list[Row]]:
    """The rows of each member and Community Support, in file order."""
    grouped: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.key, []).append(row)
    return list(grouped.values())


def status_path(source: str, target: str, *, kind: str = "cs", party: str = "provider") -> list[str] | None:
    """The shortest series of statuses a provider can move a referral through from `source` to `target`
    along the workflow's table ([] when already there; None when it cannot)."""
    from cshub.referrals.workflow import workflow

    if source == target:
        return []
    wf = workflow()
    frontier, seen = [[source]], {source}
    while frontier:
        nxt = []
        for path in frontier:
            for step in wf.next_statuses(path[-1], party=party, kind=kind):
                if step in seen:
                    continue
                if step == target:
                    return [*path[1:], step]
                seen.add(step)
                nxt.append([*path, step])
        frontier = nxt
    return None


# --- Applying a file (through the referral services) ----------------------------------------------------


class _RowRefused(Exception):
    def __init__(self, error: CsprtfError) -> None:
        super().__init__(error.message)
        self.error = error


def _refusal(exc: Any, row: Row, field_name: str) -> _RowRefused:
    """A service's refusal, as an error on the row and field whose value asked for it."""
    details = [e.message for e in getattr(exc, "errors", []) if e.message and e.message not in exc.message]
    message = exc.message + (f" ({'; '.join(details)})" if details else "")
    return _RowRefused(CsprtfError(row.number, field_name, row.raw.get(field_name, ""), message, exc.code))


@dataclass
class _State:
    """What cshub holds for the referrals of a file, read once (bulk) before applying it."""

    attempts: dict[int, Counter] = field(default_factory=dict)  # referral -> (day, modality) -> count
    enrollments: dict[tuple[int, int], list[Any]] = field(default_factory=dict)  # (member, service)


def _load_state(rows: list[Row], organization: Any) -> _State:
    from cshub.referrals.models import Enrollment, OutreachAttempt

    state = _State()
    referral_ids = {r.referral.pk for r in rows if r.referral is not None}
    for part in chunks(sorted(referral_ids)):
        for referral_id, at, modality in OutreachAttempt.objects.filter(referral_id__in=part).values_list(
            "referral_id", "attempted_at", "modality"
        ):
            state.attempts.setdefault(referral_id, Counter())[(clock.local(at).date(), modality)] += 1
    members = sorted({r.referral.member_id for r in rows if r.referral is not None})
    for part in chunks(members):
        for enrollment in Enrollment.objects.filter(organization=organization, member_id__in=part).order_by(
            "enrolled_on", "id"
        ):
            state.enrollments.setdefault((enrollment.member_id, enrollment.service_id), []).append(enrollment)
    return state


def _reason(row: Row, period_start: date, *, prefix: str = "") -> str:
    status_date = row.values.get("referral_status_date")
    text = f"Reported in the {period_start:%B %Y} CSPRTF, row {row.number}"
    if status_date:
        text += f"; status date {status_date:%m/%d/%Y}"
    return f"{prefix} ({text})" if prefix else text


def _apply_group(
    rows: list[Row], *, actor: Any, state: _State, period_start: date, organization: Any
) -> list[str]:
    """Apply one member and Community Support's rows: outreach attempts, the enrollment, how outreach
    ended, the referral status, the discontinuation, in that order. What is already so changes nothing.
    Raises _RowRefused with the first refusal."""
    from cshub.core.errors import DomainError
    from cshub.referrals import services as referral_services
    from cshub.referrals.models import OutreachAttempt
    from cshub.referrals.workflow import workflow

    cds, wf = codes(), workflow()
    first = rows[0]
    v = first.values
    referral = first.referral
    changes: list[str] = []
    note = f"From the {period_start:%B %Y} CSPRTF"

    def move(to_status: str, row: Row, field_name: str, reason: str) -> None:
        nonlocal referral
        try:
            referral = referral_services.referral_transition(
                actor=actor, referral=referral, to_status=to_status, reason=reason, expected_version=None
            )
        except DomainError as exc:
            raise _refusal(exc, row, field_name) from exc

    # 1. Outreach attempts not yet recorded (counted per day and method, so a second call the same day
    #    is a second attempt and the same file twice records nothing twice).
    recorded = Counter(state.attempts.get(referral.pk, Counter()))
    for row in sorted(
        (r for r in rows if r.values.get("outreach_date")), key=lambda r: r.values["outreach_date"]
    ):
        day = row.values["outreach_date"]
        modality = cds.outreach_method[row.values["outreach_method"]]
        if recorded[(day, modality)] > 0:
            recorded[(day, modality)] -= 1
            continue
        try:
            referral_services.outreach_attempt_record(
                actor=actor,
                referral=referral,
                attempted_at=attempt_instant(day, referral),
                modality=modality,
                outcome=(
                    OutreachAttempt.Outcome.REACHED
                    if row.values.get("outreach_successful")
                    else OutreachAttempt.Outcome.NO_ANSWER
                ),
                notes=f"{note}, row {row.number}.",
                telehealth_consent=bool(row.values.get("telehealth_consent")),
            )
        except DomainError as exc:
            raise _refusal(exc, row, "outreach_date") from exc
        referral.refresh_from_db()
        changes.append(
            f"Outreach attempt on {day:%m/%d/%Y} ({OutreachAttempt.Modality(modality).label.lower()})"
        )

    status = cds.cs_status[v["cs_status"]]
    enrollment = None
    enrollments = state.enrollments.get((referral.member_id, referral.service_id), [])

    # 2. The enrollment: the referral made Eligible along the workflow (rule A1's guard), then enrolled.
    if status.enrollment:
        enrolled_on = v["enrollment_start_date"]
        enrollment = next((e for e in enrollments if e.enrolled_on == enrolled_on), None)
        current = next((e for e in enrollments if e.ended_on is None), None)
        if enrollment is None and current is not None:
            raise _RowRefused(
                CsprtfError(
                    first.number,
                    "enrollment_start_date",
                    first.raw["enrollment_start_date"],
                    f"cshub has the member enrolled in {referral.service.name} with {organization.name} "
                    f"since {current.enrolled_on:%m/%d/%Y}. Report that date, or ask the plan to correct it.",
                    "enrollment_differs",
                )
            )
        if enrollment is None:
            path = status_path(referral.status, "eligible")
            if path is None:
                raise _RowRefused(
                    CsprtfError(
                        first.number,
                        "enrollment_start_date",
                        first.raw["enrollment_start_date"],
                        f"Referral {referral.number} is {wf.status(referral.status).label} in cshub; a "
                        "member is enrolled from an Eligible referral.",
                        "status",
                    )
                )
            for step in path:
                move(step, first, "enrollment_start_date", _reason(first, period_start))
            try:
                enrollment = referral_services.enrollment_create(
                    actor=actor, referral=referral, enrolled_on=enrolled_on, expected_version=None
                )
            except DomainError as exc:
                raise _refusal(exc, first, "enrollment_start_date") from exc
            referral.refresh_from_db()
            changes.append(f"Enrolled from {enrolled_on:%m/%d/%Y}")

    # 3. Outreach ended without enrollment (rule O4): the referral closes and the referrer is told.
    outcome = cds.outreach_outcome.get(v.get("outreach_outcome") or "", "")
    if outcome and outcome != "engaged" and referral.outreach_outcome != outcome:
        try:
            referral = referral_services.outreach_end(
                actor=actor,
                referral=referral,
                outcome=outcome,
                reason=_reason(first, period_start, prefix=referral.OutreachOutcome(outcome).label),
                expected_version=None,
            )
        except DomainError as exc:
            raise _refusal(exc, first, "outreach_outcome") from exc
        changes.append(f"Outreach ended: {referral.OutreachOutcome(outcome).label}")

    # 4. The referral status (CLR), along the workflow from where cshub has it.
    code = v.get("referral_status")
    if code:
        target = cds.referral_status[code]
        if referral.status != target:
            before = referral.status
            path = status_path(referral.status, target)
            if path is None:
                current = wf.status(referral.status)
                why = (
                    "a closed referral stays closed; ask the plan if it is wrong"
                    if current.closed
                    else "allowed next: "
                    + (
                        ", ".join(
                            cds.status_code_for(s)
                            for s in wf.next_statuses(referral.status, "provider", "cs")
                        )
                    )
                )
                raise _RowRefused(
                    CsprtfError(
                        first.number,
                        "referral_status",
                        code,
                        f"Referral {referral.number} is {current.label} in cshub and cannot become "
                        f"{wf.status(target).label} ({why}).",
                        "transition",
                    )
                )
            for step in path:
                step_status = wf.status(step)
                move(
                    step,
                    first,
                    "referral_status",
                    _reason(
                        first, period_start, prefix=step_status.loop_closure if step_status.closed else ""
                    ),
                )
            changes.append(f"Referral status {wf.status(before).label} → {wf.status(target).label}")

    # 5. The discontinuation: the enrollment ends with the reason code's words.
    if status.discontinuation:
        ended_on = v["discontinuation_date"]
        reason_code = v["discontinuation_reason_code"]
        reason = f"{reason_code} {cds.discontinuation_reason_code[reason_code]}"
        if v.get("discontinuation_reason"):
            reason += f": {v['discontinuation_reason']}"
        if enrollment is not None:
            enrollment.refresh_from_db()
        if enrollment is not None and enrollment.ended_on is None:
            try:
                referral_services.enrollment_end(
                    actor=actor, enrollment=enrollment, ended_on=ended_on, reason=reason
                )
            except DomainError as exc:
                raise _refusal(exc, first, "discontinuation_date") from exc
            changes.append(f"Enrollment ended on {ended_on:%m/%d/%Y} ({reason_code})")
        elif enrollment is not None and enrollment.ended_on != ended_on:
            raise _RowRefused(
                CsprtfError(
                    first.number,
                    "discontinuation_date",
                    first.raw["discontinuation_date"],
                    f"cshub has this enrollment ended on {enrollment.ended_on:%m/%d/%Y}. Report that date, "
                    "or ask the plan to correct it.",
                    "enrollment_differs",
                )
            )
    return changes


def apply_reading(
    reading: Reading, *, actor: Any, organization: Any
) -> tuple[dict[int, list[str]], list[CsprtfError]]:
    """Apply every member and Community Support whose rows have no error, each in its own savepoint so a
    refusal undoes that group's part only. Run it inside the caller's transaction; the caller decides
    whether the file stands (`Layout.independent_rows`). Returns the changes by first row, and refusals."""
    from django.db import transaction

    bad = reading.error_rows
    ready = [
        g
        for g in groups_of(reading.rows)
        if g[0].referral is not None and not any(r.number in bad for r in g)
    ]
    state = _load_state([g[0] for g in ready], organization)
    changes: dict[int, list[str]] = {}
    refusals: list[CsprtfError] = []
    for group in ready:
        try:
            with transaction.atomic():
                changes[group[0].number] = _apply_group(
                    group,
                    actor=actor,
                    state=state,
                    period_start=reading.period_start,
                    organization=organization,
                )
        except _RowRefused as refused:
            refusals.append(refused.error)
    return changes, refusals


# --- The service: one CSPRTF in, through every door -----------------------------------------------------

CHANNELS = ("web", "api", "sftp", "command")
SERVICE_ACCOUNT_ROLE = "cs_program_manager"


@dataclass
class CsprtfResult:
    """What became of a file: its `ExchangeFile` (None when it could not be read far enough to know its plan
    and month), whether it was the same file again, a message, the problems, and the answer for the
    provider's SFTP outbox (`replies`: an error file, or a note that it was applied)."""

    exchange_file: Any
    duplicate: bool
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    replies: list[tuple[str, bytes]] = field(default_factory=list)
    changes: dict[int, list[str]] = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return self.exchange_file is not None and self.exchange_file.status == "applied"


def exchange_actor(organization: Any) -> Any:
    """Who applies a file that came without a person (SFTP, the command): the organization's "SFTP file
    exchange" service account, made on first use with the CS Program Manager role so the referral services'
    rules apply unchanged. It has no password and no API key, so nobody logs in as it; the referral history
    names it."""
    from cshub.accounts.models import User, UserRole

    user, created = User.objects.get_or_create(
        email=f"exchange-{organization.uuid.hex[:12]}@exchange.cshub.local",
        defaults={
            "organization": organization,
            "full_name": f"SFTP file exchange ({organization.name})"[:200],
            "is_service_account": True,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        UserRole.objects.create(user=user, role=SERVICE_ACCOUNT_ROLE)
    return user


def reply_names(name: str) -> tuple[str, str]:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.errors.csv", f"{stem}.accepted.txt"


def _acceptance_note(exchange_file: Any, changes: dict[int, list[str]], groups: int) -> bytes:
    lines = [
        f"{exchange_file.file_name} was applied on "
        f"{clock.local(exchange_file.applied_at):%m/%d/%Y %H:%M} Pacific.",
        f"Plan: {exchange_file.plan.name}; reporting period: {exchange_file.period_start:%B %Y}.",
        f"{exchange_file.rows} rows, {groups} members and Community Supports; "
        f"{sum(1 for c in changes.values() if c)} changed something in cshub, the others were already so.",
    ]
    if exchange_file.corrects_id:
        lines.append(f"It corrects {exchange_file.corrects.file_name}, applied before for the same month.")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _summary(status: str, name: str, errors: int, changed: int, rows: int) -> str:
    if status == "applied":
        return f"{name}: applied; {rows} rows, {changed} with changes."
    noun = "problem" if errors == 1 else "problems"
    return f"{name}: {errors} {noun}; nothing was applied. See the error file."


def _record(reading: Reading, exchange_file: Any, changes: dict[int, list[str]]) -> None:
    from cshub.exchange.models import CsprtfRecord

    cds = codes()
    records = []
    for group in groups_of(reading.rows):
        group_changes = changes.get(group[0].number, [])
        for i, row in enumerate(group):
            v = row.values
            records.append(
                CsprtfRecord(
                    exchange_file=exchange_file,
                    row=row.number,
                    member=row.member,
                    service_id=row.code.service_id,
                    code=row.code,
                    referral=row.referral,
                    cs_status=v["cs_status"],
                    referral_status=cds.referral_status.get(v.get("referral_status") or "", ""),
                    service_start=v.get("service_start_date"),
                    service_end=v.get("service_end_date"),
                    units=v.get("service_units"),
                    outreach_date=v.get("outreach_date"),
                    outreach_method=cds.outreach_method.get(v.get("outreach_method") or "", ""),
                    new_address=bool(v.get("new_address_indicator")),
                    homeless=v.get("homelessness_indicator"),
                    address=v.get("residential_address") or "",
                    city=v.get("residential_city") or "",
                    state=(v.get("residential_state") or "").upper(),
                    zip_code=v.get("residential_zip") or "",
                    new_phone=bool(v.get("new_phone_indicator")),
                    phone=v.get("member_phone") or "",
                    values=row.raw,
                    changes=group_changes if i == 0 else [],
                )
            )
    CsprtfRecord.objects.bulk_create(records, batch_size=1000)


def _deliver(organization: Any, exchange_file: Any, replies: list[tuple[str, bytes]]) -> None:
    """Put the answer in the provider's SFTP outbox (after the commit: a rolled-back file answers nothing)."""
    from cshub.exchange import folders
    from cshub.exchange.models import ExchangeFile

    for reply_name, reply_data in replies:
        path = folders.outbox_put(organization, reply_name, reply_data)
        if exchange_file is not None:
            relative = folders.relative_to_folder(organization, path)
            ExchangeFile.objects.filter(pk=exchange_file.pk).update(outbox_path=relative)
            exchange_file.outbox_path = relative


def csprtf_ingest(
    *,
    actor: Any,
    data: bytes,
    name: str,
    channel: str,
    organization: Any,
    inbox_file: Any = None,
    deliver: bool = True,
) -> CsprtfResult:
    """Take in one CSPRTF sent by `organization` through `channel` (web, api, sftp, command), rules D2, O4.

    The same bytes from the same provider again: the first answer, and nothing changes. Otherwise, in one
    transaction holding the provider's row lock (one CSPRTF at a time per provider, so two files cannot
    both record the same outreach attempt): read and check the file (`read_csprtf`); when it can be read
    to a plan and a month, apply it through the referral services (`apply_reading`) and keep it as an
    `ExchangeFile` with its errors, its error file and a `CsprtfRecord` per row. A file with any problem
    applies nothing (the layout's rows are not independent): every change is rolled back and the error file
    lists every problem. A second file for a month already applied is a correction: it is applied the same
    way (what cshub already holds changes nothing) and points at the file it corrects. The answer (the
    error file, or a note that it was applied) goes to the provider's SFTP outbox after the commit when
    `deliver`; the SFTP door passes deliver=False and writes `replies` itself.

    Raises DomainError only when there is nothing to read (empty, too large) or the actor may not send it.
    """
    from django.core.files.base import ContentFile
    from django.db import transaction

    from cshub.accounts.models import Organization
    from cshub.core.audit import audit_record
    from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
    from cshub.exchange import permissions
    from cshub.exchange.models import ExchangeFile

    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is not None and (
        not permissions.can_send_csprtf(user) or user.organization_id != organization.pk
    ):
        raise PermissionDeniedError(
            "A provider's CSPRTF is sent by its CEO, COO, CS Program Director or CS Program Manager "
            "(rule D4)."
        )
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "csprtf.txt"
    if not data:
        raise DomainError("The file is empty.", errors=[FieldError("file", f"{name} is empty.", "empty")])
    limit = int(settings.CSHUB_MAX_UPLOAD_BYTES)
    if len(data) > limit:
        raise DomainError(
            "The file is too large.",
            errors=[
                FieldError("file", f"{name} is {len(data):,} bytes; the limit is {limit:,}.", "too_large")
            ],
        )
    sha256 = hashlib.sha256(data).hexdigest()

    def same_file() -> CsprtfResult | None:
        earlier = (
            ExchangeFile.objects.filter(
                kind=ExchangeFile.Kind.CSPRTF, organization=organization, sha256=sha256
            )
            .select_related("plan", "organization")
            .order_by("created_at")
            .first()
        )
        if earlier is None:
            return None
        return CsprtfResult(
            exchange_file=earlier,
            duplicate=True,
            message=(
                f"This exact file was received on {clock.local(earlier.created_at):%m/%d/%Y %H:%M} as "
                f"{earlier.file_name} ({earlier.get_status_display().lower()}); nothing changed. "
                "To send it again, correct it: a corrected file is a new file."
            ),
            errors=list(earlier.errors),
            error_count=earlier.error_count,
        )

    found = same_file()
    if found is not None:
        return found
    service_actor = user or exchange_actor(organization)
    lay = layout()
    errors_name, accepted_name = reply_names(name)
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        found = same_file()
        if found is not None:
            return found
        reading = read_csprtf(data, organization=organization, name=name)
        if reading.plan is None or reading.period_start is None or reading.production_date is None:
            # Not readable as a CSPRTF of a plan and a month: answered, not recorded as one.
            errors = reading.errors or [
                CsprtfError(1, "plan_code", "", "The plan, reporting period or production date is missing.")
            ]
            audit_record(
                actor=actor,
                action="import",
                object_type="exchange_file",
                object_id=sha256[:64],
                detail={"kind": "csprtf", "file_name": name, "status": "unreadable", "errors": len(errors)},
            )
            result = CsprtfResult(
                exchange_file=None,
                duplicate=False,
                message=_summary("rejected", name, len(errors), 0, reading.row_count),
                errors=[e.as_dict() for e in errors[:MAX_ERRORS]],
                error_count=len(errors),
                replies=[(errors_name, error_file(errors[:MAX_ERRORS], total=len(errors)))],
            )
            if deliver:
                transaction.on_commit(lambda: _deliver(organization, None, result.replies))
            return result
        errors = list(reading.errors)
        changes: dict[int, list[str]] = {}
        file_level = reading.late or any(e.row == 0 or e.code == "sender" for e in errors)
        if not file_level:
            savepoint = transaction.savepoint()
            changes, refusals = apply_reading(reading, actor=service_actor, organization=organization)
            errors += refusals
            if errors and not lay.independent_rows:
                transaction.savepoint_rollback(savepoint)
                changes = {}
            else:
                transaction.savepoint_commit(savepoint)
        errors.sort(key=lambda e: (e.row, _field_order(e.field)))
        now = clock.now()
        status = ExchangeFile.Status.APPLIED if not errors else ExchangeFile.Status.REJECTED
        if errors and changes and lay.independent_rows:
            status = ExchangeFile.Status.PARTIALLY_APPLIED
        previous = None
        if status != ExchangeFile.Status.REJECTED:
            previous = (
                ExchangeFile.objects.filter(
                    kind=ExchangeFile.Kind.CSPRTF,
                    organization=organization,
                    plan=reading.plan,
                    period_start=reading.period_start,
                    status__in=[ExchangeFile.Status.APPLIED, ExchangeFile.Status.PARTIALLY_APPLIED],
                )
                .order_by("-applied_at", "-id")
                .first()
            )
        changed = sum(1 for c in changes.values() if c)
        exchange_file = ExchangeFile(
            kind=ExchangeFile.Kind.CSPRTF,
            direction=ExchangeFile.Direction.IN,
            plan=reading.plan,
            organization=organization,
            production_date=reading.production_date,
            period_start=reading.period_start,
            period_end=reading.period_end,
            file_name=name,
            sha256=sha256,
            size=len(data),
            rows=reading.row_count,
            error_rows=len({e.row for e in errors if e.row}),
            status=status,
            message=_summary(status, name, len(errors), changed, reading.row_count),
            inbox_file=inbox_file,
            layout_key=lay.key,
            channel=channel,
            errors=[e.as_dict() for e in errors[:MAX_ERRORS]],
            error_count=len(errors),
            applied_at=now if status != ExchangeFile.Status.REJECTED else None,
            corrects=previous,
            created_by=user,
        )
        if errors and reading.late:
            exchange_file.message = f"{name}: {errors[0].message}"
        exchange_file.file.save(name, ContentFile(data), save=False)
        replies: list[tuple[str, bytes]] = []
        if errors:
            body = error_file(errors[:MAX_ERRORS], total=len(errors))
            exchange_file.error_file.save(errors_name, ContentFile(body), save=False)
            replies.append((errors_name, body))
        exchange_file.save()
        if status != ExchangeFile.Status.REJECTED:
            _record(reading, exchange_file, changes)
            replies.append((accepted_name, _acceptance_note(exchange_file, changes, len(changes))))
        audit_record(
            actor=actor,
            action="import",
            object_type="exchange_file",
            object_id=exchange_file.uuid,
            member_ids=sorted({str(r.member.uuid) for r in reading.rows if r.member is not None and changes}),
            detail={
                "kind": "csprtf",
                "file_name": name,
                "channel": channel,
                "plan": reading.plan.plan_code,
                "period": f"{reading.period_start:%Y-%m}",
                "rows": reading.row_count,
                "status": status,
                "errors": len(errors),
                "changed": changed,
                "corrects": str(previous.uuid) if previous else None,
            },
        )
        result = CsprtfResult(
            exchange_file=exchange_file,
            duplicate=False,
            message=exchange_file.message,
            errors=exchange_file.errors,
            error_count=len(errors),
            replies=replies,
            changes=changes,
        )
        if deliver:
            transaction.on_commit(lambda: _deliver(organization, exchange_file, replies))
        return result


def inbox_handler(organization: Any, filename: str, data: bytes) -> Any:
    """The SFTP door (cshub.exchange.inbox): a file named like a CSPRTF, or whose first line holds its
    column names, is taken in as one; the error file or the note that it was applied goes to the same
    organization's outbox (the inbox writes `replies` once the file is committed)."""
    if not looks_like_csprtf(filename, data):
        return None
    from cshub.exchange.inbox import InboxOutcome

    result = csprtf_ingest(
        actor=None, data=data, name=filename, channel="sftp", organization=organization, deliver=False
    )
    return InboxOutcome(message=result.message, replies=result.replies)


inbox_handler.accepts = "CSPRTF return files (CSPRTF_<plan>_<NPI>_<CCYYMM>_<CCYYMMDD>.txt, rule D2)"  # type: ignore[attr-defined]


def npi_in(data: bytes) -> str:
    """Row 1's CS Provider NPI, read loosely (the command's guess at the sender); '' when there is none."""
    lay = layout()
    try:
        lines = data.decode("utf-8-sig", "replace").splitlines()
        cells = next(csv.reader(lines[1:2], delimiter=lay.delimiter))
        return cells[lay.names.index("provider_npi")].strip()
    except (StopIteration, IndexError, ValueError, csv.Error):
        return ""
