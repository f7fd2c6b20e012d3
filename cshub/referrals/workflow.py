"""The referral workflow as data (DESIGN principles 1 and 3): statuses, the one transition table, reasons
and the outreach rule, loaded from cshub/data/referral_workflow.toml and checked when first used (and by
`check_workflow()` at start-up). Services ask this module what is allowed; nothing else holds a copy."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings

WORKFLOW_FILE = Path(__file__).resolve().parent.parent / "data" / "referral_workflow.toml"
PARTIES = frozenset({"provider", "plan", "referrer"})
GUARDS = frozenset({"first_contact_eligible", "enrolled", "outreach_o3"})
INITIAL_STATUS = "pending"
KINDS = frozenset({"cs", "ecm"})  # Referral.Kind values


class WorkflowFileError(ValueError):
    """The workflow file is not valid; the message says where."""


@dataclass(frozen=True)
class Status:
    key: str
    label: str
    findhelp: str
    gravity: str
    closed: bool
    loop_closure: str = ""
    help: str = ""


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    parties: frozenset[str]
    reason_required: bool = False
    guard: str = ""
    kinds: frozenset[str] = frozenset()  # empty = every kind of referral

    def applies_to(self, kind: str | None) -> bool:
        return kind is None or not self.kinds or kind in self.kinds


@dataclass(frozen=True)
class OutreachRule:
    """Rule O3."""

    window_days: int
    min_attempts: int
    min_modalities: int
    at_risk_days: int = 5  # worklist highlight, not a rule


@dataclass(frozen=True)
class Workflow:
    version: str
    statuses: dict[str, Status]
    transitions: dict[tuple[str, str], Transition]
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outreach: OutreachRule = OutreachRule(30, 5, 3)

    def status(self, key: str) -> Status:
        return self.statuses[key]

    def transition(self, source: str, target: str) -> Transition | None:
        return self.transitions.get((source, target))

    def next_statuses(self, source: str, party: str | None = None, kind: str | None = None) -> list[str]:
        """The statuses reachable from `source` (by `party`, for a referral of `kind`, when given), in
        file order."""
        return [
            t.target
            for (s, _), t in self.transitions.items()
            if s == source and (party is None or party in t.parties) and t.applies_to(kind)
        ]

    @property
    def open_statuses(self) -> list[str]:
        return [k for k, s in self.statuses.items() if not s.closed]

    @property
    def closed_statuses(self) -> list[str]:
        return [k for k, s in self.statuses.items() if s.closed]

    def choices(self) -> list[tuple[str, str]]:
        return [(k, s.label) for k, s in self.statuses.items()]


def _as_list(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise WorkflowFileError(f"{where}: expected a status key or a list of them")


def parse_workflow(raw: dict, path: Path | str = WORKFLOW_FILE) -> Workflow:
    statuses: dict[str, Status] = {}
    for key, item in (raw.get("statuses") or {}).items():
        try:
            statuses[key] = Status(
                key=key,
                label=str(item["label"]),
                findhelp=str(item["findhelp"]),
                gravity=str(item["gravity"]),
                closed=bool(item["closed"]),
                loop_closure=str(item.get("loop_closure", "")),
                help=str(item.get("help", "")),
            )
        except KeyError as exc:
            raise WorkflowFileError(f"{path}: status {key!r} lacks {exc.args[0]!r}") from exc
        if statuses[key].closed and not statuses[key].loop_closure:
            raise WorkflowFileError(f"{path}: closing status {key!r} needs a loop_closure reason (CLR)")
    if INITIAL_STATUS not in statuses:
        raise WorkflowFileError(f"{path}: the initial status {INITIAL_STATUS!r} is missing")
    transitions: dict[tuple[str, str], Transition] = {}
    for n, item in enumerate(raw.get("transitions") or [], start=1):
        where = f"{path}: transition {n}"
        parties = frozenset(_as_list(item.get("by", []), where + " by"))
        if not parties or parties - PARTIES:
            raise WorkflowFileError(f"{where}: `by` must name some of {sorted(PARTIES)}")
        guard = str(item.get("guard", ""))
        kinds = frozenset(_as_list(item.get("kinds", []), where + " kinds"))
        if kinds - KINDS:
            raise WorkflowFileError(f"{where}: `kinds` must name some of {sorted(KINDS)}")
        if guard and guard not in GUARDS:
            raise WorkflowFileError(f"{where}: unknown guard {guard!r}")
        for source in _as_list(item.get("from"), where + " from"):
            for target in _as_list(item.get("to"), where + " to"):
                for key in (source, target):
                    if key not in statuses:
                        raise WorkflowFileError(f"{where}: unknown status {key!r}")
                if statuses[source].closed:
                    raise WorkflowFileError(f"{where}: {source!r} is closed; a closed loop stays closed")
                if (source, target) in transitions:
                    raise WorkflowFileError(f"{where}: {source} -> {target} is listed twice")
                transitions[(source, target)] = Transition(
                    source, target, parties, bool(item.get("reason", False)), guard, kinds
                )
    reasons = {k: tuple(v) for k, v in (raw.get("reasons") or {}).items()}
    for key in reasons:
        if key not in statuses:
            raise WorkflowFileError(f"{path}: reasons for unknown status {key!r}")
    out = raw.get("outreach") or {}
    try:
        outreach = OutreachRule(
            int(out["window_days"]),
            int(out["min_attempts"]),
            int(out["min_modalities"]),
            int(out.get("at_risk_days", 5)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkflowFileError(
            f"{path}: [outreach] needs window_days, min_attempts, min_modalities"
        ) from exc
    return Workflow(str(raw.get("version", "")), statuses, transitions, reasons, outreach)


@cache
def workflow() -> Workflow:
    path = Path(getattr(settings, "CSHUB_REFERRAL_WORKFLOW_FILE", "") or WORKFLOW_FILE)
    with path.open("rb") as fh:
        return parse_workflow(tomllib.load(fh), path)


def check_workflow() -> None:
    """Start-up check: raises WorkflowFileError when the file is not valid."""
    workflow.cache_clear()
    workflow()
