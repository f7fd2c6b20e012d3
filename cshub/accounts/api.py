"""Organizations, users and API keys over REST. Parse, call a selector or service, shape the response."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cshub.accounts import selectors, services

router = Router(tags=["organizations"])


class OrganizationOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str
    name: str
    npi: str
    tin: str
    plan_code: str
    city: str
    zip_code: str
    phone: str
    email: str
    counties: list[str]

    @staticmethod
    def resolve_counties(obj: object) -> list[str]:
        return [c.name for c in obj.counties_served.all()]


class OrganizationIn(Schema):
    kind: str
    name: str = Field(min_length=1, max_length=200)
    npi: str = ""
    tin: str = ""
    plan_code: str = ""
    address_line: str = ""
    city: str = ""
    zip_code: str = ""
    phone: str = ""
    email: str = ""
    counties: list[str] = []


class UserOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    email: str
    full_name: str
    is_active: bool
    roles: list[str]
    last_login: datetime | None

    @staticmethod
    def resolve_roles(obj: object) -> list[str]:
        return sorted(r.role for r in obj.roles.all())


@router.get("", response=list[OrganizationOut], summary="Organizations the caller may see")
@paginate(LimitOffsetPagination)
def list_organizations(request: HttpRequest, search: str = "", kind: str = "", county: str = ""):
    return selectors.organization_list(
        user=request.user, search=search, kind=kind, county=county
    ).prefetch_related("counties_served")


@router.get("/me", response=OrganizationOut, summary="The caller's own organization")
def my_organization(request: HttpRequest):
    return selectors.organization_get_for_user(user=request.user, uuid=request.user.organization.uuid)


@router.post("", response={201: OrganizationOut}, summary="Add an organization (plan network staff)")
def create_organization(request: HttpRequest, payload: OrganizationIn):
    data = payload.dict()
    counties = data.pop("counties")
    org = services.organization_create(actor=request.user, counties=counties, **data)
    return Status(201, org)


@router.get("/{uuid}", response=OrganizationOut)
def get_organization(request: HttpRequest, uuid: UUID):
    return selectors.organization_get_for_user(user=request.user, uuid=uuid)


@router.get("/{uuid}/users", response=list[UserOut], summary="People of an organization (its administrators)")
@paginate(LimitOffsetPagination)
def list_users(request: HttpRequest, uuid: UUID, search: str = ""):
    org = selectors.organization_get_for_user(user=request.user, uuid=uuid)
    from cshub.accounts import permissions

    if not permissions.can_manage_users_of(request.user, org):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only the organization's administrators see its users.")
    return selectors.user_list(user=request.user, organization=org, search=search)
