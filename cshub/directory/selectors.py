"""Every read of the directory (rules N8, N9). The public directory is built from the active contracted
services (`sources.contracted_services`), one entry per organization and service with the counties it is
contracted in; listings add the provider's words; the referral intake says whether it accepts referrals.
A page of the directory costs a fixed number of queries whatever its length."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.models import County
from cshub.core.reference import read_data_csv
from cshub.directory import permissions
from cshub.directory.models import ProgramListing
from cshub.directory.sources import ContractedService, contracted_services
from cshub.referrals.models import ProviderIntake

WEEKDAYS: tuple[tuple[str, str], ...] = (
    ("mo", "Monday"),
    ("tu", "Tuesday"),
    ("we", "Wednesday"),
    ("th", "Thursday"),
    ("fr", "Friday"),
    ("sa", "Saturday"),
    ("su", "Sunday"),
)


@cache
def language_names() -> dict[str, str]:
    """Language code -> name, from cshub/data/languages.csv."""
    return {r["code"]: r["name"] for r in read_data_csv("languages.csv")}


@dataclass
class DirectoryEntry:
    """One program of the public directory: an organization's contracted service and where it is offered."""

    organization: Organization
    service: Service
    counties: list[County]
    listing: ProgramListing | None
    accepting_counties: list[County] = field(default_factory=list)
    organization_phone: str = ""
    organization_intake_phone: str = ""

    @property
    def accepting(self) -> bool:
        """Accepting new referrals now in at least one of its counties (the referral intake says so)."""
        return bool(self.accepting_counties)

    @property
    def phone(self) -> str:
        """The program's intake line, else the organization's intake line, else its main number."""
        if self.listing and self.listing.intake_phone:
            return self.listing.intake_phone
        return self.organization_intake_phone or self.organization_phone

    @property
    def languages(self) -> list[tuple[str, str]]:
        names = language_names()
        return [(c, names.get(c, c)) for c in (self.listing.languages if self.listing else [])]

    @property
    def description(self) -> str:
        return self.listing.description if self.listing and self.listing.description else ""

    @property
    def weekly_hours(self) -> list[dict[str, str]]:
        return list(self.listing.weekly_hours) if self.listing else []

    @property
    def hours_text(self) -> str:
        return self.listing.hours_text if self.listing else ""

    @property
    def hours_rows(self) -> list[tuple[str, str, str]]:
        by_day = {h["day"]: h for h in self.weekly_hours}
        return [(label, by_day[d]["opens"], by_day[d]["closes"]) for d, label in WEEKDAYS if d in by_day]

    @property
    def updated_at(self) -> dt.datetime | None:
        return self.listing.updated_at if self.listing else None

    @property
    def county_names(self) -> list[str]:
        return [c.name for c in self.counties]


def _intake_accepts(intake: ProviderIntake | None, service_id: int, county_id: int) -> bool:
    """The rule `referrals.selectors.referral_destinations` routes by: the intake takes the service, is
    accepting, and lists the county (no counties listed = every county)."""
    if intake is None or not intake.accepting:
        return False
    if service_id not in {s.pk for s in intake.services.all()}:
        return False
    counties = {c.pk for c in intake.counties.all()}
    return not counties or county_id in counties


def _entries(rows: list[ContractedService]) -> list[DirectoryEntry]:
    org_ids = {r.organization_id for r in rows}
    organizations = {o.pk: o for o in Organization.objects.filter(pk__in=org_ids, is_active=True)}
    services = {s.pk: s for s in Service.objects.filter(pk__in={r.service_id for r in rows}, active=True)}
    counties = {c.pk: c for c in County.objects.filter(pk__in={r.county_id for r in rows})}
    listings = {
        (li.organization_id, li.service_id): li
        for li in ProgramListing.objects.filter(organization_id__in=organizations)
    }
    intakes = {
        i.organization_id: i
        for i in ProviderIntake.objects.filter(organization_id__in=organizations).prefetch_related(
            "services", "counties"
        )
    }
    grouped: dict[tuple[int, int], list[County]] = defaultdict(list)
    for r in rows:
        if r.organization_id in organizations and r.service_id in services and r.county_id in counties:
            grouped[(r.organization_id, r.service_id)].append(counties[r.county_id])
    entries = []
    for (org_id, service_id), county_list in grouped.items():
        org = organizations[org_id]
        intake = intakes.get(org_id)
        county_list.sort(key=lambda c: c.name)
        entries.append(
            DirectoryEntry(
                organization=org,
                service=services[service_id],
                counties=county_list,
                listing=listings.get((org_id, service_id)),
                accepting_counties=[c for c in county_list if _intake_accepts(intake, service_id, c.pk)],
                organization_phone=org.phone,
                organization_intake_phone=intake.intake_phone if intake else "",
            )
        )
    entries.sort(key=lambda e: (e.service.sort_order, e.service.name, e.organization.name.lower()))
    return entries


def directory_entries(
    *,
    county: str = "",
    service: str = "",
    language: str = "",
    accepting: bool | None = None,
    q: str = "",
    plan: Organization | None = None,
    on: dt.date | None = None,
) -> list[DirectoryEntry]:
    """Rule N8: the public directory, active contracted services only, filtered. `county` is a county
    name, `service` a catalog key, `language` a code of languages.csv; `accepting=True` keeps programs
    accepting referrals now (in `county` when one is given). Public data: not scoped, not audited."""
    rows = contracted_services(on=on or clock.today(), plan=plan)
    entries = _entries(rows)
    if county:
        entries = [e for e in entries if county in e.county_names]
    if service:
        entries = [e for e in entries if e.service.key == service]
    if language:
        entries = [e for e in entries if language in (e.listing.languages if e.listing else [])]
    if accepting is not None:

        def accepts(e: DirectoryEntry) -> bool:
            if county:
                return county in {c.name for c in e.accepting_counties}
            return e.accepting

        entries = [e for e in entries if accepts(e) is accepting]
    if q:
        term = q.strip().lower()
        entries = [
            e
            for e in entries
            if term in e.organization.name.lower()
            or term in e.service.name.lower()
            or term in e.description.lower()
        ]
    return entries


def directory_entry(*, organization_uuid: Any, service_key: str, on: dt.date | None = None) -> DirectoryEntry:
    """One program of the public directory; 404 unless it is an active contracted service (rule N8)."""
    organization = Organization.objects.filter(uuid=organization_uuid, is_active=True).first()
    if organization is None:
        raise Http404("No such program in the directory.")
    rows = [r for r in contracted_services(on=on or clock.today()) if r.organization_id == organization.pk]
    for entry in _entries(rows):
        if entry.service.key == service_key:
            return entry
    raise Http404("No such program in the directory.")


def directory_plans() -> QuerySet[Organization]:
    from cshub.accounts.roles import OrganizationKind

    return Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True).order_by("name")


def directory_filter_choices() -> dict[str, Any]:
    return {
        "counties": list(County.objects.order_by("name").values_list("name", flat=True)),
        "services": list(
            Service.objects.filter(active=True).order_by("sort_order", "name").values_list("key", "name")
        ),
        "languages": sorted(language_names().items(), key=lambda kv: kv[1]),
        "plans": list(directory_plans().values_list("plan_code", "name")),
    }


# --- Program listings (rule N9) -------------------------------------------------------------------------


def listing_queryset_for(user: object) -> QuerySet[ProgramListing]:
    """The one scoping function: a provider's leadership see their own organization's listings, the
    plan's network staff see every listing, everyone else none."""
    qs = ProgramListing.objects.select_related("organization", "service", "updated_by")
    if permissions.can_view_all_listings(user):
        return qs
    if permissions.can_manage_listings(user):
        return qs.filter(organization_id=user.organization_id)
    return qs.none()


def listing_list(*, user: object, q: str = "", service: str = "") -> QuerySet[ProgramListing]:
    qs = listing_queryset_for(user)
    if service:
        qs = qs.filter(service__key=service)
    if q:
        qs = qs.filter(organization__name__icontains=q.strip())
    return qs.order_by("organization__name", "service__sort_order", "id")


def listing_get_for_user(*, user: object, uuid: Any) -> ProgramListing:
    listing = listing_queryset_for(user).filter(uuid=uuid).first()
    if listing is None:
        raise Http404("No such program listing.")
    return listing


@dataclass
class ContractedProgram:
    """A service the user's organization is contracted for, with its listing when claimed."""

    service: Service
    counties: list[County]
    listing: ProgramListing | None


def contracted_programs_for(*, user: object, on: dt.date | None = None) -> list[ContractedProgram]:
    """The own organization's active contracted services (rule N8), each with its listing if claimed."""
    if not permissions.can_manage_listings(user):
        return []
    org_id = user.organization_id
    rows = [r for r in contracted_services(on=on or clock.today()) if r.organization_id == org_id]
    services = {s.pk: s for s in Service.objects.filter(pk__in={r.service_id for r in rows}, active=True)}
    counties = {c.pk: c for c in County.objects.filter(pk__in={r.county_id for r in rows})}
    listings = {
        li.service_id: li
        for li in ProgramListing.objects.filter(organization_id=org_id).select_related("updated_by")
    }
    by_service: dict[int, list[County]] = defaultdict(list)
    for r in rows:
        if r.service_id in services and r.county_id in counties:
            by_service[r.service_id].append(counties[r.county_id])
    programs = [
        ContractedProgram(services[sid], sorted(cs, key=lambda c: c.name), listings.get(sid))
        for sid, cs in by_service.items()
    ]
    programs.sort(key=lambda p: (p.service.sort_order, p.service.name))
    return programs


def contracted_counties(
    *, organization: Organization, service: Service, on: dt.date | None = None
) -> list[str]:
    """Names of the counties `organization` is contracted for `service` in, today (rule N8)."""
    rows = contracted_services(on=on or clock.today())
    ids = {r.county_id for r in rows if r.organization_id == organization.pk and r.service_id == service.pk}
    return list(County.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True))


def listing_accepting(listing: ProgramListing) -> bool:
    """Whether the listing's program accepts referrals now, as the referral intake has it."""
    intake = (
        ProviderIntake.objects.filter(organization_id=listing.organization_id)
        .prefetch_related("services")
        .first()
    )
    return bool(intake and intake.accepting and listing.service_id in {s.pk for s in intake.services.all()})


@dataclass
class DirectoryFilters:
    county: str = ""
    service: str = ""
    language: str = ""
    accepting: bool | None = None
    q: str = ""
    plan: Organization | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "county": self.county,
            "service": self.service,
            "language": self.language,
            "accepting": self.accepting,
            "q": self.q,
            "plan": self.plan,
        }


def directory_filters_clean(
    *,
    county: str = "",
    service: str = "",
    language: str = "",
    accepting: bool | None = None,
    q: str = "",
    plan: str = "",
) -> DirectoryFilters:
    """Check the filters of the directory; unknown values get a field error (422), never an empty page
    that looks like "no providers"."""
    from cshub.core.errors import DomainError, FieldError
    from cshub.directory import errors

    problems: list[FieldError] = []
    county = (county or "").strip()
    if county:
        match = County.objects.filter(name__iexact=county).first()
        if match is None:
            problems.append(FieldError("county", "Not a California county.", "county"))
        else:
            county = match.name
    service = (service or "").strip()
    if service and not Service.objects.filter(key=service, active=True).exists():
        problems.append(FieldError("service", "Not a Community Support of the catalog.", "choice"))
    language = (language or "").strip().lower()
    if language and language not in language_names():
        problems.append(FieldError("language", "Not a language code of the directory.", "choice"))
    plan_org = None
    plan = (plan or "").strip()
    if plan:
        plan_org = directory_plans().filter(plan_code__iexact=plan).first()
        if plan_org is None:
            problems.append(FieldError("plan", "Not a health plan code.", "choice"))
    if problems:
        raise DomainError("The directory filters are not valid.", errors.FILTER_INVALID, problems)
    return DirectoryFilters(county, service, language, accepting, (q or "").strip()[:100], plan_org)
