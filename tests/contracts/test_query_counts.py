"""Pinned query counts of the contract list: the page and `GET /api/v1/contracts` cost the same number of
queries for a few contracts as for many (no query per contract, per row or per amended contract)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.contracts import services
from tests.contracts.conftest import draft, execute, ready

pytestmark = pytest.mark.django_db

API = "/api/v1/contracts"


def _executed_with_amendment(cw, org) -> None:
    """An executed contract and the draft amendment that supersedes it (the API names the amended one)."""
    contract = execute(cw, draft(cw, org=org))
    services.contract_amend(
        actor=cw.net, contract=contract, start_date=date(2027, 1, 1), expected_version=contract.version
    )


def _add_drafts(cw, n: int) -> None:
    """Drafts of both providers over every mix of services and counties."""
    pair_sets = (
        [(cw.nav, cw.sac)],
        [(cw.nav, cw.sac), (cw.nav, cw.yolo)],
        [(cw.meals, cw.yolo), (cw.nav, cw.sac)],
    )
    for i in range(n):
        draft(cw, org=cw.provider_a if i % 2 == 0 else cw.provider_b, rows=pair_sets[i % 3], fees=False)


def _count(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("user", ["net", "alice"])
def test_contract_list_query_count_does_not_grow_with_the_rows(client, cw, user):
    """Page and API, for the plan's staff and a provider: plan, provider (and, for the API, the amended
    contract) are joined and the services x counties rows prefetched with their service and county, one
    query each whatever the page's length, so 4 and 16 contracts cost exactly the same number of queries
    (the provider sees its own half)."""
    ready(cw, cw.provider_a)
    ready(cw, cw.provider_b)
    client.force_login(getattr(cw, user))
    page_url = reverse("contracts:list")
    shown = (lambda n: n) if user == "net" else (lambda n: n // 2)

    _executed_with_amendment(cw, cw.provider_a)
    _executed_with_amendment(cw, cw.provider_b)
    few_page, page = _count(client, page_url)
    few_api, api = _count(client, API)
    assert len(page.context["page_obj"]) == shown(4) and api.json()["count"] == shown(4)
    assert any(item["supersedes"] for item in api.json()["items"])

    _add_drafts(cw, 12)
    many_page, page = _count(client, page_url)
    many_api, api = _count(client, API)
    assert len(page.context["page_obj"]) == shown(16)
    assert api.json()["count"] == len(api.json()["items"]) == shown(16)
    assert few_page == many_page
    assert few_api == many_api
