"""The referral list, the provider's intake queue and outreach worklist, nav entries and home counts:
who sees what, filters, pages, CSV exports (rule D4) and pinned query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.core.models import AuditEvent
from cshub.referrals import services
from cshub.referrals.models import Channel, Referral
from cshub.referrals.services import ReferrerDetails
from tests.factories import UserFactory
from tests.referrals.factories import make_referral, member_details

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


def days_ago(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def numbers(response) -> list[str]:
    return [r.number for r in response.context["page_obj"]]


def attempt(rw, referral, modality: str, day: int | None = None) -> None:
    """An attempt at 10:00 Pacific on November `day`, or now (the frozen clock) when no day is given."""
    services.outreach_attempt_record(
        actor=rw.bob,
        referral=referral,
        attempted_at=dt.datetime(2026, 11, day, 18, 0, tzinfo=dt.UTC) if day else NOW,
        modality=modality,
        outcome="no_answer",
    )


# --- Referral list -------------------------------------------------------------------------------------


def test_r9_referrer_sees_the_referrals_she_sent_with_their_status(client, rw):
    referral = make_referral(rw)
    services.referral_transition(actor=rw.bob, referral=referral, to_status="accepted", expected_version=1)
    make_referral(
        rw, actor=rw.bob, channel=Channel.PHONE, referrer=ReferrerDetails(kind="member", name="Rosa")
    )
    client.force_login(rw.dana)
    page = client.get(reverse("referrals:list"))
    assert page.status_code == 200
    assert page.context["form"]["box"].value() == "sent"
    assert numbers(page) == [referral.number]  # not the phone referral logged by provider A
    html = page.content.decode()
    assert "My referrals" in html and "Accepted" in html
    assert AuditEvent.objects.filter(actor=rw.dana, action="list", object_type="referral").exists()


def test_provider_list_defaults_to_received_and_can_show_sent(client, rw):
    received = make_referral(rw)
    sent = make_referral(rw, actor=rw.bob, provider="B", service_key="medically_tailored_meals")
    for user in (rw.alice, rw.bob):
        client.force_login(user)
        page = client.get(reverse("referrals:list"))
        assert page.context["form"]["box"].value() == "received"
        assert numbers(page) == [received.number]
        assert numbers(client.get(reverse("referrals:list"), {"box": "sent"})) == [sent.number]
        assert set(numbers(client.get(reverse("referrals:list"), {"box": "all"}))) == {
            received.number,
            sent.number,
        }


def test_plan_sees_every_referral_to_it_and_the_unassigned_box(client, rw):
    assigned = make_referral(rw)
    unassigned = make_referral(rw, provider=None, member=rw.member_b)
    client.force_login(rw.um)
    assert set(numbers(client.get(reverse("referrals:list")))) == {assigned.number, unassigned.number}
    page = client.get(reverse("referrals:list"), {"box": "unassigned"})
    assert numbers(page) == [unassigned.number]
    assert "The plan (to assign)" in page.content.decode()


def test_outsider_and_other_plan_see_no_referral_of_provider_a(client, rw):
    make_referral(rw)
    for user in (rw.charlie, rw.other_plan_user):
        client.force_login(user)
        page = client.get(reverse("referrals:list"), {"box": "all"})
        assert page.status_code == 200
        assert numbers(page) == []
        assert "No referral matches" in page.content.decode()


def test_list_needs_a_referral_role(client, rw):
    billing = UserFactory(email="billing@a.example", organization=rw.provider_a, roles=["provider_billing"])
    client.force_login(billing)
    assert client.get(reverse("referrals:list")).status_code == 403


def test_list_filters_status_service_channel_search_dates_and_duplicates(client, rw):
    old = make_referral(rw, received_at=days_ago(20))
    dup = make_referral(rw)  # same member and service: flagged as a duplicate of `old`
    meals = make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    phone = make_referral(
        rw,
        actor=rw.bob,
        member=False,
        member_details=member_details(None, last_name="Quintero"),
        channel=Channel.PHONE,
        referrer=ReferrerDetails(kind="member", name="Rosa"),
    )
    services.referral_transition(
        actor=rw.bob, referral=meals, to_status="no_capacity", reason="Waitlist full", expected_version=1
    )
    client.force_login(rw.bob)
    url = reverse("referrals:list")

    def shown(**params):
        return set(numbers(client.get(url, params)))

    assert shown(status="closed") == {meals.number}
    assert shown(status="open") == {old.number, dup.number, phone.number}
    assert shown(status="no_capacity") == {meals.number}
    assert shown(service="medically_tailored_meals") == {meals.number}
    assert shown(channel="phone") == {phone.number}
    assert shown(q="quintero") == {phone.number}
    assert shown(q=old.number) == {old.number}
    assert shown(received_to="2026-11-10") == {old.number}
    assert shown(received_from="2026-11-23") == {dup.number, meals.number, phone.number}
    assert shown(duplicates="on") == {dup.number}
    html = client.get(url, {"duplicates": "on"}).content.decode()
    assert "Possible duplicate" in html
    assert reverse("referrals:detail", args=[old.uuid]) in html  # the link to the earlier referral


def test_list_refuses_bad_filters_field_by_field(client, rw):
    make_referral(rw)
    client.force_login(rw.bob)
    page = client.get(
        reverse("referrals:list"),
        {"received_from": "2026-11-20", "received_to": "2026-11-01", "status": "nonsense"},
    )
    assert page.status_code == 200
    assert numbers(page) == []
    assert set(page.context["form"].errors) == {"received_to", "status"}
    assert "The end of the period is before its start." in page.content.decode()


def test_list_paginates(client, rw, settings):
    settings.CSHUB_PAGE_SIZE = 2
    for _ in range(5):
        make_referral(rw, member=False)
    client.force_login(rw.alice)
    first = client.get(reverse("referrals:list"))
    assert len(first.context["page_obj"]) == 2
    assert first.context["page_obj"].paginator.count == 5
    assert len(client.get(reverse("referrals:list"), {"page": 3}).context["page_obj"]) == 1


def test_d4_leadership_exports_the_filtered_list_as_csv_and_it_is_audited(client, rw):
    referral = make_referral(rw)
    attempt(rw, referral, "phone")
    make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    client.force_login(rw.alice)  # CEO: a rule-D4 role
    response = client.get(
        reverse("referrals:list"), {"service": "housing_transition_navigation", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["number"] == referral.number
    assert row["status"] == "Accepted"
    assert row["member_last_name"] == "Alvarez" and row["member_cin"] == "91000001A"
    assert row["service"] == "Housing Transition Navigation Services"
    assert row["receiving_provider"] == rw.provider_a.name
    assert row["referring_organization"] == rw.hospital.name
    assert row["outreach_attempts"] == "1"
    event = AuditEvent.objects.get(actor=rw.alice, action="export", object_type="referral")
    assert event.member_ids == [str(rw.member_a.uuid)]
    assert event.detail["purpose"] == "export"


def test_d4_other_roles_export_only_the_referrals_they_made(client, rw):
    mine = make_referral(rw)
    colleague = UserFactory(email="dora@mercy.example", organization=rw.hospital, roles=["discharge_planner"])
    make_referral(rw, actor=colleague, member=rw.member_b, service_key="medically_tailored_meals")
    client.force_login(rw.bob)  # care coordinator: not a D4 role
    assert client.get(reverse("referrals:list"), {"format": "csv"}).status_code == 403
    client.force_login(rw.um)  # UM reviewer: not a D4 role
    assert client.get(reverse("referrals:list"), {"format": "csv"}).status_code == 403
    client.force_login(rw.dana)
    page = client.get(reverse("referrals:list"))
    assert len(page.context["page_obj"]) == 2  # both of the hospital's referrals on the page
    assert 'data-testid="export-csv"' in page.content.decode()
    rows = csv_rows(client.get(reverse("referrals:list"), {"box": "sent", "format": "csv"}))
    assert [r["number"] for r in rows] == [mine.number]
    assert client.get(reverse("referrals:list"), {"box": "all", "format": "csv"}).status_code == 403
    reporting = rw.plan_users["reporting_director"]
    client.force_login(reporting)
    assert len(csv_rows(client.get(reverse("referrals:list"), {"format": "csv"}))) == 2


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx)


def _add_referrals(rw, n: int) -> list[Referral]:
    made = []
    for i in range(n):
        if i % 3 == 0:
            made.append(
                make_referral(rw, member=False, member_details=member_details(None, last_name=f"Z{i}"))
            )
        else:
            made.append(make_referral(rw))  # duplicates of the first referral of member_a
    return made


# session, user, organization, roles, services (filter form), count, page, [duplicates' visibility |
# prefetched attempts], audit row, notifications badge, and one query per related table of the page's
# referrals (plan, service, providers, member, county, duplicate_of), prefetched: at most 7 for any page
RELATED = 7
LIST_QUERIES = 10 + RELATED
QUEUE_QUERIES = 9 + RELATED
WORKLIST_QUERIES = 10 + RELATED


@pytest.mark.parametrize("user", ["alice", "dana", "um"])
def test_list_query_count_does_not_grow_with_the_rows(client, rw, user, django_assert_max_num_queries):
    client.force_login(getattr(rw, user))
    url = reverse("referrals:list")
    _add_referrals(rw, 5)
    five = _count_queries(client, url, {"box": "all"} if user != "um" else {})
    _add_referrals(rw, 10)
    fifteen = _count_queries(client, url, {"box": "all"} if user != "um" else {})
    assert five == fifteen
    with django_assert_max_num_queries(LIST_QUERIES):
        client.get(url)


# --- Intake queue --------------------------------------------------------------------------------------


def test_intake_queue_oldest_first_with_duplicates_channel_and_days_waiting(client, rw):
    first = make_referral(rw, received_at=days_ago(6))
    second = make_referral(rw, received_at=days_ago(2))  # a duplicate of `first`
    accepted = make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    services.referral_transition(actor=rw.bob, referral=accepted, to_status="accepted", expected_version=1)
    make_referral(rw, provider="B", member=rw.member_b, service_key="medically_tailored_meals")
    client.force_login(rw.bob)
    page = client.get(reverse("referrals:intake_queue"))
    assert page.status_code == 200
    rows = list(page.context["page_obj"])
    assert [r.number for r in rows] == [first.number, second.number]
    assert [r.days_waiting for r in rows] == [6, 2]
    html = page.content.decode()
    assert html.count('data-testid="duplicate"') == 1
    assert reverse("referrals:detail", args=[first.uuid]) in html
    assert "Referrer portal" in html and "Housing Transition Navigation Services" in html
    assert "Accept" in html and "Decline" in html
    every = client.get(reverse("referrals:intake_queue"), {"status": "all"})
    assert {r.number for r in every.context["page_obj"]} == {first.number, second.number, accepted.number}
    only = client.get(reverse("referrals:intake_queue"), {"status": "accepted"})
    assert [r.number for r in only.context["page_obj"]] == [accepted.number]


def test_r5_quick_accept_from_the_queue_swaps_the_row_with_htmx(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    response = client.post(
        reverse("referrals:transition", args=[referral.uuid]),
        {"status": "accepted", "version": 1, "return": "intake"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<tr") and "<html" not in html
    assert "is now Accepted" in html
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_r5_decline_from_the_queue_needs_a_reason_and_works_without_js(client, rw):
    referral = make_referral(rw)
    client.force_login(rw.bob)
    url = reverse("referrals:transition", args=[referral.uuid])
    refused = client.post(
        url, {"status": "no_capacity", "reason": "", "version": 1, "return": "intake"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422
    assert "Give a reason for No capacity." in refused.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "pending"
    done = client.post(
        url, {"status": "no_capacity", "reason": "Waitlist full", "version": 1, "return": "intake"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("referrals:intake_queue")
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason) == ("no_capacity", "Waitlist full")
    follow = client.get(reverse("referrals:intake_queue"))
    assert "is now No capacity" in follow.content.decode()


def test_intake_queue_is_for_provider_staff_and_empty_for_the_outsider(client, rw):
    make_referral(rw)
    client.force_login(rw.charlie)
    page = client.get(reverse("referrals:intake_queue"))
    assert page.status_code == 200 and list(page.context["page_obj"]) == []
    assert 'data-testid="empty"' in page.content.decode()
    for user in (rw.dana, rw.um):
        client.force_login(user)
        assert client.get(reverse("referrals:intake_queue")).status_code == 403
        assert client.get(reverse("referrals:worklist")).status_code == 403


def test_intake_queue_query_count_does_not_grow_with_the_rows(client, rw, django_assert_max_num_queries):
    client.force_login(rw.bob)
    url = reverse("referrals:intake_queue")
    _add_referrals(rw, 5)
    five = _count_queries(client, url)
    _add_referrals(rw, 10)
    fifteen = _count_queries(client, url)
    assert five == fifteen
    with django_assert_max_num_queries(QUEUE_QUERIES):
        client.get(url)


# --- Outreach worklist ---------------------------------------------------------------------------------


def test_o3_worklist_shows_attempts_modalities_days_left_and_marks_risk(client, rw):
    overdue = make_referral(rw, member=False, received_at=days_ago(35))
    at_risk = make_referral(
        rw, member=False, received_at=days_ago(27), member_details=member_details(None, last_name="Risk")
    )
    fresh = make_referral(
        rw, member=False, received_at=days_ago(1), member_details=member_details(None, last_name="Fresh")
    )
    attempt(rw, at_risk, "phone", 1)
    attempt(rw, at_risk, "text", 2)
    ended = make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    services.outreach_end(actor=rw.bob, referral=ended, outcome="exclusion", reason="x", expected_version=1)
    client.force_login(rw.bob)
    page = client.get(reverse("referrals:worklist"))
    rows = list(page.context["page_obj"])
    assert [r.number for r in rows] == [overdue.number, at_risk.number, fresh.number]  # deadline order
    by_number = {r.number: r for r in rows}
    assert by_number[overdue.number].overdue
    assert by_number[at_risk.number].at_risk and by_number[at_risk.number].progress.days_left == 3
    assert by_number[at_risk.number].progress.attempts_in_window == 2
    assert by_number[at_risk.number].modality_labels == ["Phone", "Text message"]
    assert not by_number[fresh.number].at_risk and by_number[fresh.number].progress.days_left == 29
    html = page.content.decode()
    assert 'data-testid="overdue"' in html and 'data-testid="at-risk"' in html
    assert "2 of 5" in html and "Phone, Text message" in html


def test_o3_worklist_says_when_the_rule_is_met(client, rw):
    referral = make_referral(rw, received_at=days_ago(10))
    for day, modality in ((14, "phone"), (15, "text"), (16, "email"), (17, "in_person"), (18, "phone")):
        attempt(rw, referral, modality, day)
    client.force_login(rw.bob)
    page = client.get(reverse("referrals:worklist"))
    (row,) = page.context["page_obj"]
    assert row.progress.o3_met
    assert "Met" in page.content.decode()


def test_worklist_search_service_filter_and_pages(client, rw, settings):
    settings.CSHUB_PAGE_SIZE = 2
    housing = make_referral(rw, member=False, member_details=member_details(None, last_name="Ortega"))
    meals = make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals")
    make_referral(rw, member=False)
    client.force_login(rw.bob)
    url = reverse("referrals:worklist")
    assert [r.number for r in client.get(url, {"q": "ortega"}).context["page_obj"]] == [housing.number]
    assert [
        r.number for r in client.get(url, {"service": "medically_tailored_meals"}).context["page_obj"]
    ] == [meals.number]
    first = client.get(url)
    assert first.context["page_obj"].paginator.count == 3 and len(first.context["page_obj"]) == 2
    assert client.get(url, {"service": "nonsense"}).status_code == 200


def test_d4_worklist_csv_for_leadership_only(client, rw):
    referral = make_referral(rw, received_at=days_ago(3))
    attempt(rw, referral, "phone", 21)
    client.force_login(rw.bob)
    assert client.get(reverse("referrals:worklist"), {"format": "csv"}).status_code == 403
    client.force_login(rw.alice)
    rows = csv_rows(client.get(reverse("referrals:worklist"), {"format": "csv"}))
    assert rows == [
        {
            "number": referral.number,
            "status": "Accepted",
            "service": "Housing Transition Navigation Services",
            "member_last_name": "Alvarez",
            "member_first_name": "Ana",
            "member_cin": "91000001A",
            "received_on": "2026-11-20",
            "deadline": "2026-12-20",
            "days_left": "27",
            "attempts_in_window": "1",
            "modalities": "phone",
            "o3_met": "N",
            "missing": rows[0]["missing"],
        }
    ]
    assert "4 more attempt(s)" in rows[0]["missing"]
    assert AuditEvent.objects.filter(actor=rw.alice, action="export", object_type="referral").exists()


def test_worklist_is_empty_for_the_outsider(client, rw):
    make_referral(rw)
    client.force_login(rw.charlie)
    page = client.get(reverse("referrals:worklist"))
    assert page.status_code == 200 and list(page.context["page_obj"]) == []


def test_worklist_query_count_does_not_grow_with_the_rows(client, rw, django_assert_max_num_queries):
    client.force_login(rw.alice)
    url = reverse("referrals:worklist")
    made = _add_referrals(rw, 5)
    attempt(rw, made[0], "phone")
    five = _count_queries(client, url)
    for r in _add_referrals(rw, 10)[:4]:
        attempt(rw, r, "text")
    fifteen = _count_queries(client, url)
    assert five == fifteen
    with django_assert_max_num_queries(WORKLIST_QUERIES):
        client.get(url)


# --- Navigation and home -------------------------------------------------------------------------------


def test_nav_entries_follow_the_referral_permissions(client, rw):
    client.force_login(rw.bob)
    labels = [i["label"] for i in client.get(reverse("web:home")).context["nav_items"]]
    assert {"Referrals", "Intake", "Outreach"} <= set(labels)
    client.force_login(rw.dana)
    labels = [i["label"] for i in client.get(reverse("web:home")).context["nav_items"]]
    assert "Referrals" in labels and "Intake" not in labels and "Outreach" not in labels


def test_home_counts_pending_intake_outreach_due_and_open_referrals(client, rw):
    make_referral(rw, received_at=days_ago(26))  # 4 days left of the 30
    make_referral(rw, member=rw.member_b, service_key="medically_tailored_meals", received_at=days_ago(2))
    client.force_login(rw.bob)
    counts = client.get(reverse("web:home")).context["referral_counts"]
    assert (counts["pending_intake"], counts["outreach_due"], counts["open"]) == (2, 1, 2)
    client.force_login(rw.dana)
    page = client.get(reverse("web:home"))
    counts = page.context["referral_counts"]
    assert counts["pending_intake"] is None and counts["open"] == 2 and counts["box"] == "sent"
    assert "open referrals you sent" in page.content.decode()
    client.force_login(rw.charlie)
    counts = client.get(reverse("web:home")).context["referral_counts"]
    assert (counts["pending_intake"], counts["outreach_due"], counts["open"]) == (0, 0, 0)
