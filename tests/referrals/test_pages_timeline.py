"""The referrals part of the member timeline (rule M2): scoped like every referral read; a referrer sees only
the status timeline (rule R9); a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.members.timeline import member_timeline, timeline_kinds
from cshub.referrals import services
from cshub.referrals.timeline import referral_entries
from tests.referrals.factories import make_referral

pytestmark = pytest.mark.django_db

RECEIVED = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)


def _work(rw, referral) -> None:
    services.outreach_attempt_record(
        actor=rw.bob,
        referral=referral,
        attempted_at=dt.datetime(2026, 11, 3, 18, 0, tzinfo=dt.UTC),
        modality="phone",
        outcome="reached",
        notes="Call notes the referrer must not see",
    )
    referral.refresh_from_db()
    services.first_contact_check_record(
        actor=rw.bob,
        referral=referral,
        contact_on=dt.date(2026, 11, 3),
        results=["met"] * len(referral.service.eligibility),
    )


def test_m2_referral_source_is_registered():
    assert ("referral", "Referrals") in timeline_kinds()


def test_m2_provider_sees_every_event_of_the_members_referrals(rw):
    referral = make_referral(rw, received_at=RECEIVED)
    _work(rw, referral)
    entries = [e for e in member_timeline(user=rw.bob, member=rw.member_a) if e.kind == "referral"]
    titles = [e.title for e in entries]
    assert any("Pending → Accepted" in t for t in titles)
    assert any("outreach attempt" in t for t in titles)
    assert any("eligibility checked at first contact" in t for t in titles)
    assert {e.url for e in entries} == {reverse("referrals:detail", args=[referral.uuid])}
    assert all(e.label == "Referrals" for e in entries)


def test_r9_referrer_sees_only_the_status_timeline_of_the_members_referrals(rw):
    referral = make_referral(rw, received_at=RECEIVED)
    _work(rw, referral)
    entries = list(referral_entries(user=rw.dana, member=rw.member_a))
    assert [e.title.split(": ", 1)[-1] if "received" not in e.title else "received" for e in entries] == [
        "received",
        "Pending → Accepted",
    ]
    assert all("outreach attempt" not in e.title and "Call notes" not in e.detail for e in entries)


def test_outsider_and_other_plan_get_no_referral_entries(rw):
    make_referral(rw, received_at=RECEIVED)
    assert list(referral_entries(user=rw.charlie, member=rw.member_a)) == []
    assert list(referral_entries(user=rw.other_plan_user, member=rw.member_a)) == []


def test_referral_entries_take_two_queries_whatever_their_number(rw):
    for _ in range(3):
        _work(rw, make_referral(rw, received_at=RECEIVED))
    list(referral_entries(user=rw.um, member=rw.member_a))  # loads the user's roles once
    with CaptureQueriesContext(connection) as ctx:
        entries = list(referral_entries(user=rw.um, member=rw.member_a))
    assert len(entries) >= 12
    assert len(ctx) == 2


def test_m2_member_timeline_page_lists_the_referral_events_the_user_may_see(client, rw):
    referral = make_referral(rw, received_at=RECEIVED)
    _work(rw, referral)
    client.force_login(rw.bob)
    html = client.get(reverse("members:timeline", args=[rw.member_a.uuid])).content.decode()
    assert f"Referral {referral.number}" in html and "outreach attempt" in html
    client.force_login(rw.dana)  # on the member's care team as the referrer
    response = client.get(reverse("members:timeline", args=[rw.member_a.uuid]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pending → Accepted" in html
    assert "outreach attempt" not in html and "first contact" not in html
    client.force_login(rw.charlie)
    assert client.get(reverse("members:timeline", args=[rw.member_a.uuid])).status_code == 404
