"""The main navigation: the entries a role sees, and which one is the current page."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from cshub.web.navigation import nav_for

pytestmark = pytest.mark.django_db


def _nav(user, path):
    request = RequestFactory().get(path)
    request.user = user
    return nav_for(request)


def test_the_longest_matching_entry_is_the_only_active_one(world):
    items = _nav(world.bob, "/referrals/intake/")
    assert [i["label"] for i in items if i["active"]] == ["Intake"]
    items = _nav(world.bob, "/referrals/0b8c4c8e-0000-4000-8000-000000000000/")
    assert [i["label"] for i in items if i["active"]] == ["Referrals"]
    assert [i["label"] for i in _nav(world.bob, "/") if i["active"]] == ["Home"]


def test_provider_staff_see_their_work_and_network_staff_see_no_member_work(world):
    labels = {i["label"] for i in _nav(world.bob, "/")}
    assert {"Referrals", "Intake", "Outreach", "Refer a member", "Notifications"} <= labels
    network = {i["label"] for i in _nav(world.plan_users["network"], "/")}
    assert not {"Members", "Referrals", "Intake", "Outreach"} & network
