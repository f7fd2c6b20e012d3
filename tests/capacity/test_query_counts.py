"""Pinned query counts of the capacity report list: the page and `GET /api/v1/capacity/reports` cost the same
number of queries for a few reports as for many (no query per report, per provider or per line total)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cshub.capacity import services
from cshub.capacity.schedule import Quarter
from tests.capacity.conftest import DEPOSITS, NAV, contract, report_input, submitted

pytestmark = pytest.mark.usefixtures("catalog", "frozen_clock")

API = "/api/v1/capacity/reports"


def _submitted_and_corrected(world, user, quarter: Quarter) -> None:
    """A submitted report and its submitted correction: two rows (superseded v1, submitted v2)."""
    first = submitted(user, world.plan, quarter, able=20, serving=12)
    correction = services.capacity_report_correct(actor=user, report=first, reason="Caseload miscounted")
    services.capacity_report_submit(
        actor=user, report=correction, data=report_input(able=25, serving=14, county="Yolo")
    )


def _add_quarters(world, quarters: list[Quarter]) -> None:
    """One submitted report per quarter from each provider, over different services and counties."""
    for i, quarter in enumerate(quarters):
        for user in (world.alice, world.charlie):
            submitted(
                user,
                world.plan,
                quarter,
                able=10 + i,
                serving=5 + i,
                service=(NAV, DEPOSITS)[i % 2],
                county=("Sacramento", "Yolo")[i % 2],
            )


def _count(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("user", ["network", "alice"])
def test_report_list_query_count_does_not_grow_with_the_rows(client, world, user):
    """Page and API, for the plan's network staff and a provider's leadership: provider and plan are joined
    and the staff FTE, capacity and serving totals are subqueries of the list's one query, so 4 and 16
    reports cost exactly the same number of queries (the provider sees its own half)."""
    contract(world.provider_a, world.plan)
    contract(world.provider_b, world.plan)
    viewer = world.plan_users["network"] if user == "network" else world.alice
    client.force_login(viewer)
    page_url = reverse("capacity:list")
    shown = (lambda n: n) if user == "network" else (lambda n: n // 2)

    _submitted_and_corrected(world, world.alice, Quarter(2026, 1))
    _submitted_and_corrected(world, world.charlie, Quarter(2026, 1))
    few_page, page = _count(client, page_url)
    few_api, api = _count(client, API)
    assert page.content.count(b'data-testid="report-row"') == shown(4)
    assert api.json()["count"] == shown(4)

    _add_quarters(world, [Quarter(2025, q) for q in (1, 2, 3, 4)] + [Quarter(2026, 2), Quarter(2026, 3)])
    many_page, page = _count(client, page_url)
    many_api, api = _count(client, API)
    assert page.content.count(b'data-testid="report-row"') == shown(16)
    assert api.json()["count"] == len(api.json()["items"]) == shown(16)
    assert all(item["members_able_to_serve"] for item in api.json()["items"])  # the totals are there
    assert few_page == many_page
    assert few_api == many_api
