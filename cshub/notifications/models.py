"""In-app notifications, one row per recipient user, each also sent by email (policy update 8: notices to
referrers are electronic, in the app and by email)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cshub.core.models import BaseModel


class Notification(BaseModel):
    """One notice to one user. The body is plain text and holds the minimum necessary: names and what
    happened, never a diagnosis. `url` is a path inside the app (never another site)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        help_text="the recipient's organization when the notice was made (denormalized)",
    )
    kind = models.CharField(max_length=60, help_text='what happened, e.g. "referral.status_changed"')
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True, help_text="a path in the app, e.g. /referrals/<id>/")
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}: {self.subject}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
