"""De-identification by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), rule D5.

The extracts keep none of the 18 identifiers of the individual (names; geographic subdivisions smaller
than a state; dates other than the year; phone and fax numbers; email addresses; SSNs; medical record,
health plan beneficiary (the Medi-Cal CIN, the plan member id) and account numbers; certificate and
license numbers; vehicle and device identifiers; URLs; IP addresses; biometric identifiers; photographs;
any other unique number, characteristic or code, such as a referral, authorization or claim number).
What is kept is transformed here:

* a ZIP code becomes its first three digits, or ``000`` when those three digits are a restricted
  three-digit ZIP (20,000 people or fewer, `cshub/data/safe_harbor_restricted_zip3.csv`, from HHS's
  guidance on the 2000 Census);
* a date becomes its year;
* an age over 89 becomes ``90+``;
* each row gets a random id, new on every extract, derived from nothing (it links no two extracts and
  leads back to no member).

Counties are geographic subdivisions smaller than a state, so they are never in an extract.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from functools import cache

from cshub.core.reference import read_data_csv

RESTRICTED_ZIP3_FILE = "safe_harbor_restricted_zip3.csv"
MASKED_ZIP3 = "000"
OLDEST_AGE_SHOWN = 89
OLDEST_AGE_LABEL = "90+"

METHOD_NOTE = (
    "De-identified by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), rule D5: the 18 identifiers "
    "removed; dates reduced to the year; ZIP codes to their first 3 digits, 000 for the three-digit ZIPs "
    "of 20,000 people or fewer (HHS list, 2000 Census); ages over 89 as 90+; row_id is random and new on "
    "every extract."
)

_ZIP_RE = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")


@cache
def restricted_zip3() -> frozenset[str]:
    """The three-digit ZIPs released as 000 (the data file names its source)."""
    return frozenset(row["zip3"].strip() for row in read_data_csv(RESTRICTED_ZIP3_FILE))


def zip3(zip_code: str | None) -> str:
    """A US ZIP (or ZIP+4) as its first three digits, ``000`` when restricted; ``""`` when not a ZIP."""
    match = _ZIP_RE.match(zip_code or "")
    if not match:
        return ""
    first3 = match[1][:3]
    return MASKED_ZIP3 if first3 in restricted_zip3() else first3


def year(value: date | datetime | None) -> str:
    """A date (or an instant, already in Pacific time or UTC) as its year only."""
    return "" if value is None else str(value.year)


def age(date_of_birth: date | None, on: date | None) -> str:
    """Age in whole years on a day, ``90+`` above 89; ``""`` when either date is missing."""
    if date_of_birth is None or on is None:
        return ""
    years = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    if years < 0:
        return ""
    return OLDEST_AGE_LABEL if years > OLDEST_AGE_SHOWN else str(years)


def row_id() -> str:
    """A random 128-bit row id: derived from nothing, so it cannot be linked to a member or another
    extract."""
    return secrets.token_hex(16)


def days_between(start: datetime | date | None, end: datetime | date | None) -> str:
    """Whole days from one event to another (an interval, not a date); ``""`` when either is missing."""
    if start is None or end is None:
        return ""
    return str(max((end - start).days, 0))
