"""The claims API lists and reports: the list with its filters and pagination (scoped: a provider its own,
the plan its own, audited), the CSV export, the aging view and totals (rule C5), flat query counts, and the
OpenAPI document."""

from __future__ import annotations

import csv
import datetime as dt
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cshub.accounts.roles import Role
from cshub.core.models import AuditEvent
from tests.claims.api_helpers import API, CLAIMS, receive
from tests.claims.conftest import authorize, claim_input, line

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(clw):
    """Provider A: a paid claim for member A, a denied one for member B (no authorization) and one keyed in
    by the plan from paper received 2026-08-03 (overdue: rule C5). Provider B: one denied (no contract)."""
    authorize(clw)
    (clw.paid,) = receive(clw, claim_input(clw, pcn="A-PAID"))
    (clw.denied,) = receive(clw, claim_input(clw, member_id=clw.member_b.cin, pcn="A-DENIED"))
    (clw.old,) = receive(
        clw,
        claim_input(
            clw, pcn="A-OLD", billing_npi=clw.provider_a.npi, lines=[line(clw, start=date(2026, 7, 15))]
        ),
        actor=clw.processor,
        received_at=dt.datetime(2026, 8, 3, 17, tzinfo=dt.UTC),
        source="cms1500",
    )
    (clw.theirs,) = receive(
        clw, claim_input(clw, pcn="B-1", billing_npi=clw.provider_b.npi), actor=clw.charlie
    )
    return clw


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {c["number"] for c in response.json()["items"]}


def test_c4_list_is_scoped_to_the_provider_and_the_plan(client, book):
    client.force_login(book.billing)
    assert _numbers(client.get(CLAIMS)) == {book.paid.number, book.denied.number, book.old.number}
    client.force_login(book.charlie)
    assert _numbers(client.get(CLAIMS)) == {book.theirs.number}
    client.force_login(book.processor)
    assert client.get(CLAIMS).json()["count"] == 4
    client.force_login(book.other_plan_user)
    assert client.get(CLAIMS).json()["count"] == 0
    client.force_login(book.bob)  # a care coordinator does not work with claims
    assert client.get(CLAIMS).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=adjudicated", {"paid", "denied", "old", "theirs"}),
        ("status=unpaid", {"paid", "denied", "old", "theirs"}),
        ("outcome=paid", {"paid"}),
        ("outcome=denied", {"denied", "old", "theirs"}),
        ("source=cms1500", {"old"}),
        ("q=A-DENIED", {"denied"}),
        ("q=baker", {"denied"}),
        ("q=__paid_number__", {"paid"}),
        ("provider=__provider_b__", {"theirs"}),
        ("service=housing_transition_navigation", {"paid", "denied", "old", "theirs"}),
        ("service=medically_tailored_meals", set()),
        ("received_from=2026-11-01", {"paid", "denied", "theirs"}),
        ("received_to=2026-10-31", {"old"}),
        ("aging=overdue", {"old"}),
        ("aging=at_risk", set()),
    ],
)
def test_list_filters(client, book, query, expected):
    query = query.replace("__paid_number__", book.paid.number).replace(
        "__provider_b__", str(book.provider_b.uuid)
    )
    client.force_login(book.processor)
    names = {getattr(book, n).number: n for n in ("paid", "denied", "old", "theirs")}
    assert {names[n] for n in _numbers(client.get(f"{CLAIMS}?{query}"))} == expected
    assert AuditEvent.objects.filter(
        object_type="claims.Claim", action="list", detail__purpose="search"
    ).exists()


def test_list_pages_and_rows(client, book):
    client.force_login(book.billing)
    first = client.get(f"{CLAIMS}?limit=2").json()
    second = client.get(f"{CLAIMS}?limit=2&offset=2").json()
    assert first["count"] == second["count"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert [c["number"] for c in first["items"]] == [book.denied.number, book.paid.number]  # newest first
    row = first["items"][1]
    assert (row["status"], row["outcome"], row["paid_total"], row["kind"]) == (
        "adjudicated",
        "paid",
        "125.00",
        "invoice",
    )
    assert row["member"] == {
        "id": str(book.member_a.uuid),
        "cin": book.member_a.cin,
        "first_name": book.member_a.first_name,
        "last_name": book.member_a.last_name,
    }
    assert row["payment_clock"]["state"] == "on_time" and row["url"] == f"{CLAIMS}/{row['id']}"
    listed = AuditEvent.objects.filter(object_type="claims.Claim", action="list").latest("id")
    assert listed.member_ids == [str(book.member_a.uuid)]  # the second page: the old claim, member A's
    assert listed.detail["count"] == 1


def test_list_filters_that_are_not_valid_are_named(client, book):
    client.force_login(book.processor)
    response = client.get(
        f"{CLAIMS}?status=lost&outcome=maybe&source=pigeon&aging=later&service=nope"
        "&received_from=2026-11-02&received_to=2026-11-01"
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "status",
        "outcome",
        "source",
        "aging",
        "service",
        "received_to",
    }
    assert client.get(f"{CLAIMS}?provider=not-a-uuid").status_code == 422


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_claims_csv_is_scoped_filtered_and_audited_as_an_export(client, book):
    client.force_login(book.processor)
    rows = _csv(client.get(f"{CLAIMS}.csv"))
    assert {r["number"] for r in rows} == {c.number for c in (book.paid, book.denied, book.old, book.theirs)}
    paid = next(r for r in rows if r["number"] == book.paid.number)
    assert (paid["outcome"], paid["paid_total"], paid["member_last_name"], paid["provider"]) == (
        "paid",
        "125.00",
        book.member_a.last_name,
        book.provider_a.name,
    )
    assert (paid["received_on"], paid["payment_due_on"], paid["payment_clock"]) == (
        "2026-11-23",
        "2027-02-01",
        "on_time",
    )
    export = AuditEvent.objects.get(object_type="claims.Claim", action="export")
    assert sorted(export.member_ids) == sorted([str(book.member_a.uuid), str(book.member_b.uuid)])
    assert export.detail["count"] == 4
    assert [r["number"] for r in _csv(client.get(f"{CLAIMS}.csv?outcome=paid"))] == [book.paid.number]
    client.force_login(book.charlie)
    assert [r["number"] for r in _csv(client.get(f"{CLAIMS}.csv"))] == [book.theirs.number]
    client.force_login(book.bob)
    assert client.get(f"{CLAIMS}.csv").status_code == 403


def test_c5_aging_counts_and_lists(client, book):
    (soon,) = receive(
        book,
        claim_input(book, pcn="A-SOON", billing_npi=book.provider_a.npi, lines=[line(book)]),
        actor=book.processor,
        received_at=dt.datetime(2026, 11, 3, 17, tzinfo=dt.UTC),
    )
    client.force_login(book.processor)
    body = client.get(f"{CLAIMS}/aging").json()
    assert body["today"] == "2026-11-23" and body["at_risk_business_days"] == 10
    assert body["counts"] == {"unpaid": 5, "overdue": 1, "at_risk": 0, "pended": 0}
    assert [c["number"] for c in body["overdue"]] == [book.old.number]
    assert body["overdue"][0]["payment_clock"]["state"] == "overdue"
    assert body["at_risk"] == []
    assert soon.payment_due_on > date(2026, 12, 8)  # on time
    client.force_login(book.charlie)
    assert client.get(f"{CLAIMS}/aging").json()["counts"]["unpaid"] == 1
    client.force_login(book.bob)
    assert client.get(f"{CLAIMS}/aging").status_code == 403


def test_totals_by_provider_service_and_month(client, book):
    client.force_login(book.processor)
    by_provider = client.get(f"{CLAIMS}/totals?by=provider&start=2026-01-01&end=2026-12-31").json()
    assert {r["label"]: (r["claims"], r["paid"]) for r in by_provider["rows"]} == {
        book.provider_a.name: (3, "125.00"),
        book.provider_b.name: (1, "0.00"),
    }
    by_month = client.get(f"{CLAIMS}/totals?by=month&start=2026-01-01&end=2026-12-31").json()
    assert [(r["label"], r["claims"]) for r in by_month["rows"]] == [("2026-08", 1), ("2026-11", 3)]
    by_service = client.get(f"{CLAIMS}/totals?by=service").json()  # default: this year to date
    assert (by_service["start"], by_service["end"]) == ("2026-01-01", "2026-11-23")
    (nav,) = by_service["rows"]
    assert (nav["lines"], nav["denied_lines"], nav["denial_rate"]) == (4, 3, 0.75)
    bad = client.get(f"{CLAIMS}/totals?by=county&start=2026-12-01&end=2026-11-01")
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"by", "end"}
    client.force_login(book.charlie)
    rows = client.get(f"{CLAIMS}/totals?by=provider").json()["rows"]
    assert [r["label"] for r in rows] == [book.provider_b.name]


def _count(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("who", ["billing", "processor"])
def test_list_csv_and_aging_query_counts_do_not_grow_with_the_rows(client, book, who):
    """Plan, provider, member, file and payment are joined and the payment clock is arithmetic: 4 claims
    and 16 cost the same number of queries, for the list, the export and the aging view."""
    client.force_login(getattr(book, who))
    urls = [CLAIMS, f"{CLAIMS}.csv", f"{CLAIMS}/aging"]
    few = [_count(client, url)[0] for url in urls]
    for i in range(12):
        receive(
            book,
            claim_input(
                book,
                member_id=(book.member_a if i % 2 else book.member_b).cin,
                billing_npi=book.provider_a.npi,
                lines=[line(book, start=date(2026, 7, 1) + dt.timedelta(days=i))],
            ),
            actor=book.processor,
            received_at=dt.datetime(2026, 8, 4, 17, tzinfo=dt.UTC),
        )
    many = [_count(client, url)[0] for url in urls]
    assert client.get(CLAIMS).json()["count"] == (15 if who == "billing" else 16)
    assert few == many


def test_openapi_document_builds_with_the_claims_api(client):
    response = client.get("/api/openapi.json", follow=True)
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        f"{API}/claims",
        f"{API}/claims.csv",
        f"{API}/claims/aging",
        f"{API}/claims/totals",
        f"{API}/claims/{{uuid}}",
        f"{API}/claims/{{uuid}}/lines/{{number}}/decision",
        f"{API}/claims/{{uuid}}/readjudicate",
        f"{API}/claim-invoices.csv",
        f"{API}/claim-files",
        f"{API}/claim-files/{{uuid}}/999",
        f"{API}/payments/{{uuid}}/835",
        f"{API}/payment-runs",
    ):
        assert path in paths, path


def test_plan_reporting_roles_read_but_do_not_see_another_plan(client, book):
    client.force_login(book.plan_users[Role.REPORTING_SUPERVISOR])
    assert client.get(CLAIMS).json()["count"] == 4
    client.force_login(book.other_plan_user)
    assert client.get(f"{CLAIMS}/{book.paid.uuid}").status_code == 404
