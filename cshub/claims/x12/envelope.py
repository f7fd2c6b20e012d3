"""X12 5010 envelope: delimiters, value cleaning, ISA/GS/ST … SE/GE/IEA.

The writers (write837, remit835) render each transaction set's body as a list of segment strings and hand
it to `write_interchange`, which wraps the bodies in ST/SE (counting segments), one GS/GE and one ISA/IEA.

X12 has no escape character: a delimiter inside a value would split the element (or end the segment). So
every free-text value goes through `Delimiters.clean`, which REPLACES each delimiter character, line break
or other ASCII character outside the 5010 extended character set with a space, then collapses runs of
spaces and trims the ends. Non-ASCII text is first brought down to ASCII: typographic quotes and dashes
become ' " -, a few letters are spelled out (ø -> o, ß -> ss), accents are dropped ("Núñez" -> "Nunez"),
and anything still not ASCII (emoji, other scripts) is removed. Nothing is escaped or encoded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

# The 5010 extended character set (X12.6 basic + extended, as pyx12 checks it), less the space.
_EXTENDED_CHARACTERS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"&'()*+,-./:;?=%~@[]_{}\\|<>^`#$"
)
_SPACES = re.compile(r" {2,}")
# What NFKD decomposition leaves alone but a reader would still recognise in ASCII.
_ASCII_LOOKALIKES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
    }
)
_CENT = Decimal("0.01")

MAX_CONTROL_NUMBER = 999_999_999
USAGE_INDICATORS = ("T", "P")


@dataclass(frozen=True)
class Delimiters:
    """The four X12 separators, plus what follows each segment terminator (a newline, for people)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    line_break: str = "\n"
    # Characters a value may not carry: everything outside the character set, and the delimiters.
    _unsafe: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _end: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        separators = (self.element, self.component, self.repetition, self.segment)
        for separator in separators:
            if len(separator) != 1 or separator not in _EXTENDED_CHARACTERS or separator.isalnum():
                raise ValueError(f"an X12 delimiter must be one punctuation character, not {separator!r}")
        if len(set(separators)) != len(separators):
            raise ValueError("the element, component, repetition and segment delimiters must differ")
        if self.line_break not in ("", "\n", "\r\n"):
            raise ValueError("line_break must be '', '\\n' or '\\r\\n'")
        allowed = "".join(ch for ch in _EXTENDED_CHARACTERS if ch not in separators) + " "
        object.__setattr__(self, "_unsafe", re.compile(f"[^{re.escape(allowed)}]"))
        object.__setattr__(self, "_end", self.segment + self.line_break)

    def clean(self, value: str) -> str:
        """`value` made safe for one element: unsafe characters become spaces (see the module docstring)."""
        if not value.isascii():
            # Drop accents rather than whole letters, so names stay recognisable to the other side.
            value = unicodedata.normalize("NFKD", value.translate(_ASCII_LOOKALIKES))
            value = value.encode("ascii", "ignore").decode("ascii")
        if self._unsafe.search(value) is not None:
            value = self._unsafe.sub(" ", value)
        if "  " in value:
            value = _SPACES.sub(" ", value)
        return value.strip()

    def segment_text(self, elements: Sequence[str]) -> str:
        """One segment: elements joined, trailing empty elements dropped (X12 forbids them), terminated."""
        if elements[-1]:
            return self.element.join(elements) + self._end
        end = len(elements) - 1
        while end > 1 and not elements[end - 1]:
            end -= 1
        return self.element.join(elements[:end]) + self._end

    def composite(self, parts: Sequence[str]) -> str:
        """One composite element (SV1-01, HI-01 …), trailing empty components dropped."""
        end = len(parts)
        while end > 1 and not parts[end - 1]:
            end -= 1
        return self.component.join(parts[:end])


DEFAULT_DELIMITERS = Delimiters()


def required(delimiters: Delimiters, value: str, name: str) -> str:
    """A cleaned value that must not be empty; the error names the field so the caller can fix its data."""
    cleaned = delimiters.clean(value)
    if not cleaned:
        raise ValueError(f"{name} is required (got {value!r})")
    return cleaned


def x12_date(day: date) -> str:
    """CCYYMMDD (D8)."""
    return day.isoformat().replace("-", "")


def x12_amount(amount: Decimal, name: str = "amount") -> str:
    """A monetary amount (R type): cents at most, no exponent, trailing fractional zeros suppressed."""
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or (exponent < -2 and amount != amount.quantize(_CENT)):
        raise ValueError(f"{name} {amount} has more than two decimal places")
    return x12_number(amount)


def x12_number(number: Decimal) -> str:
    """A decimal (R type) as X12 wants it: "100", "100.5", "-12.25" (never "1E+2", never "-0")."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def x12_npi(value: str, name: str) -> str:
    """A 10-digit NPI, checked for shape (not for its check digit)."""
    if len(value) != 10 or not value.isdigit():
        raise ValueError(f"{name} must be a 10-digit NPI, not {value!r}")
    return value


def x12_state(value: str, name: str) -> str:
    if len(value) != 2 or not value.isalpha():
        raise ValueError(f"{name} must be a two-letter state code, not {value!r}")
    return value.upper()


def x12_zip(value: str, name: str) -> str:
    """ZIP or ZIP+4 as digits only ("94601-1234" -> "946011234")."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) not in (5, 9):
        raise ValueError(f"{name} must be a 5- or 9-digit ZIP code, not {value!r}")
    return digits


@dataclass(frozen=True)
class Envelope:
    """What the ISA and GS say: who sends to whom, the control numbers, when, and test or production.

    `created_at` is written as its own wall-clock fields (no time-zone conversion): pass the time in the
    zone the trading partner expects. Control numbers come from the caller, which owns their sequence.
    """

    sender_id: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    created_at: datetime
    usage: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    delimiters: Delimiters = DEFAULT_DELIMITERS


def _check_control_number(value: int, name: str) -> None:
    if not 1 <= value <= MAX_CONTROL_NUMBER:
        raise ValueError(f"{name} must be between 1 and {MAX_CONTROL_NUMBER}, not {value}")


def isa_segment(envelope: Envelope) -> str:
    """The fixed-width ISA (106 characters before the line break): IDs padded to 15, ISA13 to 9 digits."""
    d = envelope.delimiters
    _check_control_number(envelope.interchange_control_number, "interchange_control_number")
    if envelope.usage not in USAGE_INDICATORS:
        raise ValueError(f"usage must be 'T' or 'P', not {envelope.usage!r}")
    sender = required(d, envelope.sender_id, "sender_id")
    receiver = required(d, envelope.receiver_id, "receiver_id")
    for name, value in (("sender_id", sender), ("receiver_id", receiver)):
        if len(value) > 15:
            raise ValueError(f"{name} {value!r} is longer than the 15 characters ISA allows")
    for name, value in (
        ("sender_qualifier", envelope.sender_qualifier),
        ("receiver_qualifier", envelope.receiver_qualifier),
    ):
        if len(value) != 2 or not value.isalnum():
            raise ValueError(f"{name} must be a two-character ID qualifier, not {value!r}")
    at = envelope.created_at
    return d.segment_text(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            envelope.sender_qualifier,
            sender.ljust(15),
            envelope.receiver_qualifier,
            receiver.ljust(15),
            f"{at.year % 100:02d}{at.month:02d}{at.day:02d}",
            f"{at.hour:02d}{at.minute:02d}",
            d.repetition,
            "00501",
            f"{envelope.interchange_control_number:09d}",
            "0",  # no TA1 requested: the 999 is the acknowledgement that matters
            envelope.usage,
            d.component,
        ]
    )


def write_interchange(
    envelope: Envelope,
    *,
    functional_id_code: str,
    version: str,
    transaction_set_id: str,
    bodies: Iterable[list[str]],
    version_in_st03: bool = True,
) -> str:
    """A whole interchange: ISA, one GS, one ST…SE per body (control numbers 0001, 0002 …), GE, IEA.

    Each body is the transaction set's rendered segments between ST and SE; SE01 counts them plus ST and SE.
    `version_in_st03=False` leaves ST03 out, as the 835 (X221A1) wants: it marks ST03 Not Used.
    """
    d = envelope.delimiters
    _check_control_number(envelope.group_control_number, "group_control_number")
    at = envelope.created_at
    sender = required(d, envelope.sender_id, "sender_id")
    receiver = required(d, envelope.receiver_id, "receiver_id")
    for name, value in (("sender_id", sender), ("receiver_id", receiver)):
        if len(value) < 2:
            raise ValueError(f"{name} {value!r} is shorter than the 2 characters GS allows")
    group = str(envelope.group_control_number)
    out = [
        isa_segment(envelope),
        d.segment_text(
            [
                "GS",
                functional_id_code,
                sender,
                receiver,
                x12_date(at.date()),
                f"{at.hour:02d}{at.minute:02d}",
                group,
                "X",
                version,
            ]
        ),
    ]
    count = 0
    for count, body in enumerate(bodies, start=1):
        control = f"{count:04d}"
        out.append(d.segment_text(["ST", transaction_set_id, control, version if version_in_st03 else ""]))
        out.extend(body)
        out.append(d.segment_text(["SE", str(len(body) + 2), control]))
    if count == 0:
        raise ValueError("an interchange needs at least one transaction set")
    out.append(d.segment_text(["GE", str(count), group]))
    out.append(d.segment_text(["IEA", "1", f"{envelope.interchange_control_number:09d}"]))
    return "".join(out)
