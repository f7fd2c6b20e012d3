"""Read an inbound 837P (005010X222A1) interchange: check its envelope, validate it with pyx12, answer it
with a 999 and extract the claims of the transaction sets that were accepted.

``read_837p(data)`` never raises on bad input: whatever is wrong is reported in the result, each problem
with where it is (segment, position within its ST..SE, loop, element, component, file segment number).

Who decides what:

* The **envelope** (ISA/IEA, GS/GE, ST identity and control numbers) is checked here, because pyx12
  reports interchange errors only in a TA1, silently skips a set whose ST01 is not 837, accepts an ST03
  of another guide and raises on a GS it has no map for. Any envelope problem rejects the whole file (R)
  without validating its sets (the 999 then carries the AK9 codes, and a TA1 for interchange errors).
  Only one interchange with one functional group (GS01 ``HC``, GS08 ``005010X222A1``) per file.
* **pyx12** validates each transaction set against the 837P map: its 999 gives each set's IK3/IK4/IK5
  and its JSON error report gives the messages and positions of the problems.
* The **claims** are read by a light segment walker of this module (pyx12's tree is far too slow to
  extract from), only for accepted sets. A claim the walker cannot read (a date pyx12 let through, an
  SV101 qualifier that is not HC, a diagnosis pointer to nothing) is reported and left out, never guessed.

The 999 (``Interchange837.ack_999``) is written here from pyx12's per-set results, in the delimiters of
the file received, with an AK9 counting partially accepted groups (pyx12 itself only says A or R). It is
empty only when the ISA cannot be read (nobody to answer). When the ISA is readable but there is no
functional group to acknowledge, ``ack_999`` holds an interchange with only a TA1 (rejected).

``workers > 1`` validates the transaction sets in parallel: the interchange is cut into one small
interchange per ST (same ISA and GS, GE/IEA re-counted), each validated by pyx12 in a process pool,
and the per-set results are merged into one 999 for the original interchange.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import io
import json
import logging
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyx12.map_if
import pyx12.params
import pyx12.x12n_document

from cshub.claims.x12.segments import Delimiters, Isa, read_isa, split_segments
from cshub.core import clock

__all__ = [
    "ACK_IMPLEMENTATION",
    "FUNCTIONAL_ID",
    "IMPLEMENTATION",
    "Claim837",
    "Interchange837",
    "Line837",
    "TransactionSet837",
    "X12Problem",
    "cached_map_loader",
    "read_837p",
]

logger = logging.getLogger(__name__)

IMPLEMENTATION = "005010X222A1"  # the only guide accepted: 837 Professional
FUNCTIONAL_ID = "HC"  # GS01 of health care claims
ACK_IMPLEMENTATION = "005010X231"  # the 999 version pyx12 writes (and validates with its 999.5010 map)
INTERCHANGE_VERSION = "00501"


# ---------------------------------------------------------------------------------------------------
# What the reader returns
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class X12Problem:
    """One problem, for the 999, the file page and the API.

    ``code`` is the X12 code where there is one (IK304 segment codes, IK403 element codes, IK502
    transaction set codes, AK905 group codes, TA105 interchange codes), else pyx12's own code (``HL1``
    hierarchy count, ``LX`` line count, ``SEG1`` trailing separator) or one of this module's codes in
    words (``empty_file``, ``not_x12``, ``claim_unreadable`` ...).
    """

    segment_id: str
    segment_position: int | None  # position within ST..SE, ST = 1
    loop_id: str  # pyx12's loop (2300, 2400, HEADER, ...) or the walker's
    element_position: int | None
    component_position: int | None
    code: str
    message: str
    st_control_number: str = ""
    line: int | None = None  # segment number in the file, ISA = 1


@dataclass
class Line837:
    number: int  # LX01
    hcpcs: str  # SV101-2 (SV101-1 must be HC)
    modifiers: list[str]  # SV101-3..6, non-empty only
    charge: Decimal  # SV102
    unit_code: str  # SV103 (UN or MJ)
    units: Decimal  # SV104
    place_of_service: str  # SV105 or the claim's CLM05-1 when empty
    diagnosis_pointers: list[int]  # SV107-1..4
    service_from: date
    service_to: date  # DTP*472 D8 or RD8
    rendering_npi: str  # 2420A NM1*82 NM109, else the claim's 2310B, else ""
    authorization_number: str  # line REF*G1, else the claim's REF*G1, else ""
    line_control_number: str  # REF*6R or ""


@dataclass
class Claim837:
    st_control_number: str
    segment_position: int  # position of CLM within its ST
    patient_control_number: str  # CLM01, as sent (the 835 echoes it)
    total_charge: Decimal  # CLM02
    place_of_service: str  # CLM05-1
    frequency_code: str  # CLM05-3 (1 original, 7 replacement, 8 void)
    billing_npi: str  # 2010AA NM1*85 NM109
    billing_name: str
    billing_tax_id: str  # 2010AA REF*EI
    rendering_npi: str  # 2310B NM1*82 or ""
    payer_id: str  # 2010BB NM1*PR NM109
    payer_name: str
    member_id: str  # 2010BA NM1*IL NM109 (the Medi-Cal CIN or plan member ID)
    member_last_name: str
    member_first_name: str
    member_date_of_birth: date | None  # DMG*D8
    diagnosis_codes: list[str]  # HI ABK/ABF, in order, upper case, without dots ("Z590")
    authorization_number: str  # claim REF*G1 or ""
    original_reference: str  # REF*F8 payer claim control number (for frequency 7/8) or ""
    lines: list[Line837]


@dataclass
class TransactionSet837:
    control_number: str
    ack_code: str  # "A" | "E" | "R"
    problems: list[X12Problem]
    claims: list[Claim837]  # empty for a rejected set: its content is not trusted


@dataclass
class Interchange837:
    sender_id: str  # ISA06, stripped
    receiver_id: str  # ISA08, stripped
    control_number: str  # ISA13
    gs_sender: str
    gs_receiver: str
    gs_control_number: str
    usage: str  # ISA15 T or P
    created_at: datetime | None  # GS04/GS05 (else ISA09/ISA10), naive, as sent
    ack_code: str  # A, E, P (partially accepted) or R
    # The 999 answering this file (with a TA1 after the ISA when asked for or when the interchange is in
    # error; only a TA1 when no functional group can be acknowledged; "" when the ISA cannot be read).
    ack_999: str
    transaction_sets: list[TransactionSet837]
    problems: list[X12Problem]  # envelope-level

    @property
    def accepted_claims(self) -> list[Claim837]:
        return [c for s in self.transaction_sets if s.ack_code in ("A", "E") for c in s.claims]


# ---------------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------------


def read_837p(
    data: bytes,
    workers: int = 1,
    *,
    ack_control_number: int | None = None,
    ack_created_at: datetime | None = None,
) -> Interchange837:
    """Read, validate and acknowledge one inbound 837P file.

    ``workers > 1`` validates the transaction sets of a multi-ST file in that many processes.
    ``ack_control_number`` is the 999's ISA13/GS06 (give the next number of the plan's outbound
    sequence; by default the received ISA13 is echoed, which is deterministic but can collide with the
    plan's other outbound interchanges). ``ack_created_at`` is the 999's date and time (default: now,
    Pacific time).
    """
    text = _decode(data)
    if isinstance(text, X12Problem):
        return _unanswerable(text)
    isa = read_isa(text)
    stray = _stray_control_character(text, isa)
    if isinstance(isa, str):
        if stray:
            return _unanswerable(stray)
        return _unanswerable(_problem("ISA", "not_x12" if "not start" in isa else "isa_unreadable", isa))
    segments, rest = split_segments(text, isa.delimiters)
    envelope = _check_envelope(isa, segments, rest)
    if stray:
        envelope.problems.insert(0, stray)
    # the 999 is laid out like the file: a line break after each segment, or none
    after_isa = text[len(isa.text) + 1 : len(isa.text) + 3]
    line_break = "\r\n" if after_isa == "\r\n" else "\n" if after_isa[:1] == "\n" else ""
    reader = _Reader(isa, segments, envelope, line_break)
    created = ack_created_at or clock.local(clock.now()).replace(tzinfo=None)
    if ack_control_number is None:
        ack_control_number = int(isa.get(13)) if isa.get(13).isdigit() else 1
    return reader.read(workers=max(1, workers), ack_control_number=ack_control_number, ack_created_at=created)


def _unanswerable(problem: X12Problem) -> Interchange837:
    return Interchange837(
        sender_id="",
        receiver_id="",
        control_number="",
        gs_sender="",
        gs_receiver="",
        gs_control_number="",
        usage="",
        created_at=None,
        ack_code="R",
        ack_999="",
        transaction_sets=[],
        problems=[problem],
    )


def _problem(
    segment_id: str,
    code: str,
    message: str,
    *,
    line: int | None = None,
    position: int | None = None,
    element: int | None = None,
    component: int | None = None,
    loop_id: str = "",
    st_control_number: str = "",
) -> X12Problem:
    return X12Problem(
        segment_id=segment_id,
        segment_position=position,
        loop_id=loop_id,
        element_position=element,
        component_position=component,
        code=code,
        message=message,
        st_control_number=st_control_number,
        line=line,
    )


# Control characters have no business in X12 text (unless chosen as delimiters): a file with them is
# binary, or not text in ASCII/ISO-8859-1. Tab, CR and LF are tolerated (line breaks between segments).
_CONTROL_CHARS = frozenset(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)))


def _decode(data: bytes) -> str | X12Problem:
    if not isinstance(data, bytes | bytearray | memoryview):
        return _problem("", "not_x12", "The file is not bytes.")
    data = bytes(data)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        return _problem("", "empty_file", "The file is empty.")
    if b"\x00" in data:
        return _problem("", "binary", "The file is binary (it contains NUL bytes), not X12 text.")
    return data.decode("latin-1").lstrip()  # X12 is ASCII or ISO-8859-1: every byte decodes


@functools.cache
def _control_characters_except(delimiters: str) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_CONTROL_CHARS - set(delimiters))) + "]")


def _stray_control_character(text: str, isa: Isa | str) -> X12Problem | None:
    d = isa.delimiters if isinstance(isa, Isa) else None
    delimiters = (d.element + d.component + d.segment + d.repetition) if d else ""
    stray = _control_characters_except(delimiters).search(text)
    if stray is None:
        return None
    return _problem(
        "",
        "binary",
        f"The file contains the control character {stray.group()!r}: it is binary or not "
        "ASCII/ISO-8859-1 text.",
    )


# ---------------------------------------------------------------------------------------------------
# The envelope: ISA/IEA, GS/GE and the ST..SE ranges
# ---------------------------------------------------------------------------------------------------

# TA105 codes for ISA elements (the table pyx12 uses for its TA1).
_ISA_ELEMENT_CODES = {
    1: "010",
    2: "011",
    3: "012",
    4: "013",
    5: "005",
    6: "006",
    7: "007",
    8: "008",
    9: "014",
    10: "015",
    11: "016",
    12: "017",
    13: "018",
    14: "019",
    15: "020",
}
_ID_QUALIFIERS = {"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"}


@dataclass
class _SetRange:
    """One ST..SE of the file, as segment indexes (``end`` inclusive: the SE, or the last segment
    before whatever ended the set when the SE is missing)."""

    start: int
    end: int
    has_se: bool
    st: list[str]
    own_problems: list[X12Problem] = field(default_factory=list)
    own_codes: list[str] = field(default_factory=list)  # IK502 codes of the problems found here
    validate: bool = True  # False: not an 837 at all, pyx12 is not asked

    @property
    def control_number(self) -> str:
        return _element(self.st, 2).strip()


@dataclass
class _Group:
    gs: list[str]
    line: int
    ge: list[str] | None = None
    sets: list[_SetRange] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # AK905.. codes

    @property
    def answerable(self) -> bool:
        """A 999 can acknowledge this group: its AK1 needs GS01 and a numeric GS06."""
        return len(self.gs) >= 9 and bool(self.gs[1]) and self.gs[6].isdigit() and len(self.gs[6]) <= 9


@dataclass
class _Envelope:
    problems: list[X12Problem] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    interchange_codes: list[str] = field(default_factory=list)  # TA105 codes
    iea: list[str] | None = None


def _element(segment: Sequence[str], number: int) -> str:
    return segment[number] if len(segment) > number else ""


_ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))


def _check_envelope(isa: Isa, segments: list[list[str]], rest: str) -> _Envelope:
    env = _Envelope()

    def reject(segment_id: str, code: str, message: str, line: int | None, **kw: Any) -> None:
        env.problems.append(_problem(segment_id, code, message, line=line, **kw))

    _check_isa_elements(isa, env, reject)
    group: _Group | None = None
    current: _SetRange | None = None
    after_iea = False
    for index in range(1, len(segments)):  # 0 is the ISA
        seg = segments[index]
        sid = seg[0]
        if sid not in _ENVELOPE_IDS:
            if len(seg) == 1 and not sid.strip():
                reject("", "empty_segment", "Empty segment (two segment terminators in a row).", index + 1)
                continue
            if current is not None:
                continue  # the content of a set: pyx12's business
        line = index + 1
        if after_iea:
            reject(sid, "after_iea", "Segments follow the IEA trailer: one interchange per file.", line)
            break
        if sid == "ST":
            if current is not None:
                current.end = index - 1
            if group is None:
                reject(sid, "outside_group", "ST outside a functional group (no GS before it).", line)
                group = _Group(gs=["GS"], line=line)
                env.groups.append(group)
            current = _SetRange(start=index, end=index, has_se=False, st=seg)
            group.sets.append(current)
        elif sid == "SE":
            if current is None:
                reject(sid, "outside_set", "SE without an ST.", line)
            else:
                current.end, current.has_se = index, True
                current = None
        elif sid == "GS":
            if current is not None:
                current.end, current = index - 1, None
            if group is not None:
                reject(sid, "several_groups", "More than one functional group (GS): one per file.", line)
            group = _Group(gs=seg, line=line)
            env.groups.append(group)
        elif sid == "GE":
            if current is not None:
                current.end, current = index - 1, None
            if group is None or group.ge is not None:
                reject(sid, "outside_group", "GE without a GS.", line)
            else:
                group.ge = seg
                _check_ge(group, seg, line, reject)
        elif sid == "IEA":
            if current is not None:
                current.end, current = index - 1, None
            env.iea = seg
            after_iea = True
            _check_iea(isa, env, seg, line, reject)
        elif sid == "ISA":
            reject(sid, "several_interchanges", "A second ISA: one interchange per file.", line)
            break
        else:
            reject(sid, "outside_set", f"Segment {sid[:3]!r} outside a transaction set.", line)
    if current is not None:
        current.end = len(segments) - 1
    if rest:
        reject(
            "",
            "truncated",
            f"The file ends inside a segment ({rest[:20]!r} has no segment terminator).",
            len(segments) + 1,
        )
    if env.iea is None:
        env.interchange_codes.append("023")
        reject("IEA", "023", "The interchange trailer (IEA) is missing.", len(segments) + 1)
    for group in env.groups:
        if group.ge is None:
            group.codes.append("3")
            reject("GE", "3", "The functional group trailer (GE) is missing.", None)
        _check_gs(group, env, reject)
        _check_sets(group)
    if not env.groups:
        reject("GS", "no_group", "The interchange has no functional group (GS).", None)
    elif not any(g.sets for g in env.groups):
        reject("ST", "no_transaction_set", "The functional group has no transaction set (ST).", None)
    if not any(g.answerable for g in env.groups):
        env.interchange_codes.append("024")  # invalid interchange content: only a TA1 can answer
    return env


def _check_isa_elements(isa: Isa, env: _Envelope, reject: Callable[..., None]) -> None:
    checks: list[tuple[int, bool, str]] = [
        (1, isa.get(1) in ("00", "03"), "ISA01 authorization qualifier must be 00 or 03."),
        (3, isa.get(3) in ("00", "01"), "ISA03 security qualifier must be 00 or 01."),
        (5, isa.get(5) in _ID_QUALIFIERS, "ISA05 is not an interchange ID qualifier."),
        (6, bool(isa.get(6).strip()), "ISA06 sender ID is empty."),
        (7, isa.get(7) in _ID_QUALIFIERS, "ISA07 is not an interchange ID qualifier."),
        (8, bool(isa.get(8).strip()), "ISA08 receiver ID is empty."),
        (9, _parse_date("20" + isa.get(9)) is not None, "ISA09 is not a date (YYMMDD)."),
        (10, _parse_time(isa.get(10)) is not None, "ISA10 is not a time (HHMM)."),
        (13, isa.get(13).isdigit(), "ISA13 interchange control number must be 9 digits."),
        (14, isa.get(14) in ("0", "1"), "ISA14 acknowledgment requested must be 0 or 1."),
        (15, isa.get(15) in ("T", "P"), "ISA15 usage must be T (test) or P (production)."),
    ]
    for number, ok, message in checks:
        if not ok:
            code = _ISA_ELEMENT_CODES[number]
            env.interchange_codes.append(code)
            reject("ISA", code, message, 1, element=number)
    if isa.get(12) != INTERCHANGE_VERSION:
        env.interchange_codes.append("017")
        reject(
            "ISA",
            "017",
            f"ISA12 version {isa.get(12)!r} is not supported: only {INTERCHANGE_VERSION} (5010).",
            1,
            element=12,
        )


def _check_gs(group: _Group, env: _Envelope, reject: Callable[..., None]) -> None:
    gs, line = group.gs, group.line
    if len(gs) < 9:
        if len(gs) > 1:  # a GS invented for an ST outside a group is already reported
            group.codes.append("1")
            reject("GS", "1", "The GS segment has fewer than 8 elements.", line)
        return
    if gs[1] != FUNCTIONAL_ID:
        group.codes.append("1")
        reject("GS", "1", f"GS01 {gs[1][:10]!r} is not supported: only HC (claims).", line, element=1)
    if gs[8] != IMPLEMENTATION:
        group.codes.append("2")
        reject(
            "GS",
            "2",
            f"GS08 {gs[8][:20]!r} is not supported: only {IMPLEMENTATION} (837 Professional).",
            line,
            element=8,
        )
    if not (gs[6].isdigit() and len(gs[6]) <= 9):
        group.codes.append("6")
        reject("GS", "6", "GS06 group control number must be 1 to 9 digits.", line, element=6)
    if _parse_date(gs[4]) is None or _parse_time(gs[5]) is None:
        group.codes.append("1")
        reject("GS", "1", "GS04/GS05 are not a date (CCYYMMDD) and time.", line, element=4)


def _check_ge(group: _Group, ge: list[str], line: int, reject: Callable[..., None]) -> None:
    if _element(ge, 2) != _element(group.gs, 6):
        group.codes.append("4")
        reject("GE", "4", f"GE02 {_element(ge, 2)[:9]!r} does not match GS06.", line, element=2)
    if _element(ge, 1) != str(len(group.sets)):
        group.codes.append("5")
        reject(
            "GE",
            "5",
            f"GE01 says {_element(ge, 1)[:9]!r} transaction sets; the group has {len(group.sets)}.",
            line,
            element=1,
        )


def _check_iea(isa: Isa, env: _Envelope, iea: list[str], line: int, reject: Callable[..., None]) -> None:
    if _element(iea, 2) != isa.get(13):
        env.interchange_codes.append("001")
        reject("IEA", "001", "IEA02 does not match the ISA13 control number.", line, element=2)
    if _element(iea, 1) != str(len(env.groups)):
        env.interchange_codes.append("021")
        reject("IEA", "021", f"IEA01 says {_element(iea, 1)[:5]!r} groups; found {len(env.groups)}.", line)


def _check_sets(group: _Group) -> None:
    """What pyx12 does not check, or checks only across the whole file: ST01, ST03, ST02 unique."""
    seen = Counter(s.control_number for s in group.sets)
    for st in group.sets:
        number = st.control_number
        if _element(st.st, 1) != "837":
            st.validate = False  # pyx12 would skip it without a word
            _set_problem(st, "1", f"ST01 {_element(st.st, 1)[:6]!r} is not an 837 transaction set.", 1)
        if not (4 <= len(number) <= 9):
            _set_problem(st, "7", "ST02 transaction set control number must be 4 to 9 characters.", 2)
        elif seen[number] > 1:
            _set_problem(st, "23", f"ST02 {number} is not unique within the functional group.", 2)
        if st.validate and _element(st.st, 3) != IMPLEMENTATION:  # pyx12 would accept another guide
            _set_problem(st, "I6", f"ST03 {_element(st.st, 3)[:20]!r} is not {IMPLEMENTATION}.", 3)


def _set_problem(st: _SetRange, code: str, message: str, element: int) -> None:
    st.own_codes.append(code)
    st.own_problems.append(
        _problem(
            "ST",
            code,
            message,
            line=st.start + 1,
            position=1,
            element=element,
            loop_id="ST_LOOP",
            st_control_number=st.control_number,
        )
    )


# ---------------------------------------------------------------------------------------------------
# pyx12: validation of one text (the whole file, or one transaction set in its own interchange)
# ---------------------------------------------------------------------------------------------------


def _quiet_pyx12() -> None:
    """pyx12 logs every validation error at ERROR level (to stderr when logging is not configured);
    they are all in the result already."""
    pyx12_logger = logging.getLogger("pyx12")
    pyx12_logger.setLevel(logging.CRITICAL)
    pyx12_logger.propagate = False
    if not pyx12_logger.handlers:
        pyx12_logger.addHandler(logging.NullHandler())


_quiet_pyx12()


@dataclass
class _SetValidation:
    """pyx12's verdict on one transaction set; lines are segment numbers in the text validated."""

    trailer_line: int  # line of the SE, or of the ST when pyx12 saw no SE
    ak2: list[list[str]]  # AK2, IK3, IK4 ... as written by pyx12 (elements split on "*")
    ik5: list[str]  # IK5 elements
    problems: list[X12Problem]


@dataclass
class _Validation:
    sets: list[_SetValidation]
    failure: str = ""  # pyx12 raised: the message


_ST_LEVEL_CODES = ("1", "6", "7", "23")  # ST errors pyx12 reports on the ST, the others on the SE


def _validate_text(text: str) -> _Validation:
    """Run pyx12 over ``text`` and collect its 999 (per set) and its problems with their positions."""
    fd_999, fd_json = io.StringIO(), io.StringIO()
    nodes: list[Any] = []  # pyx12's map node for each segment, to name the loop of a problem

    def remember_node(seg: Any, src: Any, node: Any, valid: bool) -> None:
        nodes.append(node)

    try:
        pyx12.x12n_document.x12n_document(
            pyx12.params.ParamsBase(),  # no config files: the same rules on every machine
            io.StringIO(text),
            fd_999,
            None,
            fd_json=fd_json,
            callback=remember_node,
        )
        report = json.loads(fd_json.getvalue())
    except Exception as exc:  # pyx12 raises on some malformed input: the file is rejected, not crashed
        logger.info("pyx12 failed: %s", exc)
        return _Validation(sets=[], failure=f"{type(exc).__name__}: {exc}"[:300])

    def loop_of(line: int) -> str:
        node = nodes[line - 1] if 0 < line <= len(nodes) else None
        parent = getattr(node, "parent", None)
        return str(getattr(parent, "id", "") or "")

    blocks = _ak2_blocks(fd_999.getvalue())
    transactions = [
        t
        for interchange in report.get("interchanges", [])
        for group in interchange.get("groups", [])
        for t in group.get("transactions", [])
    ]
    sets = []
    for number, transaction in enumerate(transactions):
        control = str(transaction.get("trn_set_control_num") or "").strip()
        trailer_line = int(transaction.get("cur_line") or 0)
        problems = [
            _problem(
                "ST" if error["err_cde"] in _ST_LEVEL_CODES else "SE",
                str(error["err_cde"]),
                str(error["err_str"]),
                line=trailer_line,
                loop_id="ST_LOOP",
                st_control_number=control,
            )
            for error in transaction.get("errors", [])
        ]
        for seg in transaction.get("segments", []):
            where = {
                "line": seg.get("cur_line"),
                "position": seg.get("seg_count"),
                "loop_id": loop_of(int(seg.get("cur_line") or 0)),
                "st_control_number": control,
            }
            seg_id = str(seg.get("seg_id") or "")
            for error in seg.get("errors", []):
                problems.append(_problem(seg_id, str(error["err_cde"]), str(error["err_str"]), **where))
            for element in seg.get("elements", []):
                for error in element.get("errors", []):
                    problems.append(
                        _problem(
                            seg_id,
                            str(error["err_cde"]),
                            str(error["err_str"]),
                            element=element.get("ele_pos"),
                            component=element.get("subele_pos"),
                            **where,
                        )
                    )
        if len(blocks) == len(transactions):
            ak2, ik5 = blocks[number]
        else:  # the 999 visitor gave up (it raises on a set without ST01/ST02): rebuild the basics
            ack = "A" if transaction.get("ack_code") == "A" and not problems else "R"
            ak2 = [["AK2", str(transaction.get("trn_set_id") or ""), control]]
            ik5 = ["IK5", ack] if ack == "A" else ["IK5", "R", "5"]
        sets.append(_SetValidation(trailer_line=trailer_line, ak2=ak2, ik5=ik5, problems=problems))
    return _Validation(sets=sets)


def _ak2_blocks(text_999: str) -> list[tuple[list[list[str]], list[str]]]:
    """The AK2..IK5 loops of a 999 written by pyx12 (delimiters ``~ * :``)."""
    blocks: list[tuple[list[list[str]], list[str]]] = []
    current: list[list[str]] | None = None
    for raw in text_999.split("~"):
        seg = raw.strip("\r\n").split("*")
        sid = seg[0]
        if sid == "AK2":
            current = [seg]
        elif sid in ("IK3", "IK4", "CTX") and current is not None:
            if sid == "IK4" and len(seg) > 5:  # a bad value holding "*" was split: put it back
                seg = [*seg[:4], "*".join(seg[4:])]
            current.append(seg)
        elif sid == "IK5" and current is not None:
            blocks.append((current, seg))
            current = None
    return blocks


def cached_map_loader() -> Callable[..., Any]:
    """pyx12's ``load_map_file``, remembering each map: parsing the 837P map takes 0.2 s, once per
    validation. pyx12 keeps no validation state in its maps (its walker counts), so a map can serve
    again. Installed only in the processes of our own pool (and by tests), never in the caller's."""
    load = pyx12.map_if.load_map_file
    maps: dict[tuple[str, str | None], Any] = {}

    def load_once(map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path)
        if key not in maps:
            maps[key] = load(map_file, param, map_path)
        return maps[key]

    return load_once


def _start_pool_worker() -> None:
    _quiet_pyx12()
    pyx12.map_if.load_map_file = cached_map_loader()


def _validate_many(texts: list[str], workers: int) -> list[_Validation]:
    """Validate each text with pyx12 in a pool of processes; in this process if no pool can start."""
    if workers > 1 and len(texts) > 1:
        try:
            # spawn, not fork: the caller may be a threaded server, and forking threads is unsafe
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=min(workers, len(texts)), mp_context=context, initializer=_start_pool_worker
            ) as pool:
                return list(pool.map(_validate_text, texts))
        except Exception as exc:  # inline validation gives the same result, only slower
            # no processes here: a sandbox, a broken pool, a daemonic worker (Huey's process workers
            # may not have children), a __main__ without its guard under spawn
            logger.warning("parallel 837 validation unavailable, validating inline: %s", exc)
    return [_validate_text(text) for text in texts]


# ---------------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------------


@dataclass
class _SetOutcome:
    range: _SetRange
    ak2: list[list[str]]
    ik5: list[str]
    problems: list[X12Problem]

    @property
    def ack_code(self) -> str:
        return _element(self.ik5, 1) or "R"


class _Reader:
    def __init__(self, isa: Isa, segments: list[list[str]], envelope: _Envelope, line_break: str) -> None:
        self.isa = isa
        self.segments = segments
        self.env = envelope
        self.delimiters = isa.delimiters
        self.line_break = line_break

    # -- the whole flow ---------------------------------------------------------------------------

    def read(self, *, workers: int, ack_control_number: int, ack_created_at: datetime) -> Interchange837:
        env, isa = self.env, self.isa
        group = env.groups[0] if env.groups else None
        gs = group.gs if group else []
        sets = [s for g in env.groups for s in g.sets]
        # A broken envelope rejects the file without a look inside: the sender fixes it first.
        rejected = bool(env.problems)
        if rejected or group is None:
            outcomes = [self._not_validated(s, "") for s in sets]
        else:
            outcomes = self._validate(group, workers)
        transaction_sets = []
        for outcome in outcomes:
            ack = "R" if rejected else outcome.ack_code
            claims: list[Claim837] = []
            problems = list(outcome.problems)
            if ack in ("A", "E"):
                claims, content_problems = _ClaimWalker(self, outcome.range).walk()
                problems.extend(content_problems)
            transaction_sets.append(
                TransactionSet837(
                    control_number=outcome.range.control_number,
                    ack_code=ack,
                    problems=problems,
                    claims=claims,
                )
            )
        ack_code = _overall_ack([s.ack_code for s in transaction_sets], rejected)
        ack_999 = _Ack999(
            isa=isa,
            groups=env.groups,
            outcomes=outcomes,
            ack_code=ack_code,
            interchange_codes=env.interchange_codes,
            control_number=ack_control_number,
            created_at=ack_created_at,
            line_break=self.line_break,
            list_sets=not rejected,
        ).render()
        return Interchange837(
            sender_id=isa.get(6).strip(),
            receiver_id=isa.get(8).strip(),
            control_number=isa.get(13),
            gs_sender=_element(gs, 2).strip(),
            gs_receiver=_element(gs, 3).strip(),
            gs_control_number=_element(gs, 6).strip(),
            usage=isa.get(15),
            created_at=_created_at(isa, gs),
            ack_code=ack_code,
            ack_999=ack_999,
            transaction_sets=transaction_sets,
            problems=env.problems,
        )

    # -- validation -------------------------------------------------------------------------------

    def _validate(self, group: _Group, workers: int) -> list[_SetOutcome]:
        to_check = [s for s in group.sets if s.validate]
        if workers > 1 and len(to_check) > 1:
            texts = [self._set_interchange(group, s) for s in to_check]
            results = _validate_many(texts, workers)
            by_set: dict[int, tuple[_SetValidation | None, str, int]] = {}
            for st, result in zip(to_check, results, strict=True):
                found = result.sets[0] if len(result.sets) == 1 else None
                # lines in the small interchange: ISA 1, GS 2, ST 3
                by_set[id(st)] = (found, result.failure, st.start + 1 - 3)
            return [self._outcome(s, *by_set.get(id(s), (None, "", 0))) for s in group.sets]
        result = _validate_text(self._whole_text())
        # pyx12 places a set at its SE (its ST when it never saw the SE)
        trailers = {v.trailer_line: v for v in result.sets}
        outcomes = []
        for st in group.sets:
            found = (trailers.get(st.end + 1) or trailers.get(st.start + 1)) if st.validate else None
            outcomes.append(self._outcome(st, found, result.failure, 0))
        return outcomes

    def _outcome(
        self, st: _SetRange, found: _SetValidation | None, failure: str, line_offset: int
    ) -> _SetOutcome:
        if found is None:
            if not st.validate:
                return self._not_validated(st, "")
            if failure:
                return self._not_validated(st, f"The validator failed on this set ({failure}).")
            return self._not_validated(st, "The validator gave no verdict on this transaction set.")
        se_position = st.end - st.start + 1 if st.has_se else None
        problems = [
            _placed(p, line_offset, se_position)
            for p in found.problems
            # a duplicate ST02 is checked here for both ways of validating (pyx12 sees it only whole)
            if not (p.segment_id == "ST" and p.code == "23" and p.element_position is None)
        ]
        ik5 = list(found.ik5)
        if st.own_codes:
            codes = [c for c in ik5[2:] if c] + st.own_codes
            ik5 = ["IK5", "R", *sorted(set(codes), key=codes.index)[:5]]
        return _SetOutcome(range=st, ak2=found.ak2, ik5=ik5, problems=st.own_problems + problems)

    def _not_validated(self, st: _SetRange, reason: str) -> _SetOutcome:
        """A set pyx12 did not judge: rejected, with its own problems and ``reason`` if any."""
        problems = list(st.own_problems)
        if reason:
            problems.append(
                _problem(
                    "ST",
                    "not_validated",
                    reason,
                    line=st.start + 1,
                    position=1,
                    loop_id="ST_LOOP",
                    st_control_number=st.control_number,
                )
            )
        codes = st.own_codes or ["5"]
        ak2 = [["AK2", _element(st.st, 1), st.control_number, _element(st.st, 3)]]
        return _SetOutcome(range=st, ak2=ak2, ik5=["IK5", "R", *codes[:5]], problems=problems)

    def _join(self, segments: Sequence[list[str]]) -> str:
        terminator = self.delimiters.segment
        element, end = self.delimiters.element, terminator + ("" if terminator in "\r\n" else "\n")
        return end.join([element.join(seg) for seg in segments]) + end

    def _whole_text(self) -> str:
        return self._join(self.segments)

    def _set_interchange(self, group: _Group, st: _SetRange) -> str:
        """One transaction set in an interchange of its own: same ISA and GS, GE/IEA counting it."""
        gs = group.gs
        trailer = [["GE", "1", _element(gs, 6)], ["IEA", "1", self.isa.get(13)]]
        return self._join([self.segments[0], gs, *self.segments[st.start : st.end + 1], *trailer])


def _placed(problem: X12Problem, line_offset: int, se_position: int | None) -> X12Problem:
    """A problem found by pyx12 at its place in the file received (a one-set interchange starts its
    ST at segment 3) and with the position of the SE for the errors pyx12 reports on the trailer."""
    position = problem.segment_position
    if position is None and problem.segment_id in ("ST", "SE"):
        position = 1 if problem.segment_id == "ST" else se_position
    line = None if problem.line is None else problem.line + line_offset
    if line == problem.line and position == problem.segment_position:
        return problem
    return dataclasses.replace(problem, segment_position=position, line=line)


def _overall_ack(set_codes: list[str], rejected: bool) -> str:
    accepted = [c for c in set_codes if c in ("A", "E")]
    if rejected or not accepted:
        return "R"
    if len(accepted) < len(set_codes):
        return "P"
    return "E" if "E" in accepted else "A"


def _created_at(isa: Isa, gs: list[str]) -> datetime | None:
    day, moment = _parse_date(_element(gs, 4)), _parse_time(_element(gs, 5))
    if day is None or moment is None:
        day, moment = _parse_date("20" + isa.get(9)), _parse_time(isa.get(10))
    if day is None or moment is None:
        return None
    return datetime(day.year, day.month, day.day, *moment)  # noqa: DTZ001 - as sent, zone unknown


def _parse_date(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _parse_time(value: str) -> tuple[int, int, int] | None:
    """HHMM, HHMMSS or HHMMSSd..: (hour, minute, second)."""
    if len(value) not in (4, 6, 7, 8) or not value.isdigit():
        return None
    hour, minute, second = int(value[:2]), int(value[2:4]), int(value[4:6] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


# ---------------------------------------------------------------------------------------------------
# The 999
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Ack999:
    isa: Isa
    groups: list[_Group]
    outcomes: list[_SetOutcome]
    ack_code: str
    interchange_codes: list[str]
    control_number: int
    created_at: datetime
    line_break: str
    list_sets: bool  # False when the file was not validated: the AK9 alone says why

    def render(self) -> str:
        d = self.isa.delimiters
        repetition = d.repetition or next(c for c in "^{!" if c not in (d.element, d.component, d.segment))
        clean = _cleaner(d, repetition)
        control = f"{self.control_number % 1_000_000_000:09d}"
        group_control = str(self.control_number % 1_000_000_000)
        isa = self.isa
        usage = isa.get(15) if isa.get(15) in ("T", "P") else "T"
        segments: list[list[str]] = [
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                clean(isa.get(7)).ljust(2)[:2],
                clean(isa.get(8)).ljust(15)[:15],
                clean(isa.get(5)).ljust(2)[:2],
                clean(isa.get(6)).ljust(15)[:15],
                self.created_at.strftime("%y%m%d"),
                self.created_at.strftime("%H%M"),
                repetition,
                INTERCHANGE_VERSION,
                control,
                "0",
                usage,
                d.component,
            ]
        ]
        if isa.get(14) == "1" or self.interchange_codes:
            # TA1: asked for, or the interchange itself is in error (the only way X12 has to say so)
            code = self.interchange_codes[0] if self.interchange_codes else "000"
            ta1_ack = "R" if self.interchange_codes else "A"
            segments.append(["TA1", clean(isa.get(13)), clean(isa.get(9)), clean(isa.get(10)), ta1_ack, code])
        groups = [g for g in self.groups if g.answerable]
        if groups:
            gs = groups[0].gs
            segments.append(
                [
                    "GS",
                    "FA",
                    clean(_element(gs, 3)) or clean(isa.get(8)).strip(),
                    clean(_element(gs, 2)) or clean(isa.get(6)).strip(),
                    self.created_at.strftime("%Y%m%d"),
                    self.created_at.strftime("%H%M"),
                    group_control,
                    "X",
                    ACK_IMPLEMENTATION,
                ]
            )
            by_range = {id(o.range): o for o in self.outcomes}
            for number, group in enumerate(groups, 1):
                body = self._group_body(group, by_range, clean, d)
                st = ["ST", "999", f"{number:04d}", ACK_IMPLEMENTATION]
                segments += [st, *body, ["SE", str(len(body) + 2), f"{number:04d}"]]
            segments.append(["GE", str(len(groups)), group_control])
        segments.append(["IEA", "1" if groups else "0", control])
        end = d.segment + self.line_break
        return "".join(d.element.join(_trimmed(seg)) + end for seg in segments)

    def _group_body(
        self,
        group: _Group,
        by_range: dict[int, _SetOutcome],
        clean: Callable[[str], str],
        d: Delimiters,
    ) -> list[list[str]]:
        gs = group.gs
        ak1 = ["AK1", *(clean(_element(gs, number)) for number in (1, 6, 8))]
        body: list[list[str]] = [ak1]
        accepted = 0
        for st in group.sets:
            outcome = by_range.get(id(st))
            if outcome is None or not self.list_sets:
                continue
            for seg in outcome.ak2:
                body.append(_ack_segment(seg, clean, d))
            body.append([clean(e) for e in outcome.ik5])
            accepted += outcome.ack_code in ("A", "E")
        if self.ack_code == "R":
            accepted = 0
        ge_count = _element(group.ge or [], 1)
        included = ge_count if ge_count.isdigit() else str(len(group.sets))
        ak9_code = self.ack_code if len(self.groups) == 1 else "R"
        body.append(["AK9", ak9_code, included, str(len(group.sets)), str(accepted), *group.codes[:5]])
        return body


def _trimmed(seg: list[str]) -> list[str]:
    """Without trailing empty elements (X12 forbids trailing separators)."""
    end = len(seg)
    while end > 1 and not seg[end - 1]:
        end -= 1
    return seg[:end]


def _ack_segment(seg: list[str], clean: Callable[[str], str], d: Delimiters) -> list[str]:
    """An AK2/IK3/IK4 segment from pyx12's 999, in the file's delimiters (IK401 is a composite)."""
    if seg[0] == "IK4" and len(seg) > 1:
        composite = d.component.join(clean(part) for part in seg[1].split(":"))
        rest = [clean(e) for e in seg[2:]]
        if len(rest) >= 3:
            rest[2] = rest[2][:99]  # IK404, the bad value, is at most 99 characters
        return ["IK4", composite, *rest]
    return [clean(e) for e in seg]


_NOT_X12_CHARACTER = re.compile(r"[^\x20-\x7e]")  # the X12 extended character set is printable ASCII


def _cleaner(d: Delimiters, repetition: str) -> Callable[[str], str]:
    """Values echoed into the 999 lose any delimiter and any character outside the X12 character set
    (they would break it)."""
    table = {ord(c): None for c in (d.element, d.component, d.segment, repetition)}

    def clean(value: str) -> str:
        return _NOT_X12_CHARACTER.sub("", value.translate(table))

    return clean


# ---------------------------------------------------------------------------------------------------
# The claims: a light walker over the segments of one accepted transaction set
# ---------------------------------------------------------------------------------------------------

_AMOUNT = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")


class _Unreadable(Exception):
    """Content the walker cannot read; ``position`` when it is not the segment being read."""

    def __init__(
        self,
        seg_id: str,
        message: str,
        element: int | None = None,
        component: int | None = None,
        *,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.seg_id, self.message, self.element, self.component = seg_id, message, element, component
        self.position = position


def _amount(seg: list[str], number: int) -> Decimal:
    value = _element(seg, number).strip()
    if not _AMOUNT.fullmatch(value):
        raise _Unreadable(seg[0], f"{seg[0]}{number:02d} {value[:20]!r} is not an amount.", number)
    return Decimal(value)


def _d8(seg_id: str, value: str, number: int) -> date:
    parsed = _parse_date(value)
    if parsed is None:
        raise _Unreadable(seg_id, f"{seg_id}{number:02d} {value[:20]!r} is not a date (CCYYMMDD).", number)
    return parsed


def _required(seg: list[str], number: int, what: str, component: int | None = None) -> str:
    value = _element(seg, number).strip()
    if not value:
        raise _Unreadable(seg[0], f"{what} ({seg[0]}{number:02d}) is empty.", number, component)
    return value


@dataclass(slots=True)
class _LineDraft:
    position: int
    number: int = 0
    hcpcs: str = ""
    modifiers: list[str] = field(default_factory=list)
    charge: Decimal = Decimal(0)
    unit_code: str = ""
    units: Decimal = Decimal(0)
    place_of_service: str = ""
    pointers: list[int] = field(default_factory=list)
    dates: tuple[date, date] | None = None
    rendering_npi: str = ""
    authorization_number: str = ""
    line_control_number: str = ""
    sv1_position: int = 0  # 0 until its SV1 is read


@dataclass(slots=True)
class _ClaimDraft:
    position: int
    billing: tuple[str, str, str]  # NPI, name, tax ID
    subscriber: tuple[str, str, str, date | None]  # member ID, last name, first name, birth date
    payer: tuple[str, str]  # ID, name
    problem: X12Problem | None
    pcn: str = ""
    total: Decimal = Decimal(0)
    place_of_service: str = ""
    frequency_code: str = ""
    rendering_npi: str = ""
    diagnosis_codes: list[str] = field(default_factory=list)
    authorization_number: str = ""
    original_reference: str = ""
    lines: list[_LineDraft] = field(default_factory=list)


# Where the walker is, as far as NM1, REF and SBR need to know.
_HEADER, _BILLING, _SUBSCRIBER, _PATIENT, _CLAIM, _OTHER_PAYER, _LINE = range(7)
_LOOP_AFTER = {"LIN": "2410", "SVD": "2430", "LQ": "2440"}


class _ClaimWalker:
    """Reads the claims of one transaction set pyx12 accepted. The loops are told apart the way the
    implementation guide does: by HL level code, by the entity code of NM1, and by what came before
    (an SBR after a CLM starts 2320, an NM1*82 after an LX is 2420A). Only what the claims need is
    read; everything else is skipped without a look (pyx12 has checked it)."""

    def __init__(self, reader: _Reader, st: _SetRange) -> None:
        self.segments = reader.segments
        self.component = reader.delimiters.component
        self.st = st
        self.control_number = st.control_number
        self.claims: list[Claim837] = []
        self.problems: list[X12Problem] = []

    def walk(self) -> tuple[list[Claim837], list[X12Problem]]:
        area, loop_id = _HEADER, "HEADER"
        billing: tuple[str, str, str] = ("", "", "")
        member_id = last_name = first_name = ""
        birth_date: date | None = None
        payer: tuple[str, str] = ("", "")
        # unreadable 2000A/2000B content spoils the claims under it; reported with each of them
        context_problem: X12Problem | None = None
        claim: _ClaimDraft | None = None
        line: _LineDraft | None = None
        start = self.st.start
        for position, seg in enumerate(self.segments[start : self.st.end + 1], 1):
            sid = seg[0]
            size = len(seg)
            try:
                if sid == "NM1":
                    entity = seg[1] if size > 1 else ""
                    if area == _LINE:
                        loop_id = "2420A" if entity == "82" else "2420"
                        if entity == "82" and line is not None:
                            line.rendering_npi = (seg[9] if size > 9 else "").strip().upper()
                    elif area == _CLAIM:
                        loop_id = "2310B" if entity == "82" else "2310"
                        if entity == "82" and claim is not None:
                            claim.rendering_npi = (seg[9] if size > 9 else "").strip().upper()
                    elif area == _OTHER_PAYER:
                        loop_id = "2330"
                    elif entity == "IL":
                        loop_id = "2010BA"
                        member_id = (seg[9] if size > 9 else "").strip().upper()
                        last_name = (seg[3] if size > 3 else "").strip()
                        first_name = (seg[4] if size > 4 else "").strip()
                    elif entity == "PR":
                        loop_id = "2010BB"
                        payer = ((seg[9] if size > 9 else "").strip().upper(), _element(seg, 3).strip())
                    elif entity == "85":
                        loop_id = "2010AA"
                        name = " ".join(p for p in (_element(seg, 3).strip(), _element(seg, 4).strip()) if p)
                        billing = ((seg[9] if size > 9 else "").strip().upper(), name, billing[2])
                    else:
                        loop_id = {_BILLING: "2010A", _PATIENT: "2010CA"}.get(area, "1000")
                elif sid == "REF":
                    qualifier, value = _element(seg, 1), _element(seg, 2).strip()
                    if loop_id == "2300" and claim is not None:
                        if qualifier == "G1":
                            claim.authorization_number = value.upper()
                        elif qualifier == "F8":
                            claim.original_reference = value
                    elif loop_id == "2400" and line is not None:
                        if qualifier == "G1" and not line.authorization_number:
                            line.authorization_number = value.upper()
                        elif qualifier == "6R":
                            line.line_control_number = value
                    elif loop_id == "2010AA" and qualifier == "EI":
                        billing = (billing[0], billing[1], value.upper())
                elif sid == "DTP":
                    if loop_id == "2400" and line is not None and _element(seg, 1) == "472":
                        line.dates = self._service_dates(seg)
                elif sid == "SV1":
                    if line is not None:
                        self._service_line(seg, line)
                        line.sv1_position = position
                elif sid == "LX":
                    if claim is None:
                        raise _Unreadable(sid, "A service line (LX) outside a claim.")
                    area, loop_id = _LINE, "2400"
                    line = _LineDraft(position)
                    claim.lines.append(line)
                    number = _element(seg, 1).strip()
                    if not number.isdigit():
                        raise _Unreadable(sid, f"LX01 {number[:9]!r} is not a line number.", 1)
                    line.number = int(number)
                elif sid == "CLM":
                    if claim is not None:
                        self._finish(claim)
                    line = None
                    subscriber = (member_id, last_name, first_name, birth_date)
                    claim = _ClaimDraft(position, billing, subscriber, payer, context_problem)
                    under_patient = area == _PATIENT
                    area, loop_id = _CLAIM, "2300"
                    self._claim(seg, claim)
                    if under_patient and claim.problem is None:
                        message = (
                            "The claim is for a patient other than the subscriber (2000C): Medi-Cal members "
                            "are billed as the subscriber (SBR02 18)."
                        )
                        claim.problem = self._unreadable(claim, _Unreadable(sid, message), position, "2300")
                elif sid == "HI":
                    if loop_id == "2300" and claim is not None:
                        self._diagnoses(seg, claim)
                elif sid == "HL":
                    if claim is not None:
                        self._finish(claim)
                    claim, line = None, None
                    level = _element(seg, 3)
                    if level == "20":
                        area, loop_id = _BILLING, "2000A"
                        billing, context_problem = ("", "", ""), None
                    elif level == "22":
                        area, loop_id = _SUBSCRIBER, "2000B"
                        member_id = last_name = first_name = ""
                        birth_date, payer, context_problem = None, ("", ""), None
                    else:
                        area, loop_id = _PATIENT, "2000C"
                elif sid == "DMG":
                    if loop_id == "2010BA" and _element(seg, 1) == "D8":
                        birth_date = _d8(sid, _element(seg, 2), 2)
                elif sid == "SBR":
                    if area in (_CLAIM, _OTHER_PAYER):
                        area, loop_id = _OTHER_PAYER, "2320"
                elif sid in _LOOP_AFTER:
                    loop_id = _LOOP_AFTER[sid]
            except _Unreadable as exc:
                if claim is not None:
                    if claim.problem is None:
                        claim.problem = self._unreadable(claim, exc, position, loop_id)
                elif context_problem is None:
                    context_problem = self._located(exc, position, loop_id)
        if claim is not None:
            self._finish(claim)
        return self.claims, self.problems

    # -- segment readers ------------------------------------------------------------------------

    def _claim(self, seg: list[str], claim: _ClaimDraft) -> None:
        claim.pcn = _required(seg, 1, "Patient control number")
        claim.total = _amount(seg, 2)
        facility = _element(seg, 5).split(self.component)
        claim.place_of_service = facility[0].strip().upper()
        claim.frequency_code = _element(facility, 2).strip().upper()
        if not claim.place_of_service:
            raise _Unreadable("CLM", "CLM05-1 place of service is empty.", 5, 1)
        if not claim.frequency_code:
            raise _Unreadable("CLM", "CLM05-3 claim frequency code is empty.", 5, 3)

    def _diagnoses(self, seg: list[str], claim: _ClaimDraft) -> None:
        for number in range(1, len(seg)):
            parts = seg[number].split(self.component)
            if parts[0].strip().upper() in ("ABK", "ABF"):
                code = _element(parts, 1).strip().upper().replace(".", "")
                if not code:
                    raise _Unreadable("HI", f"HI{number:02d}-2 diagnosis code is empty.", number, 2)
                claim.diagnosis_codes.append(code)

    def _service_line(self, seg: list[str], line: _LineDraft) -> None:
        procedure = _element(seg, 1).split(self.component)
        qualifier = procedure[0].strip().upper()
        if qualifier != "HC":
            message = f"SV101-1 {qualifier[:3]!r} is not HC: only HCPCS codes are read."
            raise _Unreadable("SV1", message, 1, 1)
        line.hcpcs = _element(procedure, 1).strip().upper()
        if not line.hcpcs:
            raise _Unreadable("SV1", "SV101-2 procedure code is empty.", 1, 2)
        line.modifiers = [m.strip().upper() for m in procedure[2:6] if m.strip()]
        line.charge = _amount(seg, 2)
        line.unit_code = _required(seg, 3, "Unit code").upper()
        line.units = _amount(seg, 4)
        line.place_of_service = _element(seg, 5).strip().upper()
        pointers = []
        if len(seg) > 7 and seg[7]:
            for index, pointer in enumerate(seg[7].split(self.component)[:4], 1):
                pointer = pointer.strip()
                if not pointer:
                    continue
                if not pointer.isdigit():
                    message = f"SV107-{index} {pointer[:5]!r} is not a diagnosis pointer."
                    raise _Unreadable("SV1", message, 7, index)
                pointers.append(int(pointer))
        line.pointers = pointers

    def _service_dates(self, seg: list[str]) -> tuple[date, date]:
        form, value = _element(seg, 2), _element(seg, 3).strip()
        if form == "D8":
            day = _d8("DTP", value, 3)
            return day, day
        if form == "RD8":
            first, _, last = value.partition("-")
            start, end = _d8("DTP", first, 3), _d8("DTP", last, 3)
            if end < start:
                raise _Unreadable("DTP", f"DTP03 {value!r} ends before it starts.", 3)
            return start, end
        raise _Unreadable("DTP", f"DTP02 {form[:3]!r} is not D8 or RD8.", 2)

    # -- finishing a claim ------------------------------------------------------------------------

    def _finish(self, draft: _ClaimDraft) -> None:
        if draft.problem is None:
            try:
                self.claims.append(self._built(draft))
                return
            except _Unreadable as exc:
                loop_id = "2300" if exc.position is None else "2400"
                draft.problem = self._unreadable(draft, exc, exc.position or draft.position, loop_id)
        self.problems.append(draft.problem)

    def _built(self, draft: _ClaimDraft) -> Claim837:
        billing_npi, billing_name, billing_tax_id = draft.billing
        member_id, last_name, first_name, birth_date = draft.subscriber
        payer_id, payer_name = draft.payer
        for value, what in (
            (billing_npi, "the billing provider's NPI (2010AA NM109)"),
            (member_id, "the member ID (2010BA NM109)"),
            (payer_id, "the payer ID (2010BB NM109)"),
        ):
            if not value:
                raise _Unreadable("CLM", f"The claim has no {what}.")
        if not draft.diagnosis_codes:
            raise _Unreadable("HI", "The claim has no ICD-10 diagnosis (HI ABK).")
        if not draft.lines:
            raise _Unreadable("LX", "The claim has no service line.")
        diagnoses = len(draft.diagnosis_codes)
        lines = []
        for line in draft.lines:
            if not line.sv1_position:
                raise _Unreadable("LX", f"Service line {line.number} has no SV1.", position=line.position)
            if line.dates is None:
                message = f"Service line {line.number} has no service date (DTP*472)."
                raise _Unreadable("LX", message, position=line.position)
            for pointer in line.pointers:
                if not 1 <= pointer <= diagnoses:
                    message = f"Service line {line.number} points to diagnosis {pointer} of {diagnoses}."
                    raise _Unreadable("SV1", message, 7, position=line.sv1_position)
            lines.append(
                Line837(
                    number=line.number,
                    hcpcs=line.hcpcs,
                    modifiers=line.modifiers,
                    charge=line.charge,
                    unit_code=line.unit_code,
                    units=line.units,
                    place_of_service=line.place_of_service or draft.place_of_service,
                    diagnosis_pointers=line.pointers,
                    service_from=line.dates[0],
                    service_to=line.dates[1],
                    rendering_npi=line.rendering_npi or draft.rendering_npi,
                    authorization_number=line.authorization_number or draft.authorization_number,
                    line_control_number=line.line_control_number,
                )
            )
        return Claim837(
            st_control_number=self.control_number,
            segment_position=draft.position,
            patient_control_number=draft.pcn,
            total_charge=draft.total,
            place_of_service=draft.place_of_service,
            frequency_code=draft.frequency_code,
            billing_npi=billing_npi,
            billing_name=billing_name,
            billing_tax_id=billing_tax_id,
            rendering_npi=draft.rendering_npi,
            payer_id=payer_id,
            payer_name=payer_name,
            member_id=member_id,
            member_last_name=last_name,
            member_first_name=first_name,
            member_date_of_birth=birth_date,
            diagnosis_codes=draft.diagnosis_codes,
            authorization_number=draft.authorization_number,
            original_reference=draft.original_reference,
            lines=lines,
        )

    def _located(self, exc: _Unreadable, position: int, loop_id: str) -> X12Problem:
        return _problem(
            exc.seg_id,
            "claim_unreadable",
            exc.message,
            line=self.st.start + position,
            position=position,
            element=exc.element,
            component=exc.component,
            loop_id=loop_id,
            st_control_number=self.control_number,
        )

    def _unreadable(self, claim: _ClaimDraft, exc: _Unreadable, position: int, loop_id: str) -> X12Problem:
        pcn = f" {claim.pcn}" if claim.pcn else ""
        message = f"Claim{pcn} (CLM at segment {claim.position}) was not read: {exc.message}"
        return self._located(_Unreadable(exc.seg_id, message, exc.element, exc.component), position, loop_id)
