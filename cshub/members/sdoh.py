"""SDOH needs as ICD-10-CM Z codes (rule M2). Reads only: the accepted ranges come from
`cshub/data/sdoh_z_codes.toml` (CMS ICD-10-CM guidelines, chapter 21: categories Z55-Z65), the codes and
their descriptions from the installed ICD-10-CM code set (`simple_icd_10_cm`, imported lazily: loading it
takes a few seconds).

A code is accepted with or without its dot, in any case (`z5901`, `Z59.01`) and stored with the dot. It must
be in an accepted range, in the code set, and billable (a leaf: `Z59.0` is a subcategory, so it is refused
with the codes under it named).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cshub.core import icd10
from cshub.core.errors import DomainError, FieldError
from cshub.core.reference import DATA_DIR
from cshub.members.errors import SDOH_CODE_INVALID

SDOH_CODES_FILE = DATA_DIR / "sdoh_z_codes.toml"
CODE_RE = icd10.CODE_RE


@dataclass(frozen=True)
class CodeRange:
    first: str
    last: str
    label: str

    def contains(self, code: str) -> bool:
        return self.first <= code[:3] <= self.last


@dataclass(frozen=True)
class SdohRanges:
    ranges: tuple[CodeRange, ...]
    source: dict[str, Any]

    @property
    def label(self) -> str:
        """'Z55-Z65' with an en dash, or several ranges joined."""
        return ", ".join(
            f"{r.first}\N{EN DASH}{r.last}" if r.first != r.last else r.first for r in self.ranges
        )

    def contains(self, code: str) -> bool:
        return any(r.contains(code) for r in self.ranges)


def read_ranges(path: Path = SDOH_CODES_FILE) -> SdohRanges:
    """The accepted ranges; DomainError naming the file and field when the file is malformed."""

    def fail(field: str, message: str) -> DomainError:
        return DomainError(
            "The SDOH code ranges file is not valid.", errors=[FieldError(f"{path.name}:{field}", message)]
        )

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise fail("file", str(exc)) from exc
    source = raw.get("source")
    if not isinstance(source, dict) or not source.get("title") or not source.get("confidence"):
        raise fail("source", "[source] needs a title and a confidence")
    ranges = []
    for i, item in enumerate(raw.get("ranges", [])):
        first, last = item.get("first", ""), item.get("last", "")
        if not (re.fullmatch(r"[A-Z]\d{2}", first) and re.fullmatch(r"[A-Z]\d{2}", last) and first <= last):
            raise fail(f"ranges[{i}]", "first and last are three-character categories, first <= last")
        ranges.append(CodeRange(first=first, last=last, label=str(item.get("label", ""))))
    if not ranges:
        raise fail("ranges", "at least one range")
    return SdohRanges(ranges=tuple(ranges), source=source)


@functools.cache
def sdoh_ranges() -> SdohRanges:
    return read_ranges()


def _cm() -> Any:
    return icd10.code_set()


normalize_code = icd10.normalize_code


def _invalid(field: str, message: str, code: str) -> DomainError:
    return DomainError(
        "The SDOH code is not valid.", code=SDOH_CODE_INVALID, errors=[FieldError(field, message, code)]
    )


def sdoh_code_check(raw: str, *, field: str = "code") -> tuple[str, str]:
    """(code with dot, description from the code set) for an accepted SDOH code; DomainError otherwise."""
    ranges = sdoh_ranges()
    code = normalize_code(raw)
    if not code:
        raise _invalid(field, "Enter an ICD-10-CM Z code, for example Z59.01.", "required")
    if problem := icd10.format_problem(code, raw):
        raise _invalid(field, problem, "icd10_format")
    if not ranges.contains(code):
        raise _invalid(
            field, f"{code} is not a social determinants of health code ({ranges.label}).", "sdoh_range"
        )
    return icd10.billable_code_check(
        code, field=field, message="The SDOH code is not valid.", error_code=SDOH_CODE_INVALID
    )


@functools.cache
def sdoh_codes() -> tuple[tuple[str, str], ...]:
    """Every accepted (billable) SDOH code with its description, in code order."""
    cm = _cm()
    ranges = sdoh_ranges()
    found = []
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_leaf(code) and not cm.is_chapter_or_block(code) and ranges.contains(code):
            found.append((code, cm.get_description(code)))
    return tuple(sorted(found))


def sdoh_code_search(query: str, *, limit: int = 20) -> list[tuple[str, str]]:
    """Accepted codes whose code starts with, or whose description contains, the query (for the lookup)."""
    q = (query or "").strip()
    if not q:
        return []
    code_q = normalize_code(q)
    words = q.lower().split()
    found = [
        (code, description)
        for code, description in sdoh_codes()
        if code.startswith(code_q) or all(w in description.lower() for w in words)
    ]
    return found[:limit]
