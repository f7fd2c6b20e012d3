"""Forms of the authorization pages: they parse input only; the services hold every rule (A2-A10, G2) and
their field errors come back beside these fields (`views._apply`)."""

from __future__ import annotations

from typing import Any

from django import forms

from cshub.authorizations.models import DenialReason, Determination, RequestKind, RequestStatus, Urgency
from cshub.core.forms import StyledFormMixin

DIAGNOSIS_FIELDS = ("diagnosis_1", "diagnosis_2", "diagnosis_3", "diagnosis_4")
DATE = forms.DateInput(attrs={"type": "date"})


def _blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


class MemberLookupForm(StyledFormMixin, forms.Form):
    """Find the member by CIN or plan member ID, or by last name and date of birth (in the user's scope)."""

    member_id = forms.CharField(label="CIN or plan member ID", required=False, max_length=30)
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DATE)


class RequestForm(StyledFormMixin, forms.Form):
    """Rule A3: what a request carries. Choices depend on the chosen member and service (views pass them)."""

    member = forms.UUIDField(widget=forms.HiddenInput, error_messages={"required": "Choose the member."})
    service = forms.ChoiceField(label="Community Support")
    code = forms.ChoiceField(
        label="Procedure code (HCPCS and modifier)",
        required=False,
        help_text="The codes of the chosen Community Support in the catalog.",
    )
    extra_modifiers = forms.CharField(
        label="Further modifiers",
        required=False,
        max_length=20,
        help_text="Up to three, separated by spaces (for example GT).",
    )
    kind = forms.ChoiceField(
        label="Kind of request", choices=RequestKind.choices, initial=RequestKind.INITIAL
    )
    previous_authorization = forms.ChoiceField(
        label="Authorization this request continues",
        required=False,
        help_text="For a reauthorization or an extension.",
    )
    servicing_organization = forms.ChoiceField(label="Recuperative care provider", required=False)
    requesting_npi = forms.CharField(label="Requesting provider NPI", max_length=10, required=False)
    servicing_npi = forms.CharField(label="Servicing provider NPI", max_length=10, required=False)
    diagnosis_1 = forms.CharField(label="Primary diagnosis (ICD-10-CM)", max_length=10, required=False)
    diagnosis_2 = forms.CharField(label="Second diagnosis", max_length=10, required=False)
    diagnosis_3 = forms.CharField(label="Third diagnosis", max_length=10, required=False)
    diagnosis_4 = forms.CharField(label="Fourth diagnosis", max_length=10, required=False)
    units = forms.IntegerField(label="Units requested", min_value=1, required=False)
    start_date = forms.DateField(label="First date of service", required=False, widget=DATE)
    end_date = forms.DateField(label="Last date of service", required=False, widget=DATE)
    urgency = forms.ChoiceField(label="Urgency", required=False)
    urgency_reason = forms.CharField(
        label="Why the urgency differs from the default",
        required=False,
        max_length=500,
        help_text="Required only when you change the urgency (rule A8).",
    )
    notes = forms.CharField(
        label="Notes for the reviewer", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    member_agreement_attested = forms.BooleanField(
        label="I confirm the member agreed to recuperative care (rule A2)", required=False
    )

    def __init__(
        self,
        *args: Any,
        services: list[tuple[str, str]],
        codes: list[tuple[str, str]],
        previous: list[tuple[str, str]],
        providers: list[tuple[str, str]] | None = None,
        default_urgency: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Choose a Community Support", services)
        self.fields["code"].choices = _blank("Choose the code", codes)
        self.fields["previous_authorization"].choices = _blank("None (initial request)", previous)
        default_label = Urgency(default_urgency).label.lower() if default_urgency else "per the catalog"
        self.fields["urgency"].choices = _blank(f"The service's default ({default_label})", Urgency.choices)
        if providers is None:
            del self.fields["servicing_organization"]
            del self.fields["member_agreement_attested"]
        else:
            self.fields["servicing_organization"].choices = _blank("Choose the provider", providers)

    def diagnosis_codes(self) -> list[tuple[str, str]]:
        """(field name, code) for each diagnosis entered, primary first (blank inputs left out)."""
        return [
            (name, self.cleaned_data.get(name, "").strip())
            for name in DIAGNOSIS_FIELDS
            if self.cleaned_data.get(name, "").strip()
        ]


class FaxRequestForm(RequestForm):
    """Rule A4: a faxed request, entered beside the fax image by the plan's UM staff."""

    fax_file = forms.FileField(
        label="The fax (PDF or TIFF)",
        required=False,
        help_text="Any form with member information, the primary "
        "diagnosis and supporting documents is accepted.",
    )
    requesting_organization = forms.ChoiceField(label="Who sent the fax")
    received_at = forms.DateTimeField(
        label="Received (date and time, Pacific)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requesting_organization"].choices = _blank("Choose the sender", organizations)
        self.fields["servicing_organization"].label = "Servicing provider (when not the sender)"
        self.fields["servicing_organization"].required = False
        del self.fields["member_agreement_attested"]


# --- Lists ---------------------------------------------------------------------------------------------


class QueueFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label="Request number, CIN or last name", required=False, max_length=60)
    service = forms.ChoiceField(label="Community Support", required=False)
    urgency = forms.ChoiceField(label="Urgency", required=False, choices=_blank("Any", Urgency.choices))
    county = forms.ChoiceField(label="County", required=False)
    provider = forms.ChoiceField(label="Provider", required=False)
    mine = forms.BooleanField(label="Taken by me", required=False)

    def __init__(
        self,
        *args: Any,
        services: list[tuple[str, str]],
        counties: list[str],
        providers: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Any", services)
        self.fields["county"].choices = _blank("Any", [(c, c) for c in counties])
        self.fields["provider"].choices = _blank("Any", providers)


STATUS_FILTERS = [
    ("open", "Open (not decided)"),
    ("decided", "Decided"),
    ("all", "All"),
    *RequestStatus.choices,
]


class RequestFilterForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_FILTERS)
    service = forms.ChoiceField(label="Community Support", required=False)
    urgency = forms.ChoiceField(label="Urgency", required=False, choices=_blank("Any", Urgency.choices))
    q = forms.CharField(label="Request number, CIN or last name", required=False, max_length=60)
    received_from = forms.DateField(label="Received from", required=False, widget=DATE)
    received_to = forms.DateField(label="Received to", required=False, widget=DATE)

    def __init__(self, *args: Any, services: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Any", services)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and end < start:
            self.add_error("received_to", "The end date is before the start date.")
        return data


class TimelinessForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label="Decided from", widget=DATE)
    end = forms.DateField(label="Decided to", widget=DATE)
    service = forms.ChoiceField(label="Community Support", required=False)

    def __init__(self, *args: Any, services: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Every service", services)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        return data


# --- Actions on a request (each with the version it was read at: optimistic locking) --------------------


class VersionForm(StyledFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class UrgencyForm(VersionForm):
    urgency = forms.ChoiceField(label="New urgency", choices=Urgency.choices)
    reason = forms.CharField(label="Reason for the change", required=False, max_length=500)


class PendForm(VersionForm):
    question = forms.CharField(
        label="Information needed", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_on = forms.DateField(label="Needed by", required=False, widget=DATE)


class ExtendForm(VersionForm):
    days = forms.IntegerField(label="Extension (calendar days)", required=False, min_value=1)
    reason = forms.CharField(
        label="Reason for the extension", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecideForm(VersionForm):
    outcome = forms.ChoiceField(label="Decision", choices=Determination.Outcome.choices)
    units = forms.IntegerField(label="Units authorized", required=False, min_value=0)
    start_date = forms.DateField(label="Authorized from", required=False, widget=DATE)
    end_date = forms.DateField(label="Authorized to", required=False, widget=DATE)
    reason_code = forms.ChoiceField(
        label="Reason code", required=False, choices=_blank("None (approval)", DenialReason.choices)
    )
    reason = forms.CharField(
        label="Reason in plain language (for the member's letter)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    criteria = forms.CharField(
        label="Criteria cited", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RetrospectiveForm(VersionForm):
    upheld = forms.TypedChoiceField(
        label="Outcome of the review",
        choices=[("yes", "Upheld"), ("no", "Not upheld (ends the authorization)")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(VersionForm):
    answer = forms.CharField(label="Your answer", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class WithdrawForm(VersionForm):
    reason = forms.CharField(label="Why the request is withdrawn", required=False, max_length=500)


# --- Services without authorization (rule G2) ----------------------------------------------------------


class ServiceRecordForm(StyledFormMixin, forms.Form):
    member = forms.UUIDField(widget=forms.HiddenInput, error_messages={"required": "Choose the member."})
    service = forms.ChoiceField(label="Community Support")
    code = forms.ChoiceField(label="Procedure code (HCPCS and modifier)", required=False)
    service_date = forms.DateField(label="Date of service", required=False, widget=DATE)
    end_date = forms.DateField(label="Last date (for a stay over several days)", required=False, widget=DATE)
    units = forms.IntegerField(label="Units", required=False, min_value=1, initial=1)
    diagnosis_1 = forms.CharField(label="Primary diagnosis (ICD-10-CM)", max_length=10, required=False)
    diagnosis_2 = forms.CharField(label="Second diagnosis", max_length=10, required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self, *args: Any, services: list[tuple[str, str]], codes: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _blank("Choose a Community Support", services)
        self.fields["code"].choices = _blank("Choose the code", codes)
