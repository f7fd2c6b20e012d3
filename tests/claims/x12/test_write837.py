"""The 837P writer: pyx12 accepts what it writes (999 AK9*A), and the segments say what the claims say."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
import pyx12.params
import pyx12.x12n_document

from cshub.claims.x12.envelope import DEFAULT_DELIMITERS, Delimiters, x12_amount, x12_number
from cshub.claims.x12.write837 import (
    Batch837,
    BillingProvider837,
    ClaimOut837,
    LineOut837,
    write_837p,
)


def pyx12_check(text: str) -> tuple[bool, str]:
    """(pyx12's verdict, the 999 it writes) for an X12 text."""
    ack = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    return valid, ack.getvalue()


def segments(text: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[list[str]]:
    return [s.strip().split(delimiters.element) for s in text.split(delimiters.segment) if s.strip() != ""]


def make_line(**overrides: object) -> LineOut837:
    values: dict[str, object] = {
        "hcpcs": "H0043",
        "modifiers": ["U6"],
        "charge": Decimal("120.50"),
        "units": Decimal("1"),
        "service_from": date(2025, 1, 6),
        "service_to": date(2025, 1, 6),
    }
    values.update(overrides)
    return LineOut837(**values)  # type: ignore[arg-type]


def make_claim(number: int = 1, **overrides: object) -> ClaimOut837:
    values: dict[str, object] = {
        "patient_control_number": f"CS-{number:06d}",
        "member_id": "91234567A",
        "member_last_name": "Rivera",
        "member_first_name": "Ana",
        "member_date_of_birth": date(1961, 4, 12),
        "member_sex": "F",
        "member_address_line": "1200 Broadway",
        "member_city": "Oakland",
        "member_zip": "94612",
        "payer_id": "95567",
        "payer_name": "Bay Health Plan",
        "place_of_service": "12",
        "diagnosis_codes": ["Z59.01", "F20.9"],
        "authorization_number": "AUTH-2025-0001",
        "lines": [make_line()],
    }
    values.update(overrides)
    return ClaimOut837(**values)  # type: ignore[arg-type]


def make_provider(npi: str = "1234567893", claims: list[ClaimOut837] | None = None, **overrides: object):
    values: dict[str, object] = {
        "npi": npi,
        "name": "Eastbay Housing Partners",
        "tax_id": "94-1234567",
        "address_line": "500 Grand Ave",
        "city": "Oakland",
        "state": "CA",
        "zip_code": "94610-1234",
        "claims": claims if claims is not None else [make_claim()],
    }
    values.update(overrides)
    return BillingProvider837(**values)  # type: ignore[arg-type]


def make_batch(providers: list[BillingProvider837], **overrides: object) -> Batch837:
    values: dict[str, object] = {
        "sender_id": "CSHUB01",
        "receiver_id": "95567",
        "interchange_control_number": 42,
        "group_control_number": 7,
        "created_at": datetime(2025, 2, 3, 14, 5),
        "usage": "T",
        "submitter_name": "Community Supports Hub",
        "submitter_contact_name": "EDI Desk",
        "submitter_phone": "(510) 555-0100",
        "receiver_name": "Bay Health Plan",
        "billing_providers": providers,
    }
    values.update(overrides)
    return Batch837(**values)  # type: ignore[arg-type]


def test_multi_provider_batch_is_valid_per_pyx12_with_one_transaction_set_per_provider() -> None:
    first = make_provider(
        claims=[
            make_claim(
                1, rendering_npi="1245319599", rendering_last_name="Okafor", rendering_first_name="Ngozi"
            ),
            make_claim(
                2,
                lines=[
                    make_line(),
                    make_line(hcpcs="T2041", modifiers=[], charge=Decimal("30"), units=Decimal("2.5")),
                ],
            ),
        ]
    )
    second = make_provider(npi="1679576722", name="Fresno Meals Co", claims=[make_claim(3)])
    text = write_837p(make_batch([first, second]))

    valid, ack = pyx12_check(text)
    assert valid, ack
    assert "AK9*A*2*2*2~" in ack

    segs = segments(text)
    assert [s[:3] for s in segs if s[0] == "ST"] == [["ST", "837", "0001"], ["ST", "837", "0002"]]
    # SE01 counts ST through SE; GE01 counts the transaction sets; IEA02 repeats ISA13.
    starts = [i for i, s in enumerate(segs) if s[0] == "ST"]
    for start in starts:
        end = next(i for i in range(start, len(segs)) if segs[i][0] == "SE")
        assert segs[end] == ["SE", str(end - start + 1), segs[start][2]]
    assert segs[-2] == ["GE", "2", "7"]
    assert segs[-1] == ["IEA", "1", "000000042"]
    assert sum(1 for s in segs if s[0] == "CLM") == 3
    assert ["NM1", "85", "2", "Fresno Meals Co", "", "", "", "", "XX", "1679576722"] in segs
    # 2310B only on the claim that names a rendering provider.
    assert sum(1 for s in segs if s[:2] == ["NM1", "82"]) == 1


def test_isa_is_fixed_width_and_padded() -> None:
    text = write_837p(make_batch([make_provider()]))
    isa = text.split("\n", 1)[0]
    assert len(isa) == 106
    fields = isa.split("*")
    assert fields[6] == "CSHUB01        "
    assert fields[8] == "95567          "
    assert fields[9:11] == ["250203", "1405"]
    assert fields[13] == "000000042"
    assert fields[15] == "T"
    assert isa.endswith("*^*00501*000000042*0*T*:~")


def test_claim_segments_follow_the_claim() -> None:
    claim = make_claim(
        frequency_code="7",
        original_reference="PAYER-CCN-77",
        diagnosis_codes=["z59.01", "F20.9", "E11.9"],
        lines=[
            make_line(
                diagnosis_pointers=[1, 3],
                place_of_service="99",
                authorization_number="LINE-AUTH",
                line_control_number="CS-000001-1",
            ),
            make_line(hcpcs="T2041", modifiers=["U1", "U2"], charge=Decimal("30.25"), place_of_service="12"),
        ],
    )
    segs = segments(write_837p(make_batch([make_provider(claims=[claim])])))
    assert ["CLM", "CS-000001", "150.75", "", "", "12:B:7", "Y", "A", "Y", "Y"] in segs
    references = [s for s in segs if s[0] == "REF"]
    # Claim-level G1 before F8 (the map's order), then the first line's own G1.
    assert references == [
        ["REF", "EI", "941234567"],
        ["REF", "G1", "AUTH-2025-0001"],
        ["REF", "F8", "PAYER-CCN-77"],
        ["REF", "G1", "LINE-AUTH"],
        ["REF", "6R", "CS-000001-1"],
    ]
    assert ["HI", "ABK:Z5901", "ABF:F209", "ABF:E119"] in segs
    sv1 = [s for s in segs if s[0] == "SV1"]
    # SV105 only when the line's place of service differs from the claim's.
    assert sv1 == [
        ["SV1", "HC:H0043:U6", "120.5", "UN", "1", "99", "", "1:3"],
        ["SV1", "HC:T2041:U1:U2", "30.25", "UN", "1", "", "", "1"],
    ]
    assert ["SBR", "P", "18", "", "", "", "", "", "", "MC"] in segs
    assert ["DMG", "D8", "19610412", "F"] in segs
    assert ["NM1", "PR", "2", "Bay Health Plan", "", "", "", "", "PI", "95567"] in segs
    valid, ack = pyx12_check(write_837p(make_batch([make_provider(claims=[claim])])))
    assert valid, ack


def test_one_day_is_d8_and_a_range_is_rd8() -> None:
    claim = make_claim(
        lines=[
            make_line(service_from=date(2025, 1, 6), service_to=date(2025, 1, 6)),
            make_line(service_from=date(2025, 1, 1), service_to=date(2025, 1, 31)),
        ]
    )
    text = write_837p(make_batch([make_provider(claims=[claim])]))
    dates = [s for s in segments(text) if s[0] == "DTP"]
    assert dates == [["DTP", "472", "D8", "20250106"], ["DTP", "472", "RD8", "20250101-20250131"]]
    valid, ack = pyx12_check(text)
    assert valid, ack


def test_delimiter_characters_in_values_are_replaced_and_the_file_stays_valid() -> None:
    claim = make_claim(
        member_last_name="O'Brien*Núñez",
        member_first_name="Ana~María",
        member_address_line="12 Main St: Apt^4\nBack door",
        member_city="San José",
        authorization_number="AU*TH~1",
    )
    provider = make_provider(name="Meals * More: Oakland ~ East^Bay", claims=[claim])
    text = write_837p(make_batch([provider], submitter_name="Hub*Submitter"))
    valid, ack = pyx12_check(text)
    assert valid, ack
    segs = segments(text)
    assert ["NM1", "IL", "1", "O'Brien Nunez", "Ana Maria", "", "", "", "MI", "91234567A"] in segs
    assert ["N3", "12 Main St Apt 4 Back door"] in segs
    assert ["N4", "San Jose", "CA", "94612"] in segs
    assert ["NM1", "85", "2", "Meals More Oakland East Bay", "", "", "", "", "XX", "1234567893"] in segs
    assert ["REF", "G1", "AU TH 1"] in segs
    # Still one segment per line: nothing split an element or ended a segment early.
    assert all(line.endswith("~") for line in text.splitlines())


def test_other_delimiters_are_honoured_and_valid() -> None:
    delimiters = Delimiters(element="|", component=">", repetition="^", segment="~")
    claim = make_claim(member_last_name="Smith|Jones>Sr")
    text = write_837p(make_batch([make_provider(claims=[claim])], delimiters=delimiters))
    valid, ack = pyx12_check(text)
    assert valid, ack
    segs = segments(text, delimiters)
    assert ["SV1", "HC>H0043>U6", "120.5", "UN", "1", "", "", "1"] in segs
    assert ["NM1", "IL", "1", "Smith Jones Sr", "Ana", "", "", "", "MI", "91234567A"] in segs


def test_a_value_left_empty_by_cleaning_is_refused() -> None:
    with pytest.raises(ValueError, match="member_last_name"):
        write_837p(make_batch([make_provider(claims=[make_claim(member_last_name="*~")])]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frequency_code": "7"}, "original_reference"),
        ({"frequency_code": "2"}, "frequency_code"),
        ({"diagnosis_codes": ["Z59*01"]}, "ICD-10"),
        ({"diagnosis_codes": []}, "diagnosis"),
        ({"diagnosis_codes": [f"Z59.{i}" for i in range(13)]}, "diagnosis"),
        ({"lines": [make_line(diagnosis_pointers=[3])]}, "diagnosis_pointers"),
        ({"lines": []}, "service lines"),
        ({"lines": [make_line(charge=Decimal("1.005"))]}, "two decimal places"),
        ({"lines": [make_line(service_to=date(2025, 1, 1))]}, "before service_from"),
        ({"lines": [make_line(modifiers=["U1", "U2", "U3", "U4", "U5"])]}, "modifiers"),
        ({"member_sex": "X"}, "member_sex"),
        ({"rendering_npi": "123", "rendering_last_name": "Okafor"}, "rendering_npi"),
        ({"rendering_npi": "1245319599"}, "rendering_last_name"),
        ({"member_zip": "9461"}, "member_zip"),
    ],
)
def test_claims_the_tr3_would_reject_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_837p(make_batch([make_provider(claims=[make_claim(**change)])]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"interchange_control_number": 0}, "interchange_control_number"),
        ({"group_control_number": 1_000_000_000}, "group_control_number"),
        ({"sender_id": "A-SENDER-ID-LONGER-THAN-15"}, "15"),
        ({"usage": "X"}, "usage"),
        ({"billing_providers": []}, "billing provider"),
    ],
)
def test_envelopes_x12_would_reject_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_837p(make_batch([make_provider()], **change))


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Plain Name", "Plain Name"),
        ("  a*b:c^d~e  ", "a b c d e"),
        ("line\nbreak\r\ttab", "line break tab"),
        ("Nguyễn Thị Ánh", "Nguyen Thi Anh"),
        ("50% & (more) #1 @ home", "50% & (more) #1 @ home"),
        ("emoji 🏠 home", "emoji home"),
        ("O\u2019Brien \u2013 Søren Straße", "O'Brien - Soren Strasse"),
        ("***", ""),
    ],
)
def test_clean_replaces_delimiters_and_unsupported_characters_with_spaces(value: str, cleaned: str) -> None:
    assert DEFAULT_DELIMITERS.clean(value) == cleaned


def test_numbers_are_written_the_x12_way() -> None:
    assert [x12_amount(Decimal(v)) for v in ("100.00", "100.50", "0.05", "-0.00", "-12.3", "7")] == [
        "100",
        "100.5",
        "0.05",
        "0",
        "-12.3",
        "7",
    ]
    assert [x12_number(Decimal(v)) for v in ("1", "2.500", "1E+1", "0.25")] == ["1", "2.5", "10", "0.25"]
    with pytest.raises(ValueError, match="two decimal places"):
        x12_amount(Decimal("0.001"))
    with pytest.raises(ValueError, match="two decimal places"):
        x12_amount(Decimal("NaN"))


def test_segments_drop_trailing_empty_elements_and_components() -> None:
    d = DEFAULT_DELIMITERS
    assert d.segment_text(["SV1", "HC:X", "1", "", ""]) == "SV1*HC:X*1~\n"
    assert d.segment_text(["HL", "1", "", "20", "1"]) == "HL*1**20*1~\n"
    assert d.composite(["12", "B", "1"]) == "12:B:1"
    assert d.composite(["HC", "T2041", ""]) == "HC:T2041"


def test_bad_delimiters_are_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        Delimiters(element="*", component="*")
    with pytest.raises(ValueError, match="punctuation"):
        Delimiters(segment="A")


def test_the_checker_is_not_vacuous() -> None:
    text = write_837p(make_batch([make_provider()]))
    broken = text.replace("SBR*P*18", "SBR*Q*18")
    valid, ack = pyx12_check(broken)
    assert not valid
    assert "AK9*R" in ack


def test_ten_thousand_claims_are_written_in_transaction_sets_of_at_most_5000() -> None:
    big = make_provider(claims=[make_claim(i) for i in range(6000)])
    small = make_provider(
        npi="1679576722",
        claims=[
            make_claim(6000 + i, lines=[make_line(), make_line(service_to=date(2025, 1, 31))])
            for i in range(4000)
        ],
    )
    text = write_837p(make_batch([big, small]))
    segs = segments(text)
    assert sum(1 for s in segs if s[0] == "CLM") == 10_000
    assert sum(1 for s in segs if s[0] == "LX") == 6000 + 8000
    st = [i for i, s in enumerate(segs) if s[0] == "ST"]
    assert [segs[i][2] for i in st] == ["0001", "0002", "0003"]
    claims_per_st = []
    for start in st:
        end = next(i for i in range(start, len(segs)) if segs[i][0] == "SE")
        assert int(segs[end][1]) == end - start + 1
        claims_per_st.append(sum(1 for s in segs[start:end] if s[0] == "CLM"))
        # HL numbers restart in each transaction set: 1 for the provider, then one per claim.
        hls = [s for s in segs[start:end] if s[0] == "HL"]
        assert [int(h[1]) for h in hls] == list(range(1, len(hls) + 1))
    assert claims_per_st == [5000, 1000, 4000]
    assert segs[-2] == ["GE", "3", "7"]
    assert len({s[3] for s in segs if s[0] == "BHT"}) == 3


def test_batch_fields_are_frozen() -> None:
    batch = make_batch([make_provider()])
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.usage = "P"  # type: ignore[misc]
