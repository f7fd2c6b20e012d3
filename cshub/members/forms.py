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
