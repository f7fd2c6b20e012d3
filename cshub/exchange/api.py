"""Exchange files over REST (rule D4 shared data): the list with filters, one file with its download log,
the download (logged and audited). Parse, call a selector or service, shape. A caller whose roles are not
the D4 roles gets 403 everywhere; a file outside the caller's scope is 404.
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.core.errors import DomainError, FieldError
from cshub.core.pagination import MappedRows
from cshub.exchange import permissions, selectors, services
from cshub.exchange.models import ExchangeFile
from cshub.exchange.schemas import ExchangeFileDetailOut, ExchangeFileOut, ExchangeProblemOut

router = Router(tags=["exchange"])

FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The file as sent or received",
            "content": {"text/plain": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
REFUSALS = {403: ExchangeProblemOut, 404: ExchangeProblemOut}


def _require_shared_data(user: Any) -> None:
    if not permissions.can_view_shared_data(user):
        raise PermissionDenied("Exchange files are shared data: only the roles rule D4 names see them.")


def _org(o: Organization) -> dict[str, Any]:
    return {"uuid": o.uuid, "name": o.name, "npi": o.npi, "plan_code": o.plan_code}


def _file(f: ExchangeFile) -> dict[str, Any]:
    return {
        "uuid": f.uuid,
        "kind": f.kind,
        "direction": f.direction,
        "plan": _org(f.plan),
        "organization": _org(f.organization),
        "production_date": f.production_date,
        "period_start": f.period_start,
        "period_end": f.period_end,
        "file_name": f.file_name,
        "sha256": f.sha256,
        "size": f.size,
        "rows": f.rows,
        "error_rows": f.error_rows,
        "status": f.status,
        "created_at": f.created_at,
        "delivered_at": f.delivered_at,
        "outbox_path": f.outbox_path,
        "download_url": reverse("api:exchange_file_download", kwargs={"uuid": f.uuid}),
    }


def _scoped_org(user: Any, uuid: UUID | None, field: str, choices: Any) -> Organization | None:
    if uuid is None:
        return None
    found = choices.filter(uuid=uuid).first()
    if found is None:
        raise DomainError(
            "The filters are not valid.",
            code="exchange_filter",
            errors=[FieldError(field, "No file of yours is with this organization.", "choice")],
        )
    return found


@router.get(
    "/files",
    response={200: list[ExchangeFileOut], **REFUSALS, 422: ExchangeProblemOut},
    summary="Exchange files (CSASF, CSPRTF) the caller may see, newest first (rule D4)",
)
@paginate(LimitOffsetPagination)
def list_files(
    request: HttpRequest,
    kind: str = "",
    plan: UUID | None = None,
    organization: UUID | None = None,
    produced_from: date | None = None,
    produced_to: date | None = None,
):
    user = request.user
    _require_shared_data(user)
    if kind and kind not in ExchangeFile.Kind.values:
        raise DomainError(
            "The filters are not valid.",
            code="exchange_filter",
            errors=[FieldError("kind", f"One of: {', '.join(ExchangeFile.Kind.values)}.", "choice")],
        )
    files = selectors.exchange_file_list(
        user=user,
        kind=kind,
        plan=_scoped_org(user, plan, "plan", selectors.exchange_file_plan_choices(user)),
        organization=_scoped_org(
            user, organization, "organization", selectors.exchange_file_organization_choices(user)
        ),
        produced_from=produced_from,
        produced_to=produced_to,
    )
    return MappedRows(files, _file)


@router.get(
    "/files/{uuid}",
    response={200: ExchangeFileDetailOut, **REFUSALS},
    summary="One exchange file with its download log (rule D4)",
)
def get_file(request: HttpRequest, uuid: UUID):
    user = request.user
    _require_shared_data(user)
    f = selectors.exchange_file_get_for_user(user=user, uuid=uuid)
    downloads = selectors.exchange_file_downloads(user=user, exchange_file=f)[:50]
    return {
        **_file(f),
        "message": f.message,
        "layout_key": f.layout_key,
        "downloads": [
            {
                "at": d.at,
                "user": str(d.user) if d.user else None,
                "organization": str(d.organization) if d.organization else None,
                "channel": d.channel,
                "rows": d.rows,
            }
            for d in downloads
        ],
    }


@router.get(
    "/files/{uuid}/download",
    response={200: None, **REFUSALS},
    summary="Download an exchange file (rule D4: logged and audited)",
    openapi_extra=FILE_RESPONSE,
    url_name="exchange_file_download",
)
def download_file(request: HttpRequest, uuid: UUID):
    user = request.user
    _require_shared_data(user)
    f = selectors.exchange_file_get_for_user(user=user, uuid=uuid)
    services.exchange_file_download_record(actor=user, exchange_file=f, channel="api")
    return FileResponse(
        f.file.open("rb"), as_attachment=True, filename=f.file_name, content_type="text/plain; charset=utf-8"
    )
