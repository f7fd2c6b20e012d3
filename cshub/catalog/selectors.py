"""Reads of the catalog. Catalog data is public reference data (no member data), so there is no user
scoping; pages, the API and other apps still read it only through these functions."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404

from cshub.catalog.models import Service, ServiceCode, ServiceLimit

CATEGORY_RANK = Case(
    *(When(category=value, then=Value(rank)) for rank, value in enumerate(Service.Category.values)),
    default=Value(len(Service.Category.values)),
    output_field=IntegerField(),
)


def _active_codes() -> Prefetch:
    return Prefetch("codes", queryset=ServiceCode.objects.filter(active=True).order_by("hcpcs", "modifier"))


def service_list(
    *, active_only: bool = True, category: str | None = None, search: str = "", with_codes: bool = False
) -> QuerySet[Service]:
    """Services in Reference Guide order (category, then the file's order). `search` matches every word
    against the name, earlier names, key, description and codes ("H0043", "h0043-u6", "medical respite")."""
    qs = Service.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    if category:
        qs = qs.filter(category=category)
    for word in search.split()[:10]:
        qs = qs.filter(search_text__icontains=word)
    if with_codes:
        qs = qs.prefetch_related(_active_codes())
    return qs.annotate(category_rank=CATEGORY_RANK).order_by("category_rank", "sort_order", "name")


def service_get(key: str) -> Service:
    """One service with its active codes and its limits (inactive services too, so old links work);
    Http404 when the key is unknown."""
    service = (
        Service.objects.filter(key=key)
        .prefetch_related(
            _active_codes(), Prefetch("limits", queryset=ServiceLimit.objects.order_by("position"))
        )
        .first()
    )
    if service is None:
        raise Http404(f"No Community Support with key '{key}'.")
    return service


def service_for_code(hcpcs: str, modifier: str) -> Service | None:
    """The service a billed code + modifier means (rule C1): H0043-U6 is housing navigation, H0043-U3
    post-hospitalization housing. None when the pair is not a Community Supports code."""
    code = (
        ServiceCode.objects.select_related("service")
        .filter(hcpcs=hcpcs.strip().upper(), modifier=modifier.strip().upper(), active=True)
        .first()
    )
    return code.service if code else None


def codes_for_service(service: Service) -> QuerySet[ServiceCode]:
    return ServiceCode.objects.filter(service=service, active=True).order_by("hcpcs", "modifier")


def code_search(
    *, hcpcs: str = "", modifier: str = "", include_inactive: bool = False
) -> QuerySet[ServiceCode]:
    """Codes by HCPCS and/or modifier, each with its service."""
    qs = ServiceCode.objects.select_related("service")
    if not include_inactive:
        qs = qs.filter(active=True)
    if hcpcs.strip():
        qs = qs.filter(hcpcs=hcpcs.strip().upper())
    if modifier.strip():
        qs = qs.filter(modifier=modifier.strip().upper())
    return qs.order_by("hcpcs", "modifier")


def shared_limit_partners(service: Service) -> dict[str, list[Service]]:
    """For each limit group of `service`, the other active services that share the limit."""
    groups = {limit.group for limit in service.limits.all() if limit.group}
    if not groups:
        return {}
    partners: dict[str, list[Service]] = {group: [] for group in groups}
    rows = (
        ServiceLimit.objects.filter(group__in=groups, service__active=True)
        .exclude(service=service)
        .select_related("service")
        .order_by("service__sort_order")
    )
    for limit in rows:
        partners[limit.group].append(limit.service)
    return partners
