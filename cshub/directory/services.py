"""Every write of the directory (rule N9): a provider claims the listing of a contracted service and edits
it. Edits are validated field by field before anything is written, saved in one transaction with an audit
row, and guarded by an optimistic lock (`version`).

"Accepting referrals now" is not a column of the listing: it writes through to the provider's referral
intake (`referrals.services.provider_intake_update`), which referral routing reads, so the directory and
the referral form always agree. A listing accepts when the intake is accepting and lists its service;
switching one listing off takes its service out of the intake; switching it on puts the service back (and,
when the whole intake was switched off, turns it on for this service only, so no other program reopens).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import ConflictError, DomainError, FieldError, PermissionDeniedError
from cshub.core.validators import normalize_phone
from cshub.directory import errors, permissions, selectors
from cshub.directory.models import ProgramListing
from cshub.referrals import selectors as referral_selectors
from cshub.referrals import services as referral_services

DESCRIPTION_MAX = 4000
HOURS_TEXT_MAX = 300
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = [d for d, _ in selectors.WEEKDAYS]


@transaction.atomic
def listing_claim(*, actor: Any, service_key: str) -> ProgramListing:
    """Rule N9: the provider's leadership claim the listing of a service their organization is contracted
    for today (rule N8). Claiming an already claimed listing returns it unchanged."""
    if not permissions.can_manage_listings(actor):
        raise PermissionDeniedError("Only your organization's leadership manage its program listings.")
    service = Service.objects.filter(key=(service_key or "").strip(), active=True).first()
    organization = actor.organization
    if service is None or not selectors.contracted_counties(organization=organization, service=service):
        raise DomainError(
            "Your organization has no contract in force for this service.",
            errors.LISTING_NOT_CONTRACTED,
            [
                FieldError(
                    "service", "Choose a service your organization is contracted for.", "not_contracted"
                )
            ],
        )
    listing, created = ProgramListing.objects.get_or_create(
        organization=organization,
        service=service,
        defaults={"claimed_at": clock.now(), "created_by": actor, "updated_by": actor},
    )
    if created:
        audit_record(
            actor=actor,
            action="create",
            object_type="program_listing",
            object_id=listing.uuid,
            detail={"organization": organization.name, "service": service.key, "event": "claimed"},
        )
    return listing


def _clean_hours(weekly_hours: Any, problems: list[FieldError]) -> list[dict[str, str]]:
    """[{"day", "opens", "closes"}], one range per weekday, HH:MM, opening before closing."""
    if weekly_hours in (None, ""):
        return []
    if not isinstance(weekly_hours, list):
        problems.append(FieldError("weekly_hours", "Give a list of opening hours per weekday.", "invalid"))
        return []
    cleaned: dict[str, dict[str, str]] = {}
    for item in weekly_hours:
        day = str((item or {}).get("day", "")).strip().lower()[:2] if isinstance(item, dict) else ""
        if day not in _DAYS:
            problems.append(FieldError("weekly_hours", "Each entry needs a weekday (mo … su).", "weekday"))
            continue
        opens = str(item.get("opens") or "").strip()[:5]
        closes = str(item.get("closes") or "").strip()[:5]
        if not opens and not closes:
            continue
        if not _TIME.match(opens) or not _TIME.match(closes):
            problems.append(FieldError(f"hours_{day}", "Enter opening and closing times as HH:MM.", "time"))
            continue
        if opens >= closes:
            problems.append(
                FieldError(f"hours_{day}", "The closing time must be after the opening time.", "time")
            )
            continue
        if day in cleaned:
            problems.append(FieldError(f"hours_{day}", "Give one opening range per weekday.", "duplicate"))
            continue
        cleaned[day] = {"day": day, "opens": opens, "closes": closes}
    return [cleaned[d] for d in _DAYS if d in cleaned]


def _snapshot(listing: ProgramListing, accepting: bool) -> dict[str, Any]:
    return {
        "description": listing.description,
        "hours_text": listing.hours_text,
        "weekly_hours": listing.weekly_hours,
        "languages": listing.languages,
        "intake_phone": listing.intake_phone,
        "accepting": accepting,
    }


def _write_accepting(*, actor: Any, listing: ProgramListing, accepting: bool) -> None:
    """Write "accepting referrals now" through to the referral intake, through its own service."""
    organization = listing.organization
    service = listing.service
    intake = referral_selectors.provider_intake_for(organization)
    if intake is None:
        if not accepting:
            return
        referral_services.provider_intake_update(
            actor=actor,
            organization=organization,
            services=[service.key],
            counties=selectors.contracted_counties(organization=organization, service=service),
            accepting=True,
        )
        return
    keys = {s.key for s in intake.services.all()}
    if accepting:
        keys = keys | {service.key} if intake.accepting else {service.key}
    else:
        keys.discard(service.key)
    referral_services.provider_intake_update(
        actor=actor,
        organization=organization,
        services=sorted(keys),
        counties=[c.name for c in intake.counties.all()],
        accepting=True if accepting else intake.accepting,
        intake_email=intake.intake_email,
        intake_phone=intake.intake_phone,
        intake_fax=intake.intake_fax,
    )


@transaction.atomic
def listing_update(
    *,
    actor: Any,
    listing: ProgramListing,
    description: str = "",
    hours_text: str = "",
    weekly_hours: list[dict[str, str]] | None = None,
    languages: list[str] | None = None,
    intake_phone: str = "",
    accepting: bool | None = None,
    version: int | None = None,
) -> ProgramListing:
    """Rule N9: the owner edits the listing. Every field is checked first; on any problem nothing is
    saved (including the intake). `accepting=None` leaves it as it is. Locks the listing row."""
    if not permissions.can_edit_listing(actor, listing):
        raise PermissionDeniedError("Only your organization's leadership edit its program listings.")
    problems: list[FieldError] = []
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            FieldError("description", f"Keep the description under {DESCRIPTION_MAX} characters.", "length")
        )
    hours_text = (hours_text or "").strip()
    if len(hours_text) > HOURS_TEXT_MAX:
        problems.append(
            FieldError("hours_text", f"Keep the hours under {HOURS_TEXT_MAX} characters.", "length")
        )
    hours = _clean_hours(weekly_hours, problems)
    codes = [c.strip().lower() for c in (languages or []) if c and c.strip()]
    unknown = sorted(set(codes) - set(selectors.language_names()))
    if unknown:
        problems.append(
            FieldError("languages", f"Not a language code of the directory: {', '.join(unknown)}.", "choice")
        )
    codes = list(dict.fromkeys(c for c in codes if c not in unknown))
    phone = normalize_phone(intake_phone or "")
    if phone and len(phone) != 10:
        problems.append(FieldError("intake_phone", "Enter a 10-digit US number.", "phone"))
    if problems:
        raise DomainError("The listing was not saved.", errors.LISTING_INVALID, problems)

    locked = (
        ProgramListing.objects.select_for_update()
        .select_related("organization", "service")
        .get(pk=listing.pk)
    )
    if version is not None and int(version) != locked.version:
        raise ConflictError()
    was_accepting = selectors.listing_accepting(locked)
    before = _snapshot(locked, was_accepting)
    if accepting is not None and bool(accepting) != was_accepting:
        _write_accepting(actor=actor, listing=locked, accepting=bool(accepting))
    now_accepting = was_accepting if accepting is None else bool(accepting)
    locked.description = description
    locked.hours_text = hours_text
    locked.weekly_hours = hours
    locked.languages = codes
    locked.intake_phone = phone
    locked.version += 1
    locked.updated_by = actor
    locked.save()
    after = _snapshot(locked, now_accepting)
    audit_record(
        actor=actor,
        action="update",
        object_type="program_listing",
        object_id=locked.uuid,
        detail={
            "organization": locked.organization.name,
            "service": locked.service.key,
            "changed": sorted(k for k in after if after[k] != before[k]),
            "before": before,
            "after": after,
        },
    )
    return locked
