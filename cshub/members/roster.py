"""The plan eligibility roster file: its columns and row-by-row validation (issue item 6; rule A1 needs the
eligibility spans and other care coordination programs it carries). This module only reads reference data;
`services.roster_import` writes. Columns are documented in cshub/members/README.md.

Row numbers are 1-based data rows (row 1 is the first line after the header); row 0 is the header or the
file as a whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.core import clock
from cshub.core.errors import FieldError
from cshub.core.models import County
from cshub.core.reference import read_data_csv
from cshub.core.validators import CIN_PATTERN, normalize_phone, npi_is_valid
from cshub.members.models import EligibilitySpan, Member

REQUIRED_COLUMNS: tuple[str, ...] = (
    "cin",
    "plan_member_id",
    "last_name",
    "first_name",
    "date_of_birth",
    "sex",
    "preferred_language",
    "address_line",
    "city",
    "zip_code",
    "county",
    "phone",
    "email",
    "contact_preference",
    "is_homeless",
    "line_of_business",
    "eligibility_start",
    "eligibility_end",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "ecm_provider_npi",
    "ecm_start",
    "ecm_end",
    "program",
    "program_start",
    "program_end",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Member fields a roster sets, in the order of `MemberRecord.values`; the column each comes from.
MEMBER_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "preferred_language",
    "address_line",
    "city",
    "zip_code",
    "county_id",
    "is_homeless",
    "phone",
    "email",
    "contact_preference",
)
FIELD_COLUMN = {f: ("county" if f == "county_id" else f) for f in MEMBER_FIELDS}

# ECM providers, and CS providers (accounts.roles: many CS providers also provide ECM), may hold an ECM
# assignment.
ECM_CAPABLE_KINDS = (OrganizationKind.ECM_PROVIDER, OrganizationKind.CS_PROVIDER)
MAX_ERRORS_KEPT = 100_000  # beyond this only the count grows (the report says so)
DEFAULT_MAX_ROWS = 2_000_000
EARLIEST_BIRTH = date(1900, 1, 1)

_ZIP = re.compile(r"\d{5}(-\d{4})?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0", ""}
_email_validator = EmailValidator()


@cache
def language_names() -> dict[str, str]:
    """Language code -> name, from cshub/data/languages.csv."""
    return {r["code"]: r["name"] for r in read_data_csv("languages.csv")}


@cache
def program_names() -> dict[str, str]:
    """Program code -> name, from cshub/data/care_coordination_programs.csv (rule A1)."""
    return {r["code"]: r["name"] for r in read_data_csv("care_coordination_programs.csv")}


def max_rows() -> int:
    """The largest roster accepted, `CSHUB_ROSTER_MAX_ROWS` (default 2,000,000)."""
    return int(getattr(settings, "CSHUB_ROSTER_MAX_ROWS", DEFAULT_MAX_ROWS))


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    value: str
    message: str
    code: str = "invalid"

    def as_field_error(self) -> FieldError:
        return FieldError(field=self.field, message=self.message, code=self.code, row=self.row)

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "field": self.field,
            "value": self.value,
            "message": self.message,
            "code": self.code,
        }


@dataclass(slots=True)
class MemberRecord:
    """Everything the file says about one CIN (a member may have several rows: spans, programs)."""

    row: int
    cin: str
    values: tuple[object, ...]  # MEMBER_FIELDS order
    spans: dict[date, tuple[str, str, date | None, int]] = field(
        default_factory=dict
    )  # start: pmid, lob, end, row
    ecm: dict[tuple[str, date], tuple[date | None, int]] = field(
        default_factory=dict
    )  # (npi, start): end, row
    programs: dict[tuple[str, date], tuple[date | None, int]] = field(default_factory=dict)

    def member_fields(self) -> dict[str, object]:
        return dict(zip(MEMBER_FIELDS, self.values, strict=True))


@dataclass
class ParsedRoster:
    row_count: int = 0
    members: dict[str, MemberRecord] = field(default_factory=dict)
    ecm_providers: dict[str, int] = field(default_factory=dict)  # NPI -> organization id
    errors: list[RowError] = field(default_factory=list)
    error_total: int = 0

    def error(self, row: int, field_name: str, value: str, message: str, code: str = "invalid") -> None:
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(row, field_name, value[:200], message, code))


def parse_roster(content: bytes) -> ParsedRoster:
    """Read and validate every row and field; never raises on bad input, it reports it."""
    result = ParsedRoster()
    text = _decode(content, result)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.error(0, "file", "", f"The header line cannot be read as CSV: {exc}.", "not_csv")
        return result
    header = [h.strip().lower() for h in header or []]
    if not _check_header(header, result):
        return result
    checker = _RowChecker(result)
    limit = max_rows()
    rowno = 0
    try:
        for rowno, record in enumerate(reader, start=1):
            if not record or all(not v.strip() for v in record):
                continue  # a blank line is not a row
            result.row_count += 1
            if result.row_count > limit:
                result.error(0, "file", "", f"The file has more than {limit:,} rows.", "too_many_rows")
                return result
            if len(record) != len(header):
                result.error(
                    rowno,
                    "row",
                    ",".join(record),
                    f"The row has {len(record)} values; the header has {len(header)}.",
                    "row_length",
                )
                continue
            checker.check(rowno, {h: v.strip() for h, v in zip(header, record, strict=True)})
    except csv.Error as exc:
        result.error(rowno + 1, "row", "", f"The row cannot be read as CSV: {exc}.", "not_csv")
        return result
    if result.row_count == 0:
        result.error(0, "file", "", "The file has a header but no member rows.", "empty")
    checker.resolve_ecm_providers()
    return result


def _decode(content: bytes, result: ParsedRoster) -> str | None:
    if not content or not content.strip():
        result.error(0, "file", "", "The file is empty.", "empty")
        return None
    if b"\x00" in content[:65536]:
        result.error(0, "file", "", "This is not a CSV text file (it contains binary data).", "not_csv")
        return None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.error(
            0,
            "file",
            "",
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as CSV UTF-8.",
            "encoding",
        )
        return None


def _check_header(header: list[str], result: ParsedRoster) -> bool:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            result.error(0, name, name, f"The column {name!r} appears twice.", "duplicate_column")
        seen.add(name)
        if name not in COLUMNS:
            result.error(0, name, name, f"Unknown column {name!r}.", "unknown_column")
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            result.error(0, name, "", f"The required column {name!r} is missing.", "missing_column")
    return result.error_total == 0


def _parse_date(value: str) -> date:
    if len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    m = _US_DATE.fullmatch(value)
    if m is None:
        raise ValueError(value)
    return date(int(m[3]), int(m[1]), int(m[2]))


class _RowChecker:
    """Validates rows against the reference data (languages, programs, counties, ECM providers)."""

    def __init__(self, result: ParsedRoster) -> None:
        self.result = result
        self.today = clock.today()
        self.languages: dict[str, str] = {}
        for code, name in language_names().items():
            self.languages[code.lower()] = code
            self.languages[name.lower()] = code
        self.programs = {code.lower(): code for code in program_names()}
        self.counties = {name.lower(): pk for pk, name in County.objects.values_list("pk", "name")}
        self.sexes = {c.value for c in Member.Sex}
        self.contact_prefs = {c.value for c in Member.ContactPreference}
        self.lines_of_business = {c.value for c in EligibilitySpan.LineOfBusiness}
        self.npi_rows: dict[str, list[int]] = {}

    def error(self, row: int, name: str, value: str, message: str, code: str = "invalid") -> None:
        self.result.error(row, name, value, message, code)

    def date(self, row: int, r: dict[str, str], name: str, *, required: bool = False) -> date | None:
        value = r.get(name, "")
        if not value:
            if required:
                self.error(row, name, value, "Required.", "required")
            return None
        try:
            return _parse_date(value)
        except ValueError:
            self.error(row, name, value, "Not a date; use YYYY-MM-DD or MM/DD/YYYY.", "date")
            return None

    def text(self, row: int, r: dict[str, str], name: str, max_length: int, *, required: bool = False) -> str:
        value = r.get(name, "")
        if required and not value:
            self.error(row, name, value, "Required.", "required")
        elif len(value) > max_length:
            self.error(row, name, value, f"At most {max_length} characters.", "too_long")
        return value

    def choice(self, row: int, r: dict[str, str], name: str, allowed: Iterable[str], default: str) -> str:
        value = r.get(name, "")
        if not value:
            return default
        key = value.lower() if name != "sex" else value.upper()
        if key not in allowed:
            self.error(row, name, value, f"Use one of: {', '.join(sorted(allowed))}.", "choice")
        return key

    def check(self, row: int, r: dict[str, str]) -> None:
        before = self.result.error_total
        cin = r["cin"].upper()
        if not cin:
            self.error(row, "cin", "", "Required.", "required")
        elif not CIN_PATTERN.match(cin):
            self.error(
                row, "cin", r["cin"], "A Medi-Cal CIN is 8 digits and a letter, e.g. 91234567A.", "cin"
            )
        plan_member_id = self.text(row, r, "plan_member_id", 30, required=True)
        last_name = self.text(row, r, "last_name", 100, required=True)
        first_name = self.text(row, r, "first_name", 100, required=True)
        dob = self.date(row, r, "date_of_birth", required=True)
        if dob is not None and not EARLIEST_BIRTH <= dob <= self.today:
            self.error(
                row, "date_of_birth", r["date_of_birth"], "Not a plausible date of birth.", "date_range"
            )
        sex = self.choice(row, r, "sex", self.sexes, Member.Sex.UNKNOWN)
        language = r["preferred_language"]
        language_code = self.languages.get(language.lower(), "") if language else "other"
        if not language_code:
            self.error(
                row, "preferred_language", language, "Not a code or name of languages.csv.", "language"
            )
        address_line = self.text(row, r, "address_line", 200)
        city = self.text(row, r, "city", 100)
        zip_code = r["zip_code"]
        if zip_code and not _ZIP.fullmatch(zip_code):
            self.error(row, "zip_code", zip_code, "Enter a 5-digit ZIP code (or ZIP+4).", "zip")
        county_id = self.counties.get(r["county"].lower()) if r["county"] else None
        if r["county"] and county_id is None:
            self.error(row, "county", r["county"], "Not a California county name.", "county")
        phone = normalize_phone(r["phone"]) if r["phone"] else ""
        if r["phone"] and len(phone) != 10:
            self.error(row, "phone", r["phone"], "Enter a 10-digit US phone number.", "phone")
        email = r["email"]
        if email:
            try:
                _email_validator(email)
            except ValidationError:
                self.error(row, "email", email, "Not an email address.", "email")
        contact = self.choice(
            row, r, "contact_preference", self.contact_prefs, Member.ContactPreference.PHONE
        )
        if contact == Member.ContactPreference.EMAIL and not email:
            self.error(row, "email", email, "Required when the contact preference is email.", "required")
        needs_phone = contact in (Member.ContactPreference.PHONE, Member.ContactPreference.TEXT)
        if needs_phone and r["contact_preference"] and not r["phone"]:
            self.error(row, "phone", "", f"Required when the contact preference is {contact}.", "required")
        homeless = r["is_homeless"].lower()
        if homeless not in _YES | _NO:
            self.error(row, "is_homeless", r["is_homeless"], "Use Y or N.", "choice")
        lob = self.choice(
            row, r, "line_of_business", self.lines_of_business, EligibilitySpan.LineOfBusiness.MEDI_CAL
        )
        start = self.date(row, r, "eligibility_start", required=True)
        end = self.date(row, r, "eligibility_end")
        self.order(row, r, start, end, "eligibility_end")

        npi = r.get("ecm_provider_npi", "")
        ecm_start = self.date(row, r, "ecm_start")
        ecm_end = self.date(row, r, "ecm_end")
        if npi:
            if not npi_is_valid(npi):
                self.error(row, "ecm_provider_npi", npi, "Not a valid 10-digit NPI.", "npi")
            else:
                rows = self.npi_rows.setdefault(npi, [])
                if len(rows) < MAX_ERRORS_KEPT:
                    rows.append(row)
            if ecm_start is None and not r.get("ecm_start"):
                self.error(row, "ecm_start", "", "Required with an ECM provider.", "required")
            self.order(row, r, ecm_start, ecm_end, "ecm_end")
        elif r.get("ecm_start") or r.get("ecm_end"):
            self.error(row, "ecm_provider_npi", "", "Required with ECM dates.", "required")

        program = r.get("program", "")
        program_code = self.programs.get(program.lower(), "") if program else ""
        program_start = self.date(row, r, "program_start")
        program_end = self.date(row, r, "program_end")
        if program:
            if not program_code:
                self.error(
                    row, "program", program, "Not a code of care_coordination_programs.csv.", "program"
                )
            if program_start is None and not r.get("program_start"):
                self.error(row, "program_start", "", "Required with a program.", "required")
            self.order(row, r, program_start, program_end, "program_end")
        elif r.get("program_start") or r.get("program_end"):
            self.error(row, "program", "", "Required with program dates.", "required")

        if self.result.error_total != before:
            return
        values = (
            first_name,
            last_name,
            dob,
            sex,
            language_code,
            address_line,
            city,
            zip_code,
            county_id,
            homeless in _YES,
            phone,
            email,
            contact,
        )
        merged = self.merge(row, r, cin, values, start, (plan_member_id, lob, end), npi, ecm_start, ecm_end)
        if merged and program_code:
            self.merge_program(row, r, cin, program_code, program_start, program_end)

    def order(self, row: int, r: dict[str, str], start: date | None, end: date | None, name: str) -> None:
        if start is not None and end is not None and end < start:
            self.error(row, name, r.get(name, ""), "The end date is before the start date.", "date_order")

    def merge(
        self,
        row: int,
        r: dict[str, str],
        cin: str,
        values: tuple[object, ...],
        start: date,
        span: tuple[str, str, date | None],
        npi: str,
        ecm_start: date | None,
        ecm_end: date | None,
    ) -> bool:
        """Add a valid row to its member; a CIN seen before must carry the same data (no conflicts)."""
        record = self.result.members.get(cin)
        if record is None:
            record = self.result.members[cin] = MemberRecord(row=row, cin=cin, values=values)
        elif record.values != values:
            i = next(i for i, (a, b) in enumerate(zip(record.values, values, strict=True)) if a != b)
            column = FIELD_COLUMN[MEMBER_FIELDS[i]]
            self.conflict(row, r, column, cin, record.row)
            return False
        known = record.spans.get(start)
        if known is None:
            record.spans[start] = (*span, row)
        elif known[:3] != span:
            column = ("plan_member_id", "line_of_business", "eligibility_end")[
                next(i for i in range(3) if known[i] != span[i])
            ]
            self.conflict(row, r, column, cin, known[3])
        if npi and ecm_start is not None:
            seen = record.ecm.get((npi, ecm_start))
            if seen is None:
                record.ecm[(npi, ecm_start)] = (ecm_end, row)
            elif seen[0] != ecm_end:
                self.conflict(row, r, "ecm_end", cin, seen[1])
        return True

    def merge_program(
        self, row: int, r: dict[str, str], cin: str, code: str, start: date | None, end: date | None
    ) -> None:
        record = self.result.members.get(cin)
        if record is None or start is None:
            return
        seen = record.programs.get((code, start))
        if seen is None:
            record.programs[(code, start)] = (end, row)
        elif seen[0] != end:
            self.conflict(row, r, "program_end", cin, seen[1])

    def conflict(self, row: int, r: dict[str, str], column: str, cin: str, first_row: int) -> None:
        self.error(
            row,
            column,
            r.get(column, ""),
            f"CIN {cin} is also on row {first_row} with a different {column}.",
            "duplicate_conflict",
        )

    def resolve_ecm_providers(self) -> None:
        """Each ECM NPI must name an active ECM-capable organization (one query per 2,000 NPIs)."""
        npis = list(self.npi_rows)
        found: dict[str, int] = {}
        for i in range(0, len(npis), 2000):
            found.update(
                Organization.objects.filter(
                    npi__in=npis[i : i + 2000], kind__in=ECM_CAPABLE_KINDS, is_active=True
                ).values_list("npi", "pk")
            )
        self.result.ecm_providers = found
        for npi, rows in self.npi_rows.items():
            if npi not in found:
                for row in rows:
                    self.error(
                        row,
                        "ecm_provider_npi",
                        npi,
                        "No active ECM-capable organization (ECM or CS provider) has this NPI.",
                        "ecm_provider",
                    )
