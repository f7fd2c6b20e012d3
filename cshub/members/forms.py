"""Forms only parse input; the rules live in selectors (search) and services (roster import)."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from cshub.core.forms import StyledFormMixin
from cshub.core.reference import county_names

DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
ROSTER_EXTENSIONS = {".csv", ".txt"}
# What browsers send for a .csv file (Windows sends the Excel type; some send octet-stream).
ROSTER_CONTENT_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "text/comma-separated-values",
    "application/vnd.ms-excel",
    "application/octet-stream",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class MemberSearchForm(StyledFormMixin, forms.Form):
    member_id = forms.CharField(
        label="Member ID", required=False, max_length=30, help_text="Medi-Cal CIN or plan member ID"
    )
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    first_name = forms.CharField(label="First name", required=False, max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )
    county = forms.ChoiceField(label="County", required=False, choices=[])
    eligible_on = forms.DateField(
        label="Eligible on", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", "All counties"), *((c, c) for c in county_names())]


class RosterUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Roster file (CSV, UTF-8)",
        help_text="The columns are described in the roster guide below.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.CSHUB_MAX_UPLOAD_BYTES
        if Path(upload.name or "").suffix.lower() not in ROSTER_EXTENSIONS:
            raise forms.ValidationError("Upload a .csv file.", code="file_type")
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        if content_type and content_type not in ROSTER_CONTENT_TYPES:
            raise forms.ValidationError(f"A {content_type} file is not a CSV file.", code="file_type")
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"The file is larger than {limit // (1024 * 1024)} MB; use `cshub members import` for "
                "larger rosters.",
                code="file_size",
            )
        return upload


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# The forms parse; the services check every rule (dates, codes, answers, file types) and their field errors
# are put beside these fields (`apply_domain_errors`). Uploaded documents go to the service as they are.

DOCUMENT_ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,application/pdf,image/png,image/jpeg,image/tiff"
DOCUMENT_HELP = "PDF, PNG, JPEG or TIFF, at most {mb} MB."


def _document_field(label: str, required: bool = False) -> forms.FileField:
    from cshub.core.uploads import max_upload_bytes

    return forms.FileField(
        label=label,
        required=required,
        help_text=DOCUMENT_HELP.format(mb=max_upload_bytes() // (1024 * 1024)),
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT, "class": "form-control"}),
    )


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _service_choices(services: list[tuple[str, str]], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *services]


class ConsentForm(StyledFormMixin, forms.Form):
    scopes = forms.MultipleChoiceField(
        label="What the member agreed to share",
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    scope_detail = forms.CharField(label="Details of what may be shared", required=False, widget=_textarea(2))
    recipients = forms.CharField(
        label="Who may receive it",
        required=False,
        widget=_textarea(3),
        help_text="One person or organization per line.",
    )
    signed_on = forms.DateField(
        label="Date signed", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        help_text="Leave blank when the consent has no end date.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from cshub.members.models import Consent

        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = Consent.Scope.choices
        self.fields["document"] = _document_field("Signed consent")


class ConsentRevokeForm(StyledFormMixin, forms.Form):
    revoked_on = forms.DateField(
        label="Revoked on",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        help_text="Blank: today.",
    )
    reason = forms.CharField(label="Reason", required=False, widget=_textarea(2))


class SdohNeedForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label="ICD-10-CM Z code",
        required=False,
        max_length=10,
    )
    identified_on = forms.DateField(
        label="Date identified", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )
    note = forms.CharField(label="Note", required=False, widget=_textarea(2))

    def __init__(self, *args: object, **kwargs: object) -> None:
        from cshub.members.sdoh import sdoh_ranges

        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            f"A billable code of {sdoh_ranges().label}, for example Z59.01 (sheltered homelessness). "
            "Type a code or a word to look it up."
        )


class SdohResolveForm(StyledFormMixin, forms.Form):
    resolved_on = forms.DateField(
        label="Resolved on",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        help_text="Blank: today.",
    )
    note = forms.CharField(label="How it was resolved", required=False, widget=_textarea(2))


class GoalForm(StyledFormMixin, forms.Form):
    description = forms.CharField(label="Goal", required=False, widget=_textarea(2))
    service = forms.ChoiceField(label="Community Support", required=False, choices=[])
    target_date = forms.DateField(
        label="Target date", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )
    status = forms.ChoiceField(label="Status now", required=False, choices=[])
    note = forms.CharField(label="Note", required=False, widget=_textarea(2))

    def __init__(self, *args: object, services: list[tuple[str, str]] = (), **kwargs: object) -> None:
        from cshub.members.models import GoalProgress

        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _service_choices(list(services), "Not tied to a service")
        self.fields["status"].choices = GoalProgress.Status.choices
        self.fields["status"].initial = GoalProgress.Status.NOT_STARTED


class GoalProgressForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[])
    recorded_on = forms.DateField(
        label="As of",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        help_text="Blank: today.",
    )
    note = forms.CharField(label="Note", required=False, widget=_textarea(2))

    def __init__(self, *args: object, **kwargs: object) -> None:
        from cshub.members.models import GoalProgress

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Choose…"), *GoalProgress.Status.choices]


class MemberNoteForm(StyledFormMixin, forms.Form):
    text = forms.CharField(label="Note", required=False, widget=_textarea(4))


class ExternalInformationForm(StyledFormMixin, forms.Form):
    source_name = forms.CharField(label="Received from", required=False, max_length=200)
    source_kind = forms.ChoiceField(label="Kind of source", required=False, choices=[])
    received_on = forms.DateField(
        label="Date received", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )
    summary = forms.CharField(label="Summary", required=False, widget=_textarea(4))

    def __init__(self, *args: object, **kwargs: object) -> None:
        from cshub.members.models import ExternalInformation

        super().__init__(*args, **kwargs)
        self.fields["source_kind"].choices = [("", "Choose…"), *ExternalInformation.SourceKind.choices]
        self.fields["document"] = _document_field("Document received (optional)")


ANSWER_PREFIX = "answer_"


class AssessmentForm(StyledFormMixin, forms.Form):
    """The service, the date and one field per question of the service's template (`answer_<key>`). Every
    question is optional here: the service reports a missing required answer beside its field."""

    service = forms.ChoiceField(label="Community Support", required=False, choices=[])
    assessed_on = forms.DateField(
        label="Date assessed", required=False, input_formats=DATE_FORMATS, widget=DateInput()
    )

    def __init__(
        self, *args: object, template: object, services: list[tuple[str, str]] = (), **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        self.fields["service"].choices = _service_choices(list(services), "General assessment (no service)")
        for q in template.questions:
            self.fields[ANSWER_PREFIX + q.key] = _question_field(q)
        for field in self.fields.values():  # styling for the fields added after the mixin ran
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(ANSWER_PREFIX)]

    def answers(self) -> dict[str, object]:
        """The answers keyed by question, blanks left out (the service decides what is required)."""
        data = self.cleaned_data
        found: dict[str, object] = {}
        for q in self.template.questions:
            value = data.get(ANSWER_PREFIX + q.key)
            if value not in (None, "", []):
                found[q.key] = str(value) if q.type == "number" else value
        return found


def _question_field(q: object) -> forms.Field:
    label = f"{q.label}{' (required)' if q.required else ''}"
    common = {"label": label, "required": False, "help_text": q.help}
    if q.type == "text":
        field: forms.Field = forms.CharField(max_length=500, **common)
    elif q.type == "long_text":
        field = forms.CharField(widget=_textarea(3), **common)
    elif q.type == "yes_no":
        field = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect, **common)
    elif q.type == "choice":
        field = forms.ChoiceField(choices=list(q.choices), widget=forms.RadioSelect, **common)
    elif q.type == "multi_choice":
        field = forms.MultipleChoiceField(
            choices=list(q.choices), widget=forms.CheckboxSelectMultiple, **common
        )
    elif q.type == "number":
        field = forms.DecimalField(min_value=q.min, max_value=q.max, **common)
    else:
        field = forms.DateField(input_formats=DATE_FORMATS, widget=DateInput(), **common)
    if q.required:
        field.widget.attrs["aria-required"] = "true"
    return field


class TimelineFilterForm(StyledFormMixin, forms.Form):
    kind = forms.MultipleChoiceField(
        label="Show", required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: object, kinds: list[tuple[str, str]] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)
