"""GET /api/v1/notifications, POST /api/v1/notifications/{id}/read and /read-all: the caller's own only."""

from __future__ import annotations

import datetime as dt

import pytest

from cshub.accounts import services as account_services
from cshub.accounts.roles import Role
from cshub.notifications.models import Notification
from cshub.notifications.services import notify
from tests.notifications.factories import NotificationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

API = "/api/v1/notifications"


@pytest.fixture
def inbox(world):
    return {
        "unread": NotificationFactory(recipient=world.alice, subject="Unread one"),
        "read": NotificationFactory(
            recipient=world.alice,
            subject="Read one",
            kind="authorization.decided",
            read_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        ),
        "bobs": NotificationFactory(recipient=world.bob, subject="Bob's"),
    }


def test_list_is_the_callers_own_unread_first(client, world, inbox):
    client.force_login(world.alice)
    body = client.get(API).json()
    assert body["count"] == 2
    assert [n["subject"] for n in body["items"]] == ["Unread one", "Read one"]
    first = body["items"][0]
    assert first["id"] == str(inbox["unread"].uuid)
    assert first["read_at"] is None and first["url"] == inbox["unread"].url
    assert set(first) == {
        "id",
        "kind",
        "subject",
        "body",
        "url",
        "object_type",
        "object_id",
        "created_at",
        "read_at",
        "emailed_at",
    }


def test_list_filters(client, world, inbox):
    client.force_login(world.alice)
    assert [n["subject"] for n in client.get(API, {"unread": "true"}).json()["items"]] == ["Unread one"]
    assert [n["subject"] for n in client.get(API, {"unread": "false"}).json()["items"]] == ["Read one"]
    by_kind = client.get(API, {"kind": "authorization.decided"}).json()
    assert [n["subject"] for n in by_kind["items"]] == ["Read one"]
    assert client.get(API, {"limit": 1, "offset": 1}).json()["items"][0]["subject"] == "Read one"


def test_list_query_count_is_pinned(client, world, django_assert_max_num_queries):
    for _ in range(30):
        NotificationFactory(recipient=world.alice)
    client.force_login(world.alice)
    with django_assert_max_num_queries(4):  # session, user, count, page
        response = client.get(API)
    assert response.json()["count"] == 30


def test_mark_read(client, world, inbox):
    client.force_login(world.alice)
    response = client.post(f"{API}/{inbox['unread'].uuid}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=inbox["unread"].pk).read_at is not None


def test_outsider_gets_404_problem(client, world, inbox):
    client.force_login(world.charlie)
    response = client.post(f"{API}/{inbox['unread'].uuid}/read")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert client.get(API).json()["count"] == 0
    assert Notification.objects.get(pk=inbox["unread"].pk).read_at is None


def test_read_all_marks_only_the_callers_own(client, world, inbox):
    client.force_login(world.alice)
    assert client.post(f"{API}/read-all").json() == {"marked": 1}
    assert Notification.objects.get(pk=inbox["bobs"].pk).read_at is None


def test_needs_authentication(client, world, inbox):
    assert client.get(API).status_code == 401
    assert client.post(f"{API}/read-all").status_code == 401


def test_bad_id_is_422(client, world):
    client.force_login(world.alice)
    assert client.post(f"{API}/not-a-uuid/read").status_code == 422


def test_a_system_reads_its_notices_with_its_api_key(client, world):
    key, raw = account_services.api_key_create(
        actor=world.alice, organization=world.provider_a, name="EHR", roles=[Role.CARE_COORDINATOR]
    )
    notify(kind="referral.status_changed", subject="Referral accepted", body="", users=[key.user])
    headers = {"Authorization": f"Bearer {raw}"}
    items = client.get(API, headers=headers).json()["items"]
    assert [n["subject"] for n in items] == ["Referral accepted"]
    assert client.post(f"{API}/{items[0]['id']}/read", headers=headers).status_code == 200
