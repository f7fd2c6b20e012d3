"""Notification pages: the list, opening a notice (marks it read, then goes to its page in the app) and the
mark-read buttons, which answer htmx with the updated row and plain forms with a redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cshub.core.pagination import list_context
from cshub.notifications import selectors, services
from cshub.notifications.validators import is_safe_relative_url


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """Back where the form was posted from (a list with its filters), never to another site."""
    target = request.POST.get("next", "")
    list_url = reverse("notifications:list")
    if not (is_safe_relative_url(target) and target.startswith(list_url)):
        target = list_url
    return redirect(target)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread = True if request.GET.get("unread") == "1" else None
    kind = request.GET.get("kind", "").strip()
    qs = selectors.notification_list(user=request.user, unread=unread, kind=kind)
    context = {
        **list_context(request, qs),
        "kinds": selectors.notification_kinds_for(request.user),
        "filters": {"unread": unread is True, "kind": kind},
        "next": request.get_full_path(),
    }
    return render(request, "notifications/notification_list.html", context)


@login_required
@require_GET
def notification_open(request: HttpRequest, uuid: str) -> HttpResponse:
    """Following a notice marks it read and goes to its page; only paths in this app are followed."""
    notification = services.notification_mark_read(user=request.user, uuid=uuid)
    if notification.url and is_safe_relative_url(notification.url):
        return redirect(notification.url)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_mark_read(request: HttpRequest, uuid: str) -> HttpResponse:
    notification = services.notification_mark_read(user=request.user, uuid=uuid)
    if request.htmx:
        return render(
            request,
            "notifications/_notification_row.html",
            {"n": notification, "next": request.POST.get("next", ""), "oob": True},
        )
    return _back_to_list(request)


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'' if count == 1 else 's'} marked read.")
    return _back_to_list(request)
