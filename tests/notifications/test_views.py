"""The notifications page, opening a notice, the mark-read buttons (htmx and plain forms), the nav entry and
its unread badge. Charlie (provider B) gets 404 for Alice's notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from cshub.notifications.models import Notification
from tests.notifications.factories import NotificationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

READ_AT = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def inbox(world):
    """Alice: two unread referral notices, one read authorization notice; Bob has one of his own."""
    return {
        "old_unread": NotificationFactory(recipient=world.alice, subject="Old unread"),
        "read": NotificationFactory(
            recipient=world.alice, subject="Already read", kind="authorization.decided", read_at=READ_AT
        ),
        "new_unread": NotificationFactory(recipient=world.alice, subject="New unread"),
        "bobs": NotificationFactory(recipient=world.bob, subject="For Bob only"),
    }


def subjects(response) -> list[str]:
    return [n.subject for n in response.context["page_obj"]]


def test_list_shows_own_notices_unread_first(client, world, inbox):
    client.force_login(world.alice)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert subjects(response) == ["New unread", "Old unread", "Already read"]
    assert b"For Bob only" not in response.content
    assert b"2 unread notifications" in response.content


def test_list_filters_unread_and_kind(client, world, inbox):
    client.force_login(world.alice)
    url = reverse("notifications:list")
    assert subjects(client.get(url, {"unread": "1"})) == ["New unread", "Old unread"]
    assert subjects(client.get(url, {"kind": "authorization.decided"})) == ["Already read"]
    response = client.get(url, {"kind": "referral.status_changed", "unread": "1", "page": "1"})
    assert response.context["querystring_without_page"] == "kind=referral.status_changed&unread=1&"
    assert response.context["kinds"] == ["authorization.decided", "referral.status_changed"]


def test_list_paginates(client, world, settings):
    settings.CSHUB_PAGE_SIZE = 10
    for _ in range(23):
        NotificationFactory(recipient=world.alice)
    client.force_login(world.alice)
    last = client.get(reverse("notifications:list"), {"page": 3})
    assert len(last.context["page_obj"]) == 3
    assert last.context["page_obj"].paginator.count == 23


def test_list_query_count_is_pinned(client, world, django_assert_max_num_queries):
    client.force_login(world.alice)
    for _ in range(3):
        NotificationFactory(recipient=world.alice)
    url = reverse("notifications:list")
    client.get(url)
    # session, user, organization and roles (base page); page count, rows, kinds, unread count:
    # the same for 3 notices or 30
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200
    for _ in range(27):
        NotificationFactory(recipient=world.alice, kind="claim.paid")
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(client, world, inbox):
    client.force_login(world.alice)
    notice = inbox["new_unread"]
    response = client.get(reverse("notifications:open", args=[notice.uuid]))
    assert response.status_code == 302 and response["Location"] == notice.url
    notice.refresh_from_db()
    assert notice.read_at is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_opening_a_notice_never_redirects_off_site(client, world, url):
    notice = NotificationFactory(recipient=world.alice, url=url)  # written around the service's check
    client.force_login(world.alice)
    response = client.get(reverse("notifications:open", args=[notice.uuid]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list")


def test_notice_without_a_link_opens_the_list(client, world):
    notice = NotificationFactory(recipient=world.alice, url="")
    client.force_login(world.alice)
    response = client.get(reverse("notifications:open", args=[notice.uuid]))
    assert response["Location"] == reverse("notifications:list")


def test_outsider_gets_404_on_every_page_of_someone_elses_notice(client, world, inbox):
    notice = inbox["new_unread"]
    client.force_login(world.charlie)
    assert client.get(reverse("notifications:open", args=[notice.uuid])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[notice.uuid])).status_code == 404
    client.force_login(world.bob)  # same organization, still not his
    assert client.get(reverse("notifications:open", args=[notice.uuid])).status_code == 404
    assert client.get(reverse("notifications:list")).context["page_obj"].paginator.count == 1
    notice.refresh_from_db()
    assert notice.read_at is None


def test_pages_need_a_login(client, world, inbox):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_mark_read_without_javascript_redirects_back_to_the_filtered_list(client, world, inbox):
    client.force_login(world.alice)
    notice = inbox["old_unread"]
    back = reverse("notifications:list") + "?unread=1&page=1"
    response = client.post(reverse("notifications:mark_read", args=[notice.uuid]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_mark_read_next_cannot_leave_the_list(client, world, inbox):
    client.force_login(world.alice)
    for target in ("https://evil.example/notifications/", "//evil.example/", "/members/"):
        response = client.post(
            reverse("notifications:mark_read", args=[inbox["old_unread"].uuid]), {"next": target}
        )
        assert response["Location"] == reverse("notifications:list")


def test_mark_read_with_htmx_answers_the_updated_row_and_count(client, world, inbox):
    client.force_login(world.alice)
    notice = inbox["new_unread"]
    response = client.post(
        reverse("notifications:mark_read", args=[notice.uuid]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{notice.uuid}"' in html
    assert "Mark read" not in html  # the row is read now
    assert 'hx-swap-oob="true"' in html and "1 unread notification<" in html


def test_mark_read_needs_post(client, world, inbox):
    client.force_login(world.alice)
    assert client.get(reverse("notifications:mark_read", args=[inbox["new_unread"].uuid])).status_code == 405


def test_mark_all_read(client, world, inbox):
    client.force_login(world.alice)
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("notifications:list")
    assert b"2 notifications marked read." in response.content
    assert not Notification.objects.filter(recipient=world.alice, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=inbox["bobs"].pk).read_at is None


def test_nav_entry_and_unread_count_in_every_page_context(client, world, inbox):
    client.force_login(world.alice)
    response = client.get(reverse("web:home"))
    assert {"label": "Notifications", "url": "/notifications/", "active": False} in response.context[
        "nav_items"
    ]
    assert response.context["notifications_unread"]() == 2
    client.force_login(world.charlie)
    assert client.get(reverse("web:home")).context["notifications_unread"]() == 0


def test_nav_badge_is_announced_with_the_count(world, inbox):
    NotificationFactory(recipient=world.alice)
    request = RequestFactory().get("/")
    request.user = world.alice
    html = render_to_string("notifications/_nav_badge.html", request=request)
    assert 'aria-label="3 unread notifications"' in html and ">3</span>" in html
    request.user = world.charlie
    assert render_to_string("notifications/_nav_badge.html", request=request).strip() == ""
