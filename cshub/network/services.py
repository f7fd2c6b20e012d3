"""Every write of the network path (rules N1-N5, STYLE 2). Each function validates, writes in one
transaction with its history row (`NetworkEvent`) and audit row, and tells people after commit.

Application statuses move only along `TRANSITIONS` (DESIGN principle 3):

    draft --submit--> under_review --decide--> approved | declined | gap_closure
    gap_closure --all items accepted--> under_review (a new review round)

Transitions lock the application row (`select_for_update`) and compare `version` when the caller
passes the version it saw (optimistic locking: two reviewers conflict instead of overwriting).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse

from cshub.accounts import services as account_services
from cshub.accounts.invitations import send_invitation
from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind, Role
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.models import County
from cshub.core.uploads import check_upload
from cshub.core.validators import normalize_phone, normalize_tin, npi_is_valid, validate_phone, validate_tin
from cshub.network import errors as codes
from cshub.network import permissions, sections
from cshub.network.models import (
    Application,
    ApplicationAttachment,
    Decision,
    GapItem,
    GapItemFile,
    InterestForm,
    NetworkEvent,
)
from cshub.notifications.services import notify, notify_email_address

S = Application.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.UNDER_REVIEW}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.DECLINED, S.GAP_CLOSURE}),
    S.GAP_CLOSURE: frozenset({S.UNDER_REVIEW}),
    S.APPROVED: frozenset(),
    S.DECLINED: frozenset(),
}
OUTCOME_STATUS = {
    Decision.Outcome.APPROVE: S.APPROVED,
    Decision.Outcome.GAP_CLOSURE: S.GAP_CLOSURE,
    Decision.Outcome.DECLINE: S.DECLINED,
}
# Rule N3: who at the provider hears about its application (its leadership).
PROVIDER_NOTICE_ROLES = sorted(permissions.APPLICANT_ROLES)
STAFF_NOTICE_ROLES = sorted(permissions.NETWORK_STAFF_ROLES)


# --- helpers ---------------------------------------------------------------------------------------


def _event(
    *,
    kind: str,
    actor: Any,
    organization: Organization | None,
    application: Application | None = None,
    interest_form: InterestForm | None = None,
    from_status: str = "",
    to_status: str = "",
    summary: str = "",
    detail: dict[str, Any] | None = None,
) -> NetworkEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return NetworkEvent.objects.create(
        organization=organization,
        application=application,
        interest_form=interest_form,
        at=clock.now(),
        kind=kind,
        actor=user,
        actor_label=(str(user) if user else "system")[:200],
        from_status=from_status,
        to_status=to_status,
        summary=summary[:300],
        detail=detail or {},
    )


def _check_version(obj: Any, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != obj.version:
        raise ConflictError()


def _bump(obj: Any, actor: Any, fields: list[str]) -> None:
    """Save `fields` and raise the version in the same statement-free way (the row is locked)."""
    obj.version = obj.version + 1
    obj.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    obj.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _lock_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update().select_related("organization", "plan").get(pk=application.pk)
    )


def _services(keys: Iterable[str], field: str = "services") -> tuple[list[Service], list[FieldError]]:
    keys = [k for k in dict.fromkeys(keys) if k]
    found = {s.key: s for s in Service.objects.filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    errors = [FieldError(field, f"Not a Community Support: {', '.join(missing)}.")] if missing else []
    return [found[k] for k in keys if k in found], errors


def _counties(names: Iterable[str], field: str = "counties") -> tuple[list[County], list[FieldError]]:
    names = [n for n in dict.fromkeys(names) if n]
    found = {c.name: c for c in County.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    errors = [FieldError(field, f"Not a California county: {', '.join(missing)}.")] if missing else []
    return [found[n] for n in names if n in found], errors


def _transition(application: Application, to: str) -> None:
    if to not in TRANSITIONS[application.status]:
        raise DomainError(
            f"An application that is {application.get_status_display().lower()} cannot become "
            f"{S(to).label.lower()}.",
            code=codes.TRANSITION_NOT_ALLOWED,
            status=409,
        )


def _require_staff(actor: Any, application: Application | None = None) -> None:
    if not permissions.is_network_staff(actor):
        raise PermissionDeniedError("Only the plan's network staff can do this.")
    if application is not None and application.plan_id != actor.organization_id:
        raise PermissionDeniedError("This application was sent to another plan.")


def _require_applicant(actor: Any, application: Application) -> None:
    if not permissions.is_applicant(actor) or actor.organization_id != application.organization_id:
        raise PermissionDeniedError("Only the organization's leadership can change its application.")


def _tell_provider(application: Application, *, kind: str, subject: str, body: str, actor: Any) -> None:
    notify(
        kind=kind,
        subject=subject,
        body=body,
        url=reverse("network:application_detail", args=[application.uuid]),
        organization=application.organization,
        roles=PROVIDER_NOTICE_ROLES,
        object_type="network_application",
        object_id=application.uuid,
        actor=actor,
    )


def _tell_staff(application: Application, *, kind: str, subject: str, body: str, actor: Any) -> None:
    notify(
        kind=kind,
        subject=subject,
        body=body,
        url=reverse("network:application_detail", args=[application.uuid]),
        organization=application.plan,
        roles=STAFF_NOTICE_ROLES,
        object_type="network_application",
        object_id=application.uuid,
        email=False,
        actor=actor,
    )


def _new_application(
    *,
    actor: Any,
    kind: str,
    program: str,
    plan: Organization,
    organization: Organization,
    services: list[Service],
    counties: list[County],
    interest_form: InterestForm | None = None,
    request_note: str = "",
    status: str = S.DRAFT,
) -> Application:
    now = clock.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    app = Application.objects.create(
        number=f"tmp-{uuid4().hex[:16]}",
        kind=kind,
        program=program,
        plan=plan,
        organization=organization,
        interest_form=interest_form,
        request_note=request_note,
        status=status,
        status_changed_at=now,
        submitted_at=now if status == S.UNDER_REVIEW else None,
        review_round=1 if status == S.UNDER_REVIEW else 0,
        created_by=user,
        updated_by=user,
    )
    prefix = "NPR" if kind == Application.Kind.PARTICIPATION else "CA"
    app.number = f"{prefix}-{clock.local(now):%Y}-{app.pk:06d}"
    app.save(update_fields=["number"])
    app.services.set(services)
    app.counties.set(counties)
    return app


# --- rule N1: Provider Interest Form ---------------------------------------------------------------


INTEREST_TEXT_FIELDS = {
    "organization_name": 200,
    "address_line": 200,
    "city": 100,
    "zip_code": 10,
    "contact_name": 200,
    "contact_title": 200,
    "message": 5000,
}
INTEREST_REQUIRED = (
    "organization_name",
    "address_line",
    "city",
    "zip_code",
    "contact_name",
    "contact_email",
    "contact_phone",
)


@transaction.atomic
def interest_form_submit(
    *,
    plan: Organization,
    data: dict[str, Any],
    counties: Iterable[str],
    service_keys: Iterable[str],
) -> InterestForm:
    """Rule N1: a public Provider Interest Form. Every field is checked and every error returned at once;
    nothing is saved unless all pass. The submitter gets a confirmation email; the plan's network staff
    get the form in their queue and an in-app notice."""
    errors: list[FieldError] = []
    clean: dict[str, str] = {}
    for key, limit in INTEREST_TEXT_FIELDS.items():
        value = str(data.get(key) or "").strip()
        if len(value) > limit:
            errors.append(FieldError(key, f"Keep it under {limit} characters."))
        clean[key] = value
    for key in ("npi", "tin", "website", "contact_email", "contact_phone"):
        clean[key] = str(data.get(key) or "").strip()
    for key in INTEREST_REQUIRED:
        if not clean[key]:
            errors.append(FieldError(key, "This field is required.", "required"))
    if plan is None or plan.kind != OrganizationKind.PLAN:
        errors.append(FieldError("plan", "Choose the health plan.", "required"))
    if clean["npi"] and not npi_is_valid(clean["npi"]):
        errors.append(
            FieldError("npi", "This is not a valid NPI (10 digits with a correct check digit).", "npi")
        )
    if clean["tin"]:
        clean["tin"] = normalize_tin(clean["tin"])
        try:
            validate_tin(clean["tin"])
        except ValidationError as exc:
            errors.append(FieldError("tin", exc.messages[0], "tin"))
    if clean["zip_code"] and not (len(clean["zip_code"]) in (5, 10) and clean["zip_code"][:5].isdigit()):
        errors.append(FieldError("zip_code", "Enter a 5-digit ZIP code.", "zip"))
    if clean["contact_email"]:
        try:
            validate_email(clean["contact_email"])
            clean["contact_email"] = clean["contact_email"].lower()
        except ValidationError:
            errors.append(FieldError("contact_email", "Enter a valid email address.", "email"))
    if clean["contact_phone"]:
        try:
            validate_phone(clean["contact_phone"])
            clean["contact_phone"] = normalize_phone(clean["contact_phone"])
        except ValidationError as exc:
            errors.append(FieldError("contact_phone", exc.messages[0], "phone"))
    if clean["website"]:
        try:
            URLValidator(schemes=["http", "https"])(clean["website"])
        except ValidationError:
            errors.append(FieldError("website", "Enter a web address starting with https://.", "url"))
    county_objs, county_errors = _counties(counties)
    service_objs, service_errors = _services(service_keys)
    errors += county_errors + service_errors
    if not county_objs and not county_errors:
        errors.append(FieldError("counties", "Choose at least one county (rule N1).", "required"))
    if not service_objs and not service_errors:
        errors.append(FieldError("services", "Choose at least one Community Support (rule N1).", "required"))
    if errors:
        raise DomainError("The interest form was not sent.", code=codes.INTEREST_INVALID, errors=errors)
    now = clock.now()
    form = InterestForm.objects.create(number=f"tmp-{uuid4().hex[:16]}", plan=plan, submitted_at=now, **clean)
    form.number = f"PIF-{clock.local(now):%Y}-{form.pk:06d}"
    form.save(update_fields=["number"])
    form.counties.set(county_objs)
    form.services.set(service_objs)
    _event(
        kind=NetworkEvent.Kind.INTEREST,
        actor=None,
        organization=None,
        interest_form=form,
        summary=f"{form.organization_name} sent a Provider Interest Form",
    )
    audit_record(actor=None, action="create", object_type="interest_form", object_id=form.uuid)
    notify_email_address(
        address=form.contact_email,
        subject=f"We received your Provider Interest Form ({form.number})",
        body=(
            f"Thank you. {plan.name} received the Provider Interest Form of {form.organization_name} "
            f"({form.number}) for {len(service_objs)} Community Support(s) in "
            f"{len(county_objs)} county(ies). "
            "The plan's network team reviews every form and will email you if it invites your organization "
            "to submit a Certification Application."
        ),
        kind="network.interest_received",
        object_type="interest_form",
        object_id=form.uuid,
    )
    notify(
        kind="network.interest_new",
        subject=f"New Provider Interest Form: {form.organization_name}",
        body=f"{form.organization_name} asks to contract for Community Supports ({form.number}).",
        url=reverse("network:interest_detail", args=[form.uuid]),
        organization=plan,
        roles=STAFF_NOTICE_ROLES,
        object_type="interest_form",
        object_id=form.uuid,
        email=False,
    )
    return form


# --- rule N2: invitation ---------------------------------------------------------------------------


@transaction.atomic
def interest_form_invite(
    *,
    actor: User,
    interest_form: InterestForm,
    organization: Organization | None = None,
    email: str = "",
    full_name: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """Rule N2: invite the organization of an interest form to apply. Creates the organization (a CS
    provider) from the form, or links `organization` when it already exists; creates its first user
    (the form's contact unless `email` names another) through accounts' `user_create` and emails the
    invitation link through accounts' `send_invitation` after commit; and starts its draft Certification
    Application with the services and counties of the form. Locks the form row."""
    _require_staff(actor)
    form = InterestForm.objects.select_for_update().get(pk=interest_form.pk)
    if form.plan_id != actor.organization_id:
        raise PermissionDeniedError("This interest form was sent to another plan.")
    _check_version(form, expected_version)
    if form.status != InterestForm.Status.NEW:
        raise DomainError("This interest form was already handled.", code=codes.INVITE_INVALID, status=409)
    email = (email or form.contact_email).strip().lower()
    if organization is None:
        organization = account_services.organization_create(
            actor=actor,
            kind=OrganizationKind.CS_PROVIDER,
            name=form.organization_name,
            npi=form.npi,
            tin=form.tin,
            address_line=form.address_line,
            city=form.city,
            zip_code=form.zip_code,
            phone=form.contact_phone,
            email=form.contact_email,
            website=form.website,
            counties=[c.name for c in form.counties.all()],
        )
        account_services.organization_contact_add(
            actor=actor,
            organization=organization,
            kind="primary",
            name=form.contact_name,
            title=form.contact_title,
            email=form.contact_email,
            phone=form.contact_phone,
        )
    elif organization.kind not in (OrganizationKind.CS_PROVIDER, OrganizationKind.ECM_PROVIDER):
        raise DomainError(
            "Only a CS or ECM provider can be invited.",
            code=codes.INVITE_INVALID,
            errors=[FieldError("organization", "Choose a provider organization.")],
        )
    invited: User | None = None
    if not User.objects.filter(email=email, organization=organization).exists():
        # The network permission was checked above. accounts lets only an organization's own
        # administrators (or the plan administrator) add users, and has no administrator yet for a new
        # organization: the invitation is that first user, so it is created without an acting user and
        # this service audits who invited.
        invited = account_services.user_create(
            actor=None,
            organization=organization,
            email=email,
            roles=[Role.PROVIDER_CEO],
            full_name=full_name.strip() or form.contact_name,
            title=form.contact_title,
        )
    form.status = InterestForm.Status.INVITED
    form.organization = organization
    form.invited_at = clock.now()
    form.invited_user = invited
    _bump(form, actor, ["status", "organization", "invited_at", "invited_user"])
    app = _new_application(
        actor=actor,
        kind=Application.Kind.CERTIFICATION,
        program=Application.Program.CS,
        plan=form.plan,
        organization=organization,
        services=list(form.services.all()),
        counties=list(form.counties.all()),
        interest_form=form,
    )
    NetworkEvent.objects.filter(interest_form=form, organization__isnull=True).update(
        organization=organization
    )
    _event(
        kind=NetworkEvent.Kind.INVITED,
        actor=actor,
        organization=organization,
        application=app,
        interest_form=form,
        summary=f"Invited to submit Certification Application {app.number}",
        detail={"email": email, "user_created": invited is not None},
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="interest_form",
        object_id=form.uuid,
        detail={
            "invited": str(organization.uuid),
            "user": str(invited.uuid) if invited else "",
            "application": app.number,
        },
    )
    if invited is not None:
        user = invited
        transaction.on_commit(
            lambda: send_invitation(request=request, user=user, organization=organization), robust=True
        )
    else:
        _tell_provider(
            app,
            kind="network.invited",
            subject=f"{form.plan.name} invites you to apply for certification",
            body=f"Your Certification Application {app.number} is ready to fill in.",
            actor=actor,
        )
    return app


@transaction.atomic
def interest_form_close(*, actor: User, interest_form: InterestForm, reason: str = "") -> InterestForm:
    """The plan does not invite this organization now (rule N2: the plan invites *selected* ones)."""
    _require_staff(actor)
    form = InterestForm.objects.select_for_update().get(pk=interest_form.pk)
    if form.plan_id != actor.organization_id:
        raise PermissionDeniedError("This interest form was sent to another plan.")
    if form.status != InterestForm.Status.NEW:
        raise DomainError("This interest form was already handled.", code=codes.INVITE_INVALID, status=409)
    form.status = InterestForm.Status.CLOSED
    _bump(form, actor, ["status"])
    audit_record(
        actor=actor,
        action="update",
        object_type="interest_form",
        object_id=form.uuid,
        detail={"closed": reason[:300]},
    )
    return form


# --- rule N5: Network Participation Request --------------------------------------------------------


@transaction.atomic
def participation_request_submit(
    *,
    actor: User,
    plan: Organization,
    program: str,
    service_keys: Iterable[str],
    counties: Iterable[str],
    note: str,
) -> Application:
    """Rule N5: an existing organization asks to contract for CS (services and counties) or ECM; the
    request goes straight into the certification review queue."""
    if not permissions.is_applicant(actor):
        raise PermissionDeniedError("Only an organization's leadership can send a participation request.")
    errors: list[FieldError] = []
    if program not in Application.Program.values:
        errors.append(FieldError("program", "Choose CS or ECM."))
    if plan is None or plan.kind != OrganizationKind.PLAN:
        errors.append(FieldError("plan", "Choose the health plan."))
    service_objs, service_errors = _services(service_keys)
    county_objs, county_errors = _counties(counties)
    errors += service_errors + county_errors
    if program == Application.Program.CS and not service_objs and not service_errors:
        errors.append(FieldError("services", "Choose at least one Community Support.", "required"))
    if not county_objs and not county_errors:
        errors.append(FieldError("counties", "Choose at least one county.", "required"))
    note = (note or "").strip()
    if not note:
        errors.append(FieldError("note", "Say what the organization asks for and why.", "required"))
    if errors:
        raise DomainError(
            "The participation request was not sent.", code=codes.APPLICATION_INVALID, errors=errors
        )
    app = _new_application(
        actor=actor,
        kind=Application.Kind.PARTICIPATION,
        program=program,
        plan=plan,
        organization=actor.organization,
        services=service_objs,
        counties=county_objs,
        request_note=note[:5000],
        status=S.UNDER_REVIEW,
    )
    _event(
        kind=NetworkEvent.Kind.SUBMITTED,
        actor=actor,
        organization=app.organization,
        application=app,
        to_status=S.UNDER_REVIEW,
        summary=f"Network Participation Request {app.number} sent for review",
    )
    audit_record(actor=actor, action="create", object_type="network_application", object_id=app.uuid)
    _tell_staff(
        app,
        kind="network.submitted",
        subject=f"Network Participation Request from {app.organization.name}",
        body=f"{app.number} is in the certification review queue.",
        actor=actor,
    )
    return app


# --- rule N3: the application ----------------------------------------------------------------------


def _refuse_if_read_only(application: Application) -> None:
    if application.status != S.DRAFT:
        raise DomainError(
            f"Application {application.number} was submitted and is read-only; it changes only through "
            "review (a gap closure plan asks for what is needed).",
            code=codes.APPLICATION_LOCKED,
            status=409,
        )


def application_sections(application: Application) -> list[sections.Section]:
    if application.kind == Application.Kind.PARTICIPATION:
        return []
    return sections.sections_for(list(application.services.order_by("sort_order", "name")))


@transaction.atomic
def application_save_draft(
    *,
    actor: User,
    application: Application,
    answers: dict[str, dict[str, Any]],
    expected_version: int | None = None,
) -> Application:
    """Rule N3: save answers of one or more sections (a draft may be partial). Each value is checked
    against its question's type; any bad value refuses the whole save (nothing half-saved)."""
    app = _lock_application(application)
    _require_applicant(actor, app)
    _refuse_if_read_only(app)
    _check_version(app, expected_version)
    by_id = {s.id: s for s in application_sections(app)}
    errors: list[FieldError] = []
    merged = dict(app.answers)
    for section_id, raw in (answers or {}).items():
        section = by_id.get(section_id)
        if section is None:
            errors.append(FieldError(section_id, "This application has no such section."))
            continue
        clean, section_errors = sections.clean_section_answers(section, raw or {})
        errors += section_errors
        merged[section_id] = {
            **merged.get(section_id, {}),
            **{k: v for k, v in clean.items() if k in (raw or {})},
        }
    if errors:
        raise DomainError("The draft was not saved.", code=codes.APPLICATION_INVALID, errors=errors)
    app.answers = merged
    _bump(app, actor, ["answers"])
    _event(
        kind=NetworkEvent.Kind.SAVED,
        actor=actor,
        organization=app.organization,
        application=app,
        summary=f"Draft saved ({', '.join(sorted(answers))})"[:300],
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="network_application",
        object_id=app.uuid,
        detail={"sections": sorted(answers)},
    )
    return app


@transaction.atomic
def application_set_scope(
    *,
    actor: User,
    application: Application,
    service_keys: Iterable[str],
    counties: Iterable[str],
    expected_version: int | None = None,
) -> Application:
    """Rule N3: the services (each adds sections A-D) and counties the application is for, while a draft."""
    app = _lock_application(application)
    _require_applicant(actor, app)
    _refuse_if_read_only(app)
    _check_version(app, expected_version)
    service_objs, errors = _services(service_keys)
    county_objs, county_errors = _counties(counties)
    errors += county_errors
    if not service_objs and not errors:
        errors.append(FieldError("services", "Choose at least one Community Support.", "required"))
    if not county_objs and not county_errors:
        errors.append(FieldError("counties", "Choose at least one county.", "required"))
    if errors:
        raise DomainError("The application was not saved.", code=codes.APPLICATION_INVALID, errors=errors)
    app.services.set(service_objs)
    app.counties.set(county_objs)
    _bump(app, actor, [])
    audit_record(
        actor=actor,
        action="update",
        object_type="network_application",
        object_id=app.uuid,
        detail={"scope": True},
    )
    return app


@transaction.atomic
def application_attach(
    *, actor: User, application: Application, section: str, upload: Any, description: str = ""
) -> ApplicationAttachment:
    """Rule N2: a supporting document for one section, type and size checked by cshub.core.uploads."""
    app = _lock_application(application)
    _require_applicant(actor, app)
    _refuse_if_read_only(app)
    if section not in {s.id for s in application_sections(app)}:
        raise DomainError(
            "The document was not attached.",
            code=codes.APPLICATION_INVALID,
            errors=[FieldError("section", "This application has no such section.")],
        )
    checked = check_upload(upload, field="file")
    assert checked is not None
    attachment = ApplicationAttachment(
        application=app,
        section=section,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        description=(description or "").strip()[:300],
        created_by=actor,
        updated_by=actor,
    )
    attachment.file.save(checked.name, checked.file, save=False)
    attachment.save()
    _event(
        kind=NetworkEvent.Kind.ATTACHMENT,
        actor=actor,
        organization=app.organization,
        application=app,
        summary=f"{checked.name} attached to section {section}",
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="network_attachment",
        object_id=attachment.uuid,
        detail={"application": app.number, "section": section, "sha256": checked.sha256},
    )
    return attachment


def application_missing(application: Application) -> list[dict[str, Any]]:
    """Rule N3: the completeness check. One entry per section with something missing: its id, title,
    the labels of unanswered required questions, and whether a required document is missing."""
    attached = set(application.attachments.values_list("section", flat=True))
    out = []
    for section in application_sections(application):
        answers = application.answers.get(section.id, {})
        missing = [q.label for q in sections.missing_answers(section, answers)]
        needs_file = section.attachment_required and section.id not in attached
        if missing or needs_file:
            out.append(
                {
                    "section": section.id,
                    "title": section.title,
                    "questions": missing,
                    "attachment": section.attachments if needs_file else "",
                }
            )
    if application.kind == Application.Kind.CERTIFICATION and not application.services.exists():
        out.insert(
            0,
            {
                "section": "services",
                "title": "Community Supports applied for",
                "questions": ["Choose at least one service"],
                "attachment": "",
            },
        )
    return out


@transaction.atomic
def application_submit(
    *, actor: User, application: Application, expected_version: int | None = None
) -> Application:
    """Rules N2, N3: submit a complete draft for review. Refused, listing what is missing, when any required
    answer or document is absent. From here the application is read-only."""
    app = _lock_application(application)
    _require_applicant(actor, app)
    _refuse_if_read_only(app)
    _check_version(app, expected_version)
    missing = application_missing(app)
    if missing:
        errs = []
        for m in missing:
            for label in m["questions"]:
                errs.append(FieldError(m["section"], f"{m['title']}: {label}", "required"))
            if m["attachment"]:
                errs.append(
                    FieldError(m["section"], f"{m['title']}: attach {m['attachment']}", "attachment_required")
                )
        raise DomainError(
            f"The application is not complete: {len(missing)} section(s) need answers.",
            code=codes.APPLICATION_INCOMPLETE,
            errors=errs,
        )
    _transition(app, S.UNDER_REVIEW)
    now = clock.now()
    from_status = app.status
    app.status = S.UNDER_REVIEW
    app.status_changed_at = now
    app.submitted_at = now
    app.review_round = 1
    _bump(app, actor, ["status", "status_changed_at", "submitted_at", "review_round"])
    _event(
        kind=NetworkEvent.Kind.SUBMITTED,
        actor=actor,
        organization=app.organization,
        application=app,
        from_status=from_status,
        to_status=app.status,
        summary=f"Certification Application {app.number} submitted",
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="network_application",
        object_id=app.uuid,
        detail={"to": app.status},
    )
    _tell_staff(
        app,
        kind="network.submitted",
        subject=f"Certification Application from {app.organization.name}",
        body=f"{app.number} is in the certification review queue.",
        actor=actor,
    )
    _tell_provider(
        app,
        kind="network.submitted",
        subject=f"Application {app.number} submitted",
        body=f"{app.plan.name} received your Certification Application {app.number} and will review it.",
        actor=actor,
    )
    return app


# --- rule N4: review -------------------------------------------------------------------------------


@transaction.atomic
def finding_record(
    *, actor: User, application: Application, section: str, rating: str, note: str = ""
) -> Any:
    """Rule N4: a reviewer's finding on one section of the current review round."""
    from cshub.network.models import SectionFinding

    app = _lock_application(application)
    _require_staff(actor, app)
    if app.status != S.UNDER_REVIEW:
        raise DomainError(
            "Findings are recorded while the application is under review.",
            code=codes.TRANSITION_NOT_ALLOWED,
            status=409,
        )
    valid = {s.id for s in application_sections(app)} | {"general"}
    errors = []
    if section not in valid:
        errors.append(FieldError("section", "This application has no such section."))
    if rating not in SectionFinding.Rating.values:
        errors.append(FieldError("rating", "Choose meets, gap or not_met."))
    if rating in (SectionFinding.Rating.GAP, SectionFinding.Rating.NOT_MET) and not (note or "").strip():
        errors.append(FieldError("note", "Say what is missing.", "required"))
    if errors:
        raise DomainError("The finding was not recorded.", code=codes.DECISION_INVALID, errors=errors)
    finding = SectionFinding.objects.create(
        application=app,
        review_round=app.review_round,
        section=section,
        rating=rating,
        note=(note or "").strip(),
        created_by=actor,
        updated_by=actor,
    )
    _event(
        kind=NetworkEvent.Kind.FINDING,
        actor=actor,
        organization=app.organization,
        application=app,
        summary=f"Section {section}: {finding.get_rating_display()}",
    )
    audit_record(actor=actor, action="create", object_type="network_finding", object_id=finding.uuid)
    return finding


def _clean_gap_items(items: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[FieldError]]:
    out, errors = [], []
    today = clock.today()
    for i, raw in enumerate(items or []):
        text = str(raw.get("text") or "").strip()
        owner = str(raw.get("owner") or "").strip()
        due = raw.get("due_date")
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due.strip())
            except ValueError:
                due = None
                errors.append(FieldError(f"items.{i}.due_date", "Enter a date as YYYY-MM-DD."))
        if not text:
            errors.append(FieldError(f"items.{i}.text", "Say what must be closed.", "required"))
        if not owner:
            errors.append(FieldError(f"items.{i}.owner", "Name who closes it.", "required"))
        if due is None and not any(e.field == f"items.{i}.due_date" for e in errors):
            errors.append(FieldError(f"items.{i}.due_date", "Give a due date.", "required"))
        elif isinstance(due, dt.date) and due < today:
            errors.append(FieldError(f"items.{i}.due_date", "The due date has passed."))
        out.append(
            {
                "text": text[:5000],
                "owner": owner[:200],
                "due_date": due,
                "section": str(raw.get("section") or "")[:100],
            }
        )
    return out, errors


@transaction.atomic
def application_decide(
    *,
    actor: User,
    application: Application,
    outcome: str,
    reasons: str = "",
    gap_items: Iterable[dict[str, Any]] = (),
    expected_version: int | None = None,
) -> Decision:
    """Rule N4: end a review round: approve for contracting, a gap closure plan (with its items), or decline
    (with reasons). Appends a Decision, moves the application, tells the organization (email + in-app)."""
    app = _lock_application(application)
    _require_staff(actor, app)
    _check_version(app, expected_version)
    errors: list[FieldError] = []
    if outcome not in Decision.Outcome.values:
        raise DomainError(
            "The decision was not recorded.",
            code=codes.DECISION_INVALID,
            errors=[FieldError("outcome", "Choose approve, gap_closure or decline.")],
        )
    target = OUTCOME_STATUS[Decision.Outcome(outcome)]
    _transition(app, target)
    reasons = (reasons or "").strip()
    items: list[dict[str, Any]] = []
    if outcome == Decision.Outcome.DECLINE and not reasons:
        errors.append(FieldError("reasons", "Give the reasons for declining (rule N4).", "required"))
    if outcome == Decision.Outcome.GAP_CLOSURE:
        items, item_errors = _clean_gap_items(gap_items)
        errors += item_errors
        if not items:
            errors.append(FieldError("items", "A gap closure plan needs at least one item.", "required"))
    if errors:
        raise DomainError("The decision was not recorded.", code=codes.DECISION_INVALID, errors=errors)
    now = clock.now()
    decision = Decision.objects.create(
        application=app,
        review_round=app.review_round,
        outcome=outcome,
        reasons=reasons[:10000],
        decided_at=now,
        created_by=actor,
        updated_by=actor,
    )
    GapItem.objects.bulk_create(
        [
            GapItem(application=app, decision=decision, created_by=actor, updated_by=actor, **item)
            for item in items
        ]
    )
    from_status = app.status
    app.status = target
    app.status_changed_at = now
    _bump(app, actor, ["status", "status_changed_at"])
    _event(
        kind=NetworkEvent.Kind.DECISION,
        actor=actor,
        organization=app.organization,
        application=app,
        from_status=from_status,
        to_status=target,
        summary=f"{app.number}: {decision.get_outcome_display()}",
        detail={"reasons": reasons[:1000], "items": len(items), "round": app.review_round},
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="network_decision",
        object_id=decision.uuid,
        detail={"outcome": outcome, "application": app.number},
    )
    body = {
        Decision.Outcome.APPROVE: (
            f"{app.plan.name} approved {app.number} for contracting. Its contracting team will contact you."
        ),
        Decision.Outcome.GAP_CLOSURE: (
            f"{app.plan.name} reviewed {app.number} and asks you to close {len(items)} readiness item(s) "
            "before it reviews again."
        ),
        Decision.Outcome.DECLINE: f"{app.plan.name} declined {app.number}. Reasons: {reasons}",
    }[Decision.Outcome(outcome)]
    _tell_provider(
        app,
        kind=f"network.{outcome}",
        subject=f"{app.number}: {decision.get_outcome_display()}",
        body=body,
        actor=actor,
    )
    return decision


@transaction.atomic
def gap_item_respond(
    *,
    actor: User,
    item: GapItem,
    response: str,
    uploads: Iterable[Any] = (),
    expected_version: int | None = None,
) -> GapItem:
    """Rule N4: the provider answers one gap closure item (text and files)."""
    app = _lock_application(item.application)
    _require_applicant(actor, app)
    locked = GapItem.objects.select_for_update().get(pk=item.pk)
    _check_version(locked, expected_version)
    if app.status != S.GAP_CLOSURE or locked.status not in (GapItem.Status.OPEN, GapItem.Status.RETURNED):
        raise DomainError("This item is not waiting for an answer.", code=codes.GAP_ITEM_INVALID, status=409)
    response = (response or "").strip()
    if not response:
        raise DomainError(
            "The answer was not sent.",
            code=codes.GAP_ITEM_INVALID,
            errors=[FieldError("response", "Say how the item was closed.", "required")],
        )
    checked = [check_upload(u, field="files") for u in uploads if u is not None]
    for c in checked:
        assert c is not None
        f = GapItemFile(
            item=locked,
            original_name=c.name,
            content_type=c.content_type,
            size=c.size,
            sha256=c.sha256,
            created_by=actor,
        )
        f.file.save(c.name, c.file, save=False)
        f.save()
    locked.status = GapItem.Status.ANSWERED
    locked.response = response[:10000]
    locked.responded_at = clock.now()
    _bump(locked, actor, ["status", "response", "responded_at"])
    _event(
        kind=NetworkEvent.Kind.GAP_ANSWERED,
        actor=actor,
        organization=app.organization,
        application=app,
        summary=f"Answered: {locked.text[:200]}",
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="network_gap_item",
        object_id=locked.uuid,
        detail={"files": len(checked)},
    )
    _tell_staff(
        app,
        kind="network.gap_answered",
        subject=f"{app.organization.name} answered a gap item",
        body=f"{app.number}: {locked.text[:200]}",
        actor=actor,
    )
    return locked


@transaction.atomic
def gap_item_review(
    *, actor: User, item: GapItem, accept: bool, note: str = "", expected_version: int | None = None
) -> GapItem:
    """Rule N4: the plan accepts or returns an answered item. When every item of the plan is accepted the
    application goes back to review (a new round), which ends again in one of the three outcomes."""
    app = _lock_application(item.application)
    _require_staff(actor, app)
    locked = GapItem.objects.select_for_update().get(pk=item.pk)
    _check_version(locked, expected_version)
    if app.status != S.GAP_CLOSURE or locked.status != GapItem.Status.ANSWERED:
        raise DomainError(
            "Only an answered item can be accepted or returned.", code=codes.GAP_ITEM_INVALID, status=409
        )
    note = (note or "").strip()
    if not accept and not note:
        raise DomainError(
            "The item was not returned.",
            code=codes.GAP_ITEM_INVALID,
            errors=[FieldError("note", "Say what is still needed.", "required")],
        )
    locked.status = GapItem.Status.ACCEPTED if accept else GapItem.Status.RETURNED
    locked.plan_note = note[:5000]
    _bump(locked, actor, ["status", "plan_note"])
    kind = NetworkEvent.Kind.GAP_ACCEPTED if accept else NetworkEvent.Kind.GAP_RETURNED
    _event(
        kind=kind,
        actor=actor,
        organization=app.organization,
        application=app,
        summary=f"{locked.get_status_display()}: {locked.text[:200]}",
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="network_gap_item",
        object_id=locked.uuid,
        detail={"status": locked.status},
    )
    latest = app.decisions.order_by("-decided_at", "-id").first()
    open_left = GapItem.objects.filter(decision=latest).exclude(status=GapItem.Status.ACCEPTED).exists()
    if accept and not open_left:
        _transition(app, S.UNDER_REVIEW)
        app.status = S.UNDER_REVIEW
        app.status_changed_at = clock.now()
        app.review_round = F("review_round") + 1
        _bump(app, actor, ["status", "status_changed_at", "review_round"])
        app.refresh_from_db(fields=["review_round"])
        _event(
            kind=NetworkEvent.Kind.RE_REVIEW,
            actor=actor,
            organization=app.organization,
            application=app,
            from_status=S.GAP_CLOSURE,
            to_status=S.UNDER_REVIEW,
            summary=f"All gap items accepted; {app.number} is back in review (round {app.review_round})",
        )
        _tell_provider(
            app,
            kind="network.re_review",
            subject=f"{app.number}: gap closure plan complete",
            body=f"{app.plan.name} accepted every gap closure item and is reviewing {app.number} again.",
            actor=actor,
        )
    elif not accept:
        _tell_provider(
            app,
            kind="network.gap_returned",
            subject=f"{app.number}: a gap item was returned",
            body=f"{app.plan.name} returned an item: {note[:300]}",
            actor=actor,
        )
    return locked
