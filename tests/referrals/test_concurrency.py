"""Two staff changing one referral at the same moment, on real PostgreSQL row locks (DESIGN principle 5):
exactly one change wins; the other gets the conflict and nothing is overwritten."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from cshub.core.errors import ConflictError
from cshub.referrals import services
from cshub.referrals.models import Referral, ReferralEvent
from tests.referrals.factories import make_referral


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the counties for later tests
def test_two_simultaneous_status_changes_one_wins_one_conflicts(rw):
    referral = make_referral(rw)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def change(name, actor, to_status, reason):
        try:
            stale = Referral.objects.get(pk=referral.pk)  # both read version 1
            barrier.wait(timeout=10)
            services.referral_transition(
                actor=actor, referral=stale, to_status=to_status, reason=reason, expected_version=1
            )
            outcomes[name] = "changed"
        except ConflictError:
            outcomes[name] = "conflict"
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=change, args=("bob", rw.bob, "accepted", "")),
        threading.Thread(target=change, args=("alice", rw.alice, "no_capacity", "Waitlist full")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["changed", "conflict"]
    referral.refresh_from_db()
    assert referral.version == 2
    winner = "bob" if outcomes["bob"] == "changed" else "alice"
    assert referral.status == {"bob": "accepted", "alice": "no_capacity"}[winner]
    assert ReferralEvent.objects.filter(referral=referral, kind="status").count() == 1
