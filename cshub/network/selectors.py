"""Every read of the network path, scoped to the acting user (STYLE 3, DESIGN principle 4).

One scoping function per model: `interest_form_queryset_for(user)` and `application_queryset_for(user)`.
Network staff see their own plan's records; a provider's leadership sees its own organization's
applications; everyone else sees nothing (deny by default). A record out of scope is a 404.

`certification_approved` and `certification_status` are the read other apps use (contracts refuse to
execute without an approved certification, rules N4 and N6).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from cshub.network import permissions
from cshub.network.models import Application, Decision, GapItem, InterestForm, NetworkEvent

NOT_STARTED = "not_started"


# --- certification, for other apps -----------------------------------------------------------------


def _decisions_of(organization: Any, plan: Any | None) -> QuerySet[Decision]:
    qs = Decision.objects.filter(application__organization=organization)
    if plan is not None:
        qs = qs.filter(application__plan=plan)
    return qs


def certification_approved(organization: Any, *, plan: Any | None = None) -> bool:
    """Rule N4: True when the organization's latest certification outcome is approve-for-contracting and no
    later decline of a certification application supersedes it. An approved Network Participation Request
    (rule N5) certifies too; a declined one refuses only what it asked for, so it does not undo an earlier
    certification. `plan` narrows to one plan's certification (one deployment may hold several plans)."""
    latest_approval = (
        _decisions_of(organization, plan)
        .filter(outcome=Decision.Outcome.APPROVE)
        .order_by("-decided_at", "-id")
        .first()
    )
    if latest_approval is None:
        return False
    later_decline = (
        _decisions_of(organization, plan)
        .filter(
            outcome=Decision.Outcome.DECLINE,
            application__kind=Application.Kind.CERTIFICATION,
        )
        .filter(
            Q(decided_at__gt=latest_approval.decided_at)
            | Q(decided_at=latest_approval.decided_at, id__gt=latest_approval.id)
        )
        .exists()
    )
    return not later_decline


def certification_status(organization: Any, *, plan: Any | None = None) -> str:
    """One word for the organization's certification: "approved" when `certification_approved`, otherwise
    the status of its latest application ("draft", "under_review", "gap_closure", "declined"), "invited"
    when an interest form invited it but no application exists, or "not_started"."""
    if certification_approved(organization, plan=plan):
        return Application.Status.APPROVED.value
    apps = Application.objects.filter(organization=organization)
    if plan is not None:
        apps = apps.filter(plan=plan)
    latest = apps.order_by("-created_at", "-id").first()
    if latest is not None:
        return latest.status
    if InterestForm.objects.filter(organization=organization, status=InterestForm.Status.INVITED).exists():
        return InterestForm.Status.INVITED.value
    return NOT_STARTED


# --- scoping ---------------------------------------------------------------------------------------


def interest_form_queryset_for(user: Any) -> QuerySet[InterestForm]:
    """Rule N1: the plan's network staff see the interest forms sent to their plan; nobody else does."""
    if not permissions.is_network_staff(user):
        return InterestForm.objects.none()
    return InterestForm.objects.filter(plan_id=user.organization_id)


def application_queryset_for(user: Any) -> QuerySet[Application]:
    """Rules N2-N5: network staff see their plan's applications; a provider's leadership sees its own."""
    if permissions.is_network_staff(user):
        return Application.objects.filter(plan_id=user.organization_id)
    if permissions.is_applicant(user):
        return Application.objects.filter(organization_id=user.organization_id)
    return Application.objects.none()


# --- reads -----------------------------------------------------------------------------------------


def interest_form_list(*, user: Any, filters: dict[str, str] | None = None) -> QuerySet[InterestForm]:
    filters = filters or {}
    qs = interest_form_queryset_for(user).prefetch_related("counties", "services")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("county"):
        qs = qs.filter(counties__name=filters["county"])
    if filters.get("service"):
        qs = qs.filter(services__key=filters["service"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(
            Q(organization_name__icontains=q)
            | Q(number__icontains=q)
            | Q(contact_name__icontains=q)
            | Q(contact_email__icontains=q)
            | Q(npi=q)
        )
    return qs.distinct().order_by("-submitted_at", "-id")


def interest_form_get_for_user(*, user: Any, uuid: object) -> InterestForm:
    try:
        return interest_form_queryset_for(user).get(uuid=uuid)
    except (InterestForm.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such interest form.") from exc


def application_list(*, user: Any, filters: dict[str, str] | None = None) -> QuerySet[Application]:
    """The review queue (rule N5: certification applications and participation requests together)."""
    filters = filters or {}
    qs = application_queryset_for(user).select_related("organization", "plan").prefetch_related("services")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("program"):
        qs = qs.filter(program=filters["program"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(Q(organization__name__icontains=q) | Q(number__icontains=q))
    return qs.order_by("-status_changed_at", "-id")


def application_get_for_user(*, user: Any, uuid: object) -> Application:
    try:
        return application_queryset_for(user).select_related("organization", "plan").get(uuid=uuid)
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such application.") from exc


def gap_item_get_for_user(*, user: Any, uuid: object) -> GapItem:
    try:
        return GapItem.objects.select_related("application").get(
            uuid=uuid, application__in=application_queryset_for(user)
        )
    except (GapItem.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such gap closure item.") from exc


def application_events(*, application: Application) -> QuerySet[NetworkEvent]:
    return application.events.order_by("at", "id")


def organization_history(*, user: Any, organization: Any) -> QuerySet[NetworkEvent]:
    """Rule N4: every step of the organization's network path, for its leadership and the plan."""
    if permissions.is_network_staff(user):
        return NetworkEvent.objects.filter(
            Q(application__plan_id=user.organization_id) | Q(interest_form__plan_id=user.organization_id),
            organization=organization,
        ).order_by("at", "id")
    if permissions.is_applicant(user) and user.organization_id == organization.pk:
        return (
            NetworkEvent.objects.filter(organization=organization)
            .exclude(kind=NetworkEvent.Kind.FINDING)
            .order_by("at", "id")
        )
    return NetworkEvent.objects.none()


def home_card(*, user: Any) -> dict[str, Any] | None:
    """The small card on the provider's home page: its latest application and what it waits for."""
    if not permissions.is_applicant(user):
        return None
    app = (
        Application.objects.filter(organization_id=user.organization_id)
        .select_related("plan")
        .order_by("-status_changed_at", "-id")
        .first()
    )
    if app is None:
        return None
    open_items = app.gap_items.filter(status__in=[GapItem.Status.OPEN, GapItem.Status.RETURNED]).count()
    return {"application": app, "open_gap_items": open_items}
