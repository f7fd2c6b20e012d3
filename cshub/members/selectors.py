"""Every read of members, scoped to the acting user and audited (DESIGN principles 4, rule D4).

`member_queryset_for` is the one scoping function for members: pages, API, exports and other apps'
selectors start from it. A plan user with a member role sees the plan's members (any eligibility span at
that plan); a provider or referrer sees only members with a care relationship to its organization;
everyone else sees nothing.
"""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.core.reference import county_names
from cshub.members import permissions
from cshub.members.errors import SEARCH_INVALID
from cshub.members.models import (
    CareRelationship,
    EcmAssignment,
    EligibilitySpan,
    Member,
    ProgramEnrollment,
    RosterImport,
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


def member_get_for_user(*, user: object, uuid: UUID | str, purpose: str = "view") -> Member:
    """One member with spans and assignments, or 404 when out of scope. The read is audited."""
    try:
        member = (
            member_queryset_for(user)
            .select_related("county")
            .prefetch_related(
                Prefetch("eligibility_spans", queryset=_spans_visible_to(user).select_related("plan")),
                Prefetch(
                    "ecm_assignments", queryset=EcmAssignment.objects.select_related("ecm_provider", "plan")
                ),
                Prefetch("program_enrollments", queryset=ProgramEnrollment.objects.all()),
            )
            .get(uuid=uuid)
        )
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
        # A subquery, not a join: no duplicate rows, so no DISTINCT over the whole scoped set.
        spans = EligibilitySpan.objects.filter(member=OuterRef("pk"), plan_member_id=member_id)
        if user.is_plan_staff:
            spans = spans.filter(plan_id=user.organization_id)
        id_filter = Q(Exists(spans))
        if CIN_RE.match(member_id):
            id_filter |= Q(cin=member_id.upper())
        qs = qs.filter(id_filter)
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
