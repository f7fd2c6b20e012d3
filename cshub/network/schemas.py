"""API shapes of the network path (rules N1-N5)."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Schema


class InterestIn(Schema):
    plan: UUID
    organization_name: str
    npi: str = ""
    tin: str = ""
    address_line: str
    city: str
    zip_code: str
    website: str = ""
    contact_name: str
    contact_title: str = ""
    contact_email: str
    contact_phone: str
    counties: list[str]
    services: list[str]
    message: str = ""


class InterestOut(Schema):
    id: UUID
    number: str
    status: str
    organization_name: str
    npi: str
    contact_name: str
    contact_email: str
    submitted_at: datetime
    counties: list[str]
    services: list[str]
    version: int


class InterestReceiptOut(Schema):
    number: str


class InviteIn(Schema):
    organization: UUID | None = None
    email: str = ""
    full_name: str = ""
    version: int | None = None


class ApplicationOut(Schema):
    id: UUID
    number: str
    kind: str
    program: str
    status: str
    organization: UUID
    organization_name: str
    plan: UUID
    services: list[str]
    counties: list[str]
    submitted_at: datetime | None
    review_round: int
    version: int


class SectionOut(Schema):
    id: str
    title: str
    questions: list[dict[str, Any]]
    answers: dict[str, Any]
    attachments: list[dict[str, Any]]


class ApplicationDetailOut(ApplicationOut):
    request_note: str
    sections: list[SectionOut]
    missing: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    gap_items: list[dict[str, Any]]


class AnswersIn(Schema):
    answers: dict[str, dict[str, Any]]
    version: int | None = None


class VersionIn(Schema):
    version: int | None = None


class ParticipationIn(Schema):
    plan: UUID
    program: str
    services: list[str] = []
    counties: list[str] = []
    note: str


class FindingIn(Schema):
    section: str
    rating: str
    note: str = ""


class GapItemIn(Schema):
    text: str = ""
    owner: str = ""
    due_date: str = ""
    section: str = ""


class DecisionIn(Schema):
    outcome: str
    reasons: str = ""
    items: list[GapItemIn] = []
    version: int | None = None


class DecisionOut(Schema):
    id: UUID
    outcome: str
    reasons: str
    review_round: int
    decided_at: datetime


class GapReviewIn(Schema):
    accept: bool
    note: str = ""
    version: int | None = None


class GapItemOut(Schema):
    id: UUID
    text: str
    owner: str
    due_date: date
    status: str
    response: str
    plan_note: str
    version: int


class EventOut(Schema):
    at: datetime
    kind: str
    summary: str
    actor: str
    from_status: str
    to_status: str
