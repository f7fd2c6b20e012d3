from django.urls import path

from cshub.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("programs/<uuid:organization>/<slug:service>/", views.program_detail, name="program"),
    path("listings/", views.listing_list, name="listings"),
    path("listings/claim/", views.listing_claim, name="listing_claim"),
    path("listings/<uuid:uuid>/", views.listing_edit, name="listing_edit"),
]
