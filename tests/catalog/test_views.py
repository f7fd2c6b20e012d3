"""Public catalog pages: the list and each service's authorization guide (rules G1, G2), no login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cshub.catalog.models import Service
from tests.catalog.conftest import SERVICE_KEYS

pytestmark = pytest.mark.usefixtures("loaded_catalog")


@pytest.mark.django_db
def test_g1_list_page_groups_services_by_category(client):
    """Rule G1: every guide is reachable from the public list, grouped as in the Reference Guide §1."""
    response = client.get(reverse("catalog:list"))
    assert response.status_code == 200
    html = response.content.decode()
    for label in Service.Category.labels:
        assert f">{label}</h2>" in html
    for service in Service.objects.all():
        assert reverse("catalog:detail", args=[service.key]) in html
    assert "<code>H0043-U6</code>" in html
    assert '<label class="form-label" for="catalog-search">' in html


@pytest.mark.django_db
def test_g1_list_page_search_category_and_htmx(client):
    url = reverse("catalog:list")
    html = client.get(url, {"search": "H0043"}).content.decode()
    assert "Transitional Rent" in html and "Respite Services" not in html
    html = client.get(url, {"category": "recuperative"}).content.decode()
    assert "Sobering Centers" in html and "Housing Deposits" not in html
    partial = client.get(url, {"search": "meals"}, headers={"HX-Request": "true"}).content.decode()
    assert "Medically Tailored Meals" in partial and "<html" not in partial
    assert "No Community Support matches" in client.get(url, {"search": "zzzz"}).content.decode()


@pytest.mark.django_db
def test_g1_list_page_query_count(client, django_assert_max_num_queries):
    """DESIGN principle 7: services and their codes in two queries, not one per service."""
    with django_assert_max_num_queries(3):
        assert client.get(reverse("catalog:list")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_g1_every_guide_page_renders_with_its_codes(client, key):
    """Rule G1: overview, eligibility, lengths, documents, codes, limits and sources on one public page."""
    service = Service.objects.get(key=key)
    response = client.get(reverse("catalog:detail", args=[key]))
    assert response.status_code == 200
    html = response.content.decode()
    for code in service.codes.all():
        assert f"<code>{code.code}</code>" in html
    for heading in ("Authorization", "Program overview", "Eligibility checklist", "Required documentation",
                    "HCPCS codes and modifiers", "Limits", "Sources"):  # fmt: skip
        assert f">{heading}" in html, heading
    assert service.get_authorization_display() in html
    assert 'class="badge text-bg-warning"' in html  # the "verify" marks are visible
    assert "<caption>" in html and 'scope="col"' in html


@pytest.mark.django_db
def test_g2_guide_pages_say_whether_authorization_is_needed(client):
    """Rule G2: presumptive or not required is shown on the guide."""
    sobering = client.get(reverse("catalog:detail", args=["sobering_centers"])).content.decode()
    assert "No authorization required (the plan's choice)" in sobering
    assert "Closed-loop referral tracking" in sobering and "Does not apply" in sobering
    recuperative = client.get(reverse("catalog:detail", args=["recuperative_care"])).content.decode()
    assert "Presumptive authorization" in recuperative
    assert "Short-Term Post-Hospitalization Housing</a>" in recuperative  # the shared limit's partners
    tenancy = client.get(reverse("catalog:detail", args=["housing_tenancy_sustaining"])).content.decode()
    assert "setting CSHUB_CATALOG_DEFAULT_INITIAL_AUTH_MONTHS" in tenancy
    assert 'class="badge text-bg-secondary"' in tenancy  # "assumed"


@pytest.mark.django_db
def test_g1_detail_page_query_count(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert client.get(reverse("catalog:detail", args=["recuperative_care"])).status_code == 200


@pytest.mark.django_db
def test_g1_unknown_service_is_404(client):
    assert client.get("/catalog/free_ice_cream/").status_code == 404


@pytest.mark.django_db
def test_g1_inactive_service_page_still_renders(client):
    Service.objects.filter(key="respite_services").update(active=False)
    html = client.get(reverse("catalog:detail", args=["respite_services"])).content.decode()
    assert "no longer in the catalog" in html


def test_g1_pages_render_for_signed_in_users_too(client, world, loaded_catalog):
    client.force_login(world.alice)
    assert client.get(reverse("catalog:list")).status_code == 200
    assert client.get(reverse("catalog:detail", args=["housing_deposits"])).status_code == 200
