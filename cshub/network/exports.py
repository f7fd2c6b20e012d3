"""CSV rows of the network lists, shared by the pages and the API."""

from __future__ import annotations

from typing import Any

from cshub.network.models import Application, InterestForm

INTEREST_CSV = [
    "number",
    "submitted_at",
    "status",
    "organization",
    "npi",
    "contact",
    "email",
    "phone",
    "counties",
    "services",
]


def interest_row(f: InterestForm) -> list[Any]:
    return [
        f.number,
        f.submitted_at.isoformat(),
        f.status,
        f.organization_name,
        f.npi,
        f.contact_name,
        f.contact_email,
        f.contact_phone,
        "; ".join(c.name for c in f.counties.all()),
        "; ".join(s.name for s in f.services.all()),
    ]


APPLICATION_CSV = [
    "number",
    "kind",
    "program",
    "organization",
    "status",
    "status_changed_at",
    "submitted_at",
    "round",
    "services",
]


def application_row(a: Application) -> list[Any]:
    return [
        a.number,
        a.kind,
        a.program,
        a.organization.name,
        a.status,
        a.status_changed_at.isoformat(),
        a.submitted_at.isoformat() if a.submitted_at else "",
        a.review_round,
        "; ".join(s.name for s in a.services.all()),
    ]
