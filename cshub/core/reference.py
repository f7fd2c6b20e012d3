"""Reading the versioned reference files under cshub/data/ (each names its source in a leading # line)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def read_data_csv(name: str) -> list[dict[str, str]]:
    """Rows of a data CSV; lines starting with '#' (the source note) are skipped."""
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@cache
def county_names() -> tuple[str, ...]:
    return tuple(row["county"] for row in read_data_csv("ca_counties.csv"))


def sync_counties(county_model: type) -> int:
    """Insert any county of the data file that the table lacks; returns how many were added."""
    existing = set(county_model.objects.values_list("fips", flat=True))
    new = [
        county_model(fips=r["fips"], name=r["county"])
        for r in read_data_csv("ca_counties.csv")
        if r["fips"] not in existing
    ]
    county_model.objects.bulk_create(new)
    return len(new)
