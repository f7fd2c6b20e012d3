"""The directory over REST (rules N8, N9). The directory search and its HSDS export are public (auth=None),
like the catalog; program listings need a session or an API key. Parse, call a service or selector, shape."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from cshub.core import clock
from cshub.directory import hsds, selectors, services
from cshub.directory.exports import directory_csv
from cshub.directory.models import ProgramListing
from cshub.directory.selectors import DirectoryEntry

router = Router(tags=["directory"])


class HoursOut(Schema):
    day: str = Field(description="mo, tu, we, th, fr, sa or su")
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:00"])


class LanguageOut(Schema):
    code: str
    name: str


class DirectoryEntryOut(Schema):
    organization_id: UUID
    organization_name: str
    service_key: str
    service_name: str
    counties: list[str]
    accepting_referrals: bool = Field(description="accepting new referrals now in at least one county")
    accepting_counties: list[str]
    phone: str
    description: str
    hours_text: str
    weekly_hours: list[HoursOut]
    languages: list[LanguageOut]
    listing_claimed: bool
    updated_at: dt.datetime | None

    @staticmethod
    def resolve_organization_id(obj: DirectoryEntry) -> UUID:
        return obj.organization.uuid

    @staticmethod
    def resolve_organization_name(obj: DirectoryEntry) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_service_key(obj: DirectoryEntry) -> str:
        return obj.service.key

    @staticmethod
    def resolve_service_name(obj: DirectoryEntry) -> str:
        return obj.service.name

    @staticmethod
    def resolve_counties(obj: DirectoryEntry) -> list[str]:
        return obj.county_names

    @staticmethod
    def resolve_accepting_referrals(obj: DirectoryEntry) -> bool:
        return obj.accepting

    @staticmethod
    def resolve_accepting_counties(obj: DirectoryEntry) -> list[str]:
        return [c.name for c in obj.accepting_counties]

    @staticmethod
    def resolve_languages(obj: DirectoryEntry) -> list[dict[str, str]]:
        return [{"code": c, "name": n} for c, n in obj.languages]

    @staticmethod
    def resolve_listing_claimed(obj: DirectoryEntry) -> bool:
        return obj.listing is not None


class ListingOut(Schema):
    id: UUID
    organization_id: UUID
    organization_name: str
    service_key: str
    service_name: str
    description: str
    hours_text: str
    weekly_hours: list[HoursOut]
    languages: list[str]
    intake_phone: str
    accepting_referrals: bool
    claimed_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    version: int

    @staticmethod
    def resolve_id(obj: ProgramListing) -> UUID:
        return obj.uuid

    @staticmethod
    def resolve_organization_id(obj: ProgramListing) -> UUID:
        return obj.organization.uuid

    @staticmethod
    def resolve_organization_name(obj: ProgramListing) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_service_key(obj: ProgramListing) -> str:
        return obj.service.key

    @staticmethod
    def resolve_service_name(obj: ProgramListing) -> str:
        return obj.service.name

    @staticmethod
    def resolve_accepting_referrals(obj: ProgramListing) -> bool:
        return selectors.listing_accepting(obj)

    @staticmethod
    def resolve_updated_by(obj: ProgramListing) -> str:
        user = obj.updated_by
        return (user.full_name or user.email) if user else ""


class ListingListOut(Schema):
    id: UUID
    organization_name: str
    service_key: str
    service_name: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: ProgramListing) -> UUID:
        return obj.uuid

    @staticmethod
    def resolve_organization_name(obj: ProgramListing) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_service_key(obj: ProgramListing) -> str:
        return obj.service.key

    @staticmethod
    def resolve_service_name(obj: ProgramListing) -> str:
        return obj.service.name


class ClaimIn(Schema):
    service: str = Field(description="catalog key of a service the organization is contracted for")


class HoursIn(Schema):
    day: str
    opens: str = ""
    closes: str = ""


class ListingIn(Schema):
    description: str = ""
    hours_text: str = ""
    weekly_hours: list[HoursIn] = []
    languages: list[str] = Field(default=[], description="codes of cshub/data/languages.csv")
    intake_phone: str = ""
    accepting_referrals: bool | None = Field(default=None, description="omit to leave unchanged")
    version: int | None = Field(default=None, description="the version read; 409 if it changed since")


def _filtered(county: str, service: str, language: str, accepting: bool | None, q: str, plan: str) -> list:
    filters = selectors.directory_filters_clean(
        county=county, service=service, language=language, accepting=accepting, q=q, plan=plan
    )
    return selectors.directory_entries(**filters.as_kwargs())


@router.get(
    "/services",
    auth=None,
    response=list[DirectoryEntryOut],
    summary="Rule N8: the public directory of active contracted Community Supports, filtered",
)
@paginate(LimitOffsetPagination)
def list_directory(
    request: HttpRequest,
    county: str = "",
    service: str = "",
    language: str = "",
    accepting: bool | None = None,
    q: str = "",
    plan: str = "",
):
    return _filtered(county, service, language, accepting, q, plan)


@router.get("/services.csv", auth=None, summary="The filtered directory as CSV")
def export_directory_csv(
    request: HttpRequest,
    county: str = "",
    service: str = "",
    language: str = "",
    accepting: bool | None = None,
    q: str = "",
    plan: str = "",
) -> HttpResponse:
    return directory_csv(_filtered(county, service, language, accepting, q, plan))


@router.get(
    "/hsds",
    auth=None,
    summary="Rule N8: the filtered directory as Open Referral HSDS 3.0 JSON",
    response=dict[str, Any],
)
def export_hsds(
    request: HttpRequest,
    county: str = "",
    service: str = "",
    language: str = "",
    accepting: bool | None = None,
    q: str = "",
    plan: str = "",
):
    entries = _filtered(county, service, language, accepting, q, plan)
    return hsds.hsds_document(
        entries, generated_at=clock.now(), base_url=request.build_absolute_uri("/").rstrip("/")
    )


@router.get("/listings", response=list[ListingListOut], summary="Rule N9: program listings in your scope")
@paginate(LimitOffsetPagination)
def list_listings(request: HttpRequest, q: str = "", service: str = ""):
    return selectors.listing_list(user=request.user, q=q, service=service)


@router.post(
    "/listings", response={201: ListingOut}, summary="Rule N9: claim the listing of a contracted service"
)
def claim_listing(request: HttpRequest, payload: ClaimIn):
    listing = services.listing_claim(actor=request.user, service_key=payload.service)
    return Status(201, selectors.listing_get_for_user(user=request.user, uuid=listing.uuid))


@router.get("/listings/{uuid}", response=ListingOut, summary="One program listing (404 outside your scope)")
def get_listing(request: HttpRequest, uuid: UUID):
    return selectors.listing_get_for_user(user=request.user, uuid=uuid)


@router.patch("/listings/{uuid}", response=ListingOut, summary="Rule N9: edit your organization's listing")
def update_listing(request: HttpRequest, uuid: UUID, payload: ListingIn):
    listing = selectors.listing_get_for_user(user=request.user, uuid=uuid)
    services.listing_update(
        actor=request.user,
        listing=listing,
        description=payload.description,
        hours_text=payload.hours_text,
        weekly_hours=[h.dict() for h in payload.weekly_hours],
        languages=payload.languages,
        intake_phone=payload.intake_phone,
        accepting=payload.accepting_referrals,
        version=payload.version,
    )
    return selectors.listing_get_for_user(user=request.user, uuid=uuid)
