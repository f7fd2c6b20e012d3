"""The X12 interchange header and a fast segment splitter, shared by the 837P reader.

An X12 file announces its own delimiters in the ISA segment, which is fixed width (106 characters with
its terminator): the element separator is the character after "ISA", the repetition separator is ISA11,
the component separator is ISA16 and the segment terminator is the character right after ISA16.
Segments are returned as lists of element strings (``["CLM", "PCN1", "100", ...]``), split once with
``str.split``: no objects per segment, so a 10,000-claim file splits in a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ISA_LENGTH", "ISA_WIDTHS", "Delimiters", "Isa", "read_isa", "split_segments"]

ISA_LENGTH = 106  # with the segment terminator
# Widths of ISA01..ISA16: the ISA is fixed width, which is what makes the delimiters findable.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_LINE_BREAKS = "\r\n"


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str
    segment: str


@dataclass(frozen=True, slots=True)
class Isa:
    """The ISA segment as sent, its elements unstripped (ISA06 is space-padded to 15)."""

    elements: tuple[str, ...]  # ISA01..ISA16, elements[0] is ISA01
    delimiters: Delimiters
    text: str  # the 105 characters without the terminator

    def get(self, number: int) -> str:
        """ISA element by its number (1..16)."""
        return self.elements[number - 1]


def read_isa(text: str) -> Isa | str:
    """The ISA at the start of ``text``, or why it cannot be read (a message for the file's problems)."""
    if not text.startswith("ISA"):
        return "The file does not start with an ISA segment; it is not an X12 interchange."
    if len(text) < ISA_LENGTH:
        return f"The ISA segment is {len(text)} characters long; an ISA is always {ISA_LENGTH}."
    element = text[3]
    parts = text[4 : ISA_LENGTH - 1].split(element)
    if len(parts) != len(ISA_WIDTHS) or any(
        len(part) != width for part, width in zip(parts, ISA_WIDTHS, strict=True)
    ):
        return (
            f"The ISA segment is not in its fixed-width layout (16 elements, {ISA_LENGTH} characters "
            f"with element separator {element!r}); the delimiters cannot be read."
        )
    component, segment, repetition = parts[15], text[ISA_LENGTH - 1], parts[10]
    delimiter_chars = (element, component, segment)
    if (
        len(set(delimiter_chars)) != 3
        or any(c.isalnum() or c == " " for c in delimiter_chars)
        or element in _LINE_BREAKS
        or component in _LINE_BREAKS
    ):
        return (
            f"The ISA delimiters are not usable: element {element!r}, component {component!r}, "
            f"segment terminator {segment!r} must be three different non-alphanumeric characters "
            "(only the terminator may be a line break)."
        )
    if repetition in delimiter_chars or repetition.isalnum():
        repetition = ""  # 004010 files put "U" here; a 005010 file is checked for its version later
    return Isa(
        elements=tuple(parts),
        delimiters=Delimiters(element=element, component=component, repetition=repetition, segment=segment),
        text=text[: ISA_LENGTH - 1],
    )


def split_segments(text: str, delimiters: Delimiters) -> tuple[list[list[str]], str]:
    """The segments of ``text`` split into elements, and whatever follows the last terminator (stripped).

    Line breaks around segment terminators are dropped. An empty segment (two terminators in a row) is
    kept as ``[""]`` so that segment numbers stay those of the file.
    """
    pieces = text.split(delimiters.segment)
    rest = pieces.pop().strip()
    element = delimiters.element
    return [piece.strip(_LINE_BREAKS).split(element) for piece in pieces], rest
