"""The CSPRTF over REST (rules D2, D4), mounted at /api/v1/exchange/csprtf: send a file (the raw body or a
multipart `file`), list the caller's files, read one with its problems and what each row changed.

Answers to a sent file: 201 applied; 200 the same file again (nothing changed, the first answer);
422 a problem document (RFC 9457) whose `errors` name each row, field, value and message, with `file` (its
id and status) when the file could be read to a plan and a month and was kept; 403 for a role that does not
send CSPRTFs. The same error file also goes to the provider's SFTP outbox.
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cshub.core.api import problem
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.core.pagination import MappedRows
from cshub.exchange import csprtf, permissions, selectors
from cshub.exchange.models import ExchangeFile

router = Router(tags=["exchange"])
RAW_TYPES = ("text/plain", "text/csv", "application/octet-stream")


class CsprtfErrorOut(Schema):
    row: int = Field(description="data row (1 = the first after the header); 0 = the file itself")
    field: str = Field(description="the layout's field name, or file / header / row / file_name")
    column: str = Field(description="the column's label in the file")
    value: str = Field(description="the value as sent")
    message: str
    code: str


class CsprtfFileOut(Schema):
    id: UUID
    file_name: str
    plan_code: str
    period: str = Field(description="the reporting month, CCYY-MM")
    production_date: date
    received_at: datetime
    channel: str
    rows: int
    status: str = Field(description="applied, or rejected (nothing applied)")
    message: str
    error_count: int
    corrects: UUID | None = Field(None, description="the earlier applied file of the same month it corrects")
    url: str
    error_file_url: str | None = None


class CsprtfDetailOut(CsprtfFileOut):
    errors: list[CsprtfErrorOut]
    changes: list[dict[str, Any]] = Field(description="[{row, member_cin, code, changes: [...]}] per member")


class CsprtfProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] = []
    file: dict[str, Any] | None = None


def _out(f: ExchangeFile) -> dict[str, Any]:
    return {
        "id": f.uuid,
        "file_name": f.file_name,
        "plan_code": f.plan.plan_code,
        "period": f"{f.period_start:%Y-%m}",
        "production_date": f.production_date,
        "received_at": f.created_at,
        "channel": f.channel,
        "rows": f.rows,
        "status": f.status,
        "message": f.message,
        "error_count": f.error_count,
        "corrects": f.corrects.uuid if f.corrects_id else None,
        "url": reverse("api:csprtf_file", kwargs={"uuid": f.uuid}),
        "error_file_url": reverse("exchange:csprtf_errors", kwargs={"uuid": f.uuid})
        if f.error_file
        else None,
    }


def _detail(user: Any, f: ExchangeFile) -> dict[str, Any]:
    records = list(f.csprtf_records.select_related("member", "code").order_by("row"))
    audit_record(
        actor=user,
        action="read",
        object_type="exchange_file",
        object_id=f.uuid,
        member_ids=sorted({str(r.member.uuid) for r in records}),
        detail={"kind": "csprtf", "channel": "api"},
    )
    return {
        **_out(f),
        "errors": f.errors,
        "changes": [
            {"row": r.row, "member_cin": r.member.cin, "code": r.code.code, "changes": r.changes}
            for r in records
            if r.changes
        ],
    }


def _files(user: Any) -> Any:
    if not permissions.can_view_shared_data(user):
        raise PermissionDenied("CSPRTF files are shared data: only the roles rule D4 names see them.")
    return (
        selectors.exchange_file_queryset_for(user)
        .filter(kind=ExchangeFile.Kind.CSPRTF)
        .select_related("corrects")
    )


def _upload(request: HttpRequest, file: UploadedFile | None) -> tuple[bytes, str]:
    limit = int(settings.CSHUB_MAX_UPLOAD_BYTES)
    too_large = DomainError(
        "The file is too large.", errors=[FieldError("file", f"At most {limit:,} bytes.", "too_large")]
    )
    if file is not None:
        if file.size is not None and file.size > limit:
            raise too_large
        return file.read(), file.name or "csprtf.txt"
    if request.content_type.startswith("multipart/"):
        raise DomainError(
            "The request is not valid.", errors=[FieldError("file", "Attach the file as `file`.", "required")]
        )
    if request.content_type not in RAW_TYPES:
        raise DomainError(
            "The request is not valid.",
            errors=[
                FieldError(
                    "file",
                    f"Send the CSPRTF as {', '.join(RAW_TYPES)} or as a multipart `file`.",
                    "content_type",
                )
            ],
        )
    if int(request.headers.get("Content-Length") or 0) > limit:
        raise too_large
    data = request.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data, (request.headers.get("X-File-Name") or "").strip() or "csprtf.txt"


@router.post(
    "",
    response={200: CsprtfFileOut, 201: CsprtfFileOut, 403: CsprtfProblemOut, 422: CsprtfProblemOut},
    summary="Send a CSPRTF (rule D2): applied at once (201), or 422 naming each row, field, value and "
    "problem with nothing applied; the same file again answers 200 and changes nothing",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            }
        }
    },
)
def send_csprtf(request: HttpRequest, file: UploadedFile | None = File(None)):  # noqa: B008
    user = request.user
    if not permissions.can_send_csprtf(user):
        raise PermissionDenied(
            "A provider's CSPRTF is sent by its CEO, COO, CS Program Director or CS Program Manager "
            "(rule D4)."
        )
    data, name = _upload(request, file)
    result = csprtf.csprtf_ingest(
        actor=user, data=data, name=name, channel="api", organization=user.organization
    )
    f = result.exchange_file
    if f is not None and (result.applied or (result.duplicate and f.status == ExchangeFile.Status.APPLIED)):
        body = _out(f)
        body["message"] = result.message
        return Status(200 if result.duplicate else 201, body)
    return problem(
        request,
        422,
        result.message,
        detail=(
            "Nothing in the file was applied. Correct every row listed and send the file again"
            + (f" by {csprtf.due_date(f.period_start):%B %-d, %Y}." if f is not None else ".")
        ),
        errors=result.errors,
        code="csprtf_rejected",
        file=({"id": str(f.uuid), "status": f.status, "url": _out(f)["url"]} if f is not None else None),
    )


@router.get(
    "",
    response={200: list[CsprtfFileOut], 403: CsprtfProblemOut},
    summary="CSPRTF files the caller may see (rule D4): a provider's own, the plan's from its providers",
)
@paginate(LimitOffsetPagination)
def list_csprtf(request: HttpRequest):
    return MappedRows(_files(request.user).order_by("-created_at", "-id"), _out)


@router.get(
    "/{uuid}",
    response={200: CsprtfDetailOut, 403: CsprtfProblemOut, 404: CsprtfProblemOut},
    summary="One CSPRTF: its problems by row and field, and what each member's rows changed",
    url_name="csprtf_file",
)
def get_csprtf(request: HttpRequest, uuid: UUID):
    try:
        f = _files(request.user).get(uuid=uuid)
    except ExchangeFile.DoesNotExist:
        raise Http404("No such file.") from None
    return _detail(request.user, f)
