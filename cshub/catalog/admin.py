"""Read-only admin views: the catalog files are the one source of truth, so a correction is a change to
cshub/data/catalog/ followed by `cshub catalog load` (an edit here would be overwritten)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from cshub.catalog.models import Service, ServiceCode, ServiceLimit


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ServiceCodeInline(admin.TabularInline):
    model = ServiceCode
    fields = ("hcpcs", "modifier", "description", "billing_unit", "confidence", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False


class ServiceLimitInline(admin.TabularInline):
    model = ServiceLimit
    fields = ("kind", "value", "unit", "window_days", "calendar_year", "group", "confidence")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "key",
        "category",
        "authorization",
        "urgent_by_default",
        "active",
        "catalog_version",
    )
    list_filter = ("category", "authorization", "active")
    search_fields = ("name", "key", "search_text")
    inlines = (ServiceCodeInline, ServiceLimitInline)


@admin.register(ServiceCode)
class ServiceCodeAdmin(ReadOnlyAdmin):
    list_display = ("hcpcs", "modifier", "service", "billing_unit", "confidence", "active")
    list_filter = ("active", "confidence", "modifier")
    search_fields = ("hcpcs", "modifier", "service__name")


@admin.register(ServiceLimit)
class ServiceLimitAdmin(ReadOnlyAdmin):
    list_display = ("service", "kind", "value", "unit", "window_days", "group", "confidence")
    list_filter = ("kind", "group")
