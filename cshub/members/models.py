"""Members and what the plan knows of them: eligibility spans, ECM assignment, other care coordination
programs, and which organizations are on their care team (the basis of provider scoping)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from cshub.core.models import BaseModel, County


class Member(BaseModel):
    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        NONBINARY = "X", "Non-binary"
        UNKNOWN = "U", "Unknown"

    class ContactPreference(models.TextChoices):
        PHONE = "phone", "Phone"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        MAIL = "mail", "Mail"
        IN_PERSON = "in_person", "In person"

    cin = models.CharField("Medi-Cal CIN", max_length=9, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    preferred_language = models.CharField(
        max_length=10, default="en", help_text="code from cshub/data/languages.csv"
    )
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    county = models.ForeignKey(County, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_homeless = models.BooleanField(default=False)
    phone = models.CharField(max_length=10, blank=True)
    email = models.EmailField(blank=True)
    contact_preference = models.CharField(
        max_length=10, choices=ContactPreference.choices, default=ContactPreference.PHONE
    )

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name", "date_of_birth"], name="member_name_dob"),
            models.Index(fields=["date_of_birth"], name="member_dob"),
            # Search by last name is case-insensitive (`iexact` is UPPER(...) = UPPER(...) on PostgreSQL).
            models.Index(Upper("last_name"), "date_of_birth", name="member_upper_last_dob"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.cin})"


class EligibilitySpan(BaseModel):
    """Enrollment of a member in a plan for a line of business from `start_date` to `end_date` (inclusive;
    open when end_date is null)."""

    class LineOfBusiness(models.TextChoices):
        MEDI_CAL = "medi_cal", "Medi-Cal"
        DUAL = "dual", "Medi-Medi (D-SNP)"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="eligibility_spans")
    plan = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="eligibility_spans"
    )
    plan_member_id = models.CharField(max_length=30)
    line_of_business = models.CharField(
        max_length=20, choices=LineOfBusiness.choices, default=LineOfBusiness.MEDI_CAL
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "plan", "start_date"], name="eligibility_span_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="eligibility_span_dates_ordered",
            ),
        ]
        indexes = [
            # Plan member id first: providers search by it across plans, plan staff within theirs.
            models.Index(fields=["plan_member_id", "plan"], name="elig_member_id_plan"),
            models.Index(fields=["plan", "member"], name="elig_plan_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.plan_id} {self.start_date} to {self.end_date or 'open'}"

    def covers(self, day: date) -> bool:
        """Whether the member is eligible on `day` under this span (rule A1)."""
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class EcmAssignment(BaseModel):
    """The member's Enhanced Care Management provider, as assigned by the plan (rule R8 checks it)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="ecm_assignments")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    ecm_provider = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="ecm_assignments"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "ecm_provider", "start_date"], name="ecm_assignment_unique_start"
            ),
        ]


class ProgramEnrollment(BaseModel):
    """Enrollment in another care coordination program (rule A1 checks these for duplication)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="program_enrollments")
    program = models.CharField(max_length=30, help_text="code from cshub/data/care_coordination_programs.csv")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program", "start_date"], name="program_enrollment_unique_start"
            ),
        ]


class CareRelationship(BaseModel):
    """An organization on the member's care team, and why. A provider's users see a member only through
    one of these (deny by default); referrals, outreach assignments, authorizations and ECM assignment
    create them."""

    class Reason(models.TextChoices):
        ECM_ASSIGNMENT = "ecm_assignment", "ECM assignment"
        OUTREACH_ASSIGNMENT = "outreach_assignment", "Assigned for outreach"
        REFERRAL_RECEIVED = "referral_received", "Referral received"
        REFERRAL_MADE = "referral_made", "Referral made"
        AUTHORIZATION = "authorization", "Authorization"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="care_relationships")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="care_relationships"
    )
    reason = models.CharField(max_length=30, choices=Reason.choices)
    source_id = models.CharField(max_length=64, blank=True, help_text="public id of the record that made it")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "organization", "reason", "source_id"], name="care_relationship_unique"
            ),
        ]
        indexes = [models.Index(fields=["organization", "member"], name="care_rel_org_member")]


class RosterImport(BaseModel):
    """One upload of a plan's eligibility roster (DESIGN principle 5: the original file and its SHA-256 are
    kept; a rejected file writes nothing but this record and its error report)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"

    class Channel(models.TextChoices):
        WEB = "web", "Web upload"
        API = "api", "API"
        CLI = "cli", "Command line"

    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="roster_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    file = models.FileField(upload_to="rosters/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0, help_text="members new to cshub")
    updated_count = models.PositiveIntegerField(default=0, help_text="members whose data or records changed")
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="the first 1000 errors: row, field, value")
    error_report = models.FileField(upload_to="rosters/errors/%Y/%m/", max_length=300, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["plan", "started_at"], name="roster_import_plan_started")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# What a CS provider's documentation system records about a member: release-of-information consent,
# individual assessments, SDOH needs as ICD-10-CM Z codes, goals and their attainment, notes and information
# received from other sources. Each record belongs to the organization that recorded it; who sees it is
# decided by the scoping functions in `selectors.py` (the recording organization and the member's plan).
# Rows are written only by `services.py`; status values that depend on "today" come from `cshub.core.clock`.
# Uploaded documents (signed consents, documents received) pass `cshub.core.uploads.check_upload`: PDF, PNG,
# JPEG or TIFF by their first bytes and a matching extension, at most CSHUB_UPLOAD_MAX_BYTES (10 MB).


class MemberDocumentation(BaseModel):
    """Fields every documentation record has: whose record it is and which organization recorded it."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Consent(MemberDocumentation):
    """A release-of-information consent the member signed (rule M2). Status is computed: revoked when
    `revoked_on` is set, expired after `expires_on`, otherwise active."""

    class Scope(models.TextChoices):
        CS_SERVICES = "cs_services", "Community Supports services and care coordination"
        HEALTH_INFORMATION = "health_information", "Health information"
        BEHAVIORAL_HEALTH = "behavioral_health", "Behavioral health"
        SUD_PART2 = "sud_part2", "Substance use disorder records (42 CFR Part 2)"
        HOUSING = "housing", "Housing information"
        OTHER = "other", "Other (described in the detail)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    scopes = models.JSONField(default=list, help_text="codes of Consent.Scope")
    scope_detail = models.TextField(blank=True)
    recipients = models.TextField(help_text="who may receive the information, one per line")
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    document = models.FileField(upload_to="members/consents/%Y/%m/", max_length=300, blank=True)
    document_name = models.CharField(max_length=255, blank=True, help_text="the uploaded file's name")
    document_content_type = models.CharField(
        max_length=50, blank=True, help_text="judged from the file's first bytes (cshub.core.uploads)"
    )
    document_sha256 = models.CharField(max_length=64, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("signed_on")),
                name="consent_expires_after_signed",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=models.F("signed_on")),
                name="consent_revoked_after_signed",
            ),
        ]
        indexes = [models.Index(fields=["member", "organization"], name="consent_member_org")]

    def __str__(self) -> str:
        return f"Consent {self.uuid} signed {self.signed_on}"

    @staticmethod
    def in_force_on(day: date) -> Q:
        """`status_on(day) == ACTIVE` as a query (the same rule, for filtering many consents at once)."""
        return (
            Q(signed_on__lte=day)
            & (Q(expires_on__isnull=True) | Q(expires_on__gte=day))
            & (Q(revoked_on__isnull=True) | Q(revoked_on__gt=day))
        )

    def status_on(self, day: date) -> str:
        if self.revoked_on is not None and self.revoked_on <= day:
            return self.Status.REVOKED
        if self.expires_on is not None and self.expires_on < day:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        """Active, expired or revoked as of today, Pacific (`cshub.core.clock`)."""
        from cshub.core import clock

        return self.status_on(clock.today())

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(self.Scope.choices)
        return [labels.get(s, s) for s in self.scopes]

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]


class Assessment(MemberDocumentation):
    """An individual assessment (rule M2), answered against a template of cshub/data/assessments/ (the
    service's own file, or general.toml). The template key and version are kept with the answers."""

    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template_key = models.CharField(max_length=80)
    template_version = models.CharField(max_length=20)
    answers = models.JSONField(default=dict, help_text="question key -> answer, checked against the template")
    assessed_on = models.DateField()
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["member", "organization"], name="assessment_member_org")]

    def __str__(self) -> str:
        return f"Assessment {self.template_key} v{self.template_version} on {self.assessed_on}"


class SdohNeed(MemberDocumentation):
    """A social need recorded as an ICD-10-CM Z code of Z55-Z65 (rule M2: SDOH data as ICD-10-CM codes)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    code = models.CharField(max_length=8, help_text="ICD-10-CM code with its dot, e.g. Z59.01")
    description = models.CharField(max_length=255, help_text="from the ICD-10-CM code set")
    identified_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-identified_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolved_on__isnull=True))
                | (Q(status="resolved") & Q(resolved_on__gte=models.F("identified_on"))),
                name="sdoh_need_status_matches_resolved_on",
            ),
        ]
        indexes = [models.Index(fields=["member", "organization"], name="sdoh_need_member_org")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Goal(MemberDocumentation):
    """A goal of the member's plan (rule M2: goals and goal attainment). Its attainment is the latest
    `GoalProgress` row (append-only)."""

    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField()
    target_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "organization"], name="goal_member_org")]

    def __str__(self) -> str:
        return self.description[:60]


class GoalProgress(BaseModel):
    """One record of a goal's attainment; never changed or deleted (the history is the attainment over
    time)."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        PARTIALLY_MET = "partially_met", "Partially met"
        MET = "met", "Met"
        NOT_MET = "not_met", "Not met"
        DISCONTINUED = "discontinued", "Discontinued"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(max_length=20, choices=Status.choices)
    recorded_on = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_on", "-id"]
        indexes = [models.Index(fields=["goal", "recorded_on"], name="goal_progress_goal_on")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} on {self.recorded_on}"


class MemberNote(MemberDocumentation):
    """A free-text note about the member (rule M2)."""

    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "organization"], name="member_note_member_org")]

    def __str__(self) -> str:
        return self.text[:60]


class ExternalInformation(MemberDocumentation):
    """Information about the member received from another source (rule M2), with an optional document."""

    class SourceKind(models.TextChoices):
        HOSPITAL = "hospital", "Hospital"
        ECM_PROVIDER = "ecm_provider", "ECM provider"
        PLAN = "plan", "Health plan"
        COUNTY = "county", "County"
        FAMILY = "family", "Family or caregiver"
        OTHER = "other", "Other"

    source_name = models.CharField(max_length=200)
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    received_on = models.DateField()
    summary = models.TextField()
    document = models.FileField(upload_to="members/external/%Y/%m/", max_length=300, blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    document_content_type = models.CharField(
        max_length=50, blank=True, help_text="judged from the file's first bytes (cshub.core.uploads)"
    )
    document_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name_plural = "external information"
        indexes = [models.Index(fields=["member", "organization"], name="external_info_member_org")]

    def __str__(self) -> str:
        return f"{self.source_name} ({self.received_on})"
