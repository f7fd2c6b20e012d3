"""The authorizations part of the member timeline (rule M2: one record of the member; rule A9): each
request's history in the user's scope (`selectors.request_queryset_for`). Two queries whatever the number
of entries; no audit here (the timeline audits once for the page). Registered from
`AuthorizationsConfig.ready()`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from cshub.authorizations import selectors
from cshub.authorizations.models import RequestEvent
from cshub.members.timeline import TimelineEntry

KIND = "authorization"
DETAIL_MAX = 300
TITLES = {
    "received": "received",
    "taken": "taken for review",
    "released": "returned to the queue",
    "pended": "information requested",
    "answered": "information received",
    "urgency": "urgency changed",
    "extended": "decision extended",
    "decided": "decided",
    "presumptive": "authorized at once (presumptive)",
    "retrospective_review": "retrospective review",
}


def authorization_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    requests = {
        r.pk: r for r in selectors.request_queryset_for(user).filter(member=member).select_related("service")
    }
    if not requests:
        return
    events = (
        RequestEvent.objects.filter(request_id__in=list(requests))
        .select_related("organization")
        .order_by("at", "id")
    )
    for event in events:
        request = requests[event.request_id]
        yield TimelineEntry(
            at=event.at,
            kind=KIND,
            title=f"Authorization request {request.number} ({request.service.name}): "
            f"{TITLES.get(event.kind, event.kind.replace('_', ' '))}",
            detail=" ".join(event.text.split())[:DETAIL_MAX],
            organization=event.organization.name if event.organization else "",
            url=reverse("authorizations:detail", args=[request.uuid]),
        )


def register() -> None:
    from cshub.members.timeline import register_timeline_source

    register_timeline_source(KIND, authorization_entries, label="Authorizations")
