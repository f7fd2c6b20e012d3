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
from django.http import FileResponse, Http404, HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cshub.core import clock
from cshub.core.errors import DomainError, FieldError
from cshub.members import permissions, selectors, services, timeline
from cshub.members.assessments import assessment_templates
from cshub.members.errors import RosterRejected
from cshub.members.models import Consent, ExternalInformation, GoalProgress, RosterImport
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


# --- Member documentation (rule M2) and the timeline ----------------------------------------------------
# Lists are scoped and audited by the selectors (the recording organization and the member's plan see a
# record; other providers do not); writes go through the services (403 for a role that does not record
# documentation, such as plan staff; 404 out of scope). Invalid input is a 422 problem body with
# `errors: [{field, message, code}]`; answers of an assessment are reported as `answers.<question key>`.


class UserRef(Schema):
    id: UUID | None = Field(validation_alias="uuid")
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.full_name or obj.email


class DocumentOut(Schema):
    name: str
    content_type: str
    sha256: str
    url: str


def _document(obj: Any, kind: str) -> DocumentOut | None:
    if not obj.document:
        return None
    return DocumentOut(
        name=obj.document_name,
        content_type=obj.document_content_type,
        sha256=obj.document_sha256,
        url=f"/api/v1/members/{obj.member.uuid}/{kind}/{obj.uuid}/document",
    )


class ConsentIn(Schema):
    scopes: list[str] = Field(default_factory=list, description="codes: " + ", ".join(Consent.Scope.values))
    scope_detail: str = ""
    recipients: str = Field("", description="who may receive the information, one per line")
    signed_on: date | None = None
    expires_on: date | None = None


class ConsentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    scopes: list[str]
    scope_labels: list[str]
    scope_detail: str
    recipients: list[str] = Field(validation_alias="recipient_list")
    signed_on: date
    expires_on: date | None
    status: str = Field(description="active, expired or revoked, as of today (Pacific)")
    revoked_on: date | None
    revoke_reason: str
    document: DocumentOut | None
    created_at: datetime

    @staticmethod
    def resolve_document(obj: Any) -> DocumentOut | None:
        return _document(obj, "consents")


class ConsentRevokeIn(Schema):
    reason: str
    revoked_on: date | None = None


class AssessmentIn(Schema):
    service: str | None = Field(None, description="a catalog service key; none for a general assessment")
    assessed_on: date | None = None
    answers: dict[str, Any] = Field(default_factory=dict, description="question key -> answer")


class AssessmentOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    service: str | None
    template_key: str
    template_version: str
    assessed_on: date
    answers: dict[str, Any]
    assessor: UserRef | None
    created_at: datetime

    @staticmethod
    def resolve_service(obj: Any) -> str | None:
        return obj.service.key if obj.service else None


class QuestionOut(Schema):
    key: str
    label: str
    type: str
    required: bool
    choices: list[dict[str, str]]
    help: str
    min: float | None
    max: float | None

    @staticmethod
    def resolve_choices(obj: Any) -> list[dict[str, str]]:
        return [{"value": v, "label": label} for v, label in obj.choices]


class AssessmentTemplateOut(Schema):
    key: str
    service: str
    title: str
    version: str
    description: str
    source: dict[str, str]
    questions: list[QuestionOut]


class SdohNeedIn(Schema):
    code: str = Field(description="ICD-10-CM code of Z55-Z65, with or without the dot")
    identified_on: date | None = None
    note: str = ""


class SdohNeedOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    code: str
    description: str
    identified_on: date
    resolved_on: date | None
    status: str
    note: str
    created_at: datetime


class SdohResolveIn(Schema):
    resolved_on: date | None = None
    note: str = ""


class GoalProgressIn(Schema):
    status: str = Field(description="one of: " + ", ".join(GoalProgress.Status.values))
    recorded_on: date | None = None
    note: str = ""


class GoalProgressOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    status: str
    recorded_on: date
    note: str
    recorded_by: UserRef | None


class GoalIn(Schema):
    description: str
    target_date: date | None = None
    service: str | None = None
    status: str = GoalProgress.Status.NOT_STARTED.value
    note: str = ""


class GoalOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    service: str | None
    description: str
    target_date: date | None
    current_status: str | None
    current_status_on: date | None
    progress: list[GoalProgressOut]
    created_at: datetime

    @staticmethod
    def resolve_service(obj: Any) -> str | None:
        return obj.service.key if obj.service else None

    @staticmethod
    def resolve_progress(obj: Any) -> list[Any]:
        return list(obj.progress.all())


class NoteIn(Schema):
    text: str


class NoteOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    text: str
    author: UserRef | None
    created_at: datetime


class ExternalInformationIn(Schema):
    source_name: str = ""
    source_kind: str = Field("", description="one of: " + ", ".join(ExternalInformation.SourceKind.values))
    received_on: date | None = None
    summary: str = ""


class ExternalInformationOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    organization: OrganizationRef
    source_name: str
    source_kind: str
    received_on: date
    summary: str
    document: DocumentOut | None
    created_at: datetime

    @staticmethod
    def resolve_document(obj: Any) -> DocumentOut | None:
        return _document(obj, "external-information")


class TimelineEntryOut(Schema):
    at: datetime
    kind: str
    label: str
    title: str
    detail: str
    organization: str
    url: str


def _member(request: HttpRequest, uuid: UUID) -> Any:
    """The member of a documentation endpoint: 404 when out of scope (audited)."""
    member = selectors.member_get_for_user(
        user=request.user, uuid=uuid, purpose="documentation", related=False
    )
    if not permissions.can_view_documentation(request.user):
        raise Http404("No such member")
    return member


def _file_response(record: Any) -> Any:
    if not record.document:
        raise Http404("No document is stored for this record.")
    return FileResponse(
        record.document.open("rb"),
        as_attachment=True,
        filename=record.document_name,
        content_type=record.document_content_type or "application/octet-stream",
    )


@router.get(
    "/assessment-templates",
    response=list[AssessmentTemplateOut],
    summary="Assessment templates: the questions of each service's assessment (rule M2)",
)
def list_assessment_templates(request: HttpRequest):
    if not permissions.can_view_documentation(request.user):
        raise PermissionDenied("Your role does not work with member documentation.")
    return sorted(assessment_templates().values(), key=lambda t: t.key)


@router.get("/{uuid}/consents", response=list[ConsentOut], summary="The member's consents (rule M2; audited)")
@paginate(LimitOffsetPagination)
def list_consents(request: HttpRequest, uuid: UUID):
    return selectors.consent_list(user=request.user, member=_member(request, uuid))


@router.post(
    "/{uuid}/consents",
    response={201: ConsentOut},
    summary="Record a consent (multipart: fields, and the signed copy as `document`: PDF, PNG, JPEG, TIFF)",
)
def create_consent(
    request: HttpRequest,
    uuid: UUID,
    payload: Form[ConsentIn],
    document: UploadedFile | None = File(None),  # noqa: B008
):
    consent = services.consent_create(
        actor=request.user,
        member=_member(request, uuid),
        scopes=payload.scopes,
        scope_detail=payload.scope_detail,
        recipients=payload.recipients,
        signed_on=payload.signed_on,
        expires_on=payload.expires_on,
        document=document,
    )
    return Status(201, consent)


@router.post("/{uuid}/consents/{consent_uuid}/revoke", response=ConsentOut, summary="Record a revocation")
def revoke_consent(request: HttpRequest, uuid: UUID, consent_uuid: UUID, payload: ConsentRevokeIn):
    member = _member(request, uuid)
    consent = selectors.consent_get_for_user(
        user=request.user, member=member, uuid=consent_uuid, purpose="revoke"
    )
    return services.consent_revoke(
        actor=request.user, consent=consent, reason=payload.reason, revoked_on=payload.revoked_on
    )


@router.get("/{uuid}/consents/{consent_uuid}/document", summary="The signed copy (audited download)")
def download_consent_document(request: HttpRequest, uuid: UUID, consent_uuid: UUID):
    member = _member(request, uuid)
    return _file_response(
        selectors.consent_get_for_user(
            user=request.user, member=member, uuid=consent_uuid, purpose="download"
        )
    )


@router.get("/{uuid}/assessments", response=list[AssessmentOut], summary="The member's assessments (audited)")
@paginate(LimitOffsetPagination)
def list_assessments(request: HttpRequest, uuid: UUID):
    return selectors.assessment_list(user=request.user, member=_member(request, uuid))


@router.post(
    "/{uuid}/assessments",
    response={201: AssessmentOut},
    summary="Record an assessment; answers are checked against the service's template",
)
def create_assessment(request: HttpRequest, uuid: UUID, payload: AssessmentIn):
    assessment = services.assessment_create(
        actor=request.user,
        member=_member(request, uuid),
        service_key=payload.service,
        assessed_on=payload.assessed_on,
        answers=payload.answers,
    )
    return Status(201, assessment)


@router.get("/{uuid}/assessments/{assessment_uuid}", response=AssessmentOut)
def get_assessment(request: HttpRequest, uuid: UUID, assessment_uuid: UUID):
    member = _member(request, uuid)
    return selectors.assessment_get_for_user(user=request.user, member=member, uuid=assessment_uuid)


@router.get("/{uuid}/sdoh-needs", response=list[SdohNeedOut], summary="The member's SDOH needs (audited)")
@paginate(LimitOffsetPagination)
def list_sdoh_needs(request: HttpRequest, uuid: UUID):
    return selectors.sdoh_need_list(user=request.user, member=_member(request, uuid))


@router.post(
    "/{uuid}/sdoh-needs",
    response={201: SdohNeedOut},
    summary="Record an SDOH need as an ICD-10-CM Z code of Z55-Z65",
)
def create_sdoh_need(request: HttpRequest, uuid: UUID, payload: SdohNeedIn):
    need = services.sdoh_need_create(
        actor=request.user,
        member=_member(request, uuid),
        code=payload.code,
        identified_on=payload.identified_on,
        note=payload.note,
    )
    return Status(201, need)


@router.post("/{uuid}/sdoh-needs/{need_uuid}/resolve", response=SdohNeedOut, summary="Mark a need resolved")
def resolve_sdoh_need(request: HttpRequest, uuid: UUID, need_uuid: UUID, payload: SdohResolveIn):
    member = _member(request, uuid)
    need = selectors.sdoh_need_get_for_user(
        user=request.user, member=member, uuid=need_uuid, purpose="resolve"
    )
    return services.sdoh_need_resolve(
        actor=request.user, need=need, resolved_on=payload.resolved_on, note=payload.note
    )


@router.get(
    "/{uuid}/goals", response=list[GoalOut], summary="The member's goals with their attainment (audited)"
)
@paginate(LimitOffsetPagination)
def list_goals(request: HttpRequest, uuid: UUID):
    return selectors.goal_list(user=request.user, member=_member(request, uuid))


@router.post("/{uuid}/goals", response={201: GoalOut}, summary="Set a goal (and its first status)")
def create_goal(request: HttpRequest, uuid: UUID, payload: GoalIn):
    member = _member(request, uuid)
    goal = services.goal_create(
        actor=request.user,
        member=member,
        description=payload.description,
        target_date=payload.target_date,
        service_key=payload.service,
        status=payload.status,
        note=payload.note,
    )
    return Status(201, selectors.goal_get_for_user(user=request.user, member=member, uuid=goal.uuid))


@router.get("/{uuid}/goals/{goal_uuid}/progress", response=list[GoalProgressOut], summary="A goal's history")
def list_goal_progress(request: HttpRequest, uuid: UUID, goal_uuid: UUID):
    member = _member(request, uuid)
    return list(selectors.goal_get_for_user(user=request.user, member=member, uuid=goal_uuid).progress.all())


@router.post(
    "/{uuid}/goals/{goal_uuid}/progress",
    response={201: GoalProgressOut},
    summary="Record a goal's attainment (append-only)",
)
def create_goal_progress(request: HttpRequest, uuid: UUID, goal_uuid: UUID, payload: GoalProgressIn):
    member = _member(request, uuid)
    goal = selectors.goal_get_for_user(user=request.user, member=member, uuid=goal_uuid, purpose="progress")
    progress = services.goal_progress_record(
        actor=request.user,
        goal=goal,
        status=payload.status,
        recorded_on=payload.recorded_on,
        note=payload.note,
    )
    return Status(201, progress)


@router.get("/{uuid}/notes", response=list[NoteOut], summary="The member's notes (audited)")
@paginate(LimitOffsetPagination)
def list_notes(request: HttpRequest, uuid: UUID):
    return selectors.member_note_list(user=request.user, member=_member(request, uuid))


@router.post("/{uuid}/notes", response={201: NoteOut}, summary="Add a note")
def create_note(request: HttpRequest, uuid: UUID, payload: NoteIn):
    note = services.member_note_create(actor=request.user, member=_member(request, uuid), text=payload.text)
    return Status(201, note)


@router.get(
    "/{uuid}/external-information",
    response=list[ExternalInformationOut],
    summary="Information received from other sources (audited)",
)
@paginate(LimitOffsetPagination)
def list_external_information(request: HttpRequest, uuid: UUID):
    return selectors.external_information_list(user=request.user, member=_member(request, uuid))


@router.post(
    "/{uuid}/external-information",
    response={201: ExternalInformationOut},
    summary="Record information received (multipart; optional `document`: PDF, PNG, JPEG, TIFF)",
)
def create_external_information(
    request: HttpRequest,
    uuid: UUID,
    payload: Form[ExternalInformationIn],
    document: UploadedFile | None = File(None),  # noqa: B008
):
    info = services.external_information_create(
        actor=request.user,
        member=_member(request, uuid),
        source_name=payload.source_name,
        source_kind=payload.source_kind,
        received_on=payload.received_on,
        summary=payload.summary,
        document=document,
    )
    return Status(201, info)


@router.get("/{uuid}/external-information/{info_uuid}/document", summary="The document received (audited)")
def download_external_information_document(request: HttpRequest, uuid: UUID, info_uuid: UUID):
    member = _member(request, uuid)
    return _file_response(
        selectors.external_information_get_for_user(
            user=request.user, member=member, uuid=info_uuid, purpose="download"
        )
    )


@router.get(
    "/{uuid}/timeline",
    response=list[TimelineEntryOut],
    summary="The member's timeline, newest first; `kind` filters (repeat it); audited",
)
@paginate(LimitOffsetPagination)
def get_timeline(request: HttpRequest, uuid: UUID, kind: list[str] = Query(default_factory=list)):  # noqa: B008
    return timeline.member_timeline(user=request.user, member=_member(request, uuid), kinds=kind)


@router.get("/{uuid}", response=MemberDetailOut, summary="One member with spans, ECM and programs (audited)")
def get_member(request: HttpRequest, uuid: UUID):
    return selectors.member_get_for_user(user=request.user, uuid=uuid)
