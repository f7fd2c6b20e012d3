"""The public catalog API: /api/v1/catalog/services, /services/{key}, /codes (rules G1, G2, C1)."""

from __future__ import annotations

import pytest

from cshub.catalog.models import Service

pytestmark = pytest.mark.usefixtures("loaded_catalog")

BASE = "/api/v1/catalog"


@pytest.mark.django_db
def test_g1_api_lists_services_without_authentication(client):
    response = client.get(f"{BASE}/services")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 15
    first = body[0]
    assert first["key"] == "housing_transition_navigation"
    assert first["authorization"] == "required" and first["urgent_by_default"] is True
    assert {"code": "H0043-U6", "hcpcs": "H0043", "modifier": "U6"} in first["codes"]


@pytest.mark.django_db
def test_g1_api_list_filters(client):
    keys = [s["key"] for s in client.get(f"{BASE}/services", {"category": "recuperative"}).json()]
    assert keys == ["recuperative_care", "short_term_post_hospitalization_housing", "respite_services",
                    "sobering_centers"]  # fmt: skip
    keys = [s["key"] for s in client.get(f"{BASE}/services", {"search": "S5165"}).json()]
    assert sorted(keys) == ["asthma_remediation", "environmental_accessibility_adaptations"]
    Service.objects.filter(key="sobering_centers").update(active=False)
    assert len(client.get(f"{BASE}/services").json()) == 14
    assert len(client.get(f"{BASE}/services", {"active": "false"}).json()) == 15


@pytest.mark.django_db
def test_g1_api_list_query_count(client, django_assert_max_num_queries):
    """DESIGN principle 7: a list API asserts its query count."""
    with django_assert_max_num_queries(3):
        assert client.get(f"{BASE}/services").status_code == 200


@pytest.mark.django_db
def test_g1_g2_api_detail_is_the_full_guide(client):
    """Rules G1 and G2: the guide with codes, limits, documents, checklist and sources."""
    body = client.get(f"{BASE}/services/recuperative_care").json()
    assert body["authorization"] == "presumptive" and body["authorization_plan_choice"] is True
    assert body["initial_authorization"]["unit"] == "months"
    assert body["source_notes"]["initial_authorization"]["confidence"] == "assumed"
    assert body["codes"][0]["code"] == "T2033-U6" and body["codes"][0]["service_key"] == "recuperative_care"
    combined = body["limits"][0]
    assert (combined["kind"], combined["value"], combined["window_days"]) == (
        "rolling_window_months",
        6.0,
        365,
    )
    assert combined["group"] == "room_and_board_6_in_12"
    assert body["eligibility"] and {i["kind"] for i in body["eligibility"]} <= {"all", "any", "exclusion"}
    assert any("discharge plan" in d["text"] for d in body["documents"]["initial"])
    assert body["documents"]["reauthorization"]
    assert "reference_guide" in body["sources"]


@pytest.mark.django_db
def test_g1_api_detail_query_count(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get(f"{BASE}/services/medically_tailored_meals").status_code == 200


@pytest.mark.django_db
def test_g1_api_unknown_service_is_404_problem(client):
    response = client.get(f"{BASE}/services/free_ice_cream")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.django_db
def test_c1_api_code_lookup(client):
    """Rule C1: code + modifier -> service."""
    body = client.get(f"{BASE}/codes", {"hcpcs": "S5165"}).json()
    assert {(c["code"], c["service_key"]) for c in body} == {
        ("S5165-U5", "asthma_remediation"),
        ("S5165-U6", "environmental_accessibility_adaptations"),
    }
    (only,) = client.get(f"{BASE}/codes", {"hcpcs": "h0043", "modifier": "u3"}).json()
    assert only["service_key"] == "short_term_post_hospitalization_housing"
    assert client.get(f"{BASE}/codes", {"hcpcs": "H0043", "modifier": "ZZ"}).json() == []
    assert len(client.get(f"{BASE}/codes").json()) == 45


@pytest.mark.django_db
def test_c1_api_code_lookup_rejects_malformed_codes(client):
    response = client.get(f"{BASE}/codes", {"hcpcs": "H43"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "hcpcs"
