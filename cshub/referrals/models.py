"""Referrals from every door, their history, outreach, first contact checks, enrollment and documents.

A referral keeps what the referrer supplied (rule R3) even when it matches a member in the roster, so
nothing is lost when the match is wrong or missing. Its status moves only through
`services.referral_transition` along the table in cshub/data/referral_workflow.toml (DESIGN principle 3);
`version` makes two people changing one referral conflict instead of overwriting (optimistic locking).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel, County


class Channel(models.TextChoices):
    """Rules R1, R2: how the referral came in."""

    PORTAL = "portal", "Referrer portal"
    SELF_REFERRAL = "self_referral", "Self-referral form"
    FAX = "fax", "Fax"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    PLAN_ASSIGNMENT = "plan_assignment", "Plan assignment for outreach"
    API = "api", "API"
    CS_TO_CS = "cs_to_cs", "From another CS provider"


class ReferrerKind(models.TextChoices):
    """Rule R1: no wrong door."""

    ECM_PROVIDER = "ecm_provider", "ECM provider"
    HOSPITAL = "hospital", "Hospital"
    CS_PROVIDER = "cs_provider", "Community Supports provider"
    OTHER_PROVIDER = "other_provider", "Other provider or entity serving the member"
    PLAN = "plan", "Health plan"
    MEMBER = "member", "The member"
    FAMILY = "family", "Family member"
    GUARDIAN = "guardian", "Guardian"
    CAREGIVER = "caregiver", "Caregiver or other authorized support person"


SELF_REFERRER_KINDS = frozenset(
    {ReferrerKind.MEMBER, ReferrerKind.FAMILY, ReferrerKind.GUARDIAN, ReferrerKind.CAREGIVER}
)


class ContactPreference(models.TextChoices):
    PHONE = "phone", "Phone"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    MAIL = "mail", "Mail"
    IN_PERSON = "in_person", "In person"


class ProviderIntake(BaseModel):
    """Which Community Supports a provider takes referrals for, where, and whether it is accepting new
    referrals now: the routing data a referrer picks from. The network issue's contracts and directory
    will keep it in step with what is contracted; the provider toggles `accepting` when it is full."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="referral_intake"
    )
    services = models.ManyToManyField("catalog.Service", blank=True, related_name="+")
    counties = models.ManyToManyField(County, blank=True, related_name="+")
    accepting = models.BooleanField(default=True, help_text="accepting new referrals now")
    intake_email = models.EmailField(blank=True)
    intake_phone = models.CharField(max_length=10, blank=True)
    intake_fax = models.CharField(max_length=10, blank=True)

    def __str__(self) -> str:
        return f"Referral intake of {self.organization}"


class Referral(BaseModel):
    class Kind(models.TextChoices):
        COMMUNITY_SUPPORT = "cs", "Community Support"
        ECM = "ecm", "Enhanced Care Management (rule R8)"

    class OutreachOutcome(models.TextChoices):
        """Rule O4: how outreach ended (kept for the CSPRTF)."""

        ENGAGED = "engaged", "Engaged"
        UNREACHABLE = "unreachable", "Unreachable (unsuccessful engagement)"
        DECLINED = "declined", "Declined"
        DISENGAGED = "disengaged", "Disengaged"
        EXCLUSION = "exclusion", "Meets an exclusion criterion"

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. R-2026-000123")
    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.COMMUNITY_SUPPORT)
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    receiving_provider = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        help_text="empty while the plan is to assign a provider",
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    referrer_kind = models.CharField(max_length=20, choices=ReferrerKind.choices)
    referring_organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_made",
    )
    referring_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_phone = models.CharField(max_length=10, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_relationship = models.CharField(max_length=100, blank=True)

    # What the referrer supplied about the member (rule R3), kept as given.
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    member_first_name = models.CharField(max_length=100)
    member_last_name = models.CharField(max_length=100)
    member_date_of_birth = models.DateField()
    member_cin = models.CharField("Medi-Cal CIN", max_length=9, blank=True)
    member_phone = models.CharField(max_length=10, blank=True)
    member_email = models.EmailField(blank=True)
    member_address = models.CharField(max_length=300, blank=True)
    member_county = models.ForeignKey(
        County, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member_language = models.CharField(max_length=10, default="en")
    member_contact_preference = models.CharField(
        max_length=10, choices=ContactPreference.choices, default=ContactPreference.PHONE
    )
    eligibility_information = models.TextField(
        blank=True, help_text="rule R3: what the referrer knows that bears on eligibility"
    )
    reason = models.TextField(blank=True, help_text="why the member is referred")
    consent_to_contact = models.BooleanField(default=False)
    consent_text_version = models.CharField(max_length=20, blank=True)

    received_at = models.DateTimeField(help_text="rule O3 counts 30 calendar days from this")
    status = models.CharField(max_length=30, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    loop_closure_reason = models.CharField(max_length=200, blank=True, help_text="CLR element for the CSPRTF")
    outreach_outcome = models.CharField(max_length=12, choices=OutreachOutcome.choices, blank=True)
    outreach_ended_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    source_referral = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="onward_referrals",
        help_text="rules R7, R8: the referral this one was made from",
    )
    version = models.PositiveIntegerField(default=1, help_text="optimistic locking")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["receiving_provider", "status", "received_at"], name="referral_provider_queue"
            ),
            models.Index(fields=["referring_organization", "received_at"], name="referral_referrer"),
            # lists of one provider's referrals newest first (the received box, with or without a status)
            models.Index(fields=["receiving_provider", "received_at"], name="referral_provider_received"),
            models.Index(fields=["plan", "received_at"], name="referral_plan_received"),
            models.Index(fields=["plan", "status", "received_at"], name="referral_plan_queue"),
            # the plan's referrals waiting for a provider (a small share of all: a partial index)
            models.Index(
                fields=["plan", "received_at"],
                condition=Q(receiving_provider__isnull=True),
                name="referral_plan_unassigned",
            ),
            models.Index(fields=["member", "service"], name="referral_member_service"),
            models.Index(fields=["status", "status_changed_at"], name="referral_status_age"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="ecm") | Q(service__isnull=False), name="referral_cs_needs_service"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def member_name(self) -> str:
        return f"{self.member_first_name} {self.member_last_name}"

    @property
    def is_self_referral(self) -> bool:
        return self.referrer_kind in SELF_REFERRER_KINDS


class ReferralEvent(models.Model):
    """The referral's history (rules R5, R9): append-only, one row per thing that happened."""

    class Kind(models.TextChoices):
        CREATED = "created", "Received"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned to a provider"
        MEMBER_MATCHED = "member_matched", "Matched to a member"
        DUPLICATE = "duplicate", "Flagged as a possible duplicate"
        OUTREACH = "outreach", "Outreach attempt"
        OUTREACH_ENDED = "outreach_ended", "Outreach ended"
        FIRST_CONTACT = "first_contact", "Eligibility checked at first contact"
        ENROLLED = "enrolled", "Enrolled"
        DOCUMENT = "document", "Document added"
        LETTER = "letter", "Letter sent"
        REMINDER = "reminder", "Reminder sent"
        NOTE = "note", "Note"
        ONWARD = "onward", "Referred on"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"], name="referral_event_referral_at")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class OutreachAttempt(BaseModel):
    """Rules O1-O3, P3: one attempt to reach the member."""

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        TELEHEALTH = "telehealth", "Telehealth (video)"
        MAIL = "mail", "Letter"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached the member"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left a message"
        NOT_FOUND = "not_found", "Member not found at the location"
        WRONG_CONTACT = "wrong_contact", "Wrong or disconnected number or address"
        DECLINED = "declined", "Member declined"
        SCHEDULED = "scheduled", "Appointment scheduled"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="outreach_attempts")
    attempted_at = models.DateTimeField()
    modality = models.CharField(max_length=12, choices=Modality.choices)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    notes = models.TextField(blank=True)
    telehealth_consent = models.BooleanField(default=False, help_text="rule O2: telehealth with consent")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [models.Index(fields=["referral", "attempted_at"], name="outreach_referral_at")]


class FirstContactCheck(BaseModel):
    """Rule A1: what was verified at first contact, each part with its result."""

    class Result(models.TextChoices):
        MET = "met", "Met"
        NOT_MET = "not_met", "Not met"
        UNKNOWN = "unknown", "Not yet known"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="first_contact_checks")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    contact_on = models.DateField()
    plan_eligible = models.BooleanField()
    plan_eligibility_detail = models.CharField(max_length=300, blank=True)
    checklist = models.JSONField(default=list, help_text="[{text, kind, result, note}] from the catalog")
    duplicative = models.JSONField(default=list, help_text="[{kind, description}] programs found")
    checklist_met = models.BooleanField()
    notes = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-contact_on", "-id"]

    @property
    def passed(self) -> bool:
        """Eligible with the plan that day, the checklist met, and nothing duplicative found."""
        return self.plan_eligible and self.checklist_met and not self.duplicative


class Enrollment(BaseModel):
    """Rule M2: enrollment of a member into a Community Support with a provider (the authorizations issue
    builds on these records)."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="cs_enrollments")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="cs_enrollments"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="enrollments")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    enrolled_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-enrolled_on", "-id"]
        indexes = [models.Index(fields=["member", "service"], name="enrollment_member_service")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "service", "organization"],
                condition=Q(ended_on__isnull=True),
                name="enrollment_one_open_per_provider",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("enrolled_on")),
                name="enrollment_dates_ordered",
            ),
        ]


class ReferralDocument(BaseModel):
    """A file kept with the referral: the fax image (rule R2), a letter (rule R8), or another document."""

    class Kind(models.TextChoices):
        FAX = "fax", "Fax received"
        LETTER = "letter", "Letter"
        OTHER = "other", "Other document"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to="referrals/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class ReferralReminder(models.Model):
    """Rule R6: one row per reminder sent, unique per referral, recipient and period, so a job run twice
    (or twice a day) never sends the same week's reminder again."""

    class Recipient(models.TextChoices):
        PROVIDER = "provider", "Receiving provider"
        PLAN = "plan", "Plan (no provider assigned yet)"
        MEMBER = "member", "Member (email preferred)"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.CharField(max_length=10, choices=Recipient.choices)
    period_start = models.DateTimeField(help_text="status_changed_at + k x the reminder interval")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "recipient", "period_start"], name="referral_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.recipient} {self.period_start:%Y-%m-%d}"
