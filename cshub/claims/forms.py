"""Forms of the claims pages. They parse input only: every claims rule (C1-C5) is checked by the services,
whose field errors come back beside these fields (`views._apply_claim_errors`). The one check here is the
paper form's own arithmetic (box 28 equals the sum of the lines' box 24F)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from cshub.claims.models import ClaimOutcome, ClaimSource, ClaimStatus, ReceiptChannel
from cshub.core import clock
from cshub.core.forms import StyledFormMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
MAX_INVOICE_LINES = 6  # the invoice form and the paper CMS-1500 both have six service lines
CMS1500_LINES = 6
DIAGNOSIS_LETTERS = "ABCDEFGHIJKL"  # box 21 A-L; box 24E points at them by letter
PAPER_CHANNELS = [
    (ReceiptChannel.MAIL, ReceiptChannel.MAIL.label),
    (ReceiptChannel.FAX, ReceiptChannel.FAX.label),
    (ReceiptChannel.EMAIL, ReceiptChannel.EMAIL.label),
]


def _blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


def _dates_in_order(form: forms.Form, start: str, end: str) -> None:
    data = form.cleaned_data
    if data.get(start) and data.get(end) and data[end] < data[start]:
        form.add_error(end, "The end date is before the start date.")


def _now_local() -> Any:
    return clock.local(clock.now()).replace(second=0, microsecond=0, tzinfo=None)


# --- lists --------------------------------------------------------------------------------------------------

STATUS_FILTERS = [("unpaid", "Not paid yet"), *ClaimStatus.choices]
OUTCOME_FILTERS = [(v, label) for v, label in ClaimOutcome.choices if v]


class ClaimFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="Claim number, your claim number, member ID or last name", required=False, max_length=60
    )
    status = forms.ChoiceField(label="Status", required=False, choices=_blank("Any", STATUS_FILTERS))
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=_blank("Any", OUTCOME_FILTERS))
    source = forms.ChoiceField(label="Came in as", required=False, choices=_blank("Any", ClaimSource.choices))
    provider = forms.ChoiceField(label="Provider", required=False)
    service = forms.ChoiceField(label="Community Support", required=False)
    received_from = forms.DateField(label="Received from", required=False, widget=DATE)
    received_to = forms.DateField(label="Received to", required=False, widget=DATE)

    def __init__(
        self,
        *args: Any,
        services: list[tuple[str, str]],
        providers: list[tuple[str, str]] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Any", services)
        if providers is None:
            del self.fields["provider"]
        else:
            self.fields["provider"].choices = _blank("Any", providers)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _dates_in_order(self, "received_from", "received_to")
        return data


class PendedFilterForm(StyledFormMixin, forms.Form):
    provider = forms.ChoiceField(label="Provider", required=False)
    reason = forms.ChoiceField(label="Why the line is pended", required=False)

    def __init__(
        self, *args: Any, providers: list[tuple[str, str]], reasons: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = _blank("Any", providers)
        self.fields["reason"].choices = _blank("Any", reasons)


AGING_CHOICES = [("overdue", "Overdue"), ("at_risk", "At risk")]


class AgingFilterForm(StyledFormMixin, forms.Form):
    show = forms.ChoiceField(label="Show", required=False, choices=AGING_CHOICES)
    provider = forms.ChoiceField(label="Provider", required=False)

    def __init__(self, *args: Any, providers: list[tuple[str, str]] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if providers is None:
            del self.fields["provider"]
        else:
            self.fields["provider"].choices = _blank("Any", providers)


TOTALS_BY = [("provider", "Provider"), ("service", "Community Support"), ("month", "Month received")]


class TotalsForm(StyledFormMixin, forms.Form):
    by = forms.ChoiceField(label="Totals by", choices=TOTALS_BY, initial="provider")
    start = forms.DateField(label="Received from", widget=DATE)
    end = forms.DateField(label="Received to", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _dates_in_order(self, "start", "end")
        return data


# --- the claim page -----------------------------------------------------------------------------------------


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class LineDecideForm(StyledFormMixin, forms.Form):
    """Rule C5: a claims processor decides a pended line by hand (the service checks the amount and note)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action = forms.ChoiceField(
        label="Decision",
        choices=[("pay", "Pay"), ("deny", "Deny")],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choose pay or deny."},
    )
    amount = forms.DecimalField(
        label="Amount to pay ($)",
        required=False,
        min_value=Decimal("0.00"),
        max_digits=12,
        decimal_places=2,
        help_text="For pay: at most the charge.",
    )
    note = forms.CharField(
        label="Note the provider will read",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- 837P files and CSV invoices ----------------------------------------------------------------------------


class ClaimFileUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="837P file (X12 005010X222A1)",
        help_text="The file as your billing software or clearinghouse wrote it; a 999 answers it at once.",
    )


class InvoiceUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Invoice CSV file", help_text="One row per service line; start from the template below."
    )


# --- invoices (web form, and paper entered by the plan's staff) ---------------------------------------------


class InvoiceForm(StyledFormMixin, forms.Form):
    """Rule C4: the plan's invoice form, for providers without billing software. Up to six lines; the
    service code is chosen from the codes the provider's contracts pay for today."""

    member_id = forms.CharField(
        label="Member's Medi-Cal ID (CIN)",
        max_length=30,
        required=False,
        help_text="Nine characters, as on the member's Benefits Identification Card (e.g. 91234567A).",
    )
    patient_control_number = forms.CharField(
        label="Your invoice number",
        max_length=38,
        required=False,
        help_text="Your own reference; it comes back on the remittance.",
    )
    diagnosis_code = forms.CharField(
        label="Diagnosis code (ICD-10-CM)",
        max_length=10,
        required=False,
        help_text="For example Z59.01 (sheltered homelessness).",
    )
    authorization_number = forms.CharField(
        label="Authorization number (optional)",
        max_length=50,
        required=False,
        help_text="From the authorization letter; leave empty when the service needs none.",
    )
    lines = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_INVOICE_LINES, initial=1)

    def __init__(self, *args: Any, codes: list[tuple[str, str]], line_count: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_count = max(1, min(line_count, MAX_INVOICE_LINES))
        for n in range(1, self.line_count + 1):
            self.fields[f"line{n}_code"] = forms.ChoiceField(
                label="Service code", required=False, choices=_blank("Choose the service", codes)
            )
            self.fields[f"line{n}_service_from"] = forms.DateField(
                label="First date of service", required=False, widget=DATE
            )
            self.fields[f"line{n}_service_to"] = forms.DateField(
                label="Last date of service",
                required=False,
                widget=DATE,
                help_text="The same as the first for one day.",
            )
            self.fields[f"line{n}_units"] = forms.DecimalField(
                label="Units", required=False, max_digits=9, decimal_places=2
            )
            self.fields[f"line{n}_charge"] = forms.DecimalField(
                label="Amount ($)", required=False, max_digits=12, decimal_places=2
            )
        # Every line's fields get the Bootstrap classes too.
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    def line_rows(self) -> list[dict[str, Any]]:
        """The bound fields of each line row, for the template."""
        return [
            {
                "n": n,
                "code": self[f"line{n}_code"],
                "service_from": self[f"line{n}_service_from"],
                "service_to": self[f"line{n}_service_to"],
                "units": self[f"line{n}_units"],
                "charge": self[f"line{n}_charge"],
            }
            for n in range(1, self.line_count + 1)
        ]

    def filled_lines(self) -> list[int]:
        """The row numbers with anything entered (an empty row is left out, not an error); row 1 always."""
        data = self.cleaned_data
        rows = []
        for n in range(1, self.line_count + 1):
            keys = ("code", "service_from", "service_to", "units", "charge")
            if n == 1 or any(data.get(f"line{n}_{k}") not in (None, "") for k in keys):
                rows.append(n)
        return rows


class PaperInvoiceForm(InvoiceForm):
    """Rule C4: an invoice received by mail, fax or email, entered by the plan's claims staff with the
    received date stamp and the scanned image."""

    provider = forms.UUIDField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(label="Received by", choices=PAPER_CHANNELS)
    received_at = forms.DateTimeField(
        label="Received date stamp (date and time, Pacific)",
        widget=DATETIME,
        input_formats=DATETIME_FORMATS,
        help_text="The date stamp on the invoice (rule C5: the 45 business days count from it).",
    )
    image = forms.FileField(
        label="Scanned invoice (PDF, TIFF, PNG or JPEG)",
        required=False,
        help_text="Choose it again if the form comes back with errors.",
    )

    def clean_received_at(self) -> Any:
        value = self.cleaned_data["received_at"]
        if value is not None and value > clock.now():
            raise forms.ValidationError("The received date stamp cannot be in the future.")
        return value


class ProviderLookupForm(StyledFormMixin, forms.Form):
    npi = forms.CharField(label="Billing provider NPI", max_length=10, help_text="Ten digits.")


# --- the paper CMS-1500 (02/12) -----------------------------------------------------------------------------


class Cms1500Form(StyledFormMixin, forms.Form):
    """Rule C4: a paper CMS-1500 (02/12) entered by the plan's claims staff. Labels carry the form's box
    numbers so the clerk types what is in each box."""

    insured_id = forms.CharField(label="1a. Insured's ID number", max_length=30, required=False)
    patient_name = forms.CharField(label="2. Patient's name", max_length=200, required=False)
    patient_birth_date = forms.DateField(label="3. Patient's birth date", required=False, widget=DATE)
    prior_authorization = forms.CharField(
        label="23. Prior authorization number", max_length=50, required=False
    )
    federal_tax_id = forms.CharField(label="25. Federal tax ID", max_length=10, required=False)
    patient_account = forms.CharField(label="26. Patient's account no.", max_length=38, required=False)
    total_charge = forms.DecimalField(
        label="28. Total charge ($)",
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text="Checked against the sum of the lines' charges (24F).",
    )
    billing_name = forms.CharField(label="33. Billing provider name", max_length=200, required=False)
    billing_npi = forms.CharField(label="33a. Billing provider NPI", max_length=10, required=False)
    received_at = forms.DateTimeField(
        label="Received date stamp (date and time, Pacific)",
        widget=DATETIME,
        input_formats=DATETIME_FORMATS,
        help_text="The date stamp on the paper claim (rule C5: the 45 business days count from it).",
    )
    image = forms.FileField(
        label="Scanned claim (PDF, TIFF, PNG or JPEG)",
        required=False,
        help_text="Choose it again if the form comes back with errors.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i, letter in enumerate(DIAGNOSIS_LETTERS):
            self.fields[f"dx_{letter.lower()}"] = forms.CharField(
                label=f"21. Diagnosis {letter}" if i else "21. Diagnosis A (primary)",
                max_length=10,
                required=False,
            )
        for n in range(1, CMS1500_LINES + 1):
            prefix = f"line{n}_"
            self.fields[prefix + "service_from"] = forms.DateField(
                label="24A. Date of service from", required=False, widget=DATE
            )
            self.fields[prefix + "service_to"] = forms.DateField(
                label="24A. Date of service to", required=False, widget=DATE
            )
            self.fields[prefix + "place_of_service"] = forms.CharField(
                label="24B. Place of service", max_length=2, required=False
            )
            self.fields[prefix + "hcpcs"] = forms.CharField(label="24D. HCPCS", max_length=5, required=False)
            self.fields[prefix + "modifiers"] = forms.CharField(
                label="24D. Modifiers", max_length=20, required=False
            )
            self.fields[prefix + "pointer"] = forms.CharField(
                label="24E. Diagnosis pointer", max_length=4, required=False
            )
            self.fields[prefix + "charge"] = forms.DecimalField(
                label="24F. Charges ($)", required=False, max_digits=12, decimal_places=2
            )
            self.fields[prefix + "units"] = forms.DecimalField(
                label="24G. Days or units", required=False, max_digits=9, decimal_places=2
            )
            self.fields[prefix + "rendering_npi"] = forms.CharField(
                label="24J. Rendering provider NPI", max_length=10, required=False
            )
        for field in self.fields.values():
            if not isinstance(field.widget, forms.Select | forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    LINE_KEYS = (
        "service_from",
        "service_to",
        "place_of_service",
        "hcpcs",
        "modifiers",
        "pointer",
        "charge",
        "units",
        "rendering_npi",
    )

    def diagnosis_fields(self) -> list[Any]:
        return [self[f"dx_{letter.lower()}"] for letter in DIAGNOSIS_LETTERS]

    def line_rows(self) -> list[dict[str, Any]]:
        return [
            {"n": n, **{k: self[f"line{n}_{k}"] for k in self.LINE_KEYS}} for n in range(1, CMS1500_LINES + 1)
        ]

    def filled_lines(self) -> list[int]:
        data = self.cleaned_data
        rows = [
            n
            for n in range(1, CMS1500_LINES + 1)
            if any(data.get(f"line{n}_{k}") not in (None, "") for k in self.LINE_KEYS)
        ]
        return rows or [1]

    def diagnoses(self) -> list[tuple[str, str, int]]:
        """(field name, code, box-21 position 1-12) of each diagnosis entered, in box order."""
        result = []
        for i, letter in enumerate(DIAGNOSIS_LETTERS, start=1):
            code = (self.cleaned_data.get(f"dx_{letter.lower()}") or "").strip()
            if code:
                result.append((f"dx_{letter.lower()}", code, i))
        return result

    def clean_received_at(self) -> Any:
        value = self.cleaned_data["received_at"]
        if value is not None and value > clock.now():
            raise forms.ValidationError("The received date stamp cannot be in the future.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        letters_entered = {letter for letter in DIAGNOSIS_LETTERS if data.get(f"dx_{letter.lower()}")}
        for n in range(1, CMS1500_LINES + 1):
            pointer = (data.get(f"line{n}_pointer") or "").strip().upper().replace(" ", "").replace(",", "")
            bad = [c for c in pointer if c not in DIAGNOSIS_LETTERS]
            if bad:
                self.add_error(f"line{n}_pointer", "Use the letters A to L of box 21.")
            elif any(c not in letters_entered for c in pointer):
                self.add_error(f"line{n}_pointer", "This letter points at an empty diagnosis in box 21.")
        total = data.get("total_charge")
        charges = [data.get(f"line{n}_charge") for n in range(1, CMS1500_LINES + 1)]
        entered = [c for c in charges if c is not None]
        if total is not None and entered and sum(entered, Decimal("0")) != total:
            self.add_error(
                "total_charge",
                f"Box 28 says ${total:,.2f} but the lines' charges (24F) add up to "
                f"${sum(entered, Decimal('0')):,.2f}. Check the form and correct it.",
            )
        return data


def pointer_numbers(raw: str) -> list[int]:
    """Box 24E letters ("AB") as positions in box 21 (1, 2)."""
    text = (raw or "").strip().upper().replace(" ", "").replace(",", "")
    return [DIAGNOSIS_LETTERS.index(c) + 1 for c in text if c in DIAGNOSIS_LETTERS] or [1]


def today_default() -> date:
    return clock.today()


def received_now() -> Any:
    return _now_local()


class PaymentRunForm(StyledFormMixin, forms.Form):
    """Rule C5: a payment run: which adjudicated claims to pay, on which payment date."""

    payment_date = forms.DateField(
        label="Payment date", widget=DATE, help_text="The date on the payment (rule C5)."
    )
    providers = forms.MultipleChoiceField(
        label="Providers (none chosen: every provider)",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    received_through = forms.DateField(
        label="Claims received through (optional)", required=False, widget=DATE
    )

    def __init__(self, *args: Any, providers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["providers"].choices = providers
