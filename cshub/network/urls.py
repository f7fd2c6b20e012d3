from django.urls import path
from django.views.generic import RedirectView

from cshub.network import views

app_name = "network"

urlpatterns = [
    # /network/ itself: the applications (the review queue for network staff, its own for a provider)
    path("", RedirectView.as_view(pattern_name="network:application_list"), name="home"),
    path("interest/", views.interest_form, name="interest_form"),
    path("interest/thanks/", views.interest_done, name="interest_done"),
    path("interest-forms/", views.interest_list, name="interest_list"),
    path("interest-forms/<uuid:uuid>/", views.interest_detail, name="interest_detail"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/participation-request/", views.participation_request, name="participation_request"),
    path("applications/<uuid:uuid>/", views.application_detail, name="application_detail"),
    path("applications/<uuid:uuid>/save/", views.application_save, name="application_save"),
    path("applications/<uuid:uuid>/scope/", views.application_scope, name="application_scope"),
    path("applications/<uuid:uuid>/attachments/", views.attachment_add, name="attachment_add"),
    path(
        "applications/<uuid:uuid>/attachments/<uuid:attachment>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("applications/<uuid:uuid>/findings/", views.finding_add, name="finding_add"),
    path("applications/<uuid:uuid>/decision/", views.decide, name="decide"),
    path("gap-items/<uuid:item>/respond/", views.gap_respond, name="gap_respond"),
    path("gap-items/<uuid:item>/review/", views.gap_review, name="gap_review"),
    path("gap-items/<uuid:item>/files/<uuid:file>/", views.gap_file_download, name="gap_file_download"),
]
