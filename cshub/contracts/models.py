"""Contracts between a plan and a CS provider (rule N6) and the provider's training record (rule N7).

A contract names its plan and provider, the services it covers in which counties (`ContractService` rows),
its start and end dates, and a fee schedule (`FeeScheduleRow`: HCPCS + modifier + unit -> rate, with
effective dates) that claims read through `selectors.contracted_rate` (rule C1). It moves only through
`services` (draft -> executed -> terminated); `version` makes two people changing the same contract
conflict instead of overwriting (optimistic locking). An executed contract is never edited: it is amended
by a new draft that supersedes it, or terminated.

Training courses are data (cshub/data/trainings.toml, read by `trainings.py`); completions and
attestations name a course by its stable `key`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    EXECUTED = "executed", "Executed"
    TERMINATED = "terminated", "Terminated"


# Statuses under which a contract may be in force on some date (a terminated one until its termination date,
# so claims for earlier dates of service still find their rate).
SIGNED_STATUSES = frozenset({ContractStatus.EXECUTED, ContractStatus.TERMINATED})


class Contract(BaseModel):
    """One plan's contract with one CS provider (rule N6)."""

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. K-2026-00012")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="contracts"
    )
    status = models.CharField(
        max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT, db_index=True
    )
    start_date = models.DateField(help_text="the agreed start date (rule N6)")
    end_date = models.DateField(null=True, blank=True, help_text="empty: until terminated")
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    notes = models.TextField(blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    terminated_on = models.DateField(null=True, blank=True, help_text="last day the contract is in force")
    termination_reason = models.TextField(blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    terminated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["plan", "organization", "status"], name="contract_plan_org"),
            models.Index(fields=["organization", "status"], name="contract_org_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.organization} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == ContractStatus.DRAFT

    @property
    def last_day(self) -> date | None:
        """The last day in force: the termination date, else the end date (None: open-ended)."""
        days = [d for d in (self.end_date, self.terminated_on) if d is not None]
        return min(days) if days else None


class ContractService(models.Model):
    """One service in one county under a contract (rule N6). Plan and organization are copied from the
    contract (they never change) so the directory and capacity reads filter them without a join."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rows")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="contracted_services"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="contract_rows")
    county = models.ForeignKey("core.County", on_delete=models.PROTECT, related_name="contract_rows")

    class Meta:
        ordering = ["service__sort_order", "county__name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "service", "county"], name="contract_row_unique")
        ]
        indexes = [models.Index(fields=["service", "county"], name="contract_row_service_county")]

    def __str__(self) -> str:
        return f"{self.service} in {self.county}"


class FeeScheduleRow(BaseModel):
    """What the contract pays for one code and unit over a span of dates (rules N6, C1)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="fees")
    code = models.ForeignKey("catalog.ServiceCode", on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=40, help_text="billing unit, e.g. 'per diem', '15 minutes'")
    rate = models.DecimalField(max_digits=10, decimal_places=2)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="empty: until the contract ends")

    class Meta:
        ordering = ["code__hcpcs", "code__modifier", "effective_from"]
        indexes = [models.Index(fields=["code", "effective_from"], name="fee_code_from")]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="fee_rate_positive"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="fee_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code.code} {self.unit}: {self.rate}"


class ContractEvent(models.Model):
    """The contract's history: who did what, when, from which status to which (DESIGN principle 3)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind}"


def evidence_path(instance: TrainingCompletion, filename: str) -> str:
    return f"training/{instance.organization.uuid}/{instance.uuid}/{filename}"


class TrainingCompletion(BaseModel):
    """One person completed one course of the training catalog on a date (rule N7)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="training_completions"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_completions"
    )
    course_key = models.CharField(max_length=80, db_index=True)
    completed_on = models.DateField()
    evidence = models.FileField(upload_to=evidence_path, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        indexes = [
            models.Index(fields=["organization", "course_key", "completed_on"], name="training_org_course")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "course_key", "completed_on"], name="training_completion_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.course_key} {self.completed_on}"


class TrainingAttestation(BaseModel):
    """Provider leadership attests, for one plan, that the organization completed the trainings (rule N7:
    required before contracting)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="training_attestations"
    )
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attested_at = models.DateTimeField()
    course_keys = models.JSONField(default=list, help_text="the courses attested")
    statement = models.TextField()

    class Meta:
        ordering = ["-attested_at", "-id"]
        indexes = [models.Index(fields=["organization", "plan"], name="attestation_org_plan")]

    def __str__(self) -> str:
        return f"{self.organization} attestation {self.attested_at:%Y-%m-%d}"
