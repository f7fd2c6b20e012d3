"""Authorization requests, their review, determinations, authorizations and letters (rules G2, A2-A10).

A request moves only through `services` (one function per step); `version` makes two reviewers deciding
the same request conflict instead of overwriting (optimistic locking). Its regulatory clock (`due_at`) is
computed by `clocks.due_at` from settings (rule A8) and recomputed when information arrives or an
extension is taken. An approved or partially approved request, or a presumptive one (rule G2), creates an
`Authorization`: the units, dates and code a claim will be checked against. Services that need no
authorization are recorded as a `ServiceRecord` without a request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel


class Channel(models.TextChoices):
    """Rule A4: portal and fax (email is not a channel); the API is the portal's machine door."""

    PORTAL = "portal", "Provider portal"
    API = "api", "API"
    FAX = "fax", "Fax"


class RequestKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    REAUTHORIZATION = "reauthorization", "Reauthorization"
    EXTENSION = "extension", "Extension of an ongoing service"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    EXPEDITED = "expedited", "Expedited (urgent)"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Waiting for review"
    IN_REVIEW = "in_review", "In review"
    PENDED = "pended", "Waiting for information"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = frozenset({RequestStatus.RECEIVED, RequestStatus.IN_REVIEW, RequestStatus.PENDED})
DECIDED_STATUSES = frozenset(
    {
        RequestStatus.APPROVED,
        RequestStatus.PARTIALLY_APPROVED,
        RequestStatus.DENIED,
        RequestStatus.WITHDRAWN,
    }
)


class AuthorizationRequest(BaseModel):
    """A provider's (or a hospital's, rule A5) request to authorize a Community Support for a member."""

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. A-2026-000123")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="authorization_requests"
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="authorization_requests"
    )
    code = models.ForeignKey("catalog.ServiceCode", on_delete=models.PROTECT, related_name="+")
    modifiers = models.JSONField(default=list, blank=True, help_text="further modifiers after the code's own")
    kind = models.CharField(max_length=20, choices=RequestKind.choices, default=RequestKind.INITIAL)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enrollment = models.ForeignKey(
        "referrals.Enrollment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorization_requests",
        help_text="rule A2: the member was reached, screened and agreed",
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_authorization = models.ForeignKey(
        "Authorization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_up_requests",
        help_text="the authorization a reauthorization or extension continues",
    )
    requesting_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="authorization_requests_made"
    )
    requesting_npi = models.CharField("requesting NPI", max_length=10)
    servicing_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="authorization_requests_serviced"
    )
    servicing_npi = models.CharField("servicing NPI", max_length=10)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_agreement_attested = models.BooleanField(
        default=False, help_text="rule A5: a hospital's discharge planner attests the member agreed"
    )
    diagnosis_codes = models.JSONField(default=list, help_text="ICD-10-CM codes, primary first")
    units = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    notes = models.TextField(blank=True)
    checklist_confirmed = models.JSONField(
        default=list, blank=True, help_text="required-document items the submitter says the request includes"
    )

    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    urgency_reason = models.CharField(
        max_length=500, blank=True, help_text="why the urgency differs from the catalog's default"
    )
    concurrent = models.BooleanField(
        default=False,
        help_text="an extension asked for before the current authorization ends (urgent concurrent review)",
    )
    received_at = models.DateTimeField(db_index=True)
    information_complete_at = models.DateTimeField(
        null=True, blank=True, help_text="receipt of the information needed (rule A8); empty while pended"
    )
    due_at = models.DateTimeField(db_index=True)
    extension_reason = models.TextField(blank=True)
    extension_days = models.PositiveSmallIntegerField(default=0)
    extension_taken_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.RECEIVED, db_index=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_on_time = models.BooleanField(null=True, blank=True)
    presumptive = models.BooleanField(default=False, help_text="rule G2: authorized at once")
    retrospective_review_done_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["plan", "status", "due_at"], name="authreq_plan_queue"),
            models.Index(fields=["servicing_organization", "received_at"], name="authreq_servicing"),
            models.Index(fields=["requesting_organization", "received_at"], name="authreq_requesting"),
            models.Index(fields=["member", "service"], name="authreq_member_service"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="authreq_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def primary_diagnosis(self) -> str:
        return self.diagnosis_codes[0] if self.diagnosis_codes else ""


class RequestDocument(BaseModel):
    """A file kept with the request: a required document (its checklist item), the fax image, an answer to
    a request for information, or another attachment."""

    class Kind(models.TextChoices):
        REQUIRED = "required", "Required document"
        FAX = "fax", "Fax received"
        INFORMATION = "information", "Information requested by the plan"
        OTHER = "other", "Other attachment"

    request = models.ForeignKey(AuthorizationRequest, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    checklist_item = models.CharField(
        max_length=300, blank=True, help_text="the catalog's required document this file answers"
    )
    information_request = models.ForeignKey(
        "InformationRequest", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(upload_to="authorizations/%Y/%m/")
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.file_name


class InformationRequest(BaseModel):
    """Rule A7: the reviewer asks for specific information by a date; the provider answers."""

    request = models.ForeignKey(
        AuthorizationRequest, on_delete=models.CASCADE, related_name="information_requests"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_at = models.DateTimeField()
    question = models.TextField()
    due_on = models.DateField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["asked_at", "id"]


class DenialReason(models.TextChoices):
    """Reason codes for a denial or partial approval; the reviewer adds the plain-language reason."""

    NOT_ELIGIBLE = "not_eligible", "Member does not meet the eligibility criteria"
    NOT_MEDICALLY_APPROPRIATE = "not_appropriate", "Service is not medically appropriate or cost effective"
    INCOMPLETE = "incomplete", "Information needed was not received"
    LIMIT_REACHED = "limit_reached", "Benefit limit reached"
    DUPLICATIVE = "duplicative", "Duplicates a service the member already receives"
    NOT_PLAN_MEMBER = "not_plan_member", "Not eligible with the plan on the dates of service"
    PROVIDER_NOT_CONTRACTED = "not_contracted", "Provider is not contracted for this service"
    OTHER = "other", "Other"


class Determination(BaseModel):
    """Rule A9: the decision on a request, with its reasons and the criteria cited."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        PARTIALLY_APPROVED = "partially_approved", "Partially approved"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"

    request = models.OneToOneField(
        AuthorizationRequest, on_delete=models.CASCADE, related_name="determination"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    authorized_units = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    reason_code = models.CharField(max_length=20, choices=DenialReason.choices, blank=True)
    reason = models.TextField(blank=True, help_text="plain-language reason the member can read")
    criteria = models.TextField(blank=True, help_text="the criteria cited")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    on_time = models.BooleanField()


class Authorization(BaseModel):
    """What the plan authorized: the member, service, code, units and dates a claim is checked against."""

    number = models.CharField(max_length=20, unique=True)
    request = models.OneToOneField(
        AuthorizationRequest, on_delete=models.PROTECT, related_name="authorization"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="authorizations")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="authorizations")
    code = models.ForeignKey("catalog.ServiceCode", on_delete=models.PROTECT, related_name="+")
    servicing_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="authorizations"
    )
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    presumptive = models.BooleanField(default=False)
    retrospective_review_due = models.BooleanField(
        default=False, help_text="rule G2: a presumptive authorization the plan reviews afterwards"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["member", "service", "start_date"], name="auth_member_service")]

    def __str__(self) -> str:
        return self.number


class ServiceRecord(BaseModel):
    """Rule G2: a service that needs no authorization, recorded without a request."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="service_records")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    code = models.ForeignKey("catalog.ServiceCode", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    units = models.PositiveIntegerField(default=1)
    diagnosis_codes = models.JSONField(default=list)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-service_date", "-id"]
        indexes = [models.Index(fields=["member", "service", "service_date"], name="servicerecord_member")]


class RequestEvent(models.Model):
    """One step in a request's history (received, taken, pended, answered, urgency changed, extended,
    decided, letter sent, ...). Append-only; the provider sees its own request's history."""

    request = models.ForeignKey(AuthorizationRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class Letter(BaseModel):
    """Rule A9: a PDF letter about a request, stored and downloadable."""

    class Recipient(models.TextChoices):
        MEMBER = "member", "Member"
        REFERRING_PROVIDER = "referring_provider", "Referring provider"
        SERVICING_PROVIDER = "servicing_provider", "Servicing provider"

    class Kind(models.TextChoices):
        DETERMINATION = "determination", "Determination"
        EXTENSION = "extension", "Notice of extension"

    request = models.ForeignKey(AuthorizationRequest, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.CharField(max_length=20, choices=Recipient.choices)
    recipient_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=10, default="en")
    file = models.FileField(upload_to="letters/authorizations/%Y/%m/")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} letter to the {self.get_recipient_display().lower()}"
