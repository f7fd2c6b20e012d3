"""The contracts and training API (issue 4 item 9; rules N6, N7, C1): happy paths and refusals; provider B
and another plan get 404 on provider A's contract."""

from __future__ import annotations

from cshub.contracts.models import ContractStatus
from tests.contracts.conftest import approve_certification, draft, execute, onboard, ready

API = "/api/v1/contracts"
TRAINING = "/api/v1/training"


def post(client, path, data, method="post"):
    return getattr(client, method)(path, data, content_type="application/json")


def test_n6_api_draft_rows_fee_execute_terminate(cw, client):
    ready(cw)
    client.force_login(cw.net)
    r = post(client, API, {"provider": str(cw.provider_a.uuid), "start_date": "2026-11-23"})
    assert r.status_code == 201, r.content
    body = r.json()
    uuid, version = body["uuid"], body["version"]
    assert body["status"] == "draft" and {p["field"] for p in body["execute_problems"]} == {"rows"}
    r = post(
        client,
        f"{API}/{uuid}/rows",
        {"version": version, "rows": [{"service": cw.nav.key, "county": "Sacramento"}]},
        method="put",
    )
    assert r.status_code == 200, r.content
    assert r.json()["rows"] == [{"service": cw.nav.key, "service_name": cw.nav.name, "county": "Sacramento"}]
    assert {p["field"] for p in r.json()["execute_problems"]} == {"fees"}
    version = r.json()["version"]
    r = post(
        client,
        f"{API}/{uuid}/fees",
        {"version": version, "code": cw.nav_code.code, "rate": "125.50", "effective_from": "2026-11-23"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["fees"][0]["rate"] == "125.50" and r.json()["execute_problems"] == []
    version = r.json()["version"]
    r = post(client, f"{API}/{uuid}/execute", {"version": version})
    assert r.status_code == 200 and r.json()["status"] == "executed"
    r = client.get(
        f"{API}/rate", {"provider": str(cw.provider_a.uuid), "code": cw.nav_code.code, "on": "2026-12-01"}
    )
    assert r.status_code == 200 and r.json()["fee"]["rate"] == "125.50"
    r = post(
        client,
        f"{API}/{uuid}/terminate",
        {
            "version": r.json() and client.get(f"{API}/{uuid}").json()["version"],
            "terminated_on": "2027-01-31",
            "reason": "Program closed",
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    assert [e["kind"] for e in r.json()["history"]][-1] == "terminated"


def test_n7_api_execute_refused_names_what_is_missing(cw, client):
    contract = draft(cw)
    client.force_login(cw.net)
    r = post(client, f"{API}/{contract.uuid}/execute", {"version": contract.version})
    assert r.status_code == 422
    body = r.json()
    assert {e["field"] for e in body["errors"]} == {"certification", "attestation"}
    assert "cannot be executed yet" in body["title"] and "training attestation" in body["title"]


def test_n6_api_executed_contract_edit_refused_and_stale_version(cw, client):
    ready(cw)
    contract = execute(cw, draft(cw))
    client.force_login(cw.net)
    r = post(
        client,
        f"{API}/{contract.uuid}/fees",
        {"version": contract.version, "code": cw.nav_code.code, "rate": "1", "effective_from": "2027-01-01"},
    )
    assert r.status_code == 409 and r.json()["type"].endswith("contract_not_editable")
    r = post(
        client,
        f"{API}/{contract.uuid}/terminate",
        {"version": 1, "terminated_on": "2027-01-31", "reason": "x"},
    )
    assert r.status_code == 409
    r = post(
        client, f"{API}/{contract.uuid}/amend", {"version": contract.version, "start_date": "2027-01-01"}
    )
    assert r.status_code == 201 and r.json()["supersedes"] == contract.number


def test_n6_api_fee_validation_422(cw, client):
    contract = draft(cw, fees=False)
    client.force_login(cw.net)
    r = post(
        client,
        f"{API}/{contract.uuid}/fees",
        {
            "version": contract.version,
            "code": cw.meals_code.code,
            "rate": "0",
            "effective_from": "2026-11-23",
        },
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"code", "rate"}
    r = post(
        client,
        f"{API}/{contract.uuid}/rows",
        {"version": contract.version, "rows": [{"service": "nope", "county": "Atlantis"}]},
        method="put",
    )
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {
        "rows.0.service",
        "rows.0.county",
    }


def test_n6_api_list_filters_and_privacy(cw, client):
    a = draft(cw)
    b = draft(cw, org=cw.provider_b, rows=[(cw.meals, cw.yolo)], fees=False)
    client.force_login(cw.net)
    r = client.get(API)
    assert r.json()["count"] == 2
    assert [
        c["number"] for c in client.get(API, {"county": "Yolo", "service": cw.meals.key}).json()["items"]
    ] == [b.number]
    assert client.get(API, {"provider": str(cw.provider_a.uuid)}).json()["items"][0]["number"] == a.number
    assert client.get(API, {"status": "executed"}).json()["count"] == 0
    assert client.get(API, {"county": "Yolo", "service": cw.nav.key}).json()["count"] == 1  # one row, both
    assert client.get(API, {"county": "Sacramento", "service": cw.meals.key}).json()["count"] == 0
    client.force_login(cw.alice)
    assert [c["number"] for c in client.get(API).json()["items"]] == [a.number]
    assert client.get(f"{API}/{a.uuid}").status_code == 200
    assert client.get(f"{API}/{a.uuid}").json()["execute_problems"] == []  # providers are not told the guard
    for outsider in (cw.charlie, cw.other_plan_user):
        client.force_login(outsider)
        assert client.get(f"{API}/{a.uuid}").status_code == 404
        assert post(client, f"{API}/{a.uuid}/execute", {"version": a.version}).status_code == 404
    client.force_login(cw.bob)
    assert client.get(API).status_code == 403
    client.force_login(cw.alice)
    r = post(client, API, {"provider": str(cw.provider_a.uuid), "start_date": "2026-11-23"})
    assert r.status_code == 403


def test_n7_api_training_completion_attestation_overdue(cw, client):
    r = client.get(f"{TRAINING}/courses")
    assert r.status_code == 200 and any(c["required_for_contracting"] for c in r.json())
    client.force_login(cw.bob)
    r = post(client, f"{TRAINING}/completions", {"course": "cs_onboarding", "completed_on": "2026-11-20"})
    assert r.status_code == 201 and r.json()["course_title"] == "Community Supports provider onboarding"
    r = post(client, f"{TRAINING}/completions", {"course": "nope", "completed_on": "2030-01-01"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"course", "completed_on"}
    r = post(client, f"{TRAINING}/attestations", {"plan": str(cw.plan.uuid), "courses": ["cs_onboarding"]})
    assert r.status_code == 403  # a care coordinator does not attest
    client.force_login(cw.alice)
    r = post(client, f"{TRAINING}/attestations", {"plan": str(cw.plan.uuid), "courses": []})
    assert r.status_code == 422 and "must cover" in r.json()["errors"][0]["message"]
    r = post(client, f"{TRAINING}/attestations", {"plan": str(cw.plan.uuid), "courses": ["cs_onboarding"]})
    assert r.status_code == 201 and r.json()["attested_by"] == str(cw.alice)
    assert client.get(f"{TRAINING}/completions").json()["count"] == 1
    client.force_login(cw.charlie)
    assert client.get(f"{TRAINING}/completions").json()["count"] == 0
    assert client.get(f"{TRAINING}/attestations").json()["count"] == 0
    client.force_login(cw.net)
    assert client.get(f"{TRAINING}/attestations").json()["count"] == 1
    approve_certification(cw, cw.provider_a)
    contract = execute(cw, draft(cw))
    assert contract.status == ContractStatus.EXECUTED
    cw.frozen.move_to("2027-03-01 12:00-08:00")
    client.force_login(cw.net)  # a new session on the moved clock
    overdue = client.get(f"{TRAINING}/overdue").json()
    assert {(o["organization"]["name"], o["course"]) for o in overdue} >= {
        ("Provider A Housing Services", "cs_annual_refresher")
    }
    client.force_login(cw.alice)
    assert {o["course"] for o in client.get(f"{TRAINING}/status").json()} >= {"cs_annual_refresher"}
    client.force_login(cw.charlie)
    assert client.get(f"{TRAINING}/overdue").json() == []


def test_n7_api_leadership_records_for_a_colleague(cw, client):
    onboard(cw, cw.alice)
    client.force_login(cw.alice)
    r = post(
        client,
        f"{TRAINING}/completions",
        {"course": "cultural_competency", "completed_on": "2026-11-20", "person": str(cw.bob.uuid)},
    )
    assert r.status_code == 201 and r.json()["person_email"] == cw.bob.email
    r = post(
        client,
        f"{TRAINING}/completions",
        {"course": "cultural_competency", "completed_on": "2026-11-20", "person": str(cw.charlie.uuid)},
    )
    assert r.status_code == 422
