"""File layouts as data (DESIGN principle 1): the columns of the DHCS member information files (CSASF
out, rule D1; CSPRTF in, rule D2) live in `cshub/data/exchange/<key>.toml`, one file per layout, so the
official DHCS list can replace ours without a code change.

    layout = load_layout("csasf")
    layout.header_row()                      # the column labels, in order
    layout.format_row({"member_cin": ...})   # one row of strings, each value formatted by its field
    values, errors = layout.parse_row(cells) # a row read back: values by field name, errors by field name
    layout.file_name_for(plan_code=..., provider_npi=..., date=...)
    layout.match_file_name(name)             # the named groups of file_name_regex, or None

A layout file is validated in full when first loaded (every problem is named, with its file and field) and
by the `exchange` system check at start-up (`apps.py`). What DHCS defines and what is assumed is said per
field (`source`) and per layout (`source`, `assumed`); docs/exchange.md lists them.

Field types: string, date (the layout's `date_format`), integer, decimal, code (one of `valid_values`),
flag (Y/N unless `valid_values` says otherwise). `required` is yes, no or conditional; a conditional field
is checked by the layout's reader (CSPRTF) or writer (CSASF), not here.
"""

from __future__ import annotations

import codecs
import re
import string
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "data" / "exchange"
FIELD_TYPES = frozenset({"string", "date", "integer", "decimal", "code", "flag"})
REQUIRED_VALUES = frozenset({"yes", "no", "conditional"})
DIRECTIONS = frozenset({"plan_to_provider", "provider_to_plan"})
DEFAULT_FLAG_VALUES = ("Y", "N")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_LAYOUT_KEYS = {
    "key", "title", "rule", "direction", "file_name", "file_name_regex", "delimiter", "encoding", "header",
    "date_format", "source", "assumed", "independent_rows", "independent_rows_reason", "fields",
}  # fmt: skip
_FIELD_KEYS = {
    "name", "label", "type", "required", "max_length", "valid_values", "maps_to", "source", "description",
}  # fmt: skip


class LayoutFileError(ValueError):
    """A layout file is not valid; the message names the file and every problem in it."""


@dataclass(frozen=True)
class LayoutField:
    name: str
    label: str
    type: str  # "string" | "date" | "integer" | "decimal" | "code" | "flag"
    required: str  # "yes" | "no" | "conditional"
    max_length: int | None
    valid_values: tuple[str, ...]
    maps_to: str  # what the product holds, e.g. "member.cin"
    source: str  # "DHCS …", "rule …" or "assumed"
    description: str

    @property
    def is_assumed(self) -> bool:
        return self.source.lower().startswith("assumed")

    def parse(self, raw: str, layout: Layout) -> tuple[object, str | None]:
        """The value of one cell and None, or (None, a message naming the field) when it is not valid.
        An empty cell is None; a required one is an error."""
        text = (raw or "").strip()
        if not text:
            if self.required == "yes":
                return None, f"{self.label} is required."
            return None, None
        if self.max_length is not None and len(text) > self.max_length:
            return None, f"{self.label} can be at most {self.max_length} characters (got {len(text)})."
        if self.type == "string":
            return text, None
        if self.type == "date":
            try:
                return datetime.strptime(text, layout.date_format).date(), None  # noqa: DTZ007 (a date)
            except ValueError:
                example = date(2026, 1, 31).strftime(layout.date_format)
                return None, f"{self.label} must be a date like {example} (got {text!r})."
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d+", text):
                return None, f"{self.label} must be a whole number (got {text!r})."
            return int(text), None
        if self.type == "decimal":
            try:
                value = Decimal(text)
            except InvalidOperation:
                return None, f"{self.label} must be a number (got {text!r})."
            if not value.is_finite():
                return None, f"{self.label} must be a number (got {text!r})."
            return value, None
        if self.type == "code":
            if text not in self.valid_values:
                return None, f"{self.label} must be one of {', '.join(self.valid_values)} (got {text!r})."
            return text, None
        # flag
        yes, no = self.flag_values
        if text.upper() == yes.upper():
            return True, None
        if text.upper() == no.upper():
            return False, None
        return None, f"{self.label} must be {yes} or {no} (got {text!r})."

    def format(self, value: object, layout: Layout) -> str:
        """One cell of text for `value` (None and "" are an empty cell). Raises ValueError when the value
        does not fit the field: a writer bug, never the reader's problem."""
        if value is None or value == "":
            return ""
        if self.type == "date":
            if isinstance(value, datetime):
                raise ValueError(f"{self.name}: give a date, not a datetime")
            if not isinstance(value, date):
                raise ValueError(f"{self.name}: {value!r} is not a date")
            text = value.strftime(layout.date_format)
        elif self.type == "flag":
            yes, no = self.flag_values
            text = yes if value else no
        elif self.type == "integer":
            text = str(int(value))  # type: ignore[call-overload]
        elif self.type == "decimal":
            text = format(Decimal(str(value)), "f")
        else:
            text = str(value)
            if self.type == "code" and text not in self.valid_values:
                raise ValueError(f"{self.name}: {text!r} is not one of {self.valid_values}")
        if self.max_length is not None and len(text) > self.max_length:
            text = text[: self.max_length]  # free text longer than the column: cut, as the layout allows
        return text

    @property
    def flag_values(self) -> tuple[str, str]:
        values = self.valid_values or DEFAULT_FLAG_VALUES
        return values[0], values[1]

    def formatter(self, layout: Layout) -> Callable[[object], str]:
        """`format` for many cells: the same text, with the checks that do not depend on the value done
        once (a CSASF formats millions of cells)."""
        if self.type in ("string", "code"):
            limit = self.max_length
            allowed = frozenset(self.valid_values) if self.type == "code" else None

            def text(value: object) -> str:
                if value is None or value == "":
                    return ""
                out = value if value.__class__ is str else str(value)
                if allowed is not None and out not in allowed:
                    raise ValueError(f"{self.name}: {out!r} is not one of {self.valid_values}")
                return out if limit is None or len(out) <= limit else out[:limit]

            return text
        if self.type == "date":
            seen: dict[object, str] = {}

            def day(value: object) -> str:
                if value is None or value == "":
                    return ""
                out = seen.get(value)
                if out is None:
                    out = seen[value] = self.format(value, layout)
                return out

            return day
        if self.type == "flag":
            yes, no = self.flag_values
            return lambda value: "" if value is None or value == "" else (yes if value else no)
        return lambda value: self.format(value, layout)


@dataclass(frozen=True)
class Layout:
    key: str
    title: str
    rule: str
    direction: str  # "plan_to_provider" | "provider_to_plan"
    file_name: str  # a str.format pattern, e.g. "CSASF_{plan_code}_{provider_npi}_{date:%Y%m%d}.txt"
    file_name_regex: str
    delimiter: str
    encoding: str
    header: bool
    date_format: str
    source: str
    assumed: str
    independent_rows: bool  # whether a row with errors can be refused alone while the others apply
    independent_rows_reason: str
    fields: tuple[LayoutField, ...]
    path: Path = field(compare=False, repr=False, default=Path())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> LayoutField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.key} has no field {name!r}")

    def header_row(self) -> list[str]:
        return [f.label for f in self.fields]

    def format_row(self, values: Mapping[str, object]) -> list[str]:
        """One row of cells in the layout's column order; a field missing from `values` is empty."""
        return [f.format(values.get(f.name), self) for f in self.fields]

    def row_formatter(
        self, constants: Mapping[str, object] | None = None
    ) -> Callable[[Mapping[str, object]], list[str]]:
        """`format_row` for many rows: the fields in `constants` (the same in every row, e.g. the file's
        production date) are formatted once, the others by each field's `formatter`."""
        constants = constants or {}
        plan: list[tuple[str, Callable[[object], str]]] = []
        for f in self.fields:
            if f.name in constants:
                fixed = f.format(constants[f.name], self)
                plan.append((f.name, lambda _value, fixed=fixed: fixed))
            else:
                plan.append((f.name, f.formatter(self)))

        def format_row(values: Mapping[str, object]) -> list[str]:
            get = values.get
            return [fn(get(name)) for name, fn in plan]

        return format_row

    def parse_row(self, cells: Sequence[str]) -> tuple[dict[str, object], dict[str, str]]:
        """Values by field name and errors by field name for one row read from a file. A row with too many
        or too few cells is an error on the key "_row"."""
        values: dict[str, object] = {}
        errors: dict[str, str] = {}
        if len(cells) != len(self.fields):
            have, want = len(cells), len(self.fields)
            errors["_row"] = f"The row has {have} columns; the {self.key.upper()} has {want}."
        for i, f in enumerate(self.fields):
            raw = cells[i] if i < len(cells) else ""
            value, error = f.parse(raw, self)
            values[f.name] = value
            if error:
                errors[f.name] = error
        return values, errors

    def file_name_for(self, **parts: Any) -> str:
        return self.file_name.format(**parts)

    def match_file_name(self, name: str) -> dict[str, str] | None:
        match = re.fullmatch(self.file_name_regex, name)
        return match.groupdict() if match else None


def layout_dir() -> Path:
    return Path(getattr(settings, "CSHUB_EXCHANGE_LAYOUT_DIR", "") or LAYOUT_DIR)


def layout_keys() -> list[str]:
    return sorted(p.stem for p in layout_dir().glob("*.toml"))


@cache
def load_layout(key: str) -> Layout:
    """The layout `key` from `cshub/data/exchange/<key>.toml`, validated; cached for the process."""
    path = layout_dir() / f"{key}.toml"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise LayoutFileError(f"{path}: no such layout file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LayoutFileError(f"{path}: not valid TOML: {exc}") from exc
    return parse_layout(raw, path, key=key)


def check_layouts() -> None:
    """Start-up check: loads every layout file afresh; raises LayoutFileError naming every problem."""
    load_layout.cache_clear()
    problems: list[str] = []
    for key in layout_keys():
        try:
            load_layout(key)
        except LayoutFileError as exc:
            problems.append(str(exc))
    if problems:
        raise LayoutFileError("\n".join(problems))


def _text(raw: Mapping[str, Any], name: str, where: str, problems: list[str], *, blank: bool = False) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or (not blank and not value.strip()):
        problems.append(f"{where}: '{name}' must be {'a' if blank else 'a non-empty'} string")
        return ""
    return value


def _parse_field(raw: Any, index: int, problems: list[str]) -> LayoutField | None:
    if not isinstance(raw, dict):
        problems.append(f"fields[{index}]: must be a table")
        return None
    name = raw.get("name")
    where = f"field {name!r}" if isinstance(name, str) and name else f"fields[{index}]"
    before = len(problems)
    for unknown in sorted(set(raw) - _FIELD_KEYS):
        problems.append(f"{where}: unknown key '{unknown}'")
    name = _text(raw, "name", where, problems)
    if name and not NAME_RE.match(name):
        problems.append(f"{where}: name must be lower_snake_case")
    label = _text(raw, "label", where, problems)
    ftype = _text(raw, "type", where, problems)
    if ftype and ftype not in FIELD_TYPES:
        problems.append(f"{where}: type {ftype!r} is not one of {', '.join(sorted(FIELD_TYPES))}")
    required = _text(raw, "required", where, problems)
    if required and required not in REQUIRED_VALUES:
        problems.append(f"{where}: required {required!r} is not one of yes, no, conditional")
    max_length = raw.get("max_length")
    if max_length is not None and (
        not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1
    ):
        problems.append(f"{where}: max_length must be a positive whole number")
        max_length = None
    values = raw.get("valid_values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        problems.append(f"{where}: valid_values must be a list of non-empty strings")
        values = []
    if len(set(values)) != len(values):
        problems.append(f"{where}: valid_values repeat a value")
    if ftype == "code" and not values:
        problems.append(f"{where}: a code field needs valid_values")
    if ftype == "flag" and values and len(values) != 2:
        problems.append(f"{where}: a flag's valid_values are two: the yes value, then the no value")
    if ftype not in ("code", "flag") and values:
        problems.append(f"{where}: only code and flag fields have valid_values")
    maps_to = _text(raw, "maps_to", where, problems)
    source = _text(raw, "source", where, problems)
    description = _text(raw, "description", where, problems)
    if len(problems) > before:
        return None
    return LayoutField(
        name=name,
        label=label,
        type=ftype,
        required=required,
        max_length=max_length,
        valid_values=tuple(values),
        maps_to=maps_to,
        source=source,
        description=description,
    )


def parse_layout(raw: Mapping[str, Any], path: Path, *, key: str | None = None) -> Layout:
    """A Layout from the parsed TOML of `path`; LayoutFileError lists every problem found."""
    problems: list[str] = []
    top = "layout"
    for unknown in sorted(set(raw) - _LAYOUT_KEYS):
        problems.append(f"{top}: unknown key '{unknown}'")
    layout_key = _text(raw, "key", top, problems)
    if key is not None and layout_key and layout_key != key:
        problems.append(f"{top}: key {layout_key!r} does not match the file name {key!r}")
    title = _text(raw, "title", top, problems)
    rule = _text(raw, "rule", top, problems)
    direction = _text(raw, "direction", top, problems)
    if direction and direction not in DIRECTIONS:
        problems.append(f"{top}: direction {direction!r} is not one of {', '.join(sorted(DIRECTIONS))}")
    delimiter = _text(raw, "delimiter", top, problems)
    if delimiter and (len(delimiter) != 1 or delimiter in "\r\n\"'"):
        problems.append(f"{top}: delimiter must be one character, not a quote or a line break")
    encoding = _text(raw, "encoding", top, problems)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"{top}: encoding {encoding!r} is not known")
    header = raw.get("header")
    if not isinstance(header, bool):
        problems.append(f"{top}: 'header' must be true or false")
    independent = raw.get("independent_rows")
    if not isinstance(independent, bool):
        problems.append(f"{top}: 'independent_rows' must be true or false")
    independent_reason = _text(raw, "independent_rows_reason", top, problems)
    date_format = _text(raw, "date_format", top, problems)
    if date_format:
        sample = date(2026, 12, 31)
        try:
            back = datetime.strptime(sample.strftime(date_format), date_format).date()  # noqa: DTZ007
        except ValueError:
            back = None
        if back != sample:
            problems.append(f"{top}: date_format {date_format!r} does not read back the date it writes")
    source = _text(raw, "source", top, problems)
    assumed = _text(raw, "assumed", top, problems)

    raw_fields = raw.get("fields")
    fields: list[LayoutField] = []
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append(f"{top}: needs at least one [[fields]] table")
        raw_fields = []
    for index, raw_field in enumerate(raw_fields):
        parsed = _parse_field(raw_field, index, problems)
        if parsed:
            fields.append(parsed)
    raw_names = [f.get("name") for f in raw_fields if isinstance(f, dict) and isinstance(f.get("name"), str)]
    for name in sorted({n for n in raw_names if n and raw_names.count(n) > 1}):
        problems.append(f"field {name!r}: named twice")
    labels = [f.label for f in fields]
    for label in sorted({lb for lb in labels if labels.count(lb) > 1}):
        problems.append(f"field label {label!r}: used twice (column headers must differ)")

    file_name = _text(raw, "file_name", top, problems)
    if file_name:
        try:
            parts = {p[1] for p in string.Formatter().parse(file_name) if p[1] is not None}
        except ValueError as exc:
            problems.append(f"{top}: file_name {file_name!r} is not a valid pattern: {exc}")
            parts = set()
        if "" in parts or any(not NAME_RE.match(p) for p in parts):
            problems.append(f"{top}: file_name placeholders must be named, e.g. {{plan_code}}")
    file_name_regex = _text(raw, "file_name_regex", top, problems)
    if file_name_regex:
        try:
            re.compile(file_name_regex)
        except re.error as exc:
            problems.append(f"{top}: file_name_regex does not compile: {exc}")

    if problems:
        raise LayoutFileError(f"{path}: " + "; ".join(problems))
    layout = Layout(
        key=layout_key,
        title=title,
        rule=rule,
        direction=direction,
        file_name=file_name,
        file_name_regex=file_name_regex,
        delimiter=delimiter,
        encoding=encoding,
        header=bool(header),
        date_format=date_format,
        source=source,
        assumed=assumed,
        independent_rows=bool(independent),
        independent_rows_reason=independent_reason,
        fields=tuple(fields),
        path=path,
    )
    _check_file_name_round_trip(layout, problems)
    if problems:
        raise LayoutFileError(f"{path}: " + "; ".join(problems))
    return layout


def _check_file_name_round_trip(layout: Layout, problems: list[str]) -> None:
    """The name the pattern makes for sample parts must match the layout's own regex."""
    parts = {p[1] for p in string.Formatter().parse(layout.file_name) if p[1]}
    sample: dict[str, object] = {}
    for part in parts:
        sample[part] = date(2026, 1, 15) if "date" in part else "1234567890"
    try:
        name = layout.file_name_for(**sample)
    except (ValueError, KeyError, IndexError) as exc:
        problems.append(f"layout: file_name {layout.file_name!r} cannot be filled: {exc}")
        return
    if layout.match_file_name(name) is None:
        problems.append(f"layout: file_name_regex does not match a name file_name makes ({name!r})")
