"""CSV invoices over the API (rule C4): upload as multipart or as the raw body, stored and adjudicated at
once; a bad file is a 422 naming each row and column with nothing stored; who may send; the template. And
an invoice number is received once, by JSON as by CSV."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cshub.accounts.roles import Role
from cshub.claims.invoices import INVOICE_CSV_TEMPLATE
from cshub.claims.models import Claim, ClaimLine
from cshub.core.models import AuditEvent
from tests.claims.api_helpers import API, CLAIMS, claim_json, post
from tests.claims.conftest import authorize
from tests.claims.test_invoices_csv import csv_bytes, nav_row

pytestmark = pytest.mark.django_db

UPLOAD = f"{API}/claim-invoices.csv"
TEMPLATE = f"{API}/claim-invoices/template.csv"


def test_c4_csv_invoices_upload_as_multipart_is_stored_adjudicated_and_shown(client, clw):
    authorize(clw, units=10)
    data = csv_bytes(
        clw, nav_row(clw, "INV-1"), nav_row(clw, "INV-1", day="2026-11-03"), nav_row(clw, "INV-2")
    )
    client.force_login(clw.billing)
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("november.csv", data, "text/csv")})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["file_name"], body["count"]) == ("november.csv", 2)
    first, second = body["claims"]
    assert [first["patient_control_number"], second["patient_control_number"]] == ["INV-1", "INV-2"]
    assert (first["source"], first["channel"], first["kind"]) == ("invoice_csv", "upload", "invoice")
    assert (first["total_charge"], first["outcome"]) == ("250.00", "paid")
    assert first["url"] == f"{CLAIMS}/{first['id']}"
    assert AuditEvent.objects.filter(
        object_type="claims.Claim", action="list", detail__purpose="upload"
    ).exists()


def test_c4_csv_invoices_upload_as_the_raw_body(client, clw):
    client.force_login(clw.alice)
    response = client.post(
        UPLOAD,
        csv_bytes(clw, nav_row(clw, "INV-9")),
        content_type="text/csv",
        headers={"X-File-Name": "a.csv"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["file_name"] == "a.csv" and response.json()["count"] == 1


def test_c4_bad_csv_is_422_by_row_and_column_and_stores_nothing(client, clw):
    data = csv_bytes(clw, nav_row(clw, "INV-1", day="2026-13-40"), nav_row(clw, "INV-2", units="two"))
    client.force_login(clw.billing)
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("bad.csv", data, "text/csv")})
    assert response.status_code == 422
    found = {(e.get("row"), e["field"]) for e in response.json()["errors"]}
    assert {(1, "service_from"), (2, "units")} <= found
    assert response.json()["title"].startswith("bad.csv has")
    assert Claim.objects.count() == ClaimLine.objects.count() == 0
    assert client.post(UPLOAD, {}).status_code == 422  # no file
    empty = client.post(UPLOAD, b"", content_type="text/csv")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"


def test_c4_only_provider_billing_staff_and_leadership_upload_invoices(client, clw):
    data = csv_bytes(clw, nav_row(clw, "INV-1"))
    for user in (clw.bob, clw.processor, clw.plan_users[Role.PROVIDER_RELATIONS]):
        client.force_login(user)
        assert client.post(UPLOAD, data, content_type="text/csv").status_code == 403
    assert Claim.objects.count() == 0


def test_c4_the_csv_template_is_the_layout(client, clw):
    client.force_login(clw.billing)
    response = client.get(TEMPLATE)
    assert response.status_code == 200 and response.content.decode() == INVOICE_CSV_TEMPLATE


def test_c4_an_invoice_number_is_received_once_by_json_too(client, clw):
    client.force_login(clw.billing)
    assert post(client, CLAIMS, claim_json(clw, patient_control_number="INV-77")).status_code == 201
    again = post(client, CLAIMS, claim_json(clw, patient_control_number="INV-77"))
    assert again.status_code == 422
    assert [(e["field"], e["code"]) for e in again.json()["errors"]] == [
        ("patient_control_number", "duplicate_invoice")
    ]
    assert Claim.objects.count() == 1


def test_uploads_are_limited_by_cshub_max_upload_bytes_not_the_form_limit(client, clw, settings):
    data = csv_bytes(clw, nav_row(clw, "INV-1"))
    client.force_login(clw.billing)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50  # Django's limit for forms does not apply to a raw body
    assert client.post(UPLOAD, data, content_type="text/csv").status_code == 201
    settings.CSHUB_MAX_UPLOAD_BYTES = 100
    raw = client.post(UPLOAD, data + b"x" * 100, content_type="text/csv")
    assert raw.status_code == 422 and raw.json()["errors"][0]["code"] == "too_large"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    multipart = client.post(UPLOAD, {"file": SimpleUploadedFile("big.csv", data + b"x" * 100, "text/csv")})
    assert multipart.status_code == 422 and multipart.json()["errors"][0]["code"] == "too_large"
    assert Claim.objects.count() == 1
