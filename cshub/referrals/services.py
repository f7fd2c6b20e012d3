"""Every write of referrals (STYLE 2): one function per change, in a transaction, with its history row,
audit row and notices (DESIGN principle 3; zulip's do_* functions).

Locks: `referral_transition`, `referral_assign`, `outreach_end` and `enrollment_create` lock the referral
row (`select_for_update`) and compare `expected_version`, so two staff working one referral conflict
(409) instead of overwriting each other. Outreach attempts and documents only add rows and do not bump
the version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.locking import save_versioned
from cshub.core.models import County
from cshub.core.uploads import FAX_TYPES, check_upload
from cshub.core.validators import normalize_phone, validate_cin
from cshub.members.models import CareRelationship, EcmAssignment, EligibilitySpan, Member, ProgramEnrollment
from cshub.members.selectors import member_queryset_for
from cshub.referrals import errors, notices, permissions, selectors
from cshub.referrals.models import (
    SELF_REFERRER_KINDS,
    Channel,
    ContactPreference,
    Enrollment,
    FirstContactCheck,
    OutreachAttempt,
    ProviderIntake,
    Referral,
    ReferralDocument,
    ReferralEvent,
    ReferralReminder,
    ReferrerKind,
)
from cshub.referrals.workflow import INITIAL_STATUS, workflow

OLDEST_AGE_YEARS = 120
SELF_REFERRAL_CONSENT_VERSION = "2026-11"


# --- Input shapes (adapters build these; the service validates them) ------------------------------


@dataclass
class MemberDetails:
    """Rule R3: what the referrer knows of the member."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    cin: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    county: str = ""
    language: str = "en"
    contact_preference: str = ContactPreference.PHONE


@dataclass
class ReferrerDetails:
    kind: str
    name: str = ""
    phone: str = ""
    email: str = ""
    relationship: str = ""


def _fail(message: str, code: str, *field_errors: FieldError, status: int = 422) -> DomainError:
    return DomainError(message, code=code, errors=list(field_errors), status=status)


def _event(
    referral: Referral,
    kind: str,
    *,
    actor: Any,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    detail: dict | None = None,
) -> ReferralEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ReferralEvent.objects.create(
        referral=referral,
        at=at,
        kind=kind,
        actor=user,
        actor_label=str(user)[:200] if user else "",
        organization_id=getattr(user, "organization_id", None),
        from_status=from_status,
        to_status=to_status,
        reason=reason[:300],
        detail=detail or {},
    )


def _audit(actor: Any, action: str, referral: Referral, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="referral",
        object_id=referral.uuid,
        member_ids=[referral.member.uuid] if referral.member_id else [],
        detail={"number": referral.number, **detail},
    )


# --- Intake (rules R1-R4, R7, R8) -----------------------------------------------------------------


def _validate_member_details(
    details: MemberDetails, *, today: date
) -> tuple[list[FieldError], County | None]:
    problems: list[FieldError] = []
    details.first_name = details.first_name.strip()
    details.last_name = details.last_name.strip()
    details.cin = details.cin.strip().upper()
    details.email = details.email.strip().lower()
    details.phone = normalize_phone(details.phone)
    if not details.first_name:
        problems.append(FieldError("member_first_name", "Enter the member's first name.", "required"))
    if not details.last_name:
        problems.append(FieldError("member_last_name", "Enter the member's last name.", "required"))
    dob = details.date_of_birth
    if dob is None:
        problems.append(FieldError("member_date_of_birth", "Enter the member's date of birth.", "required"))
    elif dob > today:
        problems.append(FieldError("member_date_of_birth", "The date of birth is in the future.", "future"))
    elif dob.year < today.year - OLDEST_AGE_YEARS:
        problems.append(
            FieldError(
                "member_date_of_birth", f"The date of birth is over {OLDEST_AGE_YEARS} years ago.", "range"
            )
        )
    if details.cin:
        try:
            validate_cin(details.cin)
        except ValidationError as exc:
            problems.append(FieldError("member_cin", exc.messages[0], "cin"))
    if details.phone and len(details.phone) != 10:
        problems.append(FieldError("member_phone", "Enter a 10-digit US phone number.", "phone"))
    if details.email:
        try:
            validate_email(details.email)
        except ValidationError:
            problems.append(FieldError("member_email", "Enter a valid email address.", "email"))
    if not (details.phone or details.email or details.address.strip()):
        problems.append(
            FieldError(
                "member_phone",
                "Give at least one way to reach the member: phone, email or address (rule R3).",
                "contact_required",
            )
        )
    if details.contact_preference not in ContactPreference.values:
        problems.append(
            FieldError("member_contact_preference", "Choose how the member prefers contact.", "choice")
        )
    elif details.contact_preference == ContactPreference.EMAIL and not details.email:
        problems.append(
            FieldError("member_email", "Email is the preferred contact; enter the address.", "required")
        )
    county = None
    if details.county:
        county = County.objects.filter(name=details.county).first()
        if county is None:
            problems.append(FieldError("member_county", "Not a California county.", "county"))
    return problems, county


def _match_member(details: MemberDetails) -> Member | None:
    """A roster member with the same CIN and date of birth (both must agree: a mistyped CIN must not
    attach a referral to someone else)."""
    if not details.cin or details.date_of_birth is None:
        return None
    return Member.objects.filter(cin=details.cin, date_of_birth=details.date_of_birth).first()


def _care_relationship(
    member: Member, organization_id: int | None, reason: str, referral: Referral, on: date
) -> None:
    if member is None or organization_id is None:
        return
    CareRelationship.objects.get_or_create(
        member=member,
        organization_id=organization_id,
        reason=reason,
        source_id=str(referral.uuid),
        defaults={"start_date": on},
    )


def _check_destination(
    *, service: Service, provider: Organization, county: County | None, by_plan: bool
) -> None:
    """Routing: the chosen provider takes referrals for the service (and the county, when known) and is
    accepting new ones; the plan may assign to a provider that is full (it knows why)."""
    intake = ProviderIntake.objects.filter(organization=provider).first()
    field = "receiving_provider"
    if provider.kind not in permissions.INTAKE_ORGANIZATION_KINDS or not provider.is_active:
        raise _fail(
            "Choose a Community Supports provider.",
            errors.ROUTING_INVALID,
            FieldError(field, "Not a CS provider."),
        )
    if intake is None or not intake.services.filter(pk=service.pk).exists():
        raise _fail(
            "This provider does not take referrals for this service.",
            errors.ROUTING_INVALID,
            FieldError(field, f"{provider.name} does not offer {service.name}."),
        )
    if county is not None and intake.counties.exists() and not intake.counties.filter(pk=county.pk).exists():
        raise _fail(
            "This provider does not serve the member's county.",
            errors.ROUTING_INVALID,
            FieldError(field, f"{provider.name} does not serve {county.name} County."),
        )
    if not by_plan and not intake.accepting:
        raise _fail(
            "This provider is not accepting new referrals now.",
            errors.ROUTING_INVALID,
            FieldError(
                field,
                f"{provider.name} is not accepting new referrals; choose another or let the plan assign.",
            ),
        )


def _next_number(referral: Referral) -> str:
    return f"R-{clock.local(referral.received_at):%Y}-{referral.pk:07d}"


@transaction.atomic
def referral_create(
    *,
    actor: Any,
    channel: str,
    plan: Organization,
    member_details: MemberDetails,
    referrer: ReferrerDetails,
    service_key: str = "",
    receiving_provider: Organization | None = None,
    kind: str = Referral.Kind.COMMUNITY_SUPPORT,
    member: Member | None = None,
    eligibility_information: str = "",
    reason: str = "",
    consent_to_contact: bool = False,
    fax_document: Any = None,
    source_referral: Referral | None = None,
    received_at: datetime | None = None,
) -> Referral:
    """Record a referral from any door (rules R1-R3). Checks who may use the channel, the member details,
    the routing; matches the member by CIN + date of birth; flags a second open referral for the same
    member and service instead of refusing or duplicating it silently; keeps the fax image (rule R2);
    and tells the receiving provider (or the plan, when it is to assign)."""
    now = clock.now()
    today = clock.today()
    received_at = received_at or now
    problems, county = _validate_member_details(member_details, today=today)
    user_org = getattr(actor, "organization", None) if getattr(actor, "is_authenticated", False) else None

    # Who may use which door.
    if channel not in Channel.values:
        problems.append(FieldError("channel", "Unknown channel.", "choice"))
    if referrer.kind not in ReferrerKind.values:
        problems.append(FieldError("referrer_kind", "Choose who is referring.", "choice"))
    if channel == Channel.SELF_REFERRAL:
        if referrer.kind not in SELF_REFERRER_KINDS:
            problems.append(
                FieldError(
                    "referrer_kind",
                    "A self-referral comes from the member or their family, guardian or caregiver.",
                    "choice",
                )
            )
        if not consent_to_contact:
            problems.append(
                FieldError(
                    "consent_to_contact",
                    "Tick the box to agree that the provider and the plan may contact the member.",
                    "required",
                )
            )
        if not referrer.name.strip() and referrer.kind != ReferrerKind.MEMBER:
            problems.append(FieldError("referrer_name", "Enter your name.", "required"))
    elif channel == Channel.PLAN_ASSIGNMENT:
        if not permissions.can_manage_plan_referrals(actor) or actor.organization_id != plan.pk:
            raise PermissionDeniedError("Only the plan's staff assign members for outreach.")
        if member is None:
            problems.append(FieldError("member", "Choose the member to assign.", "required"))
        if receiving_provider is None:
            problems.append(
                FieldError("receiving_provider", "Choose the provider to do the outreach.", "required")
            )
    elif channel in (Channel.FAX, Channel.PHONE, Channel.EMAIL):
        # Rule R2: the receiving provider logs what came by fax, phone or email.
        if not permissions.can_work_referrals(actor):
            raise PermissionDeniedError("Only a provider's intake staff log fax, phone and email referrals.")
        receiving_provider = receiving_provider or user_org
        if receiving_provider is None or receiving_provider.pk != actor.organization_id:
            raise PermissionDeniedError("Log referrals received by your own organization.")
        if not referrer.name.strip():
            problems.append(FieldError("referrer_name", "Enter who made the referral.", "required"))
    elif channel in (Channel.PORTAL, Channel.API, Channel.CS_TO_CS) and not permissions.can_make_referrals(
        actor
    ):
        raise PermissionDeniedError("Your role does not make referrals.")
    if channel == Channel.FAX:
        try:
            checked_fax = check_upload(fax_document, field="fax_document", allowed=FAX_TYPES)
        except DomainError as exc:
            problems.extend(exc.errors)
            checked_fax = None
    else:
        checked_fax = None

    if not plan.is_plan:
        problems.append(FieldError("plan", "Choose the member's health plan.", "choice"))
    service = None
    if kind == Referral.Kind.COMMUNITY_SUPPORT:
        service = Service.objects.filter(key=service_key, active=True).first()
        if service is None:
            problems.append(FieldError("service", "Choose a Community Support.", "choice"))
    elif kind == Referral.Kind.ECM:
        receiving_provider = None  # rule R8: a referral to ECM goes to the plan
    else:
        problems.append(FieldError("kind", "A referral is for a Community Support or for ECM.", "choice"))
    if problems:
        raise _fail("The referral is not complete.", errors.REFERRAL_INVALID, *problems)
    if service is not None and receiving_provider is not None:
        _check_destination(
            service=service,
            provider=receiving_provider,
            county=county,
            by_plan=channel == Channel.PLAN_ASSIGNMENT
            or channel in (Channel.FAX, Channel.PHONE, Channel.EMAIL),
        )

    if member is None:
        member = _match_member(member_details)
    elif not member_queryset_for(actor).filter(pk=member.pk).exists():
        raise _fail(
            "Choose a member of your plan.", errors.REFERRAL_INVALID, FieldError("member", "Not found.")
        )
    referring_org = user_org if user_org is not None and channel != Channel.SELF_REFERRAL else None
    if referring_org is not None and referring_org.is_plan and channel != Channel.PLAN_ASSIGNMENT:
        referring_org = None
    if channel in (Channel.FAX, Channel.PHONE, Channel.EMAIL):
        referring_org = None  # the referrer is outside the platform; named in referrer_name

    referral = Referral.objects.create(
        number=f"tmp-{uuid4().hex[:16]}",
        kind=kind,
        plan=plan,
        service=service,
        receiving_provider=receiving_provider,
        channel=channel,
        referrer_kind=referrer.kind,
        referring_organization=referring_org,
        referring_user=actor if referring_org is not None else None,
        referrer_name=referrer.name.strip()[:200] or (str(actor)[:200] if referring_org else ""),
        referrer_phone=normalize_phone(referrer.phone)[:10],
        referrer_email=referrer.email.strip().lower(),
        referrer_relationship=referrer.relationship.strip()[:100],
        member=member,
        member_first_name=member_details.first_name,
        member_last_name=member_details.last_name,
        member_date_of_birth=member_details.date_of_birth,
        member_cin=member_details.cin,
        member_phone=member_details.phone,
        member_email=member_details.email,
        member_address=member_details.address.strip()[:300],
        member_county=county,
        member_language=member_details.language or "en",
        member_contact_preference=member_details.contact_preference,
        eligibility_information=eligibility_information.strip(),
        reason=reason.strip(),
        consent_to_contact=consent_to_contact,
        consent_text_version=SELF_REFERRAL_CONSENT_VERSION if channel == Channel.SELF_REFERRAL else "",
        received_at=received_at,
        status=INITIAL_STATUS,
        status_changed_at=received_at,
        source_referral=source_referral,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    referral.number = _next_number(referral)
    referral.save(update_fields=["number"])
    _event(
        referral,
        ReferralEvent.Kind.CREATED,
        actor=actor,
        at=now,
        to_status=INITIAL_STATUS,
        detail={"channel": channel, "referrer_kind": referrer.kind},
    )
    if checked_fax is not None:
        _store_document(
            referral, checked_fax.file, kind=ReferralDocument.Kind.FAX, checked=checked_fax, actor=actor
        )
    if member is not None:
        reason_code = (
            CareRelationship.Reason.OUTREACH_ASSIGNMENT
            if channel == Channel.PLAN_ASSIGNMENT
            else CareRelationship.Reason.REFERRAL_RECEIVED
        )
        _care_relationship(member, referral.receiving_provider_id, reason_code, referral, today)
        if referring_org is not None and not referring_org.is_plan:
            _care_relationship(
                member, referring_org.pk, CareRelationship.Reason.REFERRAL_MADE, referral, today
            )
        _flag_duplicate(referral, actor=actor, at=now)
    _audit(actor, "create", referral, channel=channel)
    if kind == Referral.Kind.ECM:
        _ecm_referral_check(referral, actor=actor)
    notices.referral_received(referral)
    return referral


def _flag_duplicate(referral: Referral, *, actor: Any, at: datetime) -> None:
    """A second open referral for the same member and service is flagged (and linked), not refused."""
    earlier = (
        selectors.open_referrals_for_member(
            member_id=referral.member_id, service_id=referral.service_id, kind=referral.kind
        )
        .exclude(pk=referral.pk)
        .order_by("received_at", "id")
        .first()
    )
    if earlier is None:
        return
    referral.duplicate_of = earlier
    referral.save(update_fields=["duplicate_of"])
    _event(
        referral,
        ReferralEvent.Kind.DUPLICATE,
        actor=actor,
        at=at,
        reason=f"The member already has open referral {earlier.number} for this service.",
        detail={"duplicate_of": earlier.number},
    )


def _store_document(
    referral: Referral, upload: Any, *, kind: str, checked: Any, actor: Any, description: str = ""
) -> ReferralDocument:
    document = ReferralDocument(
        referral=referral,
        kind=kind,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        description=description[:300],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    document.file.save(checked.name, upload, save=False)
    document.save()
    _event(
        referral,
        ReferralEvent.Kind.DOCUMENT,
        actor=actor,
        at=clock.now(),
        detail={"kind": kind, "name": checked.name},
    )
    return document


@transaction.atomic
def referral_document_add(
    *, actor: Any, referral: Referral, upload: Any, description: str = ""
) -> ReferralDocument:
    """Another document for the referral (provider or plan)."""
    if not permissions.parties_of(actor, referral) & {"provider", "plan"}:
        raise PermissionDeniedError("Only the receiving provider and the plan add documents.")
    checked = check_upload(upload, field="file")
    document = _store_document(
        referral,
        upload,
        kind=ReferralDocument.Kind.OTHER,
        checked=checked,
        actor=actor,
        description=description,
    )
    _audit(actor, "update", referral, document=document.original_name)
    return document


# --- Status (rules R5, R9) ------------------------------------------------------------------------


def _lock(referral: Referral, expected_version: int | None) -> Referral:
    """Lock the row and refuse when someone changed it since the caller read it (optimistic locking)."""
    current = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("member", "service")
        .get(pk=referral.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(
            f"Referral {current.number} was changed by someone else "
            f"(it is now {workflow().status(current.status).label}); "
            "reload it and try again."
        )
    return current


def _guard_message(referral: Referral, guard: str) -> str | None:
    """None when the guard holds; otherwise what is missing, in words."""
    if guard == "first_contact_eligible":
        check = referral.first_contact_checks.order_by("-created_at", "-id").first()
        if check is None:
            return "Record the eligibility check at first contact first (rule A1)."
        if not check.passed:
            return (
                "The latest first-contact check did not pass (rule A1); "
                "record a new one or choose Not eligible."
            )
        return None
    if guard == "enrolled":
        if not referral.enrollments.filter(ended_on__isnull=True).exists():
            return "Enroll the member in the service first (rule M2)."
        return None
    if guard == "outreach_o3":
        attempts = list(referral.outreach_attempts.all())
        progress = selectors.outreach_progress(referral, attempts)
        if progress.missing:
            return "Unsuccessful engagement needs rule O3 met: " + "; ".join(progress.missing) + "."
        return None
    raise ValueError(f"unknown guard {guard}")


def allowed_next_steps(*, user: Any, referral: Referral) -> list[tuple[str, str]]:
    """The statuses this user may move the referral to now, as (key, label)."""
    wf = workflow()
    parties = permissions.parties_of(user, referral)
    return [
        (key, wf.status(key).label)
        for key in wf.next_statuses(referral.status, kind=referral.kind)
        if wf.transition(referral.status, key).parties & parties
    ]


@transaction.atomic
def referral_transition(
    *, actor: Any, referral: Referral, to_status: str, reason: str = "", expected_version: int | None
) -> Referral:
    """Move the referral along the transition table: the actor must be a party the table allows, the
    reason given when required, the guard met. Records the history row and tells the referrer."""
    wf = workflow()
    referral = _lock(referral, expected_version)
    from_status = referral.status
    transition = wf.transition(from_status, to_status)
    if transition is not None and not transition.applies_to(referral.kind):
        transition = None
    reason = (reason or "").strip()
    if to_status not in wf.statuses:
        raise _fail(
            "Unknown status.",
            errors.TRANSITION_NOT_ALLOWED,
            FieldError("status", f"{to_status!r} is not a status."),
        )
    if transition is None:
        allowed = (
            ", ".join(wf.status(k).label for k in wf.next_statuses(from_status, kind=referral.kind))
            or "none (the referral is closed)"
        )
        raise _fail(
            f"A referral that is {wf.status(from_status).label} cannot become {wf.status(to_status).label}. "
            f"Allowed next steps: {allowed}.",
            errors.TRANSITION_NOT_ALLOWED,
            FieldError("status", f"Allowed next steps: {allowed}.", "transition"),
            status=409,
        )
    if not transition.parties & permissions.parties_of(actor, referral):
        mine = ", ".join(label for _, label in allowed_next_steps(user=actor, referral=referral)) or "none"
        raise PermissionDeniedError(
            f"Your organization cannot move this referral to {wf.status(to_status).label}. "
            f"Your next steps: {mine}."
        )
    if transition.reason_required and not reason:
        raise _fail(
            f"Give a reason for {wf.status(to_status).label}.",
            errors.REFERRAL_INVALID,
            FieldError("reason", "A reason is required for this status.", "required"),
        )
    if transition.guard:
        message = _guard_message(referral, transition.guard)
        if message:
            code = errors.OUTREACH_RULE_NOT_MET if transition.guard == "outreach_o3" else errors.GUARD_NOT_MET
            raise _fail(message, code, FieldError("status", message, transition.guard))
    now = clock.now()
    target = wf.status(to_status)
    referral.status = to_status
    referral.status_reason = reason[:300]
    referral.status_changed_at = now
    fields = ["status", "status_reason", "status_changed_at"]
    if target.closed:
        referral.closed_at = now
        referral.loop_closure_reason = target.loop_closure
        fields += ["closed_at", "loop_closure_reason"]
    save_versioned(referral, fields)
    _event(
        referral,
        ReferralEvent.Kind.STATUS,
        actor=actor,
        at=now,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    _audit(actor, "update", referral, from_status=from_status, to_status=to_status)
    notices.referral_status_changed(referral, from_status=from_status, reason=reason)
    return referral


@transaction.atomic
def referral_assign(
    *, actor: Any, referral: Referral, provider: Organization, expected_version: int | None
) -> Referral:
    """The plan routes a referral left to it, or re-routes one a provider could not take."""
    if "plan" not in permissions.parties_of(actor, referral):
        raise PermissionDeniedError("Only the member's plan assigns referrals.")
    referral = _lock(referral, expected_version)
    if referral.kind != Referral.Kind.COMMUNITY_SUPPORT or referral.status != INITIAL_STATUS:
        raise _fail(
            "Only a pending Community Supports referral can be assigned.",
            errors.ROUTING_INVALID,
            FieldError("receiving_provider", f"The referral is {workflow().status(referral.status).label}."),
            status=409,
        )
    _check_destination(
        service=referral.service, provider=provider, county=referral.member_county, by_plan=True
    )
    previous = referral.receiving_provider
    referral.receiving_provider = provider
    save_versioned(referral, ["receiving_provider"])
    now = clock.now()
    _event(
        referral,
        ReferralEvent.Kind.ASSIGNED,
        actor=actor,
        at=now,
        reason=f"Assigned to {provider.name}" + (f" (was {previous.name})" if previous else ""),
        detail={"provider": str(provider.uuid)},
    )
    if referral.member_id:
        _care_relationship(
            referral.member, provider.pk, CareRelationship.Reason.REFERRAL_RECEIVED, referral, clock.today()
        )
    _audit(actor, "update", referral, assigned_to=provider.name)
    notices.referral_assigned(referral)
    return referral


@transaction.atomic
def referral_match_member(*, actor: Any, referral: Referral, cin: str, date_of_birth: date) -> Referral:
    """Attach the referral to the roster member with this CIN and date of birth (provider or plan). Says
    only whether a member was found; it never lists members (minimum necessary)."""
    if not permissions.parties_of(actor, referral) & {"provider", "plan"}:
        raise PermissionDeniedError("Only the receiving provider and the plan match referrals to members.")
    details = MemberDetails(
        first_name="x", last_name="x", date_of_birth=date_of_birth, cin=(cin or "").strip().upper()
    )
    try:
        validate_cin(details.cin)
    except ValidationError as exc:
        raise _fail(
            "Enter the member's CIN.", errors.MEMBER_NOT_MATCHED, FieldError("cin", exc.messages[0], "cin")
        ) from exc
    member = _match_member(details)
    eligible = (
        member is not None
        and EligibilitySpan.objects.filter(member=member, plan_id=referral.plan_id).exists()
    )
    if not eligible:
        raise _fail(
            "No member of the plan has this CIN and date of birth.",
            errors.MEMBER_NOT_MATCHED,
            FieldError("cin", "Check the CIN and the date of birth with the member.", "not_found"),
        )
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    referral.member = member
    referral.member_cin = details.cin
    referral.save(update_fields=["member", "member_cin"])
    now = clock.now()
    _event(referral, ReferralEvent.Kind.MEMBER_MATCHED, actor=actor, at=now, detail={"cin": details.cin})
    _care_relationship(
        member,
        referral.receiving_provider_id,
        CareRelationship.Reason.REFERRAL_RECEIVED,
        referral,
        clock.today(),
    )
    if referral.referring_organization_id and not referral.referring_organization.is_plan:
        _care_relationship(
            member,
            referral.referring_organization_id,
            CareRelationship.Reason.REFERRAL_MADE,
            referral,
            clock.today(),
        )
    _flag_duplicate(referral, actor=actor, at=now)
    _audit(actor, "update", referral, matched_member=True)
    return referral


# --- Outreach (rules O1-O4, P3) -------------------------------------------------------------------

OUTREACH_END_STATUS = {
    Referral.OutreachOutcome.UNREACHABLE: "unable_to_reach",
    Referral.OutreachOutcome.DECLINED: "no_longer_interested",
    Referral.OutreachOutcome.DISENGAGED: "no_longer_interested",
    Referral.OutreachOutcome.EXCLUSION: "not_eligible",
}
OUTREACH_OPEN_STATUSES = ("pending", "accepted", "needs_member_action")


@transaction.atomic
def outreach_attempt_record(
    *,
    actor: Any,
    referral: Referral,
    attempted_at: datetime,
    modality: str,
    outcome: str,
    notes: str = "",
    telehealth_consent: bool = False,
) -> OutreachAttempt:
    """One outreach attempt (rule O1). The first attempt on a pending referral accepts it."""
    if "provider" not in permissions.parties_of(actor, referral):
        raise PermissionDeniedError("Only the receiving provider records outreach.")
    referral = Referral.objects.select_related("member", "service").get(pk=referral.pk)  # current status
    problems = []
    if modality not in OutreachAttempt.Modality.values:
        problems.append(FieldError("modality", "Choose how you reached out.", "choice"))
    if outcome not in OutreachAttempt.Outcome.values:
        problems.append(FieldError("outcome", "Choose what happened.", "choice"))
    if attempted_at is None:
        problems.append(FieldError("attempted_at", "Enter when you reached out.", "required"))
    elif attempted_at > clock.now():
        problems.append(FieldError("attempted_at", "The attempt is in the future.", "future"))
    elif attempted_at < referral.received_at:
        problems.append(
            FieldError("attempted_at", "The attempt is before the referral was received.", "range")
        )
    if modality == OutreachAttempt.Modality.TELEHEALTH and not telehealth_consent:
        problems.append(
            FieldError(
                "telehealth_consent",
                "Telehealth needs the member's consent (rule O2); tick the box once given.",
                "required",
            )
        )
    if referral.status not in OUTREACH_OPEN_STATUSES or referral.outreach_ended_at is not None:
        problems.append(
            FieldError(
                "referral",
                f"Outreach is over: the referral is {workflow().status(referral.status).label}.",
                "closed",
            )
        )
    if problems:
        raise _fail("The outreach attempt is not valid.", errors.OUTREACH_INVALID, *problems)
    attempt = OutreachAttempt.objects.create(
        referral=referral,
        attempted_at=attempted_at,
        modality=modality,
        outcome=outcome,
        notes=notes.strip(),
        telehealth_consent=telehealth_consent,
        by=actor,
        created_by=actor,
    )
    _event(
        referral,
        ReferralEvent.Kind.OUTREACH,
        actor=actor,
        at=clock.now(),
        detail={"modality": modality, "outcome": outcome, "attempted_at": attempted_at.isoformat()},
    )
    _audit(actor, "update", referral, outreach=modality)
    if referral.status == INITIAL_STATUS:
        referral_transition(
            actor=actor,
            referral=referral,
            to_status="accepted",
            reason="Outreach started",
            expected_version=None,
        )
    return attempt


@transaction.atomic
def outreach_end(
    *, actor: Any, referral: Referral, outcome: str, reason: str = "", expected_version: int | None
) -> Referral:
    """End outreach (rule O4): unreachable (only once rule O3 is met), declined, disengaged, or an exclusion
    criterion. The referral closes with the matching status, the referrer is told, and the outcome is kept
    for the CSPRTF."""
    status = OUTREACH_END_STATUS.get(outcome)
    if status is None:
        raise _fail(
            "Choose how outreach ended.",
            errors.OUTREACH_INVALID,
            FieldError(
                "outcome", "One of: unreachable, declined, disengaged, exclusion criterion.", "choice"
            ),
        )
    label = Referral.OutreachOutcome(outcome).label
    if referral.status == INITIAL_STATUS:  # outreach reached a decision before anyone accepted it
        referral = referral_transition(
            actor=actor,
            referral=referral,
            to_status="accepted",
            reason="Outreach started",
            expected_version=expected_version,
        )
        expected_version = referral.version
    referral = referral_transition(
        actor=actor,
        referral=referral,
        to_status=status,
        reason=(reason or label).strip(),
        expected_version=expected_version,
    )
    referral.outreach_outcome = outcome
    referral.outreach_ended_at = clock.now()
    save_versioned(referral, ["outreach_outcome", "outreach_ended_at"])
    _event(
        referral,
        ReferralEvent.Kind.OUTREACH_ENDED,
        actor=actor,
        at=referral.outreach_ended_at,
        reason=label,
        detail={"outcome": outcome},
    )
    return referral


# --- First contact (rule A1) ----------------------------------------------------------------------


def duplicative_programs(
    *, member: Member, service: Service | None, organization_id: int | None, on: date, ecm: bool = False
) -> list[dict]:
    """Rule A1: enrollment in the same service with another provider, and care coordination programs that
    duplicate the service (from cshub/data/care_coordination_programs.csv)."""
    from cshub.core.reference import read_data_csv

    found: list[dict] = []
    active = Q(ended_on__isnull=True) | Q(ended_on__gte=on)
    if service is not None:
        for enrollment in (
            Enrollment.objects.filter(member=member, service=service, enrolled_on__lte=on)
            .filter(active)
            .exclude(organization_id=organization_id)
            .select_related("organization")
        ):
            found.append(
                {
                    "kind": "same_service",
                    "description": f"Already enrolled in {service.name} with {enrollment.organization.name} "
                    f"since {enrollment.enrolled_on:%m/%d/%Y}",
                }
            )
    programs = {row["code"]: row for row in read_data_csv("care_coordination_programs.csv")}
    spans = ProgramEnrollment.objects.filter(member=member, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on)
    )
    for span in spans:
        row = programs.get(span.program)
        if row is None:
            continue
        duplicates = {d.strip() for d in row["duplicates"].split(";") if d.strip()}
        if (service is not None and service.key in duplicates) or (ecm and "care coordination" in duplicates):
            found.append(
                {
                    "kind": "program",
                    "description": f"Enrolled in {row['name']} since {span.start_date:%m/%d/%Y}",
                }
            )
    if ecm:
        assignment = _active_ecm_assignment(member, on)
        if assignment is not None:
            found.append(
                {"kind": "ecm", "description": f"Assigned to ECM provider {assignment.ecm_provider.name}"}
            )
    return found


def checklist_evaluate(items: list[dict], results: list[str]) -> bool:
    """The service's eligibility checklist (catalog): every "all" item met, at least one "any" item met
    when there are any, and no "exclusion" item met."""
    all_ok = all(r == "met" for i, r in zip(items, results, strict=True) if i.get("kind", "all") == "all")
    anys = [r for i, r in zip(items, results, strict=True) if i.get("kind") == "any"]
    excluded = any(r == "met" for i, r in zip(items, results, strict=True) if i.get("kind") == "exclusion")
    return all_ok and (not anys or "met" in anys) and not excluded


@transaction.atomic
def first_contact_check_record(
    *,
    actor: Any,
    referral: Referral,
    contact_on: date,
    results: list[str],
    item_notes: list[str] | None = None,
    notes: str = "",
) -> FirstContactCheck:
    """Rule A1, at first contact: plan eligibility on that date (from the roster), the service's eligibility
    checklist with a result for each item, and duplicative programs found. Each is kept with its result."""
    if not permissions.parties_of(actor, referral) & {"provider", "plan"}:
        raise PermissionDeniedError("Only the receiving provider and the plan check eligibility.")
    if referral.member_id is None:
        raise _fail(
            "Match the referral to a member first: eligibility is checked against the plan's roster.",
            errors.MEMBER_NOT_MATCHED,
            FieldError("cin", "Enter the member's CIN and date of birth to match the referral.", "required"),
        )
    problems = []
    if contact_on is None:
        problems.append(FieldError("contact_on", "Enter the date of first contact.", "required"))
    elif contact_on > clock.today():
        problems.append(FieldError("contact_on", "The date of first contact is in the future.", "future"))
    elif contact_on < clock.local(referral.received_at).date():
        problems.append(
            FieldError("contact_on", "First contact cannot be before the referral was received.", "range")
        )
    items = list(referral.service.eligibility) if referral.service else []
    item_notes = list(item_notes or [""] * len(items))
    if len(results) != len(items) or len(item_notes) != len(items):
        problems.append(
            FieldError("results", f"Give a result for each of the {len(items)} checklist items.", "count")
        )
    else:
        for n, result in enumerate(results):
            if result not in FirstContactCheck.Result.values:
                problems.append(FieldError(f"results.{n}", "Choose met, not met or not yet known.", "choice"))
    if problems:
        raise _fail("The eligibility check is not complete.", errors.FIRST_CONTACT_INVALID, *problems)
    member = referral.member
    span = (
        EligibilitySpan.objects.filter(member=member, plan_id=referral.plan_id, start_date__lte=contact_on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=contact_on))
        .first()
    )
    plan_detail = (
        f"Eligible with {referral.plan.name} on {contact_on:%m/%d/%Y} (member ID {span.plan_member_id}, "
        f"since {span.start_date:%m/%d/%Y})"
        if span
        else f"Not eligible with {referral.plan.name} on {contact_on:%m/%d/%Y}"
    )
    checklist = [
        {
            "text": item.get("text", ""),
            "kind": item.get("kind", "all"),
            "result": result,
            "note": note.strip(),
        }
        for item, result, note in zip(items, results, item_notes, strict=True)
    ]
    check = FirstContactCheck.objects.create(
        referral=referral,
        member=member,
        contact_on=contact_on,
        plan_eligible=span is not None,
        plan_eligibility_detail=plan_detail[:300],
        checklist=checklist,
        checklist_met=checklist_evaluate(items, results),
        duplicative=duplicative_programs(
            member=member,
            service=referral.service,
            organization_id=referral.receiving_provider_id,
            on=contact_on,
            ecm=referral.kind == Referral.Kind.ECM,
        ),
        notes=notes.strip(),
        by=actor,
        created_by=actor,
    )
    _event(
        referral,
        ReferralEvent.Kind.FIRST_CONTACT,
        actor=actor,
        at=clock.now(),
        reason="Passed" if check.passed else "Did not pass",
        detail={
            "plan_eligible": check.plan_eligible,
            "checklist_met": check.checklist_met,
            "duplicative": len(check.duplicative),
        },
    )
    _audit(actor, "update", referral, first_contact=check.passed)
    return check


# --- Enrollment (rules R4, M2) --------------------------------------------------------------------


def consent_problem(*, member: Member, organization_id: int, on: date) -> str | None:
    """Rule R4: the provider obtains the member's consent (release of information) before enrolling.
    None when a consent recorded by the provider is in force on `on`."""
    from cshub.members.models import Consent

    if Consent.objects.filter(
        Consent.in_force_on(on), member=member, organization_id=organization_id
    ).exists():
        return None
    return (
        "Record the member's consent and release of information first (rule R4); "
        "none is in force on that date."
    )


@transaction.atomic
def enrollment_create(
    *, actor: Any, referral: Referral, enrolled_on: date, expected_version: int | None
) -> Enrollment:
    """Enroll the member in the referral's service with the receiving provider. Needs the referral to be
    Eligible, and (rule R4) a release-of-information consent on file with the provider."""
    if "provider" not in permissions.parties_of(actor, referral):
        raise PermissionDeniedError("Only the receiving provider enrolls members.")
    referral = _lock(referral, expected_version)
    problems = []
    if referral.status != "eligible":
        problems.append(
            FieldError("status", "Mark the referral Eligible before enrolling (rule A1).", "status")
        )
    if referral.member_id is None or referral.service_id is None:
        problems.append(
            FieldError("member", "The referral must be matched to a member of the plan.", "required")
        )
    if enrolled_on is None:
        problems.append(FieldError("enrolled_on", "Enter the enrollment date.", "required"))
    elif enrolled_on > clock.today():
        problems.append(FieldError("enrolled_on", "The enrollment date is in the future.", "future"))
    if problems:
        raise _fail("The member cannot be enrolled yet.", errors.ENROLLMENT_INVALID, *problems)
    missing_consent = consent_problem(
        member=referral.member, organization_id=referral.receiving_provider_id, on=enrolled_on
    )
    if missing_consent:
        raise _fail(
            missing_consent, errors.ENROLLMENT_INVALID, FieldError("consent", missing_consent, "consent")
        )
    if Enrollment.objects.filter(
        member=referral.member,
        service=referral.service,
        organization_id=referral.receiving_provider_id,
        ended_on__isnull=True,
    ).exists():
        raise _fail(
            "The member is already enrolled in this service with your organization.",
            errors.ENROLLMENT_INVALID,
            FieldError("enrolled_on", "Already enrolled.", "duplicate"),
            status=409,
        )
    enrollment = Enrollment.objects.create(
        member=referral.member,
        organization_id=referral.receiving_provider_id,
        service=referral.service,
        referral=referral,
        enrolled_on=enrolled_on,
        enrolled_by=actor,
        created_by=actor,
    )
    referral.outreach_outcome = Referral.OutreachOutcome.ENGAGED
    referral.outreach_ended_at = referral.outreach_ended_at or clock.now()
    save_versioned(referral, ["outreach_outcome", "outreach_ended_at"])
    _event(
        referral,
        ReferralEvent.Kind.ENROLLED,
        actor=actor,
        at=clock.now(),
        detail={"enrolled_on": enrolled_on.isoformat()},
    )
    _audit(actor, "update", referral, enrolled_on=enrolled_on.isoformat())
    return enrollment


@transaction.atomic
def enrollment_end(*, actor: Any, enrollment: Enrollment, ended_on: date, reason: str) -> Enrollment:
    if not (permissions.can_work_referrals(actor) and actor.organization_id == enrollment.organization_id):
        raise PermissionDeniedError("Only the enrolling provider ends an enrollment.")
    problems = []
    if enrollment.ended_on is not None:
        problems.append(FieldError("ended_on", "The enrollment has already ended.", "closed"))
    elif ended_on is None or ended_on < enrollment.enrolled_on:
        problems.append(
            FieldError("ended_on", "The end date must be on or after the enrollment date.", "range")
        )
    elif ended_on > clock.today():
        problems.append(FieldError("ended_on", "The end date is in the future.", "future"))
    if not (reason or "").strip():
        problems.append(FieldError("end_reason", "Give the reason the enrollment ended.", "required"))
    if problems:
        raise _fail("The enrollment cannot be ended.", errors.ENROLLMENT_INVALID, *problems)
    enrollment.ended_on = ended_on
    enrollment.end_reason = reason.strip()[:300]
    enrollment.updated_by = actor
    enrollment.save(update_fields=["ended_on", "end_reason", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        object_type="enrollment",
        object_id=enrollment.uuid,
        member_ids=[enrollment.member.uuid],
    )
    return enrollment


# --- Onward referrals (rules R7, R8) --------------------------------------------------------------


def _details_from(referral: Referral) -> MemberDetails:
    return MemberDetails(
        first_name=referral.member_first_name,
        last_name=referral.member_last_name,
        date_of_birth=referral.member_date_of_birth,
        cin=referral.member_cin,
        phone=referral.member_phone,
        email=referral.member_email,
        address=referral.member_address,
        county=referral.member_county.name if referral.member_county else "",
        language=referral.member_language,
        contact_preference=referral.member_contact_preference,
    )


def referral_refer_onward(
    *, actor: Any, referral: Referral, service_key: str, receiving_provider: Organization | None, reason: str
) -> Referral:
    """Rule R7: the receiving CS provider refers the member to another CS provider (or leaves it to the
    plan). Rule R8 when `service_key` is "ecm": a referral to ECM, which goes to the plan."""
    if "provider" not in permissions.parties_of(actor, referral):
        raise PermissionDeniedError("Only the provider working this referral refers the member on.")
    if not (reason or "").strip():
        raise _fail(
            "Say why you refer the member on.",
            errors.REFERRAL_INVALID,
            FieldError("reason", "Required.", "required"),
        )
    ecm = service_key == "ecm"
    with transaction.atomic():
        onward = referral_create(
            actor=actor,
            channel=Channel.CS_TO_CS,
            plan=referral.plan,
            member_details=_details_from(referral),
            referrer=ReferrerDetails(kind=ReferrerKind.CS_PROVIDER, name=str(actor), email=actor.email),
            service_key="" if ecm else service_key,
            receiving_provider=None if ecm else receiving_provider,
            kind=Referral.Kind.ECM if ecm else Referral.Kind.COMMUNITY_SUPPORT,
            member=None,
            eligibility_information=referral.eligibility_information,
            reason=reason,
            consent_to_contact=referral.consent_to_contact,
            source_referral=referral,
        )
        if onward.member_id is None and referral.member_id is not None:
            onward.member = referral.member
            onward.save(update_fields=["member"])
        _event(
            referral,
            ReferralEvent.Kind.ONWARD,
            actor=actor,
            at=clock.now(),
            reason=f"Referred on as {onward.number}" + (" to ECM" if ecm else ""),
            detail={"onward": onward.number},
        )
    return onward


def _active_ecm_assignment(member: Member, on: date) -> EcmAssignment | None:
    return (
        EcmAssignment.objects.filter(member=member, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("ecm_provider")
        .first()
    )


def _ecm_referral_check(referral: Referral, *, actor: Any) -> None:
    """Rule R8: a member already assigned to another ECM provider cannot be referred to ECM; the referral
    ends "unable to process" and a letter goes to the referring provider."""
    if referral.member_id is None:
        return  # the plan processes it once the member is matched
    assignment = _active_ecm_assignment(referral.member, clock.today())
    if assignment is None or assignment.ecm_provider_id == referral.referring_organization_id:
        return
    now = clock.now()
    reason = "Member already assigned to another ECM provider"
    referral.status = "unable_to_process"
    referral.status_reason = reason
    referral.status_changed_at = now
    referral.closed_at = now
    referral.loop_closure_reason = workflow().status("unable_to_process").loop_closure
    save_versioned(
        referral, ["status", "status_reason", "status_changed_at", "closed_at", "loop_closure_reason"]
    )
    _event(
        referral,
        ReferralEvent.Kind.STATUS,
        actor=None,
        at=now,
        from_status=INITIAL_STATUS,
        to_status="unable_to_process",
        reason=reason,
    )
    letter = notices.unable_to_process_letter(referral, assignment=assignment)
    _event(
        referral,
        ReferralEvent.Kind.LETTER,
        actor=None,
        at=now,
        reason="Unable to process letter",
        detail={"document": str(letter.uuid)},
    )
    _audit(None, "update", referral, to_status="unable_to_process", rule="R8")


# --- Reminders (rule R6) --------------------------------------------------------------------------


def reminder_interval_days() -> int:
    return int(settings.CSHUB_REFERRAL_REMINDER_DAYS)


def referral_reminders_send(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Rule R6: remind the provider (the plan while none is assigned), and the member when email is their
    preferred contact, of every open referral whose status has not changed for a reminder interval.
    Idempotent: a reminder is claimed by inserting its (referral, recipient, period) row, so running the job
    twice never sends the same period's reminder twice. Returns the number of reminders sent."""
    now = now or clock.now()
    interval = reminder_interval_days()
    cutoff = now - timedelta(days=interval)
    sent = 0
    stale = (
        Referral.objects.filter(status__in=workflow().open_statuses, status_changed_at__lte=cutoff)
        .select_related("receiving_provider", "plan", "service")
        .order_by("id")
    )
    for referral in stale.iterator(chunk_size=batch_size):
        periods = int((now - referral.status_changed_at).total_seconds() // (interval * 86400))
        period_start = referral.status_changed_at + timedelta(days=interval * periods)
        recipients = [
            ReferralReminder.Recipient.PROVIDER
            if referral.receiving_provider_id
            else ReferralReminder.Recipient.PLAN
        ]
        if referral.member_contact_preference == ContactPreference.EMAIL and referral.member_email:
            recipients.append(ReferralReminder.Recipient.MEMBER)
        for recipient in recipients:
            with transaction.atomic():
                _, created = ReferralReminder.objects.get_or_create(
                    referral=referral,
                    recipient=recipient,
                    period_start=period_start,
                    defaults={"sent_at": now},
                )
                if not created:
                    continue
                days = (now - referral.status_changed_at).days
                notices.referral_reminder(referral, recipient=recipient, days=days)
                _event(
                    referral,
                    ReferralEvent.Kind.REMINDER,
                    actor=None,
                    at=now,
                    reason=f"Reminder to the {ReferralReminder.Recipient(recipient).label.lower()}",
                    detail={"days_unchanged": days},
                )
                sent += 1
    return sent


# --- Provider intake settings (routing data the doors in pick from) --------------------------------------
# Appended with the intake pages. Who may edit: the provider's leadership (PROVIDER_LEADERSHIP_ROLES) for
# their own CS or ECM provider organization.


@transaction.atomic
def provider_intake_update(
    *,
    actor: Any,
    organization: Organization,
    services: list[str],
    counties: list[str],
    accepting: bool,
    intake_email: str = "",
    intake_phone: str = "",
    intake_fax: str = "",
) -> ProviderIntake:
    """Set which Community Supports (catalog keys) and counties (names; none = every county) the provider
    takes referrals for, its intake contacts, and whether it accepts new referrals now. Referrers pick
    from this (`selectors.referral_destinations`); `_check_destination` enforces it."""
    if not permissions.can_edit_provider_intake(actor, organization):
        raise PermissionDeniedError("Only your organization's leadership changes its referral intake.")
    problems: list[FieldError] = []
    service_keys = sorted({s.strip() for s in services if s and s.strip()})
    chosen_services = list(Service.objects.filter(key__in=service_keys, active=True))
    unknown = sorted(set(service_keys) - {s.key for s in chosen_services})
    if unknown:
        problems.append(FieldError("services", f"Not a Community Support: {', '.join(unknown)}.", "choice"))
    county_list = sorted({c.strip() for c in counties if c and c.strip()})
    chosen_counties = list(County.objects.filter(name__in=county_list))
    unknown = sorted(set(county_list) - {c.name for c in chosen_counties})
    if unknown:
        problems.append(FieldError("counties", f"Not a California county: {', '.join(unknown)}.", "county"))
    intake_email = (intake_email or "").strip().lower()
    if intake_email:
        try:
            validate_email(intake_email)
        except ValidationError:
            problems.append(FieldError("intake_email", "Enter a valid email address.", "email"))
    phones = {}
    for field, value in (("intake_phone", intake_phone), ("intake_fax", intake_fax)):
        phones[field] = normalize_phone(value or "")
        if phones[field] and len(phones[field]) != 10:
            problems.append(FieldError(field, "Enter a 10-digit US number.", "phone"))
    if problems:
        raise _fail("The intake settings are not complete.", errors.ROUTING_INVALID, *problems)

    intake = ProviderIntake.objects.select_for_update().filter(organization=organization).first()
    created = intake is None
    if created:
        intake = ProviderIntake(organization=organization, created_by=actor)
    before = (
        {}
        if created
        else {
            "services": sorted(intake.services.values_list("key", flat=True)),
            "counties": sorted(intake.counties.values_list("name", flat=True)),
            "accepting": intake.accepting,
        }
    )
    intake.updated_by = actor
    intake.accepting = bool(accepting)
    intake.intake_email = intake_email
    intake.intake_phone = phones["intake_phone"]
    intake.intake_fax = phones["intake_fax"]
    intake.save()
    intake.services.set(chosen_services)
    intake.counties.set(chosen_counties)
    after = {
        "services": sorted(s.key for s in chosen_services),
        "counties": sorted(c.name for c in chosen_counties),
        "accepting": intake.accepting,
    }
    audit_record(
        actor=actor,
        action="create" if created else "update",
        object_type="provider_intake",
        object_id=intake.uuid,
        detail={"organization": organization.name, "before": before, "after": after},
    )
    return intake
