"""Rule D3 pages and API: privacy (a provider sees only its own reports; outsiders 404), the form with field
errors and nothing saved, the plan's list with late flags, history, adequacy matrix sums, CSV."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cshub.capacity.models import CapacityReport, ReportStatus
from cshub.capacity.schedule import Quarter
from tests.capacity.conftest import DEPOSITS, contract, report_input, submitted
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.usefixtures("catalog", "frozen_clock")


@pytest.fixture
def reports(world):
    contract(world.provider_a, world.plan)
    contract(world.provider_b, world.plan)
    a = submitted(world.alice, world.plan, Quarter(2026, 3), able=20, serving=12)
    b = submitted(world.charlie, world.plan, Quarter(2026, 3), able=10, serving=11)
    return a, b


def test_d3_privacy_provider_sees_only_its_own(client, world, reports):
    a, b = reports
    client.force_login(world.charlie)
    assert client.get(reverse("capacity:detail", args=[a.uuid])).status_code == 404
    assert client.get(f"/api/v1/capacity/reports/{a.uuid}").status_code == 404
    listed = client.get("/api/v1/capacity/reports").json()["items"]
    assert [r["id"] for r in listed] == [str(b.uuid)]
    assert client.get(reverse("capacity:history", args=[world.provider_a.uuid])).status_code == 404
    assert client.get(reverse("capacity:adequacy")).status_code == 403
    client.force_login(world.bob)  # care coordinator: not a reporting role
    assert client.get(reverse("capacity:list")).status_code == 403
    client.force_login(world.other_plan_user)  # another plan sees none of plan 1's reports
    assert client.get(f"/api/v1/capacity/reports/{a.uuid}").status_code == 404


def test_d3_plan_list_filters_csv_and_drafts_hidden(client, world, reports):
    services_draft = CapacityReport.objects.create(
        provider=world.provider_a, plan=world.plan, year=2026, quarter=2, due_date="2026-07-31"
    )
    client.force_login(world.plan_users["network"])
    page = client.get(reverse("capacity:list"))
    assert page.status_code == 200
    assert page.content.count(b'data-testid="report-row"') == 2
    assert b'data-testid="late-flag"' in page.content  # submitted after October 31
    assert str(services_draft.uuid).encode() not in page.content
    api = client.get(
        "/api/v1/capacity/reports", {"provider": str(world.provider_b.uuid), "late": "true"}
    ).json()
    assert api["count"] == 1 and api["items"][0]["members_able_to_serve"] == 10
    assert client.get("/api/v1/capacity/reports", {"quarter": "bad"}).status_code == 422
    csv = client.get(reverse("capacity:list"), {"format": "csv", "quarter": "2026-Q3"})
    body = b"".join(csv.streaming_content).decode()
    assert body.splitlines()[0].startswith("plan_name,plan_code,reporting_period") and "2026 Q3" in body
    assert len(body.splitlines()) == 3


def test_d3_adequacy_matrix_sums_latest_report_of_contracted_providers(client, world, reports):
    # A third provider under contract in the same county and service, and one without a contract.
    provider_c = OrganizationFactory(name="Provider C")
    leader_c = UserFactory(organization=provider_c, roles=["provider_ceo"])
    contract(provider_c, world.plan)
    submitted(leader_c, world.plan, Quarter(2026, 2), able=5, serving=1)
    submitted(leader_c, world.plan, Quarter(2026, 3), able=7, serving=2)  # the latest counts
    outsider = OrganizationFactory(name="Provider D (no contract)")
    submitted(
        UserFactory(organization=outsider, roles=["provider_ceo"]), world.plan, Quarter(2026, 3), able=99
    )
    client.force_login(world.plan_users["reporting_director"])
    cells = client.get("/api/v1/capacity/adequacy").json()
    assert cells == [
        {
            "county": "Sacramento",
            "service": cells[0]["service"],
            "service_key": "housing_transition_navigation",
            "providers": 3,
            "members_able_to_serve": 37,
            "members_serving": 25,
            "capacity_check": "",
        }
    ]
    assert (
        client.get("/api/v1/capacity/adequacy", {"as_of": "2026-Q2"}).json()[0]["members_able_to_serve"] == 5
    )
    page = client.get(reverse("capacity:adequacy"), {"county": "Sacramento"})
    assert page.status_code == 200 and b"3 providers" in page.content
    csv = client.get(reverse("capacity:adequacy"), {"format": "csv"})
    assert "Sacramento" in b"".join(csv.streaming_content).decode()


def test_d3_history_chart_and_table(client, world, reports):
    client.force_login(world.plan_users["network"])
    page = client.get(reverse("capacity:history", args=[world.provider_a.uuid]))
    assert page.status_code == 200
    assert b'id="capacity-history-data"' in page.content and b'data-testid="history-row"' in page.content
    history = client.get(f"/api/v1/capacity/providers/{world.provider_a.uuid}/history").json()
    assert history[0]["reporting_period"] == "2026 Q3" and history[0]["staff_fte"] in ("3.50", 3.5, "3.5")


def test_d3_form_field_errors_nothing_saved_then_submit(client, world):
    client.force_login(world.alice)
    assert client.get(reverse("capacity:new")).status_code == 200
    data = {
        "plan": str(world.plan.uuid),
        "quarter": "2026-Q3",
        "current_caseload": "12",
        "notes": "",
        "staff-TOTAL_FORMS": "1",
        "staff-INITIAL_FORMS": "0",
        "staff-0-role": "care_coordinator",
        "staff-0-headcount": "1",
        "staff-0-fte": "3",  # more FTE than people
        "capacity-TOTAL_FORMS": "1",
        "capacity-INITIAL_FORMS": "0",
        "capacity-0-service": DEPOSITS,
        "capacity-0-county": "Sacramento",
        "capacity-0-members_able_to_serve": "4",
        "capacity-0-members_serving": "2",
        "action": "submit",
    }
    page = client.post(reverse("capacity:new"), data)
    assert page.status_code == 422
    assert b"FTE cannot be more than the number of people." in page.content
    assert not CapacityReport.objects.exists()
    data["staff-0-fte"] = "1"
    page = client.post(reverse("capacity:new"), data)
    assert page.status_code == 302
    report = CapacityReport.objects.get()
    assert report.status == ReportStatus.SUBMITTED
    detail = client.get(page["Location"])
    assert b"Read-only" in detail.content and b"Start a correction" in detail.content


def test_d3_api_create_save_submit_correct(client, world):
    client.force_login(world.alice)
    body = {"plan": str(world.plan.uuid), "quarter": "2026-Q4", "staff": [], "capacity": []}
    created = client.post("/api/v1/capacity/reports", body, content_type="application/json")
    assert created.status_code == 201
    rid = created.json()["id"]
    assert client.post(f"/api/v1/capacity/reports/{rid}/submit").status_code == 422
    full = report_input()
    payload = {
        "current_caseload": 12,
        "staff": [s.__dict__ for s in full.staff],
        "capacity": [c.__dict__ for c in full.capacity],
        "submit": True,
    }
    saved = client.put(f"/api/v1/capacity/reports/{rid}", payload, content_type="application/json")
    assert saved.status_code == 200 and saved.json()["status"] == "submitted" and not saved.json()["late"]
    again = client.put(f"/api/v1/capacity/reports/{rid}", payload, content_type="application/json")
    assert again.status_code == 409
    corrected = client.post(
        f"/api/v1/capacity/reports/{rid}/correct", {"reason": "typo"}, content_type="application/json"
    )
    assert corrected.status_code == 201 and corrected.json()["version"] == 2
    client.force_login(world.charlie)
    assert (
        client.put(f"/api/v1/capacity/reports/{rid}", payload, content_type="application/json").status_code
        == 404
    )
    assert client.get("/api/v1/capacity/schedule").json()["quarter"] == "2026-Q4"
