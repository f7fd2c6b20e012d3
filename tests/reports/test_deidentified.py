"""Rule D5: de-identified extracts by the HIPAA Safe Harbor method. No identifier column survives (names,
CIN, plan member ids, addresses, cities, counties, full dates, phone, email, record numbers); ZIP codes
become three digits (000 for the restricted three-digit ZIPs of the HHS list); ages over 89 are 90+; the
row id is random; the file says how it was made; the export is audited with its count only."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
from django.urls import reverse

from cshub.core.models import AuditEvent
from cshub.core.reference import read_data_csv
from cshub.reports import deidentify, selectors
from cshub.reports.deidentify import METHOD_NOTE

KINDS = ["referrals", "authorizations", "claim_lines"]
# Words of a column name that would carry one of the 18 identifiers (or a record number leading to one).
FORBIDDEN_WORDS = {
    "name",
    "cin",
    "mrn",
    "member_id",
    "plan_member",
    "birth",
    "dob",
    "address",
    "street",
    "city",
    "county",
    "zip",
    "zipcode",
    "phone",
    "fax",
    "email",
    "ssn",
    "number",
    "npi",
    "tin",
    "uuid",
    "id",
    "url",
    "ip",
    "date",
    "license",
    "device",
    "vehicle",
    "photo",
    "account",
    "notes",
    "reason",
}


def identifying(column: str) -> bool:
    words = column.split("_")
    dated = column.endswith(("_at", "_on"))  # received_at, paid_on: a full date or instant
    return column != "row_id" and (dated or bool(FORBIDDEN_WORDS & {*words, "_".join(words[:2])}))


FULL_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b|\b\d\d?/\d\d?/(19|20)\d\d\b")


def extract(client, kind, **params):
    response = client.get(
        reverse("reports:deidentified"),
        {"kind": kind, "from_year": 2026, "to_year": 2026, "format": "csv", **params},
    )
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode()
    first, rest = text.split("\n", 1)
    return first, list(csv.DictReader(io.StringIO(rest))), text


@pytest.fixture
def dw(uw, client):
    """Member A lives in Sacramento (95814); member B gets a Wyoming ZIP in a restricted three-digit area
    and a date of birth that makes them over 89."""
    uw.member_a.address_line, uw.member_a.phone, uw.member_a.email = (
        "12 Elm St",
        "9165550111",
        "ana@x.example",
    )
    uw.member_a.save()
    uw.member_b.zip_code, uw.member_b.date_of_birth = "82190-1234", dt.date(1930, 2, 1)
    uw.member_b.save()
    client.force_login(uw.director)
    return uw


@pytest.mark.parametrize("kind", KINDS)
def test_d5_no_identifier_column_or_value_survives(client, dw, kind):
    _, rows, text = extract(client, kind)
    header = list(rows[0].keys())
    assert header == selectors.EXTRACT_COLUMNS[kind]
    assert [c for c in header if identifying(c)] == []
    assert identifying("member_cin") and identifying("received_at") and identifying("member_last_name")
    assert not identifying("member_zip3") and not identifying("days_to_first_outreach")
    assert rows, "the extract has rows"
    identifiers = {
        dw.member_a.first_name,
        dw.member_a.last_name,
        dw.member_a.cin,
        dw.member_b.cin,
        dw.member_b.last_name,
        "GS0000001",  # plan member id
        "12 Elm St",
        "9165550111",
        "9165550101",  # the phone the referrer gave
        "ana@x.example",
        "Sacramento",  # city and county
        "95814",
        "Ana Alvarez",  # the name billed on the claims
        dw.referrals.r1.number,
        "INV-",
        "C-2026-",
        "A-2026-",
        dw.member_a.date_of_birth.isoformat(),
    }
    assert [value for value in identifiers if value in text] == []
    assert FULL_DATE.search(text.split("\n", 1)[1]) is None  # no full date in any row


def test_d5_zip_rule_and_ages(client, dw):
    _, rows, _ = extract(client, "authorizations")
    by_zip = {(r["member_zip3"], r["member_age"]) for r in rows}
    # Member A (born 1980-05-17, ZIP 95814) and member B (born 1930, ZIP 82190 in restricted area 821).
    assert by_zip == {("958", "46"), ("000", "90+")}
    assert deidentify.zip3("95814") == "958" and deidentify.zip3("95814-1234") == "958"
    assert deidentify.zip3("03601") == "000" and deidentify.zip3("89301") == "000"  # restricted: 036, 893
    assert deidentify.zip3("90210") == "902" and deidentify.zip3("") == "" and deidentify.zip3("ABCDE") == ""
    restricted = {row["zip3"] for row in read_data_csv("safe_harbor_restricted_zip3.csv")}
    assert restricted == deidentify.restricted_zip3() and len(restricted) == 17
    assert all(deidentify.zip3(f"{z}01") == "000" for z in restricted)
    assert deidentify.age(dt.date(1936, 11, 24), dt.date(2026, 11, 23)) == "89"
    assert deidentify.age(dt.date(1936, 11, 23), dt.date(2026, 11, 23)) == "90+"
    assert deidentify.year(dt.date(2026, 10, 5)) == "2026"


def test_d5_row_ids_are_random_and_unlinkable(client, dw):
    _, first, _ = extract(client, "referrals")
    _, second, _ = extract(client, "referrals")
    ids_first = {r["row_id"] for r in first}
    ids_second = {r["row_id"] for r in second}
    assert len(ids_first) == len(first) == len(second) and not ids_first & ids_second
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids_first)
    cin_hashes = {
        h(c.encode()).hexdigest()[:32]
        for c in (dw.member_a.cin, dw.member_b.cin)
        for h in (hashlib.md5, hashlib.sha256)
    }
    assert not ids_first & cin_hashes


def test_d5_file_states_the_method_and_rows_are_right(client, dw):
    first, rows, _ = extract(client, "referrals")
    assert first == f"# {METHOD_NOTE}" and "Safe Harbor" in first and "164.514(b)(2)" in first
    assert len(rows) == 7  # plan 1's referrals received in 2026 (R8 is plan 2's)
    r4 = next(r for r in rows if r["service"] == dw.recup.name)
    assert r4 == {
        **r4,
        "year_received": "2026",
        "status": "unable_to_reach",
        "closed": "yes",
        "year_closed": "2026",
        "outreach_outcome": "unreachable",
        "outreach_attempts": "5",
        "days_to_first_outreach": "1",
        "days_to_closure": "35",
        "member_sex": "F",
        "member_zip3": "958",
    }
    _, lines, _ = extract(client, "claim_lines")
    assert len(lines) == 5  # C1 (2 lines), C2, C3, C5 (C4 is void)
    assert {r["line_status"] for r in lines} == {"paid", "denied", "pended"}
    _, lines_2025, _ = extract(client, "claim_lines", from_year=2025, to_year=2025)
    assert lines_2025 == []


def test_d5_export_is_audited_with_its_count_and_no_member(client, dw):
    extract(client, "authorizations")
    event = AuditEvent.objects.filter(object_type="deidentified_extract").get()
    assert event.action == "export" and event.actor == dw.director
    assert event.member_ids == []
    assert event.detail == {
        "kind": "authorizations",
        "from_year": 2026,
        "to_year": 2026,
        "rows": 8,
        "method": "HIPAA Safe Harbor (45 CFR 164.514(b)(2))",
        "via": "web",
    }


def test_d5_api_and_bad_input(client, dw):
    response = client.get("/api/v1/reports/deidentified.csv", {"kind": "claim_lines", "from_year": 2026})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("# De-identified by the HIPAA Safe Harbor method")
    bad = client.get("/api/v1/reports/deidentified.csv", {"kind": "members"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    assert client.get("/api/v1/reports/deidentified.csv", {"from_year": 2030}).status_code == 422
    page = client.get(
        reverse("reports:deidentified"), {"kind": "referrals", "from_year": 2026, "to_year": 2020}
    )
    assert page.status_code == 422 and b"The last year is before the first." in page.content
    assert AuditEvent.objects.filter(object_type="deidentified_extract", detail__via="api").count() == 1
