"""Open Referral HSDS 3.0 export and the directory API (rules N8, N9)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from cshub.directory import services
from cshub.directory.hsds import HSDS_VERSION
from tests.directory.conftest import HOUSING, MEALS, RECUP

pytestmark = pytest.mark.django_db

# HSDS 3.0 required fields (openreferral/specification schema/*.json, "required"), plus the foreign keys
# this export promises in each table.
REQUIRED = {
    "organizations": {"id", "name", "description"},
    "services": {"id", "name", "status", "organization_id"},
    "locations": {"id", "location_type", "organization_id"},
    "addresses": {
        "id",
        "location_id",
        "address_1",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    },
    "service_at_locations": {"id", "service_id", "location_id"},
    "service_areas": {"id", "service_id"},
    "phones": {"id", "number"},
    "languages": {"id", "service_id"},
    "schedules": {"id", "service_id"},
}
SERVICE_STATUS = {"active", "inactive", "defunct", "temporarily closed"}


def check_hsds(doc: dict) -> None:
    assert doc["hsds_version"] == "3.0"
    ids: set[str] = set()
    for table, fields in REQUIRED.items():
        for row in doc[table]:
            missing = fields - {k for k, v in row.items() if v not in (None, "")}
            assert not missing, (table, missing)
            uuid.UUID(row["id"])
            assert row["id"] not in ids, "ids are unique across the export"
            ids.add(row["id"])
    org_ids = {o["id"] for o in doc["organizations"]}
    service_ids = {s["id"] for s in doc["services"]}
    location_ids = {loc["id"] for loc in doc["locations"]}
    for s in doc["services"]:
        assert s["status"] in SERVICE_STATUS and s["organization_id"] in org_ids
    for table in ("service_areas", "languages", "schedules", "service_at_locations"):
        assert all(r["service_id"] in service_ids for r in doc[table])
    for p in doc["phones"]:
        assert p.get("service_id") in service_ids or p.get("organization_id") in org_ids
    assert all(a["location_id"] in location_ids for a in doc["addresses"])
    for sched in doc["schedules"]:
        if "freq" in sched:
            assert sched["freq"] in {"WEEKLY", "MONTHLY"}
            assert set(sched["byday"].split(",")) <= {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}


def _claim_and_fill(dw):
    dw.provider_a.address_line = "100 Capitol Mall"
    dw.provider_a.city = "Sacramento"
    dw.provider_a.zip_code = "95814"
    dw.provider_a.phone = "9165550000"
    dw.provider_a.save()
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    services.listing_update(
        actor=dw.alice,
        listing=listing,
        description="Housing navigation.",
        hours_text="Evenings by appointment",
        weekly_hours=[{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mo", "tu", "we")]
        + [{"day": "fr", "opens": "10:00", "closes": "14:00"}],
        languages=["en", "es"],
        intake_phone="9165550111",
    )
    return listing


def test_n8_hsds_export_from_the_page_has_the_required_fields(dw, client):
    _claim_and_fill(dw)
    response = client.get(reverse("directory:directory"), {"format": "hsds"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    doc = json.loads(response.content)
    check_hsds(doc)
    assert doc["hsds_version"] == HSDS_VERSION
    assert {o["name"] for o in doc["organizations"]} == {
        "Provider A Housing Services",
        "Provider B Meals on Wheels",
    }
    housing = next(s for s in doc["services"] if s["description"] == "Housing navigation.")
    areas = [a["name"] for a in doc["service_areas"] if a["service_id"] == housing["id"]]
    assert areas == ["Sacramento County, California", "Yolo County, California"]
    assert {lang["code"] for lang in doc["languages"] if lang["service_id"] == housing["id"]} == {"en", "es"}
    weekly = [s for s in doc["schedules"] if s["service_id"] == housing["id"] and "freq" in s]
    assert {(s["byday"], s["opens_at"], s["closes_at"]) for s in weekly} == {
        ("MO,TU,WE", "09:00", "17:00"),
        ("FR", "10:00", "14:00"),
    }
    assert any(p["number"] == "+1 916 555 0111" and p["service_id"] == housing["id"] for p in doc["phones"])
    assert doc["locations"][0]["location_type"] == "physical"
    assert housing["url"].endswith(f"/directory/programs/{dw.provider_a.uuid}/{HOUSING}/")


def test_n8_hsds_ids_are_stable_and_only_active_contracts_exported(dw, client):
    first = client.get("/api/v1/directory/hsds").json()
    second = client.get("/api/v1/directory/hsds").json()
    check_hsds(first)
    assert [s["id"] for s in first["services"]] == [s["id"] for s in second["services"]]
    names = {o["name"] for o in first["organizations"]}
    assert not names & {"Draft Housing Co", "Terminated Meals Co", "Expired Respite Co"}
    filtered = client.get("/api/v1/directory/hsds", {"service": MEALS}).json()
    assert [o["name"] for o in filtered["organizations"]] == ["Provider B Meals on Wheels"]
    assert len(filtered["services"]) == 1


def test_n8_api_search_is_public_filtered_and_paginated(dw, client):
    response = client.get("/api/v1/directory/services", {"county": "Yolo", "limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and len(body["items"]) == 1
    accepting = client.get("/api/v1/directory/services", {"accepting": "true"}).json()
    assert [(i["organization_name"], i["service_key"]) for i in accepting["items"]] == [
        ("Provider A Housing Services", HOUSING)
    ]
    assert accepting["items"][0]["phone"] == "9165550100"  # the intake line until the listing has its own
    csv_body = b"".join(client.get("/api/v1/directory/services.csv", {"service": RECUP}).streaming_content)
    assert b"Provider A Housing Services" in csv_body and b"Meals" not in csv_body


def test_n8_api_rejects_unknown_filters_with_422(dw, client):
    response = client.get("/api/v1/directory/services", {"county": "Atlantis", "language": "xx"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"county", "language"}


def test_n9_api_listings_claim_edit_and_scope(dw, client):
    client.force_login(dw.alice)
    created = client.post("/api/v1/directory/listings", {"service": HOUSING}, content_type="application/json")
    assert created.status_code == 201
    listing_id = created.json()["id"]
    assert created.json()["accepting_referrals"] is True
    patch = {
        "description": "Help finding housing.",
        "weekly_hours": [{"day": "mo", "opens": "09:00", "closes": "12:00"}],
        "languages": ["vi"],
        "accepting_referrals": False,
        "version": 1,
    }
    updated = client.patch(f"/api/v1/directory/listings/{listing_id}", patch, content_type="application/json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["accepting_referrals"] is False and updated.json()["version"] == 2
    stale = client.patch(f"/api/v1/directory/listings/{listing_id}", patch, content_type="application/json")
    assert stale.status_code == 409
    bad = client.patch(
        f"/api/v1/directory/listings/{listing_id}",
        {"intake_phone": "1", "languages": ["zz"]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"intake_phone", "languages"}
    not_contracted = client.post(
        "/api/v1/directory/listings", {"service": MEALS}, content_type="application/json"
    )
    assert not_contracted.status_code == 422

    client.force_login(dw.charlie)
    assert client.get(f"/api/v1/directory/listings/{listing_id}").status_code == 404
    assert (
        client.patch(
            f"/api/v1/directory/listings/{listing_id}", patch, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get("/api/v1/directory/listings").json()["count"] == 0

    client.force_login(dw.network)
    assert client.get("/api/v1/directory/listings").json()["count"] == 1
    assert (
        client.patch(
            f"/api/v1/directory/listings/{listing_id}", patch, content_type="application/json"
        ).status_code
        == 403
    )


def test_n9_api_listings_need_authentication(dw, client):
    assert client.get("/api/v1/directory/listings").status_code == 401
