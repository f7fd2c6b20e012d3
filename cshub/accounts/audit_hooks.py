from __future__ import annotations

from typing import Any

from cshub.core.audit import audit_record


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="login", object_type="user", object_id=user.uuid)


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="logout", object_type="user", object_id=user.uuid)


def on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # allauth keys the credentials by its LoginMethod enum, Django by plain strings.
    plain = {str(getattr(k, "value", k)): v for k, v in credentials.items()}
    login = str(plain.get("email") or plain.get("username") or plain.get("login") or "")[:200]
    audit_record(actor=None, action="login_failed", object_type="user", detail={"login": login})
