from django.contrib import admin
from django.urls import include, path

from cshub.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/", include("cshub.core.api_urls")),
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
    path("organizations/", include("cshub.accounts.urls")),
    path("catalog/", include("cshub.catalog.urls")),
    path("members/", include("cshub.members.urls")),
    path("referrals/", include("cshub.referrals.urls")),
    path("notifications/", include("cshub.notifications.urls")),
    path("authorizations/", include("cshub.authorizations.urls")),
    path("network/", include("cshub.network.urls")),
    path("directory/", include("cshub.directory.urls")),
    path("capacity/", include("cshub.capacity.urls")),
    path("contracts/", include("cshub.contracts.urls")),
    path("training/", include("cshub.contracts.training_urls")),
    path("exchange/", include("cshub.exchange.urls")),
    path("claims/", include("cshub.claims.urls")),
    path("reports/", include("cshub.reports.urls")),
    path("", include("cshub.web.urls")),
]
