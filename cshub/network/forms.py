"""Page forms of the network path: they parse input only; services check the rules (STYLE 2)."""

from __future__ import annotations

from typing import Any

from django import forms

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.catalog.models import Service
from cshub.core.errors import DomainError
from cshub.core.forms import StyledFormMixin
from cshub.core.reference import county_names
from cshub.network.models import Application, Decision, InterestForm, SectionFinding

HONEYPOT_FIELD = "nickname"  # people never see it; bots fill it (the form also has a real "website")


def _county_choices() -> list[tuple[str, str]]:
    return [(n, n) for n in county_names()]


def _service_choices() -> list[tuple[str, str]]:
    return list(Service.objects.order_by("sort_order", "name").values_list("key", "name"))


def _plans() -> Any:
    return Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True).order_by("name")


def apply_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's field errors beside the fields (the rest at the top of the form)."""
    for err in exc.errors:
        name = err.field.split(".")[0]
        if name in form.fields:
            form.add_error(name, err.message)
        else:
            form.add_error(None, f"{err.field}: {err.message}")
    if not exc.errors:
        form.add_error(None, exc.message)


class InterestFormForm(StyledFormMixin, forms.Form):
    """Rule N1: the public Provider Interest Form."""

    plan = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Health plan", empty_label=None)
    organization_name = forms.CharField(max_length=200, label="Organization name")
    npi = forms.CharField(max_length=10, required=False, label="Organization NPI (Type 2)")
    tin = forms.CharField(max_length=11, required=False, label="Tax ID number (TIN)")
    address_line = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)
    zip_code = forms.CharField(max_length=10, label="ZIP code")
    website = forms.CharField(max_length=200, required=False, label="Website")
    contact_name = forms.CharField(max_length=200, label="Contact name")
    contact_title = forms.CharField(max_length=200, required=False, label="Contact title")
    contact_email = forms.CharField(max_length=254, label="Contact email")
    contact_phone = forms.CharField(max_length=20, label="Contact phone")
    counties = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, label="Counties you want to serve"
    )
    services = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, label="Community Supports you want to provide"
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Anything else")
    nickname = forms.CharField(required=False, label="Leave this empty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans()
        self.fields["counties"].choices = _county_choices()
        self.fields["services"].choices = _service_choices()
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs.setdefault("class", "form-select" if name == "plan" else "form-control")

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())


class InterestFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(choices=[("", "Any"), *list(InterestForm.Status.choices)], required=False)
    county = forms.ChoiceField(choices=(), required=False)
    service = forms.ChoiceField(choices=(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", "Any"), *_county_choices()]
        self.fields["service"].choices = [("", "Any"), *_service_choices()]


class ApplicationFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(choices=[("", "Any"), *list(Application.Status.choices)], required=False)
    kind = forms.ChoiceField(choices=[("", "Any"), *list(Application.Kind.choices)], required=False)
    program = forms.ChoiceField(choices=[("", "Any"), *list(Application.Program.choices)], required=False)


class InviteForm(StyledFormMixin, forms.Form):
    """Rule N2: invite the organization of an interest form (new, or link an existing one)."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Link an existing organization (leave empty to create it from the form)",
    )
    email = forms.EmailField(required=False, label="Invite this person (default: the form's contact)")
    full_name = forms.CharField(max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.filter(
            kind__in=[OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER]
        ).order_by("name")


class ScopeForm(StyledFormMixin, forms.Form):
    services = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple, required=False)
    counties = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = _service_choices()
        self.fields["counties"].choices = _county_choices()


class ParticipationRequestForm(StyledFormMixin, forms.Form):
    """Rule N5: an existing organization asks to contract for CS or ECM."""

    plan = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label=None)
    program = forms.ChoiceField(choices=Application.Program.choices)
    services = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple, required=False)
    counties = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="What you ask for")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = _plans()
        self.fields["services"].choices = _service_choices()
        self.fields["counties"].choices = _county_choices()


class FindingForm(StyledFormMixin, forms.Form):
    section = forms.CharField(max_length=100)
    rating = forms.ChoiceField(choices=SectionFinding.Rating.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DecisionForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(choices=Decision.Outcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    items = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Gap closure items",
        help_text="One item a line: what to close | owner | due date (YYYY-MM-DD) | section (optional)",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def gap_items(self) -> list[dict[str, str]]:
        out = []
        for line in (self.cleaned_data.get("items") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")] + ["", "", ""]
            out.append({"text": parts[0], "owner": parts[1], "due_date": parts[2], "section": parts[3]})
        return out


class GapResponseForm(StyledFormMixin, forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    files = forms.FileField(required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class GapReviewForm(StyledFormMixin, forms.Form):
    accept = forms.ChoiceField(choices=[("1", "Accept"), ("0", "Return")], widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AttachmentForm(StyledFormMixin, forms.Form):
    section = forms.CharField(max_length=100)
    file = forms.FileField(required=False)
    description = forms.CharField(max_length=300, required=False)
