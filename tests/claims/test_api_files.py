"""837P files over the API (rule C3): the raw body or a multipart file, answered with the 999 (201; 200 and
nothing changed when received before); the file with its problems, refusals and claims; the 999 and the
original as downloads; privacy (provider B gets 404 and never sees provider A's file, even by sending the
same bytes); refusals of role, content type and empty bodies; flat query counts for the list."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cshub.claims.models import Claim, ClaimFile
from cshub.core.models import AuditEvent
from tests.claims.api_helpers import API, CLAIMS
from tests.claims.conftest import authorize
from tests.claims.test_ingest import batch, claim_out

pytestmark = pytest.mark.django_db

FILES = f"{API}/claim-files"
X12 = "application/edi-x12"


def _send(client, user, data: bytes, name: str = "nov.837", content_type: str = X12):
    client.force_login(user)
    return client.post(FILES, data, content_type=content_type, headers={"X-File-Name": name})


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_c3_837p_as_the_raw_body_is_stored_answered_and_adjudicated(client, clw):
    authorize(clw, units=10)
    data = batch(clw, [claim_out(clw, "PCN-1"), claim_out(clw, "PCN-2", member=clw.member_b)])
    response = _send(client, clw.billing, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    saved = ClaimFile.objects.get(uuid=body["id"])
    assert (saved.channel, saved.submitter_organization, saved.original_name) == (
        "api",
        clw.provider_a,
        "nov.837",
    )
    assert (body["ack_code"], body["ack_label"], body["duplicate"]) == ("A", "Accepted", False)
    assert (body["transaction_set_count"], body["claim_count"], body["line_count"]) == (1, 2, 2)
    assert body["problems"] == [] and body["refusals"] == []
    assert body["message"] == "nov.837: accepted; 2 claims stored."
    assert body["submitter_organization"]["name"] == clw.provider_a.name
    numbers = {c.number: c for c in Claim.objects.filter(claim_file=saved)}
    assert {c["number"] for c in body["claims"]} == set(numbers)
    assert {c["patient_control_number"]: c["outcome"] for c in body["claims"]} == {
        "PCN-1": "paid",
        "PCN-2": "denied",  # member B has no authorization
    }
    base = f"{FILES}/{body['id']}"
    assert body["links"] == {
        "self": base,
        "original": f"{base}/original",
        "claims": f"{CLAIMS}?claim_file={body['id']}",
        "ack_999": f"{base}/999",
    }
    ack = client.get(body["links"]["ack_999"])
    assert ack.status_code == 200 and ack["Content-Type"] == X12
    assert b"AK9*A*1*1*1" in _body(ack)
    original = client.get(body["links"]["original"])
    assert original["Content-Type"] == X12 and _body(original) == data
    assert AuditEvent.objects.filter(
        object_type="claims.ClaimFile", action="read", object_id=body["id"]
    ).exists()
    listed = client.get(body["links"]["claims"]).json()
    assert {c["number"] for c in listed["items"]} == set(numbers)
    assert client.get(f"{CLAIMS}/{body['claims'][0]['id']}").json()["claim_file"] == body["id"]


def test_c3_the_same_file_twice_is_200_and_changes_nothing(client, clw):
    data = batch(clw, [claim_out(clw)])
    first = _send(client, clw.billing, data).json()
    again = _send(client, clw.billing, data, name="again.837")
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["duplicate"]) == (first["id"], True)
    assert "already received" in again.json()["message"]
    assert (ClaimFile.objects.count(), Claim.objects.count()) == (1, 1)


def test_c3_provider_b_never_sees_provider_as_file(client, clw):
    data = batch(clw, [claim_out(clw)])
    sent = _send(client, clw.billing, data).json()
    same = _send(client, clw.charlie, data)  # the same bytes from provider B
    assert same.status_code == 409
    assert same.json()["type"].endswith("duplicate_interchange")
    assert sent["id"] not in same.content.decode() and "PCN-1" not in same.content.decode()
    client.force_login(clw.charlie)
    for url in (f"{FILES}/{sent['id']}", f"{FILES}/{sent['id']}/999", f"{FILES}/{sent['id']}/original"):
        assert client.get(url).status_code == 404, url
    assert client.get(FILES).json()["count"] == 0
    assert client.get(f"{CLAIMS}?claim_file={sent['id']}").json()["count"] == 0
    client.force_login(clw.other_plan_user)
    assert client.get(f"{FILES}/{sent['id']}").status_code == 404


def test_c3_multipart_upload_by_the_plans_processor_and_who_sees_it(client, clw):
    data = batch(clw, [claim_out(clw)])
    client.force_login(clw.processor)
    response = client.post(FILES, {"file": SimpleUploadedFile("drop.837", data, "text/plain")})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["original_name"], body["claim_count"]) == ("drop.837", 1)
    assert body["submitter_organization"]["name"] == clw.plan.name
    client.force_login(clw.billing)  # provider A did not send it but sees its claim
    assert client.get(FILES).json()["count"] == 0
    assert client.get(CLAIMS).json()["count"] == 1


def test_c3_a_malformed_file_is_answered_with_its_problems_and_stores_no_claim(client, clw):
    data = batch(clw, [claim_out(clw)]).replace(b"DMG*D8*19800517", b"DMG*D8*19801317")
    response = _send(client, clw.billing, data)
    assert response.status_code == 201
    body = response.json()
    assert (body["ack_code"], body["claim_count"], body["claims"]) == ("R", 0, [])
    problem = next(p for p in body["problems"] if p["segment_id"] == "DMG")
    assert problem["element_position"] == 2 and problem["segment_position"] > 1
    assert b"IK5*R" in _body(client.get(body["links"]["ack_999"]))
    assert Claim.objects.count() == 0


def test_c3_claims_refused_after_the_999_are_listed(client, clw):
    data = batch(clw, [claim_out(clw, "GOOD"), claim_out(clw, "OTHERPAYER", payer="12345")])
    body = _send(client, clw.billing, data).json()
    assert body["claim_count"] == 1
    assert [(r["patient_control_number"], r["errors"][0]["field"]) for r in body["refusals"]] == [
        ("OTHERPAYER", "payer_id")
    ]


def test_c3_refusals_of_role_content_type_and_empty_bodies(client, clw):
    data = batch(clw, [claim_out(clw)])
    assert _send(client, clw.bob, data).status_code == 403
    wrong = _send(client, clw.billing, data, content_type="application/json")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "content_type"
    empty = _send(client, clw.billing, b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"
    client.force_login(clw.billing)
    assert client.post(FILES, {}).status_code == 422  # multipart without a file
    assert ClaimFile.objects.count() == 0


def test_c3_file_list_filter_and_query_count(client, clw):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(FILES)
        assert response.status_code == 200
        return len(ctx)

    _send(client, clw.billing, batch(clw, [claim_out(clw, "P-1")]))
    few = count()
    for i in range(4):
        _send(client, clw.billing, batch(clw, [claim_out(clw, f"P-{i + 2}")]))
    assert count() == few
    _send(client, clw.billing, b"ISA*garbage~")
    assert client.get(FILES).json()["count"] == 6
    assert client.get(f"{FILES}?ack=R").json()["count"] == 1
    assert client.get(f"{FILES}?ack=Z").status_code == 422
    client.force_login(clw.processor)
    assert client.get(FILES).json()["count"] == 5  # the files with claims for the plan
