"""API shapes of contracts and training (rules N6, N7). Shapes only: no rules here."""
# No `from __future__ import annotations`: ninja resolves these annotations at import.

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema

from cshub.contracts.trainings import training_catalog


class OrgRefOut(Schema):
    uuid: UUID
    name: str


class ContractRowOut(Schema):
    service: str = Field(..., description="catalog key")
    service_name: str
    county: str

    @staticmethod
    def resolve_service(obj) -> str:
        return obj.service.key

    @staticmethod
    def resolve_service_name(obj) -> str:
        return obj.service.name

    @staticmethod
    def resolve_county(obj) -> str:
        return obj.county.name


class FeeOut(Schema):
    uuid: UUID
    code: str = Field(..., description="HCPCS-modifier, e.g. H0043-U6")
    hcpcs: str
    modifier: str
    service: str
    unit: str
    rate: str = Field(..., description="dollars, two decimals")
    effective_from: date
    effective_to: date | None

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.code.code

    @staticmethod
    def resolve_hcpcs(obj) -> str:
        return obj.code.hcpcs

    @staticmethod
    def resolve_modifier(obj) -> str:
        return obj.code.modifier

    @staticmethod
    def resolve_service(obj) -> str:
        return obj.code.service.key

    @staticmethod
    def resolve_rate(obj) -> str:
        return f"{obj.rate:.2f}"


class ContractOut(Schema):
    uuid: UUID
    number: str
    status: str
    plan: OrgRefOut
    provider: OrgRefOut
    start_date: date
    end_date: date | None
    terminated_on: date | None
    termination_reason: str
    executed_at: datetime | None
    supersedes: str | None = Field(None, description="number of the contract this amends")
    version: int
    rows: list[ContractRowOut]

    @staticmethod
    def resolve_provider(obj) -> OrgRefOut:
        return obj.organization

    @staticmethod
    def resolve_supersedes(obj) -> str | None:
        return obj.supersedes.number if obj.supersedes_id else None

    @staticmethod
    def resolve_rows(obj) -> list:
        # The detail view loads the rows ordered; lists use the prefetched rows.
        rows = getattr(obj, "rows_list", None)
        return rows if rows is not None else list(obj.rows.all())


class EventOut(Schema):
    at: datetime
    kind: str
    actor_name: str
    from_status: str
    to_status: str
    text: str


class ProblemItemOut(Schema):
    field: str
    message: str
    code: str


class ContractDetailOut(ContractOut):
    notes: str
    fees: list[FeeOut]
    history: list[EventOut]
    execute_problems: list[ProblemItemOut] = Field(
        default_factory=list, description="drafts: what still stands between the draft and execution (N6, N7)"
    )

    @staticmethod
    def resolve_fees(obj) -> list:
        return obj.fees_list

    @staticmethod
    def resolve_history(obj) -> list:
        return obj.history_list

    @staticmethod
    def resolve_execute_problems(obj) -> list:
        return obj.problems_list


class ContractIn(Schema):
    provider: UUID
    start_date: date
    end_date: date | None = None
    notes: str = ""


class VersionIn(Schema):
    version: int = Field(..., description="the version you read (optimistic locking)")


class ContractUpdateIn(VersionIn):
    start_date: date
    end_date: date | None = None
    notes: str = ""


class RowIn(Schema):
    service: str = Field(..., description="catalog key")
    county: str = Field(..., description="county name")


class RowsIn(VersionIn):
    rows: list[RowIn]


class FeeIn(VersionIn):
    code: str = Field(..., description="HCPCS-modifier, e.g. H0043-U6")
    rate: str = Field(..., description="dollars, e.g. 125.00")
    effective_from: date
    effective_to: date | None = None
    unit: str = Field("", description="empty: the catalog's billing unit")


class TerminateIn(VersionIn):
    terminated_on: date = Field(..., description="the contract's last day in force")
    reason: str


class AmendIn(VersionIn):
    start_date: date | None = None


class RateOut(Schema):
    contract: str
    fee: FeeOut


class CourseOut(Schema):
    key: str
    title: str
    description: str
    kind: str
    formats: list[str]
    required_for_contracting: bool
    every_months: int | None
    first_due_days: int | None
    source: str
    confidence: str


class CompletionOut(Schema):
    uuid: UUID
    organization: OrgRefOut
    person: str
    person_email: str
    course: str
    course_title: str
    completed_on: date
    evidence_name: str
    note: str

    @staticmethod
    def resolve_person(obj) -> str:
        return str(obj.person)

    @staticmethod
    def resolve_person_email(obj) -> str:
        return obj.person.email

    @staticmethod
    def resolve_course(obj) -> str:
        return obj.course_key

    @staticmethod
    def resolve_course_title(obj) -> str:
        return training_catalog().title(obj.course_key)


class CompletionIn(Schema):
    course: str
    completed_on: date
    person: UUID | None = Field(None, description="empty: yourself")
    note: str = ""


class AttestationOut(Schema):
    uuid: UUID
    organization: OrgRefOut
    plan: OrgRefOut
    attested_by: str
    attested_at: datetime
    courses: list[str]
    statement: str

    @staticmethod
    def resolve_attested_by(obj) -> str:
        return str(obj.attested_by)

    @staticmethod
    def resolve_courses(obj) -> list[str]:
        return list(obj.course_keys)


class AttestationIn(Schema):
    plan: UUID
    courses: list[str]
    statement: str = ""


class DueOut(Schema):
    organization: OrgRefOut
    course: str
    course_title: str
    every_months: int | None
    last_completed_on: date | None
    due_on: date
    overdue: bool
    days_overdue: int
