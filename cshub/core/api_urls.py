"""/api/openapi.json and /api/docs, as DESIGN.md names them, alongside the versioned /api/v1/ root."""

from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("openapi.json", RedirectView.as_view(url="/api/v1/openapi.json", permanent=False), name="openapi"),
    path("docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api-docs"),
]
