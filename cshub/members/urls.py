from django.urls import path

from cshub.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("<uuid:uuid>/", views.member_detail, name="detail"),
    path("import/", views.roster_import, name="import"),
    path("imports/", views.roster_import_list, name="imports"),
    path("imports/<uuid:uuid>/", views.roster_import_detail, name="import_detail"),
    path("imports/<uuid:uuid>/errors.csv", views.roster_import_errors, name="import_errors"),
]
