from django.contrib import admin

from cshub.exchange.models import ExchangeFile, InboxFile, SshKey


@admin.register(SshKey)
class SshKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "algorithm",
        "fingerprint",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("organization",)
    search_fields = ("name", "fingerprint", "organization__name")
    readonly_fields = [f.name for f in SshKey._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # keys are added through services.ssh_key_add (validated, audited)


@admin.register(InboxFile)
class InboxFileAdmin(admin.ModelAdmin):
    list_display = ("filename", "organization", "status", "handler", "size", "received_at")
    list_filter = ("status",)
    list_select_related = ("organization",)
    search_fields = ("filename", "sha256", "organization__name")
    readonly_fields = [f.name for f in InboxFile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ExchangeFile)
class ExchangeFileAdmin(admin.ModelAdmin):
    """Read-only: files are made by cshub.exchange.csasf (rule D1) and taken in by the CSPRTF intake;
    downloads go through the exchange files page, which logs them (rule D4)."""

    list_display = ("file_name", "kind", "organization", "plan", "production_date", "rows", "status")
    list_filter = ("kind", "status")
    list_select_related = ("organization", "plan")
    search_fields = ("file_name", "sha256", "organization__name", "organization__npi")
    readonly_fields = [f.name for f in ExchangeFile._meta.fields if f.name != "file"]
    exclude = ("file",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
