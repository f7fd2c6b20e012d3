"""Referrals over REST: the API door (rules R1-R3), the list and one referral, status changes (R5, R9),
assignment by the plan, member matching, outreach (O1-O4), the eligibility check at first contact (A1),
enrollment (M2), documents (R2), onward referrals (R7, R8), the outreach worklist, destinations (N8) and
the workflow table.

Parse, call a selector or service, shape the response. Every read goes through the scoped selectors, which
audit it; out of scope is 404 (never a 403 that tells the referral exists). Errors are problem bodies
rendered by the API root; a refused change (403, 409) also carries the referral's current version and the
caller's allowed next steps, so an integrator can reload or offer the right choices.
"""
# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Router, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.catalog import selectors as catalog_selectors
from cshub.core import clock
from cshub.core.errors import DomainError, FieldError
from cshub.core.models import County
from cshub.referrals import errors, permissions, selectors, services
from cshub.referrals.models import Channel, Referral
from cshub.referrals.schemas import (
    AssignIn,
    DestinationOut,
    DocumentOut,
    EnrollmentIn,
    EnrollmentOut,
    FirstContactCheckIn,
    FirstContactCheckOut,
    MatchMemberIn,
    OnwardIn,
    OutreachAttemptIn,
    OutreachAttemptOut,
    OutreachEndIn,
    ProblemOut,
    ReferralDetailOut,
    ReferralIn,
    ReferralOut,
    TransitionIn,
    WorkflowOut,
    WorklistRowOut,
)
from cshub.referrals.workflow import workflow

router = Router(tags=["referrals"])

LIST_FILTERS = ("box", "status", "service", "channel", "q", "received_from", "received_to", "duplicates")
BOXES = ("", "received", "sent", "unassigned")
REFUSALS = {403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}


# --- Helpers: parse, look up directory data, shape ------------------------------------------------


def _invalid(message: str, *problems: FieldError) -> DomainError:
    return DomainError(message, code=errors.REFERRAL_INVALID, errors=list(problems))


def _next_steps(user: Any, referral: Referral) -> list[dict[str, Any]]:
    """The statuses the caller may move the referral to now, with what each needs (from the table)."""
    wf = workflow()
    steps = []
    for key, label in services.allowed_next_steps(user=user, referral=referral):
        transition = wf.transition(referral.status, key)
        steps.append(
            {
                "status": key,
                "label": label,
                "reason_required": transition.reason_required,
                "reasons": list(wf.reasons.get(key, ())),
                "guard": transition.guard,
            }
        )
    return steps


def _progress(referral: Referral, attempts: list[Any]) -> dict[str, Any]:
    """Rule O3 for one referral, as the API shows it."""
    progress = selectors.outreach_progress(referral, attempts)
    return {
        "received_on": progress.received_on,
        "deadline": progress.deadline,
        "days_left": progress.days_left,
        "attempts": progress.attempts,
        "attempts_in_window": progress.attempts_in_window,
        "modalities_in_window": list(progress.modalities_in_window),
        "o3_met": progress.o3_met,
        "missing": list(progress.missing),
        "outcome": referral.outreach_outcome,
    }


def _detail(user: Any, referral: Referral) -> Referral:
    """Attach what the detail shows this caller: next steps, the history as the selector scopes it, and
    outreach progress when the caller works the referral (the provider and the plan)."""
    referral.api_next_steps = _next_steps(user, referral)
    referral.api_events = list(selectors.referral_events_for(user=user, referral=referral))
    referral.api_outreach = None
    if selectors.referral_sees_work(user=user, referral=referral):
        attempts = list(selectors.outreach_attempts_for(user=user, referral=referral))
        referral.api_outreach = _progress(referral, attempts)
    return referral


def _reloaded(user: Any, uuid: UUID) -> Referral:
    """The referral after a change, as the caller now sees it (the change itself was audited)."""
    return _detail(user, selectors.referral_get_for_update(user=user, uuid=uuid))


def _refused(request: HttpRequest, exc: DomainError, uuid: UUID) -> HttpResponse:
    """A refused change. 422 goes to the API root as is; 403 and 409 also carry the referral's current
    version and status and the caller's allowed next steps."""
    if exc.status not in (403, 409):
        raise exc
    from cshub.core.api import problem  # the API root imports this module; import it late

    current = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    return problem(
        request,
        exc.status,
        exc.message,
        errors=[e.as_dict() for e in exc.errors],
        code=exc.code,
        version=current.version,
        current_status=current.status,
        allowed_next_steps=[
            {"status": step["status"], "label": step["label"]} for step in _next_steps(request.user, current)
        ],
    )


def _change(request: HttpRequest, uuid: UUID, action: Callable[[Referral], Any]) -> Any:
    """Run a versioned change on a referral in the caller's scope; answer the referral as it now is."""
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    try:
        action(referral)
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return _reloaded(request.user, uuid)


def _plan(ref: str) -> Organization:
    """The member's plan by its id or its DHCS plan code (directory data, no member data)."""
    ref = (ref or "").strip()
    plans = selectors.referral_plans()
    try:
        plan = plans.filter(uuid=UUID(ref)).first()
    except ValueError:
        plan = plans.filter(plan_code__iexact=ref).first() if ref else None
    if plan is None:
        raise _invalid(
            "The referral is not complete.",
            FieldError("plan", "No health plan has this id or DHCS plan code.", "choice"),
        )
    return plan


def _destination(uuid: UUID, service_key: str, *, field: str) -> Organization:
    """A provider that takes referrals for the service (full or not: the service says when it is full)."""
    provider = (
        selectors.referral_destinations(service_key=service_key, accepting_only=False)
        .filter(uuid=uuid)
        .first()
    )
    if provider is not None:
        return provider
    problems = [
        FieldError(
            field,
            "No provider with this id takes referrals for this service; "
            "see GET /api/v1/referrals/destinations.",
            "choice",
        )
    ]
    if not catalog_selectors.service_list().filter(key=service_key).exists():
        problems.append(FieldError("service", "Choose a Community Support (GET /api/v1/catalog).", "choice"))
    raise DomainError("The provider cannot take this referral.", code=errors.ROUTING_INVALID, errors=problems)


def _aware(value: datetime) -> datetime:
    """A time without an offset is Pacific time (where the work happens)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=clock.PACIFIC)


def _filters(
    *,
    box: str,
    status: str,
    service: str,
    channel: str,
    q: str,
    received_from: date | None,
    received_to: date | None,
    duplicates: bool,
) -> selectors.ReferralFilters:
    problems = []
    wf = workflow()
    if box not in BOXES:
        problems.append(FieldError("box", "One of: received, sent, unassigned.", "choice"))
    if status and status not in ("open", "closed") and status not in wf.statuses:
        problems.append(
            FieldError("status", "A status key, open or closed (GET /api/v1/referrals/workflow).", "choice")
        )
    if channel and channel not in Channel.values:
        problems.append(FieldError("channel", f"One of: {', '.join(Channel.values)}.", "choice"))
    if received_from and received_to and received_from > received_to:
        problems.append(FieldError("received_to", "The end date is before the start date.", "range"))
    if problems:
        raise DomainError("The filters are not valid.", code=errors.REFERRAL_INVALID, errors=problems)
    return selectors.ReferralFilters(
        box=box,
        status=status,
        service=service.strip(),
        channel=channel,
        q=q.strip(),
        received_from=received_from,
        received_to=received_to,
        duplicates=duplicates,
    )


class AuditedReferralPagination(LimitOffsetPagination):
    """Limit/offset pagination that audits the referrals of the page it returns (DESIGN principle 4)."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        referrals = list(page["items"])
        page["items"] = referrals
        filters = {k: str(params[k]) for k in LIST_FILTERS if params.get(k)}
        selectors.audit_referral_list(
            user=request.user,
            referrals=referrals,
            purpose="search" if filters else "list",
            filters=filters,
        )
        return page


class AuditedWorklistPagination(LimitOffsetPagination):
    """The worklist page with rule O3 progress per row, from the prefetched attempts (no N+1), audited."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        rows = list(page["items"])
        for referral in rows:
            referral.api_outreach = _progress(referral, list(referral.outreach_attempts.all()))
        page["items"] = rows
        selectors.audit_referral_list(
            user=request.user,
            referrals=rows,
            purpose="worklist",
            filters={k: params[k] for k in ("q", "service") if params.get(k)},
        )
        return page


# --- Directory and workflow (declared before /{uuid}) ---------------------------------------------


@router.get(
    "/workflow",
    response=WorkflowOut,
    summary="The statuses (with findhelp and Gravity names) and the one transition table",
)
def get_workflow(request: HttpRequest):
    wf = workflow()
    return {
        "version": wf.version,
        "statuses": [
            {
                "key": s.key,
                "label": s.label,
                "findhelp": s.findhelp,
                "gravity": s.gravity,
                "closed": s.closed,
                "loop_closure": s.loop_closure,
                "help": s.help,
                "reasons": list(wf.reasons.get(s.key, ())),
            }
            for s in wf.statuses.values()
        ],
        "transitions": [
            {
                "from_status": t.source,
                "to_status": t.target,
                "by": sorted(t.parties),
                "reason_required": t.reason_required,
                "guard": t.guard,
            }
            for t in wf.transitions.values()
        ],
        "outreach": {
            "window_days": wf.outreach.window_days,
            "min_attempts": wf.outreach.min_attempts,
            "min_modalities": wf.outreach.min_modalities,
        },
    }


@router.get(
    "/destinations",
    response=list[DestinationOut],
    summary="Providers that take referrals for a service (in a county), accepting ones by default",
)
@paginate(LimitOffsetPagination)
def list_destinations(request: HttpRequest, service: str, county: str = "", accepting_only: bool = True):
    problems = []
    if not catalog_selectors.service_list().filter(key=service.strip()).exists():
        problems.append(FieldError("service", "Choose a Community Support (GET /api/v1/catalog).", "choice"))
    if county.strip() and not County.objects.filter(name=county.strip()).exists():
        problems.append(FieldError("county", "Not a California county.", "county"))
    if problems:
        raise DomainError("The filters are not valid.", code=errors.ROUTING_INVALID, errors=problems)
    return selectors.referral_destinations(
        service_key=service.strip(), county=county.strip(), accepting_only=accepting_only
    ).select_related("referral_intake")


@router.get(
    "/worklist",
    response=list[WorklistRowOut],
    summary="The provider's outreach worklist, soonest rule-O3 deadline first, with progress per row",
)
@paginate(AuditedWorklistPagination)
def worklist(request: HttpRequest, q: str = "", service: str = ""):
    if not permissions.can_work_referrals(request.user):
        raise PermissionDenied("The outreach worklist is for the staff of a provider.")
    return selectors.outreach_worklist(user=request.user, q=q, service=service.strip())


# --- Referrals ----------------------------------------------------------------------------------------


@router.get("", response=list[ReferralOut], summary="Referrals the caller may see, filtered (audited)")
@paginate(AuditedReferralPagination)
def list_referrals(
    request: HttpRequest,
    box: str = "",
    status: str = "",
    service: str = "",
    channel: str = "",
    q: str = "",
    received_from: date | None = None,
    received_to: date | None = None,
    duplicates: bool = False,
):
    if not permissions.can_view_referrals(request.user):
        raise PermissionDenied("Your role does not work with referrals.")
    filters = _filters(
        box=box,
        status=status,
        service=service,
        channel=channel,
        q=q,
        received_from=received_from,
        received_to=received_to,
        duplicates=duplicates,
    )
    return selectors.referral_list(user=request.user, filters=filters)


@router.post(
    "",
    response={201: ReferralDetailOut, 403: ProblemOut, 422: ProblemOut},
    summary="Make a referral: the API door (rules R1-R3); 422 names each field that is wrong",
)
def create_referral(request: HttpRequest, payload: ReferralIn):
    user = request.user
    if not permissions.can_make_referrals(user):
        raise PermissionDenied("Your role does not make referrals.")
    if payload.kind not in Referral.Kind.values:
        raise _invalid("The referral is not complete.", FieldError("kind", 'One of: "cs", "ecm".', "choice"))
    plan = _plan(payload.plan)
    service_key = payload.service.strip()
    provider = None
    if payload.receiving_provider is not None and payload.kind == Referral.Kind.COMMUNITY_SUPPORT:
        provider = _destination(payload.receiving_provider, service_key, field="receiving_provider")
    referral = services.referral_create(
        actor=user,
        channel=Channel.API,
        plan=plan,
        member_details=services.MemberDetails(
            first_name=payload.member_first_name,
            last_name=payload.member_last_name,
            date_of_birth=payload.member_date_of_birth,
            cin=payload.member_cin,
            phone=payload.member_phone,
            email=payload.member_email,
            address=payload.member_address,
            county=payload.member_county.strip(),
            language=payload.member_language.strip(),
            contact_preference=payload.member_contact_preference,
        ),
        referrer=services.ReferrerDetails(
            kind=payload.referrer_kind,
            name=payload.referrer_name,
            phone=payload.referrer_phone,
            email=payload.referrer_email,
            relationship=payload.referrer_relationship,
        ),
        service_key=service_key,
        receiving_provider=provider,
        kind=payload.kind,
        eligibility_information=payload.eligibility_information,
        reason=payload.reason,
        consent_to_contact=payload.consent_to_contact,
    )
    return Status(201, _reloaded(user, referral.uuid))


@router.get(
    "/{uuid}",
    response={200: ReferralDetailOut, 404: ProblemOut},
    summary="One referral with the caller's next steps, its history and outreach progress (audited)",
)
def get_referral(request: HttpRequest, uuid: UUID):
    return _detail(request.user, selectors.referral_get_for_user(user=request.user, uuid=uuid))


@router.post(
    "/{uuid}/status",
    response={200: ReferralDetailOut, **REFUSALS},
    summary="Move the referral along the transition table (rule R5); 409 on a stale version",
)
def change_status(request: HttpRequest, uuid: UUID, payload: TransitionIn):
    return _change(
        request,
        uuid,
        lambda referral: services.referral_transition(
            actor=request.user,
            referral=referral,
            to_status=payload.to_status.strip(),
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


@router.post(
    "/{uuid}/assign",
    response={200: ReferralDetailOut, **REFUSALS},
    summary="The plan assigns (or re-routes) a pending referral to a provider",
)
def assign(request: HttpRequest, uuid: UUID, payload: AssignIn):
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    if "plan" not in permissions.parties_of(user, referral):
        raise PermissionDenied("Only the member's plan assigns referrals.")
    if referral.service_id is None:
        refusal = DomainError(
            "Only a pending Community Supports referral can be assigned; the plan processes ECM referrals.",
            code=errors.ROUTING_INVALID,
            errors=[FieldError("provider", "An ECM referral is not assigned to a CS provider.", "kind")],
            status=409,
        )
        return _refused(request, refusal, uuid)
    provider = _destination(payload.provider, referral.service.key, field="provider")
    return _change(
        request,
        uuid,
        lambda current: services.referral_assign(
            actor=user, referral=current, provider=provider, expected_version=payload.version
        ),
    )


@router.post(
    "/{uuid}/match-member",
    response={200: ReferralDetailOut, **REFUSALS},
    summary="Match the referral to the plan's member with this CIN and date of birth",
)
def match_member(request: HttpRequest, uuid: UUID, payload: MatchMemberIn):
    return _change(
        request,
        uuid,
        lambda referral: services.referral_match_member(
            actor=request.user, referral=referral, cin=payload.cin, date_of_birth=payload.date_of_birth
        ),
    )


@router.post(
    "/{uuid}/onward",
    response={201: ReferralDetailOut, **REFUSALS},
    summary='Refer the member on to another CS provider (rule R7) or, with service_key "ecm", to ECM (R8)',
)
def refer_onward(request: HttpRequest, uuid: UUID, payload: OnwardIn):
    user = request.user
    referral = selectors.referral_get_for_update(user=user, uuid=uuid)
    if "provider" not in permissions.parties_of(user, referral):
        raise PermissionDenied("Only the provider working this referral refers the member on.")
    service_key = payload.service_key.strip()
    provider = None
    if payload.provider is not None and service_key != "ecm":
        provider = _destination(payload.provider, service_key, field="provider")
    onward = services.referral_refer_onward(
        actor=user,
        referral=referral,
        service_key=service_key,
        receiving_provider=provider,
        reason=payload.reason,
    )
    return Status(201, _reloaded(user, onward.uuid))


# --- Outreach (rules O1-O4) ---------------------------------------------------------------------------


@router.get(
    "/{uuid}/outreach-attempts",
    response={200: list[OutreachAttemptOut], 404: ProblemOut},
    summary="Outreach attempts (the provider and the plan see them; a referrer gets an empty list)",
)
def list_outreach_attempts(request: HttpRequest, uuid: UUID):
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid, purpose="outreach")
    return list(selectors.outreach_attempts_for(user=request.user, referral=referral))


@router.post(
    "/{uuid}/outreach-attempts",
    response={201: OutreachAttemptOut, **REFUSALS},
    summary="Record an outreach attempt (rules O1, O2); the first one accepts a pending referral",
)
def record_outreach_attempt(request: HttpRequest, uuid: UUID, payload: OutreachAttemptIn):
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    attempt = services.outreach_attempt_record(
        actor=request.user,
        referral=referral,
        attempted_at=_aware(payload.attempted_at),
        modality=payload.modality,
        outcome=payload.outcome,
        notes=payload.notes,
        telehealth_consent=payload.telehealth_consent,
    )
    return Status(201, attempt)


@router.post(
    "/{uuid}/outreach-end",
    response={200: ReferralDetailOut, **REFUSALS},
    summary="End outreach (rule O4): unreachable once rule O3 is met, declined, disengaged, exclusion",
)
def end_outreach(request: HttpRequest, uuid: UUID, payload: OutreachEndIn):
    return _change(
        request,
        uuid,
        lambda referral: services.outreach_end(
            actor=request.user,
            referral=referral,
            outcome=payload.outcome,
            reason=payload.reason,
            expected_version=payload.version,
        ),
    )


# --- First contact (rule A1) and enrollment (rule M2) -------------------------------------------------


@router.get(
    "/{uuid}/first-contact-checks",
    response={200: list[FirstContactCheckOut], 404: ProblemOut},
    summary="Eligibility checks at first contact, newest first (rule A1)",
)
def list_first_contact_checks(request: HttpRequest, uuid: UUID):
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid, purpose="first_contact")
    return list(selectors.first_contact_checks_for(user=request.user, referral=referral))


@router.post(
    "/{uuid}/first-contact-checks",
    response={201: FirstContactCheckOut, **REFUSALS},
    summary="Record the eligibility check at first contact: a result for each checklist item (rule A1)",
)
def record_first_contact_check(request: HttpRequest, uuid: UUID, payload: FirstContactCheckIn):
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    check = services.first_contact_check_record(
        actor=request.user,
        referral=referral,
        contact_on=payload.contact_on,
        results=[r.strip() for r in payload.results],
        item_notes=payload.item_notes,
        notes=payload.notes,
    )
    return Status(201, check)


@router.get(
    "/{uuid}/enrollments",
    response={200: list[EnrollmentOut], 404: ProblemOut},
    summary="Enrollments made from this referral (rule M2)",
)
def list_enrollments(request: HttpRequest, uuid: UUID):
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid, purpose="enrollment")
    return list(selectors.enrollments_for(user=request.user, referral=referral))


@router.post(
    "/{uuid}/enrollments",
    response={201: EnrollmentOut, **REFUSALS},
    summary="Enroll the member (the referral must be Eligible and a consent in force, rule R4)",
)
def enroll(request: HttpRequest, uuid: UUID, payload: EnrollmentIn):
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    try:
        enrollment = services.enrollment_create(
            actor=request.user,
            referral=referral,
            enrolled_on=payload.enrolled_on,
            expected_version=payload.version,
        )
    except DomainError as exc:
        return _refused(request, exc, uuid)
    return Status(201, enrollment)


# --- Documents (rule R2) -------------------------------------------------------------------------------


def _documents(user: Any, referral: Referral) -> list[Any]:
    documents = list(selectors.documents_for(user=user, referral=referral))
    for document in documents:
        document.referral = referral  # one referral for all: no query per row for the download link
    return documents


@router.get(
    "/{uuid}/documents",
    response={200: list[DocumentOut], 404: ProblemOut},
    summary="Documents kept with the referral (a referrer sees the letters addressed to it)",
)
def list_documents(request: HttpRequest, uuid: UUID):
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid, purpose="documents")
    return _documents(request.user, referral)


@router.post(
    "/{uuid}/documents",
    response={201: DocumentOut, **REFUSALS},
    summary="Add a document (PDF or image; the receiving provider and the plan)",
)
def add_document(
    request: HttpRequest,
    uuid: UUID,
    file: UploadedFile | None = File(None),  # noqa: B008
    description: str = Form(""),
):
    referral = selectors.referral_get_for_update(user=request.user, uuid=uuid)
    if file is None:
        raise _invalid(
            "The document is missing.", FieldError("file", "Attach the document as `file`.", "required")
        )
    document = services.referral_document_add(
        actor=request.user, referral=referral, upload=file, description=description
    )
    document.referral = referral
    return Status(201, document)


@router.get(
    "/{uuid}/documents/{doc_uuid}/download",
    response={200: None, 404: ProblemOut},
    summary="Download one document (audited)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_document(request: HttpRequest, uuid: UUID, doc_uuid: UUID):
    document = selectors.document_get_for_user(user=request.user, referral_uuid=uuid, uuid=doc_uuid)
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
