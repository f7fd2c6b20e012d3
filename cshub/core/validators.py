"""Identifier checks shared by every app: NPI, TIN, Medi-Cal CIN, ZIP, phone."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_NPI_PREFIX = (
    "80840"  # ISO card issuer prefix the NPI check digit is computed with (CMS NPI check digit rule)
)


def npi_is_valid(value: str) -> bool:
    """CMS rule: 10 digits; the last is a Luhn check digit over the prefix 80840 + the first nine digits."""
    if not re.fullmatch(r"\d{10}", value or ""):
        return False
    digits = _NPI_PREFIX + value[:9]
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # rightmost digit of the payload is doubled (the check digit is not in `digits`)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(value[9])


def npi_with_check_digit(first_nine: str) -> str:
    """Complete a 9-digit NPI stem with its check digit (used by the synthetic data generator)."""
    for d in "0123456789":
        if npi_is_valid(first_nine + d):
            return first_nine + d
    raise ValueError(first_nine)


def validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(
            "Enter a 10-digit NPI whose last digit is its check digit (CMS Luhn rule).", code="npi"
        )


def normalize_tin(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_tin(value: str) -> None:
    """A TIN (EIN or SSN) is nine digits; 00-0000000 style placeholders are refused."""
    digits = normalize_tin(value)
    if not re.fullmatch(r"\d{9}", digits) or digits == "0" * 9:
        raise ValidationError("Enter a 9-digit Tax ID Number (for example 12-3456789).", code="tin")


CIN_PATTERN = re.compile(r"^\d{8}[A-Z]$")


def validate_cin(value: str) -> None:
    """Medi-Cal Client Index Number: eight digits and a check letter (DHCS CIN format)."""
    if not CIN_PATTERN.match(value or ""):
        raise ValidationError(
            "A Medi-Cal CIN is 8 digits followed by a letter, for example 91234567A.", code="cin"
        )


def validate_zip(value: str) -> None:
    if not re.fullmatch(r"\d{5}(-\d{4})?", value or ""):
        raise ValidationError("Enter a 5-digit ZIP code.", code="zip")


def normalize_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def validate_phone(value: str) -> None:
    if len(normalize_phone(value)) != 10:
        raise ValidationError("Enter a 10-digit US phone number.", code="phone")
