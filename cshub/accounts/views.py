"""Organization and user pages: parse, call a service, render (no rules here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cshub.accounts import permissions, selectors, services
from cshub.accounts.forms import ApiKeyForm, ContactForm, OrganizationForm, UserInviteForm
from cshub.accounts.invitations import send_invitation
from cshub.accounts.roles import OrganizationKind, roles_allowed_for
from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import csv_response, list_context
from cshub.core.reference import county_names


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_organizations(request.user):
        raise PermissionDenied
    filters = {k: request.GET.get(k, "").strip() for k in ("search", "kind", "county")}
    qs = selectors.organization_list(user=request.user, **filters)
    if request.GET.get("format") == "csv":
        return csv_response(
            "organizations.csv",
            ["id", "kind", "name", "npi", "tin", "city", "zip", "phone", "email", "counties"],
            qs.prefetch_related("counties_served"),
            lambda o: [
                o.uuid,
                o.kind,
                o.name,
                o.npi,
                o.tin,
                o.city,
                o.zip_code,
                o.phone,
                o.email,
                "; ".join(c.name for c in o.counties_served.all()),
            ],
        )
    context = {
        **list_context(request, qs.prefetch_related("counties_served")),
        "filters": filters,
        "kinds": OrganizationKind.choices,
        "counties": county_names(),
        "can_manage": permissions.can_manage_organizations(request.user),
    }
    template = "accounts/_organization_rows.html" if request.htmx else "accounts/organization_list.html"
    return render(request, template, context)


@login_required
def my_organization(request: HttpRequest) -> HttpResponse:
    if request.user.organization is None:
        raise PermissionDenied
    return redirect("accounts:organization_detail", uuid=request.user.organization.uuid)


@login_required
def organization_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    can_manage_users = permissions.can_manage_users_of(request.user, org)
    context = {
        "org": org,
        "contacts": org.contacts.all(),
        "counties": org.counties_served.all(),
        "users": selectors.user_list(user=request.user, organization=org) if can_manage_users else None,
        "api_keys": selectors.api_key_list(user=request.user, organization=org) if can_manage_users else None,
        "can_manage_users": can_manage_users,
        "can_edit": permissions.can_edit_organization(request.user, org),
    }
    return render(request, "accounts/organization_detail.html", context)


def _organization_form_initial(org: object) -> dict[str, object]:
    data = {f: getattr(org, f) for f in services.ORGANIZATION_FIELDS}
    data["counties"] = [c.name for c in org.counties_served.all()]
    return data


@login_required
def organization_edit(request: HttpRequest, uuid: str | None = None) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid) if uuid else None
    if org is None and not permissions.can_manage_organizations(request.user):
        raise PermissionDenied
    if org is not None and not permissions.can_edit_organization(request.user, org):
        raise PermissionDenied
    form = OrganizationForm(request.POST or None, initial=_organization_form_initial(org) if org else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        counties = data.pop("counties")
        try:
            if org is None:
                org = services.organization_create(actor=request.user, counties=counties, **data)
                messages.success(request, f"{org.name} was added.")
            else:
                services.organization_update(actor=request.user, organization=org, counties=counties, **data)
                messages.success(request, "Saved.")
            return redirect("accounts:organization_detail", uuid=org.uuid)
        except DomainError as exc:
            apply_domain_errors(form, exc)
    return render(request, "accounts/organization_form.html", {"form": form, "org": org})


@login_required
def contact_add(request: HttpRequest, uuid: str) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    if not permissions.can_edit_organization(request.user, org):
        raise PermissionDenied
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_contact_add(actor=request.user, organization=org, **form.cleaned_data)
            messages.success(request, "Contact added.")
            return redirect("accounts:organization_detail", uuid=org.uuid)
        except DomainError as exc:
            apply_domain_errors(form, exc)
    return render(
        request, "accounts/simple_form.html", {"form": form, "org": org, "heading": "Add a contact"}
    )


@login_required
def user_invite(request: HttpRequest, uuid: str) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    if not permissions.can_manage_users_of(request.user, org):
        raise PermissionDenied
    form = UserInviteForm(request.POST or None, allowed_roles=roles_allowed_for(org.kind))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, organization=org, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            send_invitation(request=request, user=user, organization=org)
            messages.success(request, f"{user.email} was invited; they will get an email to set a password.")
            return redirect("accounts:organization_detail", uuid=org.uuid)
    return render(
        request, "accounts/simple_form.html", {"form": form, "org": org, "heading": "Invite a user"}
    )


@login_required
def api_key_create(request: HttpRequest, uuid: str) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    if not permissions.can_manage_users_of(request.user, org):
        raise PermissionDenied
    form = ApiKeyForm(request.POST or None, allowed_roles=roles_allowed_for(org.kind))
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = services.api_key_create(actor=request.user, organization=org, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_errors(form, exc)
        else:
            return render(request, "accounts/api_key_created.html", {"org": org, "key": key, "raw": raw})
    return render(
        request, "accounts/simple_form.html", {"form": form, "org": org, "heading": "Make an API key"}
    )


@login_required
def api_key_revoke(request: HttpRequest, uuid: str, key_uuid: str) -> HttpResponse:
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    key = selectors.api_key_list(user=request.user, organization=org).filter(uuid=key_uuid).first()
    if key is None or request.method != "POST":
        raise PermissionDenied
    services.api_key_revoke(actor=request.user, key=key)
    messages.success(request, f"Key {key.prefix}… was revoked.")
    return redirect("accounts:organization_detail", uuid=org.uuid)
