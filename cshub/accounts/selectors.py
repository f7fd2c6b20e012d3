"""Reads of organizations, users and API keys, scoped to the acting user (deny by default)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from cshub.accounts import permissions
from cshub.accounts.models import ApiKey, Organization, User


def organization_queryset_for(user: User) -> QuerySet[Organization]:
    """Plan staff see every organization; anyone else sees only their own."""
    qs = Organization.objects.all()
    if not user.is_authenticated or user.organization_id is None:
        return qs.none()
    if user.is_plan_staff and permissions.can_view_organizations(user):
        return qs
    return qs.filter(pk=user.organization_id)


def organization_list(
    *, user: User, search: str = "", kind: str = "", county: str = ""
) -> QuerySet[Organization]:
    qs = organization_queryset_for(user)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(npi=search) | Q(tin=search.replace("-", "")))
    if kind:
        qs = qs.filter(kind=kind)
    if county:
        qs = qs.filter(counties_served__name=county)
    return qs.order_by("name").distinct()


def organization_get_for_user(*, user: User, uuid: UUID | str) -> Organization:
    try:
        return organization_queryset_for(user).get(uuid=uuid)
    except (Organization.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such organization") from exc


def user_queryset_for(user: User) -> QuerySet[User]:
    """People of the acting user's organization; the plan administrator sees every organization's."""
    qs = User.objects.filter(is_service_account=False).select_related("organization")
    if not user.is_authenticated or user.organization_id is None:
        return qs.none()
    if user.is_plan_staff and user.has_role("plan_admin"):
        return qs
    return qs.filter(organization_id=user.organization_id)


def user_list(*, user: User, organization: Organization | None = None, search: str = "") -> QuerySet[User]:
    qs = user_queryset_for(user).prefetch_related("roles")
    if organization is not None:
        qs = qs.filter(organization=organization)
    if search:
        qs = qs.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
    return qs.order_by("email")


def user_get_for_user(*, user: User, uuid: UUID | str) -> User:
    try:
        return user_queryset_for(user).get(uuid=uuid)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such user") from exc


def api_key_list(*, user: User, organization: Organization) -> QuerySet[ApiKey]:
    if not permissions.can_manage_users_of(user, organization):
        return ApiKey.objects.none()
    return ApiKey.objects.filter(organization=organization).select_related("user")
