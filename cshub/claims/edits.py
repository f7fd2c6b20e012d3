"""The adjudication edits and the CARC/RARC code list, as data (DESIGN principle 1).

`cshub/data/claim_edits.toml` holds one table per edit (its rule, outcome, 835 group/CARC/RARC and the
plain-language explanation); `cshub/data/claim_adjustment_codes.csv` the codes with their meaning. Both are
read once and checked against each other: an edit naming a code the list lacks is a start-up error.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from string import Formatter
from typing import Any

from cshub.core.reference import DATA_DIR, read_data_csv

OUTCOMES = frozenset({"deny", "pend", "adjust", "pay", "void"})


@dataclass(frozen=True)
class Edit:
    key: str
    rule: str
    outcome: str
    group: str
    carc: str
    rarc: str
    explanation: str

    def explain(self, **facts: Any) -> str:
        """The explanation with its {placeholders} filled; a missing fact shows as '?' rather than failing."""
        names = {name for _, name, _, _ in Formatter().parse(self.explanation) if name}
        return self.explanation.format(**{name: facts.get(name, "?") for name in names})


@dataclass(frozen=True)
class AdjustmentCode:
    kind: str  # CARC, RARC or GROUP
    code: str
    meaning: str
    use: str


@cache
def adjustment_codes() -> dict[tuple[str, str], AdjustmentCode]:
    return {
        (row["kind"], row["code"]): AdjustmentCode(row["kind"], row["code"], row["meaning"], row["use"])
        for row in read_data_csv("claim_adjustment_codes.csv")
    }


def code_meaning(kind: str, code: str) -> str:
    found = adjustment_codes().get((kind, code))
    return found.meaning if found else ""


@cache
def edits() -> dict[str, Edit]:
    with (DATA_DIR / "claim_edits.toml").open("rb") as fh:
        raw = tomllib.load(fh)["edits"]
    known = adjustment_codes()
    result: dict[str, Edit] = {}
    problems: list[str] = []
    for key, spec in raw.items():
        edit = Edit(
            key=key,
            **{
                name: str(spec.get(name, ""))
                for name in ("rule", "outcome", "group", "carc", "rarc", "explanation")
            },
        )
        if edit.outcome not in OUTCOMES:
            problems.append(f"{key}.outcome: {edit.outcome!r} is not one of {sorted(OUTCOMES)}")
        for kind, code in (("GROUP", edit.group), ("CARC", edit.carc), ("RARC", edit.rarc)):
            if code and (kind, code) not in known:
                problems.append(f"{key}: {kind} {code} is not in claim_adjustment_codes.csv")
        if edit.outcome in {"deny", "adjust", "pend"} and not (edit.group and edit.carc):
            problems.append(f"{key}: a {edit.outcome} edit needs a group and a CARC for the 835")
        result[key] = edit
    if problems:
        raise ValueError("cshub/data/claim_edits.toml: " + "; ".join(problems))
    return result


def edit(key: str) -> Edit:
    return edits()[key]
