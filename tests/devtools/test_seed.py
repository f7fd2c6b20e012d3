"""The synthetic data generator (`cshub seed`): shape, realism, determinism, re-runs and reset.

Runs on SQLite (executemany) and on PostgreSQL (COPY, and the drop-and-rebuild-indexes bulk path)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count

from cshub.accounts.models import Organization, OrganizationContact
from cshub.accounts.roles import OrganizationKind
from cshub.core.reference import read_data_csv
from cshub.core.validators import CIN_PATTERN, npi_is_valid
from cshub.devtools import seed as seeding
from cshub.devtools.seed import SeedError, reset, seed, seeded_seeds, seeded_uuid_range
from cshub.members.models import CareRelationship, EcmAssignment, EligibilitySpan, Member, ProgramEnrollment
from tests.factories import MemberFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ZIP_COUNTY = {r["zip"]: (r["county"], r["city"]) for r in read_data_csv("ca_county_zips.csv")}


@pytest.fixture
def seeded():
    return seed(members=300, providers=20, seed=11)


def member_snapshot() -> list[tuple]:
    return list(
        Member.objects.order_by("cin").values_list(
            "uuid",
            "cin",
            "first_name",
            "last_name",
            "date_of_birth",
            "zip_code",
            "preferred_language",
            "email",
        )
    )


def org_snapshot() -> list[tuple]:
    orgs = Organization.objects.order_by("npi").values_list("uuid", "kind", "name", "npi", "tin", "zip_code")
    contacts = OrganizationContact.objects.order_by("uuid").values_list("uuid", "name", "email", "phone")
    return [*orgs, *contacts]


# --- reference files ----------------------------------------------------------------------------------


def test_county_files_cover_all_58_counties_with_unique_zips():
    counties = {r["county"] for r in read_data_csv("ca_counties.csv")}
    zips = read_data_csv("ca_county_zips.csv")
    weights = read_data_csv("ca_county_weights.csv")
    assert len(counties) == 58
    assert {r["county"] for r in zips} == counties
    assert {r["county"] for r in weights} == counties
    assert len({r["zip"] for r in zips}) == len(zips)
    assert all(len(r["zip"]) == 5 and r["zip"].startswith("9") for r in zips)  # California ZIPs are 9xxxx
    by_weight = {r["county"]: int(r["medi_cal_enrollment"]) for r in weights}
    assert by_weight["Los Angeles"] > 100 * by_weight["Alpine"]


# --- what one seed makes ------------------------------------------------------------------------------


def test_counts_by_kind(seeded):
    by_kind = dict(Organization.objects.values_list("kind").annotate(n=Count("id")))
    assert by_kind == {
        OrganizationKind.PLAN: 2,
        OrganizationKind.CS_PROVIDER: 11,
        OrganizationKind.ECM_PROVIDER: 3,
        OrganizationKind.HOSPITAL: 3,
        OrganizationKind.OTHER: 3,
    }
    assert seeded.organizations == by_kind
    assert Member.objects.count() == seeded.members == 300
    assert EligibilitySpan.objects.count() == seeded.eligibility_spans
    assert EcmAssignment.objects.count() == seeded.ecm_assignments
    assert CareRelationship.objects.count() == seeded.care_relationships
    assert ProgramEnrollment.objects.count() == seeded.program_enrollments
    assert OrganizationContact.objects.count() == seeded.contacts


def test_provider_kind_split_for_other_sizes():
    assert seeding._provider_counts(3) == [
        (OrganizationKind.CS_PROVIDER, 1),
        (OrganizationKind.ECM_PROVIDER, 1),
        (OrganizationKind.HOSPITAL, 1),
        (OrganizationKind.OTHER, 0),
    ]
    split = dict(seeding._provider_counts(500))
    assert sum(split.values()) == 500
    assert split[OrganizationKind.CS_PROVIDER] > 250


def test_organizations_are_complete_and_valid(seeded):
    for org in Organization.objects.prefetch_related("counties_served", "contacts"):
        assert npi_is_valid(org.npi), org.npi
        assert len(org.tin) == 9 and org.tin.isdigit()
        assert len(org.phone) == 10 and org.phone[3:8] == "55501"  # fictional 555-01xx numbers
        assert org.website.endswith(".example.org") and org.email.endswith(".example.org")
        served = {c.name for c in org.counties_served.all()}
        assert ZIP_COUNTY[org.zip_code] == (ZIP_COUNTY[org.zip_code][0], org.city)
        if org.kind == OrganizationKind.PLAN:
            assert len(served) == 58 and len(org.plan_code) == 3
        else:
            assert 1 <= len(served) <= 4
            assert ZIP_COUNTY[org.zip_code][0] in served  # the address is in a county it serves
            assert org.plan_code == ""
        assert 1 <= len(org.contacts.all()) <= 3
        assert [c.kind for c in org.contacts.all()].count(OrganizationContact.Kind.PRIMARY) == 1
    assert Organization.objects.values("name").distinct().count() == Organization.objects.count()


def test_members_are_valid_and_live_where_their_zip_is(seeded):
    languages = {r["code"] for r in read_data_csv("languages.csv")}
    members = list(Member.objects.select_related("county"))
    assert len({m.cin for m in members}) == len(members)
    for m in members:
        assert CIN_PATTERN.match(m.cin), m.cin
        assert ZIP_COUNTY[m.zip_code] == (m.county.name, m.city)
        assert m.preferred_language in languages
        assert m.sex in {"F", "M", "X", "U"}
        assert m.date_of_birth <= seeding.REFERENCE_DATE
        assert len(m.phone) == 10 and m.phone[3:8] == "55501"
        assert m.email == "" or m.email.endswith("@example.com")
        assert m.is_homeless == (m.address_line == "")
        assert m.contact_preference != "email" or m.email
    low, high = seeded_uuid_range(11)
    assert all(low <= m.uuid < high for m in members)


def test_eligibility_spans(seeded):
    spans = list(EligibilitySpan.objects.select_related("plan"))
    per_member = Counter(s.member_id for s in spans)
    assert set(per_member.values()) <= {1, 2}
    assert len(per_member) == Member.objects.count()
    owners: dict[tuple[int, str], set[int]] = defaultdict(set)
    for s in spans:
        assert s.plan.kind == OrganizationKind.PLAN
        owners[(s.plan_id, s.plan_member_id)].add(s.member_id)
        assert s.start_date.day == 1 and s.start_date <= seeding.REFERENCE_DATE
        assert s.start_date >= date(2021, 11, 1)  # within the last five years
        assert s.end_date is None or s.end_date >= s.start_date
    assert all(len(members) == 1 for members in owners.values())  # plan member ids unique per plan
    ended_members = {s.member_id for s in spans} - {s.member_id for s in spans if s.end_date is None}
    assert 0.03 < len(ended_members) / len(per_member) < 0.25


def test_care_team_links_follow_the_member_county(seeded):
    served = defaultdict(set)
    for org_id, county_id in Organization.counties_served.through.objects.values_list(
        "organization_id", "county_id"
    ):
        served[org_id].add(county_id)
    for a in EcmAssignment.objects.select_related("ecm_provider", "member", "plan"):
        assert a.ecm_provider.kind == OrganizationKind.ECM_PROVIDER
        assert a.plan.kind == OrganizationKind.PLAN
        assert a.member.county_id in served[a.ecm_provider_id]
        assert CareRelationship.objects.filter(
            member=a.member, organization=a.ecm_provider, reason="ecm_assignment", source_id=str(a.uuid)
        ).exists()
    outreach = CareRelationship.objects.filter(reason="outreach_assignment").select_related(
        "organization", "member"
    )
    for rel in outreach:
        assert rel.organization.kind == OrganizationKind.CS_PROVIDER
        assert rel.member.county_id in served[rel.organization_id]
    programs = {r["code"] for r in read_data_csv("care_coordination_programs.csv")}
    assert set(ProgramEnrollment.objects.values_list("program", flat=True)) <= programs


def test_proportions_look_like_medi_cal():
    seed(members=4000, providers=40, seed=5)
    members = Member.objects.all()
    n = members.count()
    langs = Counter(members.values_list("preferred_language", flat=True))
    assert 0.50 < langs["en"] / n < 0.67 and 0.27 < langs["es"] / n < 0.39
    counties = Counter(members.values_list("county__name", flat=True))
    assert counties.most_common(1)[0][0] == "Los Angeles"
    assert counties["Alpine"] < counties["Los Angeles"] / 50
    ages = [
        (seeding.REFERENCE_DATE - d).days / 365.25 for d in members.values_list("date_of_birth", flat=True)
    ]
    assert 0.27 < sum(a < 19 for a in ages) / n < 0.41
    assert 0.08 < sum(a >= 65 for a in ages) / n < 0.16
    assert 0.02 < members.filter(is_homeless=True).count() / n < 0.045
    assert 0.35 < members.exclude(email="").count() / n < 0.45
    dual = EligibilitySpan.objects.filter(line_of_business="dual").values("member").distinct().count()
    assert 0.05 < dual / n < 0.11
    assert 0.015 < EcmAssignment.objects.count() / n < 0.045
    assert 0.01 < ProgramEnrollment.objects.count() / n < 0.03


def test_timestamps_come_from_the_reference_date_not_the_clock(seeded):
    for created in Member.objects.values_list("created_at", flat=True)[:50]:
        assert created.day == 1 and created.hour == 16 and created.date() <= seeding.REFERENCE_DATE
    assert set(Organization.objects.values_list("created_at", flat=True)) == {seeding.ORG_CREATED_AT}


# --- determinism, re-runs and reset -------------------------------------------------------------------


def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    seed(members=200, providers=8, seed=42)
    first_members, first_orgs = member_snapshot(), org_snapshot()
    reset()
    assert Member.objects.count() == 0 and Organization.objects.count() == 0
    seed(members=200, providers=8, seed=42)
    assert member_snapshot() == first_members
    assert org_snapshot() == first_orgs
    reset()
    seed(members=200, providers=8, seed=43)
    other = member_snapshot()
    assert {m[1] for m in other}.isdisjoint({m[1] for m in first_members})
    assert [m[2:4] for m in other] != [m[2:4] for m in first_members]


def test_members_do_not_depend_on_the_number_of_providers():
    seed(members=150, providers=5, seed=8)
    few = [m[1:] for m in member_snapshot()]
    reset()
    seed(members=150, providers=30, seed=8)
    assert [m[1:] for m in member_snapshot()] == few


def test_rerun_with_the_same_seed_changes_nothing(seeded):
    before = (Member.objects.count(), EligibilitySpan.objects.count(), Organization.objects.count())
    again = seed(members=300, providers=20, seed=11)
    assert again.already_seeded
    assert "Already seeded with seed 11" in again.summary()
    assert (Member.objects.count(), EligibilitySpan.objects.count(), Organization.objects.count()) == before


def test_another_seed_on_a_seeded_database_is_refused(seeded):
    with pytest.raises(SeedError, match="already seeded with seed 11; use --reset"):
        seed(members=10, providers=2, seed=12)
    assert seeded_seeds() == [11]


def test_reset_keeps_what_the_seeder_did_not_make(seeded):
    own_org = OrganizationFactory(name="Real Provider", website="https://real.example.org")
    own_member = MemberFactory(cin="91234567A")
    deleted = reset()
    assert deleted["members.Member"] == 300
    assert list(Organization.objects.all()) == [own_org]
    assert list(Member.objects.all()) == [own_member]
    assert seeded_seeds() == []


def test_reset_refuses_while_users_belong_to_seeded_organizations(seeded):
    org = Organization.objects.filter(kind=OrganizationKind.PLAN).first()
    UserFactory(email="someone@plan.example", organization=org)
    with pytest.raises(SeedError, match=r"someone@plan\.example"):
        reset()
    assert Member.objects.count() == 300


def test_seed_refuses_bad_arguments():
    with pytest.raises(SeedError):
        seed(members=10, providers=2, seed=-1)
    with pytest.raises(SeedError):
        seed(members=10, providers=2, seed=1, plans=0)


def test_zero_members_makes_only_organizations():
    result = seed(members=0, providers=4, seed=3, plans=1)
    assert result.members == 0 and sum(result.organizations.values()) == 5


# --- the command --------------------------------------------------------------------------------------


def test_command_seeds_reports_and_is_safe_to_repeat():
    out = io.StringIO()
    call_command("seed", members=120, providers=6, seed=9, stdout=out)
    assert "Seeded with seed 9" in out.getvalue() and "members: 120" in out.getvalue()
    out = io.StringIO()
    call_command("seed", members=120, providers=6, seed=9, stdout=out)
    assert "Already seeded with seed 9" in out.getvalue()
    assert Member.objects.count() == 120
    with pytest.raises(CommandError, match="already seeded with seed 9"):
        call_command("seed", members=120, providers=6, seed=10, stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed", members=80, providers=6, seed=10, reset=True, stdout=out)
    assert "Reset: deleted" in out.getvalue() and "Seeded with seed 10" in out.getvalue()
    assert Member.objects.count() == 80 and seeded_seeds() == [10]


# --- PostgreSQL: the bulk path (drop indexes and constraints, COPY, rebuild) ---------------------------


def _pg_schema(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table])
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
            " ORDER BY 1",
            [table],
        )
        return rows + cursor.fetchall()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgres_bulk_load_restores_every_index_and_constraint(monkeypatch):
    tables = (Member._meta.db_table, EligibilitySpan._meta.db_table)
    before = {t: _pg_schema(t) for t in tables}
    monkeypatch.setattr(seeding, "BULK_LOAD_MIN_MEMBERS", 100)
    monkeypatch.setattr(seeding, "CHUNK_SIZE", 70)  # several COPY chunks through the writer thread
    result = seed(members=250, providers=10, seed=21)
    assert "indexes rebuilt" in result.method and result.method.startswith("COPY")
    assert {t: _pg_schema(t) for t in tables} == before
    assert Member.objects.count() == 250
    assert len(set(Member.objects.values_list("cin", flat=True))) == 250
    # the id sequence was moved past the reserved block, so ordinary inserts still work
    assert MemberFactory(cin="91234567A").pk > Member.objects.exclude(cin="91234567A").order_by("-pk")[0].pk


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgres_copy_errors_reach_the_caller(monkeypatch):
    """A failure inside the COPY thread (here: a CIN that is already taken) stops the seed with that error."""
    MemberFactory(cin="91234567A")
    monkeypatch.setattr(seeding._MemberGenerator, "_cin", lambda self: "91234567A")
    with pytest.raises(psycopg.errors.UniqueViolation):
        seed(members=5, providers=2, seed=4)
    assert seeded_seeds() == []  # nothing of the failed seed is left
