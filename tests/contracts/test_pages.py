"""Contract and training pages (rules N6, N7): list filters, pages and CSV; the contract page's editor,
execute refusal with the clear message, terminate; training pages on both sides; outsiders get 404."""

from __future__ import annotations

from datetime import date

from cshub.contracts.models import Contract, ContractStatus
from tests.contracts.conftest import approve_certification, draft, execute, onboard, ready


def test_n6_list_filters_csv_and_scope(cw, client):
    a = draft(cw)
    b = draft(cw, org=cw.provider_b, rows=[(cw.meals, cw.yolo)], fees=False)
    client.force_login(cw.net)
    r = client.get("/contracts/")
    assert r.status_code == 200 and a.number in r.text and b.number in r.text
    r = client.get("/contracts/", {"county": "Yolo", "service": cw.meals.key})
    assert b.number in r.text and a.number not in r.text
    r = client.get("/contracts/", {"provider": str(cw.provider_a.uuid), "status": "draft"})
    assert a.number in r.text and b.number not in r.text
    r = client.get("/contracts/", {"format": "csv", "service": cw.meals.key})
    body = b"".join(r.streaming_content).decode()
    assert (
        body.splitlines()[0].startswith("number,status,plan,provider")
        and b.number in body
        and a.number not in body
    )
    client.force_login(cw.alice)
    r = client.get("/contracts/")
    assert a.number in r.text and b.number not in r.text
    client.force_login(cw.bob)
    assert client.get("/contracts/").status_code == 403


def test_n6_new_contract_page(cw, client):
    client.force_login(cw.net)
    assert client.get("/contracts/new/").status_code == 200
    r = client.post("/contracts/new/", {"organization": str(cw.provider_a.uuid), "start_date": "2026-11-23"})
    contract = Contract.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/contracts/{contract.uuid}/"
    r = client.post(
        "/contracts/new/",
        {"organization": str(cw.provider_a.uuid), "start_date": "2026-11-23", "end_date": "2026-01-01"},
    )
    assert r.status_code == 422 and "The end date is before the start date." in r.text
    client.force_login(cw.alice)
    assert client.get("/contracts/new/").status_code == 403


def test_n6_n7_contract_page_editor_and_execute_refusal(cw, client):
    contract = draft(cw, rows=[], fees=False)
    client.force_login(cw.net)
    url = f"/contracts/{contract.uuid}/"
    r = client.get(url)
    assert r.status_code == 200 and "Before this contract can be executed" in r.text
    r = client.post(
        f"{url}rows/",
        {"version": contract.version, "services": [cw.nav.pk], "counties": [cw.sac.pk, cw.yolo.pk]},
    )
    assert r.status_code == 302
    contract.refresh_from_db()
    assert contract.rows.count() == 2
    r = client.post(
        f"{url}fees/",
        {"version": contract.version, "code": cw.nav_code.code, "rate": "0", "effective_from": "2026-11-23"},
    )
    assert r.status_code == 422 and "The rate must be more than zero." in r.text
    r = client.post(
        f"{url}fees/",
        {
            "version": contract.version,
            "code": cw.nav_code.code,
            "rate": "99.95",
            "effective_from": "2026-11-23",
        },
    )
    assert r.status_code == 302
    contract.refresh_from_db()
    r = client.post(f"{url}execute/", {"version": contract.version})
    assert r.status_code == 422
    assert f"Contract {contract.number} cannot be executed yet" in r.text
    assert "certification is not approved for contracting" in r.text
    assert "No training attestation from Provider A Housing Services" in r.text
    r = client.post(f"{url}execute/", {"version": contract.version - 1})
    assert r.status_code == 409
    ready(cw)
    r = client.post(f"{url}execute/", {"version": contract.version})
    assert r.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXECUTED
    r = client.get(url)
    assert "Terminate contract" in r.text and "Add rate" not in r.text
    r = client.post(
        f"{url}rows/", {"version": contract.version, "services": [cw.meals.pk], "counties": [cw.sac.pk]}
    )
    assert r.status_code == 409 and "Amend it" in r.text
    r = client.post(
        f"{url}terminate/", {"version": contract.version, "terminated_on": "2027-01-31", "reason": ""}
    )
    assert r.status_code == 422
    r = client.post(
        f"{url}terminate/", {"version": contract.version, "terminated_on": "2027-01-31", "reason": "Closed"}
    )
    assert r.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED and contract.terminated_on == date(2027, 1, 31)


def test_n6_contract_page_outsiders_404(cw, client):
    contract = draft(cw)
    for outsider in (cw.charlie, cw.other_plan_user):
        client.force_login(outsider)
        assert client.get(f"/contracts/{contract.uuid}/").status_code == 404
        assert client.post(f"/contracts/{contract.uuid}/execute/", {"version": 1}).status_code == 404
    client.force_login(cw.alice)
    r = client.get(f"/contracts/{contract.uuid}/")
    assert r.status_code == 200 and "Execute contract" not in r.text
    assert (
        client.post(f"/contracts/{contract.uuid}/execute/", {"version": contract.version}).status_code == 403
    )


def test_n7_training_pages_both_sides(cw, client):
    assert "Community Supports provider onboarding" in client.get("/training/catalog/").text
    client.force_login(cw.bob)
    r = client.get("/training/")
    assert r.status_code == 200 and "Nobody in your organization has completed" in r.text
    assert "Attest training" not in r.text
    r = client.post(
        "/training/",
        {
            "action": "complete",
            "person": str(cw.bob.uuid),
            "course": "cs_onboarding",
            "completed_on": "2026-11-20",
        },
    )
    assert r.status_code == 302
    client.force_login(cw.alice)
    r = client.post(
        "/training/", {"action": "attest", "plan": str(cw.plan.uuid), "courses": ["cs_onboarding"]}
    )
    assert r.status_code == 302
    r = client.get("/training/")
    assert "Golden State Health Plan by" in r.text and "Nobody in your organization" not in r.text
    approve_certification(cw, cw.provider_a)
    execute(cw, draft(cw, start=date(2026, 6, 1)))
    r = client.get("/training/")
    assert 'data-testid="overdue"' in r.text
    client.force_login(cw.net)
    r = client.get("/training/network/")
    assert (
        r.status_code == 200
        and "Provider A Housing Services" in r.text
        and "CS annual refresher" not in r.text
    )
    assert "Community Supports annual refresher" in r.text
    body = b"".join(client.get("/training/network/", {"format": "csv"}).streaming_content).decode()
    assert "Provider A Housing Services" in body
    client.force_login(cw.charlie)
    r = client.get("/training/")
    assert "Bob" not in r.text and "bob@a.example" not in r.text
    assert client.get("/training/network/").status_code == 403


def test_n7_nav_entries(cw, client):
    client.force_login(cw.net)
    r = client.get("/contracts/")
    assert 'href="/training/network/"' in r.text and 'href="/contracts/"' in r.text
    onboard(cw, cw.alice)
    client.force_login(cw.alice)
    r = client.get("/training/")
    assert 'href="/contracts/"' in r.text and 'href="/training/"' in r.text
