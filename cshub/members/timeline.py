"""The member timeline: everything that happened to a member that the user may see, newest first (rule M2:
one documentation record of the member, across the plan's files and the provider's own records).

The timeline is a registry of sources. The members app registers its own (eligibility spans, ECM assignment,
care coordination programs, consents, assessments, SDOH needs, goals and their progress, notes, information
from other sources) from `MembersConfig.ready()`. Another app adds its entries the same way, from its own
`AppConfig.ready()`; the referrals app, for example:

    from cshub.members.timeline import TimelineEntry, register_timeline_source

    def referral_timeline(*, user, member):
        # Scope first: only what `user` may see of `member` (the app's own scoping selector).
        for r in referral_queryset_for(user).filter(member=member).select_related("receiving_organization"):
            yield TimelineEntry(
                at=r.created_at,                      # an aware datetime; for a date use entry_at(day)
                kind="referral",                      # the kind it was registered under
                title=f"Referral to {r.receiving_organization.name}",
                detail=r.get_status_display(),
                organization=r.referring_organization.name,
                url=reverse("referrals:detail", args=[r.uuid]),
            )

    class ReferralsConfig(AppConfig):
        def ready(self):
            register_timeline_source("referral", referral_timeline, label="Referrals")

A source is `fn(*, user, member) -> Iterable[TimelineEntry]`. It must already be scoped to the user (deny by
default: the timeline shows whatever the sources return), must not audit (`member_timeline` writes one audit
row for the whole timeline), and should take a fixed number of queries (no query per entry). `member` has
been fetched through `selectors.member_get_for_user`, so it is in the user's scope. Registering a kind again
replaces its source (reloads and tests are safe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.http import Http404
from django.urls import reverse

from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.members.errors import TIMELINE_INVALID

__all__ = [
    "TimelineEntry",
    "TimelineSource",
    "entry_at",
    "member_timeline",
    "register_member_sources",
    "register_timeline_source",
    "timeline_kinds",
    "unregister_timeline_source",
]

DETAIL_MAX = 300  # characters of free text (notes, summaries) shown in an entry


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened. `at` is an aware datetime (dates: `entry_at(day)`, the start of that day
    in Pacific time); `kind` is the source's registered kind; `label` is a short badge text (default: the
    kind's label); `url` links to the record, when there is a page for it."""

    at: datetime
    kind: str
    title: str
    detail: str = ""
    organization: str = ""
    url: str = ""
    label: str = ""


TimelineFn = Callable[..., Iterable[TimelineEntry]]


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    label: str
    fn: TimelineFn


_SOURCES: dict[str, TimelineSource] = {}


def register_timeline_source(kind: str, fn: TimelineFn, *, label: str | None = None) -> None:
    """Add (or replace) the source of one kind of entry. `kind` is a short key (`referral`), used in the
    timeline's `kind` filter; `label` is shown in the filter and on the entries (`Referrals`)."""
    if not kind or not kind.replace("_", "").isalnum():
        raise ValueError(f"a timeline kind is a short key of letters, digits and _, not {kind!r}")
    _SOURCES[kind] = TimelineSource(kind=kind, label=label or kind.replace("_", " ").capitalize(), fn=fn)


def unregister_timeline_source(kind: str) -> None:
    _SOURCES.pop(kind, None)


def timeline_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every registered source, in registration order."""
    return [(s.kind, s.label) for s in _SOURCES.values()]


def entry_at(day: date) -> datetime:
    """The instant a date-only event is placed at: the start of that day, Pacific."""
    return clock.start_of_day(day)


def member_timeline(
    *, user: Any, member: Any, kinds: Sequence[str] | None = None, purpose: str = "view"
) -> list[TimelineEntry]:
    """The member's timeline for `user`, newest first, from every source or only `kinds`. 404 when the
    member is out of the user's scope; 422 for an unknown kind. One audit row (action "export" when
    `purpose` is "export") names the member, the kinds and the number of entries."""
    from cshub.members.selectors import member_queryset_for

    selected = list(dict.fromkeys(kinds or []))
    if unknown := [k for k in selected if k not in _SOURCES]:
        raise DomainError(
            "The timeline filter is not valid.",
            code=TIMELINE_INVALID,
            errors=[
                FieldError(
                    "kind",
                    f"Unknown kind: {', '.join(unknown)}. Use one of: {', '.join(_SOURCES)}.",
                    "invalid",
                )
            ],
        )
    if not member_queryset_for(user).filter(pk=member.pk).exists():
        raise Http404("No such member")
    sources = [s for s in _SOURCES.values() if not selected or s.kind in selected]
    entries: list[TimelineEntry] = []
    for source in sources:
        for entry in source.fn(user=user, member=member):
            if not entry.label:
                entry = replace(entry, label=source.label)
            entries.append(entry)
    entries.sort(key=lambda e: e.at, reverse=True)  # stable: same instant keeps registration order
    audit_record(
        actor=user,
        action="export" if purpose == "export" else "read",
        object_type="member_timeline",
        object_id=member.uuid,
        member_ids=[member.uuid],
        detail={"purpose": purpose, "kinds": [s.kind for s in sources], "count": len(entries)},
    )
    return entries


# --- The members app's sources (registered by MembersConfig.ready) ------------------------------------------


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _past(day: date | None) -> bool:
    """Only what has happened: events dated after today (a planned end) are left out."""
    return day is not None and day <= clock.today()


def eligibility_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import member_eligibility_spans

    for span in member_eligibility_spans(user=user, member=member):
        detail = f"{span.get_line_of_business_display()} · plan member ID {span.plan_member_id}"
        if _past(span.start_date):
            yield TimelineEntry(
                at=entry_at(span.start_date),
                kind="eligibility",
                title=f"Eligibility began at {span.plan.name}",
                detail=detail,
                organization=span.plan.name,
            )
        if _past(span.end_date):
            yield TimelineEntry(
                at=entry_at(span.end_date),
                kind="eligibility",
                title=f"Eligibility ended at {span.plan.name}",
                detail=detail,
                organization=span.plan.name,
            )


def ecm_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.models import EcmAssignment

    for a in EcmAssignment.objects.filter(member=member).select_related("ecm_provider", "plan"):
        if _past(a.start_date):
            yield TimelineEntry(
                at=entry_at(a.start_date),
                kind="ecm_assignment",
                title=f"Assigned to ECM provider {a.ecm_provider.name}",
                detail=f"Assigned by {a.plan.name}",
                organization=a.plan.name,
            )
        if _past(a.end_date):
            yield TimelineEntry(
                at=entry_at(a.end_date),
                kind="ecm_assignment",
                title=f"ECM assignment to {a.ecm_provider.name} ended",
                organization=a.plan.name,
            )


def program_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.models import ProgramEnrollment
    from cshub.members.roster import program_names

    names = program_names()
    for p in ProgramEnrollment.objects.filter(member=member):
        name = names.get(p.program, p.program)
        if _past(p.start_date):
            yield TimelineEntry(
                at=entry_at(p.start_date),
                kind="program_enrollment",
                title=f"Enrolled in {name}",
                detail=p.source,
            )
        if _past(p.end_date):
            yield TimelineEntry(
                at=entry_at(p.end_date), kind="program_enrollment", title=f"Left {name}", detail=p.source
            )


def consent_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import consent_queryset_for

    url = reverse("members:consents", args=[member.uuid])
    for c in consent_queryset_for(user).filter(member=member).select_related("organization"):
        scopes = "; ".join(c.scope_labels)
        link = f"{url}#consent-{c.uuid}"
        yield TimelineEntry(
            at=entry_at(c.signed_on),
            kind="consent",
            title="Release of information consent signed",
            detail=scopes,
            organization=c.organization.name,
            url=link,
        )
        if c.revoked_on is not None:
            yield TimelineEntry(
                at=entry_at(c.revoked_on),
                kind="consent",
                title="Consent revoked",
                detail=_short(c.revoke_reason),
                organization=c.organization.name,
                url=link,
            )
        elif c.expires_on is not None and c.expires_on < clock.today():
            yield TimelineEntry(
                at=entry_at(c.expires_on),
                kind="consent",
                title="Consent expired",
                detail=scopes,
                organization=c.organization.name,
                url=link,
            )


def assessment_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.assessments import template_get
    from cshub.members.selectors import assessment_queryset_for

    qs = assessment_queryset_for(user).filter(member=member).select_related("organization", "service")
    for a in qs:
        template = template_get(a.template_key)
        yield TimelineEntry(
            at=entry_at(a.assessed_on),
            kind="assessment",
            title=f"Assessment: {template.title if template else a.template_key}",
            detail=a.service.name if a.service else "General assessment",
            organization=a.organization.name,
            url=reverse("members:assessment_detail", args=[member.uuid, a.uuid]),
        )


def sdoh_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import sdoh_need_queryset_for

    url = reverse("members:sdoh_needs", args=[member.uuid])
    for n in sdoh_need_queryset_for(user).filter(member=member).select_related("organization"):
        yield TimelineEntry(
            at=entry_at(n.identified_on),
            kind="sdoh_need",
            title=f"Social need identified: {n.code} {n.description}",
            detail=_short(n.note),
            organization=n.organization.name,
            url=f"{url}#need-{n.uuid}",
        )
        if n.resolved_on is not None:
            yield TimelineEntry(
                at=entry_at(n.resolved_on),
                kind="sdoh_need",
                title=f"Social need resolved: {n.code} {n.description}",
                organization=n.organization.name,
                url=f"{url}#need-{n.uuid}",
            )


def goal_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import goal_progress_queryset_for, goal_queryset_for

    url = reverse("members:goals", args=[member.uuid])
    for g in goal_queryset_for(user).filter(member=member).select_related("organization"):
        yield TimelineEntry(
            at=g.created_at,
            kind="goal",
            title=f"Goal set: {_short(g.description)}",
            detail=f"Target {g.target_date:%Y-%m-%d}" if g.target_date else "",
            organization=g.organization.name,
            url=f"{url}#goal-{g.uuid}",
        )
    progress = (
        goal_progress_queryset_for(user).filter(goal__member=member).select_related("goal__organization")
    )
    for p in progress:
        yield TimelineEntry(
            at=entry_at(p.recorded_on),
            kind="goal",
            title=f"Goal {p.get_status_display().lower()}: {_short(p.goal.description)}",
            detail=_short(p.note),
            organization=p.goal.organization.name,
            url=f"{url}#goal-{p.goal.uuid}",
        )


def note_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import member_note_queryset_for

    url = reverse("members:notes", args=[member.uuid])
    for n in member_note_queryset_for(user).filter(member=member).select_related("organization", "author"):
        author = (n.author.full_name or n.author.email) if n.author else "system"
        yield TimelineEntry(
            at=n.created_at,
            kind="note",
            title=f"Note by {author}",
            detail=_short(n.text),
            organization=n.organization.name,
            url=f"{url}#note-{n.uuid}",
        )


def external_information_entries(*, user: Any, member: Any) -> Iterable[TimelineEntry]:
    from cshub.members.selectors import external_information_queryset_for

    url = reverse("members:external_information", args=[member.uuid])
    qs = external_information_queryset_for(user).filter(member=member).select_related("organization")
    for i in qs:
        yield TimelineEntry(
            at=entry_at(i.received_on),
            kind="external_information",
            title=f"Information received from {i.source_name} ({i.get_source_kind_display()})",
            detail=_short(i.summary),
            organization=i.organization.name,
            url=f"{url}#info-{i.uuid}",
        )


def register_member_sources() -> None:
    """The members app's sources, in the order the timeline filter lists them."""
    register_timeline_source("eligibility", eligibility_entries, label="Eligibility")
    register_timeline_source("ecm_assignment", ecm_entries, label="ECM assignment")
    register_timeline_source("program_enrollment", program_entries, label="Care coordination programs")
    register_timeline_source("consent", consent_entries, label="Consents")
    register_timeline_source("assessment", assessment_entries, label="Assessments")
    register_timeline_source("sdoh_need", sdoh_entries, label="SDOH needs")
    register_timeline_source("goal", goal_entries, label="Goals")
    register_timeline_source("note", note_entries, label="Notes")
    register_timeline_source(
        "external_information", external_information_entries, label="Information received"
    )
