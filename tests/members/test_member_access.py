"""Deny by default (DESIGN principle 4, STYLE 12): who sees which member through pages, API and search.

alice (CEO, provider A) and bob (care coordinator, provider A) see member_a only; charlie (provider B) gets
404 for member_a; plan member roles see their own plan's members; network and provider relations see none.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

PLAN_MEMBER_ROLES = [
    "plan_admin",
    "um_reviewer",
    "claims_processor",
    "reporting_director",
    "reporting_supervisor",
]
NO_MEMBER_ROLES = ["network", "provider_relations"]


def page(client, member):
    return client.get(reverse("members:detail", args=[member.uuid]))


def api(client, member):
    return client.get(f"/api/v1/members/{member.uuid}")


def listed_cins(client, **params) -> set[str]:
    response = client.get("/api/v1/members", params)
    assert response.status_code == 200, response.content
    return {m["cin"] for m in response.json()["items"]}


def page_lists(client, member, **params) -> bool:
    response = client.get(reverse("members:list"), params)
    assert response.status_code == 200
    return reverse("members:detail", args=[member.uuid]) in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_provider_a_users_see_member_a_not_member_b(client, world, who):
    client.force_login(getattr(world, who))
    assert page(client, world.member_a).status_code == 200
    assert api(client, world.member_a).status_code == 200
    assert page(client, world.member_b).status_code == 404
    assert api(client, world.member_b).status_code == 404
    assert page(client, world.member_plan2).status_code == 404
    assert listed_cins(client) == {world.member_a.cin}
    assert page_lists(client, world.member_a)
    assert not page_lists(client, world.member_b)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_search_excludes_members_out_of_scope(client, world, who):
    client.force_login(getattr(world, who))
    assert listed_cins(client, member_id=world.member_b.cin) == set()
    assert listed_cins(client, member_id="GS0000002") == set()  # member_b's plan member ID
    b = world.member_b
    assert listed_cins(client, last_name=b.last_name, date_of_birth=b.date_of_birth.isoformat()) == set()
    assert not page_lists(client, b, member_id=b.cin)
    assert listed_cins(client, member_id=world.member_a.cin) == {world.member_a.cin}
    assert listed_cins(client, member_id="GS0000001") == {world.member_a.cin}


def test_charlie_gets_404_for_member_a(client, world):
    client.force_login(world.charlie)
    assert page(client, world.member_a).status_code == 404
    response = api(client, world.member_a)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert listed_cins(client, member_id=world.member_a.cin) == set()
    assert listed_cins(client) == {world.member_b.cin}


@pytest.mark.parametrize("role", PLAN_MEMBER_ROLES)
def test_plan_member_roles_see_their_plans_members_only(client, world, role):
    client.force_login(world.plan_users[role])
    for member in (world.member_a, world.member_b):
        assert page(client, member).status_code == 200
        assert api(client, member).status_code == 200
    assert page(client, world.member_plan2).status_code == 404
    assert api(client, world.member_plan2).status_code == 404
    assert listed_cins(client) == {world.member_a.cin, world.member_b.cin}
    assert listed_cins(client, member_id="SC0000003") == set()
    assert listed_cins(client, member_id=world.member_plan2.cin) == set()


def test_other_plan_sees_only_its_member(client, world):
    client.force_login(world.other_plan_user)
    assert listed_cins(client) == {world.member_plan2.cin}
    assert api(client, world.member_a).status_code == 404
    assert page(client, world.member_plan2).status_code == 200


def test_plan_detail_shows_only_the_plans_own_spans(client, world):
    from tests.factories import EligibilitySpanFactory

    EligibilitySpanFactory(member=world.member_a, plan=world.plan2, plan_member_id="SC-SECRET")
    client.force_login(world.plan_users["um_reviewer"])
    spans = api(client, world.member_a).json()["eligibility_spans"]
    assert [s["plan_member_id"] for s in spans] == ["GS0000001"]


@pytest.mark.parametrize("role", NO_MEMBER_ROLES)
def test_network_and_provider_relations_see_no_members(client, world, role):
    """Chosen: 403 on the member list (page and API), 404 on any member (no hint it exists)."""
    client.force_login(world.plan_users[role])
    assert client.get(reverse("members:list")).status_code == 403
    assert client.get("/api/v1/members").status_code == 403
    assert page(client, world.member_a).status_code == 404
    assert api(client, world.member_a).status_code == 404


def test_anonymous_is_sent_to_login_or_gets_401(client, world):
    assert client.get(reverse("members:list")).status_code == 302
    assert page(client, world.member_a).status_code == 302
    assert client.get("/api/v1/members").status_code == 401
    assert api(client, world.member_a).status_code == 401


def test_api_key_acts_within_its_organization(client, world):
    from cshub.accounts.services import api_key_create

    _, raw = api_key_create(
        actor=world.alice, organization=world.provider_a, name="EHR", roles=["provider_ceo"]
    )
    headers = {"Authorization": f"Bearer {raw}"}
    response = client.get("/api/v1/members", headers=headers)
    assert {m["cin"] for m in response.json()["items"]} == {world.member_a.cin}
    assert client.get(f"/api/v1/members/{world.member_b.uuid}", headers=headers).status_code == 404


def test_name_search_needs_last_name_and_date_of_birth(client, world):
    client.force_login(world.alice)
    response = client.get("/api/v1/members", {"last_name": "Alvarez"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "date_of_birth", "message": "Search by name needs the date of birth.", "code": "required"}
    ]
    html = client.get(reverse("members:list"), {"first_name": "Ana"}).content.decode()
    assert "Search by name needs the last name." in html
    assert reverse("members:detail", args=[world.member_a.uuid]) not in html


def test_bad_search_input_gets_field_errors(client, world):
    client.force_login(world.alice)
    response = client.get("/api/v1/members", {"date_of_birth": "1980-13-45", "last_name": "Alvarez"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_of_birth"
    response = client.get("/api/v1/members", {"county": "Gotham"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "county"
    html = client.get(reverse("members:list"), {"eligible_on": "soon"}).content.decode()
    assert "Enter a valid date." in html


def test_name_and_dob_search_finds_the_member(client, world):
    client.force_login(world.bob)
    a = world.member_a
    assert listed_cins(client, last_name="alvarez", first_name="An", date_of_birth="1980-05-17") == {a.cin}
    assert page_lists(client, a, last_name="Alvarez", date_of_birth="05/17/1980")


def test_plan_member_id_search_lists_a_member_once(client, world):
    from tests.factories import EligibilitySpanFactory

    EligibilitySpanFactory(
        member=world.member_a, plan=world.plan, plan_member_id="GS0000001", start_date="2020-01-01"
    )
    client.force_login(world.plan_users["plan_admin"])
    response = client.get("/api/v1/members", {"member_id": "GS0000001"}).json()
    assert (response["count"], [m["cin"] for m in response["items"]]) == (1, [world.member_a.cin])
