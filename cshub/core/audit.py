"""The audit log: one function writes it (STYLE 7). Call it inside the transaction of the write it records,
and from every selector that reads member data (DESIGN principle 4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cshub.core import clock, context
from cshub.core.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: object = "",
    member_ids: Iterable[object] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. `actor` is a user, or None for the system (worker, command without a user)."""
    ctx = context.current()
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=user,
        actor_label=(user.email if user else f"system:{ctx.channel}")[:200],
        organization_id=getattr(user, "organization_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        member_ids=[str(m) for m in member_ids],
        detail=detail or {},
        channel=ctx.channel,
        ip_address=ctx.ip_address,
        request_path=ctx.request_path,
    )
