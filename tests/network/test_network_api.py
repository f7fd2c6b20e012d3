"""Rules N1-N5 over /api/v1/network: happy paths and refusals."""

from __future__ import annotations

from django.core.cache import cache

from cshub.network.models import Application, GapItem, InterestForm
from tests.network.conftest import full_answers, make_application, pdf

BASE = "/api/v1/network"


def _pif(nw, **over):
    return {
        "plan": str(nw.plan.uuid),
        "organization_name": "Delta Housing Collective",
        "npi": "1234567893",
        "address_line": "1 River St",
        "city": "Sacramento",
        "zip_code": "95814",
        "contact_name": "Dee Delta",
        "contact_email": "dee@delta.example",
        "contact_phone": "9165550100",
        "counties": ["Sacramento"],
        "services": ["housing_deposits"],
        **over,
    }


def test_n1_public_interest_form_api_and_refusals(client, nw, settings):
    settings.CSHUB_INTEREST_FORM_RATE_LIMIT = "1/h"
    bad = client.post(f"{BASE}/interest-forms", _pif(nw, npi="1234567890"), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "npi"
    ok = client.post(f"{BASE}/interest-forms", _pif(nw), content_type="application/json")
    assert ok.status_code == 201 and ok.json()["number"].startswith("PIF-")
    again = client.post(f"{BASE}/interest-forms", _pif(nw, npi=""), content_type="application/json")
    assert again.status_code == 429
    assert InterestForm.objects.count() == 1
    cache.clear()


def test_n2_queue_and_invite_api(client, nw):
    client.post(f"{BASE}/interest-forms", _pif(nw), content_type="application/json")
    client.force_login(nw.alice)
    assert client.get(f"{BASE}/interest-forms").status_code == 403
    client.force_login(nw.network)
    items = client.get(f"{BASE}/interest-forms", {"q": "Delta"}).json()["items"]
    assert len(items) == 1
    csv = client.get(f"{BASE}/interest-forms.csv")
    assert b"Delta" in b"".join(csv.streaming_content)
    response = client.post(
        f"{BASE}/interest-forms/{items[0]['id']}/invite", {"version": 1}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["status"] == "draft"
    client.force_login(nw.other_plan_user)
    assert client.get(f"{BASE}/interest-forms/{items[0]['id']}").status_code == 404


def test_n3_application_api_draft_submit_read_only(client, nw):
    app = make_application(nw, submit=False)
    client.force_login(nw.alice)
    url = f"{BASE}/applications/{app.uuid}"
    detail = client.get(url).json()
    assert [s["id"] for s in detail["sections"]][:2] == ["1A", "1B"] and detail["missing"]
    r = client.patch(f"{url}/answers", {"answers": full_answers(app)}, content_type="application/json")
    assert r.status_code == 200, r.content
    r = client.post(f"{url}/submit", {}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "attachment_required"
    r = client.post(f"{url}/attachments", {"section": "1A", "file": pdf()})
    assert r.status_code == 201
    assert client.get(f"{url}/attachments/{r.json()['id']}").status_code == 200
    r = client.post(f"{url}/submit", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    r = client.patch(
        f"{url}/answers", {"answers": {"1B": {"years_serving": 9}}}, content_type="application/json"
    )
    assert r.status_code == 409 and "read-only" in r.json()["title"]
    client.force_login(nw.charlie)
    assert client.get(url).status_code == 404
    assert client.get(f"{BASE}/applications").json()["items"] == []


def test_n4_n5_review_api_gap_loop_and_npr(client, nw):
    app = make_application(nw)
    client.force_login(nw.alice)
    npr = client.post(
        f"{BASE}/applications/participation-requests",
        {"plan": str(nw.plan.uuid), "program": "ecm", "counties": ["Yolo"], "note": "ECM please"},
        content_type="application/json",
    )
    assert npr.status_code == 201
    assert (
        client.post(
            f"{BASE}/applications/{app.uuid}/decision",
            {"outcome": "approve"},
            content_type="application/json",
        ).status_code
        == 403
    )
    client.force_login(nw.network)
    queue = {
        a["number"] for a in client.get(f"{BASE}/applications", {"status": "under_review"}).json()["items"]
    }
    assert queue == {app.number, npr.json()["number"]}
    url = f"{BASE}/applications/{app.uuid}"
    assert (
        client.post(
            f"{url}/findings",
            {"section": "1H", "rating": "gap", "note": "policy"},
            content_type="application/json",
        ).status_code
        == 201
    )
    r = client.post(
        f"{url}/decision",
        {"outcome": "gap_closure", "items": [{"text": "Policy", "owner": "Alice", "due_date": "2026-12-31"}]},
        content_type="application/json",
    )
    assert r.status_code == 201
    item = GapItem.objects.get()
    client.force_login(nw.alice)
    r = client.post(f"{BASE}/gap-items/{item.uuid}/response", {"response": "Done", "files": [pdf()]})
    assert r.status_code == 200 and r.json()["status"] == "answered"
    client.force_login(nw.network)
    r = client.post(f"{BASE}/gap-items/{item.uuid}/review", {"accept": True}, content_type="application/json")
    assert r.status_code == 200
    assert Application.objects.get(pk=app.pk).status == "under_review"
    r = client.post(f"{url}/decision", {"outcome": "decline"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reasons"
    assert (
        client.post(f"{url}/decision", {"outcome": "approve"}, content_type="application/json").status_code
        == 201
    )
    history = client.get(f"{url}/history").json()
    assert [e["kind"] for e in history][-1] == "decision"
    csv = client.get(f"{BASE}/applications.csv")
    assert app.number.encode() in b"".join(csv.streaming_content)
