"""The 837P file pages (rule C3) and the CSV invoice upload (rule C4): upload answered by a 999, the file
page with the answer in words, the problems and refusals, the claims in it and the downloads; the same file
twice changes nothing; a CSV with problems stores nothing and lists each by row and column."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cshub.claims.models import Claim, ClaimFile, ClaimSource, LineStatus
from cshub.core.models import AuditEvent
from tests.claims.conftest import SERVICE_DAY, authorize
from tests.claims.test_ingest import batch, claim_out

pytestmark = pytest.mark.django_db


def x12_upload(data: bytes, name: str = "claims.837") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/edi-x12")


def csv_upload(text: str, name: str = "invoices.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- 837P upload and the file page --------------------------------------------------------------------------


def test_c3_provider_uploads_an_837p_and_sees_the_999_the_claims_and_the_downloads(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    page = client.get(reverse("claims:file_upload"))
    assert page.status_code == 200 and 'for="id_file"' in page.content.decode()
    data = batch(clw, [claim_out(clw, pcn="PCN-1"), claim_out(clw, pcn="PCN-2", member=clw.member_b)])
    response = client.post(reverse("claims:file_upload"), {"file": x12_upload(data)}, follow=True)
    assert response.status_code == 200
    claim_file = ClaimFile.objects.get()
    assert response.redirect_chain[-1][0] == reverse("claims:file_detail", args=[claim_file.uuid])
    body = response.content.decode()
    assert "999 acknowledgement: Accepted (A)." in body and "2 claims stored" in body
    assert sorted(c.patient_control_number for c in response.context["page_obj"]) == ["PCN-1", "PCN-2"]
    assert {c.source for c in Claim.objects.all()} == {ClaimSource.EDI_837P}
    original = client.get(reverse("claims:file_original", args=[claim_file.uuid]))
    assert b"".join(original.streaming_content) == data
    ack = client.get(reverse("claims:file_999", args=[claim_file.uuid]))
    assert b"".join(ack.streaming_content).startswith(b"ISA")
    assert (
        AuditEvent.objects.filter(actor=clw.billing, object_type="claims.ClaimFile", action="read").count()
        == 2
    )
    # The claim page links back to the file.
    claim = Claim.objects.get(patient_control_number="PCN-1")
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert 'data-testid="file-link"' in page.content.decode()
    # The list shows the file; provider B sees neither the list row nor the page.
    page = client.get(reverse("claims:file_list"))
    assert [f.uuid for f in page.context["page_obj"]] == [claim_file.uuid]
    client.force_login(clw.charlie)
    assert list(client.get(reverse("claims:file_list")).context["page_obj"]) == []
    for name in ("claims:file_detail", "claims:file_original", "claims:file_999"):
        assert client.get(reverse(name, args=[claim_file.uuid])).status_code == 404


def test_c3_the_same_file_twice_changes_nothing_and_says_so(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    data = batch(clw, [claim_out(clw)])
    client.post(reverse("claims:file_upload"), {"file": x12_upload(data)})
    response = client.post(
        reverse("claims:file_upload"), {"file": x12_upload(data, "again.837")}, follow=True
    )
    assert "already received" in response.content.decode()
    assert ClaimFile.objects.count() == 1 and Claim.objects.count() == 1


def test_c3_a_file_that_is_not_x12_is_rejected_with_its_problems_listed(client, clw):
    client.force_login(clw.billing)
    response = client.post(
        reverse("claims:file_upload"), {"file": x12_upload(b"this is not an 837", "notes.txt")}, follow=True
    )
    claim_file = ClaimFile.objects.get()
    assert claim_file.ack_code == ClaimFile.Ack.REJECTED
    body = response.content.decode()
    assert "Rejected (R)" in body and "nothing in the file was read" in body
    assert response.context["problems"] and 'data-testid="problem"' in body
    assert Claim.objects.count() == 0


def test_c3_claims_for_another_payer_are_refused_and_listed(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    data = batch(clw, [claim_out(clw, pcn="OURS"), claim_out(clw, pcn="THEIRS", payer="99999")])
    response = client.post(reverse("claims:file_upload"), {"file": x12_upload(data)}, follow=True)
    body = response.content.decode()
    assert 'data-testid="refusal"' in body and "THEIRS" in body
    assert list(Claim.objects.values_list("patient_control_number", flat=True)) == ["OURS"]


def test_c3_empty_file_shows_the_error_and_stores_nothing(client, clw):
    client.force_login(clw.billing)
    response = client.post(reverse("claims:file_upload"), {"file": x12_upload(b"", "empty.837")})
    assert response.status_code == 422
    assert ClaimFile.objects.count() == 0


def test_c3_plan_processors_upload_and_see_files_with_claims_for_the_plan(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    client.post(reverse("claims:file_upload"), {"file": x12_upload(batch(clw, [claim_out(clw)]))})
    client.force_login(clw.processor)
    assert client.get(reverse("claims:file_upload")).status_code == 200
    page = client.get(reverse("claims:file_list"))
    assert len(page.context["page_obj"]) == 1
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    client.get(reverse("claims:file_list"), {"format": "csv"}).streaming_content
                ).decode()
            )
        )
    )
    assert rows[0]["ack"] == "Accepted" and rows[0]["claims"] == "1"
    assert len(client.get(reverse("claims:file_list"), {"ack": "R"}).context["page_obj"]) == 0


@pytest.mark.parametrize("who", ["bob", "net"])
def test_c3_upload_is_for_billing_staff_and_claims_processors(client, clw, who):
    client.force_login(getattr(clw, who))
    assert client.get(reverse("claims:file_upload")).status_code == 403
    assert client.post(reverse("claims:file_upload"), {"file": x12_upload(b"ISA")}).status_code == 403
    assert ClaimFile.objects.count() == 0


# --- CSV invoice upload -----------------------------------------------------------------------------------


def invoice_csv(clw, rows: list[str]) -> str:
    header = (
        "invoice_number,member_id,diagnosis_codes,hcpcs,modifiers,service_from,service_to,units,charge,"
        "authorization_number,place_of_service,rendering_npi"
    )
    return "\r\n".join([header, *rows]) + "\r\n"


def test_c4_invoice_upload_offers_the_template(client, clw):
    client.force_login(clw.billing)
    page = client.get(reverse("claims:invoice_upload"))
    assert page.status_code == 200 and 'data-testid="template-link"' in page.content.decode()
    template = client.get(reverse("claims:invoice_template"))
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode().startswith("invoice_number,member_id,diagnosis_codes,hcpcs")


def test_c4_csv_invoices_are_stored_adjudicated_and_listed(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    code = clw.nav_code
    day = SERVICE_DAY.isoformat()
    text = invoice_csv(
        clw,
        [
            f"INV-1,{clw.member_a.cin},Z59.01,{code.hcpcs},{code.modifier},{day},{day},1,125.00,,12,",
            f"INV-2,{clw.member_a.cin},Z59.01,{code.hcpcs},{code.modifier},2026-11-03,2026-11-03,1,125.00,,12,",
        ],
    )
    response = client.post(reverse("claims:invoice_upload"), {"file": csv_upload(text)})
    assert response.status_code == 200
    received = response.context["received"]
    assert [c.patient_control_number for c in received] == ["INV-1", "INV-2"]
    assert 'data-testid="received-row"' in response.content.decode()
    assert "2 invoices received from invoices.csv" in response.content.decode()
    claims = Claim.objects.order_by("patient_control_number")
    assert [c.source for c in claims] == [ClaimSource.INVOICE_CSV] * 2
    assert all(c.lines.get().status == LineStatus.PAID for c in claims)


def test_c4_csv_with_problems_lists_them_by_row_and_column_and_stores_nothing(client, clw):
    client.force_login(clw.billing)
    code = clw.nav_code
    text = invoice_csv(
        clw,
        [
            f"INV-1,{clw.member_a.cin},Z59.01,{code.hcpcs},{code.modifier},2026-11-02,,1,125.00,,12,",
            f"INV-2,,Z59.01,{code.hcpcs},{code.modifier},not-a-date,,1,abc,,12,",
        ],
    )
    response = client.post(reverse("claims:invoice_upload"), {"file": csv_upload(text)})
    assert response.status_code == 422
    errors = [(e.row, e.field) for e in response.context["errors"]]
    assert (2, "member_id") in errors and (2, "service_from") in errors and (2, "charge") in errors
    body = response.content.decode()
    assert 'data-testid="upload-errors"' in body and "Nothing was saved." in body
    assert body.count('data-testid="upload-error"') == len(errors)
    assert Claim.objects.count() == 0


@pytest.mark.parametrize("who", ["bob", "processor", "charlie_no_contract"])
def test_c4_invoice_upload_is_for_provider_billing_staff(client, clw, who):
    if who == "charlie_no_contract":
        client.force_login(clw.charlie)  # provider B's CEO may upload (and sees its own problems)
        assert client.get(reverse("claims:invoice_upload")).status_code == 200
        return
    client.force_login(getattr(clw, who))
    assert client.get(reverse("claims:invoice_upload")).status_code == 403
    assert client.get(reverse("claims:invoice_template")).status_code == 403
