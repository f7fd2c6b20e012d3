"""The authorizations part of the member timeline (rule M2; A9): each request's history, scoped like every
request read."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from cshub.authorizations import services
from cshub.members.timeline import member_timeline, timeline_kinds
from tests.authorizations.conftest import submit

pytestmark = pytest.mark.django_db


def test_m2_authorization_source_is_registered():
    assert ("authorization", "Authorizations") in timeline_kinds()


def test_m2_timeline_shows_the_request_history_in_scope(aw):
    request = submit(aw)
    services.request_decide(
        actor=aw.um, request=request, decision=services.DecisionInput(outcome="approved"), expected_version=1
    )
    entries = [e for e in member_timeline(user=aw.bob, member=aw.member_a) if e.kind == "authorization"]
    titles = [e.title for e in entries]
    assert titles[0].endswith(": received") and titles[-1].endswith(": decided")
    assert {e.url for e in entries} == {reverse("authorizations:detail", args=[request.uuid])}
    with pytest.raises(Http404):  # provider B has no part in member A's care
        list(member_timeline(user=aw.charlie, member=aw.member_a))
