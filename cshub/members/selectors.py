"""Every read of members, scoped to the acting user and audited (DESIGN principles 4, rule D4).

`member_queryset_for` is the one scoping function for members: pages, API, exports and other apps'
selectors start from it. A plan user with a member role sees the plan's members (any eligibility span at
that plan); a provider or referrer sees only members with a care relationship to its organization;
everyone else sees nothing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.core.reference import county_names
from cshub.members import permissions
from cshub.members.errors import SEARCH_INVALID
from cshub.members.models import (
    Assessment,
    CareRelationship,
    Consent,
    EcmAssignment,
    EligibilitySpan,
    ExternalInformation,
    Goal,
    GoalProgress,
    Member,
    MemberNote,
    ProgramEnrollment,
    RosterImport,
    SdohNeed,
)

CIN_RE = re.compile(r"^\d{8}[A-Za-z]$")


def member_queryset_for(user: object) -> QuerySet[Member]:
    """Deny by default: the members this user may see, unaudited (callers that show data audit it)."""
    if not permissions.can_view_members(user):
        return Member.objects.none()
    if user.is_plan_staff:
        spans = EligibilitySpan.objects.filter(member=OuterRef("pk"), plan_id=user.organization_id)
        return Member.objects.filter(Exists(spans))
    relations = CareRelationship.objects.filter(member=OuterRef("pk"), organization_id=user.organization_id)
    return Member.objects.filter(Exists(relations))


def member_get_for_user(
    *, user: object, uuid: UUID | str, purpose: str = "view", related: bool = True
) -> Member:
    """One member with spans and assignments (`related`; without them for pages that show the member's
    name only), or 404 when out of scope. The read is audited."""
    qs = member_queryset_for(user).select_related("county")
    if related:
        qs = qs.prefetch_related(
            Prefetch("eligibility_spans", queryset=_spans_visible_to(user).select_related("plan")),
            Prefetch(
                "ecm_assignments", queryset=EcmAssignment.objects.select_related("ecm_provider", "plan")
            ),
            Prefetch("program_enrollments", queryset=ProgramEnrollment.objects.all()),
        )
    try:
        member = qs.get(uuid=uuid)
    except (Member.DoesNotExist, ValueError, TypeError) as exc:
        audit_record(
            actor=user, action="denied", object_type="member", object_id=uuid, detail={"purpose": purpose}
        )
        raise Http404("No such member") from exc
    audit_record(
        actor=user,
        action="read",
        object_type="member",
        object_id=member.uuid,
        member_ids=[member.uuid],
        detail={"purpose": purpose},
    )
    return member


def _spans_visible_to(user: object) -> QuerySet[EligibilitySpan]:
    """A plan sees its own spans; a provider sees all spans of its members (to check eligibility, rule A1)."""
    if getattr(user, "is_plan_staff", False):
        return EligibilitySpan.objects.filter(plan_id=user.organization_id)
    return EligibilitySpan.objects.all()


def member_search(
    *,
    user: object,
    member_id: str = "",
    last_name: str = "",
    first_name: str = "",
    date_of_birth: date | None = None,
    county: str = "",
    eligible_on: date | None = None,
) -> QuerySet[Member]:
    """Find members by ID (CIN or plan member ID), or by name + date of birth, within the user's scope.
    The caller audits what it shows (`audit_member_list`)."""
    qs = member_queryset_for(user).select_related("county")
    if member_id:
        member_id = member_id.strip()
        # The ids first, each from its own index (plan member id, CIN): `EXISTS(...) OR cin = ...` in one
        # WHERE can only be tested row by row over every member in scope (benchmarks/referral_api.py).
        spans = EligibilitySpan.objects.filter(plan_member_id=member_id)
        if user.is_plan_staff:
            spans = spans.filter(plan_id=user.organization_id)
        ids = set(spans.values_list("member_id", flat=True))
        if CIN_RE.match(member_id):
            ids.update(Member.objects.filter(cin=member_id.upper()).values_list("id", flat=True))
        qs = qs.filter(pk__in=ids)
    if last_name:
        qs = qs.filter(last_name__iexact=last_name.strip())
    if first_name:
        qs = qs.filter(first_name__istartswith=first_name.strip())
    if date_of_birth:
        qs = qs.filter(date_of_birth=date_of_birth)
    if county:
        qs = qs.filter(county__name=county)
    if eligible_on:
        spans = (
            _spans_visible_to(user)
            .filter(member=OuterRef("pk"), start_date__lte=eligible_on)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=eligible_on))
        )
        qs = qs.filter(Exists(spans))
    return qs.order_by("last_name", "first_name", "date_of_birth", "id")


def audit_member_list(*, user: object, members: list[Member], purpose: str, filters: dict) -> None:
    """Record which members a list, search or export showed (every read of member data is audited)."""
    audit_record(
        actor=user,
        action="export" if purpose == "export" else "list",
        object_type="member",
        member_ids=[m.uuid for m in members],
        detail={
            "purpose": purpose,
            "filters": {k: str(v) for k, v in filters.items() if v},
            "count": len(members),
        },
    )


# --- Added with the members pages, API and roster import (the scoping above is unchanged) ---------------


def member_search_validate(
    *, last_name: str = "", first_name: str = "", date_of_birth: date | None = None, county: str = ""
) -> None:
    """A search by name needs the last name and the date of birth together (the issue's "name + date of
    birth"; minimum necessary), and a county must be a California county. Raises DomainError (422)."""
    errors = []
    if (last_name or first_name or date_of_birth) and not (last_name and date_of_birth):
        if not last_name:
            errors.append(FieldError("last_name", "Search by name needs the last name.", "required"))
        if not date_of_birth:
            errors.append(FieldError("date_of_birth", "Search by name needs the date of birth.", "required"))
    if county and county not in county_names():
        errors.append(FieldError("county", "Not a California county.", "county"))
    if errors:
        raise DomainError("The search is not valid.", code=SEARCH_INVALID, errors=errors)


def member_annotate_eligible(qs: QuerySet[Member], *, user: object, on: date) -> QuerySet[Member]:
    """Adds `eligible_on_day`: whether a span the user may see covers `on` (rule A1); one subquery."""
    spans = (
        _spans_visible_to(user)
        .filter(member=OuterRef("pk"), start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    )
    return qs.annotate(eligible_on_day=Exists(spans))


def member_care_team(*, user: object, member: Member) -> QuerySet[CareRelationship]:
    """The organizations on a member's care team. `member` must come from `member_get_for_user` (in scope,
    audited); plan staff and providers on the care team see the whole team, to coordinate care."""
    return (
        CareRelationship.objects.filter(member=member)
        .select_related("organization")
        .order_by("organization__name", "start_date")
    )


def roster_import_queryset_for(user: object) -> QuerySet[RosterImport]:
    """A plan's roster imports, for the plan staff who may import them; nobody else (deny by default)."""
    if not permissions.can_import_roster(user):
        return RosterImport.objects.none()
    return RosterImport.objects.filter(plan_id=user.organization_id)


def roster_import_list(*, user: object) -> QuerySet[RosterImport]:
    return roster_import_queryset_for(user).select_related("uploaded_by", "plan")


def roster_import_get_for_user(*, user: object, uuid: UUID | str, purpose: str = "view") -> RosterImport:
    """One roster import, or 404 when out of scope. Its errors quote file values (member data), so the read
    is audited."""
    try:
        record = roster_import_list(user=user).get(uuid=uuid)
    except (RosterImport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such roster import") from exc
    audit_record(
        actor=user,
        action="export" if purpose == "error_report" else "read",
        object_type="roster_import",
        object_id=record.uuid,
        detail={"purpose": purpose},
    )
    return record


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# One scoping function per model (deny by default). A record is visible to
# (a) users of the organization that recorded it, while that organization can see the member
#     (`member_queryset_for`), and
# (b) plan staff in a documentation role of a plan where the member is eligible (M2: shared with the plan).
# Other organizations on the member's care team do not see it. The `*_queryset_for` functions are unaudited
# (the timeline and other selectors build on them); `*_list` and `*_get_for_user` audit what they return.

AUDITED_IDS_CAP = 200  # record ids named in one list audit row


def _documentation_scope(user: object, model: Any) -> QuerySet:
    if not permissions.can_view_documentation(user):
        return model.objects.none()
    visible_member = member_queryset_for(user).filter(pk=OuterRef("member_id"))
    qs = model.objects.filter(Exists(visible_member))
    if user.is_plan_staff:
        return qs
    return qs.filter(organization_id=user.organization_id)


def consent_queryset_for(user: object) -> QuerySet[Consent]:
    return _documentation_scope(user, Consent)


def assessment_queryset_for(user: object) -> QuerySet[Assessment]:
    return _documentation_scope(user, Assessment)


def sdoh_need_queryset_for(user: object) -> QuerySet[SdohNeed]:
    return _documentation_scope(user, SdohNeed)


def goal_queryset_for(user: object) -> QuerySet[Goal]:
    return _documentation_scope(user, Goal)


def goal_progress_queryset_for(user: object) -> QuerySet[GoalProgress]:
    """Progress rows of the goals the user sees."""
    return GoalProgress.objects.filter(Exists(goal_queryset_for(user).filter(pk=OuterRef("goal_id"))))


def member_note_queryset_for(user: object) -> QuerySet[MemberNote]:
    return _documentation_scope(user, MemberNote)


def external_information_queryset_for(user: object) -> QuerySet[ExternalInformation]:
    return _documentation_scope(user, ExternalInformation)


def audit_documentation_read(
    *,
    user: object,
    member: Member,
    object_type: str,
    records: list[Any],
    action: str = "list",
    purpose: str = "list",
) -> None:
    """One audit row for documentation shown: the member, the kind, how many and which records."""
    detail: dict[str, Any] = {"purpose": purpose, "count": len(records)}
    detail["ids"] = [str(r.uuid) for r in records[:AUDITED_IDS_CAP]]
    audit_record(
        actor=user,
        action=action,
        object_type=object_type,
        object_id=records[0].uuid if len(records) == 1 and action != "list" else "",
        member_ids=[member.uuid],
        detail=detail,
    )


def _documentation_get(
    qs: QuerySet, *, user: object, member: Member, uuid: UUID | str, object_type: str, purpose: str
) -> Any:
    try:
        record = qs.get(member=member, uuid=uuid)
    except (qs.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        audit_record(
            actor=user,
            action="denied",
            object_type=object_type,
            object_id=uuid,
            member_ids=[member.uuid],
            detail={"purpose": purpose},
        )
        raise Http404(f"No such {object_type.replace('_', ' ')}") from exc
    audit_documentation_read(
        user=user,
        member=member,
        object_type=object_type,
        records=[record],
        action="export" if purpose == "download" else "read",
        purpose=purpose,
    )
    return record


def consent_list(*, user: object, member: Member) -> list[Consent]:
    """The member's consents the user may see, newest signature first (audited)."""
    rows = list(
        consent_queryset_for(user)
        .filter(member=member)
        .select_related("organization", "created_by", "revoked_by")
    )
    audit_documentation_read(user=user, member=member, object_type="consent", records=rows)
    return rows


def consent_get_for_user(*, user: object, member: Member, uuid: UUID | str, purpose: str = "view") -> Consent:
    """One consent of the member, or 404 when out of scope (audited; purpose "download" for the document)."""
    qs = consent_queryset_for(user).select_related("organization", "created_by", "revoked_by")
    return _documentation_get(qs, user=user, member=member, uuid=uuid, object_type="consent", purpose=purpose)


def assessment_list(*, user: object, member: Member) -> list[Assessment]:
    rows = list(
        assessment_queryset_for(user)
        .filter(member=member)
        .select_related("organization", "service", "assessor")
    )
    audit_documentation_read(user=user, member=member, object_type="assessment", records=rows)
    return rows


def assessment_get_for_user(
    *, user: object, member: Member, uuid: UUID | str, purpose: str = "view"
) -> Assessment:
    qs = assessment_queryset_for(user).select_related("organization", "service", "assessor")
    return _documentation_get(
        qs, user=user, member=member, uuid=uuid, object_type="assessment", purpose=purpose
    )


def sdoh_need_list(*, user: object, member: Member) -> list[SdohNeed]:
    """Open needs first, then resolved ones; newest identified first within each."""
    rows = list(
        sdoh_need_queryset_for(user)
        .filter(member=member)
        .select_related("organization", "created_by")
        .order_by("status", "-identified_on", "-id")  # "open" sorts before "resolved"
    )
    audit_documentation_read(user=user, member=member, object_type="sdoh_need", records=rows)
    return rows


def sdoh_need_get_for_user(
    *, user: object, member: Member, uuid: UUID | str, purpose: str = "view"
) -> SdohNeed:
    qs = sdoh_need_queryset_for(user).select_related("organization")
    return _documentation_get(
        qs, user=user, member=member, uuid=uuid, object_type="sdoh_need", purpose=purpose
    )


def goal_annotate_current(qs: QuerySet[Goal]) -> QuerySet[Goal]:
    """Adds `current_status` and `current_status_on`: the latest progress row's, in one subquery each
    (no query per goal)."""
    latest = GoalProgress.objects.filter(goal=OuterRef("pk")).order_by("-recorded_on", "-id")
    return qs.annotate(
        current_status=Subquery(latest.values("status")[:1]),
        current_status_on=Subquery(latest.values("recorded_on")[:1]),
    )


def _goals_with_history(qs: QuerySet[Goal]) -> QuerySet[Goal]:
    return (
        goal_annotate_current(qs)
        .select_related("organization", "service", "created_by")
        .prefetch_related(
            Prefetch(
                "progress",
                queryset=GoalProgress.objects.select_related("recorded_by").order_by("-recorded_on", "-id"),
            )
        )
    )


def goal_list(*, user: object, member: Member) -> list[Goal]:
    """The member's goals with their current status and progress history (audited)."""
    rows = list(_goals_with_history(goal_queryset_for(user).filter(member=member)))
    audit_documentation_read(user=user, member=member, object_type="goal", records=rows)
    return rows


def goal_get_for_user(*, user: object, member: Member, uuid: UUID | str, purpose: str = "view") -> Goal:
    qs = _goals_with_history(goal_queryset_for(user))
    return _documentation_get(qs, user=user, member=member, uuid=uuid, object_type="goal", purpose=purpose)


def member_note_list(*, user: object, member: Member) -> list[MemberNote]:
    rows = list(member_note_queryset_for(user).filter(member=member).select_related("organization", "author"))
    audit_documentation_read(user=user, member=member, object_type="member_note", records=rows)
    return rows


def external_information_list(*, user: object, member: Member) -> list[ExternalInformation]:
    rows = list(
        external_information_queryset_for(user)
        .filter(member=member)
        .select_related("organization", "created_by")
    )
    audit_documentation_read(user=user, member=member, object_type="external_information", records=rows)
    return rows


def external_information_get_for_user(
    *, user: object, member: Member, uuid: UUID | str, purpose: str = "view"
) -> ExternalInformation:
    qs = external_information_queryset_for(user).select_related("organization", "created_by")
    return _documentation_get(
        qs, user=user, member=member, uuid=uuid, object_type="external_information", purpose=purpose
    )


def member_eligibility_spans(*, user: object, member: Member) -> QuerySet[EligibilitySpan]:
    """The member's eligibility spans the user may see (a plan its own, a provider all: rule A1). `member`
    must come from `member_get_for_user` (in scope, audited)."""
    return _spans_visible_to(user).filter(member=member).select_related("plan")
