"""The text a member's determination letter must carry (rule A9: the notice of action with appeal rights) and
the notice of an extension (rule A8), read from ``cshub/data/notice_of_action.toml``.

The file is read once and validated as a whole (a missing or malformed key raises ``NoticeFileError``
naming it; ``check_notice_file`` reports the same at start-up). Callers ask for one language:
``notice_of_action("es-MX")`` falls back from ``es-mx`` to ``es`` to ``en``, the same order the letter
templates use (``cshub.core.letters.letter_template_names``), so a letter and its notice agree. The plan's
name and phone fill ``{plan_name}`` and ``{plan_phone}`` in the text; without them the file's neutral
wording is used ("the phone number at the top of this letter").
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core import checks

from cshub.core.reference import DATA_DIR

__all__ = [
    "NOTICE_FILE",
    "NoticeFileError",
    "NoticeSection",
    "NoticeText",
    "check_notice_file",
    "extension_notice",
    "notice_file",
    "notice_of_action",
    "read_notice_file",
]

NOTICE_FILE = DATA_DIR / "notice_of_action.toml"
DEFAULT_LANGUAGE = "en"
CONFIDENCES = frozenset({"documented", "verify", "assumed"})
APPLIES = frozenset({"always", "ongoing_service"})
PLACEHOLDERS = ("plan_name", "plan_phone")
# A letter without one of these would drop a right the member must be told about (rule A9).
REQUIRED_NOTICE_SECTIONS = (
    "appeal",
    "expedited_appeal",
    "state_hearing",
    "deemed_exhaustion",
    "aid_paid_pending",
    "independent_medical_review",
    "criteria",
    "help",
    "language_assistance",
    "nondiscrimination",
)
# The extension letter prints the request's reason and new due date after these sections (rule A8).
REQUIRED_EXTENSION_SECTIONS = ("intro", "reason", "new_due_date", "grievance", "help")
NOTICE_OF_ACTION = "notice_of_action"
EXTENSION = "extension"


class NoticeFileError(ValueError):
    """The notice file is missing, is not TOML, or lacks a key; ``key`` names the place."""

    def __init__(self, key: str, message: str, path: Path | None = None) -> None:
        self.key = key
        self.path = path
        where = f"{path.name}: " if path else ""
        super().__init__(f"{where}{key}: {message}")


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str = ""
    short: str = ""


@dataclass(frozen=True)
class NoticeSection:
    """One heading and its paragraphs, with where the facts come from."""

    key: str
    heading: str
    paragraphs: tuple[str, ...]
    confidence: str
    sources: tuple[Source, ...]
    note: str = ""
    applies: str = "always"
    emphasis: bool = False

    @property
    def ongoing_only(self) -> bool:
        """Printed only when the request continues a service the member already gets (aid paid pending)."""
        return self.applies == "ongoing_service"


@dataclass(frozen=True)
class NoticeText:
    """A notice in one language, ready for a template: ``title``, ``intro``, ``sections`` in order (or
    ``by_key``), ``taglines`` in the other languages, ``reason_labels`` (denial reason code -> label)."""

    kind: str
    language: str
    title: str
    intro: tuple[str, ...]
    sections: tuple[NoticeSection, ...]
    taglines: tuple[str, ...] = ()
    reason_labels: Mapping[str, str] = field(default_factory=dict)
    days: int | None = None
    version: str = ""

    @property
    def by_key(self) -> dict[str, NoticeSection]:
        return {section.key: section for section in self.sections}

    @property
    def to_verify(self) -> tuple[NoticeSection, ...]:
        """Sections whose facts or wording are not confirmed by a named source."""
        return tuple(s for s in self.sections if s.confidence != "documented")


@dataclass(frozen=True)
class NoticeFile:
    """The whole file, validated; texts per part and language with the placeholders still in."""

    path: Path
    version: str
    languages: tuple[str, ...]
    sources: Mapping[str, Source]
    placeholders: Mapping[str, Mapping[str, str]]
    texts: Mapping[str, Mapping[str, NoticeText]]

    def resolve_language(self, language: str) -> str:
        """``es-MX`` -> ``es-mx`` if written, else ``es``, else English."""
        lang = (language or "").strip().lower().replace("_", "-")
        for candidate in (lang, lang.split("-")[0]):
            if candidate in self.languages:
                return candidate
        return DEFAULT_LANGUAGE


# --------------------------------------------------------------------------------------------------------
# Public API


def notice_of_action(language: str, *, plan_name: str = "", plan_phone: str = "") -> NoticeText:
    """Rule A9: the appeal rights and notices a denial or partial approval letter to the member carries."""
    return _text(NOTICE_OF_ACTION, language, plan_name=plan_name, plan_phone=plan_phone)


def extension_notice(language: str, *, plan_name: str = "", plan_phone: str = "") -> NoticeText:
    """Rule A8: the notice that the plan takes up to 14 more calendar days (reason, new date, grievance)."""
    return _text(EXTENSION, language, plan_name=plan_name, plan_phone=plan_phone)


@functools.cache
def notice_file() -> NoticeFile:
    """The notice file, read and validated once per process."""
    return read_notice_file()


def check_notice_file(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Django system check: the notice file is validated at start-up (register in the app's ready())."""
    notice_file.cache_clear()
    try:
        notice_file()
    except NoticeFileError as exc:
        return [
            checks.Error(
                str(exc),
                hint="Fix cshub/data/notice_of_action.toml; member letters cannot be made without it (A9).",
                id="authorizations.E001",
            )
        ]
    return []


def read_notice_file(path: Path | None = None) -> NoticeFile:
    """Read and validate the file (default: ``NOTICE_FILE``); ``NoticeFileError`` names the first bad key."""
    return _Reader(path or NOTICE_FILE).read()


# --------------------------------------------------------------------------------------------------------


def _text(kind: str, language: str, *, plan_name: str, plan_phone: str) -> NoticeText:
    data = notice_file()
    lang = data.resolve_language(language)
    defaults = data.placeholders[lang]
    values = {
        "plan_name": (plan_name or "").strip() or defaults["plan_name"],
        "plan_phone": _format_phone(plan_phone) or defaults["plan_phone"],
    }
    return _fill(data.texts[kind][lang], values)


def _fill(text: NoticeText, values: Mapping[str, str]) -> NoticeText:
    def fill(s: str) -> str:
        return s.format_map(values)

    sections = tuple(
        dataclasses.replace(
            section, heading=fill(section.heading), paragraphs=tuple(fill(p) for p in section.paragraphs)
        )
        for section in text.sections
    )
    return dataclasses.replace(
        text,
        title=fill(text.title),
        intro=tuple(fill(p) for p in text.intro),
        sections=sections,
        taglines=tuple(fill(t) for t in text.taglines),
    )


def _format_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return (value or "").strip()


class _Reader:
    """Validates while it reads, so every error names the key it is about."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.languages: tuple[str, ...] = ()
        self.sources: dict[str, Source] = {}

    def fail(self, key: str, message: str) -> NoticeFileError:
        return NoticeFileError(key, message, self.path)

    def read(self) -> NoticeFile:
        try:
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise self.fail("file", f"cannot be read ({exc.strerror or exc})") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise self.fail("file", f"is not valid TOML ({exc})") from exc

        version = str(self.require(raw, "version", "version", str))
        languages = tuple(self.require(raw, "languages", "languages", list))
        if DEFAULT_LANGUAGE not in languages or not all(isinstance(x, str) and x for x in languages):
            raise self.fail("languages", f'a list of language codes that includes "{DEFAULT_LANGUAGE}"')
        self.languages = languages
        self.sources = self.read_sources(self.require(raw, "sources", "sources", dict))
        placeholders = self.read_placeholders(self.require(raw, "placeholders", "placeholders", dict))
        reason_labels = self.read_reason_labels(raw.get("reason_labels", {}))

        texts = {}
        for kind, required in (
            (NOTICE_OF_ACTION, REQUIRED_NOTICE_SECTIONS),
            (EXTENSION, REQUIRED_EXTENSION_SECTIONS),
        ):
            part = self.require(raw, kind, kind, dict)
            texts[kind] = self.read_part(kind, part, required, version=version, reason_labels=reason_labels)
        return NoticeFile(
            path=self.path,
            version=version,
            languages=languages,
            sources=self.sources,
            placeholders=placeholders,
            texts=texts,
        )

    # -- pieces ------------------------------------------------------------------------------------------

    def require(self, table: Mapping[str, Any], name: str, key: str, kind: type) -> Any:
        if name not in table:
            raise self.fail(key, "missing")
        value = table[name]
        if not isinstance(value, kind) or (kind in (str, list, dict) and not value):
            raise self.fail(key, f"must be a non-empty {kind.__name__}")
        return value

    def text(self, table: Mapping[str, Any], name: str, key: str) -> str:
        value = self.require(table, name, key, str).strip()
        self.check_placeholders(value, key)
        return value

    def paragraphs(self, table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        items = self.require(table, name, key, list)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", "must be a non-empty string")
            self.check_placeholders(item, f"{key}[{i}]")
            out.append(item.strip())
        return tuple(out)

    def check_placeholders(self, value: str, key: str) -> None:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise self.fail(key, f"has a stray brace ({exc}); write {{{{ or }}}} for a literal one") from exc
        unknown = sorted(set(fields) - set(PLACEHOLDERS))
        if unknown:
            raise self.fail(key, f"unknown placeholder {{{unknown[0]}}} (allowed: {', '.join(PLACEHOLDERS)})")

    def read_sources(self, table: Mapping[str, Any]) -> dict[str, Source]:
        sources = {}
        for name, item in table.items():
            key = f"sources.{name}"
            if not isinstance(item, dict):
                raise self.fail(key, "must be a table with a title")
            sources[name] = Source(
                key=name,
                title=str(self.require(item, "title", f"{key}.title", str)),
                url=str(item.get("url", "")),
                short=str(item.get("short", "")),
            )
        return sources

    def read_placeholders(self, table: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        out = {}
        for lang in self.languages:
            item = self.require(table, lang, f"placeholders.{lang}", dict)
            out[lang] = {name: self.text(item, name, f"placeholders.{lang}.{name}") for name in PLACEHOLDERS}
        return out

    def read_reason_labels(self, table: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        from cshub.authorizations.models import DenialReason  # lazy: the app registry must be ready

        # English labels are the model's own; every other language needs one per reason code.
        out: dict[str, dict[str, str]] = {
            DEFAULT_LANGUAGE: {str(v): str(label) for v, label in DenialReason.choices}
        }
        for lang in self.languages:
            if lang == DEFAULT_LANGUAGE:
                continue
            item = self.require(table, lang, f"reason_labels.{lang}", dict)
            out[lang] = {
                str(code): self.text(item, str(code), f"reason_labels.{lang}.{code}")
                for code in DenialReason.values
            }
        return out

    def meta(self, table: Mapping[str, Any], key: str) -> tuple[str, tuple[Source, ...], str]:
        confidence = self.require(table, "confidence", f"{key}.confidence", str)
        if confidence not in CONFIDENCES:
            raise self.fail(f"{key}.confidence", f"one of {', '.join(sorted(CONFIDENCES))}")
        names = self.require(table, "sources", f"{key}.sources", list)
        missing = [n for n in names if n not in self.sources]
        if missing:
            raise self.fail(f"{key}.sources", f"unknown source {missing[0]!r} (add it under [sources])")
        return confidence, tuple(self.sources[n] for n in names), str(table.get("note", ""))

    def read_part(
        self,
        kind: str,
        part: Mapping[str, Any],
        required: tuple[str, ...],
        *,
        version: str,
        reason_labels: Mapping[str, Mapping[str, str]],
    ) -> dict[str, NoticeText]:
        items = self.require(part, "sections", f"{kind}.sections", list)
        per_language: dict[str, list[NoticeSection]] = {lang: [] for lang in self.languages}
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{kind}.sections[{i}]", "must be a table")
            name = self.require(item, "key", f"{kind}.sections[{i}].key", str)
            key = f"{kind}.sections[{name}]"
            if name in seen:
                raise self.fail(key, "appears twice")
            seen.add(name)
            confidence, sources, note = self.meta(item, key)
            applies = item.get("applies", "always")
            if applies not in APPLIES:
                raise self.fail(f"{key}.applies", f"one of {', '.join(sorted(APPLIES))}")
            emphasis = item.get("emphasis", False)
            if not isinstance(emphasis, bool):
                raise self.fail(f"{key}.emphasis", "true or false")
            for lang in self.languages:
                text = self.require(item, lang, f"{key}.{lang}", dict)
                per_language[lang].append(
                    NoticeSection(
                        key=name,
                        heading=self.text(text, "heading", f"{key}.{lang}.heading"),
                        paragraphs=self.paragraphs(text, "paragraphs", f"{key}.{lang}.paragraphs"),
                        confidence=confidence,
                        sources=sources,
                        note=note,
                        applies=applies,
                        emphasis=emphasis,
                    )
                )
        for name in required:
            if name not in seen:
                raise self.fail(f"{kind}.sections[{name}]", "missing (a required section)")

        taglines = self.read_taglines(kind, part.get("taglines"))
        days = part.get("days")
        if kind == EXTENSION:
            self.meta(part, kind)
            if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
                raise self.fail(f"{kind}.days", "a positive number of calendar days")

        texts = {}
        for lang in self.languages:
            head = self.require(part, lang, f"{kind}.{lang}", dict)
            texts[lang] = NoticeText(
                kind=kind,
                language=lang,
                title=self.text(head, "title", f"{kind}.{lang}.title"),
                intro=self.paragraphs(head, "intro", f"{kind}.{lang}.intro") if "intro" in head else (),
                sections=tuple(per_language[lang]),
                taglines=tuple(text for other, text in taglines.items() if other != lang),
                reason_labels=dict(reason_labels[lang]),
                days=days if kind == EXTENSION else None,
                version=version,
            )
        return texts

    def read_taglines(self, kind: str, table: Any) -> dict[str, str]:
        if table is None:
            return {}
        key = f"{kind}.taglines"
        if not isinstance(table, dict):
            raise self.fail(key, "must be a table")
        self.meta(table, key)
        return {lang: self.text(table, lang, f"{key}.{lang}") for lang in self.languages}
