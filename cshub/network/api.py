"""The network path over REST (rules N1-N5): the public interest form, the plan's queue and invitation,
applications (answers, documents, submit), review (findings, decisions), gap closure and participation
requests. Parse, call a selector or service, shape. Out of scope is 404; refusals are problem bodies
rendered by the API root.
"""

# No `from __future__ import annotations` here: ninja must resolve the UUID path parameters.
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from ninja import File, Form, Router, Status, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError
from cshub.core.pagination import MappedRows, csv_response
from cshub.network import permissions, selectors, services
from cshub.network.exports import APPLICATION_CSV, INTEREST_CSV, application_row, interest_row
from cshub.network.models import Application, InterestForm
from cshub.network.schemas import (
    AnswersIn,
    ApplicationDetailOut,
    ApplicationOut,
    DecisionIn,
    DecisionOut,
    EventOut,
    FindingIn,
    GapItemOut,
    GapReviewIn,
    InterestIn,
    InterestOut,
    InterestReceiptOut,
    InviteIn,
    ParticipationIn,
    VersionIn,
)
from cshub.network.views import interest_count_submission, interest_rate_limited

router = Router(tags=["network"])


def _staff(request: HttpRequest) -> None:
    if not permissions.is_network_staff(request.user):
        raise PermissionDenied("Only the plan's network staff can do this.")


def _interest_out(f: InterestForm) -> dict[str, Any]:
    return {
        "id": f.uuid,
        "number": f.number,
        "status": f.status,
        "organization_name": f.organization_name,
        "npi": f.npi,
        "contact_name": f.contact_name,
        "contact_email": f.contact_email,
        "submitted_at": f.submitted_at,
        "counties": [c.name for c in f.counties.all()],
        "services": [s.key for s in f.services.all()],
        "version": f.version,
    }


def _app_out(a: Application) -> dict[str, Any]:
    return {
        "id": a.uuid,
        "number": a.number,
        "kind": a.kind,
        "program": a.program,
        "status": a.status,
        "organization": a.organization.uuid,
        "organization_name": a.organization.name,
        "plan": a.plan.uuid,
        "services": [s.key for s in a.services.all()],
        "counties": [c.name for c in a.counties.all()],
        "submitted_at": a.submitted_at,
        "review_round": a.review_round,
        "version": a.version,
    }


def _gap_out(g: Any) -> dict[str, Any]:
    return {
        "id": g.uuid,
        "text": g.text,
        "owner": g.owner,
        "due_date": g.due_date,
        "status": g.status,
        "response": g.response,
        "plan_note": g.plan_note,
        "version": g.version,
    }


def _detail(request: HttpRequest, a: Application) -> dict[str, Any]:
    atts: dict[str, list[dict[str, Any]]] = {}
    for att in a.attachments.all():
        atts.setdefault(att.section, []).append(
            {
                "id": str(att.uuid),
                "name": att.original_name,
                "size": att.size,
                "content_type": att.content_type,
            }
        )
    return {
        **_app_out(a),
        "request_note": a.request_note,
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "questions": [
                    {
                        "key": q.key,
                        "label": q.label,
                        "type": q.type,
                        "required": q.required,
                        "choices": list(q.choices),
                    }
                    for q in s.questions
                ],
                "answers": a.answers.get(s.id, {}),
                "attachments": atts.get(s.id, []),
            }
            for s in services.application_sections(a)
        ],
        "missing": services.application_missing(a) if a.status == Application.Status.DRAFT else [],
        "decisions": [
            {
                "outcome": d.outcome,
                "reasons": d.reasons,
                "review_round": d.review_round,
                "decided_at": d.decided_at.isoformat(),
            }
            for d in a.decisions.all()
        ],
        "gap_items": [
            {**_gap_out(g), "id": str(g.uuid), "due_date": g.due_date.isoformat()} for g in a.gap_items.all()
        ],
    }


# --- rule N1 -----------------------------------------------------------------------------------------


@router.post(
    "/interest-forms",
    auth=None,
    response={201: InterestReceiptOut},
    summary="Send a Provider Interest Form (public, rate limited)",
)
def interest_submit(request: HttpRequest, payload: InterestIn):
    wait = interest_rate_limited(request)
    if wait:
        raise DomainError(
            "Too many forms from this address; try again later.", code="rate_limited", status=429
        )
    plan = Organization.objects.filter(uuid=payload.plan, kind=OrganizationKind.PLAN).first()
    data = payload.dict()
    form = services.interest_form_submit(
        plan=plan, data=data, counties=data.pop("counties"), service_keys=data.pop("services")
    )
    interest_count_submission(request)
    return Status(201, {"number": form.number})


@router.get("/interest-forms", response=list[InterestOut], summary="The plan's interest form queue")
@paginate(LimitOffsetPagination)
def interest_list(request: HttpRequest, status: str = "", county: str = "", service: str = "", q: str = ""):
    _staff(request)
    filters = {k: v for k, v in {"status": status, "county": county, "service": service, "q": q}.items() if v}
    return MappedRows(selectors.interest_form_list(user=request.user, filters=filters), _interest_out)


@router.get("/interest-forms.csv", summary="The interest form queue as CSV")
def interest_csv(request: HttpRequest, status: str = "", q: str = "") -> StreamingHttpResponse:
    _staff(request)
    qs = selectors.interest_form_list(
        user=request.user, filters={k: v for k, v in {"status": status, "q": q}.items() if v}
    )
    audit_record(actor=request.user, action="export", object_type="interest_form")
    return csv_response("interest-forms.csv", INTEREST_CSV, qs.iterator(chunk_size=500), interest_row)


@router.get("/interest-forms/{form_id}", response=InterestOut)
def interest_get(request: HttpRequest, form_id: UUID):
    return _interest_out(selectors.interest_form_get_for_user(user=request.user, uuid=form_id))


@router.post("/interest-forms/{form_id}/invite", response={201: ApplicationOut}, summary="Invite (rule N2)")
def interest_invite(request: HttpRequest, form_id: UUID, payload: InviteIn):
    form = selectors.interest_form_get_for_user(user=request.user, uuid=form_id)
    org = None
    if payload.organization:
        org = Organization.objects.filter(uuid=payload.organization).first()
        if org is None:
            raise Http404("No such organization.")
    app = services.interest_form_invite(
        actor=request.user,
        interest_form=form,
        organization=org,
        email=payload.email,
        full_name=payload.full_name,
        expected_version=payload.version,
        request=request,
    )
    return Status(201, _app_out(app))


# --- applications (rules N2-N5) ------------------------------------------------------------------------


@router.get("/applications", response=list[ApplicationOut], summary="Review queue / own applications")
@paginate(LimitOffsetPagination)
def application_list(request: HttpRequest, status: str = "", kind: str = "", program: str = "", q: str = ""):
    if not permissions.can_use_network(request.user):
        raise PermissionDenied("Your role does not work with certification.")
    filters = {k: v for k, v in {"status": status, "kind": kind, "program": program, "q": q}.items() if v}
    return MappedRows(
        selectors.application_list(user=request.user, filters=filters).prefetch_related("counties"), _app_out
    )


@router.get("/applications.csv", summary="Applications as CSV")
def application_csv(request: HttpRequest, status: str = "", kind: str = "") -> StreamingHttpResponse:
    if not permissions.can_use_network(request.user):
        raise PermissionDenied("Your role does not work with certification.")
    filters = {k: v for k, v in {"status": status, "kind": kind}.items() if v}
    qs = selectors.application_list(user=request.user, filters=filters)
    audit_record(actor=request.user, action="export", object_type="network_application")
    return csv_response("applications.csv", APPLICATION_CSV, qs.iterator(chunk_size=500), application_row)


@router.post("/applications/participation-requests", response={201: ApplicationOut}, summary="Rule N5")
def participation_request(request: HttpRequest, payload: ParticipationIn):
    plan = Organization.objects.filter(uuid=payload.plan, kind=OrganizationKind.PLAN).first()
    app = services.participation_request_submit(
        actor=request.user,
        plan=plan,
        program=payload.program,
        service_keys=payload.services,
        counties=payload.counties,
        note=payload.note,
    )
    return Status(201, _app_out(app))


@router.get("/applications/{app_id}", response=ApplicationDetailOut)
def application_get(request: HttpRequest, app_id: UUID):
    return _detail(request, selectors.application_get_for_user(user=request.user, uuid=app_id))


@router.get("/applications/{app_id}/history", response=list[EventOut])
def application_history(request: HttpRequest, app_id: UUID):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    events = selectors.organization_history(user=request.user, organization=a.organization).filter(
        application=a
    )
    return [
        {
            "at": e.at,
            "kind": e.kind,
            "summary": e.summary,
            "actor": e.actor_label,
            "from_status": e.from_status,
            "to_status": e.to_status,
        }
        for e in events
    ]


@router.patch(
    "/applications/{app_id}/answers", response=ApplicationDetailOut, summary="Save draft answers (rule N3)"
)
def application_answers(request: HttpRequest, app_id: UUID, payload: AnswersIn):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    a = services.application_save_draft(
        actor=request.user, application=a, answers=payload.answers, expected_version=payload.version
    )
    return _detail(request, a)


@router.post(
    "/applications/{app_id}/attachments", response={201: dict}, summary="Attach a document to a section"
)
def application_attach(
    request: HttpRequest,
    app_id: UUID,
    section: Form[str],
    file: File[UploadedFile],
    description: Form[str] = "",
):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    att = services.application_attach(
        actor=request.user, application=a, section=section, upload=file, description=description
    )
    return Status(
        201,
        {
            "id": str(att.uuid),
            "name": att.original_name,
            "size": att.size,
            "content_type": att.content_type,
        },
    )


@router.get("/applications/{app_id}/attachments/{attachment_id}", summary="Download a document (audited)")
def application_attachment(request: HttpRequest, app_id: UUID, attachment_id: UUID) -> FileResponse:
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    att = a.attachments.filter(uuid=attachment_id).first()
    if att is None:
        raise Http404("No such document.")
    audit_record(actor=request.user, action="read", object_type="network_attachment", object_id=att.uuid)
    return FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type
    )


@router.post(
    "/applications/{app_id}/submit", response=ApplicationDetailOut, summary="Submit (completeness checked)"
)
def application_submit(request: HttpRequest, app_id: UUID, payload: VersionIn):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    a = services.application_submit(actor=request.user, application=a, expected_version=payload.version)
    return _detail(request, a)


@router.post("/applications/{app_id}/findings", response={201: dict}, summary="Record a finding (rule N4)")
def application_finding(request: HttpRequest, app_id: UUID, payload: FindingIn):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    f = services.finding_record(
        actor=request.user, application=a, section=payload.section, rating=payload.rating, note=payload.note
    )
    return Status(
        201, {"id": str(f.uuid), "section": f.section, "rating": f.rating, "review_round": f.review_round}
    )


@router.post(
    "/applications/{app_id}/decision", response={201: DecisionOut}, summary="End the review (rule N4)"
)
def application_decide(request: HttpRequest, app_id: UUID, payload: DecisionIn):
    a = selectors.application_get_for_user(user=request.user, uuid=app_id)
    d = services.application_decide(
        actor=request.user,
        application=a,
        outcome=payload.outcome,
        reasons=payload.reasons,
        gap_items=[i.dict() for i in payload.items],
        expected_version=payload.version,
    )
    return Status(
        201,
        {
            "id": d.uuid,
            "outcome": d.outcome,
            "reasons": d.reasons,
            "review_round": d.review_round,
            "decided_at": d.decided_at,
        },
    )


@router.post("/gap-items/{item_id}/response", response=GapItemOut, summary="Answer a gap item (rule N4)")
def gap_respond(
    request: HttpRequest,
    item_id: UUID,
    response: Form[str],
    version: Form[int | None] = None,
    files: File[list[UploadedFile]] = None,
):
    item = selectors.gap_item_get_for_user(user=request.user, uuid=item_id)
    item = services.gap_item_respond(
        actor=request.user, item=item, response=response, uploads=files or [], expected_version=version
    )
    return _gap_out(item)


@router.post(
    "/gap-items/{item_id}/review", response=GapItemOut, summary="Accept or return a gap item (rule N4)"
)
def gap_review(request: HttpRequest, item_id: UUID, payload: GapReviewIn):
    item = selectors.gap_item_get_for_user(user=request.user, uuid=item_id)
    item = services.gap_item_review(
        actor=request.user,
        item=item,
        accept=payload.accept,
        note=payload.note,
        expected_version=payload.version,
    )
    return _gap_out(item)
