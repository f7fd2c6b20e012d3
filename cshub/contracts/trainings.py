"""The training catalog (rule N7), read straight from ``cshub/data/trainings.toml``.

Why the file and not a table: courses are reference data that change by a reviewed data change (DESIGN
principle 1), nothing in the product edits them, and reading the file means there is no load step to forget
on a deployment or in a test. Completions and attestations keep a course's stable ``key``; a course removed
from the file still shows on old completions under its key. The file is read once per process and validated
as a whole (``TrainingFileError`` names the first bad key; ``check_training_file`` reports it at start-up).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core import checks

from cshub.core.reference import DATA_DIR

TRAINING_FILE = DATA_DIR / "trainings.toml"
KINDS = ("onboarding", "ongoing")
FORMATS = {"live": "Live", "on_demand": "On demand", "in_person": "In person"}
CONFIDENCES = frozenset({"documented", "verify", "assumed"})


class TrainingFileError(ValueError):
    """The training catalog file is malformed."""


@dataclass(frozen=True)
class Course:
    key: str
    title: str
    description: str
    kind: str  # "onboarding" | "ongoing"
    formats: tuple[str, ...]
    required_for_contracting: bool
    every_months: int | None
    first_due_days: int | None
    source: str
    source_title: str
    confidence: str

    @property
    def is_onboarding(self) -> bool:
        return self.kind == "onboarding"

    @property
    def is_ongoing(self) -> bool:
        return self.kind == "ongoing"

    @property
    def formats_label(self) -> str:
        return ", ".join(FORMATS[f] for f in self.formats)

    @property
    def recurrence_label(self) -> str:
        if not self.every_months:
            return "once"
        if self.every_months == 12:
            return "every year"
        return f"every {self.every_months} months"


@dataclass(frozen=True)
class TrainingCatalog:
    version: str
    courses: tuple[Course, ...]

    def get(self, key: str) -> Course | None:
        return next((c for c in self.courses if c.key == key), None)

    @property
    def onboarding(self) -> tuple[Course, ...]:
        return tuple(c for c in self.courses if c.is_onboarding)

    @property
    def ongoing(self) -> tuple[Course, ...]:
        return tuple(c for c in self.courses if c.is_ongoing)

    @property
    def required_for_contracting(self) -> tuple[Course, ...]:
        return tuple(c for c in self.courses if c.required_for_contracting)

    def title(self, key: str) -> str:
        course = self.get(key)
        return course.title if course else f"{key} (no longer in the catalog)"


@functools.cache
def training_catalog() -> TrainingCatalog:
    """The catalog, read and validated once per process."""
    return read_training_file()


def check_training_file(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Django system check: the training catalog is validated at start-up."""
    training_catalog.cache_clear()
    try:
        training_catalog()
    except TrainingFileError as exc:
        return [
            checks.Error(
                str(exc),
                hint="Fix cshub/data/trainings.toml; contracts cannot be executed without it (N7).",
                id="contracts.E001",
            )
        ]
    return []


def read_training_file(path: Path | None = None) -> TrainingCatalog:
    path = path or TRAINING_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TrainingFileError(f"{path.name}: {exc}") from exc
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise TrainingFileError(f"{path.name}: 'version' is required")
    sources = raw.get("sources") or {}
    courses: list[Course] = []
    seen: set[str] = set()
    for i, item in enumerate(raw.get("course") or [], start=1):
        course = _course(item, sources, where=f"{path.name} course {i}")
        if course.key in seen:
            raise TrainingFileError(f"{path.name}: course key '{course.key}' appears twice")
        seen.add(course.key)
        courses.append(course)
    if not any(c.required_for_contracting for c in courses):
        # Rule N7: an attestation of the onboarding training is required before contracting.
        raise TrainingFileError(f"{path.name}: no onboarding course is required_for_contracting (N7)")
    return TrainingCatalog(version=version, courses=tuple(courses))


def _course(item: Any, sources: dict[str, Any], *, where: str) -> Course:
    if not isinstance(item, dict):
        raise TrainingFileError(f"{where}: not a table")

    def text(name: str, required: bool = True) -> str:
        value = item.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise TrainingFileError(f"{where}: '{name}' must be a non-empty string")
        return value.strip()

    key = text("key")
    where = f"{where} ({key})"
    kind = text("kind")
    if kind not in KINDS:
        raise TrainingFileError(f"{where}: kind must be one of {', '.join(KINDS)}")
    formats = item.get("formats") or []
    if not formats or not isinstance(formats, list) or any(f not in FORMATS for f in formats):
        raise TrainingFileError(f"{where}: formats must be a list of {', '.join(FORMATS)}")
    required = item.get("required_for_contracting", False)
    if not isinstance(required, bool) or (required and kind != "onboarding"):
        raise TrainingFileError(f"{where}: only onboarding courses are required_for_contracting")
    every = item.get("every_months")
    first = item.get("first_due_days")
    if kind == "ongoing":
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise TrainingFileError(f"{where}: an ongoing course needs every_months >= 1")
        if not isinstance(first, int) or isinstance(first, bool) or first < 0:
            raise TrainingFileError(f"{where}: an ongoing course needs first_due_days >= 0")
    elif every is not None or first is not None:
        raise TrainingFileError(f"{where}: only ongoing courses recur (every_months, first_due_days)")
    source = text("source")
    if source not in sources:
        raise TrainingFileError(f"{where}: source '{source}' is not in [sources]")
    confidence = text("confidence")
    if confidence not in CONFIDENCES:
        raise TrainingFileError(f"{where}: confidence must be one of {', '.join(sorted(CONFIDENCES))}")
    return Course(
        key=key,
        title=text("title"),
        description=text("description", required=False),
        kind=kind,
        formats=tuple(formats),
        required_for_contracting=required,
        every_months=every,
        first_due_days=first,
        source=source,
        source_title=str(sources[source].get("title", source)),
        confidence=confidence,
    )
