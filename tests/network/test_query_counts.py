"""Pinned query counts of the network lists: the interest form queue and the applications list, as pages and
over the API, cost the same number of queries for a few rows as for many (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.network import services
from tests.network.conftest import make_application

pytestmark = pytest.mark.django_db

API = "/api/v1/network"

# Each row mixes organizations, services and counties, so every related table of a row is read.
SERVICE_SETS = (
    ["housing_deposits"],
    ["housing_deposits", "medically_tailored_meals"],
    ["medically_tailored_meals", "housing_transition_navigation"],
)
COUNTY_SETS = (["Sacramento"], ["Sacramento", "Yolo"], ["Yolo"])

_forms = iter(range(1, 10_000))


def _add_interest_forms(nw, n: int) -> None:
    for i in range(n):
        k = next(_forms)
        services.interest_form_submit(
            plan=nw.plan,
            data={
                "organization_name": f"Collective {k}",
                "address_line": f"{k} River St",
                "city": "Sacramento",
                "zip_code": "95814",
                "contact_name": f"Contact {k}",
                "contact_title": "Executive Director",
                "contact_email": f"contact{k}@example.org",
                "contact_phone": "916-555-0100",
            },
            counties=COUNTY_SETS[i % 3],
            service_keys=SERVICE_SETS[i % 3],
        )


def _add_applications(nw, n: int) -> None:
    for i in range(n):
        make_application(
            nw,
            org=nw.provider_a if i % 2 == 0 else nw.provider_b,
            services_keys=SERVICE_SETS[i % 3],
            submit=i % 3 != 2,  # drafts too: staff see every application of their plan
        )


def _count(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


def _rows_on_page(response) -> int:
    return len(response.context["page_obj"])


def _api_count(response) -> int:
    body = response.json()
    assert len(body["items"]) == body["count"]  # every row is on the page, so every row is shaped
    return body["count"]


def test_interest_queue_query_count_does_not_grow_with_the_rows(client, nw):
    """Page and API: the counties and services of the forms are prefetched (one query each for the page,
    whatever its length), so 3 forms and 15 forms cost exactly the same number of queries."""
    client.force_login(nw.network)
    page_url, api_url = reverse("network:interest_list"), f"{API}/interest-forms"
    _add_interest_forms(nw, 3)
    few_page, page = _count(client, page_url)
    few_api, api = _count(client, api_url)
    assert _rows_on_page(page) == 3 and _api_count(api) == 3
    _add_interest_forms(nw, 12)
    many_page, page = _count(client, page_url)
    many_api, api = _count(client, api_url)
    assert _rows_on_page(page) == 15 and _api_count(api) == 15
    assert few_page == many_page
    assert few_api == many_api


@pytest.mark.parametrize("user", ["network", "alice"])
def test_application_list_query_count_does_not_grow_with_the_rows(client, nw, user):
    """Page and API, for the plan's review queue and a provider's own list: organization and plan are
    joined, services (and counties, for the API) prefetched, so the count is the same for 4 and 16
    applications (a provider sees its half of them)."""
    client.force_login(getattr(nw, user))
    page_url, api_url = reverse("network:application_list"), f"{API}/applications"
    shown = (lambda n: n) if user == "network" else (lambda n: n // 2)
    _add_applications(nw, 4)
    few_page, page = _count(client, page_url)
    few_api, api = _count(client, api_url)
    assert _rows_on_page(page) == shown(4) and _api_count(api) == shown(4)
    _add_applications(nw, 12)
    many_page, page = _count(client, page_url)
    many_api, api = _count(client, api_url)
    assert _rows_on_page(page) == shown(16) and _api_count(api) == shown(16)
    assert few_page == many_page
    assert few_api == many_api
