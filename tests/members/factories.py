"""Factories and helpers of the members tests (the shared ones are in tests/factories.py)."""

from __future__ import annotations

import csv
import io

import factory

from cshub.accounts.roles import OrganizationKind
from cshub.members.models import ProgramEnrollment
from cshub.members.roster import COLUMNS
from tests.factories import MemberFactory, OrganizationFactory


class EcmProviderFactory(OrganizationFactory):
    kind = OrganizationKind.ECM_PROVIDER
    name = factory.Sequence(lambda n: f"ECM Provider {n}")


class ProgramEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramEnrollment

    member = factory.SubFactory(MemberFactory)
    program = "ccm"
    start_date = factory.Faker("date_between", start_date="-2y", end_date="-1y")


def roster_row(n: int = 1, **values: str) -> dict[str, str]:
    """A valid roster row; keyword arguments override columns."""
    row = {
        "cin": f"{95000000 + n:08d}Z",
        "plan_member_id": f"GS{n:09d}",
        "last_name": f"Lastname{n}",
        "first_name": f"First{n}",
        "date_of_birth": "1970-01-15",
        "sex": "F",
        "preferred_language": "es",
        "address_line": f"{n} Main St",
        "city": "Sacramento",
        "zip_code": "95814",
        "county": "Sacramento",
        "phone": "916-555-0100",
        "email": "",
        "contact_preference": "phone",
        "is_homeless": "N",
        "line_of_business": "medi_cal",
        "eligibility_start": "2025-01-01",
        "eligibility_end": "",
    }
    row.update(values)
    return row


def roster_csv(rows: list[dict[str, str]], columns: list[str] | tuple[str, ...] | None = None) -> bytes:
    """A roster file with the given rows (columns default to every known column)."""
    columns = list(columns or COLUMNS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue().encode("utf-8")
