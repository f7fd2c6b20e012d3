"""Claims and invoices (rules C1-C5; Reference Guide §9).

A `Claim` is one bill from a provider: an 837P claim, a paper CMS-1500 entered by plan staff, or an invoice
(web form, CSV upload, or mail/fax/email entered by staff). All kinds share one model so adjudication,
payment and remittance treat them alike; `source` says which door it came through. Each `ClaimLine` is
adjudicated on its own (paid, denied or pended) with its reason and CARC/RARC adjustments recorded.
An inbound 837P interchange is a `ClaimFile` with its original bytes and the 999 kept beside it. A
`PaymentRun` pays adjudicated claims, one `ProviderPayment` (one EFT and one 835) per provider.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from cshub.core.models import BaseModel

ZERO = Decimal("0.00")


class ClaimSource(models.TextChoices):
    EDI_837P = "837p", "Electronic claim (837P)"
    CMS1500 = "cms1500", "Paper claim (CMS-1500)"
    INVOICE_WEB = "invoice_web", "Invoice (web form)"
    INVOICE_CSV = "invoice_csv", "Invoice (CSV upload)"
    INVOICE_PAPER = "invoice_paper", "Invoice (mail, fax or email)"


INVOICE_SOURCES = frozenset({ClaimSource.INVOICE_WEB, ClaimSource.INVOICE_CSV, ClaimSource.INVOICE_PAPER})


class ReceiptChannel(models.TextChoices):
    UPLOAD = "upload", "Web upload"
    API = "api", "API"
    SFTP = "sftp", "SFTP (clearinghouse drop)"
    COMMAND = "command", "Command line"
    WEB = "web", "Web form"
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    EMAIL = "email", "Email"


class ClaimFile(BaseModel):
    """Rule C3: one inbound 837P interchange, kept as received, with the 999 that answered it."""

    class Ack(models.TextChoices):
        ACCEPTED = "A", "Accepted"
        ACCEPTED_WITH_ERRORS = "E", "Accepted with errors"
        PARTIALLY_ACCEPTED = "P", "Partially accepted"
        REJECTED = "R", "Rejected"

    submitter_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="claim_files"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=ReceiptChannel.choices)
    received_at = models.DateTimeField(db_index=True, help_text="the receipt date stamp (rule C5)")
    original = models.FileField(upload_to="claims/837/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    sender_id = models.CharField(max_length=15, blank=True, help_text="ISA06")
    receiver_id = models.CharField(max_length=15, blank=True, help_text="ISA08")
    interchange_control_number = models.CharField(max_length=9, blank=True, help_text="ISA13")
    usage = models.CharField(max_length=1, blank=True, help_text="ISA15: T test, P production")
    ack_code = models.CharField(max_length=1, choices=Ack.choices)
    ack_999 = models.FileField(upload_to="claims/999/%Y/%m/", max_length=300, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="X12 problems with their positions")
    refusals = models.JSONField(
        default=list, blank=True, help_text="claims refused at intake after the 999 (e.g. another payer)"
    )
    transaction_set_count = models.PositiveIntegerField(default=0)
    claim_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["sender_id", "interchange_control_number"], name="claimfile_interchange"),
            models.Index(fields=["submitter_organization", "received_at"], name="claimfile_submitter"),
        ]

    def __str__(self) -> str:
        return self.original_name


class ClaimStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PENDED = "pended", "Pended"
    ADJUDICATED = "adjudicated", "Adjudicated"
    REMITTED = "remitted", "Remitted"
    VOID = "void", "Void"


class ClaimOutcome(models.TextChoices):
    NONE = "", "Not yet decided"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partly paid"
    DENIED = "denied", "Denied"
    PENDED = "pended", "Pended"


class Claim(BaseModel):
    """One claim or invoice: who billed whom for which member, with the receipt date stamp (rule C5)."""

    number = models.CharField(max_length=20, unique=True, help_text="human reference, e.g. C-2026-0000123")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, choices=ClaimSource.choices)
    channel = models.CharField(max_length=10, choices=ReceiptChannel.choices)
    claim_file = models.ForeignKey(
        ClaimFile, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    # The billing provider as billed, and the organization it resolved to (None: unknown NPI, denied).
    billing_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    billing_npi = models.CharField("billing NPI", max_length=10)
    billing_name = models.CharField(max_length=200, blank=True)
    billing_tax_id = models.CharField("billing TIN", max_length=9, blank=True)
    rendering_npi = models.CharField("rendering NPI", max_length=10, blank=True)
    # The member as billed, and the member it resolved to (None: unknown ID, denied).
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    member_id_billed = models.CharField("member ID as billed", max_length=30)
    member_name_billed = models.CharField(max_length=200, blank=True)
    member_date_of_birth_billed = models.DateField(null=True, blank=True)
    patient_control_number = models.CharField(
        max_length=38, help_text="the provider's own claim or invoice number (CLM01, box 26)"
    )
    total_charge = models.DecimalField(max_digits=12, decimal_places=2)
    allowed_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    paid_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    place_of_service = models.CharField(max_length=2, blank=True)
    frequency_code = models.CharField(
        max_length=1, default="1", help_text="1 original, 7 replacement, 8 void"
    )
    original_reference = models.CharField(max_length=50, blank=True, help_text="claim replaced or voided")
    diagnosis_codes = models.JSONField(default=list, help_text="ICD-10-CM codes, primary first")
    authorization_number_billed = models.CharField(max_length=50, blank=True)
    received_at = models.DateTimeField(db_index=True, help_text="the receipt date stamp (rule C5)")
    received_on = models.DateField(help_text="the receipt date, Pacific time")
    payment_due_on = models.DateField(db_index=True, help_text="45 business days from receipt (rule C5)")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.RECEIVED)
    outcome = models.CharField(max_length=16, choices=ClaimOutcome.choices, default="", blank=True)
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(
        "ProviderPayment", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    paid_on = models.DateField(null=True, blank=True, help_text="the payment date (rule C5)")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image = models.FileField(
        upload_to="claims/images/%Y/%m/", max_length=300, blank=True, help_text="scanned paper claim"
    )
    image_name = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["plan", "status", "received_at"], name="claim_plan_status"),
            models.Index(fields=["billing_organization", "received_at"], name="claim_provider"),
            models.Index(fields=["member", "received_at"], name="claim_member"),
            models.Index(fields=["plan", "payment_due_on"], name="claim_plan_due"),
            models.Index(fields=["billing_organization", "patient_control_number"], name="claim_pcn"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_charge__gte=0), name="claim_charge_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_invoice(self) -> bool:
        return self.source in INVOICE_SOURCES

    @property
    def kind_label(self) -> str:
        return "invoice" if self.is_invoice else "claim"


class LineStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    PENDED = "pended", "Pended"
    VOID = "void", "Void"


class ClaimLine(models.Model):
    """One service line: what was done, for whom, when, how many units, at what charge, and what was
    decided (rule C1), with the reason in plain words."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveSmallIntegerField()
    hcpcs = models.CharField("HCPCS", max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    code = models.ForeignKey(
        "catalog.ServiceCode", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_from = models.DateField()
    service_to = models.DateField()
    units = models.DecimalField(max_digits=9, decimal_places=2)
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    place_of_service = models.CharField(max_length=2, blank=True)
    diagnosis_pointers = models.JSONField(default=list, blank=True)
    rendering_npi = models.CharField(max_length=10, blank=True)
    authorization_number_billed = models.CharField(max_length=50, blank=True)
    authorization = models.ForeignKey(
        "authorizations.Authorization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    units_drawn = models.DecimalField(
        max_digits=9, decimal_places=2, default=ZERO, help_text="units counted against the authorization"
    )
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.RECEIVED)
    reason_key = models.CharField(
        max_length=40, blank=True, help_text="the edit in cshub/data/claim_edits.toml"
    )
    explanation = models.TextField(blank=True, help_text="the decision in plain words")
    allowed_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    rate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["claim_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="claimline_number_unique"),
            models.CheckConstraint(
                condition=Q(service_to__gte=models.F("service_from")), name="claimline_dates"
            ),
            models.CheckConstraint(condition=Q(units__gt=0), name="claimline_units_positive"),
        ]
        indexes = [
            models.Index(fields=["authorization", "status"], name="claimline_auth"),
            models.Index(fields=["hcpcs", "service_from"], name="claimline_code_date"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} line {self.number}"

    @property
    def code_label(self) -> str:
        return "-".join([self.hcpcs, *self.modifiers])


class LineAdjustment(models.Model):
    """A CARC (with its group and optional RARC) and the amount it took off the line (835 CAS/LQ)."""

    line = models.ForeignKey(ClaimLine, on_delete=models.CASCADE, related_name="adjustments")
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField("CARC", max_length=5)
    remark_code = models.CharField("RARC", max_length=5, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    units = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["line_id", "id"]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount}"


class ClaimEvent(models.Model):
    """One step in a claim's history (received, adjudicated, pended, decided by hand, remitted, void)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
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
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class PaymentRun(BaseModel):
    """Rule C5: one payment run of a plan: adjudicated claims paid on one payment date."""

    number = models.CharField(max_length=20, unique=True)
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    payment_date = models.DateField()
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_at = models.DateTimeField()
    claim_count = models.PositiveIntegerField(default=0)
    provider_count = models.PositiveIntegerField(default=0)
    total_paid = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ProviderPayment(BaseModel):
    """One provider's share of a run: one EFT (trace number) and one 835 remittance."""

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payments")
    plan = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    payment_date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    eft_trace_number = models.CharField("EFT trace number", max_length=50, unique=True)
    interchange_control_number = models.PositiveIntegerField()
    remittance_835 = models.FileField(upload_to="claims/835/%Y/%m/", max_length=300)
    remittance_name = models.CharField(max_length=100)
    outbox_path = models.CharField(max_length=500, blank=True)
    claim_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-payment_date", "-id"]
        indexes = [models.Index(fields=["organization", "payment_date"], name="payment_provider")]

    def __str__(self) -> str:
        return self.eft_trace_number
