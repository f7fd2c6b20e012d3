"""Directory pages (rules N8, N9): the public directory and program pages (no login), and the listings
providers claim and edit. Parse the request, call a selector or service, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cshub.core import clock
from cshub.core.errors import DomainError
from cshub.core.pagination import csv_response, list_context
from cshub.directory import hsds, permissions, selectors, services
from cshub.directory.exports import directory_csv
from cshub.directory.selectors import WEEKDAYS


def _directory_filters(
    request: HttpRequest,
) -> tuple[dict[str, str], selectors.DirectoryFilters, DomainError | None]:
    raw = {k: request.GET.get(k, "").strip()[:100] for k in ("county", "service", "language", "q", "plan")}
    raw["accepting"] = "1" if request.GET.get("accepting") in ("1", "true", "on") else ""
    try:
        filters = selectors.directory_filters_clean(
            county=raw["county"],
            service=raw["service"],
            language=raw["language"],
            accepting=True if raw["accepting"] else None,
            q=raw["q"],
            plan=raw["plan"],
        )
    except DomainError as exc:
        return raw, selectors.DirectoryFilters(), exc
    return raw, filters, None


def directory(request: HttpRequest) -> HttpResponse:
    """Rule N8: active contracted services by county, searchable; CSV and HSDS downloads of the list."""
    raw, filters, error = _directory_filters(request)
    entries = [] if error else selectors.directory_entries(**filters.as_kwargs())
    export = request.GET.get("format", "")
    if export == "csv":
        return directory_csv(entries)
    if export == "hsds":
        document = hsds.hsds_document(
            entries, generated_at=clock.now(), base_url=request.build_absolute_uri("/").rstrip("/")
        )
        response = HttpResponse(json.dumps(document, indent=2), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="directory-hsds.json"'
        return response
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    context = {
        **list_context(request, entries),
        "filters": raw,
        "error": error,
        "choices": selectors.directory_filter_choices(),
        "export_query": params.urlencode(),
    }
    template = "directory/_results.html" if getattr(request, "htmx", False) else "directory/directory.html"
    return render(request, template, context)


def program_detail(request: HttpRequest, organization: str, service: str) -> HttpResponse:
    entry = selectors.directory_entry(organization_uuid=organization, service_key=service)
    return render(request, "directory/program_detail.html", {"entry": entry})


@login_required
def listing_list(request: HttpRequest) -> HttpResponse:
    """Rule N9: a provider's contracted services with their listings; the plan's network staff see all."""
    user = request.user
    if not permissions.can_view_listings(user):
        raise PermissionDenied("Your role does not manage program listings.")
    if permissions.can_manage_listings(user):
        programs = selectors.contracted_programs_for(user=user)
        return render(request, "directory/listing_list.html", {"programs": programs, "provider_view": True})
    q = request.GET.get("q", "").strip()[:100]
    service = request.GET.get("service", "").strip()[:80]
    listings = selectors.listing_list(user=user, q=q, service=service)
    if request.GET.get("format") == "csv":
        return csv_response(
            "program-listings.csv",
            ("organization", "service", "languages", "intake_phone", "claimed_at", "updated_at"),
            listings.iterator(chunk_size=2000),
            lambda li: [
                li.organization.name,
                li.service.name,
                "; ".join(li.languages),
                li.intake_phone,
                li.claimed_at.isoformat(),
                li.updated_at.isoformat(),
            ],
        )
    context = {
        **list_context(request, listings),
        "provider_view": False,
        "filters": {"q": q, "service": service},
        "choices": selectors.directory_filter_choices(),
    }
    return render(request, "directory/listing_list.html", context)


@login_required
@require_POST
def listing_claim(request: HttpRequest) -> HttpResponse:
    try:
        listing = services.listing_claim(actor=request.user, service_key=request.POST.get("service", ""))
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return redirect("directory:listings")
    messages.success(request, f"You manage the listing of {listing.service.name} now.")
    return redirect("directory:listing_edit", uuid=listing.uuid)


def _form_values(listing: object) -> dict[str, object]:
    hours = {h["day"]: h for h in listing.weekly_hours}
    return {
        "description": listing.description,
        "hours_text": listing.hours_text,
        "languages": list(listing.languages),
        "intake_phone": listing.intake_phone,
        "accepting": selectors.listing_accepting(listing),
        "version": listing.version,
        "hours": [
            {
                "day": day,
                "label": label,
                "opens": hours.get(day, {}).get("opens", ""),
                "closes": hours.get(day, {}).get("closes", ""),
            }
            for day, label in WEEKDAYS
        ],
    }


@login_required
def listing_edit(request: HttpRequest, uuid: str) -> HttpResponse:
    """Rule N9: the owner edits the listing; errors beside the fields, nothing saved on any error."""
    listing = selectors.listing_get_for_user(user=request.user, uuid=uuid)
    can_edit = permissions.can_edit_listing(request.user, listing)
    values = _form_values(listing)
    error = None
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the organization's leadership edit its listing.")
        post = request.POST
        weekly = [
            {"day": day, "opens": post.get(f"opens_{day}", ""), "closes": post.get(f"closes_{day}", "")}
            for day, _ in WEEKDAYS
        ]
        try:
            services.listing_update(
                actor=request.user,
                listing=listing,
                description=post.get("description", ""),
                hours_text=post.get("hours_text", ""),
                weekly_hours=weekly,
                languages=post.getlist("languages"),
                intake_phone=post.get("intake_phone", ""),
                accepting=post.get("accepting") == "on",
                version=int(post.get("version") or 0) or None,
            )
        except DomainError as exc:
            error = exc
            field_errors = {e.field: e.message for e in exc.errors}
            values = {
                "description": post.get("description", ""),
                "hours_text": post.get("hours_text", ""),
                "languages": post.getlist("languages"),
                "intake_phone": post.get("intake_phone", ""),
                "accepting": post.get("accepting") == "on",
                "version": post.get("version", ""),
                "hours": [
                    {**w, "label": label, "error": field_errors.get(f"hours_{w['day']}", "")}
                    for (_, label), w in zip(WEEKDAYS, weekly, strict=True)
                ],
            }
        else:
            messages.success(request, "The listing is saved.")
            return redirect("directory:listing_edit", uuid=listing.uuid)
    context = {
        "listing": listing,
        "can_edit": can_edit,
        "values": values,
        "error": error,
        "field_errors": field_errors,
        "language_choices": selectors.directory_filter_choices()["languages"],
    }
    return render(request, "directory/listing_edit.html", context, status=422 if error else 200)
