"""The review queue (rule A10), the request list, the timeliness report (A8) and the reviewer's home
counts: who sees what, filters, pages, CSV exports with their audit rows (rule D4), query counts that do
not grow with the rows, and provider B seeing none of provider A's requests."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from cshub.accounts.roles import Role
from cshub.authorizations import services
from cshub.authorizations.models import AuthorizationRequest
from cshub.catalog.models import Service
from cshub.core.models import AuditEvent
from cshub.referrals.models import Enrollment
from tests.authorizations.conftest import START, submit
from tests.factories import CareRelationshipFactory, EligibilitySpanFactory, MemberFactory

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def numbers(response) -> list[str]:
    return [r.number for r in response.context["page_obj"]]


def enrolled_member(aw, n: int):
    """Another member of provider A, enrolled in housing navigation (rule A2)."""
    member = MemberFactory(last_name=f"Member{n}", cin=f"9200{n:04d}A")
    EligibilitySpanFactory(member=member, plan=aw.plan, plan_member_id=f"GSX{n:06d}")
    CareRelationshipFactory(member=member, organization=aw.provider_a)
    Enrollment.objects.create(
        member=member,
        organization=aw.provider_a,
        service=Service.objects.get(key="housing_transition_navigation"),
        enrolled_on=START,
    )
    return member


def many(aw, count: int) -> list[AuthorizationRequest]:
    return [submit(aw, member=enrolled_member(aw, i)) for i in range(count)]


# --- 3. Review queue ------------------------------------------------------------------------------------


def test_a10_queue_is_for_reviewers_only(client, aw):
    for user in (aw.bob, aw.alice, aw.charlie, aw.dana, aw.plan_users[Role.CLAIMS_PROCESSOR]):
        client.force_login(user)
        assert client.get(reverse("authorizations:queue")).status_code == 403


def test_a10_queue_sorts_by_due_time_and_labels_time_left(client, aw, frozen_clock):
    routine = submit(aw)  # housing navigation
    expedited = submit(
        aw, member=enrolled_member(aw, 1), urgency="expedited", urgency_reason="Eviction Friday"
    )
    client.force_login(aw.um)
    page = client.get(reverse("authorizations:queue"))
    assert page.status_code == 200
    due_sorted = sorted([routine, expedited], key=lambda r: r.due_at)
    assert numbers(page) == [r.number for r in due_sorted]
    html = page.content.decode()
    assert 'data-testid="time-left"' in html and "On track" in html  # words, not only color
    frozen_clock.move_to(dt.datetime(2026, 12, 20, 17, 0, tzinfo=dt.UTC))
    client.force_login(aw.um)  # the session expired meanwhile
    page = client.get(reverse("authorizations:queue"))
    assert {r.time_left.state for r in page.context["page_obj"]} == {"overdue"}
    assert "Overdue" in page.content.decode()
    assert AuditEvent.objects.filter(actor=aw.um, action="list", detail__purpose="queue").exists()


def test_a10_queue_filters(client, aw):
    first = submit(aw)
    other = aw.member_a.__class__.objects.get(pk=enrolled_member(aw, 1).pk)
    second = submit(aw, member=other)
    client.force_login(aw.um)
    url = reverse("authorizations:queue")
    assert numbers(client.get(url, {"q": other.last_name})) == [second.number]
    assert numbers(client.get(url, {"q": first.number})) == [first.number]
    assert numbers(client.get(url, {"service": "recuperative_care"})) == []
    assert set(numbers(client.get(url, {"service": "housing_transition_navigation"}))) == {
        first.number,
        second.number,
    }
    assert set(numbers(client.get(url, {"provider": str(aw.provider_a.uuid)}))) == {
        first.number,
        second.number,
    }
    assert numbers(client.get(url, {"provider": str(aw.provider_b.uuid)})) == []
    services.request_take(actor=aw.um, request=first, expected_version=1)
    assert numbers(client.get(url, {"mine": "on"})) == [first.number]
    county = aw.member_a.county.name if aw.member_a.county_id else ""
    if county:
        assert first.number in numbers(client.get(url, {"county": county}))


def test_a10_take_from_the_queue_row(client, aw):
    request = submit(aw)
    client.force_login(aw.um)
    html = client.get(reverse("authorizations:queue")).content.decode()
    assert reverse("authorizations:take", args=[request.uuid]) in html
    response = client.post(reverse("authorizations:take", args=[request.uuid]), {"version": 1})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.reviewer == aw.um


def test_d4_queue_export_reporting_all_reviewer_only_taken_by_them(client, aw):
    first = submit(aw)
    submit(aw, member=enrolled_member(aw, 1))
    services.request_take(actor=aw.um, request=first, expected_version=1)
    client.force_login(aw.um)
    url = reverse("authorizations:queue")
    assert client.get(url, {"format": "csv"}).status_code == 403
    rows = csv_rows(client.get(url, {"format": "csv", "mine": "on"}))
    assert [r["number"] for r in rows] == [first.number]
    admin = aw.plan_users[Role.PLAN_ADMIN]
    client.force_login(admin)
    assert client.get(url, {"format": "csv"}).status_code == 403  # plan admin reviews but is not D4
    director = aw.plan_users[Role.REPORTING_DIRECTOR]
    assert client.get(url).status_code == 200
    client.force_login(director)
    assert client.get(url).status_code == 403  # the queue is the reviewers' page


def test_d4_request_list_export_is_audited(client, aw):
    requests = [submit(aw), submit(aw, member=enrolled_member(aw, 1))]
    director = aw.plan_users[Role.REPORTING_DIRECTOR]
    client.force_login(director)
    response = client.get(reverse("authorizations:list"), {"format": "csv"})
    assert response.status_code == 200
    rows = csv_rows(response)
    assert {r["number"] for r in rows} == {r.number for r in requests}
    assert rows[0]["member_cin"] and rows[0]["time_left"]
    event = AuditEvent.objects.get(actor=director, action="export", object_type="authorization_request")
    assert event.detail["count"] == 2
    assert set(event.member_ids) == {str(r.member.uuid) for r in requests}


def test_request_list_export_by_a_non_d4_provider_is_their_own_requests(client, aw):
    mine = submit(aw)
    submit(aw, actor=aw.alice, member=enrolled_member(aw, 1))
    client.force_login(aw.bob)
    rows = csv_rows(client.get(reverse("authorizations:list"), {"format": "csv"}))
    assert [r["number"] for r in rows] == [mine.number]
    client.force_login(aw.alice)  # CEO: a D4 role
    assert len(csv_rows(client.get(reverse("authorizations:list"), {"format": "csv"}))) == 2


# --- 4. Request list --------------------------------------------------------------------------------------


def test_request_list_by_party_and_provider_b_sees_none(client, aw):
    request = submit(aw)
    for user in (aw.bob, aw.alice, aw.um):
        client.force_login(user)
        page = client.get(reverse("authorizations:list"))
        assert page.status_code == 200 and numbers(page) == [request.number]
    client.force_login(aw.charlie)
    assert numbers(client.get(reverse("authorizations:list"))) == []
    assert csv_rows(client.get(reverse("authorizations:list"), {"format": "csv"})) == []
    client.force_login(aw.other_plan_user)
    assert numbers(client.get(reverse("authorizations:list"))) == []
    client.force_login(aw.plan_users[Role.NETWORK])
    assert client.get(reverse("authorizations:list")).status_code == 403


def test_request_list_filters_status_dates_and_search(client, aw):
    open_one = submit(aw)
    decided = submit(aw, member=enrolled_member(aw, 1))
    services.request_take(actor=aw.um, request=decided, expected_version=1)
    decided.refresh_from_db()
    services.request_decide(
        actor=aw.um,
        request=decided,
        decision=services.DecisionInput(outcome="approved"),
        expected_version=decided.version,
    )
    client.force_login(aw.bob)
    url = reverse("authorizations:list")
    assert numbers(client.get(url, {"status": "open"})) == [open_one.number]
    assert numbers(client.get(url, {"status": "decided"})) == [decided.number]
    assert numbers(client.get(url, {"status": "approved"})) == [decided.number]
    assert numbers(client.get(url, {"q": aw.member_a.cin})) == [open_one.number]
    assert set(numbers(client.get(url, {"received_from": "2026-11-23", "received_to": "2026-11-23"}))) == {
        open_one.number,
        decided.number,
    }
    assert numbers(client.get(url, {"received_from": "2026-11-24"})) == []
    page = client.get(url, {"received_from": "2026-11-24", "received_to": "2026-11-01"})
    assert page.context["form"].errors["received_to"]


def test_request_list_paginates(client, aw, settings):
    settings.CSHUB_PAGE_SIZE = 2
    many(aw, 3)
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:list"))
    assert len(page.context["page_obj"]) == 2 and page.context["page_obj"].paginator.num_pages == 2
    assert len(client.get(reverse("authorizations:list"), {"page": 2}).context["page_obj"]) == 1


QUEUE_QUERIES = 30


@pytest.mark.parametrize("name", ["authorizations:queue", "authorizations:list"])
def test_list_query_counts_do_not_grow_with_the_rows(client, aw, name, django_assert_max_num_queries):
    many(aw, 2)
    client.force_login(aw.um)
    with django_assert_max_num_queries(QUEUE_QUERIES) as few:
        client.get(reverse(name))
    many_before = len(few.captured_queries)
    for i in range(10, 16):
        submit(aw, member=enrolled_member(aw, i))
    with django_assert_max_num_queries(many_before) as more:
        client.get(reverse(name))
    assert len(more.captured_queries) == many_before


# --- 7. Timeliness report ---------------------------------------------------------------------------------


def test_a8_timeliness_report_table_chart_and_csv(client, aw):
    request = submit(aw)
    services.request_take(actor=aw.um, request=request, expected_version=1)
    request.refresh_from_db()
    services.request_decide(
        actor=aw.um,
        request=request,
        decision=services.DecisionInput(outcome="approved"),
        expected_version=request.version,
    )
    client.force_login(aw.plan_users[Role.REPORTING_DIRECTOR])
    page = client.get(reverse("authorizations:timeliness"))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert len(rows) == 1 and rows[0].decided == 1 and rows[0].on_time == 1
    html = page.content.decode()
    assert 'id="timeliness-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert 'data-testid="timeliness-row"' in html and "100%" in html
    assert page.context["chart"]["datasets"][0]["data"] == [100.0]
    rows = csv_rows(client.get(reverse("authorizations:timeliness"), {"format": "csv"}))
    assert rows == [
        {
            "month": "2026-11",
            "urgency": request.get_urgency_display(),
            "service": request.service.name,
            "decided": "1",
            "on_time": "1",
            "share_on_time": "1.000",
        }
    ]
    page = client.get(reverse("authorizations:timeliness"), {"start": "2026-12-01", "end": "2026-12-31"})
    assert page.context["rows"] == []


def test_timeliness_report_is_for_plan_staff(client, aw):
    for user in (aw.bob, aw.alice, aw.charlie, aw.plan_users[Role.NETWORK]):
        client.force_login(user)
        assert client.get(reverse("authorizations:timeliness")).status_code == 403


# --- 8. Reviewer home and navigation ------------------------------------------------------------------------


def test_a8_reviewer_home_shows_overdue_and_due_today(client, aw, frozen_clock):
    submit(aw)
    client.force_login(aw.um)
    page = client.get(reverse("web:home"))
    assert page.context["authorization_counts"]["open"] == 1
    assert 'data-testid="auth-overdue"' in page.content.decode()
    assert reverse("authorizations:queue") in page.content.decode()
    frozen_clock.move_to(dt.datetime(2026, 12, 20, 17, 0, tzinfo=dt.UTC))
    client.force_login(aw.um)  # the session expired meanwhile
    page = client.get(reverse("web:home"))
    assert page.context["authorization_counts"]["overdue"] == 1
    client.force_login(aw.bob)
    assert client.get(reverse("web:home")).context["authorization_counts"] is None


def test_navigation_entries_by_role(client, aw):
    def labels(user):
        client.force_login(user)
        return [i["label"] for i in client.get(reverse("web:home")).context["nav_items"]]

    assert {"Authorizations", "Review queue"} <= set(labels(aw.um))
    assert "Request authorization" not in labels(aw.um)
    assert {"Authorizations", "Request authorization"} <= set(labels(aw.bob))
    assert "Review queue" not in labels(aw.bob)
    assert "Authorizations" not in labels(aw.plan_users[Role.NETWORK])
