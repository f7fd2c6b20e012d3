"""The SFTP keys page: list, add and revoke the organization's keys; how to connect; recent inbox files.
The exchange files pages (rule D4 shared data): the list with filters, one file with its download log, the
download (logged and audited). Parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import list_context
from cshub.exchange import errors, permissions, selectors, services
from cshub.exchange.forms import ExchangeFileFilterForm, SshKeyForm

RECENT_FILES = 20


def _require_key_admin(user: Any) -> None:
    if not permissions.can_manage_keys(user):
        raise PermissionDenied("The organization's administrators manage its SFTP keys.")


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_key_admin(user)
    organization = user.organization
    form = SshKeyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key = services.ssh_key_add(actor=user, organization=organization, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_errors(form, exc)
                if exc.code == errors.KEY_PRIVATE:
                    form.data = form.data.copy()
                    form.data["public_key"] = ""  # never echo a private key back into the page
            else:
                messages.success(request, f"Key “{key.name}” was added ({key.fingerprint}).")
                return redirect("exchange:keys")
        status = 422
    context = {
        "organization": organization,
        "form": form,
        "keys": selectors.ssh_key_list(user=user),
        "username": selectors.sftp_username(organization),
        "host": settings.CSHUB_SFTP_PUBLIC_HOST,
        "port": settings.CSHUB_SFTP_PUBLIC_PORT,
        "files": selectors.inbox_file_list(user=user, organization=organization)[:RECENT_FILES]
        if permissions.can_view_inbox_log(user)
        else None,
    }
    return render(request, "exchange/keys.html", context, status=status)


@login_required
@require_POST
def key_revoke(request: HttpRequest, uuid: Any) -> HttpResponse:
    key = selectors.ssh_key_get_for_user(user=request.user, uuid=uuid)
    services.ssh_key_revoke(actor=request.user, key=key)
    messages.success(request, f"Key “{key.name}” was revoked; it can no longer log in.")
    return redirect("exchange:keys")


# --- Exchange files (CSASF, CSPRTF): rule D4 ----------------------------------------------------------


def _require_shared_data(user: Any) -> None:
    if not permissions.can_view_shared_data(user):
        raise PermissionDenied("Exchange files are shared data: only the roles rule D4 names see them.")


@login_required
def file_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_shared_data(user)
    form = ExchangeFileFilterForm(
        request.GET or None,
        plans=selectors.exchange_file_plan_choices(user),
        organizations=selectors.exchange_file_organization_choices(user),
    )
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    files = selectors.exchange_file_list(user=user, **filters)
    if form.errors:
        files = files.none()
    context = {"form": form, "is_plan": user.is_plan_staff, **list_context(request, files)}
    return render(request, "exchange/file_list.html", context, status=422 if form.errors else 200)


@login_required
def file_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    _require_shared_data(user)
    exchange_file = selectors.exchange_file_get_for_user(user=user, uuid=uuid)
    downloads = selectors.exchange_file_downloads(user=user, exchange_file=exchange_file)[:50]
    return render(request, "exchange/file_detail.html", {"file": exchange_file, "downloads": downloads})


@login_required
def file_download(request: HttpRequest, uuid: Any) -> FileResponse:
    user = request.user
    _require_shared_data(user)
    exchange_file = selectors.exchange_file_get_for_user(user=user, uuid=uuid)
    services.exchange_file_download_record(actor=user, exchange_file=exchange_file, channel="web")
    return FileResponse(
        exchange_file.file.open("rb"),
        as_attachment=True,
        filename=exchange_file.file_name,
        content_type="text/plain; charset=utf-8",
    )
