"""Members and roster imports over REST. Parse, call a selector or service, shape the response.

Every member read is scoped by `selectors.member_queryset_for` and audited (DESIGN principle 4); errors are
problem bodies rendered by the API root (422 with `errors: [{row, field, message, code}]` for rosters).
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import File, Router, Schema, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cshub.core import clock
from cshub.core.errors import DomainError, FieldError
from cshub.members import permissions, selectors, services
from cshub.members.errors import RosterRejected
from cshub.members.models import RosterImport
from cshub.members.roster import program_names

router = Router(tags=["members"])

SEARCH_PARAMS = ("member_id", "last_name", "first_name", "date_of_birth", "county", "eligible_on")


class MemberOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    cin: str
    last_name: str
    first_name: str
    date_of_birth: date
    sex: str
    preferred_language: str
    city: str
    zip_code: str
    county: str | None
    eligible_today: bool = Field(validation_alias="eligible_on_day")

    @staticmethod
    def resolve_county(obj: Any) -> str | None:
        return obj.county.name if obj.county else None


class OrganizationRef(Schema):
    id: UUID = Field(validation_alias="uuid")
    name: str
    npi: str


class EligibilitySpanOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    plan: OrganizationRef
    plan_member_id: str
    line_of_business: str
    start_date: date
    end_date: date | None
    eligible_today: bool

    @staticmethod
    def resolve_eligible_today(obj: Any) -> bool:
        return obj.covers(clock.today())


class EcmAssignmentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    ecm_provider: OrganizationRef
    plan: OrganizationRef
    start_date: date
    end_date: date | None


class ProgramEnrollmentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    program: str
    program_name: str
    start_date: date
    end_date: date | None
    source: str

    @staticmethod
    def resolve_program_name(obj: Any) -> str:
        return program_names().get(obj.program, obj.program)


class MemberDetailOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    cin: str
    last_name: str
    first_name: str
    date_of_birth: date
    sex: str
    preferred_language: str
    address_line: str
    city: str
    zip_code: str
    county: str | None
    is_homeless: bool
    phone: str
    email: str
    contact_preference: str
    eligibility_spans: list[EligibilitySpanOut]
    ecm_assignments: list[EcmAssignmentOut]
    program_enrollments: list[ProgramEnrollmentOut]

    @staticmethod
    def resolve_county(obj: Any) -> str | None:
        return obj.county.name if obj.county else None

    @staticmethod
    def resolve_eligibility_spans(obj: Any) -> list[Any]:
        return list(obj.eligibility_spans.all())

    @staticmethod
    def resolve_ecm_assignments(obj: Any) -> list[Any]:
        return list(obj.ecm_assignments.all())

    @staticmethod
    def resolve_program_enrollments(obj: Any) -> list[Any]:
        return list(obj.program_enrollments.all())


class RosterErrorOut(Schema):
    row: int
    field: str
    value: str
    message: str
    code: str


class RosterImportOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    status: str
    channel: str
    original_name: str
    sha256: str
    row_count: int
    created_count: int
    updated_count: int
    unchanged_count: int
    error_count: int
    errors: list[RosterErrorOut]
    error_report_url: str | None
    started_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_error_report_url(obj: Any) -> str | None:
        return f"/members/imports/{obj.uuid}/errors.csv" if obj.error_report else None


class AuditedMemberPagination(LimitOffsetPagination):
    """Limit/offset pagination that audits the members of the page it returns (DESIGN principle 4)."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        members = list(page["items"])
        page["items"] = members
        filters = {k: params.get(k) for k in SEARCH_PARAMS}
        selectors.audit_member_list(
            user=request.user,
            members=members,
            purpose="search" if any(filters.values()) else "list",
            filters=filters,
        )
        return page


@router.get("", response=list[MemberOut], summary="Search the members the caller may see (audited)")
@paginate(AuditedMemberPagination)
def list_members(
    request: HttpRequest,
    member_id: str = "",
    last_name: str = "",
    first_name: str = "",
    date_of_birth: date | None = None,
    county: str = "",
    eligible_on: date | None = None,
):
    user = request.user
    if not permissions.can_view_members(user):
        raise PermissionDenied("Your role does not work with member records.")
    selectors.member_search_validate(
        last_name=last_name, first_name=first_name, date_of_birth=date_of_birth, county=county
    )
    qs = selectors.member_search(
        user=user,
        member_id=member_id,
        last_name=last_name,
        first_name=first_name,
        date_of_birth=date_of_birth,
        county=county,
        eligible_on=eligible_on,
    )
    return selectors.member_annotate_eligible(qs, user=user, on=clock.today())


@router.get("/imports", response=list[RosterImportOut], summary="The caller's plan's roster imports")
@paginate(LimitOffsetPagination)
def list_roster_imports(request: HttpRequest):
    if not permissions.can_import_roster(request.user):
        raise PermissionDenied("Only the plan's administrator and reporting staff see roster imports.")
    return selectors.roster_import_list(user=request.user)


@router.post(
    "/imports",
    response={201: RosterImportOut},
    summary="Import the caller's plan's eligibility roster (CSV); 422 lists row and field errors",
)
def create_roster_import(request: HttpRequest, file: UploadedFile | None = File(None)):  # noqa: B008
    limit = settings.CSHUB_MAX_UPLOAD_BYTES
    if file is None:
        raise DomainError(
            "The request is not valid.",
            errors=[FieldError("file", "Attach the roster CSV as `file`.", "required")],
        )
    if file.size is not None and file.size > limit:
        raise DomainError(
            "The file is too large.",
            errors=[FieldError("file", f"At most {limit} bytes; use `cshub members import`.", "file_size")],
        )
    if request.user.organization is None:
        raise PermissionDenied
    try:
        record = services.roster_import(
            actor=request.user,
            plan=request.user.organization,
            file_name=file.name or "roster.csv",
            content=file.read(),
            channel=RosterImport.Channel.API,
        )
    except RosterRejected as exc:
        from cshub.core.api import problem  # the API root imports this module; import it late

        uuid = exc.roster_import.uuid
        return problem(
            request,
            exc.status,
            exc.message,
            detail=f"Roster import {uuid} was rejected; GET /api/v1/members/imports/{uuid} for its errors.",
            errors=[e.as_dict() for e in exc.errors],
            code=exc.code,
        )
    return Status(201, record)


@router.get("/imports/{uuid}", response=RosterImportOut)
def get_roster_import(request: HttpRequest, uuid: UUID):
    return selectors.roster_import_get_for_user(user=request.user, uuid=uuid)


@router.get("/{uuid}", response=MemberDetailOut, summary="One member with spans, ECM and programs (audited)")
def get_member(request: HttpRequest, uuid: UUID):
    return selectors.member_get_for_user(user=request.user, uuid=uuid)
