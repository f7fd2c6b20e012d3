"""Shapes of the referrals API (cshub/referrals/api.py). They only shape data: the rules live in the services
and the selectors, the status words in cshub/data/referral_workflow.toml."""
# No `from __future__ import annotations` here: ninja and pydantic resolve these types at import.

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field

from cshub.referrals.models import OutreachAttempt, ReferralEvent
from cshub.referrals.workflow import workflow


def _person(user: Any) -> str | None:
    return str(user) if user is not None else None


# --- References ------------------------------------------------------------------------------------


class OrganizationRef(Schema):
    id: UUID = Field(validation_alias="uuid")
    name: str


class PlanRef(OrganizationRef):
    plan_code: str


class ServiceRef(Schema):
    key: str
    name: str


# --- Referrals -------------------------------------------------------------------------------------


class ReferralOut(Schema):
    """One referral in a list: its status in our words, findhelp's and HL7 Gravity's (rule D9)."""

    id: UUID = Field(validation_alias="uuid")
    number: str
    kind: str
    status: str
    status_label: str
    findhelp_status: str
    gravity_status: str
    closed: bool
    loop_closure_reason: str
    service: ServiceRef | None
    plan: PlanRef
    receiving_provider: OrganizationRef | None
    referring_organization: OrganizationRef | None
    channel: str
    referrer_kind: str
    received_at: datetime
    status_changed_at: datetime
    member: UUID | None = Field(description="the roster member's id once the referral is matched")
    member_first_name: str
    member_last_name: str
    member_date_of_birth: date
    duplicate_of: str | None = Field(description="number of the earlier open referral this one repeats")
    version: int = Field(description="send it back with a change (optimistic locking)")

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return workflow().status(obj.status).label

    @staticmethod
    def resolve_findhelp_status(obj: Any) -> str:
        return workflow().status(obj.status).findhelp

    @staticmethod
    def resolve_gravity_status(obj: Any) -> str:
        return workflow().status(obj.status).gravity

    @staticmethod
    def resolve_closed(obj: Any) -> bool:
        return workflow().status(obj.status).closed

    @staticmethod
    def resolve_member(obj: Any) -> UUID | None:
        return obj.member.uuid if obj.member_id else None

    @staticmethod
    def resolve_duplicate_of(obj: Any) -> str | None:
        return obj.duplicate_of.number if obj.duplicate_of_id else None


class NextStepOut(Schema):
    status: str
    label: str
    reason_required: bool
    reasons: list[str] = Field(description="reasons offered for this status; free text is allowed too")
    guard: str = Field(description="first_contact_eligible (A1), enrolled (M2), outreach_o3 (O3) or empty")


class EventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    actor: str = Field(validation_alias="actor_label")
    organization: str | None
    from_status: str
    to_status: str
    reason: str
    detail: dict[str, Any]

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return ReferralEvent.Kind(obj.kind).label

    @staticmethod
    def resolve_organization(obj: Any) -> str | None:
        return obj.organization.name if obj.organization_id else None


class OutreachProgressOut(Schema):
    """Rule O3 for one referral."""

    received_on: date
    deadline: date
    days_left: int
    attempts: int
    attempts_in_window: int
    modalities: list[str] = Field(validation_alias="modalities_in_window")
    o3_met: bool
    missing: list[str]
    outcome: str = Field("", description="rule O4: how outreach ended, empty while it goes on")


class ChecklistItemOut(Schema):
    text: str
    kind: str = "all"


class ReferralDetailOut(ReferralOut):
    """One referral with what the caller may see of it: the member details the referrer supplied (rule
    R3), the next steps the caller may take, the history (a referrer sees the status timeline only) and,
    for the provider and the plan, outreach progress (rule O3)."""

    status_reason: str
    closed_at: datetime | None
    referrer_name: str
    referrer_phone: str
    referrer_email: str
    referrer_relationship: str
    member_cin: str
    member_phone: str
    member_email: str
    member_address: str
    member_county: str | None
    member_language: str
    member_contact_preference: str
    eligibility_information: str
    reason: str
    consent_to_contact: bool
    outreach_outcome: str
    outreach_ended_at: datetime | None
    source_referral: str | None
    eligibility_checklist: list[ChecklistItemOut]
    allowed_next_steps: list[NextStepOut] = Field(validation_alias="api_next_steps")
    events: list[EventOut] = Field(validation_alias="api_events")
    outreach: OutreachProgressOut | None = Field(
        validation_alias="api_outreach", description="null when the caller does not work the referral"
    )

    @staticmethod
    def resolve_member_county(obj: Any) -> str | None:
        return obj.member_county.name if obj.member_county_id else None

    @staticmethod
    def resolve_source_referral(obj: Any) -> str | None:
        return obj.source_referral.number if obj.source_referral_id else None

    @staticmethod
    def resolve_eligibility_checklist(obj: Any) -> list[dict]:
        return list(obj.service.eligibility) if obj.service_id else []


class WorklistRowOut(ReferralOut):
    outreach: OutreachProgressOut = Field(validation_alias="api_outreach")


class ReferralIn(Schema):
    """The API door (rules R1, R3): what the referrer portal asks. Field names match the error fields."""

    plan: str = Field(description="the member's plan: its id or its DHCS plan code")
    kind: str = Field("cs", description='"cs" (a Community Support) or "ecm" (a referral to ECM, rule R8)')
    service: str = Field("", description="catalog key of the Community Support (GET /api/v1/catalog)")
    receiving_provider: UUID | None = Field(
        None, description="a provider from GET /api/v1/referrals/destinations; null lets the plan assign"
    )
    referrer_kind: str = Field(description="who refers: ecm_provider, hospital, cs_provider, other_provider…")
    referrer_name: str = ""
    referrer_phone: str = ""
    referrer_email: str = ""
    referrer_relationship: str = ""
    member_first_name: str = ""
    member_last_name: str = ""
    member_date_of_birth: date | None = None
    member_cin: str = ""
    member_phone: str = ""
    member_email: str = ""
    member_address: str = ""
    member_county: str = ""
    member_language: str = "en"
    member_contact_preference: str = "phone"
    eligibility_information: str = Field("", description="rule R3: what bears on eligibility")
    reason: str = ""
    consent_to_contact: bool = False


class TransitionIn(Schema):
    to_status: str
    reason: str = ""
    version: int


class AssignIn(Schema):
    provider: UUID
    version: int


class MatchMemberIn(Schema):
    cin: str
    date_of_birth: date


class OutreachEndIn(Schema):
    outcome: str = Field(description="unreachable (needs rule O3 met), declined, disengaged or exclusion")
    reason: str = ""
    version: int


class OnwardIn(Schema):
    service_key: str = Field(description='catalog key of the Community Support, or "ecm" (rule R8)')
    provider: UUID | None = None
    reason: str


# --- Outreach, first contact, enrollment, documents ------------------------------------------------


class OutreachAttemptIn(Schema):
    attempted_at: datetime = Field(description="with an offset; a time without one is Pacific time")
    modality: str
    outcome: str
    notes: str = ""
    telehealth_consent: bool = False


class OutreachAttemptOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    attempted_at: datetime
    modality: str
    modality_label: str
    outcome: str
    outcome_label: str
    notes: str
    telehealth_consent: bool
    by: str | None

    @staticmethod
    def resolve_modality_label(obj: Any) -> str:
        return OutreachAttempt.Modality(obj.modality).label

    @staticmethod
    def resolve_outcome_label(obj: Any) -> str:
        return OutreachAttempt.Outcome(obj.outcome).label

    @staticmethod
    def resolve_by(obj: Any) -> str | None:
        return _person(obj.by)


class FirstContactCheckIn(Schema):
    contact_on: date
    results: list[str] = Field(description="met, not_met or unknown for each checklist item, in order")
    item_notes: list[str] | None = None
    notes: str = ""


class ChecklistResultOut(Schema):
    text: str
    kind: str
    result: str
    note: str = ""


class DuplicativeOut(Schema):
    kind: str
    description: str


class FirstContactCheckOut(Schema):
    """Rule A1: plan eligibility that day, each checklist item with its result, duplicative programs."""

    id: UUID = Field(validation_alias="uuid")
    contact_on: date
    plan_eligible: bool
    plan_eligibility_detail: str
    checklist: list[ChecklistResultOut]
    checklist_met: bool
    duplicative: list[DuplicativeOut]
    passed: bool
    notes: str
    by: str | None
    created_at: datetime

    @staticmethod
    def resolve_by(obj: Any) -> str | None:
        return _person(obj.by)


class EnrollmentIn(Schema):
    enrolled_on: date
    version: int


class EnrollmentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    service: ServiceRef
    enrolled_on: date
    ended_on: date | None
    end_reason: str


class DocumentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    description: str
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/referrals/{obj.referral.uuid}/documents/{obj.uuid}/download"


# --- Directory and workflow ------------------------------------------------------------------------


class DestinationOut(Schema):
    """A provider a referrer may choose (directory data, rule N8)."""

    id: UUID = Field(validation_alias="uuid")
    name: str
    npi: str
    city: str
    phone: str
    accepting: bool
    intake_phone: str
    intake_fax: str
    intake_email: str

    @staticmethod
    def resolve_accepting(obj: Any) -> bool:
        return obj.referral_intake.accepting

    @staticmethod
    def resolve_intake_phone(obj: Any) -> str:
        return obj.referral_intake.intake_phone

    @staticmethod
    def resolve_intake_fax(obj: Any) -> str:
        return obj.referral_intake.intake_fax

    @staticmethod
    def resolve_intake_email(obj: Any) -> str:
        return obj.referral_intake.intake_email


class WorkflowStatusOut(Schema):
    key: str
    label: str
    findhelp: str
    gravity: str
    closed: bool
    loop_closure: str
    help: str
    reasons: list[str]


class WorkflowTransitionOut(Schema):
    from_status: str
    to_status: str
    by: list[str] = Field(description="parties: provider (receiving), plan, referrer")
    reason_required: bool
    guard: str


class OutreachRuleOut(Schema):
    """Rule O3."""

    window_days: int
    min_attempts: int
    min_modalities: int


class WorkflowOut(Schema):
    version: str
    statuses: list[WorkflowStatusOut]
    transitions: list[WorkflowTransitionOut]
    outreach: OutreachRuleOut


# --- Errors (for the OpenAPI document; the API root renders them) ----------------------------------


class FieldErrorOut(Schema):
    field: str
    message: str
    code: str


class StepOut(Schema):
    status: str
    label: str


class ProblemOut(Schema):
    """RFC 9457 problem body. A refused change (403, 409) also carries the referral's current `version`,
    its `current_status` and the caller's `allowed_next_steps`."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] = []
    version: int | None = None
    current_status: str | None = None
    allowed_next_steps: list[StepOut] | None = None
