"""Authorizations over REST (issue 6 item 10): the API door for requests (rules A3-A6, A4 channel "api"), the
list and the review queue (A10), one request with its determination, letters and history (A9), the review
steps with optimistic locking (A7, A8, A10), the provider's answer and withdrawal, file downloads, the
required-documents checklist (A6), the timeliness report and reviewer counts (A8), and services that need
no authorization (G2).

Parse, call a selector or service, shape the response. Every read goes through the scoped selectors, which
audit it; out of scope is 404 (never a 403 that tells the request exists). Errors are problem bodies
rendered by the API root; a refused step (403, 409) also carries the request's current version, status and
the caller's allowed actions, so an integrator can reload or offer the right choices.
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

import base64
import binascii
import mimetypes
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.authorizations import errors, permissions, selectors, services
from cshub.authorizations.models import (
    Authorization,
    AuthorizationRequest,
    Channel,
    RequestKind,
    RequestStatus,
    Urgency,
)
from cshub.authorizations.schemas import (
    AnswerIn,
    AuthorizationOut,
    AuthorizationProblemOut,
    AuthorizationRequestDetailOut,
    AuthorizationRequestIn,
    AuthorizationRequestOut,
    Base64FileIn,
    DecideIn,
    ExtendIn,
    PendIn,
    RequiredDocumentsOut,
    RetrospectiveReviewIn,
    ReviewerCountsOut,
    ServiceRecordIn,
    ServiceRecordOut,
    TimelinessOut,
    UrgencyIn,
    VersionIn,
    WithdrawIn,
)
from cshub.catalog import selectors as catalog_selectors
from cshub.catalog.models import Service
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError
from cshub.members import selectors as member_selectors
from cshub.referrals import selectors as referral_selectors

router = Router(tags=["authorizations"])

LIST_FILTERS = (
    "status",
    "service",
    "urgency",
    "county",
    "provider",
    "q",
    "mine",
    "received_from",
    "received_to",
)
REFUSALS = {
    403: AuthorizationProblemOut,
    404: AuthorizationProblemOut,
    409: AuthorizationProblemOut,
    422: AuthorizationProblemOut,
}
FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The file",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


# --- Helpers: parse, shape -------------------------------------------------------------------------


def _invalid(message: str, *problems: FieldError, code: str = errors.REQUEST_INVALID) -> DomainError:
    return DomainError(message, code=code, errors=list(problems))


def _decode_files(files: list[Base64FileIn], field: str) -> list[SimpleUploadedFile]:
    """Base64 files as uploads (the services check type and size); every bad one is named, nothing kept."""
    uploads, problems = [], []
    for i, item in enumerate(files):
        raw = "".join((item.content_base64 or "").split())
        if raw.startswith("data:") and ";base64," in raw:  # a data URL: keep the payload
            raw = raw.split(";base64,", 1)[1]
        try:
            content = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            problems.append(FieldError(f"{field}[{i}]", f"{item.file_name}: not valid base64.", "base64"))
            continue
        content_type = mimetypes.guess_type(item.file_name)[0] or "application/octet-stream"
        uploads.append(SimpleUploadedFile(item.file_name, content, content_type=content_type))
    if problems:
        raise _invalid("The files could not be read.", *problems)
    return uploads


def _authorization_of(auth_request: AuthorizationRequest) -> Authorization | None:
    try:
        return auth_request.authorization
    except ObjectDoesNotExist:
        return None


def _letters_for(user: Any, auth_request: AuthorizationRequest) -> list[Any]:
    """The letters the caller may download (`selectors.request_letters_for_user`), with their request."""
    letters = list(selectors.request_letters_for_user(user=user, request=auth_request))
    for letter in letters:
        letter.api_request_uuid = auth_request.uuid
    return letters


def _detail(user: Any, auth_request: AuthorizationRequest) -> AuthorizationRequest:
    """Attach what the detail shows: time left, determination, authorization, history, files, letters,
    requests for information and the caller's allowed actions."""
    authorization = _authorization_of(auth_request)
    try:
        determination = auth_request.determination
    except ObjectDoesNotExist:
        determination = None
    asked = list(selectors.request_information_requests(auth_request))
    asked_uuid = {a.pk: a.uuid for a in asked}
    documents = list(selectors.request_documents(auth_request))
    for document in documents:
        document.api_request_uuid = auth_request.uuid
        document.api_information_request_uuid = asked_uuid.get(document.information_request_id)
    auth_request.api_time_left = selectors.time_left(auth_request)
    auth_request.api_determination = determination
    auth_request.api_authorization = authorization
    auth_request.api_events = list(selectors.request_events(auth_request))
    auth_request.api_documents = documents
    auth_request.api_letters = _letters_for(user, auth_request)
    auth_request.api_information_requests = asked
    auth_request.api_allowed_actions = list(permissions.allowed_actions(user, auth_request, authorization))
    return auth_request


def _reloaded(user: Any, uuid: UUID) -> AuthorizationRequest:
    """The request after a change, as the caller now sees it (the change itself was audited)."""
    return _detail(user, selectors.request_get_for_update(user=user, uuid=uuid))


def _refused(request: HttpRequest, exc: DomainError, uuid: UUID) -> HttpResponse:
    """A refused step. 422 goes to the API root as is; 403 and 409 also carry the request's current version
    and status and the caller's allowed actions."""
    if exc.status not in (403, 409):
        raise exc
    from cshub.core.api import problem  # the API root imports this module; import it late

    current = selectors.request_get_for_update(user=request.user, uuid=uuid)
    return problem(
        request,
        exc.status,
        exc.message,
        errors=[e.as_dict() for e in exc.errors],
        code=exc.code,
        version=current.version,
        current_status=current.status,
        allowed_actions=list(permissions.allowed_actions(request.user, current, _authorization_of(current))),
    )


def _change(request: HttpRequest, uuid: UUID, action: Callable[[AuthorizationRequest], Any]) -> Any:
    """Run a versioned step on a request in the caller's scope; answer the request as it now is."""
    auth_request = selectors.request_get_for_update(user=request.user, uuid=uuid)
    try:
        action(auth_request)
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return _reloaded(request.user, uuid)


def _service(key: str, *, field: str = "service") -> Service:
    service = catalog_selectors.service_list().filter(key=(key or "").strip()).first()
    if service is None:
        raise _invalid(
            "The service is not known.",
            FieldError(field, "Choose a Community Support (GET /api/v1/catalog).", "choice"),
        )
    return service


def _servicing_organization(user: Any, uuid: UUID, service_key: str) -> Organization:
    """The caller's own organization, or (a hospital, rule A5) a provider that takes this service (public
    directory data, no member data)."""
    if user.organization.uuid == uuid:
        return user.organization
    provider = (
        referral_selectors.referral_destinations(service_key=service_key.strip(), accepting_only=False)
        .filter(uuid=uuid)
        .first()
    )
    if provider is None:
        raise _invalid(
            "The request is not complete.",
            FieldError(
                "servicing_organization",
                "No provider with this id provides this service; "
                "see GET /api/v1/referrals/destinations?service=….",
                "choice",
            ),
        )
    return provider


def _filters(
    *,
    status: str,
    service: str,
    urgency: str,
    county: str,
    provider: UUID | None,
    q: str,
    mine: bool,
    received_from: date | None,
    received_to: date | None,
) -> selectors.RequestFilters:
    problems = []
    if status and status not in ("open", "decided") and status not in RequestStatus.values:
        problems.append(
            FieldError("status", f"open, decided or a status: {', '.join(RequestStatus.values)}.", "choice")
        )
    if service.strip() and not catalog_selectors.service_list().filter(key=service.strip()).exists():
        problems.append(FieldError("service", "Choose a Community Support (GET /api/v1/catalog).", "choice"))
    if urgency and urgency not in Urgency.values:
        problems.append(FieldError("urgency", f"One of: {', '.join(Urgency.values)}.", "choice"))
    if received_from and received_to and received_from > received_to:
        problems.append(FieldError("received_to", "The end date is before the start date.", "range"))
    if problems:
        raise _invalid("The filters are not valid.", *problems)
    return selectors.RequestFilters(
        status=status,
        service=service.strip(),
        urgency=urgency,
        county=county.strip(),
        provider=provider,
        q=q.strip(),
        mine=mine,
        received_from=received_from,
        received_to=received_to,
    )


class AuditedRequestPagination(LimitOffsetPagination):
    """Limit/offset pagination that audits the requests of the page it returns and adds each row's time
    left (rule A8) without a query per row."""

    purpose = "list"

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        rows = list(page["items"])
        for row in rows:
            row.api_time_left = selectors.time_left(row)
        page["items"] = rows
        filters = {k: str(params[k]) for k in LIST_FILTERS if params.get(k)}
        selectors.audit_request_list(
            user=request.user,
            requests=rows,
            purpose=self.purpose if self.purpose != "list" or not filters else "search",
            filters=filters,
        )
        return page


class AuditedQueuePagination(AuditedRequestPagination):
    purpose = "queue"


# --- Reference and reports (declared before /requests/{uuid}) ---------------------------------------


@router.get(
    "/required-documents",
    response={200: RequiredDocumentsOut, 422: AuthorizationProblemOut},
    summary="The required-documents checklist of a service for a kind of request (rule A6)",
)
def required_documents(request: HttpRequest, service: str, kind: str = RequestKind.INITIAL.value):
    found = _service(service)
    if kind not in RequestKind.values:
        raise _invalid(
            "The kind is not known.",
            FieldError("kind", f"One of: {', '.join(RequestKind.values)}.", "choice"),
        )
    return {"service": found, "kind": kind, "items": services.required_documents(found, kind)}


@router.get(
    "/timeliness",
    response={200: TimelinessOut, 403: AuthorizationProblemOut, 422: AuthorizationProblemOut},
    summary="Share of requests decided on time by month, urgency and service (rule A8; the plan's staff)",
)
def timeliness(request: HttpRequest, start: date, end: date, service: str = ""):
    user = request.user
    if not (user.is_plan_staff and permissions.can_view_requests(user)):
        raise PermissionDenied("The timeliness report is for the plan's staff.")
    problems = []
    if end < start:
        problems.append(FieldError("end", "The end date is before the start date.", "range"))
    if service.strip() and not catalog_selectors.service_list().filter(key=service.strip()).exists():
        problems.append(FieldError("service", "Choose a Community Support (GET /api/v1/catalog).", "choice"))
    if problems:
        raise _invalid("The report's filters are not valid.", *problems)
    rows = selectors.timeliness_report(user=user, start=start, end=end, service=service.strip())
    decided = sum(r.decided for r in rows)
    on_time = sum(r.on_time for r in rows)
    return {
        "start": start,
        "end": end,
        "decided": decided,
        "on_time": on_time,
        "share": on_time / decided if decided else 0.0,
        "rows": [
            {
                "month": r.month,
                "urgency": r.urgency,
                "service": r.service,
                "decided": r.decided,
                "on_time": r.on_time,
                "share": r.share,
            }
            for r in rows
        ],
    }


@router.get(
    "/reviewer-counts",
    response={200: ReviewerCountsOut, 403: AuthorizationProblemOut},
    summary="Open requests overdue and due today, and presumptive authorizations to review (rule A8)",
)
def reviewer_counts(request: HttpRequest):
    if not permissions.can_review(request.user):
        raise PermissionDenied("The counts are for the plan's UM reviewers.")
    return selectors.reviewer_counts(user=request.user)


# --- Requests ---------------------------------------------------------------------------------------


@router.post(
    "/requests",
    response={
        201: AuthorizationRequestDetailOut,
        403: AuthorizationProblemOut,
        409: AuthorizationProblemOut,
        422: AuthorizationProblemOut,
    },
    summary="Request an authorization: the API door (rules A2-A6); 422 names each field that is wrong",
)
def submit_request(request: HttpRequest, payload: AuthorizationRequestIn):
    user = request.user
    if not permissions.can_submit_requests(user):
        raise PermissionDenied(
            "Your role cannot request authorizations: CS provider staff and hospital discharge planners can."
        )
    uploads = _decode_files(payload.documents, "documents")
    member = member_selectors.member_queryset_for(user).filter(uuid=payload.member).first()
    previous = None
    if payload.previous_authorization is not None and member is not None:
        previous = (
            selectors.authorizations_for_member(user=user, member=member)
            .filter(uuid=payload.previous_authorization)
            .first()
        )
        if previous is None:
            raise _invalid(
                "The request is not complete.",
                FieldError(
                    "previous_authorization", "No authorization of this member has this id.", "choice"
                ),
            )
    servicing = None
    if payload.servicing_organization is not None:
        servicing = _servicing_organization(user, payload.servicing_organization, payload.service)
    auth_request = services.request_submit(
        actor=user,
        channel=Channel.API,
        data=services.RequestInput(
            member=member,
            service_key=payload.service.strip(),
            hcpcs=payload.hcpcs,
            modifier=payload.modifier,
            requesting_npi=payload.requesting_npi,
            servicing_npi=payload.servicing_npi,
            diagnosis_codes=payload.diagnosis_codes,
            units=payload.units,
            start_date=payload.start_date,
            end_date=payload.end_date,
            kind=payload.kind,
            extra_modifiers=payload.extra_modifiers,
            servicing_organization=servicing,
            urgency=payload.urgency,
            urgency_reason=payload.urgency_reason,
            notes=payload.notes,
            previous_authorization=previous,
            member_agreement_attested=payload.member_agreement_attested,
            checklist_confirmed=[item.strip() for item in payload.checklist_confirmed],
        ),
        documents=[
            services.DocumentUpload(file=upload, checklist_item=item.checklist_item.strip())
            for upload, item in zip(uploads, payload.documents, strict=True)
        ],
    )
    return Status(201, _reloaded(user, auth_request.uuid))


@router.get(
    "/requests",
    response=list[AuthorizationRequestOut],
    summary="Authorization requests the caller may see, filtered (audited)",
)
@paginate(AuditedRequestPagination)
def list_requests(
    request: HttpRequest,
    status: str = "",
    service: str = "",
    urgency: str = "",
    county: str = "",
    provider: UUID | None = None,
    q: str = "",
    mine: bool = False,
    received_from: date | None = None,
    received_to: date | None = None,
):
    if not permissions.can_view_requests(request.user):
        raise PermissionDenied("Your role does not work with authorization requests.")
    filters = _filters(
        status=status,
        service=service,
        urgency=urgency,
        county=county,
        provider=provider,
        q=q,
        mine=mine,
        received_from=received_from,
        received_to=received_to,
    )
    return selectors.request_list(user=request.user, filters=filters)


@router.get(
    "/requests/queue",
    response=list[AuthorizationRequestOut],
    summary="The review queue: open requests soonest due first, with time left (rule A10; UM reviewers)",
)
@paginate(AuditedQueuePagination)
def review_queue(
    request: HttpRequest,
    service: str = "",
    urgency: str = "",
    county: str = "",
    provider: UUID | None = None,
    q: str = "",
    mine: bool = False,
):
    if not permissions.can_review(request.user):
        raise PermissionDenied("The review queue is for the plan's UM reviewers.")
    filters = _filters(
        status="open",
        service=service,
        urgency=urgency,
        county=county,
        provider=provider,
        q=q,
        mine=mine,
        received_from=None,
        received_to=None,
    )
    return selectors.request_list(user=request.user, filters=filters)


@router.get(
    "/requests/{uuid}",
    response={200: AuthorizationRequestDetailOut, 404: AuthorizationProblemOut},
    summary="One request with its clock, determination, authorization, history, files and letters (audited)",
)
def get_request(request: HttpRequest, uuid: UUID):
    return _detail(request.user, selectors.request_get_for_user(user=request.user, uuid=uuid))


@router.get(
    "/requests/{uuid}/required-documents",
    response={200: RequiredDocumentsOut, 404: AuthorizationProblemOut},
    summary="The request's required-documents checklist, with the items attached and confirmed (rule A6)",
)
def request_required_documents(request: HttpRequest, uuid: UUID):
    auth_request = selectors.request_get_for_user(user=request.user, uuid=uuid, purpose="required_documents")
    attached = sorted(
        {d.checklist_item for d in selectors.request_documents(auth_request) if d.checklist_item}
    )
    return {
        "service": auth_request.service,
        "kind": auth_request.kind,
        "items": services.required_documents(auth_request.service, auth_request.kind),
        "attached": attached,
        "confirmed": list(auth_request.checklist_confirmed),
    }


@router.get(
    "/requests/{uuid}/documents/{doc_uuid}",
    response={200: None, 404: AuthorizationProblemOut},
    summary="Download a file kept with the request (audited)",
    openapi_extra=FILE_RESPONSE,
)
def download_document(request: HttpRequest, uuid: UUID, doc_uuid: UUID):
    document = selectors.document_get_for_user(user=request.user, request_uuid=uuid, document_uuid=doc_uuid)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.file_name,
        content_type=document.content_type,
    )


@router.get(
    "/requests/{uuid}/letters/{letter_uuid}",
    response={200: None, 404: AuthorizationProblemOut},
    summary="Download a PDF letter about the request (rule A9; audited; a provider gets its own letters)",
    openapi_extra=FILE_RESPONSE,
)
def download_letter(request: HttpRequest, uuid: UUID, letter_uuid: UUID):
    letter = selectors.letter_get_for_user(user=request.user, request_uuid=uuid, letter_uuid=letter_uuid)
    return FileResponse(
        letter.file.open("rb"),
        as_attachment=True,
        filename=f"{letter.request.number}-{letter.kind}-{letter.recipient}.pdf",
        content_type="application/pdf",
    )


# --- Review steps (rules A7, A8, A9, A10, G2): each carries the version the caller read ----------------


@router.post(
    "/requests/{uuid}/take",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Take the request from the queue (rule A10); 409 when another reviewer has it or it changed",
)
def take(request: HttpRequest, uuid: UUID, payload: VersionIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_take(actor=request.user, request=r, expected_version=payload.version),
    )


@router.post(
    "/requests/{uuid}/release",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Put the request back in the queue (the reviewer who took it)",
)
def release(request: HttpRequest, uuid: UUID, payload: VersionIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_release(actor=request.user, request=r, expected_version=payload.version),
    )


@router.post(
    "/requests/{uuid}/urgency",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Change the urgency with a reason (rule A8); the clock follows",
)
def set_urgency(request: HttpRequest, uuid: UUID, payload: UrgencyIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_set_urgency(
            actor=request.user,
            request=r,
            urgency=payload.urgency.strip(),
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/requests/{uuid}/pend",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Ask the provider for specific information by a date (rule A7)",
)
def pend(request: HttpRequest, uuid: UUID, payload: PendIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_pend(
            actor=request.user,
            request=r,
            question=payload.question,
            due_on=payload.due_on,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/requests/{uuid}/extend",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Take the one extension (up to 14 calendar days) with a reason; the member gets a notice (A8)",
)
def extend(request: HttpRequest, uuid: UUID, payload: ExtendIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_extend(
            actor=request.user,
            request=r,
            days=payload.days,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/requests/{uuid}/decide",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Approve, approve in part, deny (reason code, reason, criteria) or mark withdrawn (rule A9)",
)
def decide(request: HttpRequest, uuid: UUID, payload: DecideIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_decide(
            actor=request.user,
            request=r,
            decision=services.DecisionInput(
                outcome=payload.outcome.strip(),
                units=payload.units,
                start_date=payload.start_date,
                end_date=payload.end_date,
                reason_code=payload.reason_code.strip(),
                reason=payload.reason,
                criteria=payload.criteria,
            ),
            expected_version=payload.version,
        ),
    )


@router.post(
    "/requests/{uuid}/retrospective-review",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Review a presumptive authorization afterwards: upheld, or ended with a reason (rule G2)",
)
def retrospective_review(request: HttpRequest, uuid: UUID, payload: RetrospectiveReviewIn):
    return _change(
        request,
        uuid,
        lambda r: services.retrospective_review_record(
            actor=request.user,
            request=r,
            upheld=payload.upheld,
            note=payload.note,
            expected_version=payload.version,
        ),
    )


# --- The provider's steps ---------------------------------------------------------------------------


@router.post(
    "/requests/{uuid}/answer",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Answer a request for information: text and files as base64 (rule A7); back to the queue",
)
def answer(request: HttpRequest, uuid: UUID, payload: AnswerIn):
    auth_request = selectors.request_get_for_update(user=request.user, uuid=uuid)
    files = _decode_files(payload.files, "files")
    try:
        services.information_answer(
            actor=request.user,
            request=auth_request,
            answer=payload.answer,
            files=files,
            expected_version=payload.version,
        )
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return _reloaded(request.user, uuid)


@router.post(
    "/requests/{uuid}/withdraw",
    response={200: AuthorizationRequestDetailOut, **REFUSALS},
    summary="Withdraw an open request (the requesting provider), with a reason",
)
def withdraw(request: HttpRequest, uuid: UUID, payload: WithdrawIn):
    return _change(
        request,
        uuid,
        lambda r: services.request_withdraw(
            actor=request.user, request=r, reason=payload.reason, expected_version=payload.version
        ),
    )


# --- A member's authorizations -----------------------------------------------------------------------


@router.get(
    "/members/{uuid}/authorizations",
    response={200: list[AuthorizationOut], 404: AuthorizationProblemOut},
    summary="A member's authorizations the caller may see, newest first (audited)",
)
def member_authorizations(request: HttpRequest, uuid: UUID):
    member = member_selectors.member_get_for_user(
        user=request.user, uuid=uuid, purpose="authorizations", related=False
    )
    return list(selectors.authorizations_for_member(user=request.user, member=member))


# --- Services without authorization (rule G2) ----------------------------------------------------------


class AuditedServiceRecordPagination(LimitOffsetPagination):
    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        rows = list(page["items"])
        page["items"] = rows
        audit_record(
            actor=request.user,
            action="list",
            object_type="service_record",
            member_ids=[r.member.uuid for r in rows],
            detail={
                "filters": {k: str(params[k]) for k in ("service", "member") if params.get(k)},
                "count": len(rows),
            },
        )
        return page


@router.post(
    "/service-records",
    response={201: ServiceRecordOut, 403: AuthorizationProblemOut, 422: AuthorizationProblemOut},
    summary="Record a service that needs no authorization (rule G2)",
)
def create_service_record(request: HttpRequest, payload: ServiceRecordIn):
    user = request.user
    record = services.service_record_create(
        actor=user,
        member=member_selectors.member_queryset_for(user).filter(uuid=payload.member).first(),
        service_key=payload.service.strip(),
        hcpcs=payload.hcpcs,
        modifier=payload.modifier,
        service_date=payload.service_date,
        end_date=payload.end_date,
        units=payload.units,
        diagnosis_codes=payload.diagnosis_codes,
        notes=payload.notes,
    )
    return Status(
        201, selectors.service_record_list(user=user).select_related("plan", "recorded_by").get(pk=record.pk)
    )


@router.get(
    "/service-records",
    response=list[ServiceRecordOut],
    summary="Services recorded without authorization: the provider's own or the plan's (rule G2; audited)",
)
@paginate(AuditedServiceRecordPagination)
def list_service_records(request: HttpRequest, service: str = "", member: UUID | None = None):
    if not permissions.can_view_requests(request.user):
        raise PermissionDenied("Your role does not work with authorizations.")
    qs = selectors.service_record_list(user=request.user).select_related("plan", "recorded_by")
    if service.strip():
        qs = qs.filter(service__key=service.strip())
    if member is not None:
        qs = qs.filter(member__uuid=member)
    return qs
