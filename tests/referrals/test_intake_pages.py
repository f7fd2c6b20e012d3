"""The doors in, through the real pages (rules R1-R4): referrer portal, public self-referral form, fax
and phone/email intake, plan assignment for outreach, the provider list (htmx partial) and the provider's
intake settings. Each form: the happy path, bad input shown beside the field with nothing written, and who
may not open it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cshub.accounts.roles import OrganizationKind, Role
from cshub.catalog.models import Service
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.core.models import AuditEvent, County
from cshub.referrals import services
from cshub.referrals.intake_views import self_referral_rate
from cshub.referrals.models import ProviderIntake, Referral, ReferralDocument
from tests.factories import OrganizationFactory, UserFactory
from tests.referrals.factories import make_referral

pytestmark = pytest.mark.django_db

FAX_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUSING = "housing_transition_navigation"
MEALS = "medically_tailored_meals"


@pytest.fixture(autouse=True)
def empty_cache():
    """The self-referral rate limit counts in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def member_fields(**overrides: str) -> dict[str, str]:
    data = {
        "member_first_name": "Rosa",
        "member_last_name": "Delgado",
        "member_date_of_birth": "1975-03-09",
        "member_cin": "",
        "member_phone": "(916) 555-0101",
        "member_email": "",
        "member_address": "",
        "member_county": "Sacramento",
        "member_language": "es",
        "member_contact_preference": "phone",
    }
    data.update(overrides)
    return data


def portal_data(rw, **overrides: str) -> dict[str, str]:
    data = {
        **member_fields(),
        "plan": str(rw.plan.uuid),
        "service": HOUSING,
        "receiving_provider": str(rw.provider_a.uuid),
        "eligibility_information": "Discharged Friday; no stable housing.",
        "reason": "Needs help finding housing.",
        "referrer_kind": "hospital",
    }
    data.update(overrides)
    return data


def self_referral_data(rw, **overrides: str) -> dict[str, str]:
    data = {
        **member_fields(),
        "referrer_kind": "family",
        "referrer_name": "Luis Delgado",
        "referrer_relationship": "son",
        "referrer_phone": "",
        "referrer_email": "luis@example.org",
        "plan": str(rw.plan.uuid),
        "service": MEALS,
        "receiving_provider": "",
        "reason": "My mother came home from hospital and needs meals.",
        "eligibility_information": "",
        "consent_to_contact": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def outside_referrer(**overrides: str) -> dict[str, str]:
    data = {
        "referrer_name": "Dr. Patel's office",
        "referrer_kind": "other_provider",
        "referrer_relationship": "",
        "referrer_phone": "916 555 0199",
        "referrer_email": "",
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- 1. Referrer portal ----------------------------------------------------------------------------------


def test_r1_portal_referral_from_a_hospital_goes_to_the_chosen_provider(client, rw):
    client.force_login(rw.dana)
    page = client.get(reverse("referrals:new"))
    assert page.status_code == 200
    assert page.context["form"]["referrer_kind"].value() == "hospital"  # from the organization's kind
    assert "Let the plan assign a provider" in page.content.decode()

    response = client.post(reverse("referrals:new"), portal_data(rw))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.uuid])
    assert referral.channel == "portal"
    assert referral.receiving_provider == rw.provider_a
    assert referral.referring_organization == rw.hospital
    assert referral.referrer_name == rw.dana.full_name
    assert referral.member_phone == "9165550101"
    assert referral.eligibility_information == "Discharged Friday; no stable housing."  # rule R3
    assert messages_of(response) == [f"Referral {referral.number} sent to {rw.provider_a.name}."]


def test_r1_portal_referral_can_leave_the_provider_to_the_plan(client, rw):
    client.force_login(rw.erin)  # ECM provider staff
    assert client.get(reverse("referrals:new")).context["form"]["referrer_kind"].value() == "ecm_provider"
    response = client.post(
        reverse("referrals:new"), portal_data(rw, receiving_provider="", referrer_kind="ecm_provider")
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert referral.receiving_provider is None
    assert referral.referrer_kind == "ecm_provider"
    assert "the plan, which will assign a provider" in messages_of(response)[0]


def test_portal_says_when_the_referral_may_duplicate_an_open_one(client, rw):
    first = make_referral(rw)  # dana's earlier referral of member_a for housing navigation
    client.force_login(rw.dana)
    data = portal_data(
        rw,
        member_first_name=rw.member_a.first_name,
        member_last_name=rw.member_a.last_name,
        member_date_of_birth=rw.member_a.date_of_birth.isoformat(),
        member_cin=rw.member_a.cin,
    )
    response = client.post(reverse("referrals:new"), data)
    second = Referral.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    [message] = messages_of(response)
    assert second.number in message
    assert f"Possible duplicate: the member already has an open referral ({first.number})" in message


def test_r3_portal_bad_input_is_shown_beside_each_field_and_nothing_is_written(client, rw):
    client.force_login(rw.dana)
    response = client.post(
        reverse("referrals:new"),
        portal_data(rw, member_first_name="", member_date_of_birth="31/31/1975", service=""),
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["member_first_name"] == ["Enter the member's first name."]
    assert errors["member_date_of_birth"] == ["Enter the date as MM/DD/YYYY."]
    assert errors["service"] == ["Choose a Community Support."]
    html = response.content.decode()
    assert 'id="id_member_first_name_error"' in html
    assert 'value="Delgado"' in html  # what was typed is kept
    assert Referral.objects.count() == 0

    # Formats are checked with the rest: a CIN in the wrong shape, a short phone number.
    response = client.post(reverse("referrals:new"), portal_data(rw, member_cin="123", member_phone="555-01"))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "8 digits followed by a letter" in errors["member_cin"][0]
    assert errors["member_phone"] == ["Enter a 10-digit US phone number."]
    # The service's rule: some way to reach the member (rule R3).
    response = client.post(reverse("referrals:new"), portal_data(rw, member_phone="", member_address=""))
    assert response.status_code == 422
    assert "at least one way to reach the member" in response.context["form"].errors["member_phone"][0]
    assert Referral.objects.count() == 0


def test_portal_routing_refusal_is_shown_at_the_provider_list(client, rw):
    client.force_login(rw.dana)
    response = client.post(
        reverse("referrals:new"), portal_data(rw, receiving_provider=str(rw.provider_b.uuid))
    )
    assert response.status_code == 422
    assert "does not offer Housing Transition Navigation" in response.context["destination_errors"][0]
    assert 'id="id_receiving_provider_error"' in response.content.decode()
    assert Referral.objects.count() == 0
    response = client.post(reverse("referrals:new"), portal_data(rw, receiving_provider="not-a-uuid"))
    assert response.context["form"].errors["receiving_provider"] == ["Choose a provider from the list."]
    assert Referral.objects.count() == 0


def test_portal_is_for_referrers_only(client, rw):
    url = reverse("referrals:new")
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    for user in (
        rw.plan_users[Role.NETWORK],
        rw.um,
        UserFactory(organization=rw.provider_a, roles=[Role.PROVIDER_BILLING]),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, portal_data(rw)).status_code == 403
    assert Referral.objects.count() == 0


def test_r1_charlie_at_another_cs_provider_may_refer_but_never_sees_dana_s_referral(client, rw):
    client.force_login(rw.dana)
    client.post(reverse("referrals:new"), portal_data(rw))
    danas = Referral.objects.get()
    client.force_login(rw.charlie)
    assert client.get(reverse("referrals:new")).status_code == 200  # rule R7: CS providers refer too
    assert client.get(reverse("referrals:detail", args=[danas.uuid])).status_code == 404


def test_portal_without_javascript_updates_the_provider_list_without_saving(client, rw):
    client.force_login(rw.dana)
    data = portal_data(rw, service=MEALS, member_first_name="", receiving_provider="")
    response = client.post(reverse("referrals:new"), {**data, "refresh_destinations": "1"})
    assert response.status_code == 200
    assert not response.context["form"].is_bound  # no errors shown for the half-filled form
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name, rw.provider_b.name]
    assert 'value="Delgado"' in response.content.decode()
    assert Referral.objects.count() == 0


# --- The provider list partial --------------------------------------------------------------------------


@pytest.fixture
def provider_c(rw):
    """A third provider: meals in Yolo County only."""
    org = OrganizationFactory(name="Provider C Yolo Meals", city="Woodland")
    intake = ProviderIntake.objects.create(organization=org, accepting=True, intake_phone="5305550100")
    intake.services.set(Service.objects.filter(key=MEALS))
    intake.counties.set(County.objects.filter(name="Yolo"))
    return org


def test_destinations_partial_lists_only_accepting_providers_for_the_service_and_county(
    client, rw, provider_c, django_assert_max_num_queries
):
    rw.intake_b.accepting = False
    rw.intake_b.save()
    url = reverse("referrals:destinations")
    with django_assert_max_num_queries(3):
        response = client.get(url, {"service": MEALS, "member_county": "Sacramento"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name]
    assert "base.html" not in [t.name for t in response.templates]  # a fragment for htmx to swap in
    response = client.get(url, {"service": MEALS, "member_county": "Yolo"}, HTTP_HX_REQUEST="true")
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name, provider_c.name]
    assert "Intake phone 5305550100" in response.content.decode()
    response = client.get(url, {"service": HOUSING, "member_county": "Yolo"}, HTTP_HX_REQUEST="true")
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name]
    response = client.get(url, {"service": "", "member_county": "Yolo"}, HTTP_HX_REQUEST="true")
    assert response.context["destinations"] == []
    assert "Choose the Community Support" in response.content.decode()


def test_destinations_partial_shows_the_plan_full_providers_too_flagged(client, rw):
    rw.intake_b.accepting = False
    rw.intake_b.save()
    client.force_login(rw.um)
    response = client.get(
        reverse("referrals:destinations"),
        {"service": MEALS, "member_county": "Sacramento", "receiving_provider": str(rw.provider_b.uuid)},
        HTTP_HX_REQUEST="true",
    )
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name, rw.provider_b.name]
    html = response.content.decode()
    assert "not accepting new referrals now" in html
    assert response.context["selected_provider"] == str(rw.provider_b.uuid)


def test_destinations_partial_keeps_a_choice_only_while_it_is_listed(client, rw, provider_c):
    url = reverse("referrals:destinations")
    response = client.get(
        url, {"service": MEALS, "member_county": "Sacramento", "receiving_provider": str(provider_c.uuid)}
    )
    assert response.context["selected_provider"] == ""
    assert "choose again" in response.content.decode()


# --- 2. Public self-referral ----------------------------------------------------------------------------


def test_r1_r4_self_referral_page_explains_consent_links_the_catalog_and_hides_the_trap(client, rw):
    response = client.get(reverse("referrals:self_referral"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("catalog:detail", args=[MEALS]) in html
    assert "Healthy meals delivered to your home" in html  # plain language beside the catalog name
    assert "Who will contact the person who needs help" in html
    assert "It is voluntary" in html
    assert f"Consent text version {services.SELF_REFERRAL_CONSENT_VERSION}" in html
    assert '<div class="visually-hidden" aria-hidden="true">' in html
    trap = response.context["form"]["website"].as_widget()
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    kinds = [value for value, _ in response.context["form"].fields["referrer_kind"].choices]
    assert kinds == ["member", "family", "guardian", "caregiver"]


def test_r1_self_referral_from_a_family_member_is_saved_without_login(client, rw):
    response = client.post(reverse("referrals:self_referral"), self_referral_data(rw))
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:self_referral_done")
    referral = Referral.objects.get()
    assert referral.channel == "self_referral"
    assert referral.referrer_kind == "family"
    assert referral.referring_organization is None
    assert referral.referring_user is None
    assert referral.receiving_provider is None  # the plan assigns by default
    assert referral.consent_to_contact is True
    assert referral.consent_text_version == services.SELF_REFERRAL_CONSENT_VERSION
    assert referral.referrer_email == "luis@example.org"
    done = client.get(response["Location"])
    html = done.content.decode()
    assert referral.number in html
    assert "What happens next" in html
    assert "Delgado" not in html  # no member details on the page


def test_self_referral_to_a_chosen_provider_names_it_on_the_next_steps(client, rw):
    response = client.post(
        reverse("referrals:self_referral"),
        self_referral_data(
            rw, receiving_provider=str(rw.provider_a.uuid), referrer_kind="member", referrer_name=""
        ),
    )
    referral = Referral.objects.get()
    assert referral.receiving_provider == rw.provider_a
    assert rw.provider_a.name in client.get(response["Location"]).content.decode()


def test_r1_self_referral_needs_consent_and_a_self_referrer_kind_and_writes_nothing(client, rw):
    url = reverse("referrals:self_referral")
    data = self_referral_data(rw)
    del data["consent_to_contact"]
    response = client.post(url, data)
    assert response.status_code == 422
    assert "Tick the box" in response.context["form"].errors["consent_to_contact"][0]
    response = client.post(url, self_referral_data(rw, referrer_kind="hospital"))
    assert response.status_code == 422
    assert "referrer_kind" in response.context["form"].errors
    # The service's rule: someone other than the member gives their name.
    response = client.post(url, self_referral_data(rw, referrer_name=""))
    assert response.status_code == 422
    assert response.context["form"].errors["referrer_name"] == ["Enter your name."]
    response = client.post(url, self_referral_data(rw, service="", member_date_of_birth="2030-01-01"))
    assert response.context["form"].errors["service"] == ["Choose a Community Support."]
    assert 'id="id_service_error"' in response.content.decode()
    assert Referral.objects.count() == 0


def test_self_referral_honeypot_silently_succeeds_without_saving(client, rw):
    response = client.post(
        reverse("referrals:self_referral"), self_referral_data(rw, website="http://spam.example")
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:self_referral_done")
    assert Referral.objects.count() == 0
    done = client.get(response["Location"])
    assert done.status_code == 200
    assert 'data-testid="referral-number"' not in done.content.decode()


def test_self_referral_rate_limit_answers_429_kindly_after_the_limit(client, rw, settings):
    settings.CSHUB_SELF_REFERRAL_RATE_LIMIT = "2/h"
    url = reverse("referrals:self_referral")
    bad = self_referral_data(rw, member_first_name="")
    for _ in range(3):  # corrections of typos do not count
        assert client.post(url, bad).status_code == 422
    for i in range(2):
        assert client.post(url, self_referral_data(rw, member_first_name=f"Rosa{i}")).status_code == 302
    response = client.post(url, self_referral_data(rw, member_first_name="Third"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Please wait a little" in response.content.decode()
    assert Referral.objects.count() == 2
    # Another address is not limited; reading the form never is.
    assert client.get(url).status_code == 200
    other = client.post(url, self_referral_data(rw, member_first_name="Other"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302
    assert Referral.objects.count() == 3


def test_self_referral_rate_limit_counts_the_honeypot(client, rw, settings):
    settings.CSHUB_SELF_REFERRAL_RATE_LIMIT = "1/10m"
    url = reverse("referrals:self_referral")
    assert client.post(url, self_referral_data(rw, website="x")).status_code == 302
    assert client.post(url, self_referral_data(rw)).status_code == 429
    assert Referral.objects.count() == 0


# --- 3. Fax intake --------------------------------------------------------------------------------------


def fax_file(name: str = "fax-0412.pdf", content: bytes = FAX_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_r2_fax_referral_is_entered_beside_the_image_and_the_image_is_kept(client, rw):
    client.force_login(rw.bob)
    assert client.get(reverse("referrals:intake_fax")).status_code == 200
    data = {
        **member_fields(),
        **outside_referrer(),
        "plan": str(rw.plan.uuid),
        "service": HOUSING,
        "eligibility_information": "",
        "reason": "Referred for housing",
        "fax_document": fax_file(),
    }
    response = client.post(reverse("referrals:intake_fax"), data)
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", args=[referral.uuid])
    assert referral.channel == "fax"
    assert referral.receiving_provider == rw.provider_a
    assert referral.referrer_name == "Dr. Patel's office"
    assert referral.referring_organization is None
    document = ReferralDocument.objects.get(referral=referral)
    assert document.kind == "fax"
    assert document.file.read() == FAX_PDF
    assert referral.number in messages_of(response)[0]


def test_r2_fax_bad_input_keeps_what_was_typed_asks_for_the_file_again_and_writes_nothing(client, rw):
    client.force_login(rw.bob)
    data = {
        **member_fields(member_last_name="Okafor"),
        **outside_referrer(referrer_name=""),
        "plan": str(rw.plan.uuid),
        "service": HOUSING,
        "fax_document": fax_file(),
    }
    response = client.post(reverse("referrals:intake_fax"), data)
    assert response.status_code == 422
    assert response.context["form"].errors["referrer_name"] == ["Enter who made the referral."]
    html = response.content.decode()
    assert 'value="Okafor"' in html
    assert "choose the fax file again" in html
    # A file that is not a PDF or TIFF: the service's check, shown at the file field.
    data = {
        **member_fields(),
        **outside_referrer(),
        "plan": str(rw.plan.uuid),
        "service": HOUSING,
        "fax_document": fax_file("fax.pdf", b"MZ\x90\x00 not a pdf"),
    }
    response = client.post(reverse("referrals:intake_fax"), data)
    assert response.status_code == 422
    assert "not one of the accepted types" in response.context["form"].errors["fax_document"][0]
    assert Referral.objects.count() == 0
    assert ReferralDocument.objects.count() == 0


def test_r2_fax_intake_is_for_provider_intake_staff_only(client, rw):
    for user in (rw.dana, rw.um, UserFactory(organization=rw.provider_a, roles=[Role.PROVIDER_BILLING])):
        client.force_login(user)
        assert client.get(reverse("referrals:intake_fax")).status_code == 403
        assert client.get(reverse("referrals:intake_log")).status_code == 403


# --- 4. Phone and email log -----------------------------------------------------------------------------


def test_r2_email_referral_is_logged_to_the_users_own_provider(client, rw):
    client.force_login(rw.charlie)
    data = {
        **member_fields(),
        **outside_referrer(referrer_name="Maria at the food bank", referrer_email="maria@foodbank.example"),
        "channel": "email",
        "plan": str(rw.plan.uuid),
        "service": MEALS,
        "reason": "Asked for meals",
        "eligibility_information": "Diabetic; lives alone.",
    }
    response = client.post(reverse("referrals:intake_log"), data)
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert referral.channel == "email"
    assert referral.receiving_provider == rw.provider_b  # charlie's own organization, never provider A
    assert referral.referrer_email == "maria@foodbank.example"
    assert referral.eligibility_information == "Diabetic; lives alone."
    assert messages_of(response)[0].startswith(f"Email referral logged: {referral.number}")


def test_r2_phone_log_refuses_a_service_the_provider_does_not_take_and_missing_caller(client, rw):
    client.force_login(rw.charlie)
    base = {**member_fields(), "channel": "phone", "plan": str(rw.plan.uuid), "service": MEALS}
    response = client.post(reverse("referrals:intake_log"), {**base, **outside_referrer(referrer_name="")})
    assert response.status_code == 422
    assert response.context["form"].errors["referrer_name"] == ["Enter who made the referral."]
    response = client.post(reverse("referrals:intake_log"), {**base, **outside_referrer(), "channel": "fax"})
    assert "channel" in response.context["form"].errors
    response = client.post(
        reverse("referrals:intake_log"), {**base, **outside_referrer(), "service": HOUSING}
    )
    assert response.status_code == 422
    assert "does not offer" in str(response.context["form"].errors)
    assert Referral.objects.count() == 0


# --- 5. Plan assigns a member for outreach --------------------------------------------------------------


def test_o1_plan_finds_its_member_by_cin_and_assigns_outreach(client, rw):
    client.force_login(rw.um)
    url = reverse("referrals:plan_assign_member")
    page = client.get(url, {"member_id": rw.member_a.cin})
    assert page.status_code == 200
    assert page.context["members"] == [rw.member_a]
    assert AuditEvent.objects.filter(
        action="list", object_type="member", detail__purpose="referral_assignment"
    ).exists()
    page = client.get(url, {"member_id": "GS0000001"})  # the plan member ID works too
    assert page.context["members"] == [rw.member_a]
    response = client.post(
        url,
        {
            "member_id": rw.member_a.cin,
            "member": str(rw.member_a.uuid),
            "member_county": "",
            "service": HOUSING,
            "receiving_provider": str(rw.provider_a.uuid),
            "reason": "High utilizer, recently homeless",
        },
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert referral.channel == "plan_assignment"
    assert referral.member == rw.member_a
    assert referral.member_cin == rw.member_a.cin
    assert referral.member_last_name == rw.member_a.last_name  # built from the member record
    assert referral.receiving_provider == rw.provider_a
    assert referral.referrer_kind == "plan"
    assert referral.number in messages_of(response)[0]


def test_o1_plan_may_assign_to_a_provider_that_is_full(client, rw):
    rw.intake_a.accepting = False
    rw.intake_a.save()
    client.force_login(rw.um)
    url = reverse("referrals:plan_assign_member")
    data = {"member_id": rw.member_a.cin, "member": str(rw.member_a.uuid), "service": HOUSING}
    response = client.post(url, data)
    assert response.status_code == 422  # no provider chosen
    assert "Choose the provider" in response.context["destination_errors"][0]
    assert [p.name for p in response.context["destinations"]] == [rw.provider_a.name]
    response = client.post(url, {**data, "receiving_provider": str(rw.provider_a.uuid)})
    assert response.status_code == 302
    assert Referral.objects.get().receiving_provider == rw.provider_a


def test_plan_assignment_finds_only_the_plans_own_members(client, rw):
    client.force_login(rw.other_plan_user)
    url = reverse("referrals:plan_assign_member")
    page = client.get(url, {"member_id": rw.member_a.cin})
    assert page.status_code == 200
    assert page.context["members"] == []
    assert "No member of" in page.content.decode()
    response = client.post(
        url,
        {
            "member_id": rw.member_a.cin,
            "member": str(rw.member_a.uuid),
            "service": MEALS,
            "receiving_provider": str(rw.provider_b.uuid),
        },
    )
    assert response.status_code == 404
    assert Referral.objects.count() == 0


def test_plan_assignment_is_for_the_plans_referral_staff(client, rw):
    url = reverse("referrals:plan_assign_member")
    for user in (rw.alice, rw.charlie, rw.dana, rw.plan_users[Role.NETWORK]):
        client.force_login(user)
        assert client.get(url, {"member_id": rw.member_a.cin}).status_code == 403
        assert client.post(url, {"member": str(rw.member_a.uuid), "service": HOUSING}).status_code == 403
    assert Referral.objects.count() == 0


# --- 6. Provider intake settings ------------------------------------------------------------------------


def test_provider_leadership_sets_services_counties_and_accepting(client, rw):
    client.force_login(rw.alice)
    url = reverse("referrals:intake_settings")
    page = client.get(url)
    assert page.status_code == 200
    assert sorted(page.context["form"]["services"].value()) == sorted([HOUSING, "recuperative_care", MEALS])
    response = client.post(
        url,
        {
            "services": [MEALS, "housing_deposits"],
            "counties": ["Sacramento", "Placer"],
            "intake_phone": "(916) 555-0142",
            "intake_fax": "",
            "intake_email": "Intake@A.example",
        },
    )
    assert response.status_code == 302
    intake = ProviderIntake.objects.get(organization=rw.provider_a)
    assert intake.accepting is False  # the box was not ticked
    assert sorted(intake.services.values_list("key", flat=True)) == ["housing_deposits", MEALS]
    assert sorted(intake.counties.values_list("name", flat=True)) == ["Placer", "Sacramento"]
    assert intake.intake_phone == "9165550142"
    assert intake.intake_email == "intake@a.example"
    event = AuditEvent.objects.get(object_type="provider_intake")
    assert event.action == "update"
    assert event.detail["after"]["accepting"] is False
    assert "not accepting new referrals" in messages_of(response)[0]


def test_intake_settings_bad_input_changes_nothing(client, rw):
    client.force_login(rw.alice)
    url = reverse("referrals:intake_settings")
    response = client.post(url, {"accepting": "on", "services": [MEALS], "intake_phone": "555-01"})
    assert response.status_code == 422
    assert response.context["form"].errors["intake_phone"] == ["Enter a 10-digit US number."]
    response = client.post(url, {"accepting": "on", "services": ["no_such_service"]})
    assert "services" in response.context["form"].errors
    assert ProviderIntake.objects.get(organization=rw.provider_a).services.count() == 3
    assert not AuditEvent.objects.filter(object_type="provider_intake").exists()


def test_intake_settings_are_for_the_providers_own_leadership(client, rw):
    url = reverse("referrals:intake_settings")
    for user in (rw.bob, rw.dana, rw.um, rw.plan_users[Role.PLAN_ADMIN]):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"services": [HOUSING]}).status_code == 403
    # charlie's settings page edits provider B only; provider A's intake is untouched.
    client.force_login(rw.charlie)
    client.post(url, {"accepting": "on", "services": [HOUSING]})
    assert list(rw.intake_b.services.values_list("key", flat=True)) == [HOUSING]
    assert rw.intake_a.services.count() == 3


def test_provider_intake_update_service_checks_permission_and_creates_the_intake(rw):
    with pytest.raises(PermissionDeniedError):
        services.provider_intake_update(
            actor=rw.bob, organization=rw.provider_a, services=[], counties=[], accepting=True
        )
    with pytest.raises(PermissionDeniedError):
        services.provider_intake_update(
            actor=rw.alice, organization=rw.provider_b, services=[], counties=[], accepting=True
        )
    new_org = OrganizationFactory(kind=OrganizationKind.ECM_PROVIDER, name="New ECM")
    ceo = UserFactory(organization=new_org, roles=[Role.PROVIDER_CEO])
    with pytest.raises(DomainError) as exc:
        services.provider_intake_update(
            actor=ceo, organization=new_org, services=[HOUSING], counties=["Atlantis"], accepting=True
        )
    assert [e.field for e in exc.value.errors] == ["counties"]
    intake = services.provider_intake_update(
        actor=ceo, organization=new_org, services=[HOUSING], counties=[], accepting=True
    )
    assert intake.created_by == ceo
    assert AuditEvent.objects.get(object_type="provider_intake").action == "create"


# --- Navigation and links --------------------------------------------------------------------------------


def test_refer_a_member_is_in_the_navigation_of_referrers_only(client, rw):
    client.force_login(rw.dana)
    labels = [item["label"] for item in client.get(reverse("web:home")).context["nav_items"]]
    assert "Refer a member" in labels
    client.force_login(rw.plan_users[Role.NETWORK])
    labels = [item["label"] for item in client.get(reverse("web:home")).context["nav_items"]]
    assert "Refer a member" not in labels


def test_home_links_the_public_self_referral_form(client, rw):
    client.force_login(rw.dana)
    assert reverse("referrals:self_referral") in client.get(reverse("web:home")).content.decode()


def test_date_of_birth_accepts_the_us_format(client, rw):
    client.force_login(rw.dana)
    client.post(reverse("referrals:new"), portal_data(rw, member_date_of_birth="03/09/1975"))
    assert Referral.objects.get().member_date_of_birth == dt.date(1975, 3, 9)


@pytest.mark.parametrize(
    ("setting", "expected"), [("5/h", (5, 3600)), ("3/10m", (3, 600)), (" 20 / d ", (20, 86400))]
)
def test_self_referral_rate_setting_is_read_as_count_per_period(settings, setting, expected):
    settings.CSHUB_SELF_REFERRAL_RATE_LIMIT = setting
    assert self_referral_rate() == expected


def test_a_malformed_rate_setting_is_a_configuration_error(settings):
    settings.CSHUB_SELF_REFERRAL_RATE_LIMIT = "five per hour"
    with pytest.raises(ImproperlyConfigured):
        self_referral_rate()
