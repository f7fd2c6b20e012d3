"""The CSPRTF pages (rules D2, D4): the provider's return files with the upload form, one file with its
errors and what it changed, and its error file. Parse, call a selector or service, render.

Who: a provider's D4 roles send and see its files; the plan's D4 roles see the files sent to the plan
(`permissions.can_view_shared_data`, scoped by `selectors.exchange_file_queryset_for`). Anyone else gets 403;
a file outside the user's scope is 404. Reading a file's rows (member CINs) is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import list_context
from cshub.exchange import csprtf, permissions, selectors, services
from cshub.exchange.forms import CsprtfUploadForm
from cshub.exchange.models import ExchangeFile

ROWS_PER_PAGE = 100


def _require_shared_data(user: Any) -> None:
    if not permissions.can_view_shared_data(user):
        raise PermissionDenied("CSPRTF files are shared data: only the roles rule D4 names see them.")


def _csprtf_files(user: Any) -> Any:
    return selectors.exchange_file_queryset_for(user).filter(kind=ExchangeFile.Kind.CSPRTF)


def _get(user: Any, uuid: Any) -> ExchangeFile:
    try:
        return _csprtf_files(user).get(uuid=uuid)
    except ExchangeFile.DoesNotExist:
        raise Http404("No such file.") from None


def _due(today: Any) -> dict[str, Any]:
    """The month a file sent today reports, and its cutoff (rule D2)."""
    last_month = clock.add_months(today.replace(day=1), -1)
    period = last_month if today <= csprtf.due_date(last_month) else today.replace(day=1)
    return {"period": period, "due": csprtf.due_date(period)}


@login_required
def csprtf_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_shared_data(user)
    can_send = permissions.can_send_csprtf(user)
    form = CsprtfUploadForm(request.POST or None, request.FILES or None) if can_send else None
    status, unreadable = 200, None
    if request.method == "POST":
        if not can_send:
            raise PermissionDenied("A provider's CSPRTF is sent by the roles rule D4 names.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = csprtf.csprtf_ingest(
                    actor=user,
                    data=upload.read(),
                    name=upload.name,
                    channel="web",
                    organization=user.organization,
                )
            except DomainError as exc:
                apply_domain_errors(form, exc)
            else:
                if result.exchange_file is not None:
                    level = messages.success if result.applied else messages.warning
                    level(request, result.message)
                    return redirect("exchange:csprtf_detail", uuid=result.exchange_file.uuid)
                unreadable = result
        status = 422
    context = {
        "form": form,
        "can_send": can_send,
        "is_plan": user.is_plan_staff,
        "unreadable": unreadable,
        "cutoff_day": csprtf.cutoff_day(),
        **_due(clock.today()),
        **list_context(request, _csprtf_files(user).order_by("-created_at", "-id")),
    }
    return render(request, "exchange/csprtf_list.html", context, status=status)


@login_required
def csprtf_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    _require_shared_data(user)
    exchange_file = _get(user, uuid)
    records = exchange_file.csprtf_records.select_related("member", "code", "referral").order_by("row")
    records_page = Paginator(records, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    errors_page = Paginator(exchange_file.errors, ROWS_PER_PAGE).get_page(request.GET.get("errors_page"))
    audit_record(
        actor=user,
        action="read",
        object_type="exchange_file",
        object_id=exchange_file.uuid,
        member_ids=[r.member.uuid for r in records_page],
        detail={"kind": "csprtf", "page": records_page.number, "errors_shown": len(errors_page)},
    )
    context = {
        "file": exchange_file,
        "errors_page": errors_page,
        "records_page": records_page,
        "corrections": exchange_file.corrections.order_by("applied_at"),
    }
    return render(request, "exchange/csprtf_detail.html", context)


@login_required
def csprtf_error_file(request: HttpRequest, uuid: Any) -> HttpResponse:
    """The error file of a CSPRTF (as put in the provider's outbox); a download of shared data (rule D4)."""
    user = request.user
    _require_shared_data(user)
    exchange_file = _get(user, uuid)
    if not exchange_file.error_file:
        raise Http404("This file has no errors.")
    services.exchange_file_download_record(actor=user, exchange_file=exchange_file, channel="web")
    response = HttpResponse(
        exchange_file.error_file.open("rb").read(), content_type="text/csv; charset=utf-8"
    )
    name = csprtf.reply_names(exchange_file.file_name)[0]
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
