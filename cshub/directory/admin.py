from django.contrib import admin

from cshub.directory.models import ProgramListing


@admin.register(ProgramListing)
class ProgramListingAdmin(admin.ModelAdmin):
    list_display = ("organization", "service", "updated_at")
    list_select_related = ("organization", "service")
    search_fields = ("organization__name",)
    readonly_fields = ("uuid", "claimed_at", "created_at", "updated_at", "version")
