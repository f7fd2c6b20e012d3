"""Stored reports: the monthly utilization report of each provider to each plan (rules D6, D7) and the daily
referral-analytics snapshot of each plan (rule D7).

A `UtilizationReport` is made once per provider, plan and month (the unique constraint is what makes the
monthly job safe to run twice); it keeps the figures it was made from and the PDF and CSV sent to the
provider, so what was sent can always be shown again. A `ReferralSnapshot` holds one plan's dashboard
figures as JSON, computed at most a day before they are shown.
"""

from __future__ import annotations

from django.db import models

from cshub.core.models import BaseModel


class UtilizationReport(BaseModel):
    """Rule D6: one provider's month under one plan, as made and sent on the first of the next month."""

    provider = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="utilization_reports"
    )
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="the first day of the month reported")
    generated_at = models.DateTimeField()
    figures = models.JSONField(default=dict, help_text="the figures as computed when the report was made")
    pdf = models.FileField(upload_to="reports/utilization/%Y/%m/", max_length=300, blank=True)
    csv = models.FileField(upload_to="reports/utilization/%Y/%m/", max_length=300, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_count = models.PositiveIntegerField(default=0, help_text="people told (in the app or by email)")

    class Meta:
        ordering = ["-month", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "plan", "month"], name="utilization_report_once"),
        ]
        indexes = [models.Index(fields=["plan", "month"], name="utilization_plan_month")]

    def __str__(self) -> str:
        return f"{self.provider} / {self.plan} {self.month:%Y-%m}"


class ReferralSnapshot(BaseModel):
    """Rule D7: one plan's referral analytics for one day (the figures are JSON; see
    `selectors.referral_analytics_compute`)."""

    plan = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="the Pacific date the figures were computed on")
    computed_at = models.DateTimeField()
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["plan", "day"], name="referral_snapshot_daily")]

    def __str__(self) -> str:
        return f"{self.plan} {self.day}"
