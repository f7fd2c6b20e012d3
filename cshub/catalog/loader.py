"""Reading and validating the catalog files (cshub/data/catalog/). No database access here: the result is a
`CatalogSpec` that `services.catalog_load` writes in one transaction, and the app's system check runs the
same validation at start-up (DESIGN principle 1).

Files: `catalog.toml` (version, the sources every value cites, the documents every request needs),
`services/<key>.toml` (one Community Support each; adding a service is adding a file) and `hcpcs.csv`
(code + modifier -> service). The format is described in cshub/catalog/README.md.

Every problem is collected and reported at once, each naming the file and the field
(`services/housing_deposits.toml:authorization.kind`); nothing is written when there is one.
Values left empty in the files are filled from named settings (`SETTING_DEFAULTS`) and marked "assumed".
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings

from cshub.catalog.models import Confidence, Service, ServiceLimit
from cshub.core.errors import DomainError, FieldError
from cshub.core.reference import DATA_DIR

DEFAULT_CATALOG_DIR = DATA_DIR / "catalog"

# Values the files leave empty come from these settings (getattr(settings, NAME, default)); each is listed
# with its reason in cshub/catalog/README.md.
SETTING_DEFAULTS: dict[str, Any] = {
    "CSHUB_CATALOG_DEFAULT_AUTHORIZATION": Service.Authorization.REQUIRED.value,
    "CSHUB_CATALOG_DEFAULT_URGENT": False,
    "CSHUB_CATALOG_DEFAULT_INITIAL_AUTH_MONTHS": 6,
    "CSHUB_CATALOG_DEFAULT_REAUTH_MONTHS": 6,
    "CSHUB_CATALOG_DEFAULT_REAUTH_DOCUMENTS": (
        "Updated assessment or progress notes showing the member still needs the service",
        "Updated care or service plan with goals and progress since the last authorization",
    ),
    "CSHUB_CATALOG_AUTHORIZATION_OVERRIDES": {},
}

HCPCS_RE = re.compile(r"^[A-Z]\d{4}$")
MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")
SOURCE_ID_RE = re.compile(r"^[a-z0-9_]{2,60}$")
CSV_COLUMNS = ("service", "hcpcs", "modifier", "billing_unit", "description", "note", "source", "confidence")

CONFIDENCES = set(Confidence.values)
LENGTH_UNITS_WITH_NUMBER = {"days", "weeks", "months", "hours", "units"}
LENGTH_UNITS_WITHOUT_NUMBER = {"one_time", "as_needed", "none"}
ELIGIBILITY_KINDS = ("all", "any", "exclusion")
LIMIT_DEFAULT_UNITS = {
    ServiceLimit.Kind.LIFETIME_COUNT: "times",
    ServiceLimit.Kind.LIFETIME_AMOUNT_USD: "USD",
    ServiceLimit.Kind.PER_PERIOD_COUNT: "times",
    ServiceLimit.Kind.PER_PERIOD_HOURS: "hours",
    ServiceLimit.Kind.ROLLING_WINDOW_DAYS: "days",
    ServiceLimit.Kind.ROLLING_WINDOW_MONTHS: "months",
    ServiceLimit.Kind.MAX_CONTINUOUS_DAYS: "days",
    ServiceLimit.Kind.MAX_STAY_HOURS: "hours",
}
PER_PERIOD_KINDS = {ServiceLimit.Kind.PER_PERIOD_COUNT, ServiceLimit.Kind.PER_PERIOD_HOURS}
ROLLING_KINDS = {ServiceLimit.Kind.ROLLING_WINDOW_DAYS, ServiceLimit.Kind.ROLLING_WINDOW_MONTHS}

SERVICE_KEYS = {
    "key",
    "name",
    "aliases",
    "category",
    "order",
    "description",
    "overview",
    "closed_loop_referral",
    "active",
    "catalog_version",
    "provenance",
    "authorization",
    "urgency",
    "initial_authorization",
    "reauthorization",
    "limits",
    "eligibility",
    "documents",
}
PROVENANCE_REQUIRED = ("name", "description", "overview", "category", "closed_loop_referral")
PROVENANCE_KEYS = {"source", "confidence", "note"}


def catalog_setting(name: str) -> Any:
    return getattr(settings, name, SETTING_DEFAULTS[name])


def catalog_dir() -> Path:
    return Path(getattr(settings, "CSHUB_CATALOG_DIR", DEFAULT_CATALOG_DIR))


@dataclass(frozen=True)
class CodeSpec:
    service_key: str
    hcpcs: str
    modifier: str
    billing_unit: str
    description: str
    note: str
    source: str
    confidence: str

    @property
    def code(self) -> str:
        return f"{self.hcpcs}-{self.modifier}"


@dataclass(frozen=True)
class LimitSpec:
    position: int
    kind: str
    value: Decimal
    unit: str
    window_days: int | None
    calendar_year: bool
    group: str
    shared_with: tuple[str, ...]
    note: str
    source: str
    confidence: str

    def model_values(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("shared_with")
        return values


@dataclass
class ServiceSpec:
    key: str
    path: str
    values: dict[str, Any]
    limits: list[LimitSpec] = field(default_factory=list)
    codes: list[CodeSpec] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        payload = {
            "values": self.values,
            "limits": [asdict(limit) for limit in self.limits],
            "codes": [asdict(code) for code in self.codes],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class CatalogSpec:
    version: str
    directory: Path
    services: list[ServiceSpec]

    @property
    def codes(self) -> list[CodeSpec]:
        return [code for spec in self.services for code in spec.codes]


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, where: str, message: str, code: str = "invalid", row: int | None = None) -> None:
        self.items.append(FieldError(field=where, message=message, code=code, row=row))


class _Reader:
    """Validates one catalog directory, collecting every error."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.errors = _Errors()
        self.sources: dict[str, dict[str, str]] = {}
        self.common_initial_documents: list[dict[str, str]] = []
        self.version = ""

    # -- small typed getters ------------------------------------------------------------------------
    def _str(self, data: dict, name: str, where: str, *, required: bool = True, max_length: int = 0) -> str:
        value = data.get(name)
        if value is None:
            if required:
                self.errors.add(self._at(where, name), "is required", "required")
            return ""
        if not isinstance(value, str):
            self.errors.add(self._at(where, name), "must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.errors.add(self._at(where, name), "must not be empty", "required")
        if max_length and len(value) > max_length:
            self.errors.add(self._at(where, name), f"must be at most {max_length} characters")
        return value

    @staticmethod
    def _at(where: str, name: str) -> str:
        return f"{where}:{name}" if where.endswith((".toml", ".csv")) else f"{where}.{name}"

    def _bool(self, data: dict, name: str, where: str, default: bool | None = None) -> bool | None:
        value = data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.errors.add(self._at(where, name), "must be true or false")
            return default
        return value

    def _table(self, data: dict, name: str, where: str) -> dict:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.errors.add(self._at(where, name), "must be a table")
            return {}
        return value

    def _unknown_keys(self, data: dict, allowed: set[str], where: str) -> None:
        for extra in sorted(set(data) - allowed):
            self.errors.add(self._at(where, extra), "unknown field", "unknown_field")

    def _source_ref(self, data: dict, where: str) -> dict[str, str]:
        """The {source, confidence, note} every value carries."""
        source = self._str(data, "source", where)
        if source and source not in self.sources:
            self.errors.add(
                self._at(where, "source"),
                f"unknown source '{source}' (add it to catalog.toml [sources])",
                "unknown_source",
            )
        confidence = self._str(data, "confidence", where)
        if confidence and confidence not in CONFIDENCES:
            self.errors.add(
                self._at(where, "confidence"),
                f"'{confidence}' is not one of {', '.join(sorted(CONFIDENCES))}",
            )
        note = self._str(data, "note", where, required=False)
        return {"source": source, "confidence": confidence, "note": note}

    def _items(self, raw: object, where: str, *, with_kind: bool = False) -> list[dict[str, str]]:
        """Checklist items: eligibility criteria or required documents."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.errors.add(where, "must be a list of tables ([[...]])")
            return []
        items = []
        allowed = {"text", "source", "confidence", "note"} | ({"kind"} if with_kind else set())
        for i, data in enumerate(raw, start=1):
            at = f"{where}[{i}]"
            if not isinstance(data, dict):
                self.errors.add(at, "must be a table")
                continue
            self._unknown_keys(data, allowed, at)
            item = {"text": self._str(data, "text", at, max_length=1000), **self._source_ref(data, at)}
            if with_kind:
                kind = self._str(data, "kind", at, required=False) or "all"
                if kind not in ELIGIBILITY_KINDS:
                    self.errors.add(f"{at}.kind", f"'{kind}' is not one of {', '.join(ELIGIBILITY_KINDS)}")
                item = {"kind": kind, **item}
            items.append(item)
        return items

    # -- catalog.toml ---------------------------------------------------------------------------------
    def read_catalog_file(self) -> None:
        path = self.directory / "catalog.toml"
        data = self._load_toml(path, "catalog.toml")
        if data is None:
            return
        where = "catalog.toml"
        self._unknown_keys(data, {"catalog_version", "sources", "documents"}, where)
        self.version = self._str(data, "catalog_version", where, max_length=20)
        sources = self._table(data, "sources", where)
        if not sources:
            self.errors.add(f"{where}:sources", "at least one source is required", "required")
        for source_id, raw in sources.items():
            at = f"{where}:sources.{source_id}"
            if not SOURCE_ID_RE.match(source_id):
                self.errors.add(at, "source ids are lower-case letters, digits and underscores")
            if not isinstance(raw, dict):
                self.errors.add(at, "must be a table")
                continue
            self._unknown_keys(raw, {"title", "short", "url"}, at)
            title = self._str(raw, "title", at, max_length=300)
            url = self._str(raw, "url", at, required=False)
            if url and not url.startswith(("https://", "http://")):
                self.errors.add(f"{at}.url", "must start with https:// or http://")
            self.sources[source_id] = {
                "title": title,
                "short": self._str(raw, "short", at, required=False, max_length=60) or title,
                "url": url,
            }
        documents = self._table(data, "documents", where)
        self._unknown_keys(documents, {"initial"}, f"{where}:documents")
        self.common_initial_documents = self._items(documents.get("initial"), f"{where}:documents.initial")

    def _load_toml(self, path: Path, label: str) -> dict | None:
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except FileNotFoundError:
            self.errors.add(label, "file not found", "missing_file")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            self.errors.add(label, f"not valid TOML: {exc}", "bad_toml")
        return None

    # -- services/<key>.toml --------------------------------------------------------------------------
    def read_service_files(self) -> list[ServiceSpec]:
        folder = self.directory / "services"
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        if not paths:
            self.errors.add("services/", "no service files (services/<key>.toml) found", "missing_file")
        specs = []
        for path in paths:
            label = f"services/{path.name}"
            data = self._load_toml(path, label)
            if data is not None:
                spec = self._service(data, label, path.stem)
                if spec is not None:
                    specs.append(spec)
        specs.sort(key=lambda s: (s.values["sort_order"], s.key))
        return specs

    def _service(self, data: dict, where: str, stem: str) -> ServiceSpec | None:
        self._unknown_keys(data, SERVICE_KEYS, where)
        key = self._str(data, "key", where, max_length=80)
        if key and not KEY_RE.match(key):
            self.errors.add(f"{where}:key", "must be lower-case letters, digits and underscores")
        if key and key != stem:
            self.errors.add(f"{where}:key", f"must match the file name ('{stem}')")
        name = self._str(data, "name", where, max_length=200)
        aliases = data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            self.errors.add(f"{where}:aliases", "must be a list of names")
            aliases = []
        category = self._str(data, "category", where)
        if category and category not in Service.Category.values:
            self.errors.add(
                f"{where}:category", f"'{category}' is not one of {', '.join(Service.Category.values)}"
            )
        order = data.get("order")
        if not isinstance(order, int) or isinstance(order, bool) or order < 0:
            self.errors.add(f"{where}:order", "is required: a whole number, 0 or more", "required")
            order = 0
        description = self._str(data, "description", where)
        overview = self._str(data, "overview", where)
        closed_loop = self._bool(data, "closed_loop_referral", where)
        if closed_loop is None:
            self.errors.add(f"{where}:closed_loop_referral", "is required (true or false)", "required")
        active = self._bool(data, "active", where, default=True)
        version = self._str(data, "catalog_version", where, required=False, max_length=20) or self.version

        notes: dict[str, dict[str, str]] = {}
        provenance = self._table(data, "provenance", where)
        required = list(PROVENANCE_REQUIRED) + (["aliases"] if aliases else [])
        self._unknown_keys(provenance, set(required) | {"aliases"}, f"{where}:provenance")
        for name_ in required:
            at = f"{where}:provenance.{name_}"
            entry = provenance.get(name_)
            if not isinstance(entry, dict):
                self.errors.add(at, "is required: { source = ..., confidence = ... }", "required")
                continue
            self._unknown_keys(entry, PROVENANCE_KEYS, at)
            notes[name_] = self._source_ref(entry, at)

        auth = self._authorization(data, where, key, notes)
        urgent = self._urgency(data, where, notes)
        initial = self._length(data, "initial_authorization", where, notes)
        reauth = self._length(data, "reauthorization", where, notes)
        limits = self._limits(data.get("limits", []), f"{where}:limits")
        eligibility = self._items(data.get("eligibility"), f"{where}:eligibility", with_kind=True)
        if not eligibility:
            self.errors.add(
                f"{where}:eligibility", "at least one criterion is required (rule G1)", "required"
            )
        documents = self._documents(data, where, reauth_unit=reauth[1])

        values = {
            "name": name,
            "aliases": [a.strip() for a in aliases],
            "category": category,
            "sort_order": order,
            "description": description,
            "overview": overview,
            "authorization": auth["kind"],
            "authorization_plan_choice": auth["plan_choice"],
            "authorization_note": auth["note"],
            "urgent_by_default": urgent,
            "initial_auth_length": initial[0],
            "initial_auth_unit": initial[1],
            "reauth_length": reauth[0],
            "reauth_unit": reauth[1],
            "eligibility": eligibility,
            "required_documents": documents,
            "closed_loop_referral": bool(closed_loop),
            "active": bool(active),
            "catalog_version": version,
            "source_notes": notes,
        }
        if not key:
            return None
        return ServiceSpec(key=key, path=where, values=values, limits=limits)

    def _authorization(self, data: dict, where: str, key: str, notes: dict) -> dict[str, Any]:
        at = f"{where}:authorization"
        table = self._table(data, "authorization", where)
        self._unknown_keys(table, {"kind", "plan_choice", "note", "source", "confidence"}, at)
        plan_choice = bool(self._bool(table, "plan_choice", at, default=False))
        note = self._str(table, "note", at, required=False)
        choices = Service.Authorization.values
        kind = self._str(table, "kind", at, required=False)
        if kind:
            if kind not in choices:
                self.errors.add(
                    f"{at}.kind",
                    f"unknown authorization kind '{kind}' (one of {', '.join(choices)})",
                    "unknown_authorization",
                )
            # The table's note is the service's authorization_note; not repeated in the provenance.
            notes["authorization"] = {**self._source_ref(table, at), "note": ""}
        else:
            setting = "CSHUB_CATALOG_DEFAULT_AUTHORIZATION"
            kind = catalog_setting(setting)
            if kind not in choices:
                self.errors.add(f"settings.{setting}", f"'{kind}' is not one of {', '.join(choices)}")
            notes["authorization"] = _assumed(setting, "The file leaves authorization empty.")
        overrides = catalog_setting("CSHUB_CATALOG_AUTHORIZATION_OVERRIDES") or {}
        if key in overrides:
            setting = f"CSHUB_CATALOG_AUTHORIZATION_OVERRIDES['{key}']"
            if not plan_choice:
                self.errors.add(f"settings.{setting}", "this service's authorization is not a plan choice")
            elif not isinstance(overrides[key], str) or overrides[key] not in choices:
                self.errors.add(
                    f"settings.{setting}", f"'{overrides[key]}' is not one of {', '.join(choices)}"
                )
            else:
                kind = overrides[key]
                notes["authorization"] = {
                    "source": f"setting:{setting}",
                    "confidence": Confidence.DOCUMENTED.value,
                    "note": "The plan's own choice, set in its settings.",
                }
        return {"kind": kind, "plan_choice": plan_choice, "note": note}

    def _urgency(self, data: dict, where: str, notes: dict) -> bool:
        at = f"{where}:urgency"
        table = self._table(data, "urgency", where)
        self._unknown_keys(table, {"urgent_by_default", "source", "confidence", "note"}, at)
        urgent = self._bool(table, "urgent_by_default", at)
        if urgent is None:
            setting = "CSHUB_CATALOG_DEFAULT_URGENT"
            notes["urgent_by_default"] = _assumed(
                setting, "Not named as urgent in the Reference Guide §8.2.2."
            )
            return bool(catalog_setting(setting))
        notes["urgent_by_default"] = self._source_ref(table, at)
        return urgent

    def _length(self, data: dict, name: str, where: str, notes: dict) -> tuple[int | None, str]:
        at = f"{where}:{name}"
        table = self._table(data, name, where)
        self._unknown_keys(table, {"length", "unit", "source", "confidence", "note"}, at)
        length, unit = table.get("length"), table.get("unit")
        if length is None and unit is None:
            setting = (
                "CSHUB_CATALOG_DEFAULT_INITIAL_AUTH_MONTHS"
                if name == "initial_authorization"
                else "CSHUB_CATALOG_DEFAULT_REAUTH_MONTHS"
            )
            months = catalog_setting(setting)
            if not isinstance(months, int) or isinstance(months, bool) or months <= 0:
                self.errors.add(f"settings.{setting}", "must be a whole number of months above 0")
                months = SETTING_DEFAULTS[setting]
            notes[name] = _assumed(setting, "No source found for this length.")
            return months, "months"
        notes[name] = self._source_ref(table, at)
        if not isinstance(unit, str) or unit not in LENGTH_UNITS_WITH_NUMBER | LENGTH_UNITS_WITHOUT_NUMBER:
            units = ", ".join(sorted(LENGTH_UNITS_WITH_NUMBER | LENGTH_UNITS_WITHOUT_NUMBER))
            self.errors.add(f"{at}.unit", f"is required: one of {units}", "required")
            return None, "none"
        if unit in LENGTH_UNITS_WITHOUT_NUMBER:
            if length is not None:
                self.errors.add(f"{at}.length", f"must be empty when the unit is '{unit}'")
            return None, unit
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            self.errors.add(f"{at}.length", f"is required: a whole number of {unit} above 0", "required")
            return None, unit
        return length, unit

    def _limits(self, raw: object, where: str) -> list[LimitSpec]:
        if not isinstance(raw, list):
            self.errors.add(where, "must be a list of tables ([[limits]])")
            return []
        limits = []
        allowed = {"kind", "value", "unit", "window_days", "calendar_year", "group", "shared_with"}
        allowed |= {"note", "source", "confidence"}
        for position, data in enumerate(raw, start=1):
            at = f"{where}[{position}]"
            if not isinstance(data, dict):
                self.errors.add(at, "must be a table")
                continue
            self._unknown_keys(data, allowed, at)
            kind = self._str(data, "kind", at)
            if kind and kind not in ServiceLimit.Kind.values:
                self.errors.add(
                    f"{at}.kind",
                    f"unknown limit kind '{kind}' (one of {', '.join(ServiceLimit.Kind.values)})",
                )
            value = self._decimal(data.get("value"), f"{at}.value")
            window_days = data.get("window_days")
            if window_days is not None and (
                not isinstance(window_days, int) or isinstance(window_days, bool) or window_days <= 0
            ):
                self.errors.add(f"{at}.window_days", "must be a whole number of days above 0")
                window_days = None
            calendar_year = bool(self._bool(data, "calendar_year", at, default=False))
            if kind in PER_PERIOD_KINDS and (window_days is None) == (not calendar_year):
                self.errors.add(
                    f"{at}.window_days", f"'{kind}' needs exactly one of window_days or calendar_year"
                )
            elif kind in ROLLING_KINDS and (window_days is None or calendar_year):
                self.errors.add(f"{at}.window_days", f"'{kind}' needs window_days (and no calendar_year)")
            elif kind and kind not in PER_PERIOD_KINDS | ROLLING_KINDS and (window_days or calendar_year):
                self.errors.add(f"{at}.window_days", f"'{kind}' takes no window")
            group = self._str(data, "group", at, required=False, max_length=60)
            shared_with = data.get("shared_with", [])
            if not isinstance(shared_with, list) or not all(isinstance(s, str) for s in shared_with):
                self.errors.add(f"{at}.shared_with", "must be a list of service keys")
                shared_with = []
            if bool(group) != bool(shared_with):
                self.errors.add(f"{at}.group", "a shared limit needs both group and shared_with")
            unit = self._str(data, "unit", at, required=False, max_length=20)
            limits.append(
                LimitSpec(
                    position=position,
                    kind=kind,
                    value=value,
                    unit=unit or LIMIT_DEFAULT_UNITS.get(kind, ""),
                    window_days=window_days,
                    calendar_year=calendar_year,
                    group=group,
                    shared_with=tuple(sorted(shared_with)),
                    **self._source_ref(data, at),
                )
            )
        return limits

    def _decimal(self, raw: object, where: str) -> Decimal:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.errors.add(where, "is required: a number above 0", "required")
            return Decimal(0)
        try:
            value = Decimal(str(raw))
        except InvalidOperation:  # pragma: no cover - TOML numbers always convert
            value = Decimal(0)
        if value <= 0 or value != value.quantize(Decimal("0.01")) or value >= Decimal("1e10"):
            self.errors.add(where, "must be above 0 with at most 2 decimals")
        return value

    def _documents(self, data: dict, where: str, *, reauth_unit: str) -> dict[str, list[dict[str, str]]]:
        at = f"{where}:documents"
        table = self._table(data, "documents", where)
        self._unknown_keys(table, {"include_common", "initial", "reauthorization"}, at)
        include_common = self._bool(table, "include_common", at, default=True)
        initial = (list(self.common_initial_documents) if include_common else []) + self._items(
            table.get("initial"), f"{at}.initial"
        )
        reauthorization = self._items(table.get("reauthorization"), f"{at}.reauthorization")
        if not reauthorization and reauth_unit not in ("none", "one_time"):
            setting = "CSHUB_CATALOG_DEFAULT_REAUTH_DOCUMENTS"
            texts = catalog_setting(setting)
            if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
                self.errors.add(f"settings.{setting}", "must be a list of texts")
                texts = SETTING_DEFAULTS[setting]
            reauthorization = [{"text": t, **_assumed(setting, "")} for t in texts]
        return {"initial": initial, "reauthorization": reauthorization}

    # -- hcpcs.csv --------------------------------------------------------------------------------------
    def read_codes(self, services: dict[str, ServiceSpec]) -> None:
        where = "hcpcs.csv"
        path = self.directory / where
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(line for line in fh if not line.startswith("#"))
                header = tuple(reader.fieldnames or ())
                rows = list(reader)
        except FileNotFoundError:
            self.errors.add(where, "file not found", "missing_file")
            return
        except UnicodeDecodeError as exc:
            self.errors.add(where, f"not UTF-8 text: {exc}", "bad_csv")
            return
        if header != CSV_COLUMNS:
            self.errors.add(where, f"the columns must be: {','.join(CSV_COLUMNS)}", "bad_header")
            return
        seen: dict[tuple[str, str], tuple[int, str]] = {}
        for number, row in enumerate(rows, start=1):
            values = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if None in row:
                self.errors.add(where, "more values than columns", row=number)
            key, hcpcs, modifier = values["service"], values["hcpcs"], values["modifier"]
            if key not in services:
                self.errors.add(
                    f"{where}:service",
                    f"unknown service '{key}' (no services/{key}.toml)",
                    "unknown_service",
                    row=number,
                )
            if not HCPCS_RE.match(hcpcs):
                self.errors.add(
                    f"{where}:hcpcs",
                    f"'{hcpcs}' is not a HCPCS code (a letter and four digits)",
                    "bad_hcpcs",
                    row=number,
                )
            if not MODIFIER_RE.match(modifier):
                self.errors.add(
                    f"{where}:modifier",
                    f"'{modifier}' is not a modifier (two letters or digits)",
                    "bad_modifier",
                    row=number,
                )
            if values["source"] not in self.sources:
                self.errors.add(
                    f"{where}:source", f"unknown source '{values['source']}'", "unknown_source", row=number
                )
            if values["confidence"] not in CONFIDENCES:
                self.errors.add(
                    f"{where}:confidence",
                    f"'{values['confidence']}' is not one of {', '.join(sorted(CONFIDENCES))}",
                    row=number,
                )
            if (hcpcs, modifier) in seen:
                first_row, first_key = seen[(hcpcs, modifier)]
                self.errors.add(
                    f"{where}:modifier",
                    f"{hcpcs}-{modifier} is already listed on row {first_row} (for {first_key}); "
                    "a code and modifier identify one service",
                    "duplicate_code",
                    row=number,
                )
                continue
            seen[(hcpcs, modifier)] = (number, key)
            if key in services:
                services[key].codes.append(
                    CodeSpec(
                        service_key=key,
                        hcpcs=hcpcs,
                        modifier=modifier,
                        billing_unit=values["billing_unit"][:40],
                        description=values["description"][:300],
                        note=values["note"],
                        source=values["source"],
                        confidence=values["confidence"],
                    )
                )

    # -- across files -----------------------------------------------------------------------------------
    def check_across(self, specs: list[ServiceSpec]) -> None:
        by_key = {s.key: s for s in specs}
        for spec in specs:
            if spec.values["active"] and not spec.codes:
                self.errors.add(
                    f"{spec.path}:key", "no HCPCS code for this service in hcpcs.csv (rule G1)", "no_codes"
                )
        groups: dict[str, list[tuple[ServiceSpec, LimitSpec]]] = {}
        for spec in specs:
            for limit in spec.limits:
                if limit.group:
                    groups.setdefault(limit.group, []).append((spec, limit))
        for group, members in groups.items():
            keys = {spec.key for spec, _ in members}
            shape = {(lim.kind, lim.value, lim.window_days, lim.calendar_year) for _, lim in members}
            for spec, limit in members:
                at = f"{spec.path}:limits[{limit.position}]"
                for other in limit.shared_with:
                    if other not in by_key:
                        self.errors.add(f"{at}.shared_with", f"unknown service '{other}'", "unknown_service")
                if set(limit.shared_with) | {spec.key} != keys:
                    self.errors.add(
                        f"{at}.shared_with",
                        f"group '{group}' is defined by {', '.join(sorted(keys))}; shared_with must "
                        "name the others",
                    )
                if len(shape) > 1:
                    self.errors.add(f"{at}.value", f"the services of group '{group}' give different limits")

    def finish(self, specs: list[ServiceSpec]) -> None:
        """The sources each service cites and its search text, once the codes are attached."""
        for spec in specs:
            cited = {n["source"] for n in spec.values["source_notes"].values()}
            cited |= {i["source"] for i in spec.values["eligibility"]}
            for items in spec.values["required_documents"].values():
                cited |= {i["source"] for i in items}
            cited |= {limit.source for limit in spec.limits} | {code.source for code in spec.codes}
            spec.values["sources"] = {s: self.sources[s] for s in sorted(cited) if s in self.sources}
            words = [spec.key, spec.values["name"], *spec.values["aliases"], spec.values["description"]]
            words += [f"{c.code} {c.hcpcs}{c.modifier}" for c in spec.codes]
            spec.values["search_text"] = " ".join(words).lower()


def _assumed(setting: str, note: str) -> dict[str, str]:
    return {"source": f"setting:{setting}", "confidence": Confidence.ASSUMED.value, "note": note}


def read_catalog(directory: Path | None = None) -> CatalogSpec:
    """Read and validate every catalog file; raise DomainError listing every problem (file and field)."""
    directory = Path(directory) if directory is not None else catalog_dir()
    reader = _Reader(directory)
    reader.read_catalog_file()
    specs = reader.read_service_files()
    by_key: dict[str, ServiceSpec] = {}
    for spec in specs:
        by_key.setdefault(spec.key, spec)
    reader.read_codes(by_key)
    reader.check_across(specs)
    if reader.errors.items:
        raise DomainError(
            message=f"The catalog files in {directory} are not valid; nothing was changed.",
            code="catalog_invalid",
            errors=reader.errors.items,
        )
    reader.finish(specs)
    return CatalogSpec(version=reader.version, directory=directory, services=specs)
