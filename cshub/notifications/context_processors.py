"""The unread count for the navigation badge, counted only when a template shows it."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from cshub.notifications import selectors


def notifications(request: HttpRequest) -> dict[str, object]:
    """`notifications_unread`: a callable the template engine calls on first use; one query per page at
    most, none on pages that do not show it."""

    @cache
    def unread() -> int:
        user = getattr(request, "user", None)
        return selectors.unread_count(user) if getattr(user, "is_authenticated", False) else 0

    return {"notifications_unread": unread}
