"""The way into the network (rules N1-N5): the Provider Interest Form, the certification application (or
a Network Participation Request) with its answers and attachments, its review (findings per section, one
decision per review round) and the gap closure plan, and one history per organization.

An application's status moves only through `services` along `workflow.TRANSITIONS` (DESIGN principle 3);
`version` makes two reviewers conflict instead of overwriting each other (optimistic locking). Decisions
are append-only: a re-review adds a decision, it never edits one (STYLE 6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cshub.core.models import BaseModel, County


class InterestForm(BaseModel):
    """Rule N1: a prospective provider's Provider Interest Form, kept as submitted."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        INVITED = "invited", "Invited to apply"
        CLOSED = "closed", "Closed without invitation"

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. PIF-2026-000012")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization_name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, blank=True)
    tin = models.CharField("TIN", max_length=9, blank=True)
    address_line = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    zip_code = models.CharField(max_length=10)
    website = models.URLField(blank=True)
    contact_name = models.CharField(max_length=200)
    contact_title = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=10)
    counties = models.ManyToManyField(County, related_name="+")
    services = models.ManyToManyField("catalog.Service", related_name="+")
    message = models.TextField(blank=True, help_text="anything else the organization wants the plan to know")
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interest_forms",
        help_text="set when the plan invites the organization (rule N2)",
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    invited_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, help_text="optimistic locking")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["plan", "status", "submitted_at"], name="pif_plan_queue")]

    def __str__(self) -> str:
        return f"{self.number} {self.organization_name}"


class Application(BaseModel):
    """Rules N2, N3, N5: a CS Provider Certification Application, or a Network Participation Request that
    enters the same review. `answers` maps a section id ("1A", or "<service key>/A") to that section's
    answers by question key; the sections are cshub/data/certification_application.toml."""

    class Kind(models.TextChoices):
        CERTIFICATION = "certification", "Certification application"
        PARTICIPATION = "participation", "Network Participation Request"

    class Program(models.TextChoices):
        CS = "cs", "Community Supports"
        ECM = "ecm", "Enhanced Care Management"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        UNDER_REVIEW = "under_review", "Submitted, under review"
        GAP_CLOSURE = "gap_closure", "Gap closure plan"
        APPROVED = "approved", "Approved for contracting"
        DECLINED = "declined", "Declined"

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. CA-2026-000004")
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.CERTIFICATION)
    program = models.CharField(max_length=3, choices=Program.choices, default=Program.CS)
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="network_applications"
    )
    interest_form = models.ForeignKey(
        InterestForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )
    services = models.ManyToManyField("catalog.Service", blank=True, related_name="+")
    counties = models.ManyToManyField(County, blank=True, related_name="+")
    answers = models.JSONField(default=dict, blank=True)
    request_note = models.TextField(blank=True, help_text="rule N5: what the participation request asks for")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_changed_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_round = models.PositiveIntegerField(
        default=0, help_text="1 at the first submission, +1 per re-review"
    )
    version = models.PositiveIntegerField(default=1, help_text="optimistic locking")

    class Meta:
        ordering = ["-status_changed_at", "-id"]
        indexes = [
            models.Index(fields=["plan", "status", "status_changed_at"], name="netapp_plan_queue"),
            models.Index(fields=["organization", "created_at"], name="netapp_org_created"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ApplicationAttachment(BaseModel):
    """A supporting document of one section (rule N2), checked by cshub.core.uploads before it is stored."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    section = models.CharField(max_length=100)
    file = models.FileField(upload_to="network/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["section", "created_at", "id"]


class SectionFinding(BaseModel):
    """Rule N4: a reviewer's finding on one section in one review round. Append-only."""

    class Rating(models.TextChoices):
        MEETS = "meets", "Meets requirements"
        GAP = "gap", "Gap to close"
        NOT_MET = "not_met", "Cannot meet requirements"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="findings")
    review_round = models.PositiveIntegerField()
    section = models.CharField(max_length=100)
    rating = models.CharField(max_length=10, choices=Rating.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["review_round", "section", "created_at", "id"]


class Decision(BaseModel):
    """Rule N4: how one review round ended. Append-only; the latest decides the application's status."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve for contracting"
        GAP_CLOSURE = "gap_closure", "Gap closure plan"
        DECLINE = "decline", "Decline"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    review_round = models.PositiveIntegerField()
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["application", "decided_at"], name="netdecision_app_at")]


class GapItem(BaseModel):
    """Rule N4: one readiness item of a gap closure plan, answered by the provider, accepted or returned
    by the plan."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered, waiting for the plan"
        RETURNED = "returned", "Returned to the provider"
        ACCEPTED = "accepted", "Accepted"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="gap_items")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="gap_items")
    section = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    owner = models.CharField(max_length=200, help_text="who at the provider closes it")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    plan_note = models.TextField(blank=True, help_text="why the plan returned it, or a note on acceptance")
    version = models.PositiveIntegerField(default=1, help_text="optimistic locking")

    class Meta:
        ordering = ["due_date", "id"]


class GapItemFile(BaseModel):
    item = models.ForeignKey(GapItem, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="network/gap/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "id"]


class NetworkEvent(models.Model):
    """The organization's network history (rule N4: every step): append-only, one row per thing done."""

    class Kind(models.TextChoices):
        INTEREST = "interest", "Provider Interest Form received"
        INVITED = "invited", "Invited to apply"
        CREATED = "created", "Application started"
        SAVED = "saved", "Draft saved"
        ATTACHMENT = "attachment", "Document attached"
        SUBMITTED = "submitted", "Submitted for review"
        FINDING = "finding", "Finding recorded"
        DECISION = "decision", "Review decision"
        GAP_ANSWERED = "gap_answered", "Gap item answered"
        GAP_ACCEPTED = "gap_accepted", "Gap item accepted"
        GAP_RETURNED = "gap_returned", "Gap item returned"
        RE_REVIEW = "re_review", "Back to review"

    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="network_events",
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    interest_form = models.ForeignKey(
        InterestForm, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=15, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["organization", "at"], name="netevent_org_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
