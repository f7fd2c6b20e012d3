"""ICD-10-CM codes (SDOH needs, rule M2; authorization diagnoses, rule A3), checked against the installed
code set (`simple_icd_10_cm`, imported lazily: parsing it takes a few seconds). A code is accepted with or
without its dot, in any case (`z5901`, `Z59.01`), and stored with the dot; it must be in the code set and
billable (a leaf: a category is refused with the codes under it named)."""

from __future__ import annotations

import re
from typing import Any

from cshub.core.errors import DomainError, FieldError

CODE_RE = re.compile(r"^[A-Z]\d{2}[A-Z0-9]{0,4}$")
CHILDREN_NAMED = 8


def code_set() -> Any:
    import simple_icd_10_cm as cm  # lazy: parsing the code set takes seconds

    return cm


def normalize_code(raw: str) -> str:
    """'z5901 ' -> 'Z59.01'; 'Z59' stays 'Z59'. Does not check the code."""
    code = re.sub(r"[\s.]", "", raw or "").upper()
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def format_problem(code: str, raw: str) -> str | None:
    """What is wrong with the shape of a normalized code, or None."""
    if not code:
        return "Enter an ICD-10-CM code, for example Z59.01."
    if not CODE_RE.match(code.replace(".", "")):
        return f"{raw.strip()[:20]} is not an ICD-10-CM code."
    return None


def billable_code_check(code: str, *, field: str, message: str, error_code: str) -> tuple[str, str]:
    """(code, description) for a normalized code that is in the code set and billable; DomainError with
    `message` and one field error otherwise."""
    cm = code_set()
    if not cm.is_valid_item(code):
        problem, kind = f"{code} is not in the ICD-10-CM code set.", "icd10_unknown"
    elif not cm.is_leaf(code):
        leaves = [c for c in cm.get_descendants(code) if cm.is_leaf(c)]
        named = ", ".join(leaves[:CHILDREN_NAMED]) + (", …" if len(leaves) > CHILDREN_NAMED else "")
        problem = f"{code} is a category, not a billable code; use a more specific code: {named}."
        kind = "icd10_leaf"
    else:
        return code, cm.get_description(code)
    raise DomainError(message, code=error_code, errors=[FieldError(field, problem, kind)])


def diagnosis_code_check(raw: str, *, field: str, error_code: str) -> tuple[str, str]:
    """Any billable ICD-10-CM code: (code with dot, description), or DomainError naming the field."""
    code = normalize_code(raw)
    problem = format_problem(code, raw)
    if problem:
        raise DomainError(
            "The diagnosis code is not valid.",
            code=error_code,
            errors=[FieldError(field, problem, "required" if not code else "icd10_format")],
        )
    return billable_code_check(
        code, field=field, message="The diagnosis code is not valid.", error_code=error_code
    )
