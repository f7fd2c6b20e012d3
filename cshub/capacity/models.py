"""Quarterly staffing and capacity reports (rule D3, Reference Guide §13).

A provider organization reports to a plan once per quarter: staff by role with FTE, its current caseload,
and capacity by service and county (the fields of the state's quarterly capacity report: members able to
serve, members serving). A report is a draft until submitted; a submitted report is never edited. A
correction is a new version (a draft copied from the submitted one) that, once submitted, supersedes the
earlier version, which is kept.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SUPERSEDED = "superseded", "Superseded by a correction"


class StaffRole(models.TextChoices):
    PROGRAM_DIRECTOR = "program_director", "Program director / manager"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator / case manager"
    HOUSING_NAVIGATOR = "housing_navigator", "Housing navigator / specialist"
    OUTREACH_WORKER = "outreach_worker", "Outreach worker / community health worker"
    PEER_SUPPORT = "peer_support", "Peer support specialist"
    CLINICAL = "clinical", "Clinical staff (nurse, clinician)"
    DIRECT_CARE = "direct_care", "Direct care / personal care aide"
    ADMINISTRATIVE = "administrative", "Administrative / billing"
    OTHER = "other", "Other"


class CapacityReport(BaseModel):
    """One version of one provider's report to one plan for one quarter (rule D3)."""

    provider = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="capacity_reports"
    )
    plan = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="received_capacity_reports"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(choices=[(q, f"Q{q}") for q in range(1, 5)])
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    due_date = models.DateField(help_text="rule D3: the quarter's due date (CSHUB_CAPACITY_DUE_DATES)")
    current_caseload = models.PositiveIntegerField(
        null=True, blank=True, help_text="distinct members served at quarter end, all services"
    )
    notes = models.TextField(blank=True)
    correction_reason = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_late = models.BooleanField(
        default=False, help_text="the quarter's first submission came after the end of its due date"
    )

    class Meta:
        ordering = ["-year", "-quarter", "provider__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "plan", "year", "quarter", "version"], name="capacity_report_version"
            ),
            models.UniqueConstraint(
                fields=["provider", "plan", "year", "quarter"],
                condition=Q(status="draft"),
                name="capacity_report_one_draft",
            ),
            models.UniqueConstraint(
                fields=["provider", "plan", "year", "quarter"],
                condition=Q(status="submitted"),
                name="capacity_report_one_current",
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="capacity_quarter_1_4"),
        ]
        indexes = [
            models.Index(fields=["plan", "status", "year", "quarter"]),
            models.Index(fields=["provider", "plan", "status", "year", "quarter"]),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.period} v{self.version}"

    @property
    def period(self) -> str:
        """The state report's reporting_period: YYYY Qn."""
        return f"{self.year} Q{self.quarter}"

    @property
    def is_editable(self) -> bool:
        return self.status == ReportStatus.DRAFT


class StaffLine(models.Model):
    """Staff by role with full-time equivalents."""

    report = models.ForeignKey(CapacityReport, on_delete=models.CASCADE, related_name="staff_lines")
    role = models.CharField(max_length=30, choices=StaffRole.choices)
    role_detail = models.CharField(max_length=100, blank=True, help_text="title, required for Other")
    headcount = models.PositiveIntegerField()
    fte = models.DecimalField("FTE", max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.fte} FTE"


class CapacityLine(models.Model):
    """Capacity of one service in one county: the state report's members_able_to_serve and members_serving."""

    report = models.ForeignKey(CapacityReport, on_delete=models.CASCADE, related_name="capacity_lines")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    county = models.ForeignKey("core.County", on_delete=models.PROTECT, related_name="+")
    members_able_to_serve = models.PositiveIntegerField(help_text="capacity: members the provider can serve")
    members_serving = models.PositiveIntegerField(help_text="current caseload: members served now")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "service", "county"], name="capacity_line_once"),
        ]
        indexes = [models.Index(fields=["county", "service"])]

    def __str__(self) -> str:
        return f"{self.service_id} {self.county_id}: {self.members_serving}/{self.members_able_to_serve}"

    @property
    def capacity_check(self) -> str:
        """The state report's capacity_check: a warning when caseload exceeds capacity."""
        if self.members_serving > self.members_able_to_serve:
            return "Serving more members than able to serve"
        return ""


class CapacityNotice(models.Model):
    """Rule D3: one row per reminder or late flag sent, unique per provider, plan, quarter and kind, so the
    job run twice never sends the same notice twice. `kind` is `due_in_<N>` (N days before) or `late`."""

    provider = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)
    due_date = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "plan", "year", "quarter", "kind"], name="capacity_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.year} Q{self.quarter} {self.kind}"
