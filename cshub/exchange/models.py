"""The SSH keys organizations log in to the SFTP server with, and the log of every inbox file taken in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel


class SshKey(BaseModel):
    """An organization's SSH public key for SFTP. Any active key of an organization logs in as that
    organization (its username is `selectors.sftp_username`); a revoked key never logs in again and cannot be
    added again (its fingerprint stays taken)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="ssh_keys"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=100)
    public_key = models.TextField(help_text="one line, OpenSSH format")
    algorithm = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64, unique=True, help_text="SHA256:… as ssh-keygen -l shows it")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["organization", "fingerprint"],
                condition=Q(revoked_at__isnull=True),
                name="sshkey_active_org_fp",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InboxFile(BaseModel):
    """One file taken from an organization's inbox: who took it, what came of it, where the original is.
    Append-only; `uuid` also names the file's claim folder while the worker holds it (`inbox.py`)."""

    class Status(models.TextChoices):
        TAKEN = "taken", "Taken"
        DUPLICATE = "duplicate", "Duplicate (same content already taken)"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="inbox_files"
    )
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    handler = models.CharField(
        max_length=200, blank=True, help_text="dotted path of the handler that took it"
    )
    message = models.TextField(blank=True)
    stored_name = models.CharField(max_length=500, help_text="the original's copy in the file storage")
    final_path = models.CharField(
        max_length=500, blank=True, help_text="where it is now, relative to the organization's folder"
    )
    replies = models.JSONField(
        default=list, blank=True, help_text='[{"name", "stored", "outbox"}]: files written to the outbox'
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-received_at"], name="inboxfile_org_received"),
            models.Index(fields=["organization", "sha256"], name="inboxfile_org_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ExchangeFile(BaseModel):
    """One DHCS member information file exchanged with a provider under a plan: a CSASF cshub produced
    (rule D1) or a CSPRTF a provider sent (rule D2). The file itself is kept in the file storage (`file`)
    with its sha256; a CSASF is also put in the provider's SFTP outbox (`outbox_path`). Shared data (rule
    D4): only `permissions.can_view_shared_data` users see these, scoped in `selectors`.

    A CSASF exists once per kind, plan, provider and production date (`exchangefile_csasf_once`), so a
    second run for the same date returns the first file and changes nothing."""

    class Kind(models.TextChoices):
        CSASF = "csasf", "CSASF (authorization status file, plan to provider)"
        CSPRTF = "csprtf", "CSPRTF (provider return transmission file, provider to plan)"

    class Direction(models.TextChoices):
        OUT = "out", "Sent to the provider"
        IN = "in", "Received from the provider"

    class Status(models.TextChoices):
        PRODUCED = "produced", "Produced"
        DELIVERED = "delivered", "In the provider's outbox"
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        PARTIALLY_APPLIED = "partially_applied", "Applied except rows with errors"
        REJECTED = "rejected", "Rejected"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="exchange_files",
        help_text="the CS provider the file is for or from",
    )
    production_date = models.DateField(help_text="the file's production date (a CSASF: its scheduled day)")
    period_start = models.DateField(help_text="first day of the reporting period")
    period_end = models.DateField(help_text="last day of the reporting period")
    file = models.FileField(upload_to="exchange/%Y/%m/", max_length=300)
    file_name = models.CharField(max_length=255, help_text="the file's name as exchanged")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    rows = models.PositiveIntegerField(default=0, help_text="data rows, header not counted")
    error_rows = models.PositiveIntegerField(default=0, help_text="rows refused (files read in)")
    status = models.CharField(max_length=20, choices=Status.choices)
    message = models.TextField(blank=True)
    outbox_path = models.CharField(
        max_length=500, blank=True, help_text="where it was put, relative to the organization's SFTP folder"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    inbox_file = models.ForeignKey(
        InboxFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="exchange_files"
    )
    layout_key = models.CharField(max_length=40, help_text="the layout in cshub/data/exchange/ it follows")
    # Files read in (CSPRTF, rule D2): through which door, what was wrong, when it was applied, what it
    # corrects.
    # `created_by` is the person who sent it (empty for SFTP and the command).
    channel = models.CharField(
        max_length=10, blank=True, help_text="web, api, sftp or command (files read in)"
    )
    errors = models.JSONField(
        default=list, blank=True, help_text="[{row, field, column, value, message, code}] (files read in)"
    )
    error_count = models.PositiveIntegerField(
        default=0, help_text="problems found (`errors` keeps the first)"
    )
    error_file = models.FileField(upload_to="exchange/errors/%Y/%m/", max_length=300, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="corrections",
        help_text="the file of the same provider, plan and month applied before this one (a correction)",
    )

    class Meta:
        ordering = ["-production_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "plan", "organization", "production_date"],
                condition=Q(kind="csasf"),
                name="exchangefile_csasf_once",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "kind", "-production_date"], name="exchangefile_org"),
            models.Index(fields=["plan", "kind", "-production_date"], name="exchangefile_plan"),
            models.Index(fields=["organization", "kind", "sha256"], name="exchangefile_org_sha256"),
            models.Index(
                fields=["organization", "plan", "kind", "period_start"], name="exchangefile_org_period"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class ExchangeFileDownload(models.Model):
    """Every download of an exchange file, by whom, when and through which door (rule D4). Append-only."""

    exchange_file = models.ForeignKey(ExchangeFile, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, help_text="web, api or sftp")
    rows = models.PositiveIntegerField(help_text="the file's data rows: the member records handed over")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["exchange_file", "-at"], name="exchangefiledl_file")]

    def __str__(self) -> str:
        return f"{self.exchange_file_id} by {self.user_id} at {self.at}"


class CsprtfRecord(models.Model):
    """One row of an applied CSPRTF (rule D2): what the provider reported for a member and a Community Support
    that month (the services provided, the member's status, contact updates for the plan) and what it changed
    in cshub. Append-only; the referral's own history holds the status changes themselves."""

    exchange_file = models.ForeignKey(ExchangeFile, on_delete=models.CASCADE, related_name="csprtf_records")
    row = models.PositiveIntegerField(help_text="data row in the file (1 = the first after the header)")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    code = models.ForeignKey("catalog.ServiceCode", on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="csprtf_records"
    )
    cs_status = models.CharField(max_length=20)
    referral_status = models.CharField(max_length=30, blank=True)
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    units = models.PositiveIntegerField(null=True, blank=True)
    outreach_date = models.DateField(null=True, blank=True)
    outreach_method = models.CharField(max_length=20, blank=True)
    new_address = models.BooleanField(default=False)
    homeless = models.BooleanField(null=True, blank=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    new_phone = models.BooleanField(default=False)
    phone = models.CharField(max_length=10, blank=True)
    values = models.JSONField(default=dict, help_text="the row as sent: field name -> text")
    changes = models.JSONField(default=list, blank=True, help_text="what applying the row changed in cshub")

    class Meta:
        ordering = ["exchange_file", "row"]
        indexes = [
            models.Index(fields=["member", "service"], name="csprtfrecord_member_service"),
            models.Index(fields=["referral"], name="csprtfrecord_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange_file_id} row {self.row}"
