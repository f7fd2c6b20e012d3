"""The referrals part of the member timeline (rule M2: one record of the member; rules R5, R9).

Registered from `ReferralsConfig.ready()` into `cshub.members.timeline`. Scoped like every referral read:
only the member's referrals in `selectors.referral_queryset_for(user)`; a user who is only the referrer of
a referral sees its status timeline (`selectors.REFERRER_EVENT_KINDS`), not outreach or eligibility work.
Two queries whatever the number of entries; no audit here (the timeline audits once for the page).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from cshub.members.timeline import TimelineEntry
from cshub.referrals import selectors
from cshub.referrals.models import ReferralEvent
from cshub.referrals.workflow import workflow

KIND = "referral"
DETAIL_MAX = 300


def _title(event: ReferralEvent, number: str, what: str) -> str:
    wf = workflow()

    def label(key: str) -> str:
        status = wf.statuses.get(key)
        return status.label if status else key

    if event.kind == ReferralEvent.Kind.STATUS:
        return f"Referral {number} ({what}): {label(event.from_status)} → {label(event.to_status)}"
    if event.kind == ReferralEvent.Kind.CREATED:
        return f"Referral {number} received: {what}"
    return f"Referral {number} ({what}): {event.get_kind_display().lower()}"


def referral_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    referrals = {
        r.pk: r
        for r in selectors.referral_queryset_for(user)
        .filter(member=member)
        .select_related("service", "receiving_provider")
    }
    if not referrals:
        return
    events = (
        ReferralEvent.objects.filter(referral_id__in=list(referrals))
        .select_related("organization")
        .order_by("at", "id")
    )
    for event in events:
        referral = referrals[event.referral_id]
        if (
            not selectors.referral_sees_work(user=user, referral=referral)
            and event.kind not in selectors.REFERRER_EVENT_KINDS
        ):
            continue
        what = referral.service.name if referral.service else "Enhanced Care Management"
        yield TimelineEntry(
            at=event.at,
            kind=KIND,
            title=_title(event, referral.number, what),
            detail=" ".join(event.reason.split())[:DETAIL_MAX],
            organization=event.organization.name if event.organization else "",
            url=reverse("referrals:detail", args=[referral.uuid]),
        )


def register() -> None:
    from cshub.members.timeline import register_timeline_source

    register_timeline_source(KIND, referral_entries, label="Referrals")
