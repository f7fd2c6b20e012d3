"""CSV export of the visible directory list (issue 4 item 9), shared by the page and the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from cshub.core.pagination import csv_response
from cshub.directory.selectors import DirectoryEntry

DIRECTORY_CSV_HEADER = (
    "organization",
    "service",
    "counties",
    "accepting_referrals",
    "accepting_counties",
    "phone",
    "languages",
    "hours",
    "listing_updated_at",
)


def directory_csv(entries: list[DirectoryEntry]) -> HttpResponse:
    def values(e: DirectoryEntry) -> list[Any]:
        hours = "; ".join(f"{d} {o}-{c}" for d, o, c in e.hours_rows)
        return [
            e.organization.name,
            e.service.name,
            "; ".join(e.county_names),
            "yes" if e.accepting else "no",
            "; ".join(c.name for c in e.accepting_counties),
            e.phone,
            "; ".join(n for _, n in e.languages),
            "; ".join(p for p in (hours, e.hours_text) if p),
            e.updated_at.isoformat() if e.updated_at else "",
        ]

    return csv_response("directory.csv", DIRECTORY_CSV_HEADER, entries, values)
