"""Every write of notifications: `notify` for users of the app (in the app and by email),
`notify_email_address` for people without a login, and marking notices read.

Policy update 8: notices to referrers are electronic, in the app and by email (a fax does not count).
Emails leave only after the transaction commits (`transaction.on_commit`), so a rolled-back change never
announces itself; a failed email is recorded on the notification (or in the audit log) and never raises into
the caller, whose change has already been saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef

from cshub.accounts.models import Organization, User, UserRole
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.notifications import selectors
from cshub.notifications.models import Notification
from cshub.notifications.validators import is_safe_relative_url

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200
KIND_MAX = 60
ERROR_MAX = 500
EMAIL_FOOTER = "This notice is also in your Community Supports Hub notifications."


@dataclass(frozen=True)
class _Outgoing:
    uuid: UUID
    to: str
    subject: str
    text: str


def notify(
    *,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    organization: Organization | None = None,
    users: Iterable[User] | None = None,
    roles: Iterable[str] | None = None,
    object_type: str = "",
    object_id: object = "",
    email: bool = True,
    actor: Any = None,
) -> list[Notification]:
    """Notify people in the app and, with `email`, by email; returns the notifications made (one per user).

    Recipients: the given `users`, or the active people of `organization` who hold any of `roles` (all its
    active people when `roles` is None). Inactive users are skipped. API-key service accounts get an in-app
    notice only when named in `users` (a system reads it through the API) and are never emailed.
    `body` is plain text with the minimum necessary (names and what happened; never a diagnosis); `url` is
    a path in this app. Queries: one for the recipients, one bulk insert, one audit row; emails after commit.
    """
    kind = (kind or "").strip()
    subject = " ".join((subject or "").split())  # an email subject is one line
    _check_request(kind=kind, subject=subject, url=url, organization=organization, users=users, roles=roles)
    recipients = _recipients(organization=organization, users=users, roles=roles)
    if not recipients:
        return []
    author = actor if getattr(actor, "is_authenticated", False) else None
    about_id = str(object_id or "")[:64]
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=user,
                    organization_id=user.organization_id,
                    kind=kind,
                    subject=subject[:SUBJECT_MAX],
                    body=body or "",
                    url=url,
                    object_type=object_type,
                    object_id=about_id,
                    created_by=author,
                    updated_by=author,
                )
                for user in recipients
            ]
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="notification",
            object_id=notifications[0].uuid if len(notifications) == 1 else "",
            detail={
                "kind": kind,
                "about": {"type": object_type, "id": about_id},
                "recipients": len(notifications),
                "email": email,
            },
        )
        if email:
            text = _email_text(body=body, url=url)
            outgoing = [
                _Outgoing(uuid=n.uuid, to=user.email, subject=n.subject, text=text)
                for n, user in zip(notifications, recipients, strict=True)
                if user.email and not user.is_service_account
            ]
            if outgoing:
                transaction.on_commit(partial(_send_notification_emails, outgoing), robust=True)
    return notifications


def notify_email_address(
    *,
    address: str,
    subject: str,
    body: str,
    kind: str,
    object_type: str,
    object_id: object,
    actor: Any = None,
) -> None:
    """Email someone without a login (a member whose preferred contact is email) after the transaction
    commits, and audit it: action "email_sent" (or "email_failed" with the error), naming the address,
    the kind and the subject; the body is not kept. Never raises once the address is valid."""
    address = (address or "").strip()
    kind = (kind or "").strip()
    subject = " ".join((subject or "").split())
    errors = []
    try:
        validate_email(address)
    except ValidationError:
        errors.append(FieldError("address", "Enter a valid email address.", "invalid"))
    errors += _text_errors(kind=kind, subject=subject)
    if errors:
        raise DomainError("The email was not sent.", errors=errors)
    transaction.on_commit(
        partial(
            _send_address_email,
            address=address,
            subject=subject[:SUBJECT_MAX],
            body=body or "",
            kind=kind,
            object_type=object_type,
            object_id=str(object_id or "")[:64],
            actor=actor,
        ),
        robust=True,
    )


def notification_mark_read(*, user: Any, uuid: object) -> Notification:
    """Mark one of the user's notifications read (404 for anyone else's); the first read time is kept."""
    notification = selectors.notification_get_for_user(user=user, uuid=uuid)
    if notification.read_at is None:
        now = clock.now()
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now, updated_at=now, updated_by=user
        )
        if changed:
            notification.read_at = now
        else:  # read meanwhile in another tab
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: Any) -> int:
    """Mark all the user's unread notifications read; returns how many changed."""
    now = clock.now()
    return (
        selectors.notification_queryset_for(user)
        .filter(read_at__isnull=True)
        .update(read_at=now, updated_at=now, updated_by=user)
    )


def absolute_url(path: str) -> str:
    """The link to a path of the app in an email, from the CSHUB_BASE_URL setting."""
    return f"{settings.CSHUB_BASE_URL.rstrip('/')}{path}"


# --------------------------------------------------------------------------------------------------------


def _text_errors(*, kind: str, subject: str) -> list[FieldError]:
    errors = []
    if not kind:
        errors.append(FieldError("kind", "Name the kind of notice.", "required"))
    elif len(kind) > KIND_MAX:
        errors.append(FieldError("kind", f"At most {KIND_MAX} characters.", "max_length"))
    if not subject:
        errors.append(FieldError("subject", "A notice needs a subject.", "required"))
    return errors


def _check_request(
    *,
    kind: str,
    subject: str,
    url: str,
    organization: Organization | None,
    users: Iterable[User] | None,
    roles: Iterable[str] | None,
) -> None:
    errors = _text_errors(kind=kind, subject=subject)
    if url and not is_safe_relative_url(url):
        errors.append(FieldError("url", "Link to a path in this app, starting with a single /.", "invalid"))
    if users is not None and (organization is not None or roles is not None):
        errors.append(FieldError("users", "Name either users, or an organization and roles.", "conflict"))
    elif users is None and organization is None:
        errors.append(FieldError("organization", "Name the users or the organization to notify.", "required"))
    if errors:
        raise DomainError("The notification was not made.", errors=errors)


def _recipients(
    *, organization: Organization | None, users: Iterable[User] | None, roles: Iterable[str] | None
) -> list[User]:
    qs = User.objects.filter(is_active=True)
    if users is not None:
        ids = {u.pk for u in users if u is not None}
        if not ids:
            return []
        qs = qs.filter(pk__in=ids)
    else:
        qs = qs.filter(organization=organization, is_service_account=False)
        if roles is not None:
            wanted = list(roles)
            if not wanted:
                return []
            qs = qs.filter(Exists(UserRole.objects.filter(user=OuterRef("pk"), role__in=wanted)))
    return list(qs.only("id", "email", "organization_id", "is_service_account").order_by("pk"))


def _email_text(*, body: str, url: str) -> str:
    parts = [body.strip()] if body and body.strip() else []
    if url:
        parts.append(f"Open it in Community Supports Hub: {absolute_url(url)}")
    parts.append(EMAIL_FOOTER)
    return "\n\n".join(parts) + "\n"


def _error_text(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}".strip())[:ERROR_MAX]


def _send_notification_emails(outgoing: list[_Outgoing]) -> None:
    """After commit: send one email per notification over one connection, then mark each row emailed or
    record its error. Never raises (the caller's change is already saved)."""
    sent: list[UUID] = []
    failed: dict[str, list[UUID]] = {}
    try:
        with get_connection() as connection:
            for mail in outgoing:
                try:
                    send_mail(mail.subject, mail.text, None, [mail.to], connection=connection)
                except Exception as exc:
                    logger.warning("notification %s: email failed", mail.uuid, exc_info=True)
                    failed.setdefault(_error_text(exc), []).append(mail.uuid)
                else:
                    sent.append(mail.uuid)
    except Exception as exc:  # opening or closing the connection failed
        logger.warning("notification emails: the mail connection failed", exc_info=True)
        done = set(sent).union(*failed.values())
        rest = [m.uuid for m in outgoing if m.uuid not in done]
        if rest:
            failed.setdefault(_error_text(exc), []).extend(rest)
    try:
        now = clock.now()
        if sent:
            Notification.objects.filter(uuid__in=sent).update(emailed_at=now, email_error="", updated_at=now)
        for error, uuids in failed.items():
            Notification.objects.filter(uuid__in=uuids).update(email_error=error, updated_at=now)
    except Exception:
        logger.exception("notification emails: could not record the outcome")


def _send_address_email(
    *, address: str, subject: str, body: str, kind: str, object_type: str, object_id: str, actor: Any
) -> None:
    """After commit: send, then audit what was sent (or why it failed). Never raises."""
    detail: dict[str, object] = {"kind": kind, "to": address, "subject": subject}
    action = "email_sent"
    try:
        send_mail(subject, body, None, [address])
    except Exception as exc:
        logger.warning("email to an address for %s %s failed", object_type, object_id, exc_info=True)
        action, detail["error"] = "email_failed", _error_text(exc)
    try:
        audit_record(actor=actor, action=action, object_type=object_type, object_id=object_id, detail=detail)
    except Exception:
        logger.exception("could not audit an email for %s %s", object_type, object_id)
