"""Shapes of the authorizations API (cshub/authorizations/api.py). They only shape data: the rules live in the
services and the selectors. Input field names are the `field` of the errors the services raise."""
# No `from __future__ import annotations` here: ninja and pydantic resolve these types at import.

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field

from cshub.authorizations.models import (
    DenialReason,
    Determination,
    Letter,
    RequestDocument,
    RequestKind,
    RequestStatus,
    Urgency,
)
from cshub.referrals.schemas import FieldErrorOut, OrganizationRef, ServiceRef


def _person(user: Any) -> str | None:
    return str(user) if user is not None else None


# --- Requests: what comes in (rules A3-A6) -----------------------------------------------------------


class Base64FileIn(Schema):
    file_name: str = Field(description="with its extension (.pdf, .tif, .png, .jpg); the content decides")
    content_base64: str = Field(description="the file's bytes, base64-encoded (RFC 4648)")


class RequestDocumentIn(Base64FileIn):
    checklist_item: str = Field(
        "", description="the required-documents item this file answers (GET /required-documents); '' = other"
    )


class AuthorizationRequestIn(Schema):
    """The API door (rule A4). Organizations default to the caller's own; a hospital names the recuperative
    care provider (rule A5)."""

    member: UUID = Field(description="the member's id (GET /api/v1/members)")
    service: str = Field(description="catalog key of the Community Support (GET /api/v1/catalog)")
    hcpcs: str = Field(description="a HCPCS code of the service")
    modifier: str = Field("", description="the code's own modifier (e.g. U6)")
    extra_modifiers: list[str] = Field(default_factory=list, description="up to three further modifiers")
    kind: str = Field(RequestKind.INITIAL.value, description="initial, reauthorization or extension")
    previous_authorization: UUID | None = Field(
        None, description="the authorization a reauthorization or extension continues"
    )
    servicing_organization: UUID | None = Field(
        None, description="the CS provider that serves (hospitals: the recuperative care provider)"
    )
    requesting_npi: str
    servicing_npi: str
    diagnosis_codes: list[str] = Field(description="ICD-10-CM codes, primary first")
    units: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    urgency: str = Field("", description="routine or expedited; '' = the catalog's default (rule A8)")
    urgency_reason: str = Field("", description="required when the urgency differs from the default")
    notes: str = ""
    member_agreement_attested: bool = Field(
        False, description="rule A5: a hospital's discharge planner attests the member agreed"
    )
    checklist_confirmed: list[str] = Field(
        default_factory=list, description="checklist items the request includes without a file of its own"
    )
    documents: list[RequestDocumentIn] = Field(default_factory=list)


# --- Requests: what goes out ------------------------------------------------------------------------


class TimeLeftOut(Schema):
    state: str = Field(description="overdue, due_soon, on_track or decided")
    label: str


class AuthorizationRequestOut(Schema):
    """One request in a list (the review queue, rule A10)."""

    id: UUID = Field(validation_alias="uuid")
    number: str
    status: str
    status_label: str
    kind: str
    channel: str
    urgency: str
    urgency_label: str
    service: ServiceRef
    hcpcs: str
    modifier: str
    member: UUID
    member_first_name: str
    member_last_name: str
    member_cin: str
    member_county: str | None
    plan: OrganizationRef
    requesting_organization: OrganizationRef
    servicing_organization: OrganizationRef
    units: int
    start_date: date
    end_date: date
    received_at: datetime
    due_at: datetime
    time_left: TimeLeftOut
    reviewer: str | None
    decided_at: datetime | None
    decided_on_time: bool | None
    presumptive: bool
    version: int = Field(description="send it back with a change (optimistic locking)")

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return RequestStatus(obj.status).label

    @staticmethod
    def resolve_urgency_label(obj: Any) -> str:
        return Urgency(obj.urgency).label

    @staticmethod
    def resolve_hcpcs(obj: Any) -> str:
        return obj.code.hcpcs

    @staticmethod
    def resolve_modifier(obj: Any) -> str:
        return obj.code.modifier

    @staticmethod
    def resolve_member(obj: Any) -> UUID:
        return obj.member.uuid

    @staticmethod
    def resolve_member_first_name(obj: Any) -> str:
        return obj.member.first_name

    @staticmethod
    def resolve_member_last_name(obj: Any) -> str:
        return obj.member.last_name

    @staticmethod
    def resolve_member_cin(obj: Any) -> str:
        return obj.member.cin

    @staticmethod
    def resolve_member_county(obj: Any) -> str | None:
        return obj.member.county.name if obj.member.county_id else None

    @staticmethod
    def resolve_time_left(obj: Any) -> dict[str, str]:
        return {"state": obj.api_time_left.state, "label": obj.api_time_left.label}

    @staticmethod
    def resolve_reviewer(obj: Any) -> str | None:
        return _person(obj.reviewer) if obj.reviewer_id else None


class DeterminationOut(Schema):
    """Rule A9: the decision, with its reasons and the criteria cited."""

    outcome: str
    outcome_label: str
    authorized_units: int | None
    start_date: date | None
    end_date: date | None
    reason_code: str
    reason_code_label: str
    reason: str
    criteria: str
    decided_at: datetime
    decided_by: str | None
    on_time: bool

    @staticmethod
    def resolve_outcome_label(obj: Any) -> str:
        return Determination.Outcome(obj.outcome).label

    @staticmethod
    def resolve_reason_code_label(obj: Any) -> str:
        return DenialReason(obj.reason_code).label if obj.reason_code else ""

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return _person(obj.decided_by) if obj.decided_by_id else None


class AuthorizationOut(Schema):
    """What the plan authorized: the units, dates and code a claim is checked against."""

    id: UUID = Field(validation_alias="uuid")
    number: str
    service: ServiceRef
    hcpcs: str
    modifier: str
    servicing_organization: OrganizationRef
    units: int
    start_date: date
    end_date: date
    presumptive: bool
    retrospective_review_due: bool = Field(description="rule G2: waiting for the plan's review afterwards")
    voided_at: datetime | None
    void_reason: str

    @staticmethod
    def resolve_hcpcs(obj: Any) -> str:
        return obj.code.hcpcs

    @staticmethod
    def resolve_modifier(obj: Any) -> str:
        return obj.code.modifier


class RequestEventOut(Schema):
    at: datetime
    kind: str
    actor: str = Field(validation_alias="actor_name")
    organization: str | None
    from_status: str
    to_status: str
    text: str

    @staticmethod
    def resolve_organization(obj: Any) -> str | None:
        return obj.organization.name if obj.organization_id else None


class RequestDocumentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str
    kind_label: str
    checklist_item: str
    file_name: str
    content_type: str
    size: int
    information_request: UUID | None = Field(description="the request for information this file answers")
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return RequestDocument.Kind(obj.kind).label

    @staticmethod
    def resolve_information_request(obj: Any) -> UUID | None:
        return obj.api_information_request_uuid

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/authorizations/requests/{obj.api_request_uuid}/documents/{obj.uuid}"


class LetterOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str
    kind_label: str
    recipient: str
    recipient_label: str
    recipient_organization: str | None
    language: str
    size: int
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return Letter.Kind(obj.kind).label

    @staticmethod
    def resolve_recipient_label(obj: Any) -> str:
        return Letter.Recipient(obj.recipient).label

    @staticmethod
    def resolve_recipient_organization(obj: Any) -> str | None:
        return obj.recipient_organization.name if obj.recipient_organization_id else None

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/authorizations/requests/{obj.api_request_uuid}/letters/{obj.uuid}"


class InformationRequestOut(Schema):
    """Rule A7: what the reviewer asked, by when, and the provider's answer."""

    id: UUID = Field(validation_alias="uuid")
    question: str
    due_on: date
    asked_at: datetime
    asked_by: str | None
    answered_at: datetime | None
    answered_by: str | None
    answer: str

    @staticmethod
    def resolve_asked_by(obj: Any) -> str | None:
        return _person(obj.asked_by) if obj.asked_by_id else None

    @staticmethod
    def resolve_answered_by(obj: Any) -> str | None:
        return _person(obj.answered_by) if obj.answered_by_id else None


class AuthorizationRequestDetailOut(AuthorizationRequestOut):
    """One request with everything the caller may see of it and the steps the caller may take now."""

    modifiers: list[str] = Field(description="further modifiers after the code's own")
    previous_authorization: str | None = Field(description="number of the authorization this one continues")
    requesting_npi: str
    servicing_npi: str
    diagnosis_codes: list[str]
    notes: str
    checklist_confirmed: list[str]
    urgency_reason: str
    concurrent: bool
    member_agreement_attested: bool
    information_complete_at: datetime | None
    extension_days: int
    extension_reason: str
    taken_at: datetime | None
    retrospective_review_done_at: datetime | None
    determination: DeterminationOut | None = Field(validation_alias="api_determination")
    authorization: AuthorizationOut | None = Field(validation_alias="api_authorization")
    events: list[RequestEventOut] = Field(validation_alias="api_events")
    documents: list[RequestDocumentOut] = Field(validation_alias="api_documents")
    letters: list[LetterOut] = Field(validation_alias="api_letters")
    information_requests: list[InformationRequestOut] = Field(validation_alias="api_information_requests")
    allowed_actions: list[str] = Field(
        validation_alias="api_allowed_actions",
        description="take, release, urgency, pend, extend, decide, retrospective-review, answer, withdraw",
    )

    @staticmethod
    def resolve_previous_authorization(obj: Any) -> str | None:
        return obj.previous_authorization.number if obj.previous_authorization_id else None


# --- Steps (each carries the version the caller read: optimistic locking) ---------------------------


class VersionIn(Schema):
    version: int


class UrgencyIn(VersionIn):
    urgency: str = Field(description="routine or expedited")
    reason: str = ""


class PendIn(VersionIn):
    question: str = ""
    due_on: date | None = None


class ExtendIn(VersionIn):
    days: int | None = Field(None, description="calendar days, 1 to the setting (14)")
    reason: str = ""


class DecideIn(VersionIn):
    outcome: str = Field(description="approved, partially_approved, denied or withdrawn")
    units: int | None = Field(None, description="default: the units requested")
    start_date: date | None = None
    end_date: date | None = None
    reason_code: str = Field("", description=f"one of: {', '.join(DenialReason.values)}")
    reason: str = Field("", description="plain-language reason the member can read")
    criteria: str = Field("", description="the criteria cited")


class RetrospectiveReviewIn(VersionIn):
    upheld: bool
    note: str = ""


class AnswerIn(VersionIn):
    answer: str = ""
    files: list[Base64FileIn] = Field(default_factory=list)


class WithdrawIn(VersionIn):
    reason: str = ""


# --- Reference and reports ----------------------------------------------------------------------------


class RequiredDocumentsOut(Schema):
    """Rule A6: the service's required-documents checklist for this kind of request."""

    service: ServiceRef
    kind: str
    items: list[str]
    attached: list[str] | None = Field(None, description="for a request: the items a file answers")
    confirmed: list[str] | None = Field(None, description="for a request: the items confirmed without a file")


class TimelinessRowOut(Schema):
    month: date
    urgency: str
    service: str
    decided: int
    on_time: int
    share: float = Field(description="on_time / decided")


class TimelinessOut(Schema):
    """Rule A8: the share of requests decided on time, by month, urgency and service."""

    start: date
    end: date
    decided: int
    on_time: int
    share: float
    rows: list[TimelinessRowOut]


class ReviewerCountsOut(Schema):
    open: int
    overdue: int
    due_today: int
    retrospective: int = Field(description="presumptive authorizations waiting for review (rule G2)")


# --- Services without authorization (rule G2) ----------------------------------------------------------


class ServiceRecordIn(Schema):
    member: UUID
    service: str = Field(description="catalog key of a service that needs no authorization")
    hcpcs: str
    modifier: str = ""
    service_date: date | None = None
    end_date: date | None = None
    units: int | None = 1
    diagnosis_codes: list[str] = Field(default_factory=list)
    notes: str = ""


class ServiceRecordOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    member: UUID
    service: ServiceRef
    hcpcs: str
    modifier: str
    organization: OrganizationRef
    plan: OrganizationRef
    service_date: date
    end_date: date | None
    units: int
    diagnosis_codes: list[str]
    notes: str
    recorded_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_member(obj: Any) -> UUID:
        return obj.member.uuid

    @staticmethod
    def resolve_hcpcs(obj: Any) -> str:
        return obj.code.hcpcs

    @staticmethod
    def resolve_modifier(obj: Any) -> str:
        return obj.code.modifier

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str | None:
        return _person(obj.recorded_by) if obj.recorded_by_id else None


# --- Errors (for the OpenAPI document; the API root renders them) ----------------------------------


class AuthorizationProblemOut(Schema):
    """RFC 9457 problem body. A refused step (403, 409) also carries the request's current `version`, its
    `current_status` and the caller's `allowed_actions`."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] = []
    version: int | None = None
    current_status: str | None = None
    allowed_actions: list[str] | None = None
