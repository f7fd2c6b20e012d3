"""Program listings (rule N9): what a provider tells the public about one contracted Community Support.

Which programs the directory shows is not stored here: it is read from the executed contracts in force
(rule N8, `sources.contracted_services`). Whether a program accepts referrals now is not stored here
either: it is the provider's referral intake (`referrals.ProviderIntake`), the same data referrers route
by, so the directory and referral routing can never disagree. A listing adds the program's own words.
"""

from __future__ import annotations

from django.db import models

from cshub.core.models import BaseModel


class ProgramListing(BaseModel):
    """One provider's listing of one contracted service, claimed and edited by the provider (rule N9)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="program_listings"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    description = models.TextField(blank=True)
    hours_text = models.CharField(
        max_length=300, blank=True, help_text="hours in words, e.g. 'by appointment; 24/7 crisis line'"
    )
    weekly_hours = models.JSONField(
        default=list,
        blank=True,
        help_text='opening hours per weekday: [{"day": "mo", "opens": "09:00", "closes": "17:00"}]',
    )
    languages = models.JSONField(default=list, blank=True, help_text="codes of cshub/data/languages.csv")
    intake_phone = models.CharField(
        max_length=10, blank=True, help_text="this program's intake line; empty = the organization's"
    )
    claimed_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1, help_text="optimistic lock: bumped on every edit")

    class Meta:
        ordering = ["organization__name", "service__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "service"], name="program_listing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.organization}"
