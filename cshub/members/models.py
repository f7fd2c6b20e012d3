"""Members and what the plan knows of them: eligibility spans, ECM assignment, other care coordination
programs, and which organizations are on their care team (the basis of provider scoping)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

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
            models.Index(fields=["plan", "plan_member_id"], name="elig_plan_member_id"),
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
