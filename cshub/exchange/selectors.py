"""Every read of SSH keys and the inbox log, scoped to the acting user (deny by default, STYLE 3), and the
lookups the SFTP server makes at login.

SFTP username: the organization's short id, the last 12 hex digits of its uuid (the uuid's last group).
Those are random bits in every uuid cshub makes (uuid4, and the seeder's uuids, whose leading digits are a
fixed `5eed…` marker, which rules out a prefix), 48 of them: unique among any realistic number of
organizations, short enough to type, and a valid Unix user name for OpenSSH deployments. It needs no new
column. The lookup is a suffix match on the uuid (hex text on SQLite, the hyphenated text form on
PostgreSQL, whose last group is these same 12 digits); it runs at login over the organizations table only.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.exchange import permissions
from cshub.exchange.models import ExchangeFile, ExchangeFileDownload, InboxFile, SshKey

logger = logging.getLogger(__name__)

USERNAME_LENGTH = 12
USERNAME_RE = re.compile(rf"^[0-9a-f]{{{USERNAME_LENGTH}}}$")


def sftp_username(organization: Organization) -> str:
    return organization.uuid.hex[-USERNAME_LENGTH:]


def organization_for_sftp_username(username: str) -> Organization | None:
    """The active organization whose short id is `username`; None when none or (never in practice) two."""
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        return None
    found = list(Organization.objects.filter(uuid__endswith=username, is_active=True)[:2])
    if len(found) > 1:
        logger.error("Two organizations share the SFTP username %s; neither can log in", username)
        return None
    return found[0] if found else None


def ssh_key_for_login(*, organization: Organization, fingerprint: str) -> SshKey | None:
    """The organization's active key with this fingerprint, or None: the whole login decision."""
    return (
        SshKey.objects.filter(organization=organization, fingerprint=fingerprint, revoked_at__isnull=True)
        .only("id", "uuid", "organization_id", "fingerprint", "last_used_at")
        .first()
    )


def authorized_keys_for_username(username: str) -> list[str]:
    """The active public keys (OpenSSH format) that log in as `username`: what OpenSSH's
    AuthorizedKeysCommand prints when OpenSSH serves the folders (docs/sftp.md)."""
    organization = organization_for_sftp_username(username)
    if organization is None:
        return []
    keys = SshKey.objects.filter(organization=organization, revoked_at__isnull=True).order_by("created_at")
    return list(keys.values_list("public_key", flat=True))


def ssh_key_queryset_for(user: Any) -> QuerySet[SshKey]:
    """An organization's administrators see its keys; nobody sees another organization's."""
    if not permissions.can_manage_keys(user):
        return SshKey.objects.none()
    return SshKey.objects.filter(organization_id=user.organization_id).select_related(
        "added_by", "revoked_by"
    )


def ssh_key_list(*, user: Any) -> QuerySet[SshKey]:
    return ssh_key_queryset_for(user).order_by("revoked_at", "-created_at")


def ssh_key_get_for_user(*, user: Any, uuid: object) -> SshKey:
    try:
        return ssh_key_queryset_for(user).get(uuid=uuid)
    except (SshKey.DoesNotExist, ValueError, TypeError):
        raise Http404("No such SSH key.") from None


def inbox_file_queryset_for(user: Any) -> QuerySet[InboxFile]:
    """An organization sees the log of its own inbox; a superuser sees every organization's."""
    qs = InboxFile.objects.select_related("organization")
    if not permissions.can_view_inbox_log(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(organization_id=user.organization_id)


def inbox_file_list(*, user: Any, organization: Organization | None = None) -> QuerySet[InboxFile]:
    qs = inbox_file_queryset_for(user)
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs.order_by("-received_at", "-id")


# --- Exchange files (CSASF, CSPRTF): rule D4 shared data ------------------------------------------------


def exchange_file_queryset_for(user: Any) -> QuerySet[ExchangeFile]:
    """Rule D4: only `can_view_shared_data` users see exchange files; a provider's sees its own files
    (under every plan), a plan's the files exchanged under that plan, a superuser every file."""
    qs = ExchangeFile.objects.select_related("plan", "organization")
    if not permissions.can_view_shared_data(user):
        return qs.none()
    if user.is_superuser:
        return qs
    if user.is_plan_staff:
        return qs.filter(plan_id=user.organization_id)
    return qs.filter(organization_id=user.organization_id)


def exchange_file_list(
    *,
    user: Any,
    kind: str = "",
    plan: Organization | None = None,
    organization: Organization | None = None,
    produced_from: date | None = None,
    produced_to: date | None = None,
) -> QuerySet[ExchangeFile]:
    qs = exchange_file_queryset_for(user)
    if kind:
        qs = qs.filter(kind=kind)
    if plan is not None:
        qs = qs.filter(plan=plan)
    if organization is not None:
        qs = qs.filter(organization=organization)
    if produced_from is not None:
        qs = qs.filter(production_date__gte=produced_from)
    if produced_to is not None:
        qs = qs.filter(production_date__lte=produced_to)
    return qs.order_by("-production_date", "organization__name", "-id")


def exchange_file_get_for_user(*, user: Any, uuid: object) -> ExchangeFile:
    """One file in the user's scope; 404 otherwise (never a hint that it exists)."""
    try:
        return exchange_file_queryset_for(user).get(uuid=uuid)
    except (ExchangeFile.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such file.") from None


def exchange_file_downloads(*, user: Any, exchange_file: ExchangeFile) -> QuerySet[ExchangeFileDownload]:
    """The download log of a file the user may see (its scope was checked by exchange_file_get_for_user)."""
    if not permissions.can_view_shared_data(user):
        return ExchangeFileDownload.objects.none()
    return exchange_file.downloads.select_related("user", "organization").order_by("-at", "-id")


def exchange_file_organization_choices(user: Any) -> QuerySet[Organization]:
    """The organizations the user's files are with (filters on the files page)."""
    ids = exchange_file_queryset_for(user).values("organization_id")
    return Organization.objects.filter(pk__in=ids).order_by("name")


def exchange_file_plan_choices(user: Any) -> QuerySet[Organization]:
    ids = exchange_file_queryset_for(user).values("plan_id")
    return Organization.objects.filter(pk__in=ids).order_by("name")
