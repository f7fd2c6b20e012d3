"""Assessment templates as data (rule M2: individual assessments; DESIGN principle 1).

One TOML file per Community Support under `cshub/data/assessments/<service_key>.toml`, and `general.toml` for
a service without its own file (and for an assessment not tied to a service). Each file names its source and
a confidence (documented / verify / assumed, as the catalog files do) and lists its questions:

    key = "recuperative_care"          # the file's stem; a service key of cshub/data/catalog/services/
    service = "recuperative_care"      # "" for general.toml
    title = "Recuperative care assessment"
    version = "2026-11"                # kept with every assessment answered against it

    [source]
    title = "..."; url = "..."; confidence = "verify"; note = "..."

    [[questions]]
    key = "care_needs"                 # [a-z][a-z0-9_]*, unique in the file
    label = "Care needed during recovery"
    type = "multi_choice"              # text, long_text, yes_no, choice, multi_choice, number, date
    required = true
    choices = [{ value = "wound_care", label = "Wound care" }, ...]   # choice and multi_choice only
    help = "..."                       # optional; number questions may have min and max

This module reads and validates the files (no database); the app's system check runs `read_templates()` at
start-up and a test loads every file. `answers_validate` checks answers against a template field by field.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cshub.core.errors import DomainError, FieldError
from cshub.core.reference import DATA_DIR
from cshub.members.errors import ASSESSMENT_INVALID

TEMPLATES_DIR = DATA_DIR / "assessments"
CATALOG_SERVICES_DIR = DATA_DIR / "catalog" / "services"
GENERAL = "general"
QUESTION_TYPES = ("text", "long_text", "yes_no", "choice", "multi_choice", "number", "date")
CONFIDENCES = ("documented", "verify", "assumed")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
TEXT_MAX = {"text": 500, "long_text": 10_000}
TOP_KEYS = {"key", "service", "title", "version", "description", "source", "questions"}
QUESTION_KEYS = {"key", "label", "type", "required", "choices", "help", "min", "max"}


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    type: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    min: float | None = None
    max: float | None = None

    @property
    def choice_labels(self) -> dict[str, str]:
        return dict(self.choices)


@dataclass(frozen=True)
class Template:
    key: str
    service: str
    title: str
    version: str
    description: str
    source: dict[str, str]
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


def _read_file(path: Path, errors: list[FieldError], service_keys: set[str]) -> Template | None:
    name = path.name

    def err(where: str, message: str) -> None:
        errors.append(FieldError(f"{name}:{where}" if where else name, message, "template"))

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        err("", f"cannot read: {exc}")
        return None
    before = len(errors)
    for unknown in sorted(set(raw) - TOP_KEYS):
        err(unknown, "unknown key")
    key = raw.get("key")
    if key != path.stem:
        err("key", f"must be the file's name without .toml ({path.stem!r})")
    service = raw.get("service", "")
    if path.stem == GENERAL:
        if service:
            err("service", "general.toml is for no particular service; leave it empty")
    elif service != path.stem:
        err("service", f"must be {path.stem!r}")
    if service and service not in service_keys:
        err("service", f"{service!r} is not a service of cshub/data/catalog/services/")
    for text_key in ("title", "version"):
        if not isinstance(raw.get(text_key), str) or not raw.get(text_key):
            err(text_key, "required text")
    source = raw.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("title"), str) or not source.get("title"):
        err("source.title", "every template names its source")
        source = {}
    elif source.get("confidence") not in CONFIDENCES:
        err("source.confidence", f"one of {', '.join(CONFIDENCES)}")
    questions = []
    seen: set[str] = set()
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        err("questions", "at least one [[questions]]")
        raw_questions = []
    for i, item in enumerate(raw_questions):
        question = _read_question(item, f"questions[{i}]", err)
        if question is None:
            continue
        if question.key in seen:
            err(f"questions[{i}].key", f"{question.key!r} is used twice")
        seen.add(question.key)
        questions.append(question)
    if len(errors) > before:
        return None
    return Template(
        key=key,
        service=service,
        title=raw["title"],
        version=raw["version"],
        description=str(raw.get("description", "")),
        source={k: str(v) for k, v in source.items()},
        questions=tuple(questions),
    )


def _read_question(item: Any, where: str, err: Any) -> Question | None:
    if not isinstance(item, dict):
        err(where, "a table")
        return None
    problems = 0
    for unknown in sorted(set(item) - QUESTION_KEYS):
        err(f"{where}.{unknown}", "unknown key")
        problems += 1
    key, label, qtype = item.get("key"), item.get("label"), item.get("type")
    if not isinstance(key, str) or not KEY_RE.match(key):
        err(f"{where}.key", "lower-case letters, digits and _, starting with a letter")
        problems += 1
    if not isinstance(label, str) or not label:
        err(f"{where}.label", "required text")
        problems += 1
    if qtype not in QUESTION_TYPES:
        err(f"{where}.type", f"one of {', '.join(QUESTION_TYPES)}")
        problems += 1
    if not isinstance(item.get("required", False), bool):
        err(f"{where}.required", "true or false")
        problems += 1
    choices: list[tuple[str, str]] = []
    raw_choices = item.get("choices")
    if qtype in ("choice", "multi_choice"):
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            err(f"{where}.choices", "a choice question needs at least two choices")
            problems += 1
        else:
            for j, c in enumerate(raw_choices):
                value = c.get("value") if isinstance(c, dict) else None
                text = c.get("label") if isinstance(c, dict) else None
                if (
                    not isinstance(value, str)
                    or not KEY_RE.match(value)
                    or not isinstance(text, str)
                    or not text
                ):
                    err(f"{where}.choices[{j}]", '{ value = "a_key", label = "Text" }')
                    problems += 1
                elif value in dict(choices):
                    err(f"{where}.choices[{j}]", f"{value!r} is used twice")
                    problems += 1
                else:
                    choices.append((value, text))
    elif raw_choices is not None:
        err(f"{where}.choices", "only choice and multi_choice questions have choices")
        problems += 1
    bounds = {}
    for b in ("min", "max"):
        if b in item:
            if qtype != "number" or isinstance(item[b], bool) or not isinstance(item[b], int | float):
                err(f"{where}.{b}", "a number, for number questions only")
                problems += 1
            else:
                bounds[b] = float(item[b])
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        err(f"{where}.max", "at least min")
        problems += 1
    if problems:
        return None
    return Question(
        key=key,
        label=label,
        type=qtype,
        required=item.get("required", False),
        choices=tuple(choices),
        help=str(item.get("help", "")),
        min=bounds.get("min"),
        max=bounds.get("max"),
    )


def read_templates(directory: Path = TEMPLATES_DIR) -> dict[str, Template]:
    """Every template of the folder by key; one DomainError listing every problem of every file."""
    errors: list[FieldError] = []
    service_keys = {p.stem for p in CATALOG_SERVICES_DIR.glob("*.toml")}
    templates: dict[str, Template] = {}
    for path in sorted(directory.glob("*.toml")):
        template = _read_file(path, errors, service_keys)
        if template is not None:
            templates[template.key] = template
    if GENERAL not in templates and not any(e.field.startswith(f"{GENERAL}.toml") for e in errors):
        errors.append(
            FieldError(f"{GENERAL}.toml", "the general template is required (the fallback)", "template")
        )
    if errors:
        raise DomainError("The assessment templates are not valid.", code=ASSESSMENT_INVALID, errors=errors)
    return templates


@functools.cache
def assessment_templates() -> dict[str, Template]:
    """The shipped templates, read once per process."""
    return read_templates()


def template_for_service(service_key: str | None) -> Template:
    """The service's own template, or the general one."""
    templates = assessment_templates()
    return templates.get(service_key or GENERAL) or templates[GENERAL]


def template_get(key: str, version: str | None = None) -> Template | None:
    """The template an assessment was answered against (None when the file is gone or has a newer
    version: the answers are then shown by their keys)."""
    template = assessment_templates().get(key)
    if template is None or (version is not None and template.version != version):
        return None
    return template


# --- Answers ----------------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _answer(q: Question, value: Any) -> Any:
    """The answer as stored (JSON), or ValueError with the message to show."""
    if q.type in TEXT_MAX:
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        value = value.strip()
        if len(value) > TEXT_MAX[q.type]:
            raise ValueError(f"At most {TEXT_MAX[q.type]} characters.")
        return value
    if q.type == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
            return value.lower() in ("yes", "true")
        raise ValueError("Answer yes or no.")
    if q.type == "choice":
        if not isinstance(value, str) or value not in q.choice_labels:
            raise ValueError(f"Choose one of: {', '.join(q.choice_labels)}.")
        return value
    if q.type == "multi_choice":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError("Choose from the list.")
        unknown = [v for v in values if v not in q.choice_labels]
        if unknown:
            raise ValueError(
                f"Not a choice: {', '.join(unknown)}. Choose from: {', '.join(q.choice_labels)}."
            )
        return [v for v, _label in q.choices if v in values]  # template order, no duplicates
    if q.type == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("Enter a number.") from exc
        if not number.is_finite():
            raise ValueError("Enter a number.")
        if q.min is not None and number < Decimal(str(q.min)):
            raise ValueError(f"At least {q.min:g}.")
        if q.max is not None and number > Decimal(str(q.max)):
            raise ValueError(f"At most {q.max:g}.")
        return int(number) if number == number.to_integral_value() else float(number)
    if q.type == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise ValueError("Enter a date as YYYY-MM-DD.") from exc
    raise ValueError("Unknown question type.")  # pragma: no cover: the loader refuses other types


def answers_validate(template: Template, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers cleaned for storage (blank optional answers left out), or a DomainError with one
    FieldError per wrong question (`answers.<key>`), each required question missing included."""
    if not isinstance(answers, dict):
        raise DomainError(
            "The assessment is not valid.",
            code=ASSESSMENT_INVALID,
            errors=[FieldError("answers", "An object of question key to answer.")],
        )
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for q in template.questions:
        value = answers.get(q.key)
        if _blank(value):
            if q.required:
                errors.append(FieldError(f"answers.{q.key}", "This question is required.", "required"))
            continue
        try:
            cleaned[q.key] = _answer(q, value)
        except ValueError as exc:
            errors.append(FieldError(f"answers.{q.key}", str(exc), "invalid"))
    for key in sorted(set(answers) - {q.key for q in template.questions}):
        errors.append(FieldError(f"answers.{key}", "Not a question of this template.", "unknown"))
    if errors:
        raise DomainError("The assessment is not valid.", code=ASSESSMENT_INVALID, errors=errors)
    return cleaned


def answer_display(q: Question | None, value: Any) -> str:
    """An answer as text for pages and exports."""
    if q is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if q.type == "yes_no":
        return "Yes" if value else "No"
    if q.type == "choice":
        return q.choice_labels.get(value, str(value))
    if q.type == "multi_choice":
        return "; ".join(q.choice_labels.get(v, str(v)) for v in value)
    return str(value)
