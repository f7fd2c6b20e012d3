"""Authorization pages (server-rendered, htmx). Thin: forms in, services and selectors do the work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cshub.authorizations import selectors


@login_required
def request_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    auth_request = selectors.request_get_for_user(user=request.user, uuid=uuid)
    return render(
        request,
        "authorizations/detail.html",
        {
            "auth_request": auth_request,
            "events": selectors.request_events(auth_request),
            "documents": selectors.request_documents(auth_request),
            "letters": selectors.request_letters(auth_request),
        },
    )
