"""Every read of notifications. A user sees only their own notifications: anyone else's is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.shortcuts import get_object_or_404

from cshub.notifications.models import Notification


def notification_queryset_for(user: Any) -> QuerySet[Notification]:
    """The one scoping function: the user's own notifications (none for an anonymous user)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def notification_get_for_user(*, user: Any, uuid: object) -> Notification:
    return get_object_or_404(notification_queryset_for(user), uuid=uuid)


def notification_list(*, user: Any, unread: bool | None = None, kind: str = "") -> QuerySet[Notification]:
    """Unread first, newest first within each. `unread` True keeps only unread, False only read ones."""
    qs = notification_queryset_for(user)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    if kind:
        qs = qs.filter(kind=kind)
    is_unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return qs.order_by(is_unread.desc(), "-created_at", "-id")


def notification_kinds_for(user: Any) -> list[str]:
    """The kinds of notice the user has received, for the filter."""
    return list(notification_queryset_for(user).order_by("kind").values_list("kind", flat=True).distinct())


def unread_count(user: Any) -> int:
    return notification_queryset_for(user).filter(read_at__isnull=True).count()
