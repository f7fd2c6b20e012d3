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
from cshub.members import permissions
from cshub.members.models import CareRelationship, EcmAssignment, EligibilitySpan, Member, ProgramEnrollment

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
        id_filter = Q(eligibility_spans__plan_member_id=member_id)
        if user.is_plan_staff:
            id_filter = Q(
                eligibility_spans__plan_member_id=member_id, eligibility_spans__plan_id=user.organization_id
            )
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
    return qs.distinct().order_by("last_name", "first_name", "date_of_birth", "id")


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
