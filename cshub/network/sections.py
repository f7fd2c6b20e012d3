"""The certification application's sections as data (rule N3, DESIGN principle 1): loaded once from
cshub/data/certification_application.toml and checked at load, so a bad edit fails loudly. Answers are
checked here too (`clean_section_answers`) so the page, the API and the completeness check agree."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from cshub.core.errors import FieldError

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "certification_application.toml"
TYPES = frozenset({"text", "textarea", "yes_no", "number", "choice", "date"})
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    type: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    id: str  # "1A", or "<service key>/A"
    title: str
    questions: tuple[Question, ...]
    attachments: str = ""
    attachment_required: bool = False
    service_key: str = ""
    service_name: str = ""


@dataclass(frozen=True)
class Definition:
    source: str
    version: str
    general: tuple[Section, ...]
    per_service: tuple[Section, ...]


def _section(raw: dict[str, Any], where: str) -> Section:
    try:
        questions = []
        for q in raw["questions"]:
            if q["type"] not in TYPES:
                raise ImproperlyConfigured(f"{where}: question {q['key']} has unknown type {q['type']!r}")
            if q["type"] == "choice" and not q.get("choices"):
                raise ImproperlyConfigured(f"{where}: choice question {q['key']} lists no choices")
            questions.append(
                Question(
                    key=q["key"],
                    label=q["label"],
                    type=q["type"],
                    required=bool(q.get("required", True)),
                    help=q.get("help", ""),
                    choices=tuple(q.get("choices", ())),
                )
            )
        return Section(
            id=raw["id"],
            title=raw["title"],
            questions=tuple(questions),
            attachments=raw.get("attachments", ""),
            attachment_required=bool(raw.get("attachment_required", False)),
        )
    except KeyError as exc:
        raise ImproperlyConfigured(f"{where}: missing {exc}") from exc


@cache
def definition() -> Definition:
    with DATA_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    general = tuple(_section(s, f"{DATA_FILE.name} [[general]]") for s in raw.get("general", []))
    per_service = tuple(_section(s, f"{DATA_FILE.name} [[per_service]]") for s in raw.get("per_service", []))
    ids = [s.id for s in general]
    if ids != [f"1{c}" for c in "ABCDEFGHIJ"]:
        raise ImproperlyConfigured(f"{DATA_FILE.name}: general sections must be 1A-1J (rule N3), not {ids}")
    if [s.id for s in per_service] != ["A", "B", "C", "D"]:
        raise ImproperlyConfigured(f"{DATA_FILE.name}: per-service sections must be A-D (rule N3)")
    return Definition(source=raw["source"], version=raw["version"], general=general, per_service=per_service)


def sections_for(services: list[Any]) -> list[Section]:
    """Sections 1A-1J, then A-D for each selected service (objects with `key` and `name`), in order."""
    d = definition()
    out = list(d.general)
    for service in services:
        for s in d.per_service:
            out.append(
                Section(
                    id=f"{service.key}/{s.id}",
                    title=f"{service.name} — Section {s.id}: {s.title}",
                    questions=s.questions,
                    attachments=s.attachments,
                    attachment_required=s.attachment_required,
                    service_key=service.key,
                    service_name=service.name,
                )
            )
    return out


def clean_value(question: Question, value: Any) -> tuple[Any, str]:
    """(clean value, error message or ""). Empty values are "" and are not errors here (drafts may be
    partial; the completeness check asks for required answers)."""
    if value is None:
        return "", ""
    if isinstance(value, bool) and question.type == "yes_no":
        return ("yes" if value else "no"), ""
    text = str(value).strip()
    if not text:
        return "", ""
    if question.type == "yes_no":
        text = text.lower()
        return (text, "") if text in YES_NO else (text, "Answer yes or no.")
    if question.type == "number":
        try:
            number = float(text)
        except ValueError:
            return text, "Enter a number."
        if number < 0:
            return text, "Enter a number of zero or more."
        return (int(number) if number.is_integer() else number), ""
    if question.type == "choice":
        return (
            (text, "")
            if text in question.choices
            else (text, f"Choose one of: {', '.join(question.choices)}.")
        )
    if question.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat(), ""
        except ValueError:
            return text, "Enter a date as YYYY-MM-DD."
    limit = 300 if question.type == "text" else 10000
    if len(text) > limit:
        return text, f"Keep it under {limit} characters."
    return text, ""


def clean_section_answers(section: Section, raw: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """One section's answers, cleaned; unknown keys are dropped. Field names are "<section>.<question>"."""
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for q in section.questions:
        value, message = clean_value(q, raw.get(q.key))
        if message:
            errors.append(FieldError(f"{section.id}.{q.key}", message))
        clean[q.key] = value
    return clean, errors


def missing_answers(section: Section, answers: dict[str, Any]) -> list[Question]:
    return [q for q in section.questions if q.required and answers.get(q.key) in (None, "")]
