"""The Community Supports catalog: each service's authorization guide as data (rules G1, G2, A6, A8, C1).

Nothing here is edited by hand: `catalog_load` (services.py) writes these tables from the versioned files
under cshub/data/catalog/, and marks a service removed from the files inactive instead of deleting it.
Every value keeps its source and a confidence (documented / verify / assumed) in `source_notes` or on
its row, so pages and the API can show where it came from.
"""

from __future__ import annotations

from django.db import models

from cshub.core.models import BaseModel


class Confidence(models.TextChoices):
    DOCUMENTED = "documented", "Documented"
    VERIFY = "verify", "Verify"
    ASSUMED = "assumed", "Assumed (product default)"


class Service(BaseModel):
    """One Community Support and its authorization guide (rule G1)."""

    class Category(models.TextChoices):
        # Reference Guide §1 groups the services under these three headings.
        HOUSING = "housing", "Services to address homelessness and housing"
        RECUPERATIVE = "recuperative", "Recuperative services"
        LONG_TERM = "long_term", "Services for long-term well-being in home-like settings"

    class Authorization(models.TextChoices):
        # Rule G2: for some services authorization is presumptive or not required.
        REQUIRED = "required", "Prior authorization required"
        PRESUMPTIVE = "presumptive", "Presumptive authorization"
        NOT_REQUIRED = "not_required", "No authorization required"

    class LengthUnit(models.TextChoices):
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"
        MONTHS = "months", "months"
        HOURS = "hours", "hours"
        UNITS = "units", "units"
        ONE_TIME = "one_time", "one time"
        AS_NEEDED = "as_needed", "as needed"
        NONE = "none", "not applicable"

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True, help_text="earlier and renamed names")
    category = models.CharField(max_length=20, choices=Category.choices)
    sort_order = models.PositiveIntegerField(default=0)
    description = models.TextField(help_text="the Reference Guide §1 description")
    overview = models.TextField(blank=True, help_text="what the member receives (guide: program overview)")
    authorization = models.CharField(max_length=20, choices=Authorization.choices)
    authorization_plan_choice = models.BooleanField(
        default=False,
        help_text="DHCS leaves the choice to the plan (see CSHUB_CATALOG_AUTHORIZATION_OVERRIDES)",
    )
    authorization_note = models.TextField(blank=True)
    urgent_by_default = models.BooleanField(
        default=False, help_text="rule A8: decided as expedited by default"
    )
    initial_auth_length = models.PositiveIntegerField(null=True, blank=True)
    initial_auth_unit = models.CharField(max_length=12, choices=LengthUnit.choices)
    reauth_length = models.PositiveIntegerField(null=True, blank=True)
    reauth_unit = models.CharField(max_length=12, choices=LengthUnit.choices)
    eligibility = models.JSONField(
        default=list,
        blank=True,
        help_text="checklist: [{text, kind: all|any|exclusion, source, confidence, note}]",
    )
    required_documents = models.JSONField(
        default=dict,
        blank=True,
        help_text="rule A6: {initial: [...], reauthorization: [...]}, items like eligibility",
    )
    closed_loop_referral = models.BooleanField(
        default=True, help_text="DHCS closed-loop referral tracking applies"
    )
    active = models.BooleanField(default=True, db_index=True)
    catalog_version = models.CharField(max_length=20)
    source_notes = models.JSONField(
        default=dict, blank=True, help_text="field -> {source, confidence, note}; 'setting:NAME' for defaults"
    )
    sources = models.JSONField(
        default=dict, blank=True, help_text="source id -> {title, short, url} cited here"
    )
    search_text = models.TextField(blank=True, editable=False)
    content_hash = models.CharField(
        max_length=64, editable=False, help_text="of the loaded data; idempotence"
    )

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def initial_auth_label(self) -> str:
        return length_label(self.initial_auth_length, self.initial_auth_unit)

    @property
    def reauth_label(self) -> str:
        return length_label(self.reauth_length, self.reauth_unit)

    @property
    def documents_initial(self) -> list[dict]:
        return list(self.required_documents.get("initial", []))

    @property
    def documents_reauthorization(self) -> list[dict]:
        return list(self.required_documents.get("reauthorization", []))


def length_label(length: int | None, unit: str) -> str:
    """'12 months', 'one time', 'as needed', 'not applicable'."""
    if length is None:
        return Service.LengthUnit(unit).label if unit in Service.LengthUnit.values else ""
    word = unit if unit in Service.LengthUnit.values else ""
    if length == 1 and word.endswith("s"):
        word = word[:-1]
    return f"{length} {word}".strip()


class ServiceCode(BaseModel):
    """A HCPCS code with its Community Supports modifier. The pair identifies the service (rule C1):
    H0043-U6 is housing navigation, H0043-U3 post-hospitalization housing."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="codes")
    hcpcs = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2)
    description = models.CharField(max_length=300, blank=True, help_text="CMS HCPCS descriptor")
    billing_unit = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=60)
    confidence = models.CharField(max_length=12, choices=Confidence.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hcpcs", "modifier"]
        constraints = [
            models.UniqueConstraint(fields=["hcpcs", "modifier"], name="catalog_code_modifier_unique")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        return f"{self.hcpcs}-{self.modifier}"


class ServiceLimit(BaseModel):
    """A benefit limit. Limits with the same `group` are one limit shared by several services (the
    combined six months in a rolling 12 of recuperative care, post-hospitalization housing and
    transitional rent)."""

    class Kind(models.TextChoices):
        LIFETIME_COUNT = "lifetime_count", "Times per lifetime"
        LIFETIME_AMOUNT_USD = "lifetime_amount_usd", "Lifetime maximum (USD)"
        PER_PERIOD_COUNT = "per_period_count", "Count per period"
        PER_PERIOD_HOURS = "per_period_hours", "Hours per period"
        ROLLING_WINDOW_DAYS = "rolling_window_days", "Days within a rolling window"
        ROLLING_WINDOW_MONTHS = "rolling_window_months", "Months within a rolling window"
        MAX_CONTINUOUS_DAYS = "max_continuous_days", "Maximum continuous days"
        MAX_STAY_HOURS = "max_stay_hours", "Maximum hours per stay"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="limits")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=20)
    window_days = models.PositiveIntegerField(null=True, blank=True)
    calendar_year = models.BooleanField(default=False)
    group = models.CharField(max_length=60, blank=True, db_index=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=60)
    confidence = models.CharField(max_length=12, choices=Confidence.choices)

    class Meta:
        ordering = ["service", "position"]

    def __str__(self) -> str:
        return f"{self.service.key}: {self.get_kind_display()} {self.value_label}"

    @property
    def value_label(self) -> str:
        number = f"{self.value:,.2f}".removesuffix(".00")
        if self.kind == self.Kind.LIFETIME_AMOUNT_USD:
            return f"${number}"
        return f"{number} {self.unit}".strip()

    @property
    def window_label(self) -> str:
        if self.calendar_year:
            return "per calendar year"
        if self.window_days == 1:
            return "per day"
        if self.window_days:
            return f"within any {self.window_days} days"
        if self.kind in (self.Kind.LIFETIME_COUNT, self.Kind.LIFETIME_AMOUNT_USD):
            return "per lifetime"
        if self.kind == self.Kind.MAX_STAY_HOURS:
            return "per stay"
        return ""
