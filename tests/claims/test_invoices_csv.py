"""CSV invoices (rule C4): a provider without billing software uploads invoices; a bad file gets a
row-and-field error report and stores nothing."""

from __future__ import annotations

import pytest

from cshub.claims.invoices import INVOICE_CSV_TEMPLATE, invoices_upload
from cshub.claims.models import Claim, ClaimSource, LineStatus
from cshub.core.errors import DomainError, PermissionDeniedError
from tests.claims.conftest import authorize

HEADER = "invoice_number,member_id,diagnosis_codes,hcpcs,modifiers,service_from,service_to,units,charge"


def csv_bytes(clw, *rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def nav_row(clw, invoice="INV-1", member=None, day="2026-11-02", units="1", charge="125.00", code=None):
    code = code or clw.nav_code
    member = member or clw.member_a.cin
    return f"{invoice},{member},Z59.01,{code.hcpcs},{code.modifier},{day},{day},{units},{charge}"


def test_c4_csv_invoices_are_grouped_by_invoice_number_stored_and_adjudicated(clw):
    authorize(clw, units=10)
    data = csv_bytes(
        clw,
        nav_row(clw, "INV-1", day="2026-11-02"),
        nav_row(clw, "INV-1", day="2026-11-03"),
        nav_row(clw, "INV-2", day="11/04/2026", charge='"$1,000.00"'),
    )
    received = invoices_upload(actor=clw.billing, data=data, name="november.csv")
    assert [len(c._lines) for c in received.claims] == [2, 1]
    first, second = received.claims
    assert first.source == ClaimSource.INVOICE_CSV
    assert first.billing_organization == clw.provider_a
    assert {ln.status for ln in first.lines.all()} == {LineStatus.PAID}
    assert second.lines.get().paid_amount == 125  # the lower of $1,000 billed and the $125 rate


def test_c4_bad_csv_names_every_row_and_field_and_stores_nothing(clw):
    data = csv_bytes(
        clw,
        nav_row(clw, "INV-1", day="2026-13-40"),
        nav_row(clw, "INV-2", units="two"),
        "INV-3,,Z59.01,H0043,U6,2026-11-02,2026-11-02,1,125.00",
        nav_row(clw, "INV-4", day="2027-01-05"),
    )
    with pytest.raises(DomainError) as exc:
        invoices_upload(actor=clw.billing, data=data)
    found = {(e.row, e.field) for e in exc.value.errors}
    assert (1, "service_from") in found
    assert (2, "units") in found
    assert (3, "member_id") in found
    assert (4, "service_to") in found  # in the future
    assert Claim.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00b\x00a\x00d", "UTF-8"),
        (b"invoice,member\r\n1,2\r\n", "header row does not match"),
    ],
)
def test_c4_unreadable_files_are_refused_with_the_reason(clw, data, message):
    with pytest.raises(DomainError) as exc:
        invoices_upload(actor=clw.billing, data=data)
    assert message in str(exc.value) + " ".join(e.message for e in exc.value.errors)
    assert Claim.objects.count() == 0


def test_c4_the_same_invoice_number_twice_is_refused(clw):
    authorize(clw)
    invoices_upload(actor=clw.billing, data=csv_bytes(clw, nav_row(clw, "INV-9")))
    with pytest.raises(DomainError) as exc:
        invoices_upload(actor=clw.billing, data=csv_bytes(clw, nav_row(clw, "INV-9", day="2026-11-05")))
    (error,) = exc.value.errors
    assert (error.row, error.field, error.code) == (1, "invoice_number", "duplicate_invoice")
    assert Claim.objects.count() == 1


def test_c4_the_template_is_a_valid_layout(clw):
    # The template's example row uses a made-up member, so it is stored and denied (unknown member), which
    # proves the layout itself is accepted.
    received = invoices_upload(actor=clw.billing, data=INVOICE_CSV_TEMPLATE.encode())
    assert received.claims[0].lines.get().reason_key == "member_unknown"


def test_c4_only_billing_staff_and_leadership_send_invoices(clw):
    with pytest.raises(PermissionDeniedError):
        invoices_upload(actor=clw.bob, data=csv_bytes(clw, nav_row(clw)))
