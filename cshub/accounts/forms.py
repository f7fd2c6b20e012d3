"""Forms only parse input for the services; the rules live in services.py."""

from __future__ import annotations

from django import forms

from cshub.accounts.models import OrganizationContact
from cshub.accounts.roles import OrganizationKind, Role
from cshub.core.forms import StyledFormMixin
from cshub.core.reference import county_names


class OrganizationForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=OrganizationKind.choices)
    name = forms.CharField(max_length=200)
    npi = forms.CharField(label="NPI", max_length=10, required=False, help_text="10 digits (type 2 NPI)")
    tin = forms.CharField(label="TIN", max_length=11, required=False, help_text="9 digits, e.g. 12-3456789")
    plan_code = forms.CharField(label="DHCS plan code", max_length=10, required=False)
    address_line = forms.CharField(label="Street address", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    zip_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    phone = forms.CharField(max_length=20, required=False)
    email = forms.EmailField(required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    counties = forms.MultipleChoiceField(
        label="Counties served", required=False, choices=[], widget=forms.SelectMultiple(attrs={"size": 8})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counties"].choices = [(c, c) for c in county_names()]


class ContactForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=OrganizationContact.Kind.choices)
    name = forms.CharField(max_length=200)
    title = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=20, required=False)


class UserInviteForm(StyledFormMixin, forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(label="Full name", max_length=200)
    title = forms.CharField(max_length=200, required=False)
    roles = forms.MultipleChoiceField(choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: object, allowed_roles: frozenset[str] = frozenset(), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r.value, r.label) for r in Role if r.value in allowed_roles]


class ApiKeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="System name", max_length=100, help_text="what will use the key, e.g. 'EHR nightly sync'"
    )
    roles = forms.MultipleChoiceField(choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: object, allowed_roles: frozenset[str] = frozenset(), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r.value, r.label) for r in Role if r.value in allowed_roles]
