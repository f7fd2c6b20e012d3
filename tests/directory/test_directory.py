"""The public directory (rule N8): only active contracted services, filters, pages, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from cshub.directory import selectors, services
from cshub.referrals.selectors import referral_destinations
from tests.directory.conftest import HOUSING, MEALS, RECUP

pytestmark = pytest.mark.django_db


def _names(entries) -> set[tuple[str, str]]:
    return {(e.organization.name, e.service.key) for e in entries}


def test_n8_only_active_contracted_services_appear(dw):
    entries = selectors.directory_entries()
    assert _names(entries) == {
        ("Provider A Housing Services", HOUSING),
        ("Provider A Housing Services", RECUP),
        ("Provider B Meals on Wheels", MEALS),
    }
    housing = next(e for e in entries if e.service.key == HOUSING)
    assert housing.county_names == ["Sacramento", "Yolo"]


def test_n8_public_page_hides_draft_terminated_and_expired_contracts(dw, client):
    response = client.get(reverse("directory:directory"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Provider A Housing Services" in body and "Provider B Meals on Wheels" in body
    for hidden in ("Draft Housing Co", "Terminated Meals Co", "Expired Respite Co"):
        assert hidden not in body


def test_n8_filters_by_county_service_plan_and_query(dw):
    assert _names(selectors.directory_entries(county="Yolo")) == {
        ("Provider A Housing Services", HOUSING),
        ("Provider B Meals on Wheels", MEALS),
    }
    assert _names(selectors.directory_entries(service=RECUP)) == {("Provider A Housing Services", RECUP)}
    assert _names(selectors.directory_entries(plan=dw.plan2)) == {("Provider B Meals on Wheels", MEALS)}
    assert _names(selectors.directory_entries(q="meals")) == {("Provider B Meals on Wheels", MEALS)}


def test_n8_accepting_filter_follows_the_referral_intake(dw):
    accepting = selectors.directory_entries(accepting=True)
    assert _names(accepting) == {("Provider A Housing Services", HOUSING)}
    assert _names(selectors.directory_entries(accepting=False)) == {
        ("Provider A Housing Services", RECUP),
        ("Provider B Meals on Wheels", MEALS),
    }
    # County-specific: the intake lists only Yolo now.
    dw.intake_a.counties.set(dw.intake_a.counties.model.objects.filter(name="Yolo"))
    assert _names(selectors.directory_entries(county="Sacramento", accepting=True)) == set()
    assert _names(selectors.directory_entries(county="Yolo", accepting=True)) == {
        ("Provider A Housing Services", HOUSING)
    }


def test_n8_n9_language_filter_reads_claimed_listings(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=RECUP)
    services.listing_update(actor=dw.alice, listing=listing, languages=["es", "en"])
    assert _names(selectors.directory_entries(language="es")) == {("Provider A Housing Services", RECUP)}
    assert selectors.directory_entries(language="vi") == []


def test_n9_listing_accepting_writes_through_to_referral_routing(dw):
    listing = services.listing_claim(actor=dw.alice, service_key=HOUSING)
    assert dw.provider_a in referral_destinations(service_key=HOUSING, county="Yolo")
    services.listing_update(actor=dw.alice, listing=listing, accepting=False)
    assert dw.provider_a not in referral_destinations(service_key=HOUSING, county="Yolo")
    assert _names(selectors.directory_entries(accepting=True)) == set()
    recup = services.listing_claim(actor=dw.alice, service_key=RECUP)
    services.listing_update(actor=dw.alice, listing=recup, accepting=True)
    assert dw.provider_a in referral_destinations(service_key=RECUP, county="Sacramento")
    assert dw.provider_a not in referral_destinations(service_key=HOUSING, county="Sacramento")


def test_n8_filters_on_the_page_htmx_and_without_js(dw, client):
    url = reverse("directory:directory")
    full = client.get(url, {"county": "Yolo", "service": MEALS})
    assert b"<html" in full.content and b"Provider B Meals on Wheels" in full.content
    assert b"Provider A Housing" not in full.content.split(b'id="results"')[1]
    partial = client.get(url, {"accepting": "1"}, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content
    assert b"Provider A Housing Services" in partial.content and b"Meals on Wheels" not in partial.content


def test_n8_page_shows_filter_errors(dw, client):
    response = client.get(reverse("directory:directory"), {"county": "Atlantis"})
    assert response.status_code == 200
    assert b"Not a California county" in response.content


def test_n8_pagination_and_csv_export_of_the_visible_list(dw, client, settings):
    settings.CSHUB_PAGE_SIZE = 2
    page = client.get(reverse("directory:directory"))
    assert b"Page 1 of 2" in page.content
    export = client.get(reverse("directory:directory"), {"county": "Yolo", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {(r["organization"], r["accepting_referrals"]) for r in rows} == {
        ("Provider A Housing Services", "yes"),
        ("Provider B Meals on Wheels", "no"),
    }


def test_n8_directory_page_query_count_does_not_grow(dw, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        client.get(reverse("directory:directory"))


def test_n8_program_page_and_404_for_uncontracted(dw, client):
    ok = client.get(reverse("directory:program", args=[dw.provider_a.uuid, HOUSING]))
    assert ok.status_code == 200
    assert b"not claimed this listing yet" in ok.content
    assert client.get(reverse("directory:program", args=[dw.provider_a.uuid, MEALS])).status_code == 404
    assert client.get(reverse("directory:program", args=[dw.draft_org.uuid, HOUSING])).status_code == 404


def test_n8_nav_and_footer_link_to_the_directory(dw, client):
    body = client.get(reverse("catalog:list")).content.decode()
    assert 'href="/directory/"' in body
