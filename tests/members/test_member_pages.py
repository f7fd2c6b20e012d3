"""Member list and detail pages: content, filters, pagination and pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cshub.core.models import County
from tests.factories import (
    CareRelationshipFactory,
    EcmAssignmentFactory,
    EligibilitySpanFactory,
    MemberFactory,
)
from tests.members.factories import ProgramEnrollmentFactory

pytestmark = pytest.mark.usefixtures("frozen_clock")  # today is 2026-11-23, Pacific


def add_plan_members(world, n: int, start: int = 0) -> None:
    sacramento = County.objects.get(name="Sacramento")
    for i in range(start, start + n):
        member = MemberFactory(county=sacramento, last_name=f"Zed{i:03d}")
        EligibilitySpanFactory(member=member, plan=world.plan)
        CareRelationshipFactory(member=member, organization=world.provider_a)


def test_detail_shows_spans_eligibility_today_ecm_programs_and_care_team(client, world):
    a = world.member_a
    EligibilitySpanFactory(
        member=a, plan=world.plan, start_date=dt.date(2020, 1, 1), end_date=dt.date(2026, 11, 22)
    )
    ecm = EcmAssignmentFactory(member=a, plan=world.plan, ecm_provider__name="Harbor ECM")
    ProgramEnrollmentFactory(member=a, program="mssp")
    client.force_login(world.alice)
    response = client.get(reverse("members:detail", args=[a.uuid]))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["spans"] == [
        (a.eligibility_spans.get(start_date=dt.date(2025, 1, 1)), True),
        (a.eligibility_spans.get(start_date=dt.date(2020, 1, 1)), False),  # ended yesterday
    ]
    assert ecm.ecm_provider.name in html
    assert "Multipurpose Senior Services Program" in html
    assert world.provider_a.name in html  # the care team
    assert "GS0000001" in html


def test_eligible_on_filter_and_eligible_today_column(client, world):
    EligibilitySpan = world.member_b.eligibility_spans.model
    EligibilitySpan.objects.filter(member=world.member_b).update(end_date=dt.date(2026, 6, 30))
    client.force_login(world.plan_users["um_reviewer"])
    page = client.get(reverse("members:list"), {"eligible_on": "2026-11-23"})
    assert [m.cin for m in page.context["page_obj"]] == [world.member_a.cin]
    page = client.get(reverse("members:list"), {"eligible_on": "06/30/2026"})
    assert {m.cin: m.eligible_on_day for m in page.context["page_obj"]} == {
        world.member_a.cin: True,
        world.member_b.cin: False,  # eligible on June 30, not today
    }


def test_county_filter(client, world):
    world.member_a.county = County.objects.get(name="Fresno")
    world.member_a.save()
    client.force_login(world.plan_users["plan_admin"])
    page = client.get(reverse("members:list"), {"county": "Fresno"})
    assert [m.cin for m in page.context["page_obj"]] == [world.member_a.cin]


def test_list_paginates(client, world, settings):
    settings.CSHUB_PAGE_SIZE = 10
    add_plan_members(world, 25)
    client.force_login(world.alice)
    first = client.get(reverse("members:list"))
    assert len(first.context["page_obj"]) == 10
    assert first.context["page_obj"].paginator.count == 26
    last = client.get(reverse("members:list"), {"page": 3})
    assert len(last.context["page_obj"]) == 6


def test_list_page_query_count_is_pinned(client, world, django_assert_max_num_queries):
    """Session, user, organization, roles, count, page, audit insert, the layout's unread-notifications
    badge: none per member."""
    add_plan_members(world, 40)
    client.force_login(world.alice)
    client.get(reverse("members:list"))  # warm caches (content types, counties)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("members:list"))
    assert len(response.context["page_obj"]) == 25


def test_api_list_query_count_is_pinned(client, world, django_assert_max_num_queries):
    add_plan_members(world, 40)
    client.force_login(world.plan_users["reporting_director"])
    client.get("/api/v1/members")
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/members", {"limit": 50})
    assert len(response.json()["items"]) == 42


def test_api_detail_query_count_is_pinned(client, world, django_assert_max_num_queries):
    for _ in range(5):
        EcmAssignmentFactory(member=world.member_a, plan=world.plan)
        ProgramEnrollmentFactory(member=world.member_a)
    client.force_login(world.alice)
    with django_assert_max_num_queries(9):
        response = client.get(f"/api/v1/members/{world.member_a.uuid}")
    body = response.json()
    assert (len(body["ecm_assignments"]), len(body["program_enrollments"])) == (5, 5)
    assert body["eligibility_spans"][0]["eligible_today"] is True


def test_api_list_limit_offset(client, world):
    add_plan_members(world, 5)
    client.force_login(world.alice)
    body = client.get("/api/v1/members", {"limit": 2, "offset": 4}).json()
    assert body["count"] == 6
    assert len(body["items"]) == 2
    assert client.get("/api/v1/members", {"limit": 0}).status_code == 422
