"""The one base model (STYLE 6) and the audit log (STYLE 7, DESIGN principle 4)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """Public UUID (the only id in URLs and the API), created/updated timestamps and actors."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what to which record, when and from where. Append-only; written in the same transaction
    as the write it records, and on every read of member data (DESIGN principle 4, rule D4)."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        LIST = "list", "List / search"
        EXPORT = "export", "Export"
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        IMPORT = "import", "Import"
        LOGIN = "login", "Log in"
        LOGOUT = "logout", "Log out"
        LOGIN_FAILED = "login_failed", "Failed log in"
        DENIED = "denied", "Access denied"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_label = models.CharField(max_length=200, blank=True, help_text="email or system name at the time")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    member_ids = models.JSONField(
        default=list, blank=True, help_text="public ids of members whose data was touched"
    )
    detail = models.JSONField(default=dict, blank=True)
    channel = models.CharField(max_length=20, blank=True, help_text="web, api, cli, worker, sftp")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_path = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type} {self.object_id}"
        )


class County(models.Model):
    """California's 58 counties, loaded from cshub/data/ca_counties.csv (US Census FIPS list)."""

    fips = models.CharField(max_length=5, unique=True)
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "counties"

    def __str__(self) -> str:
        return self.name
