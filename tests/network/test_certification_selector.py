"""Rule N4: the read contracts depend on (`certification_approved`, `certification_status`)."""

from __future__ import annotations

import datetime as dt

from cshub.network.models import Application, Decision
from cshub.network.selectors import certification_approved, certification_status


def _app(world, kind=Application.Kind.CERTIFICATION, org=None, n=1):
    return Application.objects.create(
        number=f"CA-T-{n}",
        kind=kind,
        plan=world.plan,
        organization=org or world.provider_a,
        status=Application.Status.UNDER_REVIEW,
        status_changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _decide(app, outcome, day):
    Decision.objects.create(
        application=app, review_round=1, outcome=outcome, decided_at=dt.datetime(2026, 1, day, tzinfo=dt.UTC)
    )


def test_n4_not_started_is_not_approved(world):
    assert certification_approved(world.provider_a) is False
    assert certification_status(world.provider_a) == "not_started"


def test_n4_approve_certifies_and_later_decline_supersedes(world):
    app = _app(world)
    assert certification_status(world.provider_a) == "under_review"
    _decide(app, Decision.Outcome.GAP_CLOSURE, 2)
    assert certification_approved(world.provider_a) is False
    _decide(app, Decision.Outcome.APPROVE, 3)
    assert certification_approved(world.provider_a) is True
    assert certification_approved(world.provider_a, plan=world.plan2) is False
    assert certification_status(world.provider_a) == "approved"
    assert certification_approved(world.provider_b) is False
    _decide(_app(world, n=2), Decision.Outcome.DECLINE, 4)
    assert certification_approved(world.provider_a) is False


def test_n5_declined_participation_request_keeps_certification(world):
    _decide(_app(world), Decision.Outcome.APPROVE, 3)
    _decide(_app(world, kind=Application.Kind.PARTICIPATION, n=2), Decision.Outcome.DECLINE, 5)
    assert certification_approved(world.provider_a) is True
