"""Forms of the referral work pages: they only parse input. Who may do what, and every rule (transitions,
rule O3, rule A1, consent before enrollment, routing), is decided by the services, whose field errors are
put beside these fields (`cshub.core.forms.apply_domain_errors`)."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms

from cshub.core import clock
from cshub.core.forms import StyledFormMixin
from cshub.referrals.models import Channel, FirstContactCheck, OutreachAttempt, Referral
from cshub.referrals.selectors import ReferralFilters
from cshub.referrals.workflow import workflow

DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M"]
ECM_CHOICE = ("ecm", "Enhanced Care Management (ECM) — rule R8")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def _date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label, required=required, input_formats=DATE_FORMATS, widget=DateInput(), help_text=help_text
    )


def status_choices() -> list[tuple[str, str]]:
    wf = workflow()
    return [("", "Any status"), ("open", "Open (any)"), ("closed", "Closed (any)"), *wf.choices()]


# --- Lists ---------------------------------------------------------------------------------------------


class ReferralFilterForm(StyledFormMixin, forms.Form):
    """The referral list's filters (`selectors.ReferralFilters`)."""

    box = forms.ChoiceField(label="Show", required=False, choices=[])
    status = forms.ChoiceField(label="Status", required=False, choices=[])
    service = forms.ChoiceField(label="Community Support", required=False, choices=[])
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Referral number, member last name or CIN (exact)",
    )
    received_from = _date_field("Received from", required=False)
    received_to = _date_field("Received to", required=False)
    duplicates = forms.BooleanField(label="Possible duplicates only", required=False)

    def __init__(
        self,
        *args: object,
        boxes: Sequence[tuple[str, str]],
        services: Sequence[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["box"].choices = list(boxes)
        self.fields["status"].choices = status_choices()
        self.fields["service"].choices = [("", "Any Community Support"), *services]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "The end of the period is before its start.")
        return data

    def filters(self, default_box: str) -> ReferralFilters:
        """The valid filters (call after is_valid()); box "all" means everything in scope."""
        data = self.cleaned_data
        box = data.get("box") or default_box
        return ReferralFilters(
            box="" if box == "all" else box,
            status=data.get("status") or "",
            service=data.get("service") or "",
            channel=data.get("channel") or "",
            q=(data.get("q") or "").strip(),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            duplicates=bool(data.get("duplicates")),
        )


class IntakeFilterForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("all", "Every status"), *workflow().choices()]


class WorklistFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=100, help_text="Referral number, member last name or CIN"
    )
    service = forms.ChoiceField(label="Community Support", required=False, choices=[])

    def __init__(self, *args: object, services: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any Community Support"), *services]


# --- Actions on one referral ---------------------------------------------------------------------------


class VersionedForm(StyledFormMixin, forms.Form):
    """Optimistic locking: the version of the referral the user saw goes back with the form."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StatusForm(VersionedForm):
    """Rule R5. `status` is any text: the service refuses a step that is not allowed and names the allowed
    ones; the select offers only this user's next steps."""

    status = forms.CharField(label="New status", max_length=30)
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=300,
        help_text="Required when closing or declining; pick a suggestion or write your own.",
    )

    def __init__(self, *args: object, next_steps: Sequence[tuple[str, str]] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].widget = forms.Select(
            choices=[("", "Choose…"), *next_steps], attrs={"class": "form-select"}
        )
        self.fields["reason"].widget.attrs["list"] = "status-reasons"


class OutreachAttemptForm(StyledFormMixin, forms.Form):
    """Rules O1-O3, P3."""

    attempted_at = forms.DateTimeField(
        label="When", input_formats=DATETIME_FORMATS, widget=DateTimeInput(), help_text="Pacific time"
    )
    modality = forms.ChoiceField(label="How", choices=[("", "Choose…"), *OutreachAttempt.Modality.choices])
    outcome = forms.ChoiceField(
        label="What happened", choices=[("", "Choose…"), *OutreachAttempt.Outcome.choices]
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    telehealth_consent = forms.BooleanField(
        label="The member consented to telehealth (rule O2)", required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("attempted_at", clock.local(clock.now()).replace(second=0, microsecond=0))


class OutreachEndForm(VersionedForm):
    """Rule O4."""

    outcome = forms.ChoiceField(
        label="Outreach ended because",
        choices=[
            ("", "Choose…"),
            *[(k, v) for k, v in Referral.OutreachOutcome.choices if k != Referral.OutreachOutcome.ENGAGED],
        ],
    )
    reason = forms.CharField(label="Details", required=False, max_length=300)


class MatchMemberForm(StyledFormMixin, forms.Form):
    cin = forms.CharField(label="Medi-Cal CIN", max_length=9, help_text="9 characters, e.g. 91234567A")
    date_of_birth = _date_field("Date of birth")


RESULT_CHOICES = FirstContactCheck.Result.choices
ITEM_KINDS = {
    "all": "Required",
    "any": "One of the “any” items is enough",
    "exclusion": "Exclusion: the member is not eligible when this is met",
}


class FirstContactForm(StyledFormMixin, forms.Form):
    """Rule A1: the date of first contact, and for each item of the service's eligibility checklist (from
    the catalog) met / not met / not yet known, with a note."""

    contact_on = _date_field("Date of first contact")
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, items: Sequence[dict] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for n, item in enumerate(self.items):
            self.fields[f"result_{n}"] = forms.ChoiceField(
                label=item.get("text", f"Item {n + 1}"),
                choices=RESULT_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": "Choose met, not met or not yet known."},
            )
            self.fields[f"note_{n}"] = forms.CharField(
                label=f"Note on item {n + 1}", required=False, max_length=300
            )
            self.fields[f"note_{n}"].widget.attrs["class"] = "form-control form-control-sm"
        if not self.is_bound:
            self.initial.setdefault("contact_on", clock.today())

    def checklist_rows(self) -> list[tuple[dict, str, forms.BoundField, forms.BoundField]]:
        """(item, what its kind means, result field, note field) per checklist item."""
        return [
            (item, ITEM_KINDS.get(item.get("kind", "all"), ""), self[f"result_{n}"], self[f"note_{n}"])
            for n, item in enumerate(self.items)
        ]

    def results(self) -> list[str]:
        return [self.cleaned_data[f"result_{n}"] for n in range(len(self.items))]

    def item_notes(self) -> list[str]:
        return [self.cleaned_data.get(f"note_{n}") or "" for n in range(len(self.items))]

    def field_for(self, service_field: str) -> str | None:
        """The form field a service error names ("results.2" is the third item's result)."""
        if service_field.startswith("results."):
            name = "result_" + service_field.split(".", 1)[1]
            return name if name in self.fields else None
        return service_field if service_field in self.fields else None


class EnrollmentForm(VersionedForm):
    enrolled_on = _date_field("Enrolled on")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("enrolled_on", clock.today())


class EnrollmentEndForm(StyledFormMixin, forms.Form):
    enrollment = forms.UUIDField(widget=forms.HiddenInput)
    ended_on = _date_field("Ended on")
    end_reason = forms.CharField(label="Why it ended", max_length=300)


class DocumentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="File", help_text="PDF, TIFF, PNG or JPEG", widget=forms.ClearableFileInput(attrs={})
    )
    description = forms.CharField(label="Description", required=False, max_length=300)


class ReferOnwardForm(StyledFormMixin, forms.Form):
    """Rules R7 (to another CS provider) and R8 (to ECM, which goes to the plan)."""

    service = forms.ChoiceField(label="Refer to", choices=[])
    receiving_provider = forms.ChoiceField(
        label="Provider",
        required=False,
        choices=[],
        help_text="Leave empty to let the plan choose. Not used for ECM.",
    )
    reason = forms.CharField(label="Why", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: object,
        services: Sequence[tuple[str, str]] = (),
        providers: Sequence[tuple[str, str]] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Choose…"), *services, ECM_CHOICE]
        self.fields["receiving_provider"].choices = [("", "Let the plan choose"), *providers]


class AssignForm(VersionedForm):
    receiving_provider = forms.ChoiceField(label="Provider", choices=[])

    def __init__(self, *args: object, providers: Sequence[tuple[str, str]] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["receiving_provider"].choices = [("", "Choose…"), *providers]
