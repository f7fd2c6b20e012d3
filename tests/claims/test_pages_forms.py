"""The entry forms (rule C4): the provider's invoice form, the paper CMS-1500 and the paper invoice entered by
the plan's claims staff with the received date stamp (rule C5) and the scanned image. Each stores and
adjudicates the claim through `claims_receive`; bad input shows every error beside its field and a summary
at the top, and stores nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cshub.claims.models import Claim, ClaimSource, LineStatus, ReceiptChannel
from tests.claims.conftest import SERVICE_DAY, authorize
from tests.members.factories import exe_upload, pdf_upload

pytestmark = pytest.mark.django_db


def nav_value(clw) -> str:
    return f"{clw.nav_code.hcpcs}|{clw.nav_code.modifier}"


def invoice_post(clw, **overrides) -> dict:
    data = {
        "lines": "1",
        "member_id": clw.member_a.cin,
        "patient_control_number": "INV-100",
        "diagnosis_code": "Z59.01",
        "authorization_number": "",
        "line1_code": nav_value(clw),
        "line1_service_from": SERVICE_DAY.isoformat(),
        "line1_service_to": SERVICE_DAY.isoformat(),
        "line1_units": "1",
        "line1_charge": "125.00",
    }
    data.update(overrides)
    return data


def errors_of(response) -> dict[str, list[str]]:
    return {k: [str(e) for e in v] for k, v in response.context["form"].errors.items()}


# --- the provider's invoice form ---------------------------------------------------------------------------


def test_c4_invoice_form_offers_the_codes_the_providers_contract_pays_for_with_the_rate(client, clw):
    client.force_login(clw.billing)
    page = client.get(reverse("claims:invoice_new"))
    assert page.status_code == 200
    choices = dict(page.context["form"].fields["line1_code"].choices)
    assert choices[nav_value(clw)].endswith("$125.00 per month")
    assert "$20.00 per meal" in choices[f"{clw.meals_code.hcpcs}|{clw.meals_code.modifier}"]
    assert len(choices) == 3  # the blank choice and the two codes of the contract
    body = page.content.decode()
    assert 'for="id_member_id"' in body and "Medi-Cal ID (CIN)" in body
    assert 'id="invoice-rates"' in body and "claims/invoice.js" in body


def test_c4_invoice_form_stores_and_adjudicates_the_invoice_and_shows_the_decision(client, clw):
    authorize(clw)
    client.force_login(clw.billing)
    response = client.post(reverse("claims:invoice_new"), invoice_post(clw), follow=True)
    assert response.status_code == 200
    claim = Claim.objects.get()
    assert (claim.source, claim.channel) == (ClaimSource.INVOICE_WEB, ReceiptChannel.WEB)
    assert claim.billing_organization == clw.provider_a and claim.member == clw.member_a
    assert claim.patient_control_number == "INV-100" and claim.diagnosis_codes == ["Z59.01"]
    assert claim.entered_by == clw.billing
    assert claim.lines.get().status == LineStatus.PAID
    assert response.redirect_chain[-1][0] == reverse("claims:detail", args=[claim.uuid])
    body = response.content.decode()
    assert f"Invoice {claim.number} received" in body and "Decision: paid, $125.00 allowed" in body
    assert "Paid $125.00 as billed under the contract." in body


def test_c4_invoice_form_with_two_lines_and_an_authorization_number(client, clw):
    auth = authorize(clw)
    client.force_login(clw.billing)
    other_day = (SERVICE_DAY + dt.timedelta(days=1)).isoformat()
    data = invoice_post(
        clw,
        lines="2",
        authorization_number=auth.number.lower(),
        line2_code=nav_value(clw),
        line2_service_from=other_day,
        line2_service_to=other_day,
        line2_units="2",
        line2_charge="250.00",
    )
    assert client.post(reverse("claims:invoice_new"), data).status_code == 302
    claim = Claim.objects.get()
    assert claim.authorization_number_billed == auth.number
    assert [ln.status for ln in claim.lines.order_by("number")] == [LineStatus.PAID, LineStatus.PAID]
    assert str(claim.total_charge) == "375.00"


def test_c4_invoice_form_adds_and_removes_line_rows_keeping_what_was_typed(client, clw):
    client.force_login(clw.billing)
    page = client.post(reverse("claims:invoice_new"), invoice_post(clw, resize="add"))
    assert page.status_code == 200 and not page.context["form"].is_bound
    assert [r["n"] for r in page.context["line_rows"]] == [1, 2]
    body = page.content.decode()
    assert 'id="id_line2_code"' in body and f'value="{clw.member_a.cin}"' in body
    assert not page.context["summary"]
    page = client.post(reverse("claims:invoice_new"), invoice_post(clw, lines="6", resize="add"))
    assert len(page.context["line_rows"]) == 6  # at most six
    page = client.post(reverse("claims:invoice_new"), invoice_post(clw, lines="2", resize="remove"))
    assert len(page.context["line_rows"]) == 1
    assert Claim.objects.count() == 0


def test_c4_invoice_form_errors_show_beside_each_field_with_a_summary_and_store_nothing(client, clw):
    client.force_login(clw.billing)
    before = Claim.objects.count()
    future = (SERVICE_DAY + dt.timedelta(days=60)).isoformat()
    response = client.post(
        reverse("claims:invoice_new"),
        invoice_post(
            clw,
            member_id="",
            diagnosis_code="ZZZ",
            line1_code="",
            line1_service_to=future,
            line1_units="",
        ),
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert "member_id" in errors and "Medi-Cal ID" in errors["member_id"][0]
    assert "diagnosis_code" in errors
    assert "line1_code" in errors and "HCPCS" in errors["line1_code"][0]
    assert "line1_service_to" in errors and "in the future" in errors["line1_service_to"][0]
    assert "line1_units" in errors
    body = response.content.decode()
    assert 'data-testid="form-errors"' in body and "Nothing was saved." in body
    assert body.count('data-testid="summary-error"') == sum(len(v) for v in errors.values())
    assert 'href="#id_line1_units"' in body
    assert Claim.objects.count() == before


def test_c4_invoice_form_type_errors_and_service_errors_show_together(client, clw):
    """A field the form refuses (not a number) and a field the service refuses (no member ID) show at once."""
    client.force_login(clw.billing)
    response = client.post(reverse("claims:invoice_new"), invoice_post(clw, member_id="", line1_units="two"))
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["line1_units"] == ["Enter a number."]  # the form's message only, not also the service's
    assert "member_id" in errors
    assert Claim.objects.count() == 0


def test_c4_invoice_form_refuses_another_providers_member_id_format_only_by_the_service(client, clw):
    """An unknown member is not a form error: the invoice is stored and denied CO-31 so the provider sees
    why (rule C1)."""
    client.force_login(clw.billing)
    response = client.post(reverse("claims:invoice_new"), invoice_post(clw, member_id="99999999Z"))
    assert response.status_code == 302
    assert Claim.objects.get().outcome == "denied"


@pytest.mark.parametrize("who", ["bob", "processor", "net"])
def test_c4_invoice_form_is_for_provider_billing_staff_and_leaders(client, clw, who):
    client.force_login(getattr(clw, who))
    assert client.get(reverse("claims:invoice_new")).status_code == 403
    assert client.post(reverse("claims:invoice_new"), invoice_post(clw)).status_code == 403
    assert Claim.objects.count() == 0
    client.force_login(clw.alice)  # provider A's CEO may invoice
    assert client.get(reverse("claims:invoice_new")).status_code == 200


def test_c4_invoice_form_says_so_when_no_contract_is_in_force(client, clw):
    client.force_login(clw.charlie)  # provider B has no contract
    page = client.get(reverse("claims:invoice_new"))
    assert page.status_code == 200 and 'data-testid="no-codes"' in page.content.decode()


# --- the paper CMS-1500 ------------------------------------------------------------------------------------


def cms1500_post(clw, **overrides) -> dict:
    data = {
        "received_at": "2026-11-20T10:30",
        "insured_id": clw.member_a.cin,
        "patient_name": "Alvarez, Ana",
        "patient_birth_date": clw.member_a.date_of_birth.isoformat(),
        "dx_a": "Z59.01",
        "prior_authorization": "",
        "federal_tax_id": "12-3456789",
        "patient_account": "ACCT-77",
        "total_charge": "125.00",
        "billing_name": clw.provider_a.name,
        "billing_npi": clw.provider_a.npi,
        "line1_service_from": SERVICE_DAY.isoformat(),
        "line1_service_to": SERVICE_DAY.isoformat(),
        "line1_place_of_service": "12",
        "line1_hcpcs": clw.nav_code.hcpcs,
        "line1_modifiers": clw.nav_code.modifier,
        "line1_pointer": "A",
        "line1_charge": "125.00",
        "line1_units": "1",
        "line1_rendering_npi": "",
    }
    data.update(overrides)
    return data


def test_c4_cms1500_labels_carry_the_box_numbers(client, clw):
    client.force_login(clw.processor)
    page = client.get(reverse("claims:cms1500"))
    assert page.status_code == 200
    body = page.content.decode()
    for label in (
        "1a. Insured&#x27;s ID number",
        "2. Patient&#x27;s name",
        "3. Patient&#x27;s birth date",
        "21. Diagnosis A",
        "23. Prior authorization number",
        "24A. Date of service from",
        "24B. Place of service",
        "24D. HCPCS",
        "24E. Diagnosis pointer",
        "24F. Charges",
        "24G. Days or units",
        "24J. Rendering provider NPI",
        "25. Federal tax ID",
        "26. Patient&#x27;s account no.",
        "28. Total charge",
        "33a. Billing provider NPI",
    ):
        assert label in body, label
    assert body.count('data-testid="cms1500-line"') == 6
    assert 'for="id_line6_units"' in body
    assert page.context["form"]["received_at"].value() is not None  # defaults to now


def test_c4_c5_cms1500_is_stored_with_the_received_stamp_and_the_scanned_image(client, clw):
    authorize(clw)
    client.force_login(clw.processor)
    data = cms1500_post(clw, image=pdf_upload("claim-scan.pdf"))
    response = client.post(reverse("claims:cms1500"), data)
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.source, claim.channel) == (ClaimSource.CMS1500, ReceiptChannel.MAIL)
    assert claim.received_on == dt.date(2026, 11, 20) and claim.payment_due_on == dt.date(2027, 1, 29)
    assert claim.member_name_billed == "Alvarez, Ana" and claim.billing_tax_id == "123456789"
    assert claim.patient_control_number == "ACCT-77" and claim.entered_by == clw.processor
    assert claim.image_name == "claim-scan.pdf" and claim.image.read().startswith(b"%PDF-")
    assert claim.lines.get().status == LineStatus.PAID
    # The scan downloads from the claim page, for the plan and for the provider that billed it.
    page = client.get(reverse("claims:detail", args=[claim.uuid]))
    assert 'data-testid="image-link"' in page.content.decode()
    assert client.get(reverse("claims:image", args=[claim.uuid])).status_code == 200
    client.force_login(clw.billing)
    assert client.get(reverse("claims:image", args=[claim.uuid])).status_code == 200
    client.force_login(clw.charlie)
    assert client.get(reverse("claims:image", args=[claim.uuid])).status_code == 404


def test_c4_cms1500_total_charge_must_equal_the_sum_of_the_lines(client, clw):
    client.force_login(clw.processor)
    response = client.post(reverse("claims:cms1500"), cms1500_post(clw, total_charge="150.00"))
    assert response.status_code == 422
    assert "add up to $125.00" in errors_of(response)["total_charge"][0]
    assert Claim.objects.count() == 0


def test_c5_cms1500_received_stamp_cannot_be_in_the_future(client, clw):
    client.force_login(clw.processor)
    response = client.post(reverse("claims:cms1500"), cms1500_post(clw, received_at="2026-11-24T08:00"))
    assert response.status_code == 422
    assert "cannot be in the future" in errors_of(response)["received_at"][0]
    assert Claim.objects.count() == 0


def test_c4_cms1500_errors_show_beside_the_boxes_and_store_nothing(client, clw):
    client.force_login(clw.processor)
    response = client.post(
        reverse("claims:cms1500"),
        cms1500_post(
            clw,
            insured_id="",
            billing_npi="1234567890",
            dx_a="",
            dx_b="Z59.01",
            line1_hcpcs="XYZ",
            line1_pointer="C",
            line2_hcpcs=clw.nav_code.hcpcs,
            line2_charge="10.00",
            total_charge="135.00",
            image=exe_upload("scan.pdf"),
        ),
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert "insured_id" in errors and "billing_npi" in errors
    assert "line1_hcpcs" in errors and "not a HCPCS code" in errors["line1_hcpcs"][0]
    assert "points at an empty diagnosis" in errors["line1_pointer"][0]
    assert "line2_service_from" in errors and "line2_units" in errors
    assert "image" in errors
    assert Claim.objects.count() == 0


def test_c4_cms1500_pointers_follow_the_diagnoses_entered(client, clw):
    authorize(clw)
    client.force_login(clw.processor)
    data = cms1500_post(clw, dx_a="Z59.01", dx_c="Z59.41", line1_pointer="C A")
    assert client.post(reverse("claims:cms1500"), data).status_code == 302
    claim = Claim.objects.get()
    assert claim.diagnosis_codes == ["Z59.01", "Z59.41"]
    assert claim.lines.get().diagnosis_pointers == [2, 1]


@pytest.mark.parametrize("who", ["billing", "alice", "net", "charlie"])
def test_c4_paper_entry_is_for_plan_claims_processors(client, clw, who):
    client.force_login(getattr(clw, who) if who != "net" else clw.net)
    assert client.get(reverse("claims:cms1500")).status_code == 403
    assert client.post(reverse("claims:cms1500"), cms1500_post(clw)).status_code == 403
    assert client.get(reverse("claims:paper_invoice")).status_code == 403
    assert Claim.objects.count() == 0


# --- the paper invoice -------------------------------------------------------------------------------------


def test_c4_paper_invoice_finds_the_provider_by_npi(client, clw):
    client.force_login(clw.processor)
    url = reverse("claims:paper_invoice")
    page = client.get(url)
    assert page.status_code == 200 and "Billing provider NPI" in page.content.decode()
    page = client.get(url, {"npi": "1999999999"})
    assert 'data-testid="no-provider"' in page.content.decode()
    page = client.get(url, {"npi": clw.provider_a.npi})
    assert page.context["provider"] == clw.provider_a
    assert "line1_code" in page.context["form"].fields
    body = page.content.decode()
    assert "Received date stamp" in body and "Scanned invoice" in body


def test_c4_c5_paper_invoice_is_stored_with_channel_stamp_and_image(client, clw):
    authorize(clw)
    client.force_login(clw.processor)
    data = invoice_post(
        clw,
        provider=str(clw.provider_a.uuid),
        channel="fax",
        received_at="2026-11-19T16:45",
        image=pdf_upload("fax.pdf"),
    )
    response = client.post(reverse("claims:paper_invoice"), data)
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.source, claim.channel) == (ClaimSource.INVOICE_PAPER, ReceiptChannel.FAX)
    assert claim.received_on == dt.date(2026, 11, 19) and claim.billing_organization == clw.provider_a
    assert claim.image_name == "fax.pdf" and claim.entered_by == clw.processor
    assert claim.lines.get().status == LineStatus.PAID


def test_c4_paper_invoice_errors_store_nothing_and_ask_for_the_image_again(client, clw):
    client.force_login(clw.processor)
    data = invoice_post(
        clw,
        provider=str(clw.provider_a.uuid),
        channel="email",
        received_at="2026-12-01T09:00",
        member_id="",
        image=pdf_upload("scan.pdf"),
    )
    response = client.post(reverse("claims:paper_invoice"), data)
    assert response.status_code == 422
    errors = errors_of(response)
    assert "received_at" in errors and "member_id" in errors
    assert 'data-testid="files-dropped"' in response.content.decode()
    assert Claim.objects.count() == 0


def test_c4_paper_invoice_for_an_organization_out_of_scope_is_404(client, clw):
    client.force_login(clw.processor)
    response = client.get(reverse("claims:paper_invoice"), {"provider": str(clw.plan2.uuid)})
    assert response.status_code == 404
