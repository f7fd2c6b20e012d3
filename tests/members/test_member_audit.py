"""Every read of member data is audited: detail, list and search, through pages and API (principle 4)."""

from __future__ import annotations

from django.urls import reverse

from cshub.core.models import AuditEvent


def test_detail_page_read_is_audited(client, world):
    client.force_login(world.bob)
    client.get(reverse("members:detail", args=[world.member_a.uuid]))
    event = AuditEvent.objects.get(action="read", object_type="member")
    assert (event.actor, event.object_id, event.member_ids) == (
        world.bob,
        str(world.member_a.uuid),
        [str(world.member_a.uuid)],
    )
    assert (event.channel, event.organization) == ("web", world.provider_a)


def test_api_detail_read_is_audited(client, world):
    client.force_login(world.plan_users["um_reviewer"])
    client.get(f"/api/v1/members/{world.member_b.uuid}")
    event = AuditEvent.objects.get(action="read", object_type="member")
    assert event.member_ids == [str(world.member_b.uuid)]
    assert event.channel == "api"


def test_denied_read_is_audited(client, world):
    client.force_login(world.charlie)
    client.get(reverse("members:detail", args=[world.member_a.uuid]))
    client.get(f"/api/v1/members/{world.member_a.uuid}")
    events = AuditEvent.objects.filter(action="denied", object_id=str(world.member_a.uuid))
    assert [e.actor for e in events] == [world.charlie, world.charlie]
    assert not AuditEvent.objects.filter(action="read").exists()


def test_list_page_audits_the_members_shown(client, world):
    client.force_login(world.plan_users["claims_processor"])
    client.get(reverse("members:list"))
    event = AuditEvent.objects.get(action="list")
    assert set(event.member_ids) == {str(world.member_a.uuid), str(world.member_b.uuid)}
    assert event.detail["count"] == 2


def test_search_page_audits_the_search_and_the_members_shown(client, world):
    client.force_login(world.alice)
    client.get(reverse("members:list"), {"member_id": world.member_a.cin})
    event = AuditEvent.objects.get(action="list")
    assert event.member_ids == [str(world.member_a.uuid)]
    assert event.detail["purpose"] == "search"
    assert event.detail["filters"] == {"member_id": world.member_a.cin}


def test_api_list_audits_the_page_of_members(client, world):
    client.force_login(world.plan_users["plan_admin"])
    client.get("/api/v1/members", {"limit": 1})
    event = AuditEvent.objects.get(action="list")
    assert len(event.member_ids) == 1
    assert event.channel == "api"


def test_htmx_refresh_is_audited_too(client, world):
    client.force_login(world.alice)
    response = client.get(reverse("members:list"), {"county": ""}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()  # the partial only
    assert AuditEvent.objects.filter(action="list").count() == 1
