"""The caller's own notifications over REST: list (unread first), mark one read, mark all read.
Someone else's notification answers 404."""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cshub.notifications import selectors, services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str
    subject: str
    body: str
    url: str
    object_type: str
    object_id: str
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None


class MarkedOut(Schema):
    marked: int


@router.get("", response=list[NotificationOut], summary="The caller's notifications, unread first")
@paginate(LimitOffsetPagination)
def list_notifications(request: HttpRequest, unread: bool | None = None, kind: str = ""):
    return selectors.notification_list(user=request.user, unread=unread, kind=kind.strip())


@router.post("/read-all", response=MarkedOut, summary="Mark all the caller's notifications read")
def mark_all_read(request: HttpRequest):
    return {"marked": services.notification_mark_all_read(user=request.user)}


@router.post("/{uuid}/read", response=NotificationOut, summary="Mark one of the caller's notifications read")
def mark_read(request: HttpRequest, uuid: UUID):
    return services.notification_mark_read(user=request.user, uuid=uuid)
