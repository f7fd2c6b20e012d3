"""Authorization requests: submit (rules A2-A6, G2), review (A7, A8, A10), decide (A9) and record services
that need no authorization (G2). Each step checks everything first and writes in one transaction, so a
refused step changes nothing; each recorded step is an event in the request's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.authorizations import clocks, errors, letters, limits, notices, permissions
from cshub.authorizations.models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Authorization,
    AuthorizationRequest,
    Channel,
    DenialReason,
    Determination,
    InformationRequest,
    RequestDocument,
    RequestEvent,
    RequestKind,
    RequestStatus,
    ServiceRecord,
    Urgency,
)
from cshub.catalog.models import Service, ServiceCode
from cshub.core import clock, icd10
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.locking import save_versioned
from cshub.core.uploads import FAX_TYPES, check_upload
from cshub.core.validators import npi_is_valid
from cshub.members.models import EligibilitySpan, Member
from cshub.members.selectors import member_queryset_for
from cshub.referrals.models import Enrollment

MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")
MAX_DIAGNOSES = 12  # the 837P's HI segment carries twelve diagnosis codes


@dataclass
class DocumentUpload:
    """A file answering one item of the service's required-documents checklist ('' = other attachment)."""

    file: UploadedFile
    checklist_item: str = ""


@dataclass
class RequestInput:
    """What a request carries (rule A3). Organizations default from the submitter's own organization."""

    member: Member
    service_key: str
    hcpcs: str
    modifier: str
    requesting_npi: str
    servicing_npi: str
    diagnosis_codes: list[str]
    units: int | None
    start_date: date | None
    end_date: date | None
    kind: str = RequestKind.INITIAL
    extra_modifiers: list[str] = field(default_factory=list)
    servicing_organization: Organization | None = None
    requesting_organization: Organization | None = None  # fax entry: who sent it
    urgency: str = ""  # "" = the catalog's default for the service (rule A8)
    urgency_reason: str = ""
    notes: str = ""
    previous_authorization: Authorization | None = None
    member_agreement_attested: bool = False  # rule A5
    checklist_confirmed: list[str] = field(default_factory=list)
    received_at: datetime | None = None  # fax: when it arrived; otherwise now


def _fail(message: str, code: str, *field_errors: FieldError, status: int = 422) -> DomainError:
    return DomainError(message, code=code, errors=list(field_errors), status=status)


def _event(
    request: AuthorizationRequest,
    kind: str,
    *,
    actor: Any,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    detail: dict | None = None,
) -> RequestEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return RequestEvent.objects.create(
        request=request,
        at=at,
        kind=kind,
        actor=user,
        actor_name=str(user)[:200] if user else "",
        organization_id=getattr(user, "organization_id", None),
        from_status=from_status,
        to_status=to_status,
        text=text,
        detail=detail or {},
    )


def _audit(actor: Any, action: str, request: AuthorizationRequest, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="authorization_request",
        object_id=request.uuid,
        member_ids=[request.member.uuid],
        detail={"number": request.number, **detail},
    )


# --- Catalog checks (rules G1, A3, A6) ---------------------------------------------------------------


def required_documents(service: Service, kind: str) -> list[str]:
    """The service's required-documents checklist for this kind of request (rule A6)."""
    items = service.documents_initial if kind == RequestKind.INITIAL else service.documents_reauthorization
    return [str(item.get("text", "")) for item in items if item.get("text")]


def authorization_length(service: Service, kind: str) -> tuple[int | None, str]:
    """(length, unit) of an initial authorization or of a reauthorization/extension (rule G1)."""
    if kind == RequestKind.INITIAL:
        return service.initial_auth_length, service.initial_auth_unit
    return service.reauth_length, service.reauth_unit


def latest_end_date(service: Service, kind: str, start: date) -> date | None:
    """The last day an authorization starting on `start` may cover, or None when the catalog sets no span."""
    length, unit = authorization_length(service, kind)
    if not length:
        return None
    if unit == Service.LengthUnit.DAYS:
        return clock.add_calendar_days(start, length - 1)
    if unit == Service.LengthUnit.WEEKS:
        return clock.add_calendar_days(start, 7 * length - 1)
    if unit == Service.LengthUnit.MONTHS:
        return clock.add_calendar_days(clock.add_months(start, length), -1)
    return None


def _span_problems(
    service: Service, kind: str, *, units: int, start: date, end: date, prefix: str = ""
) -> list[FieldError]:
    """Units and dates within the catalog's authorization length (rule G1)."""
    problems = []
    length, unit = authorization_length(service, kind)
    label = "initial authorization" if kind == RequestKind.INITIAL else "reauthorization"
    latest = latest_end_date(service, kind, start)
    if latest is not None and end > latest:
        problems.append(
            FieldError(
                f"{prefix}end_date",
                f"{service.name} is authorized for at most {length} {unit} per {label}: "
                f"from {start:%m/%d/%Y} the last day is {latest:%m/%d/%Y}.",
                "catalog_length",
            )
        )
    if unit == Service.LengthUnit.UNITS and length and units > length:
        problems.append(
            FieldError(
                f"{prefix}units",
                f"{service.name} is authorized for at most {length} units per {label}.",
                "catalog_length",
            )
        )
    if unit == Service.LengthUnit.ONE_TIME and units > 1:
        problems.append(
            FieldError(
                f"{prefix}units", f"{service.name} is a one-time service: request 1 unit.", "catalog_length"
            )
        )
    return problems


def _limit_problems(
    *,
    member: Member,
    service: Service,
    code: ServiceCode,
    units: int,
    start: date,
    end: date,
    reference: str,
    exclude_request_id: int | None = None,
    continues: Authorization | None = None,
) -> list[limits.LimitProblem]:
    specs = limits.limit_specs_for(service)
    if not specs:
        return []
    keys = {service.key} | {k for spec in specs for k in spec.service_keys}
    history = limits.member_history(member, service_keys=keys, exclude_request_id=exclude_request_id)
    proposed = limits.Use(
        service_key=service.key,
        start=start,
        end=end,
        units=units,
        billing_unit=code.billing_unit,
        reference=reference,
        # a reauthorization or extension continues the same episode (not a second "time")
        continues=continues.number if continues is not None else "",
    )
    return limits.limit_problems(proposed=proposed, history=history, limits=specs)


def _raise_limit_problems(problems: list[limits.LimitProblem], *, field: str = "units") -> None:
    if problems:
        raise _fail(
            "The request breaks a benefit limit: " + " ".join(p.message for p in problems),
            errors.LIMIT_EXCEEDED,
            *(FieldError(field, p.message, "limit") for p in problems),
        )


def _diagnosis_problems(raw_codes: list[str]) -> tuple[list[str], list[FieldError]]:
    codes: list[str] = []
    problems: list[FieldError] = []
    raw_codes = [c for c in (raw_codes or []) if (c or "").strip()]
    if not raw_codes:
        problems.append(FieldError("diagnosis_codes", "Enter the primary diagnosis (ICD-10-CM).", "required"))
    if len(raw_codes) > MAX_DIAGNOSES:
        problems.append(
            FieldError("diagnosis_codes", f"At most {MAX_DIAGNOSES} diagnosis codes.", "too_many")
        )
    for i, raw in enumerate(raw_codes[:MAX_DIAGNOSES]):
        try:
            code, _description = icd10.diagnosis_code_check(
                raw, field=f"diagnosis_codes[{i}]", error_code=errors.DIAGNOSIS_INVALID
            )
        except DomainError as exc:
            problems.extend(exc.errors)
            continue
        if code not in codes:
            codes.append(code)
    return codes, problems


def _npi_problem(value: str, field_name: str, org: Organization | None, label: str) -> FieldError | None:
    if not value:
        return FieldError(field_name, f"Enter the {label} NPI.", "required")
    if not npi_is_valid(value):
        return FieldError(
            field_name, f"{value} is not a valid NPI (10 digits with a Luhn check digit).", "npi"
        )
    if org is not None and org.npi and org.npi != value:
        return FieldError(field_name, f"{org.name}'s NPI is {org.npi}, not {value}.", "npi_mismatch")
    return None


def eligibility_span_on(member: Member, day: date) -> EligibilitySpan | None:
    """The member's plan enrollment covering `day` (rule A10 validates eligibility)."""
    return (
        EligibilitySpan.objects.filter(member=member, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("plan")
        .order_by("-start_date")
        .first()
    )


def open_enrollment(member: Member, service: Service, organization: Organization) -> Enrollment | None:
    """Rule A2: the enrollment that shows the member was reached, screened and agreed."""
    return (
        Enrollment.objects.filter(
            member=member, service=service, organization=organization, ended_on__isnull=True
        )
        .order_by("-enrolled_on", "-id")
        .first()
    )


# --- Submit (rules A2-A6, G2, A8) ---------------------------------------------------------------------


def _check_submitter(actor: Any, channel: str) -> None:
    if channel == Channel.FAX:
        if not permissions.can_enter_fax(actor):
            raise PermissionDeniedError(
                "Only the plan's UM staff enter faxed authorization requests (rule A4)."
            )
    elif not permissions.can_submit_requests(actor):
        raise PermissionDeniedError(
            "Your role cannot request authorizations: CS provider staff and hospital discharge planners can."
        )


@transaction.atomic
def request_submit(
    *,
    actor: Any,
    channel: str,
    data: RequestInput,
    documents: list[DocumentUpload] | None = None,
    fax_file: UploadedFile | None = None,
) -> AuthorizationRequest:
    """A new request from the portal, the API or a fax (rule A4). Refused with every problem named, and
    nothing saved, when a field is invalid, the member is not eligible or not enrolled (A2), a required
    document is missing (A6), or a catalog limit would be broken. A presumptive service is authorized at
    once (G2); a service that needs no authorization is refused with the way to record it instead."""
    if channel not in Channel.values:
        raise _fail(
            "Unknown channel.", errors.REQUEST_INVALID, FieldError("channel", f"{channel!r}", "choice")
        )
    _check_submitter(actor, channel)
    documents = documents or []
    now = clock.now()
    problems: list[FieldError] = []

    # Who asks and who serves.
    if channel == Channel.FAX:
        requesting = data.requesting_organization
        if requesting is None:
            problems.append(FieldError("requesting_organization", "Choose who sent the fax.", "required"))
        servicing = data.servicing_organization or requesting
        received_at = data.received_at or now
        if received_at > now:
            problems.append(FieldError("received_at", "The fax cannot arrive in the future.", "future"))
    else:
        requesting = actor.organization
        hospital = permissions.is_hospital_requester(actor)
        servicing = data.servicing_organization if hospital else (data.servicing_organization or requesting)
        if not hospital and servicing is not None and servicing.pk != requesting.pk:
            problems.append(
                FieldError(
                    "servicing_organization", "A provider requests services it provides itself.", "servicing"
                )
            )
        if hospital and servicing is None:
            problems.append(
                FieldError("servicing_organization", "Choose the recuperative care provider.", "required")
            )
        received_at = now
    if servicing is not None and servicing.kind != OrganizationKind.CS_PROVIDER:
        problems.append(
            FieldError(
                "servicing_organization", f"{servicing.name} is not a Community Supports provider.", "kind"
            )
        )

    # Member in the submitter's scope (a fax is entered by plan staff for the plan's members).
    member = data.member
    if member is None or not member_queryset_for(actor).filter(pk=member.pk).exists():
        raise _fail(
            "No such member.", errors.REQUEST_INVALID, FieldError("member", "No such member.", "not_found")
        )

    # Service and code (rules G1, C1).
    service = Service.objects.filter(key=data.service_key, active=True).first()
    code = None
    if service is None:
        problems.append(
            FieldError("service", f"{data.service_key!r} is not an active Community Support.", "service")
        )
    else:
        hcpcs, modifier = (data.hcpcs or "").strip().upper(), (data.modifier or "").strip().upper()
        code = ServiceCode.objects.filter(
            service=service, hcpcs=hcpcs, modifier=modifier, active=True
        ).first()
        if code is None:
            valid = ", ".join(c.code for c in service.codes.filter(active=True).order_by("hcpcs", "modifier"))
            problems.append(
                FieldError(
                    "hcpcs",
                    f"{hcpcs}-{modifier} is not a code of {service.name}; use one of {valid}.",
                    "code",
                )
            )
        hospital_asks = channel != Channel.FAX and permissions.is_hospital_requester(actor)
        if hospital_asks and service.key not in permissions.HOSPITAL_SERVICES:
            problems.append(
                FieldError("service", "Hospitals request recuperative care only (rule A5).", "hospital")
            )
    extra = [m.strip().upper() for m in data.extra_modifiers if m and m.strip()]
    for m in extra:
        if not MODIFIER_RE.match(m):
            problems.append(
                FieldError("extra_modifiers", f"{m!r} is not a modifier (two letters or digits).", "modifier")
            )
    if len(extra) > 3:
        problems.append(FieldError("extra_modifiers", "At most three further modifiers.", "modifier"))

    for value, name, org, label in (
        (data.requesting_npi, "requesting_npi", requesting, "requesting"),
        (data.servicing_npi, "servicing_npi", servicing, "servicing"),
    ):
        if problem := _npi_problem((value or "").strip(), name, org, label):
            problems.append(problem)
    diagnoses, diagnosis_problems = _diagnosis_problems(data.diagnosis_codes)
    problems.extend(diagnosis_problems)

    if data.kind not in RequestKind.values:
        problems.append(FieldError("kind", "Choose initial, reauthorization or extension.", "choice"))
    if not data.units or data.units < 1:
        problems.append(FieldError("units", "Enter the units requested (at least 1).", "required"))
    if data.start_date is None:
        problems.append(FieldError("start_date", "Enter the first date of service.", "required"))
    if data.end_date is None:
        problems.append(FieldError("end_date", "Enter the last date of service.", "required"))
    if data.start_date and data.end_date and data.end_date < data.start_date:
        problems.append(FieldError("end_date", "The last date cannot be before the first.", "order"))
    if data.urgency and data.urgency not in Urgency.values:
        problems.append(FieldError("urgency", "Choose routine or expedited.", "choice"))
    previous = data.previous_authorization
    if data.kind in (RequestKind.REAUTHORIZATION, RequestKind.EXTENSION):
        if previous is None:
            problems.append(
                FieldError(
                    "previous_authorization", "Name the authorization this request continues.", "required"
                )
            )
        elif previous.member_id != member.pk or (service and previous.service_id != service.pk):
            problems.append(
                FieldError(
                    "previous_authorization",
                    f"{previous.number} is not an authorization of this member for this service.",
                    "mismatch",
                )
            )
        elif previous.voided_at is not None:
            problems.append(FieldError("previous_authorization", f"{previous.number} was voided.", "voided"))
    if problems:
        raise _fail("The request is not complete.", errors.REQUEST_INVALID, *problems)

    # Rule G2: no request for a service that needs none.
    if service.authorization == Service.Authorization.NOT_REQUIRED:
        raise _fail(
            f"{service.name} needs no authorization (rule G2): record the service instead.",
            errors.NO_AUTHORIZATION_NEEDED,
            FieldError("service", "No authorization is needed: record the service.", "not_required"),
        )
    # Rule A10: eligible with the plan on the first date of service (and a fax is for the reviewer's plan).
    span = eligibility_span_on(member, data.start_date)
    if span is None or (channel == Channel.FAX and span.plan_id != actor.organization_id):
        raise _fail(
            f"The member is not eligible with the plan on {data.start_date:%m/%d/%Y}.",
            errors.NOT_ELIGIBLE,
            FieldError("start_date", "The member has no plan eligibility on this date.", "not_eligible"),
        )
    # Rule A2: reached, screened and agreed; a hospital's recuperative-care request (A5) carries the
    # discharge plan and the planner's attestation instead.
    enrollment = open_enrollment(member, service, servicing)
    hospital_request = channel != Channel.FAX and permissions.is_hospital_requester(actor)
    if hospital_request:
        if not data.member_agreement_attested:
            raise _fail(
                "Confirm that the member agreed to recuperative care (rule A2).",
                errors.NOT_ENROLLED,
                FieldError("member_agreement_attested", "The member's agreement is required.", "required"),
            )
    elif enrollment is None:
        raise _fail(
            f"Rule A2: {member.first_name} {member.last_name} is not enrolled in {service.name} with "
            f"{servicing.name}. Reach and screen the member, record their agreement and enroll them "
            "(on the referral page: Enroll), then request the authorization.",
            errors.NOT_ENROLLED,
            FieldError(
                "member", "No enrollment in this service with the servicing provider.", "not_enrolled"
            ),
        )

    # Rule A6: the required documents. A fax is its own supporting document (any form with member info,
    # the primary diagnosis and supporting documents, rule A4).
    checked_docs: list[tuple[DocumentUpload, Any]] = []
    for i, doc in enumerate(documents):
        checked = check_upload(doc.file, field=f"documents[{i}]")
        checked_docs.append((doc, checked))
    checked_fax = None
    if channel == Channel.FAX:
        checked_fax = check_upload(fax_file, field="fax_file", allowed=FAX_TYPES)
    else:
        checklist = required_documents(service, data.kind)
        attached = {doc.checklist_item for doc in documents if doc.checklist_item}
        confirmed = set(data.checklist_confirmed)
        missing = [item for item in checklist if item not in attached and item not in confirmed]
        unknown = sorted((attached | confirmed) - set(checklist))
        doc_problems = [FieldError("documents", f"Missing: {item}", "missing") for item in missing]
        doc_problems += [
            FieldError("documents", f"Not on this service's checklist: {item}", "unknown") for item in unknown
        ]
        if not documents:
            doc_problems.append(
                FieldError(
                    "documents", "Attach the supporting documents (assessment, diagnosis).", "required"
                )
            )
        if hospital_request and not any("discharge" in d.checklist_item.lower() for d in documents):
            doc_problems.append(
                FieldError("documents", "Attach the hospital discharge plan (rule A5).", "discharge_plan")
            )
        if doc_problems:
            raise _fail(
                "Required documents are missing (rule A6): " + "; ".join(e.message for e in doc_problems),
                errors.DOCUMENTS_MISSING,
                *doc_problems,
            )

    # Catalog length and benefit limits (rule G1; issue: "refused with the limit named").
    span_problems = _span_problems(
        service, data.kind, units=data.units, start=data.start_date, end=data.end_date
    )
    if span_problems:
        raise _fail("The request is longer than the catalog allows.", errors.LIMIT_EXCEEDED, *span_problems)
    _raise_limit_problems(
        _limit_problems(
            member=member,
            service=service,
            code=code,
            units=data.units,
            start=data.start_date,
            end=data.end_date,
            reference="this request",
            continues=previous,
        )
    )
    duplicate = AuthorizationRequest.objects.filter(
        member=member, service=service, servicing_organization=servicing, status__in=OPEN_STATUSES
    ).first()
    if duplicate is not None:
        raise _fail(
            f"Request {duplicate.number} for this member and service is still open: "
            "add to it or withdraw it.",
            errors.REQUEST_INVALID,
            FieldError("service", f"{duplicate.number} is open.", "duplicate"),
            status=409,
        )

    # Urgency (rule A8): the catalog's default unless the submitter says why it differs.
    default_urgency = Urgency.EXPEDITED if service.urgent_by_default else Urgency.ROUTINE
    urgency = data.urgency or default_urgency
    urgency_reason = (data.urgency_reason or "").strip()
    if urgency != default_urgency and not urgency_reason:
        raise _fail(
            f"{service.name} is {Urgency(default_urgency).label.lower()} by default: say why this request is "
            f"{Urgency(urgency).label.lower()}.",
            errors.REQUEST_INVALID,
            FieldError("urgency_reason", "A reason is required to change the urgency.", "required"),
        )
    concurrent = bool(
        data.kind == RequestKind.EXTENSION
        and previous is not None
        and clocks.is_concurrent(received_at=received_at, current_authorization_ends=previous.end_date)
    )
    request = AuthorizationRequest.objects.create(
        number=f"tmp-{uuid4().hex[:16]}",
        plan=span.plan,
        member=member,
        service=service,
        code=code,
        modifiers=extra,
        kind=data.kind,
        channel=channel,
        enrollment=enrollment,
        referral=enrollment.referral if enrollment else None,
        previous_authorization=previous,
        requesting_organization=requesting,
        requesting_npi=data.requesting_npi.strip(),
        servicing_organization=servicing,
        servicing_npi=data.servicing_npi.strip(),
        submitted_by=actor,
        member_agreement_attested=data.member_agreement_attested,
        diagnosis_codes=diagnoses,
        units=data.units,
        start_date=data.start_date,
        end_date=data.end_date,
        notes=(data.notes or "").strip(),
        checklist_confirmed=sorted(set(data.checklist_confirmed)),
        urgency=urgency,
        urgency_reason=urgency_reason,
        concurrent=concurrent,
        received_at=received_at,
        information_complete_at=received_at,
        due_at=clocks.due_at(
            expedited=urgency == Urgency.EXPEDITED,
            received_at=received_at,
            information_complete_at=received_at,
            concurrent=concurrent,
        ),
        created_by=actor,
    )
    request.number = f"A-{clock.local(received_at):%Y}-{request.pk:07d}"
    AuthorizationRequest.objects.filter(pk=request.pk).update(number=request.number)
    if checked_fax is not None:
        _store_document(request, checked_fax, kind=RequestDocument.Kind.FAX, actor=actor)
    for doc, checked in checked_docs:
        kind = RequestDocument.Kind.REQUIRED if doc.checklist_item else RequestDocument.Kind.OTHER
        _store_document(request, checked, kind=kind, actor=actor, checklist_item=doc.checklist_item)
    _event(
        request,
        "received",
        actor=actor,
        at=now,
        to_status=request.status,
        text=f"Received by {Channel(channel).label.lower()}; {Urgency(urgency).label.lower()}, due "
        f"{clock.local(request.due_at):%m/%d/%Y %I:%M %p}.",
        detail={"concurrent": concurrent, "urgency_reason": urgency_reason},
    )
    _audit(actor, "create", request, channel=channel)
    if service.authorization == Service.Authorization.PRESUMPTIVE:
        _decide(
            request,
            actor=None,
            outcome=Determination.Outcome.APPROVED,
            units=request.units,
            start=request.start_date,
            end=request.end_date,
            presumptive=True,
        )
    else:
        notices.request_received(request)
    return request


def _store_document(
    request: AuthorizationRequest,
    checked: Any,
    *,
    kind: str,
    actor: Any,
    checklist_item: str = "",
    information_request: InformationRequest | None = None,
) -> RequestDocument:
    doc = RequestDocument(
        request=request,
        kind=kind,
        checklist_item=checklist_item[:300],
        information_request=information_request,
        file_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    doc.file.save(checked.name, checked.file, save=False)
    doc.save()
    return doc


# --- Review (rules A7, A8, A10) -----------------------------------------------------------------------


def _lock(request: AuthorizationRequest, expected_version: int | None) -> AuthorizationRequest:
    """Lock the row and refuse when someone changed it since the caller read it (optimistic locking)."""
    current = (
        AuthorizationRequest.objects.select_for_update(of=("self",))
        .select_related(
            "member", "service", "code", "plan", "servicing_organization", "requesting_organization"
        )
        .get(pk=request.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(
            f"Request {current.number} was changed by someone else (it is now "
            f"{current.get_status_display().lower()}"
            + (f", with {current.reviewer}" if current.reviewer_id else "")
            + "); reload it and try again."
        )
    return current


def _require_reviewer(actor: Any, request: AuthorizationRequest) -> None:
    if not permissions.can_review(actor) or actor.organization_id != request.plan_id:
        raise PermissionDeniedError("Only the plan's UM reviewers review authorization requests.")


def _require_open(request: AuthorizationRequest, step: str) -> None:
    if request.status in DECIDED_STATUSES:
        raise _fail(
            f"Request {request.number} is {request.get_status_display().lower()}; it cannot be {step}.",
            errors.STEP_NOT_ALLOWED,
            status=409,
        )


def _require_not_taken_by_other(actor: Any, request: AuthorizationRequest) -> None:
    if request.reviewer_id and request.reviewer_id != actor.pk:
        raise ConflictError(
            f"{request.reviewer} is reviewing request {request.number}; "
            "two reviewers cannot decide one request."
        )


def _recompute_due(request: AuthorizationRequest) -> None:
    request.due_at = clocks.due_at(
        expedited=request.urgency == Urgency.EXPEDITED,
        received_at=request.received_at,
        information_complete_at=request.information_complete_at,
        concurrent=request.concurrent,
        extension_days=request.extension_days,
    )


@transaction.atomic
def request_take(
    *, actor: Any, request: AuthorizationRequest, expected_version: int | None
) -> AuthorizationRequest:
    """A reviewer takes a request from the queue (rule A10); nobody else can then decide it."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "taken")
    _require_not_taken_by_other(actor, request)
    now = clock.now()
    from_status = request.status
    request.reviewer = actor
    request.taken_at = now
    if request.status == RequestStatus.RECEIVED:
        request.status = RequestStatus.IN_REVIEW
    save_versioned(request, ["reviewer", "taken_at", "status"])
    _event(request, "taken", actor=actor, at=now, from_status=from_status, to_status=request.status)
    _audit(actor, "update", request, step="take")
    return request


@transaction.atomic
def request_release(
    *, actor: Any, request: AuthorizationRequest, expected_version: int | None
) -> AuthorizationRequest:
    """The reviewer puts the request back in the queue for another reviewer."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "released")
    if request.reviewer_id != actor.pk:
        raise _fail(
            "Only the reviewer who took the request can release it.", errors.STEP_NOT_ALLOWED, status=409
        )
    now = clock.now()
    from_status = request.status
    request.reviewer = None
    request.taken_at = None
    if request.status == RequestStatus.IN_REVIEW:
        request.status = RequestStatus.RECEIVED
    save_versioned(request, ["reviewer", "taken_at", "status"])
    _event(request, "released", actor=actor, at=now, from_status=from_status, to_status=request.status)
    return request


@transaction.atomic
def request_set_urgency(
    *, actor: Any, request: AuthorizationRequest, urgency: str, reason: str, expected_version: int | None
) -> AuthorizationRequest:
    """Rule A8: a reviewer changes the urgency with a reason; the clock follows."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "changed")
    _require_not_taken_by_other(actor, request)
    reason = (reason or "").strip()
    problems = []
    if urgency not in Urgency.values:
        problems.append(FieldError("urgency", "Choose routine or expedited.", "choice"))
    elif urgency == request.urgency:
        problems.append(
            FieldError("urgency", f"The request is already {request.get_urgency_display().lower()}.", "same")
        )
    if not reason:
        problems.append(FieldError("reason", "Say why the urgency changes.", "required"))
    if problems:
        raise _fail("The urgency was not changed.", errors.REQUEST_INVALID, *problems)
    now = clock.now()
    before, before_due = request.urgency, request.due_at
    request.urgency = urgency
    request.urgency_reason = reason[:500]
    _recompute_due(request)
    save_versioned(request, ["urgency", "urgency_reason", "due_at"])
    _event(
        request,
        "urgency",
        actor=actor,
        at=now,
        text=f"{Urgency(before).label} → {Urgency(urgency).label}: {reason}. Due "
        f"{clock.local(request.due_at):%m/%d/%Y %I:%M %p} (was {clock.local(before_due):%m/%d/%Y %I:%M %p}).",
    )
    _audit(actor, "update", request, step="urgency", urgency=urgency)
    return request


@transaction.atomic
def request_pend(
    *,
    actor: Any,
    request: AuthorizationRequest,
    question: str,
    due_on: date | None,
    expected_version: int | None,
) -> InformationRequest:
    """Rule A7: ask the provider for specific information by a date. A routine request's 5 business days
    then wait for the answer (the 14-day cap still holds)."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "pended")
    _require_not_taken_by_other(actor, request)
    question = (question or "").strip()
    today = clock.today()
    problems = []
    if not question:
        problems.append(FieldError("question", "Say what information is needed.", "required"))
    if due_on is None:
        problems.append(FieldError("due_on", "Give the date the information is needed by.", "required"))
    elif due_on < today:
        problems.append(FieldError("due_on", "The date cannot be in the past.", "past"))
    elif due_on > clock.local(request.due_at).date():
        problems.append(
            FieldError(
                "due_on",
                f"The decision is due {clock.local(request.due_at):%m/%d/%Y}; ask for the information "
                "by then or take an extension first.",
                "after_due",
            )
        )
    if request.status == RequestStatus.PENDED:
        problems.append(FieldError("question", "The request is already waiting for information.", "pended"))
    if problems:
        raise _fail("The request was not pended.", errors.REQUEST_INVALID, *problems)
    now = clock.now()
    asked = InformationRequest.objects.create(
        request=request, asked_by=actor, asked_at=now, question=question, due_on=due_on, created_by=actor
    )
    from_status = request.status
    request.status = RequestStatus.PENDED
    request.reviewer = request.reviewer or actor
    request.information_complete_at = None
    _recompute_due(request)
    save_versioned(request, ["status", "reviewer", "information_complete_at", "due_at"])
    _event(
        request,
        "pended",
        actor=actor,
        at=now,
        from_status=from_status,
        to_status=request.status,
        text=f"Information requested by {due_on:%m/%d/%Y}: {question}",
        detail={"information_request": str(asked.uuid)},
    )
    _audit(actor, "update", request, step="pend")
    notices.information_requested(request, asked)
    return asked


@transaction.atomic
def information_answer(
    *,
    actor: Any,
    request: AuthorizationRequest,
    answer: str,
    files: list[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> InformationRequest:
    """Rule A7: the provider answers (text and files); the request returns to the queue and a routine
    request's business days count from now."""
    if not permissions.can_submit_requests(actor) or actor.organization_id not in (
        request.requesting_organization_id,
        request.servicing_organization_id,
    ):
        raise PermissionDeniedError(
            "Only the requesting or servicing provider answers a request for information."
        )
    request = _lock(request, expected_version)
    asked = request.information_requests.filter(answered_at__isnull=True).order_by("-asked_at").first()
    if request.status != RequestStatus.PENDED or asked is None:
        raise _fail(
            f"Request {request.number} is not waiting for information.", errors.STEP_NOT_ALLOWED, status=409
        )
    answer = (answer or "").strip()
    files = files or []
    checked = [check_upload(f, field=f"files[{i}]") for i, f in enumerate(files)]
    if not answer and not checked:
        raise _fail(
            "Answer the question or attach the information.",
            errors.REQUEST_INVALID,
            FieldError("answer", "Write an answer or attach a file.", "required"),
        )
    now = clock.now()
    asked.answer = answer
    asked.answered_at = now
    asked.answered_by = actor
    asked.save(update_fields=["answer", "answered_at", "answered_by", "updated_at"])
    for c in checked:
        _store_document(
            request, c, kind=RequestDocument.Kind.INFORMATION, actor=actor, information_request=asked
        )
    from_status = request.status
    request.status = RequestStatus.IN_REVIEW if request.reviewer_id else RequestStatus.RECEIVED
    request.information_complete_at = now
    _recompute_due(request)
    save_versioned(request, ["status", "information_complete_at", "due_at"])
    _event(
        request,
        "answered",
        actor=actor,
        at=now,
        from_status=from_status,
        to_status=request.status,
        text=answer or f"{len(checked)} file(s) attached.",
        detail={"files": [c.name for c in checked], "information_request": str(asked.uuid)},
    )
    _audit(actor, "update", request, step="answer")
    notices.information_answered(request)
    return asked


@transaction.atomic
def request_extend(
    *, actor: Any, request: AuthorizationRequest, days: int | None, reason: str, expected_version: int | None
) -> AuthorizationRequest:
    """Rule A8: the plan takes one extension of up to 14 calendar days, with a recorded reason and a
    notice to the member (a letter)."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "extended")
    _require_not_taken_by_other(actor, request)
    reason = (reason or "").strip()
    most = clocks.ClockSettings.current().extension_max_days
    problems = []
    if request.extension_days:
        problems.append(FieldError("days", "An extension was already taken for this request.", "once"))
    if not days or days < 1 or days > most:
        problems.append(FieldError("days", f"An extension is 1 to {most} calendar days.", "range"))
    if not reason:
        problems.append(FieldError("reason", "Record the reason for the extension.", "required"))
    if problems:
        raise _fail("The extension was not taken.", errors.REQUEST_INVALID, *problems)
    now = clock.now()
    before = request.due_at
    request.extension_days = days
    request.extension_reason = reason
    request.extension_taken_at = now
    _recompute_due(request)
    save_versioned(request, ["extension_days", "extension_reason", "extension_taken_at", "due_at"])
    _event(
        request,
        "extended",
        actor=actor,
        at=now,
        text=f"Extended {days} days: {reason}. Due {clock.local(request.due_at):%m/%d/%Y %I:%M %p} "
        f"(was {clock.local(before):%m/%d/%Y %I:%M %p}). Notice sent to the member.",
    )
    letters.extension_letter(request)
    _audit(actor, "update", request, step="extend", days=days)
    notices.request_extended(request)
    return request


# --- Determination (rule A9) --------------------------------------------------------------------------


@dataclass
class DecisionInput:
    outcome: str
    units: int | None = None  # default: the units requested
    start_date: date | None = None
    end_date: date | None = None
    reason_code: str = ""
    reason: str = ""
    criteria: str = ""


@transaction.atomic
def request_decide(
    *, actor: Any, request: AuthorizationRequest, decision: DecisionInput, expected_version: int | None
) -> Determination:
    """Rule A9: approve (units and dates within the catalog's length and the member's limits), approve in
    part, deny (reason code, plain-language reason, criteria) or mark withdrawn. The provider sees it at
    once; letters go to the member and to the referring and servicing providers."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    _require_open(request, "decided")
    _require_not_taken_by_other(actor, request)
    outcome = decision.outcome
    problems: list[FieldError] = []
    if outcome not in Determination.Outcome.values:
        raise _fail(
            "Choose the decision.", errors.DECISION_INVALID, FieldError("outcome", "Choose one.", "choice")
        )
    units = decision.units if decision.units is not None else request.units
    start = decision.start_date or request.start_date
    end = decision.end_date or request.end_date
    reason = (decision.reason or "").strip()
    criteria = (decision.criteria or "").strip()
    reason_code = decision.reason_code or ""
    if reason_code and reason_code not in DenialReason.values:
        problems.append(FieldError("reason_code", "Choose a reason code from the list.", "choice"))
    if outcome in (Determination.Outcome.APPROVED, Determination.Outcome.PARTIALLY_APPROVED):
        if units < 1:
            problems.append(FieldError("units", "Authorize at least 1 unit.", "range"))
        if units > request.units:
            problems.append(
                FieldError("units", f"More than the {request.units} units requested.", "more_than_requested")
            )
        if end < start:
            problems.append(FieldError("end_date", "The last date cannot be before the first.", "order"))
        if start < request.start_date or end > request.end_date:
            problems.append(
                FieldError(
                    "start_date",
                    f"Authorize within the dates requested ({request.start_date:%m/%d/%Y} to "
                    f"{request.end_date:%m/%d/%Y}).",
                    "outside_request",
                )
            )
        if not problems:
            problems += _span_problems(request.service, request.kind, units=units, start=start, end=end)
    narrower = units < request.units or start > request.start_date or end < request.end_date
    if outcome == Determination.Outcome.APPROVED and narrower:
        problems.append(
            FieldError(
                "outcome",
                "Fewer units or days than requested is a partial approval: give its reason.",
                "partial",
            )
        )
    if outcome == Determination.Outcome.PARTIALLY_APPROVED and not narrower:
        problems.append(
            FieldError(
                "units", "A partial approval authorizes fewer units or days than requested.", "partial"
            )
        )
    if outcome in (Determination.Outcome.PARTIALLY_APPROVED, Determination.Outcome.DENIED):
        if not reason_code:
            problems.append(FieldError("reason_code", "Choose the reason code.", "required"))
        if not reason:
            problems.append(
                FieldError("reason", "Write the reason in plain language for the member.", "required")
            )
        if not criteria:
            problems.append(FieldError("criteria", "Cite the criteria the decision is based on.", "required"))
    if outcome == Determination.Outcome.WITHDRAWN and not reason:
        problems.append(FieldError("reason", "Say who withdrew the request and why.", "required"))
    if problems:
        raise _fail("The decision was not recorded.", errors.DECISION_INVALID, *problems)
    if outcome in (Determination.Outcome.APPROVED, Determination.Outcome.PARTIALLY_APPROVED):
        _raise_limit_problems(
            _limit_problems(
                member=request.member,
                service=request.service,
                code=request.code,
                units=units,
                start=start,
                end=end,
                reference=request.number,
                exclude_request_id=request.pk,
                continues=request.previous_authorization,
            )
        )
    return _decide(
        request,
        actor=actor,
        outcome=outcome,
        units=units,
        start=start,
        end=end,
        reason_code=reason_code,
        reason=reason,
        criteria=criteria,
    )


def _decide(
    request: AuthorizationRequest,
    *,
    actor: Any,
    outcome: str,
    units: int,
    start: date,
    end: date,
    reason_code: str = "",
    reason: str = "",
    criteria: str = "",
    presumptive: bool = False,
) -> Determination:
    now = clock.now()
    granted = outcome in (Determination.Outcome.APPROVED, Determination.Outcome.PARTIALLY_APPROVED)
    user = actor if getattr(actor, "is_authenticated", False) else None
    determination = Determination.objects.create(
        request=request,
        outcome=outcome,
        authorized_units=units if granted else None,
        start_date=start if granted else None,
        end_date=end if granted else None,
        reason_code=reason_code,
        reason=reason,
        criteria=criteria if not presumptive else "Presumptive authorization (rule G2)",
        decided_by=user,
        decided_at=now,
        on_time=now <= request.due_at,
        created_by=user,
    )
    authorization = None
    if granted:
        authorization = Authorization.objects.create(
            number=f"tmp-{uuid4().hex[:16]}",
            request=request,
            member=request.member,
            service=request.service,
            code=request.code,
            servicing_organization=request.servicing_organization,
            plan=request.plan,
            units=units,
            start_date=start,
            end_date=end,
            presumptive=presumptive,
            retrospective_review_due=presumptive,
            created_by=user,
        )
        authorization.number = f"AU-{clock.local(now):%Y}-{authorization.pk:07d}"
        Authorization.objects.filter(pk=authorization.pk).update(number=authorization.number)
    from_status = request.status
    request.status = outcome
    request.decided_at = now
    request.decided_on_time = determination.on_time
    request.presumptive = presumptive
    if user and not request.reviewer_id:
        request.reviewer = user
    save_versioned(request, ["status", "decided_at", "decided_on_time", "presumptive", "reviewer"])
    text = determination.get_outcome_display()
    if granted:
        text += f": {units} units, {start:%m/%d/%Y} to {end:%m/%d/%Y} ({authorization.number})"
    if reason:
        text += f". {reason}"
    _event(
        request,
        "presumptive" if presumptive else "decided",
        actor=actor,
        at=now,
        from_status=from_status,
        to_status=outcome,
        text=text,
        detail={"on_time": determination.on_time, "reason_code": reason_code},
    )
    _audit(actor, "update", request, step="decide", outcome=outcome)
    if outcome != Determination.Outcome.WITHDRAWN:
        letters.determination_letters(request, determination, authorization)
    notices.request_decided(request, determination)
    return determination


@transaction.atomic
def request_withdraw(
    *, actor: Any, request: AuthorizationRequest, reason: str, expected_version: int | None
) -> Determination:
    """The requesting provider withdraws its own open request."""
    if (
        not permissions.can_submit_requests(actor)
        or actor.organization_id != request.requesting_organization_id
    ):
        raise PermissionDeniedError("Only the requesting provider withdraws its request.")
    request = _lock(request, expected_version)
    _require_open(request, "withdrawn")
    reason = (reason or "").strip()
    if not reason:
        raise _fail(
            "Say why the request is withdrawn.",
            errors.REQUEST_INVALID,
            FieldError("reason", "A reason is required.", "required"),
        )
    return _decide(
        request,
        actor=actor,
        outcome=Determination.Outcome.WITHDRAWN,
        units=request.units,
        start=request.start_date,
        end=request.end_date,
        reason=f"Withdrawn by {actor.organization.name}: {reason}",
    )


@transaction.atomic
def retrospective_review_record(
    *, actor: Any, request: AuthorizationRequest, upheld: bool, note: str, expected_version: int | None
) -> AuthorizationRequest:
    """Rule G2: the plan reviews a presumptive authorization afterwards; if not upheld it ends on the day
    of the review (services already given stay covered) and the reason is kept."""
    _require_reviewer(actor, request)
    request = _lock(request, expected_version)
    authorization = Authorization.objects.filter(request=request, presumptive=True).first()
    if authorization is None or not authorization.retrospective_review_due:
        raise _fail(
            f"Request {request.number} has no presumptive authorization waiting for review.",
            errors.STEP_NOT_ALLOWED,
            status=409,
        )
    note = (note or "").strip()
    if not upheld and not note:
        raise _fail(
            "Say why the authorization is not upheld.",
            errors.REQUEST_INVALID,
            FieldError("note", "A reason is required.", "required"),
        )
    now = clock.now()
    authorization.retrospective_review_due = False
    fields = ["retrospective_review_due", "updated_at"]
    if not upheld:
        authorization.end_date = max(authorization.start_date, clock.today())
        authorization.void_reason = note[:300]
        fields += ["end_date", "void_reason"]
    authorization.save(update_fields=fields)
    request.retrospective_review_done_at = now
    save_versioned(request, ["retrospective_review_done_at"])
    _event(
        request,
        "retrospective_review",
        actor=actor,
        at=now,
        text=("Upheld" if upheld else f"Not upheld; ends {authorization.end_date:%m/%d/%Y}")
        + (f": {note}" if note else ""),
    )
    _audit(actor, "update", request, step="retrospective_review", upheld=upheld)
    return request


# --- Services without authorization (rule G2) ----------------------------------------------------------


@transaction.atomic
def service_record_create(
    *,
    actor: Any,
    member: Member,
    service_key: str,
    hcpcs: str,
    modifier: str,
    service_date: date | None,
    end_date: date | None = None,
    units: int | None = 1,
    diagnosis_codes: list[str] | None = None,
    notes: str = "",
) -> ServiceRecord:
    """Rule G2: a provider records a service that needs no authorization (e.g. a sobering center stay)."""
    if not permissions.can_record_services(actor):
        raise PermissionDeniedError("Only CS provider staff record services.")
    if member is None or not member_queryset_for(actor).filter(pk=member.pk).exists():
        raise _fail(
            "No such member.", errors.REQUEST_INVALID, FieldError("member", "No such member.", "not_found")
        )
    problems: list[FieldError] = []
    service = Service.objects.filter(key=service_key, active=True).first()
    code = None
    if service is None:
        problems.append(
            FieldError("service", f"{service_key!r} is not an active Community Support.", "service")
        )
    elif service.authorization != Service.Authorization.NOT_REQUIRED:
        problems.append(
            FieldError(
                "service", f"{service.name} needs an authorization request (rule G2).", "needs_request"
            )
        )
    else:
        code = ServiceCode.objects.filter(
            service=service,
            hcpcs=(hcpcs or "").strip().upper(),
            modifier=(modifier or "").strip().upper(),
            active=True,
        ).first()
        if code is None:
            problems.append(FieldError("hcpcs", f"Not a code of {service.name}.", "code"))
    if service_date is None:
        problems.append(FieldError("service_date", "Enter the date of service.", "required"))
    elif service_date > clock.today():
        problems.append(FieldError("service_date", "The date of service cannot be in the future.", "future"))
    if end_date and service_date and end_date < service_date:
        problems.append(FieldError("end_date", "The last date cannot be before the first.", "order"))
    if not units or units < 1:
        problems.append(FieldError("units", "Enter at least 1 unit.", "required"))
    diagnoses, diagnosis_problems = _diagnosis_problems(diagnosis_codes or [])
    problems.extend(diagnosis_problems)
    if problems:
        raise _fail("The service was not recorded.", errors.REQUEST_INVALID, *problems)
    span = eligibility_span_on(member, service_date)
    if span is None:
        raise _fail(
            f"The member is not eligible with the plan on {service_date:%m/%d/%Y}.",
            errors.NOT_ELIGIBLE,
            FieldError("service_date", "No plan eligibility on this date.", "not_eligible"),
        )
    _raise_limit_problems(
        _limit_problems(
            member=member,
            service=service,
            code=code,
            units=units,
            start=service_date,
            end=end_date or service_date,
            reference="this service",
        )
    )
    record = ServiceRecord.objects.create(
        member=member,
        service=service,
        code=code,
        organization=actor.organization,
        plan=span.plan,
        service_date=service_date,
        end_date=end_date,
        units=units,
        diagnosis_codes=diagnoses,
        notes=(notes or "").strip(),
        recorded_by=actor,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="service_record",
        object_id=record.uuid,
        member_ids=[member.uuid],
        detail={"service": service.key, "date": service_date.isoformat()},
    )
    return record
