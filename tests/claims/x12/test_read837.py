"""Inbound 837P: envelope checks, pyx12 validation, the 999 and the claims read from accepted sets
(cshub.claims.x12.read837). Pure functions: no database.

Fixtures (hand-written, 005010X222A1): ``good_2claims.837`` (two claims, three lines, claim- and
line-level REF*G1, an RD8 date, modifiers, 2310B and 2420A rendering providers, a replacement claim with
REF*F8, CR/LF after each segment), ``two_sets_one_broken.837`` (set 0002 lacks the 2010AA N4 and has a
DMG with a wrong qualifier) and ``bad_element.837`` (an SV103 that is not a unit code and a service line
without its DTP*472, no line breaks).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12.map_if
import pyx12.params
import pyx12.x12n_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cshub.claims.x12 import read837
from cshub.claims.x12.read837 import (
    Claim837,
    Interchange837,
    Line837,
    cached_map_loader,
    read_837p,
)

FIXTURES = Path(__file__).parent / "fixtures"
ACK_AT = datetime(2026, 3, 16, 8, 5)
LOAD_MAP_FILE = pyx12.map_if.load_map_file
LOAD_MAP_FILE_ONCE = cached_map_loader()

# pyx12 parses its 837P map (0.2 s) on every run: these tests load it once, as our pool workers do.
# The two tests that compare with production validation put pyx12's own loader back.
pytestmark = pytest.mark.usefixtures("maps_loaded_once")


@pytest.fixture
def maps_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyx12.map_if, "load_map_file", LOAD_MAP_FILE_ONCE)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(data: bytes, workers: int = 1) -> Interchange837:
    return read_837p(data, workers, ack_control_number=900, ack_created_at=ACK_AT)


def pyx12_verdict(x12_text: str) -> tuple[bool, str]:
    """pyx12's verdict on an X12 text (here: our 999, checked with pyx12's 999.5010 map)."""
    errors = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.ParamsBase(), io.StringIO(x12_text), None, None, fd_json=errors
    )
    return valid, errors.getvalue()


def segments_of(ack: str) -> list[str]:
    return [s.strip() for s in ack.split("~") if s.strip()]


def body_of(ack: str) -> list[str]:
    """The 999 without its envelope: what depends on the file acknowledged (TA1, AK1 to AK9)."""
    return [s for s in segments_of(ack) if s[:3] in ("AK1", "AK2", "IK3", "IK4", "IK5", "AK9", "TA1")]


def build_837(claims: int, sets: int = 1, *, broken_set: int | None = None) -> bytes:
    """A generated 837P of one-line claims spread over ``sets`` transaction sets (for sizes fixtures
    cannot reach); in ``broken_set`` (0-based) every SV103 is the unit code XX."""
    out = [
        "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*95567          *260315*0930*^*00501*"
        "000000202*0*P*:",
        "GS*HC*CLEARHOUSE01*95567*20260315*0930*202*X*005010X222A1",
    ]
    per_set = -(-claims // sets)
    for number in range(sets):
        control = f"{number + 1:04d}"
        unit = "XX" if number == broken_set else "UN"
        body = [
            f"ST*837*{control}*005010X222A1",
            f"BHT*0019*00*BATCH{control}*20260315*0930*CH",
            "NM1*41*2*SUNRISE HOUSING SERVICES*****46*CLEARHOUSE01",
            "PER*IC*BILLING OFFICE*TE*5595550100",
            "NM1*40*2*HEALTH NET*****46*95567",
            "HL*1**20*1",
            "NM1*85*2*SUNRISE HOUSING SERVICES*****XX*1234567893",
            "N3*100 VAN NESS AVE",
            "N4*FRESNO*CA*937210100",
            "REF*EI*941234567",
        ]
        for hl, i in enumerate(range(number * per_set, min(claims, (number + 1) * per_set)), 2):
            body += [
                f"HL*{hl}*1*22*0",
                "SBR*P*18*******MC",
                f"NM1*IL*1*MEMBER*TEST****MI*9{i:07d}A",
                "DMG*D8*19800101*F",
                "NM1*PR*2*HEALTH NET*****PI*95567",
                f"CLM*PCN{i:07d}*100***11:B:1*Y*A*Y*Y",
                "REF*G1*A-2026-000123",
                "HI*ABK:Z5900",
                "LX*1",
                f"SV1*HC:H0043:U6*100*{unit}*4***1",
                "DTP*472*D8*20260301",
            ]
        body.append(f"SE*{len(body) + 1}*{control}")
        out += body
    out += [f"GE*{sets}*202", "IEA*1*000000202"]
    return ("~\n".join(out) + "~\n").encode()


# --- a correct file ---------------------------------------------------------------------------------

EXPECTED_CLAIMS = [
    Claim837(
        st_control_number="0001",
        segment_position=19,
        patient_control_number="SHS-2026-0001",
        total_charge=Decimal("450"),
        place_of_service="11",
        frequency_code="1",
        billing_npi="1234567893",
        billing_name="SUNRISE HOUSING SERVICES",
        billing_tax_id="941234567",
        rendering_npi="9876543213",
        payer_id="95567",
        payer_name="HEALTH NET",
        member_id="91234567A",
        member_last_name="GARCIA",
        member_first_name="MARIA",
        member_date_of_birth=date(1974, 2, 12),
        diagnosis_codes=["Z5900", "Z591"],
        authorization_number="AUTH-CLM-1",
        original_reference="",
        lines=[
            Line837(
                number=1,
                hcpcs="H0043",
                modifiers=["U6", "U7"],
                charge=Decimal("300"),
                unit_code="UN",
                units=Decimal("2"),
                place_of_service="11",  # SV105 empty: the claim's CLM05-1
                diagnosis_pointers=[1, 2],
                service_from=date(2026, 3, 1),
                service_to=date(2026, 3, 5),
                rendering_npi="9876543213",  # no 2420A: the claim's 2310B
                authorization_number="AUTH-CLM-1",  # no line REF*G1: the claim's
                line_control_number="LINE-0001",
            ),
            Line837(
                number=2,
                hcpcs="H2016",
                modifiers=["U6"],
                charge=Decimal("150"),
                unit_code="MJ",
                units=Decimal("60"),
                place_of_service="12",
                diagnosis_pointers=[1],
                service_from=date(2026, 3, 6),
                service_to=date(2026, 3, 6),
                rendering_npi="1112223338",  # 2420A
                authorization_number="AUTH-LINE-2",  # the line's own REF*G1
                line_control_number="LINE-0002",
            ),
        ],
    ),
    Claim837(
        st_control_number="0001",
        segment_position=41,
        patient_control_number="SHS-2026-0002",
        total_charge=Decimal("75.5"),
        place_of_service="11",
        frequency_code="7",
        billing_npi="1234567893",
        billing_name="SUNRISE HOUSING SERVICES",
        billing_tax_id="941234567",
        rendering_npi="",
        payer_id="95567",
        payer_name="HEALTH NET",
        member_id="98765432B",
        member_last_name="SMITH",
        member_first_name="JOHN",
        member_date_of_birth=date(1960, 5, 30),
        diagnosis_codes=["Z590"],
        authorization_number="AUTH-CLM-2",
        original_reference="PAYERCLM778899",
        lines=[
            Line837(
                number=1,
                hcpcs="S5170",
                modifiers=["U6"],
                charge=Decimal("75.5"),
                unit_code="UN",
                units=Decimal("1"),
                place_of_service="11",
                diagnosis_pointers=[1],
                service_from=date(2026, 3, 10),
                service_to=date(2026, 3, 10),
                rendering_npi="",
                authorization_number="AUTH-LINE-9",
                line_control_number="",
            )
        ],
    ),
]


def test_correct_file_claims_are_read_exactly() -> None:
    result = read(fixture("good_2claims.837"))

    assert result.ack_code == "A"
    assert result.problems == []
    [transaction_set] = result.transaction_sets
    assert (transaction_set.control_number, transaction_set.ack_code, transaction_set.problems) == (
        "0001",
        "A",
        [],
    )
    assert result.accepted_claims == EXPECTED_CLAIMS


def test_correct_file_envelope_and_999() -> None:
    result = read(fixture("good_2claims.837"))

    assert (result.sender_id, result.receiver_id, result.control_number, result.usage) == (
        "CLEARHOUSE01",
        "95567",
        "000000101",
        "T",
    )
    assert (result.gs_sender, result.gs_receiver, result.gs_control_number) == (
        "CLEARHOUSE01",
        "95567",
        "101",
    )
    assert result.created_at == datetime(2026, 3, 15, 9, 30, 15)
    # The 999 goes back to the sender, in the file's own layout (CR/LF after each segment).
    assert result.ack_999 == (
        "ISA*00*          *00*          *ZZ*95567          *ZZ*CLEARHOUSE01   *260316*0805*^*00501*"
        "000000900*0*T*:~\r\n"
        "GS*FA*95567*CLEARHOUSE01*20260316*0805*900*X*005010X231~\r\n"
        "ST*999*0001*005010X231~\r\n"
        "AK1*HC*101*005010X222A1~\r\n"
        "AK2*837*0001*005010X222A1~\r\n"
        "IK5*A~\r\n"
        "AK9*A*1*1*1~\r\n"
        "SE*6*0001~\r\n"
        "GE*1*900~\r\n"
        "IEA*1*000000900~\r\n"
    )


def test_ack_control_number_defaults_to_the_interchange_received() -> None:
    result = read_837p(fixture("good_2claims.837"))

    assert "*00501*000000101*0*T*:~" in result.ack_999
    assert "GE*1*101~" in result.ack_999


# --- rejected and partially accepted files ----------------------------------------------------------


def test_bad_element_and_missing_segment_reject_the_set_with_their_positions() -> None:
    result = read(fixture("bad_element.837"))

    assert result.ack_code == "R"
    assert result.accepted_claims == []
    [transaction_set] = result.transaction_sets
    assert transaction_set.ack_code == "R"
    assert transaction_set.claims == []
    where = [
        (p.segment_id, p.segment_position, p.loop_id, p.element_position, p.code, p.line)
        for p in transaction_set.problems
    ]
    assert where == [
        ("SV1", 29, "2400", 3, "7", 31),  # SV103 "HR" is not a unit code
        ("DTP", 47, "2400", None, "3", 49),  # the DTP*472 of claim 2's line is missing
    ]
    assert "SV103" in transaction_set.problems[0].message
    assert "Service Date" in transaction_set.problems[1].message
    assert all(p.st_control_number == "0001" for p in transaction_set.problems)
    assert body_of(result.ack_999) == [
        "AK1*HC*103*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK3*SV1*29**8",
        "IK4*3*355*7*HR",
        "IK3*DTP*47**3",
        "IK5*R*5",
        "AK9*R*1*1*0",
    ]
    assert "\n" not in result.ack_999  # the file had no line breaks, nor has its 999


def test_mixed_file_is_partially_accepted() -> None:
    result = read(fixture("two_sets_one_broken.837"))

    assert result.ack_code == "P"
    good, broken = result.transaction_sets
    assert (good.control_number, good.ack_code, good.problems) == ("0001", "A", [])
    assert [c.patient_control_number for c in good.claims] == ["SHS-2026-0001", "SHS-2026-0002"]
    assert (broken.control_number, broken.ack_code, broken.claims) == ("0002", "R", [])
    assert [(p.segment_id, p.segment_position, p.loop_id, p.code, p.line) for p in broken.problems] == [
        ("N4", 10, "2010AA", "3", 61),
        ("DMG", 38, "2010BA", "1", 89),
    ]
    assert result.accepted_claims == good.claims
    assert body_of(result.ack_999) == [
        "AK1*HC*102*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK5*A",
        "AK2*837*0002*005010X222A1",
        "IK3*N4*10**3",
        "IK3*DMG*38**1",
        "IK5*R*5",
        "AK9*P*2*2*1",
    ]


def good_text() -> str:
    return fixture("good_2claims.837").decode()


def test_unreadable_claims_of_an_accepted_set_are_reported_and_left_out() -> None:
    # pyx12 accepts an RD8 that ends before it starts, an SV101 qualifier ER and a pointer to nothing
    text = (
        good_text()
        .replace("DTP*472*RD8*20260301-20260305", "DTP*472*RD8*20260305-20260301")
        .replace("SV1*HC:S5170:U6", "SV1*ER:S5170:U6")
    )
    result = read(text.encode())

    [transaction_set] = result.transaction_sets
    assert transaction_set.ack_code == "A"
    assert transaction_set.claims == []
    assert [
        (p.segment_id, p.segment_position, p.element_position, p.component_position, p.code)
        for p in transaction_set.problems
    ] == [
        ("DTP", 26, 3, None, "claim_unreadable"),
        ("SV1", 46, 1, 1, "claim_unreadable"),
    ]
    assert "SHS-2026-0001" in transaction_set.problems[0].message
    assert "ends before it starts" in transaction_set.problems[0].message

    pointer = good_text().replace("SV1*HC:H2016:U6*150*MJ*60*12**1", "SV1*HC:H2016:U6*150*MJ*60*12**3")
    result = read(pointer.encode())
    assert [c.patient_control_number for c in result.accepted_claims] == ["SHS-2026-0002"]
    [problem] = result.transaction_sets[0].problems
    assert (problem.segment_id, problem.segment_position, problem.element_position) == ("SV1", 29, 7)
    assert "points to diagnosis 3 of 2" in problem.message


def test_a_claim_for_a_dependent_patient_is_left_out() -> None:
    text = (
        good_text()
        .replace("HL*3*1*22*0~\r\nSBR*P*18*******MC", "HL*3*1*22*1~\r\nSBR*P********MC")
        .replace(
            "NM1*PR*2*HEALTH NET*****PI*95567~\r\nCLM*SHS-2026-0002",
            "NM1*PR*2*HEALTH NET*****PI*95567~\r\nHL*4*3*23*0~\r\nPAT*19~\r\nNM1*QC*1*SMITH*LUIS~\r\n"
            "N3*9 PINE AVE~\r\nN4*CLOVIS*CA*93612~\r\nDMG*D8*20150530*M~\r\nCLM*SHS-2026-0002",
        )
        .replace("SE*49*0001", "SE*55*0001")
    )
    result = read(text.encode())

    assert result.ack_code == "A"
    assert [c.patient_control_number for c in result.accepted_claims] == ["SHS-2026-0001"]
    [problem] = result.transaction_sets[0].problems
    assert (problem.segment_id, problem.segment_position, problem.code) == ("CLM", 47, "claim_unreadable")
    assert "2000C" in problem.message


def test_other_delimiters_are_read_and_answered_in_kind() -> None:
    # element "|", component ">", segment terminator a line feed
    text = good_text().replace("~\r\n", "\n").replace("*", "|").replace(":", ">")
    result = read(text.encode())

    assert result.ack_code == "A"
    assert result.accepted_claims == EXPECTED_CLAIMS
    assert result.ack_999.startswith("ISA|00|")
    assert "AK9|A|1|1|1\n" in result.ack_999
    assert pyx12_verdict(result.ack_999)[0]


# --- envelope problems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "code", "ack_body"),
    [
        # another guide or functional group: not validated at all, the AK9 says why
        ("*101*X*005010X222A1", "*101*X*005010X223A2", "2", ["AK1*HC*101*005010X223A2", "AK9*R*1*1*0*2"]),
        ("GS*HC*", "GS*HP*", "1", ["AK1*HP*101*005010X222A1", "AK9*R*1*1*0*1"]),
        ("GE*1*101", "GE*2*101", "5", ["AK1*HC*101*005010X222A1", "AK9*R*2*1*0*5"]),
        ("GE*1*101", "GE*1*102", "4", ["AK1*HC*101*005010X222A1", "AK9*R*1*1*0*4"]),
        # interchange errors: a TA1 (the only place X12 has for them) and a rejected group
        (
            "IEA*1*000000101",
            "IEA*1*000000102",
            "001",
            ["TA1*000000101*260315*0930*R*001", "AK1*HC*101*005010X222A1", "AK9*R*1*1*0"],
        ),
        (
            "*00501*",
            "*00401*",
            "017",
            ["TA1*000000101*260315*0930*R*017", "AK1*HC*101*005010X222A1", "AK9*R*1*1*0"],
        ),
    ],
)
def test_envelope_problems_reject_the_whole_file(old: str, new: str, code: str, ack_body: list[str]) -> None:
    result = read(good_text().replace(old, new).encode())

    assert result.ack_code == "R"
    assert code in [p.code for p in result.problems]
    assert [s.ack_code for s in result.transaction_sets] == ["R"]
    assert result.accepted_claims == []
    assert body_of(result.ack_999) == ack_body
    assert pyx12_verdict(result.ack_999)[0]


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("ST*837*0001*005010X222A1", "ST*837*0001*005010X223A2", "I6"),  # pyx12 would accept it
        ("ST*837*0001*005010X222A1", "ST*835*0001*005010X222A1", "1"),  # pyx12 would skip it silently
    ],
)
def test_a_transaction_set_of_another_kind_is_rejected(old: str, new: str, code: str) -> None:
    result = read(good_text().replace(old, new).encode())

    [transaction_set] = result.transaction_sets
    assert transaction_set.ack_code == "R"
    assert [(p.segment_id, p.segment_position, p.code) for p in transaction_set.problems] == [("ST", 1, code)]
    assert f"IK5*R*{code}" in body_of(result.ack_999)
    assert pyx12_verdict(result.ack_999)[0]


def test_duplicate_transaction_set_control_numbers_are_rejected() -> None:
    text = fixture("two_sets_one_broken.837").decode().replace("0002", "0001")
    result = read(text.encode())

    assert [s.ack_code for s in result.transaction_sets] == ["R", "R"]
    assert all("23" in [p.code for p in s.problems] for s in result.transaction_sets)
    assert body_of(result.ack_999)[2] == "IK5*R*23"


def test_missing_trailers_are_envelope_problems() -> None:
    text = good_text()
    result = read(text[: text.index("GE*")].encode())

    assert result.ack_code == "R"
    assert {p.code for p in result.problems} == {"3", "023"}
    assert body_of(result.ack_999) == [
        "TA1*000000101*260315*0930*R*023",
        "AK1*HC*101*005010X222A1",
        "AK9*R*1*1*0*3",
    ]


def test_an_interchange_without_a_group_gets_a_ta1_only() -> None:
    text = good_text()
    isa = text.split("~")[0]
    result = read(f"{isa}~IEA*0*000000101~".encode())

    assert result.ack_code == "R"
    assert [p.code for p in result.problems] == ["no_group"]
    assert segments_of(result.ack_999)[1:] == ["TA1*000000101*260315*0930*R*024", "IEA*0*000000900"]
    assert pyx12_verdict(result.ack_999)[0]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b" \r\n\t ", "empty_file"),
        (b"\x00\x01ISA*00*", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary"),
        (b"Hello, this is not a claim file.", "not_x12"),
        (b"ISA*00*          *00*", "isa_unreadable"),
        (
            b"ISA*00*  *00*          *ZZ*CLEARHOUSE01   *ZZ*95567          *260315*0930*^*00501*"
            b"000000101*0*T*:~",  # ISA02 two characters short: not fixed width
            "isa_unreadable",
        ),
    ],
)
def test_files_nobody_can_be_answered_for(data: bytes, code: str) -> None:
    result = read(data)

    assert result.ack_code == "R"
    assert result.ack_999 == ""
    assert [p.code for p in result.problems] == [code]
    assert result.transaction_sets == []


def test_binary_content_after_a_readable_isa_is_rejected_with_a_999() -> None:
    data = fixture("good_2claims.837").replace(b"GARCIA", b"GAR\x07CIA")
    result = read(data)

    assert result.ack_code == "R"
    assert [p.code for p in result.problems] == ["binary"]
    assert "AK9*R*1*1*0" in body_of(result.ack_999)


# --- the 999 itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["good_2claims.837", "two_sets_one_broken.837", "bad_element.837"])
def test_the_999_is_valid_x12(name: str) -> None:
    valid, errors = pyx12_verdict(read(fixture(name)).ack_999)

    assert valid, errors


def test_maps_loaded_once_give_the_verdicts_of_fresh_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["two_sets_one_broken.837", "bad_element.837", "good_2claims.837", "bad_element.837"]
    cached = [read(fixture(name)) for name in names]
    monkeypatch.setattr(pyx12.map_if, "load_map_file", LOAD_MAP_FILE)

    assert [read(fixture(name)) for name in names] == cached


def test_the_999_check_does_find_a_broken_999() -> None:
    ack = read(fixture("two_sets_one_broken.837")).ack_999

    assert not pyx12_verdict(ack.replace("SE*10*0001", "SE*9*0001"))[0]
    assert not pyx12_verdict(ack.replace("IK3*N4*10**3", "IK3*N4*10**Q"))[0]


# --- parallel validation ----------------------------------------------------------------------------


def test_two_workers_give_the_same_result_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pyx12.map_if, "load_map_file", LOAD_MAP_FILE)  # production, in this process
    # five sets: the third with bad SV103s, the fifth with the control number of the fourth
    data = build_837(50, 5, broken_set=2).replace(b"*0005", b"*0004")

    one, two = read(data, workers=1), read(data, workers=2)

    assert one == two
    assert one.ack_code == "P"
    assert [s.ack_code for s in one.transaction_sets] == ["A", "A", "R", "R", "R"]
    assert [p.code for p in one.transaction_sets[4].problems] == ["23"]
    assert len(one.accepted_claims) == 20
    # the problems of set 0003 are placed in the file received, not in its one-set interchange
    lines = data.decode().split("~\n")
    first = two.transaction_sets[2].problems[0]
    assert lines[first.line - 1].startswith("SV1*HC:H0043:U6*100*XX")
    assert pyx12_verdict(two.ack_999)[0]


def test_without_processes_the_sets_are_validated_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_processes(method: str) -> None:
        raise AssertionError("daemonic processes are not allowed to have children")  # as in a Huey worker

    monkeypatch.setattr(read837.multiprocessing, "get_context", no_processes)
    data = fixture("two_sets_one_broken.837")

    assert read(data, workers=2) == read(data, workers=1)


# --- nothing raises ---------------------------------------------------------------------------------


def test_truncated_at_every_segment_boundary() -> None:
    data = fixture("good_2claims.837")
    boundaries = [m.end() for m in re.finditer(rb"~\r\n", data)]

    for end in [0, 1, 50, *boundaries[:-1]]:
        result = read(data[:end])
        assert result.ack_code == "R", end
        assert result.accepted_claims == []
        assert result.problems
        assert result.ack_999 == "" or result.ack_999.startswith("ISA*")
    assert read(data[: boundaries[-1]]).ack_code == "A"


def test_pyx12_stays_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    read(fixture("bad_element.837"))

    assert capfd.readouterr().err == ""


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = read(data)

    assert result.ack_code == "R"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ISAGE*~:^0123456789 \n", max_size=300))
def test_x12_like_text_never_raises(text: str) -> None:
    result = read(("ISA*" + text).encode())

    assert result.ack_code in ("A", "E", "P", "R")


def _mutations() -> st.SearchStrategy[bytes]:
    good = fixture("good_2claims.837")
    insert = st.tuples(st.integers(0, len(good)), st.binary(min_size=1, max_size=12)).map(
        lambda t: good[: t[0]] + t[1] + good[t[0] :]
    )
    delete = st.tuples(st.integers(0, len(good)), st.integers(1, 40)).map(
        lambda t: good[: t[0]] + good[t[0] + t[1] :]
    )
    delimiter = st.tuples(st.integers(110, len(good) - 1), st.sampled_from(b"~*:^")).map(
        lambda t: good[: t[0]] + bytes([t[1]]) + good[t[0] + 1 :]
    )
    return st.one_of(insert, delete, delimiter)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mutations())
def test_mutated_files_never_raise(data: bytes) -> None:
    result = read(data)

    assert result.ack_code in ("A", "R")
    if result.ack_code == "A":
        assert pyx12_verdict(result.ack_999)[0]
    for claim in result.accepted_claims:
        assert isinstance(claim.total_charge, Decimal)
        assert all(isinstance(line.service_from, date) for line in claim.lines)
