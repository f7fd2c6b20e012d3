"""Synthetic authorization requests of `cshub seed` (cshub/devtools/seed_authorizations.py): made through the
services, every status present, coherent histories (events in order, determinations, letters,
authorizations), the open queue spread over overdue / due today / on track, and the UM reviewer sees them.

Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest

from cshub.accounts.models import User
from cshub.authorizations.models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    AuthorizationRequest,
    RequestStatus,
    ServiceRecord,
)
from cshub.authorizations.selectors import request_queryset_for
from cshub.catalog.services import catalog_load
from cshub.core import clock
from cshub.devtools import seed_authorizations
from cshub.devtools.seed import reset, seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }


@pytest.fixture
def world():
    catalog_load()
    return seed(members=1500, providers=16, seed=7, referrals=60)


def test_every_status_with_coherent_histories(world):
    assert world.authorizations == len(seed_authorizations.SCENARIOS)
    statuses = Counter(AuthorizationRequest.objects.values_list("status", flat=True))
    assert set(statuses) == set(RequestStatus.values)
    assert ServiceRecord.objects.count() == seed_authorizations.SOBERING_STAYS
    now = clock.now()
    for request in AuthorizationRequest.objects.prefetch_related("events", "letters"):
        events = list(request.events.order_by("id"))
        times = [e.at for e in events]
        assert times == sorted(times), request.number
        assert events[0].kind == "received" and events[0].at == request.received_at
        assert all(t <= now for t in times)
        if request.status in DECIDED_STATUSES:
            assert request.determination.outcome == request.status
            assert request.decided_at == request.determination.decided_at
            if request.status != RequestStatus.WITHDRAWN:
                assert request.letters.filter(kind="determination").exists(), request.number
        if request.status in (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED):
            assert request.authorization.units <= request.units
        if request.extension_days:
            assert request.letters.filter(kind="extension").exists()
    presumptive = AuthorizationRequest.objects.filter(presumptive=True)
    assert presumptive.filter(authorization__retrospective_review_due=True).exists()
    assert presumptive.filter(retrospective_review_done_at__isnull=False).exists()
    pended = AuthorizationRequest.objects.filter(information_requests__isnull=False).distinct()
    assert pended.filter(information_requests__answered_at__isnull=True).exists()
    assert pended.filter(information_requests__answered_at__isnull=False).exists()
    decided_months = {
        clock.local(d).strftime("%Y-%m")
        for d in AuthorizationRequest.objects.filter(decided_at__isnull=False).values_list(
            "decided_at", flat=True
        )
    }
    assert len(decided_months) >= 6
    assert AuthorizationRequest.objects.filter(decided_on_time=False).exists()


def test_the_reviewer_sees_a_queue_and_reset_removes_it(world):
    reviewer = User.objects.get(email=seed_authorizations.REVIEWER_EMAIL)
    queue = request_queryset_for(reviewer).filter(status__in=OPEN_STATUSES)
    now = clock.now()
    hours = [(r.due_at - now).total_seconds() / 3600 for r in queue]
    assert any(h < 0 for h in hours)  # overdue
    assert any(0 <= h < 48 for h in hours)  # due today / soon
    assert any(h >= 48 for h in hours)  # on track
    assert request_queryset_for(reviewer).count() == AuthorizationRequest.objects.count()
    reset()
    assert not AuthorizationRequest.objects.exists()
    assert not User.objects.filter(email=seed_authorizations.REVIEWER_EMAIL).exists()
