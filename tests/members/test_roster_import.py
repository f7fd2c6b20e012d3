"""The roster import service (issue item 6; DESIGN principle 5): validated row by row, all or nothing,
idempotent, the original file kept, audited."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cshub.core.errors import PermissionDeniedError
from cshub.core.models import AuditEvent
from cshub.members.errors import RosterRejected
from cshub.members.models import (
    CareRelationship,
    EcmAssignment,
    EligibilitySpan,
    Member,
    ProgramEnrollment,
    RosterImport,
)
from cshub.members.roster import REQUIRED_COLUMNS
from cshub.members.services import roster_import
from tests.factories import OrganizationFactory
from tests.members.factories import EcmProviderFactory, roster_csv, roster_row

pytestmark = pytest.mark.usefixtures("frozen_clock")


def run(world, content: bytes, *, actor=None, plan=None, name: str = "roster.csv") -> RosterImport:
    actor = actor or world.plan_users["plan_admin"]
    return roster_import(actor=actor, plan=plan or world.plan, file_name=name, content=content, channel="web")


def rejected(world, content: bytes, **kwargs) -> RosterImport:
    with pytest.raises(RosterRejected) as info:
        run(world, content, **kwargs)
    assert info.value.status == 422
    return info.value.roster_import


def table_sizes() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (Member, EligibilitySpan, EcmAssignment, ProgramEnrollment, CareRelationship)
    )


def test_valid_file_creates_members_spans_ecm_and_programs(world):
    ecm = EcmProviderFactory()
    content = roster_csv(
        [
            roster_row(
                1, ecm_provider_npi=ecm.npi, ecm_start="2025-02-01", program="ccm", program_start="2025-03-01"
            ),
            roster_row(2, preferred_language="Vietnamese", county="san joaquin", date_of_birth="07/04/1961"),
            roster_row(  # a second span of the same member: same member data, language by code
                2,
                preferred_language="vi",
                county="San Joaquin",
                date_of_birth="1961-07-04",
                line_of_business="dual",
                eligibility_start="2024-01-01",
                eligibility_end="2024-12-31",
            ),
        ]
    )
    record = run(world, content)

    assert (record.status, record.row_count) == ("applied", 3)
    assert (record.created_count, record.updated_count, record.unchanged_count) == (2, 0, 0)
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert record.file.read() == content  # the original file is kept
    one = Member.objects.get(cin="95000001Z")
    two = Member.objects.get(cin="95000002Z")
    assert (two.preferred_language, two.county.name, two.date_of_birth) == (
        "vi",
        "San Joaquin",
        dt.date(1961, 7, 4),
    )
    assert one.phone == "9165550100"
    assert list(two.eligibility_spans.order_by("start_date").values_list("line_of_business", "end_date")) == [
        ("dual", dt.date(2024, 12, 31)),
        ("medi_cal", None),
    ]
    assignment = EcmAssignment.objects.get(member=one)
    assert (assignment.ecm_provider, assignment.plan, assignment.start_date) == (
        ecm,
        world.plan,
        dt.date(2025, 2, 1),
    )
    relation = CareRelationship.objects.get(member=one, reason="ecm_assignment")
    assert (relation.organization, relation.source_id) == (ecm, str(assignment.uuid))
    assert ProgramEnrollment.objects.get(member=one).program == "ccm"

    event = AuditEvent.objects.get(action="import", object_id=str(record.uuid))
    assert set(event.member_ids) == {str(one.uuid), str(two.uuid)}
    assert event.detail["created"] == 2
    assert event.actor == world.plan_users["plan_admin"]


def test_roster_import_idempotent(world):
    ecm = EcmProviderFactory()
    content = roster_csv(
        [
            roster_row(
                n,
                ecm_provider_npi=ecm.npi,
                ecm_start="2025-02-01",
                program="mssp",
                program_start="2025-01-01",
            )
            for n in range(1, 6)
        ]
    )
    first = run(world, content)
    sizes = table_sizes()
    stamps = list(Member.objects.order_by("id").values_list("updated_at", flat=True))

    second = run(world, content)

    assert (first.created_count, first.updated_count) == (5, 0)
    assert (second.status, second.created_count, second.updated_count, second.unchanged_count) == (
        "applied",
        0,
        0,
        5,
    )
    assert table_sizes() == sizes
    assert list(Member.objects.order_by("id").values_list("updated_at", flat=True)) == stamps
    assert second.sha256 == first.sha256
    assert RosterImport.objects.count() == 2  # both imports are recorded
    assert AuditEvent.objects.get(action="import", object_id=str(second.uuid)).member_ids == []


def test_changed_rows_count_as_updates(world):
    run(world, roster_csv([roster_row(1), roster_row(2), roster_row(3)]))
    record = run(
        world,
        roster_csv(
            [roster_row(1, phone="9165550199"), roster_row(2, eligibility_end="2026-12-31"), roster_row(3)]
        ),
    )
    assert (record.created_count, record.updated_count, record.unchanged_count) == (0, 2, 1)
    assert Member.objects.get(cin="95000001Z").phone == "9165550199"
    assert EligibilitySpan.objects.get(member__cin="95000002Z").end_date == dt.date(2026, 12, 31)


def test_one_bad_row_writes_nothing_and_the_report_names_row_and_field(world):
    before = table_sizes()
    content = roster_csv([roster_row(1), roster_row(2, date_of_birth="1970-02-30"), roster_row(3)])

    record = rejected(world, content)

    assert table_sizes() == before
    assert (record.status, record.error_count, record.created_count) == ("rejected", 1, 0)
    assert record.errors == [
        {
            "row": 2,
            "field": "date_of_birth",
            "value": "1970-02-30",
            "message": "Not a date; use YYYY-MM-DD or MM/DD/YYYY.",
            "code": "date",
        }
    ]
    report = list(csv.DictReader(io.StringIO(record.error_report.read().decode())))
    assert [(r["row"], r["field"], r["value"]) for r in report] == [("2", "date_of_birth", "1970-02-30")]
    assert record.file.read() == content
    event = AuditEvent.objects.get(action="import", object_id=str(record.uuid))
    assert event.detail["status"] == "rejected"


def test_rejection_error_lists_the_first_errors(world):
    rows = [roster_row(n, cin="bad") for n in range(1, 31)]
    with pytest.raises(RosterRejected) as info:
        run(world, roster_csv(rows))
    exc = info.value
    assert exc.code == "roster_rejected"
    assert len(exc.errors) == 20
    assert exc.errors[0].as_dict() == {
        "field": "cin",
        "message": "A Medi-Cal CIN is 8 digits and a letter, e.g. 91234567A.",
        "code": "cin",
        "row": 1,
    }
    assert exc.roster_import.error_count == 30


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"cin": "1234567A"}, "cin", "cin"),
        ({"cin": ""}, "cin", "required"),
        ({"last_name": ""}, "last_name", "required"),
        ({"plan_member_id": "X" * 31}, "plan_member_id", "too_long"),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth", "date_range"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "date"),
        ({"sex": "Q"}, "sex", "choice"),
        ({"preferred_language": "Klingon"}, "preferred_language", "language"),
        ({"zip_code": "9581"}, "zip_code", "zip"),
        ({"county": "Gotham"}, "county", "county"),
        ({"phone": "555-0100"}, "phone", "phone"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"contact_preference": "email", "email": ""}, "email", "required"),
        ({"contact_preference": "pigeon"}, "contact_preference", "choice"),
        ({"is_homeless": "maybe"}, "is_homeless", "choice"),
        ({"line_of_business": "commercial"}, "line_of_business", "choice"),
        ({"eligibility_start": ""}, "eligibility_start", "required"),
        ({"eligibility_end": "2024-12-31"}, "eligibility_end", "date_order"),
        ({"ecm_provider_npi": "1234567890", "ecm_start": "2025-01-01"}, "ecm_provider_npi", "npi"),
        ({"ecm_start": "2025-01-01"}, "ecm_provider_npi", "required"),
        ({"program": "xyz", "program_start": "2025-01-01"}, "program", "program"),
        ({"program": "ccm"}, "program_start", "required"),
        (
            {"program": "ccm", "program_start": "2025-05-01", "program_end": "2025-04-01"},
            "program_end",
            "date_order",
        ),
    ],
)
def test_field_errors_name_the_row_and_field(world, values, field, code):
    record = rejected(world, roster_csv([roster_row(1), roster_row(2, **values)]))
    assert [(e["row"], e["field"], e["code"]) for e in record.errors] == [(2, field, code)]
    assert not Member.objects.filter(cin="95000001Z").exists()


def test_ecm_npi_must_be_an_ecm_capable_organization(world):
    hospital = OrganizationFactory(kind="hospital")
    unknown_but_valid = "1999999992"  # passes the check digit, no organization has it
    record = rejected(
        world,
        roster_csv(
            [
                roster_row(1, ecm_provider_npi=hospital.npi, ecm_start="2025-01-01"),
                roster_row(2, ecm_provider_npi=unknown_but_valid, ecm_start="2025-01-01"),
            ]
        ),
    )
    assert [(e["row"], e["field"], e["code"]) for e in record.errors] == [
        (1, "ecm_provider_npi", "ecm_provider"),
        (2, "ecm_provider_npi", "ecm_provider"),
    ]


def test_duplicate_cin_with_conflicting_data_is_rejected(world):
    record = rejected(world, roster_csv([roster_row(1), roster_row(2), roster_row(1, first_name="Other")]))
    assert [(e["row"], e["field"], e["code"]) for e in record.errors] == [
        (3, "first_name", "duplicate_conflict")
    ]
    assert "row 1" in record.errors[0]["message"]


def test_duplicate_cin_with_the_same_data_is_one_member(world):
    record = run(world, roster_csv([roster_row(1), roster_row(1)]))
    assert (record.row_count, record.created_count) == (2, 1)
    assert EligibilitySpan.objects.count() == 3 + 1  # the world's three and one new


@pytest.mark.parametrize(
    ("content", "field", "code"),
    [
        (b"", "file", "empty"),
        (b"  \r\n", "file", "empty"),
        (roster_csv([]), "file", "empty"),
        (
            roster_csv([roster_row(1)], columns=[c for c in REQUIRED_COLUMNS if c != "county"]),
            "county",
            "missing_column",
        ),
        (
            roster_csv([roster_row(1)], columns=[*REQUIRED_COLUMNS, "favourite_colour"]),
            "favourite_colour",
            "unknown_column",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00binary spreadsheet", "file", "not_csv"),
        ("cin,last_name\n91234567A,Muñoz\n".encode("latin-1"), "file", "encoding"),
    ],
    ids=["empty", "blank", "header-only", "missing-column", "unknown-column", "binary", "latin-1"],
)
def test_file_level_errors(world, content, field, code):
    record = rejected(world, content)
    assert (record.errors[0]["row"], record.errors[0]["field"], record.errors[0]["code"]) == (0, field, code)
    assert record.row_count in (0, 1)


def test_row_limit_is_a_setting(world, settings):
    settings.CSHUB_ROSTER_MAX_ROWS = 2
    record = rejected(world, roster_csv([roster_row(n) for n in range(1, 4)]))
    assert [(e["field"], e["code"]) for e in record.errors] == [("file", "too_many_rows")]


def test_a_row_with_the_wrong_number_of_values_is_an_error(world):
    content = roster_csv([roster_row(1)]) + b"95000002Z,GS2,Only,Three\r\n"
    record = rejected(world, content)
    assert [(e["row"], e["field"], e["code"]) for e in record.errors] == [(2, "row", "row_length")]


def test_utf8_bom_and_optional_columns_may_be_left_out(world):
    content = b"\xef\xbb\xbf" + roster_csv([roster_row(1, last_name="Muñoz")], columns=REQUIRED_COLUMNS)
    run(world, content)
    assert Member.objects.get(cin="95000001Z").last_name == "Muñoz"


def test_error_report_neutralises_spreadsheet_formulas(world):
    record = rejected(world, roster_csv([roster_row(1, zip_code="=HYPERLINK(1)")]))
    assert "'=HYPERLINK(1)" in record.error_report.read().decode()


@pytest.mark.parametrize("role", ["um_reviewer", "claims_processor", "network", "provider_relations"])
def test_only_roster_roles_import(world, role):
    with pytest.raises(PermissionDeniedError):
        run(world, roster_csv([roster_row(1)]), actor=world.plan_users[role])
    assert not RosterImport.objects.exists()


def test_plan_staff_import_only_their_own_plan(world):
    with pytest.raises(PermissionDeniedError):
        run(world, roster_csv([roster_row(1)]), actor=world.other_plan_user)
    with pytest.raises(PermissionDeniedError):
        run(world, roster_csv([roster_row(1)]), actor=world.alice, plan=world.plan)


@pytest.mark.parametrize("role", ["plan_admin", "reporting_director", "reporting_supervisor"])
def test_roster_roles_import(world, role):
    record = run(world, roster_csv([roster_row(1)]), actor=world.plan_users[role])
    assert record.uploaded_by == world.plan_users[role]


def test_ecm_assignment_puts_the_ecm_provider_on_the_care_team(world):
    from cshub.members.selectors import member_queryset_for
    from tests.factories import UserFactory

    ecm = EcmProviderFactory()
    ecm_user = UserFactory(organization=ecm, roles=["ecm_staff"])
    run(world, roster_csv([roster_row(1, ecm_provider_npi=ecm.npi, ecm_start="2025-01-01"), roster_row(2)]))
    assert list(member_queryset_for(ecm_user).values_list("cin", flat=True)) == ["95000001Z"]


def test_no_per_row_queries(world):
    """The import's query count does not grow with the number of rows (bulk reads and writes)."""
    ecm = EcmProviderFactory()

    def queries(first: int, n: int) -> int:
        rows = [
            roster_row(
                i, ecm_provider_npi=ecm.npi, ecm_start="2025-01-01", program="ccm", program_start="2025-01-01"
            )
            for i in range(first, first + n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            run(world, roster_csv(rows))
        return len(ctx.captured_queries)

    queries(500, 1)  # warm the connection and caches
    # 45 rows stay within one INSERT per table even on SQLite (Django splits at 999 parameters).
    assert queries(1, 3) == queries(100, 45)


def test_the_documented_example_file_imports(world):
    from pathlib import Path

    import cshub.members

    example = Path(cshub.members.__file__).parent / "examples" / "roster_example.csv"
    record = run(world, example.read_bytes(), name=example.name)
    assert (record.row_count, record.created_count) == (4, 3)
    assert ProgramEnrollment.objects.filter(member__cin="91234568B", program="ccm").exists()
