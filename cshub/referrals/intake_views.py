"""The doors in (rules R1-R4): referrer portal, public self-referral, fax/phone/email intake, plan
assignment and the provider's intake settings. Parse, call `services.referral_create`, render.

Every form re-renders with what was typed and an error beside each field when a rule refuses it (status
422); nothing is written then. The provider list ("destinations") is public directory data from
`selectors.referral_destinations`: the page draws it, htmx refreshes it when the service or the county
changes, and without JavaScript a plain "Update the provider list" button does the same.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cshub.catalog import selectors as catalog_selectors
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.core.forms import apply_domain_errors
from cshub.core.ratelimit import SubmissionLimit
from cshub.members import selectors as member_selectors
from cshub.members.models import Member
from cshub.referrals import permissions, selectors, services
from cshub.referrals.intake_forms import (
    REFERRER_KIND_FOR_ORGANIZATION,
    ContactLogForm,
    FaxIntakeForm,
    MemberLookupForm,
    PlanAssignForm,
    PortalReferralForm,
    ProviderIntakeForm,
    SelfReferralForm,
)
from cshub.referrals.models import Channel, Referral, ReferrerKind
from cshub.referrals.services import MemberDetails, ReferrerDetails

REFRESH = "refresh_destinations"  # the no-JavaScript "update the provider list" button
SELF_REFERRAL_SESSION_KEY = "referrals_self_referral_done"
MEMBER_RESULTS_SHOWN = 20


# --- Shared pieces ----------------------------------------------------------------------------------------


def _form_from(form_class: type, request: HttpRequest, initial: dict[str, Any], **kwargs: Any) -> Any:
    """The form bound to the POST, or, for the "update the provider list" button, unbound with what was
    typed as its initial values (so no errors are shown for a half-filled form)."""
    if request.method == "POST" and REFRESH in request.POST:
        typed = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", REFRESH)}
        return form_class(initial={**initial, **typed}, **kwargs)
    if request.method == "POST":
        return form_class(request.POST, request.FILES or None, initial=initial, **kwargs)
    return form_class(initial=initial, **kwargs)


def _submitted(request: HttpRequest) -> bool:
    return request.method == "POST" and REFRESH not in request.POST


def _value(form: Any, name: str) -> str:
    value = form[name].value()
    return "" if value is None else str(value)


def _destinations_context(
    *, service_key: str, county: str, selected: str, plan_view: bool, errors: list[str] | None = None
) -> dict[str, Any]:
    """What `_destinations.html` draws: the providers that take the service in the county (all of them,
    flagged when full, for the plan; only those accepting new referrals for everyone else)."""
    service = catalog_selectors.service_list().filter(key=service_key).first() if service_key else None
    providers = (
        list(
            selectors.referral_destinations(
                service_key=service.key, county=county, accepting_only=not plan_view
            ).select_related("referral_intake")
        )
        if service is not None
        else []
    )
    listed = {str(p.uuid) for p in providers}
    return {
        "destinations": providers,
        "destination_service": service,
        "destination_county": county,
        "selected_provider": selected if selected in listed else "",
        "selected_not_listed": bool(selected) and selected not in listed,
        "plan_view": plan_view,
        "destination_errors": errors or [],
    }


def _form_destinations(form: Any, *, plan_view: bool = False, county: str | None = None) -> dict[str, Any]:
    errors = list(form.errors.get("receiving_provider", [])) if form.is_bound else []
    return _destinations_context(
        service_key=_value(form, "service"),
        county=_value(form, "member_county") if county is None else county,
        selected=_value(form, "receiving_provider"),
        plan_view=plan_view,
        errors=errors,
    )


def _apply(form: Any, exc: DomainError) -> None:
    """A service's refusal: permission problems are 403 pages, the rest go beside the fields."""
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(exc.message) from exc
    apply_domain_errors(form, exc)


def _announce(request: HttpRequest, referral: Referral, *, what: str) -> None:
    """The success message: the referral number, where it went, and a possible duplicate."""
    where = (
        f"sent to {referral.receiving_provider.name}"
        if referral.receiving_provider_id
        else "sent to the plan, which will assign a provider"
    )
    text = f"{what} {referral.number} {where}."
    if referral.duplicate_of_id:
        earlier = (
            selectors.referral_queryset_for(request.user)
            .filter(pk=referral.duplicate_of_id)
            .values_list("number", flat=True)
            .first()
        )
        text += (
            " Possible duplicate: the member already has an open referral"
            + (f" ({earlier})" if earlier else "")
            + " for this Community Support. The provider will check it; you do not need to do anything."
        )
        messages.warning(request, text)
    else:
        messages.success(request, text)


def _status(form: Any, request: HttpRequest) -> int:
    return 422 if _submitted(request) and form.errors else 200


# --- The destinations partial (public directory data) -----------------------------------------------------


@require_GET
def destinations(request: HttpRequest) -> HttpResponse:
    """The provider list for a service and county, for htmx to swap into a referral form. No member data:
    open to the public form too. The plan's staff also see providers that are full (flagged)."""
    context = _destinations_context(
        service_key=request.GET.get("service", "").strip()[:80],
        county=request.GET.get("member_county", "").strip()[:40],
        selected=request.GET.get("receiving_provider", "").strip()[:40],
        plan_view=permissions.can_manage_plan_referrals(request.user),
    )
    return render(request, "referrals/intake/_destinations.html", context)


# --- 1. Referrer portal (rules R1, R3) --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_make_referrals(user):
        raise PermissionDenied("Your role does not make referrals.")
    initial = {
        "referrer_kind": REFERRER_KIND_FOR_ORGANIZATION.get(
            user.organization.kind, ReferrerKind.OTHER_PROVIDER
        )
    }
    form = _form_from(PortalReferralForm, request, initial)
    if _submitted(request) and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                actor=user,
                channel=Channel.PORTAL,
                plan=data["plan"],
                member_details=form.member_details(),
                referrer=form.referrer_details(user),
                service_key=data["service"].key,
                receiving_provider=data["receiving_provider"],
                eligibility_information=data["eligibility_information"],
                reason=data["reason"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            _announce(request, referral, what="Referral")
            return redirect("referrals:detail", uuid=referral.uuid)
    context = {"form": form, "refresh": REFRESH, **_form_destinations(form)}
    return render(request, "referrals/intake/portal_form.html", context, status=_status(form, request))


# --- 2. Public self-referral (rules R1, R4) ----------------------------------------------------------------

SELF_REFERRAL_LIMIT = SubmissionLimit("referrals:self-referral", "CSHUB_SELF_REFERRAL_RATE_LIMIT")
self_referral_rate = SELF_REFERRAL_LIMIT.rate  # "5/h" as (count, seconds)


@require_http_methods(["GET", "POST"])
def self_referral(request: HttpRequest) -> HttpResponse:
    """No login. Spam resistance without third parties: a honeypot field people never see (a filled one
    "succeeds" without saving) and a limit of submissions per client address (429 above it). Only
    submissions that would be saved count, so a person correcting typos is not locked out."""
    if _submitted(request):
        wait = SELF_REFERRAL_LIMIT.seconds_to_wait(request)
        if wait:
            response = render(
                request,
                "referrals/intake/self_referral_limited.html",
                {"minutes": max(1, -(-wait // 60))},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    form = _form_from(SelfReferralForm, request, {})
    if _submitted(request):
        if form.honeypot_filled:
            SELF_REFERRAL_LIMIT.count(request)
            request.session[SELF_REFERRAL_SESSION_KEY] = {}
            return redirect("referrals:self_referral_done")
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.referral_create(
                    actor=None,
                    channel=Channel.SELF_REFERRAL,
                    plan=data["plan"],
                    member_details=form.member_details(),
                    referrer=form.referrer_details(),
                    service_key=data["service"].key,
                    receiving_provider=data["receiving_provider"],
                    eligibility_information=data["eligibility_information"],
                    reason=data["reason"],
                    consent_to_contact=data["consent_to_contact"],
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                SELF_REFERRAL_LIMIT.count(request)
                request.session[SELF_REFERRAL_SESSION_KEY] = {
                    "number": referral.number,
                    "provider": referral.receiving_provider.name if referral.receiving_provider_id else "",
                    "service": referral.service.name,
                    "email": bool(referral.referrer_email),
                }
                return redirect("referrals:self_referral_done")
    context = {
        "form": form,
        "refresh": REFRESH,
        "consent_version": services.SELF_REFERRAL_CONSENT_VERSION,
        **_form_destinations(form),
    }
    return render(request, "referrals/intake/self_referral_form.html", context, status=_status(form, request))


@require_GET
def self_referral_done(request: HttpRequest) -> HttpResponse:
    """What happens next, with the referral number and nothing else about the member."""
    done = request.session.get(SELF_REFERRAL_SESSION_KEY) or {}
    return render(request, "referrals/intake/self_referral_done.html", {"done": done})


# --- 3-4. Fax, phone and email received by a provider (rule R2) --------------------------------------------


def _require_intake_staff(user: Any) -> None:
    if not permissions.can_work_referrals(user):
        raise PermissionDenied("Only a provider's intake staff record fax, phone and email referrals.")


@login_required
@require_http_methods(["GET", "POST"])
def intake_fax(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_intake_staff(user)
    form = _form_from(FaxIntakeForm, request, {})
    if _submitted(request) and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                actor=user,
                channel=Channel.FAX,
                plan=data["plan"],
                member_details=form.member_details(),
                referrer=form.referrer_details(),
                service_key=data["service"].key,
                receiving_provider=user.organization,
                eligibility_information=data["eligibility_information"],
                reason=data["reason"],
                fax_document=data["fax_document"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            _announce(request, referral, what="Fax referral recorded:")
            return redirect("referrals:detail", uuid=referral.uuid)
    context = {"form": form, "file_lost": _submitted(request) and bool(form.errors)}
    return render(request, "referrals/intake/fax_form.html", context, status=_status(form, request))


@login_required
@require_http_methods(["GET", "POST"])
def intake_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_intake_staff(user)
    form = _form_from(ContactLogForm, request, {})
    if _submitted(request) and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                actor=user,
                channel=data["channel"],
                plan=data["plan"],
                member_details=form.member_details(),
                referrer=form.referrer_details(),
                service_key=data["service"].key,
                receiving_provider=user.organization,
                eligibility_information=data["eligibility_information"],
                reason=data["reason"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            label = "Phone" if referral.channel == Channel.PHONE else "Email"
            _announce(request, referral, what=f"{label} referral logged:")
            return redirect("referrals:detail", uuid=referral.uuid)
    return render(request, "referrals/intake/log_form.html", {"form": form}, status=_status(form, request))


# --- 5. The plan assigns a member for outreach (rule O1) -------------------------------------------------


def _details_from_member(member: Member) -> MemberDetails:
    address = ", ".join(p for p in (member.address_line, member.city, member.zip_code) if p)
    return MemberDetails(
        first_name=member.first_name,
        last_name=member.last_name,
        date_of_birth=member.date_of_birth,
        cin=member.cin,
        phone=member.phone,
        email=member.email,
        address=address,
        county=member.county.name if member.county_id else "",
        language=member.preferred_language,
        contact_preference=member.contact_preference,
    )


def _find_members(user: Any, member_id: str) -> list[Member]:
    """Members of the user's plan with this CIN or plan member ID (scoped), audited as shown."""
    if not member_id:
        return []
    members = list(member_selectors.member_search(user=user, member_id=member_id)[:MEMBER_RESULTS_SHOWN])
    member_selectors.audit_member_list(
        user=user, members=members, purpose="referral_assignment", filters={"member_id": member_id}
    )
    return members


@login_required
@require_http_methods(["GET", "POST"])
def plan_assign_member(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_manage_plan_referrals(user):
        raise PermissionDenied("Only the plan's referral staff assign members for outreach.")
    if request.method == "POST":
        member_id = request.POST.get("member_id", "").strip()[:30]
        lookup = MemberLookupForm(initial={"member_id": member_id})
    else:
        lookup = MemberLookupForm(request.GET if "member_id" in request.GET else None)
        member_id = lookup.cleaned_data["member_id"].strip() if lookup.is_bound and lookup.is_valid() else ""
    members = _find_members(user, member_id)
    county = ""
    if members and len({m.county_id for m in members}) == 1 and members[0].county_id:
        county = members[0].county.name
    initial = {
        "member_id": member_id,
        "member_county": county,
        "member": members[0].uuid if len(members) == 1 else None,
    }
    form = _form_from(PlanAssignForm, request, initial)
    if _submitted(request) and form.is_valid():
        data = form.cleaned_data
        member = member_selectors.member_get_for_user(
            user=user, uuid=data["member"], purpose="referral_assignment"
        )
        try:
            referral = services.referral_create(
                actor=user,
                channel=Channel.PLAN_ASSIGNMENT,
                plan=user.organization,
                member_details=_details_from_member(member),
                referrer=ReferrerDetails(
                    kind=ReferrerKind.PLAN, name=user.full_name or user.email, email=user.email
                ),
                service_key=data["service"].key,
                receiving_provider=data["receiving_provider"],
                member=member,
                reason=data["reason"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            _announce(request, referral, what="Outreach assignment")
            return redirect("referrals:detail", uuid=referral.uuid)
    context = {
        "lookup": lookup,
        "searched": bool(member_id),
        "members": members,
        "selected_member": _value(form, "member"),
        "form": form,
        "refresh": REFRESH,
        **_form_destinations(form, plan_view=True, county=_value(form, "member_county")),
    }
    return render(request, "referrals/intake/plan_assign.html", context, status=_status(form, request))


# --- 6. The provider's intake settings -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def intake_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    organization = user.organization
    if organization is None or not permissions.can_edit_provider_intake(user, organization):
        raise PermissionDenied("Your organization's leadership sets its referral intake.")
    intake = selectors.provider_intake_for(organization)
    initial = {
        "accepting": intake.accepting if intake else True,
        "services": [s.key for s in intake.services.all()] if intake else [],
        "counties": [c.name for c in intake.counties.all()] if intake else [],
        "intake_phone": intake.intake_phone if intake else organization.phone,
        "intake_fax": intake.intake_fax if intake else "",
        "intake_email": intake.intake_email if intake else organization.email,
    }
    form = ProviderIntakeForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.provider_intake_update(
                actor=user,
                organization=organization,
                services=data["services"],
                counties=data["counties"],
                accepting=data["accepting"],
                intake_email=data["intake_email"],
                intake_phone=data["intake_phone"],
                intake_fax=data["intake_fax"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            state = "accepting new referrals" if data["accepting"] else "not accepting new referrals"
            messages.success(request, f"Referral intake saved: {organization.name} is {state}.")
            return redirect("referrals:intake_settings")
    context = {"form": form, "intake": intake, "organization": organization}
    status = 422 if request.method == "POST" and form.errors else 200
    return render(request, "referrals/intake/settings.html", context, status=status)
