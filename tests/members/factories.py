"""Factories and helpers of the members tests (the shared ones are in tests/factories.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from cshub.accounts.roles import OrganizationKind
from cshub.members.models import (
    Assessment,
    Consent,
    ExternalInformation,
    Goal,
    GoalProgress,
    MemberNote,
    ProgramEnrollment,
    SdohNeed,
)
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


# --- Member documentation (rule M2) ---------------------------------------------------------------------


class ServiceFactory(factory.django.DjangoModelFactory):
    """A catalog service row (the catalog files are not loaded in these tests)."""

    class Meta:
        model = "catalog.Service"
        django_get_or_create = ("key",)

    key = "housing_transition_navigation"
    name = factory.LazyAttribute(lambda o: o.key.replace("_", " ").title())
    category = "housing"
    description = "A Community Support."
    authorization = "required"
    initial_auth_unit = "months"
    reauth_unit = "months"
    catalog_version = "test"
    content_hash = "test"


def pdf_upload(name: str = "consent.pdf", size: int = 0) -> SimpleUploadedFile:
    """A small file that starts like a PDF (the checks read the first bytes and the extension)."""
    content = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
    return SimpleUploadedFile(name, content.ljust(size, b" "), content_type="application/pdf")


def exe_upload(name: str = "consent.pdf") -> SimpleUploadedFile:
    """A Windows executable renamed to look like a PDF."""
    content = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    scopes = factory.LazyFunction(lambda: ["cs_services"])
    recipients = "Golden State Health Plan"
    signed_on = dt.date(2026, 10, 1)


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    template_key = "general"
    template_version = "2026-11"
    answers = factory.LazyFunction(lambda: {"needs_in_own_words": "Housing", "living_situation": "sheltered"})
    assessed_on = dt.date(2026, 11, 2)


class SdohNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SdohNeed

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    code = "Z59.01"
    description = "Sheltered homelessness"
    identified_on = dt.date(2026, 11, 3)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    description = factory.Sequence(lambda n: f"Goal {n}: move into stable housing")


class GoalProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoalProgress

    goal = factory.SubFactory(GoalFactory)
    status = GoalProgress.Status.IN_PROGRESS
    recorded_on = dt.date(2026, 11, 10)


class MemberNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberNote

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    text = factory.Sequence(lambda n: f"Note {n}: called the member.")


class ExternalInformationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalInformation

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    source_name = "Sutter General discharge planning"
    source_kind = ExternalInformation.SourceKind.HOSPITAL
    received_on = dt.date(2026, 11, 5)
    summary = "Discharge summary received."


def provider_a_records(world, member=None) -> dict[str, object]:
    """One record of each kind by provider A for `member` (default member_a)."""
    member = member or world.member_a
    org = world.provider_a
    goal = GoalFactory(member=member, organization=org)
    return {
        "consent": ConsentFactory(member=member, organization=org),
        "assessment": AssessmentFactory(member=member, organization=org),
        "sdoh_need": SdohNeedFactory(member=member, organization=org),
        "goal": goal,
        "goal_progress": GoalProgressFactory(goal=goal),
        "member_note": MemberNoteFactory(member=member, organization=org),
        "external_information": ExternalInformationFactory(member=member, organization=org),
    }
