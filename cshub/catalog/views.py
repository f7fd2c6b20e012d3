"""Public pages of the catalog (no login): the list of Community Supports and each one's authorization
guide (rules G1, G2). Parse the query, call a selector, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cshub.catalog import selectors
from cshub.catalog.models import Service


def service_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "").strip()[:100]
    category = request.GET.get("category", "").strip()
    if category not in Service.Category.values:
        category = ""
    services = selectors.service_list(category=category or None, search=search, with_codes=True)
    context = {
        "services": services,
        "filters": {"search": search, "category": category},
        "categories": Service.Category.choices,
    }
    template = (
        "catalog/_service_groups.html" if getattr(request, "htmx", False) else "catalog/service_list.html"
    )
    return render(request, template, context)


def service_detail(request: HttpRequest, key: str) -> HttpResponse:
    service = selectors.service_get(key)
    context = {
        "service": service,
        "codes": list(service.codes.all()),
        "limits": list(service.limits.all()),
        "partners": selectors.shared_limit_partners(service),
    }
    return render(request, "catalog/service_detail.html", context)
