"""The 835 writer: every remittance it writes balances and is valid per pyx12 (999 AK9*A)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
import pyx12.error_handler
import pyx12.params
import pyx12.x12n_document
from hypothesis import given, settings
from hypothesis import strategies as st

from cshub.claims.x12.remit835 import (
    Adjustment835,
    ClaimPayment835,
    LinePayment835,
    Remittance835,
    RemittanceNotBalanced,
    check_balanced,
    write_835,
)

D = Decimal


@contextmanager
def _ak2_version_from_gs08() -> Iterator[None]:
    """pyx12 4.0.0 builds the 999's AK2 from ST03, which its own 835 map marks Not Used (the TR3 agrees),
    so it cannot acknowledge any valid 835. X12 says a missing ST03 means GS08 applies: fall back to it."""
    original = pyx12.error_handler.err_st.__init__

    def init(self: Any, parent: Any, seg_data: Any, src: Any) -> None:
        original(self, parent, seg_data, src)
        if self.vriic is None:
            self.vriic = parent.vriic

    with mock.patch.object(pyx12.error_handler.err_st, "__init__", init):
        yield


def pyx12_check(text: str) -> tuple[bool, str]:
    """(pyx12's verdict, the 999 it writes) for an X12 text."""
    ack = io.StringIO()
    with _ak2_version_from_gs08():
        valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    return valid, ack.getvalue()


def assert_valid(text: str) -> None:
    valid, ack = pyx12_check(text)
    assert valid, text
    assert "AK9*A*1*1*1~" in ack, ack


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def only(segs: list[list[str]], segment_id: str) -> list[str]:
    found = [s for s in segs if s[0] == segment_id]
    assert len(found) == 1, found
    return found[0]


def make_line(**overrides: Any) -> LinePayment835:
    values: dict[str, Any] = {
        "hcpcs": "H0043",
        "modifiers": ["U6"],
        "charge": D("120.50"),
        "paid": D("120.50"),
        "units": D("1"),
        "service_from": date(2025, 1, 6),
        "service_to": date(2025, 1, 6),
    }
    values.update(overrides)
    return LinePayment835(**values)


def make_claim(**overrides: Any) -> ClaimPayment835:
    values: dict[str, Any] = {
        "patient_control_number": "CS-000001",
        "status_code": "1",
        "total_charge": D("120.50"),
        "paid_amount": D("120.50"),
        "payer_claim_control_number": "2025034000123",
        "member_id": "91234567A",
        "member_last_name": "Rivera",
        "member_first_name": "Ana",
        "received_date": date(2025, 2, 3),
        "lines": [make_line()],
    }
    values.update(overrides)
    return ClaimPayment835(**values)


def make_remittance(claims: list[ClaimPayment835], **overrides: Any) -> Remittance835:
    values: dict[str, Any] = {
        "sender_id": "95567",
        "receiver_id": "CSHUB01",
        "interchange_control_number": 901,
        "group_control_number": 901,
        "created_at": datetime(2025, 3, 1, 6, 30),
        "usage": "T",
        "payer_name": "Bay Health Plan",
        "payer_id": "95567",
        "payer_address_line": "1 Kaiser Plaza",
        "payer_city": "Oakland",
        "payer_state": "CA",
        "payer_zip": "94612",
        "payee_name": "Eastbay Housing Partners",
        "payee_npi": "1234567893",
        "payee_tax_id": "94-1234567",
        "payment_amount": sum((c.paid_amount for c in claims), D(0)),
        "payment_method": "CHK",
        "payment_date": date(2025, 3, 4),
        "trace_number": "000123456",
        "originating_company_id": "1946000001",
        "claims": claims,
        "payer_contact_name": "EDI Support",
        "payer_contact_phone": "(800) 555-0199",
    }
    values.update(overrides)
    return Remittance835(**values)


def test_paid_claim() -> None:
    remittance = make_remittance(
        [make_claim(place_of_service="12", frequency_code="1")],
        payment_method="ACH",
        payer_bank_routing="121000248",
        payer_account="4000123456",
        payee_bank_routing="321171184",
        payee_account="987654321",
    )
    check_balanced(remittance)
    text = write_835(remittance)
    assert_valid(text)
    segs = segments(text)
    assert only(segs, "ST") == ["ST", "835", "0001"]  # X221A1: ST03 not used
    assert only(segs, "BPR") == [
        "BPR", "I", "120.5", "C", "ACH", "CCP", "01", "121000248", "DA", "4000123456", "1946000001", "",
        "01", "321171184", "DA", "987654321", "20250304",
    ]  # fmt: skip
    assert only(segs, "TRN") == ["TRN", "1", "000123456", "1946000001"]
    assert ["N1", "PR", "Bay Health Plan"] in segs
    assert ["REF", "2U", "95567"] in segs
    assert only(segs, "PER") == ["PER", "BL", "EDI Support", "TE", "8005550199"]
    assert ["N1", "PE", "Eastbay Housing Partners", "XX", "1234567893"] in segs
    assert ["REF", "TJ", "941234567"] in segs
    assert only(segs, "CLP") == [
        "CLP",
        "CS-000001",
        "1",
        "120.5",
        "120.5",
        "",
        "MC",
        "2025034000123",
        "12",
        "1",
    ]
    assert only(segs, "NM1") == ["NM1", "QC", "1", "Rivera", "Ana", "", "", "", "MI", "91234567A"]
    assert ["DTM", "050", "20250203"] in segs
    assert ["SVC", "HC:H0043:U6", "120.5", "120.5"] in segs
    assert ["DTM", "472", "20250106"] in segs
    assert not [s for s in segs if s[0] == "CAS"]


def test_partly_paid_line_carries_co45_and_the_allowed_amount() -> None:
    line = make_line(
        charge=D("150"),
        paid=D("95.25"),
        allowed_amount=D("95.25"),
        adjustments=[Adjustment835("CO", "45", D("54.75"))],
        line_control_number="LN-1",
        units=D("4"),
        service_from=date(2025, 1, 1),
        service_to=date(2025, 1, 31),
    )
    claim = make_claim(total_charge=D("150"), paid_amount=D("95.25"), lines=[line])
    text = write_835(make_remittance([claim]))
    assert_valid(text)
    segs = segments(text)
    assert only(segs, "BPR")[:5] == ["BPR", "I", "95.25", "C", "CHK"]
    assert only(segs, "CLP")[2:6] == ["1", "150", "95.25", ""]
    # SVC05 carries the units when they are not one; a range is DTM*150 + DTM*151.
    assert only(segs, "SVC") == ["SVC", "HC:H0043:U6", "150", "95.25", "", "4"]
    assert ["DTM", "150", "20250101"] in segs
    assert ["DTM", "151", "20250131"] in segs
    assert only(segs, "CAS") == ["CAS", "CO", "45", "54.75"]
    assert ["REF", "6R", "LN-1"] in segs
    assert only(segs, "AMT") == ["AMT", "B6", "95.25"]


def test_denied_claim_has_status_4_co197_and_remark_n54() -> None:
    denied = make_claim(
        patient_control_number="CS-000002",
        status_code="4",
        total_charge=D("80"),
        paid_amount=D("0"),
        lines=[
            make_line(
                charge=D("80"),
                paid=D("0"),
                adjustments=[Adjustment835("CO", "197", D("80"))],
                remark_codes=["N54"],
            )
        ],
    )
    paid = make_claim()
    text = write_835(make_remittance([paid, denied]))
    assert_valid(text)
    segs = segments(text)
    clps = [s for s in segs if s[0] == "CLP"]
    assert clps[1][:5] == ["CLP", "CS-000002", "4", "80", "0"]
    assert only(segs, "CAS") == ["CAS", "CO", "197", "80"]
    assert only(segs, "LQ") == ["LQ", "HE", "N54"]
    assert only(segs, "BPR")[2] == "120.5"


def test_zero_payment_remittance_is_notification_only() -> None:
    denied = make_claim(
        status_code="4",
        paid_amount=D("0"),
        lines=[make_line(paid=D("0"), adjustments=[Adjustment835("CO", "197", D("120.50"))])],
    )
    # Whatever method was asked for, nothing paid is BPR01 H with method NON.
    for method in ("NON", "ACH", "CHK"):
        text = write_835(make_remittance([denied], payment_method=method))
        assert_valid(text)
        bpr = only(segments(text), "BPR")
        assert bpr == ["BPR", "H", "0", "C", "NON", *[""] * 11, "20250304"]


def test_more_than_six_adjustments_on_a_line_split_into_cas_segments_per_group() -> None:
    reasons = ["45", "97", "96", "16", "18", "23", "29", "50"]
    adjustments = [Adjustment835("CO", reason, D("5")) for reason in reasons]
    adjustments.insert(3, Adjustment835("PR", "2", D("10"), quantity=D("1")))
    adjustments.append(Adjustment835("CO", "45", D("1.50")))  # same group and reason: merged
    line = make_line(charge=D("100"), paid=D("48.50"), adjustments=adjustments)
    claim = make_claim(
        total_charge=D("100"),
        paid_amount=D("48.50"),
        claim_adjustments=[],
        lines=[line],
    )
    text = write_835(make_remittance([claim]))
    assert_valid(text)
    segs = segments(text)
    assert [s for s in segs if s[0] == "CAS"] == [
        ["CAS", "CO", "45", "6.5", "", "97", "5", "", "96", "5", "", "16", "5", "", "18", "5", "", "23", "5"],
        ["CAS", "CO", "29", "5", "", "50", "5"],
        ["CAS", "PR", "2", "10", "1"],
    ]
    assert only(segs, "CLP")[5] == "10"  # CLP05: patient responsibility is the PR total


def test_claim_level_adjustments_and_a_reversal_balance() -> None:
    reversal = make_claim(
        patient_control_number="CS-000009",
        status_code="22",
        total_charge=D("-120.50"),
        paid_amount=D("-100"),
        lines=[
            make_line(
                charge=D("-120.50"), paid=D("-100"), adjustments=[Adjustment835("CO", "45", D("-20.50"))]
            )
        ],
    )
    corrected = make_claim(
        patient_control_number="CS-000009",
        payer_claim_control_number="2025034000999",
        total_charge=D("120.50"),
        paid_amount=D("110"),
        claim_adjustments=[Adjustment835("OA", "23", D("5"))],
        lines=[make_line(paid=D("115"), adjustments=[Adjustment835("CO", "45", D("5.50"))])],
    )
    remittance = make_remittance([reversal, corrected])
    check_balanced(remittance)
    text = write_835(remittance)
    assert_valid(text)
    segs = segments(text)
    assert only(segs, "BPR")[2] == "10"
    assert [s[:5] for s in segs if s[0] == "CLP"] == [
        ["CLP", "CS-000009", "22", "-120.5", "-100"],
        ["CLP", "CS-000009", "1", "120.5", "110"],
    ]
    assert ["CAS", "OA", "23", "5"] in segs


def test_ach_without_bank_details_is_written_as_a_check() -> None:
    text = write_835(make_remittance([make_claim()], payment_method="ACH"))
    assert_valid(text)
    assert only(segments(text), "BPR") == ["BPR", "I", "120.5", "C", "CHK", *[""] * 11, "20250304"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payment_method": "ACH", "payer_bank_routing": "121000248"}, "ACH needs"),
        (
            {
                "payment_method": "ACH",
                "payer_bank_routing": "12100024",
                "payer_account": "1",
                "payee_bank_routing": "321171184",
                "payee_account": "2",
            },
            "routing",
        ),
        ({"payment_method": "WIRE"}, "payment_method"),
        ({"payer_contact_phone": ""}, "PER"),
        ({"originating_company_id": "946000001"}, "originating_company_id"),
        ({"payee_npi": "12345"}, "payee_npi"),
        ({"payee_tax_id": "1234"}, "payee_tax_id"),
    ],
)
def test_remittances_the_tr3_would_reject_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_835(make_remittance([make_claim()], **change))


def test_claims_the_tr3_would_reject_are_refused() -> None:
    with pytest.raises(ValueError, match="status_code"):
        write_835(make_remittance([make_claim(status_code="9")]))
    with pytest.raises(ValueError, match="group_code"):
        bad = make_line(paid=D("100.50"), adjustments=[Adjustment835("XX", "45", D("20"))])
        write_835(make_remittance([make_claim(paid_amount=D("100.50"), lines=[bad])]))
    with pytest.raises(ValueError, match="service line"):
        write_835(make_remittance([make_claim(lines=[], paid_amount=D("120.50"))]))


def test_email_only_contact_and_payment_with_nothing_paid_per_method_non() -> None:
    text = write_835(
        make_remittance([make_claim()], payer_contact_phone="", payer_contact_email="edi@bhp.example")
    )
    assert_valid(text)
    assert only(segments(text), "PER") == ["PER", "BL", "EDI Support", "EM", "edi@bhp.example"]
    with pytest.raises(ValueError, match="NON"):
        write_835(make_remittance([make_claim()], payment_method="NON"))


def test_unbalanced_remittances_are_refused_with_every_problem_listed() -> None:
    line = make_line(charge=D("100"), paid=D("80"), adjustments=[Adjustment835("CO", "45", D("10"))])
    claim = make_claim(total_charge=D("100"), paid_amount=D("80"), lines=[line])
    remittance = make_remittance([claim], payment_amount=D("90"))
    with pytest.raises(RemittanceNotBalanced) as caught:
        check_balanced(remittance)
    assert len(caught.value.problems) == 3  # the line, the claim and the payment
    with pytest.raises(RemittanceNotBalanced):
        write_835(remittance)
    with pytest.raises(RemittanceNotBalanced, match="negative"):
        check_balanced(
            make_remittance(
                [make_claim(status_code="22", total_charge=D("-120.50"), paid_amount=D("-120.50"), lines=[])]
            )
        )


def test_the_checker_is_not_vacuous() -> None:
    text = write_835(make_remittance([make_claim()]))
    valid, ack = pyx12_check(text.replace("CLP*CS-000001*1*", "CLP*CS-000001*99*"))
    assert not valid
    assert "AK9*R" in ack


# Hypothesis: any set of amounts and adjustments that balances is written as a valid 835.

CARCS = ["1", "2", "3", "16", "18", "23", "29", "45", "50", "59", "96", "97", "197", "204", "B7", "A1"]
RARCS = ["N54", "M15", "N130", "MA130", "N362"]
NAMES = st.text(alphabet="abcdefXYZ '-*:^~éñ", max_size=12).map(lambda s: "M" + s)


def _split(total: int, parts: int, draw: Any) -> list[int]:
    """`total` cents cut into `parts` non-negative pieces."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    edges = [0, *cuts, total]
    return [edges[i + 1] - edges[i] for i in range(parts)]


@st.composite
def adjustments_for(draw: Any, cents: int) -> list[Adjustment835]:
    if cents == 0 and draw(st.booleans()):
        return []
    count = draw(st.integers(1, 9))
    pieces = _split(cents, count, draw)
    return [
        Adjustment835(
            group_code=draw(st.sampled_from(["CO", "OA", "PI", "PR"])),
            reason_code=draw(st.sampled_from(CARCS)),
            amount=D(piece) / 100,
            quantity=draw(st.none() | st.integers(1, 20).map(D)),
        )
        for piece in pieces
    ]


@st.composite
def line_payments(draw: Any) -> LinePayment835:
    charge = draw(st.integers(0, 500_000))
    paid = draw(st.integers(0, charge))
    start = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 300)))
    return LinePayment835(
        hcpcs=draw(st.sampled_from(["H0043", "H2016", "T2041", "S5170", "H0044"])),
        modifiers=draw(st.lists(st.sampled_from(["U1", "U2", "U6", "HK", "GT"]), max_size=4)),
        charge=D(charge) / 100,
        paid=D(paid) / 100,
        units=draw(st.sampled_from([D(1), D(2), D("2.5"), D(30)])),
        service_from=start,
        service_to=start + timedelta(days=draw(st.integers(0, 30))),
        line_control_number=draw(st.sampled_from(["", "LN-1", "A*B"])),
        allowed_amount=draw(st.none() | st.just(D(paid) / 100)),
        adjustments=draw(adjustments_for(charge - paid)),
        remark_codes=draw(st.lists(st.sampled_from(RARCS), max_size=2, unique=True)),
    )


@st.composite
def claim_payments(draw: Any, number: int) -> ClaimPayment835:
    lines = draw(st.lists(line_payments(), min_size=1, max_size=4))
    claim_adjustment_cents = draw(st.integers(0, 10_000))
    lines_paid = sum(line.paid for line in lines)
    paid = max(lines_paid - D(claim_adjustment_cents) / 100, D(0))
    claim_adjustments = draw(adjustments_for(int((lines_paid - paid) * 100)))
    return ClaimPayment835(
        patient_control_number=f"CS-{number:06d}",
        status_code="4" if paid == 0 else draw(st.sampled_from(["1", "2", "3"])),
        total_charge=sum((line.charge for line in lines), D(0)),
        paid_amount=paid,
        payer_claim_control_number=f"PCC{number:08d}",
        member_id="91234567A",
        member_last_name=draw(NAMES),
        member_first_name=draw(NAMES),
        received_date=draw(st.none() | st.just(date(2025, 2, 3))),
        claim_adjustments=claim_adjustments,
        lines=lines,
    )


@st.composite
def remittances(draw: Any) -> Remittance835:
    count = draw(st.integers(0, 4))
    claims = [draw(claim_payments(i)) for i in range(count)]
    bank = draw(st.booleans())
    return make_remittance(
        claims,
        payment_method=draw(st.sampled_from(["ACH", "CHK"])),
        payer_bank_routing="121000248" if bank else "",
        payer_account="4000123456" if bank else "",
        payee_bank_routing="321171184" if bank else "",
        payee_account="987654321" if bank else "",
        payee_name=draw(NAMES),
    )


@settings(max_examples=50, deadline=None)
@given(remittance=remittances())
def test_any_balanced_remittance_is_valid_per_pyx12(remittance: Remittance835) -> None:
    check_balanced(remittance)
    text = write_835(remittance)
    assert_valid(text)
    segs = segments(text)
    assert only(segs, "BPR")[1] == ("I" if remittance.payment_amount > 0 else "H")
    assert sum(1 for s in segs if s[0] == "CLP") == len(remittance.claims)
    assert sum(1 for s in segs if s[0] == "SVC") == sum(len(c.lines) for c in remittance.claims)
    assert all(len(s) <= 2 + 3 * 6 for s in segs if s[0] == "CAS")
