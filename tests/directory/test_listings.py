"""Program listings (rule N9): claim, edit by the owner only, validation, audit, last updated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cshub.core.errors import ConflictError, DomainError, PermissionDeniedError
from cshub.core.models import AuditEvent
from cshub.directory import selectors, services
from cshub.directory.models import ProgramListing
from tests.directory.conftest import HOUSING, MEALS, RECUP

pytestmark = pytest.mark.django_db


def test_n9_leadership_claims_a_contracted_service_once(dw):
    listing = services.listing_claim(actor=dw.pm_a, service_key=HOUSING)
    assert listing.organization == dw.provider_a
    assert services.listing_claim(actor=dw.alice, service_key=HOUSING).pk == listing.pk
    assert AuditEvent.objects.filter(object_type="program_listing", object_id=str(listing.uuid)).count() == 1


def test_n9_cannot_claim_an_uncontracted_service(dw):
    with pytest.raises(DomainError) as exc:
        services.listing_claim(actor=dw.alice, service_key=MEALS)
    assert exc.value.errors[0].field == "service"
    assert not ProgramListing.objects.exists()


def test_n9_care_coordinator_and_plan_cannot_claim(dw):
    for user in (dw.bob, dw.network):
        with pytest.raises(PermissionDeniedError):
            services.listing_claim(actor=user, service_key=HOUSING)


def test_n9_edit_saves_every_field_and_audits(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    saved = services.listing_update(
        actor=dw.alice,
        listing=listing,
        description="We help members find and keep housing.",
        hours_text="Walk-ins Tuesday mornings",
        weekly_hours=[
            {"day": "mo", "opens": "09:00", "closes": "17:00"},
            {"day": "tu", "opens": "", "closes": ""},
        ],
        languages=["es", "EN"],
        intake_phone="(916) 555-0199",
        version=listing.version,
    )
    assert saved.weekly_hours == [{"day": "mo", "opens": "09:00", "closes": "17:00"}]
    assert saved.languages == ["es", "en"]
    assert saved.intake_phone == "9165550199"
    assert saved.version == listing.version + 1
    event = AuditEvent.objects.filter(object_type="program_listing", action="update").get()
    assert "description" in event.detail["changed"] and event.actor == dw.alice


def test_n9_validation_errors_save_nothing(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    with pytest.raises(DomainError) as exc:
        services.listing_update(
            actor=dw.alice,
            listing=listing,
            description="x" * 5000,
            weekly_hours=[{"day": "mo", "opens": "17:00", "closes": "09:00"}, {"day": "xx", "opens": "1"}],
            languages=["klingon"],
            intake_phone="555",
            accepting=False,
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {"description", "hours_mo", "weekly_hours", "languages", "intake_phone"}
    listing.refresh_from_db()
    assert listing.description == "" and listing.version == 1
    assert selectors.listing_accepting(listing) is True  # the intake was not touched either
    assert not AuditEvent.objects.filter(object_type="program_listing", action="update").exists()


def test_n9_stale_version_is_a_conflict(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    services.listing_update(actor=dw.alice, listing=listing, description="first", version=1)
    with pytest.raises(ConflictError):
        services.listing_update(actor=dw.pm_a, listing=listing, description="second", version=1)


def test_n9_another_provider_cannot_edit(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    with pytest.raises(PermissionDeniedError):
        services.listing_update(actor=dw.charlie, listing=listing, description="mine now")
    with pytest.raises(Exception) as exc:
        selectors.listing_get_for_user(user=dw.charlie, uuid=listing.uuid)
    assert exc.type.__name__ == "Http404"


def test_n9_listing_pages_claim_edit_and_last_updated(dw, client):
    client.force_login(dw.alice)
    page = client.get(reverse("directory:listings"))
    assert page.status_code == 200 and b"Claim listing" in page.content
    response = client.post(reverse("directory:listing_claim"), {"service": RECUP})
    listing = ProgramListing.objects.get(service__key=RECUP)
    assert response.status_code == 302 and response.url == reverse(
        "directory:listing_edit", args=[listing.uuid]
    )
    form = {
        "version": "1",
        "description": "Short-term recovery care after a hospital stay.",
        "opens_mo": "08:00",
        "closes_mo": "16:30",
        "languages": ["en", "es"],
        "intake_phone": "916-555-0123",
        "accepting": "on",
    }
    saved = client.post(reverse("directory:listing_edit", args=[listing.uuid]), form)
    assert saved.status_code == 302
    listing.refresh_from_db()
    assert listing.description.startswith("Short-term") and listing.version == 2
    public = client.get(reverse("directory:program", args=[dw.provider_a.uuid, RECUP]))
    assert b"Listing last updated" in public.content and b"Spanish" in public.content
    assert b"Accepting referrals" in public.content


def test_n9_edit_page_shows_errors_beside_fields(dw, client):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    client.force_login(dw.alice)
    response = client.post(
        reverse("directory:listing_edit", args=[listing.uuid]),
        {
            "version": "1",
            "description": "new",
            "opens_we": "10:00",
            "closes_we": "09:00",
            "intake_phone": "12",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="hours-we-error"' in body and "Enter a 10-digit US number." in body
    assert 'value="new"' not in body and ">new</textarea>" in body  # the typed values are kept
    listing.refresh_from_db()
    assert listing.description == ""


def test_n9_outsider_gets_404_and_care_coordinator_403(dw, client):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    url = reverse("directory:listing_edit", args=[listing.uuid])
    client.force_login(dw.charlie)
    assert client.get(url).status_code == 404
    assert client.post(url, {"description": "hijack"}).status_code == 404
    client.force_login(dw.bob)
    assert client.get(reverse("directory:listings")).status_code == 403
    assert client.post(reverse("directory:listing_claim"), {"service": RECUP}).status_code == 403


def test_n9_plan_network_staff_see_all_listings_read_only(dw, client):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    client.force_login(dw.network)
    page = client.get(reverse("directory:listings"))
    assert page.status_code == 200 and b"Provider A Housing Services" in page.content
    detail = client.get(reverse("directory:listing_edit", args=[listing.uuid]))
    assert detail.status_code == 200 and b"Save listing" not in detail.content
    assert client.post(reverse("directory:listing_edit", args=[listing.uuid]), {}).status_code == 403
    export = client.get(reverse("directory:listings"), {"format": "csv"})
    assert b"Provider A Housing Services" in b"".join(export.streaming_content)


def test_n9_provider_nav_has_program_listings(dw, client):
    client.force_login(dw.alice)
    assert b"Program listings" in client.get(reverse("directory:directory")).content
    client.force_login(dw.bob)
    assert b"Program listings" not in client.get(reverse("directory:directory")).content
