"""The catalog over REST: public, read-only reference data (auth=None). Parse, call a selector, shape."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from cshub.catalog import selectors
from cshub.catalog.models import Service, ServiceCode, ServiceLimit

router = Router(tags=["catalog"])


class SourceRefOut(Schema):
    source: str = Field(description="a source id of the catalog, or 'setting:NAME' for a product default")
    confidence: str = Field(description="documented | verify | assumed")
    note: str = ""


class SourceOut(Schema):
    title: str
    short: str
    url: str


class ChecklistItemOut(SourceRefOut):
    text: str


class EligibilityItemOut(ChecklistItemOut):
    kind: str = Field(description="all (must meet), any (meets at least one), exclusion")


class DocumentsOut(Schema):
    initial: list[ChecklistItemOut]
    reauthorization: list[ChecklistItemOut]


class LengthOut(Schema):
    length: int | None
    unit: str = Field(description="days, weeks, months, hours, units, one_time, as_needed or none")
    label: str


class CodeRefOut(Schema):
    code: str = Field(examples=["H0043-U6"])
    hcpcs: str
    modifier: str


class CodeOut(CodeRefOut):
    description: str
    billing_unit: str
    note: str
    source: str
    confidence: str
    active: bool
    service_key: str
    service_name: str

    @staticmethod
    def resolve_service_key(obj: ServiceCode) -> str:
        return obj.service.key

    @staticmethod
    def resolve_service_name(obj: ServiceCode) -> str:
        return obj.service.name


class LimitOut(Schema):
    kind: str
    value: float
    unit: str
    window_days: int | None
    calendar_year: bool
    group: str = Field(description="limits with the same group are one limit shared by several services")
    note: str
    source: str
    confidence: str


class ServiceSummaryOut(Schema):
    key: str
    name: str
    aliases: list[str]
    category: str
    category_label: str
    authorization: str = Field(description="required | presumptive | not_required (rule G2)")
    authorization_plan_choice: bool
    urgent_by_default: bool
    closed_loop_referral: bool
    active: bool
    catalog_version: str
    codes: list[CodeRefOut]

    @staticmethod
    def resolve_category_label(obj: Service) -> str:
        return obj.get_category_display()

    @staticmethod
    def resolve_codes(obj: Service) -> list[ServiceCode]:
        return list(obj.codes.all())


class ServiceOut(ServiceSummaryOut):
    """The authorization guide (rule G1)."""

    description: str
    overview: str
    authorization_note: str
    initial_authorization: LengthOut
    reauthorization: LengthOut
    eligibility: list[EligibilityItemOut]
    documents: DocumentsOut = Field(description="rule A6: for the initial request and for an extension")
    codes: list[CodeOut]
    limits: list[LimitOut]
    source_notes: dict[str, SourceRefOut] = Field(description="where each single value came from")
    sources: dict[str, SourceOut]

    @staticmethod
    def resolve_initial_authorization(obj: Service) -> dict[str, object]:
        return {
            "length": obj.initial_auth_length,
            "unit": obj.initial_auth_unit,
            "label": obj.initial_auth_label,
        }

    @staticmethod
    def resolve_reauthorization(obj: Service) -> dict[str, object]:
        return {"length": obj.reauth_length, "unit": obj.reauth_unit, "label": obj.reauth_label}

    @staticmethod
    def resolve_documents(obj: Service) -> dict[str, object]:
        return {"initial": obj.documents_initial, "reauthorization": obj.documents_reauthorization}

    @staticmethod
    def resolve_limits(obj: Service) -> list[ServiceLimit]:
        return list(obj.limits.all())


class ServiceFilters(Schema):
    category: str = Field("", description="housing, recuperative or long_term")
    search: str = Field(
        "", max_length=100, description="words matched against names, earlier names and codes"
    )
    active: bool = Field(True, description="false lists inactive services too")


class CodeFilters(Schema):
    hcpcs: str = Field("", pattern=r"^([A-Za-z]\d{4})?$", description="e.g. H0043")
    modifier: str = Field("", pattern=r"^([A-Za-z0-9]{2})?$", description="e.g. U6")


@router.get("/services", response=list[ServiceSummaryOut], auth=None, summary="Community Supports")
def list_services(request: HttpRequest, filters: Query[ServiceFilters]):
    return selectors.service_list(
        active_only=filters.active,
        category=filters.category or None,
        search=filters.search,
        with_codes=True,
    )


@router.get("/services/{key}", response=ServiceOut, auth=None, summary="One Community Support's guide")
def get_service(request: HttpRequest, key: str):
    return selectors.service_get(key)


@router.get("/codes", response=list[CodeOut], auth=None, summary="Look up HCPCS code + modifier pairs")
def list_codes(request: HttpRequest, filters: Query[CodeFilters]):
    return selectors.code_search(hcpcs=filters.hcpcs, modifier=filters.modifier)
