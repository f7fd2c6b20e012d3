"""Forms of the doors in (rules R1-R4). They only parse input: which fields are required together, which
provider may receive a referral, who may use a door and every other rule live in `services.referral_create`
and `services.provider_intake_update`. Field names match the service's error fields (`member_first_name`,
`receiving_provider`, ...) so its errors land beside the right field."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.catalog import selectors as catalog_selectors
from cshub.catalog.models import Service
from cshub.core.forms import StyledFormMixin
from cshub.core.reference import county_names
from cshub.core.validators import normalize_phone, validate_cin
from cshub.members.roster import language_names
from cshub.referrals import permissions, selectors
from cshub.referrals.models import SELF_REFERRER_KINDS, Channel, ContactPreference, ReferrerKind
from cshub.referrals.services import MemberDetails, ReferrerDetails

DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
HONEYPOT_FIELD = "website"

# Who refers through the portal (rule R1), and the kind a user's organization suggests.
PORTAL_REFERRER_KINDS = (
    ReferrerKind.ECM_PROVIDER,
    ReferrerKind.HOSPITAL,
    ReferrerKind.CS_PROVIDER,
    ReferrerKind.OTHER_PROVIDER,
)
REFERRER_KIND_FOR_ORGANIZATION = {
    OrganizationKind.HOSPITAL: ReferrerKind.HOSPITAL,
    OrganizationKind.ECM_PROVIDER: ReferrerKind.ECM_PROVIDER,
    OrganizationKind.CS_PROVIDER: ReferrerKind.CS_PROVIDER,
    OrganizationKind.OTHER: ReferrerKind.OTHER_PROVIDER,
}
# Anyone may send a fax or phone in a referral (rule R1: no wrong door); only the plan has its own door.
OUTSIDE_REFERRER_KINDS = tuple(k for k in ReferrerKind if k != ReferrerKind.PLAN)
SELF_KINDS_IN_ORDER = tuple(k for k in ReferrerKind if k in SELF_REFERRER_KINDS)

# What each Community Support is, in everyday words, for the public self-referral form. The catalog's own
# name and Reference Guide description are shown beside it; a service missing here shows only those.
PLAIN_LANGUAGE: dict[str, str] = {
    "housing_transition_navigation": "Help finding a place to live and applying for housing",
    "housing_deposits": "Help paying a security deposit, first month's rent or utility set-up",
    "housing_tenancy_sustaining": "Help keeping your home once you have one",
    "short_term_post_hospitalization_housing": "A place to stay and keep getting care after a hospital stay",
    "recuperative_care": "A place to rest and recover after a hospital stay when you have no home",
    "respite_services": "A short break for a family member or caregiver",
    "day_habilitation": "Learning everyday skills, like cooking or using the bus",
    "nf_transition_diversion_alf": (
        "Moving from a nursing home to assisted living, or avoiding a nursing home"
    ),
    "community_transition_nf_to_home": "Moving from a nursing home back to your own home",
    "personal_care_homemaker": "Help at home with bathing, dressing, cleaning or shopping",
    "environmental_accessibility_adaptations": "Changes to your home for safety, like ramps or grab bars",
    "medically_tailored_meals": "Healthy meals delivered to your home for your health needs",
    "sobering_centers": "A safe place to sober up instead of the emergency room or jail",
    "asthma_remediation": "Changes and supplies at home that reduce asthma triggers",
    "transitional_rent": "Help paying rent for up to six months while moving into stable housing",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def active_plans() -> QuerySet[Organization]:
    """The health plans a member may belong to (public directory data, no member data)."""
    return selectors.referral_plans()


def _required(message: str) -> dict[str, str]:
    return {"required": message}


def _phone(value: str | None) -> str:
    value = (value or "").strip()
    if value and len(normalize_phone(value)) != 10:
        raise ValidationError("Enter a 10-digit US phone number.", code="phone")
    return value


class IntakeStyleMixin(StyledFormMixin):
    """Bootstrap classes on every widget, radio buttons and checkbox lists included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                field.widget.attrs.setdefault("class", "form-check-input")


class MemberFieldsForm(IntakeStyleMixin, forms.Form):
    """What the referrer knows of the member (rule R3). Subclasses add the door's own fields."""

    member_first_name = forms.CharField(
        label="First name", max_length=100, error_messages=_required("Enter the member's first name.")
    )
    member_last_name = forms.CharField(
        label="Last name", max_length=100, error_messages=_required("Enter the member's last name.")
    )
    member_date_of_birth = forms.DateField(
        label="Date of birth",
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        error_messages={
            "required": "Enter the member's date of birth.",
            "invalid": "Enter the date as MM/DD/YYYY.",
        },
    )
    member_cin = forms.CharField(
        label="Medi-Cal CIN (if known)",
        required=False,
        max_length=20,
        help_text="8 digits and a letter, as on the Medi-Cal card (BIC), for example 91234567A.",
    )
    member_phone = forms.CharField(label="Phone", required=False, max_length=20)
    member_email = forms.EmailField(label="Email", required=False, max_length=254)
    member_address = forms.CharField(
        label="Address or where the member can be found",
        required=False,
        max_length=300,
        help_text="A street address, a shelter, or where to find the member.",
    )
    member_county = forms.ChoiceField(label="County", required=False, choices=[])
    member_language = forms.ChoiceField(label="Preferred language", choices=[], initial="en")
    member_contact_preference = forms.ChoiceField(
        label="Preferred way to be contacted",
        choices=ContactPreference.choices,
        initial=ContactPreference.PHONE,
    )

    member_help = (
        "Give at least one way to reach the member: phone, email or address."  # rule R3, shown above fields
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member_county"].choices = [("", "Choose the county"), *((c, c) for c in county_names())]
        self.fields["member_language"].choices = sorted(
            language_names().items(), key=lambda kv: kv[0] != "en"
        )

    # Format checks, so every mistake shows on the first try; the rules themselves stay in the service.
    def clean_member_cin(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("member_cin") or "").upper()
        if value:
            try:
                validate_cin(value)
            except ValidationError as exc:
                raise ValidationError(exc.messages[0], code="cin") from exc
        return value

    def clean_member_phone(self) -> str:
        return _phone(self.cleaned_data.get("member_phone"))

    def member_details(self) -> MemberDetails:
        data = self.cleaned_data
        return MemberDetails(
            first_name=data["member_first_name"],
            last_name=data["member_last_name"],
            date_of_birth=data["member_date_of_birth"],
            cin=data["member_cin"],
            phone=data["member_phone"],
            email=data["member_email"],
            address=data["member_address"],
            county=data["member_county"],
            language=data["member_language"],
            contact_preference=data["member_contact_preference"],
        )

    @property
    def member_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("member_")]


class ServicePlanMixin(forms.Form):
    """The member's plan and the Community Support asked for."""

    plan = forms.ModelChoiceField(
        label="The member's health plan",
        queryset=Organization.objects.none(),
        to_field_name="uuid",
        empty_label="Choose the health plan",
        error_messages={
            "required": "Choose the member's health plan.",
            "invalid_choice": "Choose one of the health plans listed.",
        },
    )
    service = forms.ModelChoiceField(
        label="Community Support",
        queryset=Service.objects.none(),
        to_field_name="key",
        empty_label="Choose the Community Support",
        error_messages={
            "required": "Choose a Community Support.",
            "invalid_choice": "Choose one of the Community Supports listed.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = active_plans()
        self.fields["plan"].queryset = plans
        self.fields["service"].queryset = catalog_selectors.service_list()
        if len(plans) == 1 and not self.is_bound:
            self.fields["plan"].initial = plans[0].uuid


class DestinationMixin(forms.Form):
    """The receiving provider, picked from the directory (`selectors.referral_destinations`), or none: the
    plan assigns one. The list itself is drawn by the template; this field only reads the choice. Whether
    the provider takes this service in this county and accepts new referrals is the service's rule."""

    receiving_provider = forms.CharField(label="Provider", required=False, max_length=40)

    def clean_receiving_provider(self) -> Organization | None:
        value = (self.cleaned_data.get("receiving_provider") or "").strip()
        if not value:
            return None
        try:
            uuid = UUID(value)
        except ValueError as exc:
            raise forms.ValidationError("Choose a provider from the list.", code="choice") from exc
        provider = Organization.objects.filter(
            uuid=uuid,
            is_active=True,
            kind__in=permissions.INTAKE_ORGANIZATION_KINDS,
        ).first()
        if provider is None:
            raise forms.ValidationError("Choose a provider from the list.", code="choice")
        return provider


class PortalReferralForm(DestinationMixin, ServicePlanMixin, MemberFieldsForm):
    """Referrer portal (rules R1, R3): staff of ECM providers, hospitals, other entities, CS providers."""

    eligibility_information = forms.CharField(
        label="What you know that bears on eligibility",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: discharge date, housing situation, diagnoses, recent hospital or emergency "
        "visits, who else is helping the member.",
    )
    reason = forms.CharField(
        label="Why you are referring the member",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    referrer_kind = forms.ChoiceField(
        label="You are referring as",
        choices=[(k.value, k.label) for k in PORTAL_REFERRER_KINDS],
        error_messages=_required("Choose who is referring."),
    )

    def referrer_details(self, user: Any) -> ReferrerDetails:
        return ReferrerDetails(
            kind=self.cleaned_data["referrer_kind"],
            name=getattr(user, "full_name", "") or user.email,
            phone=getattr(user, "phone", ""),
            email=user.email,
        )


class SelfReferralForm(DestinationMixin, ServicePlanMixin, MemberFieldsForm):
    """The public form (rules R1, R4): the member, or their family, guardian or caregiver."""

    referrer_kind = forms.ChoiceField(
        label="Who is filling in this form?",
        choices=[(k.value, k.label) for k in SELF_KINDS_IN_ORDER],
        widget=forms.RadioSelect,
        initial=ReferrerKind.MEMBER,
        error_messages=_required("Tell us who is filling in this form."),
    )
    referrer_name = forms.CharField(
        label="Your name", required=False, max_length=200, help_text="Not needed if you are the member."
    )
    referrer_relationship = forms.CharField(
        label="Your relationship to the member",
        required=False,
        max_length=100,
        help_text="For example: daughter, legal guardian, neighbor who helps every day.",
    )
    referrer_phone = forms.CharField(label="Your phone", required=False, max_length=20)
    referrer_email = forms.EmailField(
        label="Your email",
        required=False,
        max_length=254,
        help_text="We email you the referral number and each change of status, with no health details.",
    )
    reason = forms.CharField(
        label="What help is needed?",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    eligibility_information = forms.CharField(
        label="Anything else that would help (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: recently left the hospital, has no stable place to stay, has a health "
        "condition that needs a special diet.",
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the provider and the health plan may contact the member about this request, "
        "as described above.",
        required=True,
        error_messages=_required(
            "Tick the box to agree that the provider and the plan may contact the member."
        ),
    )
    # Spam resistance (no third-party service): people never see this field; simple bots fill it in.
    website = forms.CharField(label="Leave this field empty", required=False, max_length=200)

    member_labels = {
        "member_first_name": "First name of the person who needs help",
        "member_last_name": "Last name of the person who needs help",
        "member_date_of_birth": "Their date of birth",
        "member_address": "Their address, or where they can be found",
        "member_contact_preference": "How they prefer to be contacted",
        "member_language": "The language they prefer",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in self.member_labels.items():
            self.fields[name].label = label
        self.fields["service"].label = "What kind of help is needed?"
        self.fields[HONEYPOT_FIELD].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off", "class": "form-control"}
        )

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def clean_referrer_phone(self) -> str:
        return _phone(self.cleaned_data.get("referrer_phone"))

    def referrer_details(self) -> ReferrerDetails:
        data = self.cleaned_data
        return ReferrerDetails(
            kind=data["referrer_kind"],
            name=data["referrer_name"],
            phone=data["referrer_phone"],
            email=data["referrer_email"],
            relationship=data["referrer_relationship"],
        )

    @property
    def service_choices(self) -> list[dict[str, Any]]:
        """The services for the radio list: key, catalog name, everyday words, description."""
        chosen = self["service"].value()
        return [
            {
                "key": s.key,
                "name": s.name,
                "plain": PLAIN_LANGUAGE.get(s.key, ""),
                "description": s.description,
                "checked": chosen == s.key,
            }
            for s in self.fields["service"].queryset
        ]


class OutsideReferrerMixin(forms.Form):
    """Who sent a fax or called or wrote (rule R2): a person outside the platform."""

    referrer_kind = forms.ChoiceField(
        label="They are",
        choices=[(k.value, k.label) for k in OUTSIDE_REFERRER_KINDS],
        initial=ReferrerKind.OTHER_PROVIDER,
        error_messages=_required("Choose who made the referral."),
    )
    referrer_name = forms.CharField(
        label="Who made the referral",
        max_length=200,
        help_text="The person or office, for example “Dr. Patel's office, Mercy clinic”.",
        error_messages=_required("Enter who made the referral."),
    )
    referrer_relationship = forms.CharField(
        label="Their relationship to the member", required=False, max_length=100
    )
    referrer_phone = forms.CharField(label="Their phone or fax number", required=False, max_length=20)
    referrer_email = forms.EmailField(label="Their email", required=False, max_length=254)

    def clean_referrer_phone(self) -> str:
        return _phone(self.cleaned_data.get("referrer_phone"))

    def referrer_details(self) -> ReferrerDetails:
        data = self.cleaned_data
        return ReferrerDetails(
            kind=data["referrer_kind"],
            name=data["referrer_name"],
            phone=data["referrer_phone"],
            email=data["referrer_email"],
            relationship=data["referrer_relationship"],
        )


class FaxIntakeForm(OutsideReferrerMixin, ServicePlanMixin, MemberFieldsForm):
    """A referral received by fax, entered beside the fax image (rule R2); the image is kept."""

    fax_document = forms.FileField(
        label="The fax (PDF or TIFF)",
        help_text="The image is kept with the referral.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.tif,.tiff,application/pdf,image/tiff"}),
        error_messages=_required("Choose the fax file (PDF or TIFF)."),
    )
    eligibility_information = forms.CharField(
        label="Eligibility information on the fax",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reason = forms.CharField(
        label="Reason for the referral",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ContactLogForm(OutsideReferrerMixin, ServicePlanMixin, MemberFieldsForm):
    """A referral received by phone or email, logged so it is tracked like any other (rule R2)."""

    channel = forms.ChoiceField(
        label="How the referral came in",
        choices=[(Channel.PHONE.value, "Phone call"), (Channel.EMAIL.value, "Email")],
        widget=forms.RadioSelect,
        initial=Channel.PHONE,
        error_messages=_required("Choose phone or email."),
    )
    reason = forms.CharField(
        label="What was asked for", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    eligibility_information = forms.CharField(
        label="Notes from the call or email",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the caller or writer said about the member's situation and eligibility.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referrer_name"].label = "Who called or wrote"
        self.fields["referrer_phone"].label = "Their phone number"


class MemberLookupForm(IntakeStyleMixin, forms.Form):
    """Plan assignment, step 1: find the member by CIN or plan member ID."""

    member_id = forms.CharField(
        label="Member ID",
        max_length=30,
        help_text="Medi-Cal CIN or the plan's member ID.",
        error_messages=_required("Enter the member's CIN or plan member ID."),
    )


class PlanAssignForm(DestinationMixin, IntakeStyleMixin, forms.Form):
    """Plan assignment, step 2: the member found, the service and the provider to do the outreach."""

    member = forms.UUIDField(
        widget=forms.HiddenInput, error_messages=_required("Find and choose the member first.")
    )
    member_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=30)
    member_county = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    service = forms.ModelChoiceField(
        label="Community Support",
        queryset=Service.objects.none(),
        to_field_name="key",
        empty_label="Choose the Community Support",
        error_messages={
            "required": "Choose a Community Support.",
            "invalid_choice": "Choose one of the Community Supports listed.",
        },
    )
    reason = forms.CharField(
        label="Why the member is assigned for outreach",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = catalog_selectors.service_list()


class ProviderIntakeForm(IntakeStyleMixin, forms.Form):
    """The provider's routing data: which services and counties it takes referrals for, and whether it
    accepts new ones now."""

    accepting = forms.BooleanField(
        label="Accepting new referrals",
        required=False,
        help_text="Untick when you are full: referrers then cannot pick you; the plan can still assign "
        "members to you.",
    )
    services = forms.MultipleChoiceField(
        label="Community Supports you take referrals for",
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )
    counties = forms.MultipleChoiceField(
        label="Counties you serve",
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to take referrals from every county.",
    )
    intake_phone = forms.CharField(label="Intake phone", required=False, max_length=20)
    intake_fax = forms.CharField(label="Intake fax", required=False, max_length=20)
    intake_email = forms.EmailField(label="Intake email", required=False, max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(s.key, s.name) for s in catalog_selectors.service_list()]
        self.fields["counties"].choices = [(c, c) for c in county_names()]
