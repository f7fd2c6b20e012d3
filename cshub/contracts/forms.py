"""Forms of the contract and training pages: they parse input; the services decide (no rules here)."""

from __future__ import annotations

from django import forms

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.catalog.models import Service
from cshub.contracts.models import ContractStatus
from cshub.contracts.trainings import training_catalog
from cshub.core.forms import StyledFormMixin
from cshub.core.models import County

DATE = forms.DateInput(attrs={"type": "date"})


class ContractFilterForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any state"), *ContractStatus.choices])
    provider = forms.ModelChoiceField(
        required=False,
        queryset=Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER),
        to_field_name="uuid",
        empty_label="Any provider",
    )
    service = forms.ModelChoiceField(
        required=False, queryset=Service.objects.all(), to_field_name="key", empty_label="Any service"
    )
    county = forms.ModelChoiceField(
        required=False, queryset=County.objects.all(), to_field_name="name", empty_label="Any county"
    )
    q = forms.CharField(required=False, label="Number or provider name", max_length=100)


class ContractForm(StyledFormMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label="CS provider",
        queryset=Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER, is_active=True),
        to_field_name="uuid",
    )
    start_date = forms.DateField(label="Agreed start date", widget=DATE)
    end_date = forms.DateField(label="End date (optional)", required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class VersionForm(StyledFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class DatesForm(VersionForm):
    start_date = forms.DateField(label="Agreed start date", widget=DATE)
    end_date = forms.DateField(label="End date (optional)", required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RowsForm(VersionForm):
    """The services x counties editor: every chosen service in every chosen county."""

    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.filter(active=True), widget=forms.CheckboxSelectMultiple, required=False
    )
    counties = forms.ModelMultipleChoiceField(
        queryset=County.objects.all(), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )


class FeeForm(VersionForm):
    code = forms.ChoiceField(label="HCPCS code and modifier")
    unit = forms.CharField(required=False, max_length=40, help_text="empty: the catalog's billing unit")
    rate = forms.CharField(label="Rate ($)", max_length=20)
    effective_from = forms.DateField(widget=DATE)
    effective_to = forms.DateField(required=False, widget=DATE, label="Effective to (optional)")

    def __init__(self, *args: object, codes: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = codes or []


class TerminateForm(VersionForm):
    terminated_on = forms.DateField(label="Last day in force", widget=DATE)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class AmendForm(VersionForm):
    start_date = forms.DateField(label="Amendment starts", required=False, widget=DATE)


def _course_choices(kind: str | None = None) -> list[tuple[str, str]]:
    return [(c.key, c.title) for c in training_catalog().courses if kind is None or c.kind == kind]


class CompletionForm(StyledFormMixin, forms.Form):
    person = forms.ModelChoiceField(queryset=Organization.objects.none(), to_field_name="uuid")
    course = forms.ChoiceField()
    completed_on = forms.DateField(widget=DATE)
    evidence = forms.FileField(required=False, help_text="certificate or sign-in sheet (optional)")
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: object, people: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = _course_choices()
        if people is not None:
            self.fields["person"].queryset = people


class AttestationForm(StyledFormMixin, forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Organization.objects.filter(kind=OrganizationKind.PLAN), to_field_name="uuid"
    )
    courses = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    statement = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="empty: the standard statement"
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["courses"].choices = _course_choices("onboarding")
