"""The API: API keys, session auth, problem bodies, and scoping of organizations."""

import pytest

from cshub.accounts import services
from cshub.accounts.roles import Role
from cshub.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_unauthenticated_api_gets_401_problem(client, world):
    response = client.get("/api/v1/organizations")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_api_key_authenticates_as_its_organization_and_is_scoped(
    client, world, django_assert_max_num_queries
):
    key, raw = services.api_key_create(
        actor=world.charlie, organization=world.provider_b, name="EHR sync", roles=[Role.CS_PROGRAM_MANAGER]
    )
    headers = {"Authorization": f"Bearer {raw}"}
    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/organizations", headers=headers)
    assert listing.status_code == 200
    assert [o["name"] for o in listing.json()["items"]] == ["Provider B Meals on Wheels"]
    other = client.get(f"/api/v1/organizations/{world.provider_a.uuid}", headers=headers)
    assert other.status_code == 404 and other.json()["title"] == "Not found."
    assert (
        client.get("/api/v1/organizations/me", headers={"X-API-Key": raw})
        .json()["name"]
        .startswith("Provider B")
    )
    services.api_key_revoke(actor=world.charlie, key=key)
    assert client.get("/api/v1/organizations", headers=headers).status_code == 401


def test_wrong_api_key_is_401(client, world):
    assert (
        client.get("/api/v1/organizations", headers={"Authorization": "Bearer csh_nope_nope"}).status_code
        == 401
    )


def test_create_organization_api_422_with_field_details(client, world):
    client.force_login(world.plan_users[Role.NETWORK])
    response = client.post(
        "/api/v1/organizations",
        {"kind": "cs_provider", "name": "X", "npi": "1111111111"},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "npi" and "check digit" in body["errors"][0]["message"]
    missing = client.post("/api/v1/organizations", {"name": "no kind"}, content_type="application/json")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "kind"
    garbage = client.post("/api/v1/organizations", "not json", content_type="application/json")
    assert garbage.status_code in (400, 422)


def test_create_organization_api_201_and_audited(client, world):
    client.force_login(world.plan_users[Role.NETWORK])
    response = client.post(
        "/api/v1/organizations",
        {"kind": "hospital", "name": "Valley General", "npi": "1234567893", "counties": ["Kern"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["counties"] == ["Kern"]
    assert AuditEvent.objects.filter(object_type="organization", action="create", channel="api").exists()


def test_org_users_api_only_for_org_admins(client, world):
    client.force_login(world.bob)
    assert client.get(f"/api/v1/organizations/{world.provider_a.uuid}/users").status_code == 403
    client.force_login(world.alice)
    users = client.get(f"/api/v1/organizations/{world.provider_a.uuid}/users").json()["items"]
    assert {u["email"] for u in users} == {"alice@a.example", "bob@a.example"}


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and "/api/v1/organizations" in response.json()["paths"]
    assert client.get("/api/openapi.json").status_code == 302
