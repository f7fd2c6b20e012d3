from django.urls import path

from cshub.exchange import csprtf_views, views

app_name = "exchange"

urlpatterns = [
    path("keys/", views.key_list, name="keys"),
    path("keys/<uuid:uuid>/revoke/", views.key_revoke, name="key_revoke"),
    path("files/", views.file_list, name="files"),
    path("files/<uuid:uuid>/", views.file_detail, name="file_detail"),
    path("files/<uuid:uuid>/download", views.file_download, name="file_download"),
    # CSPRTF in (rule D2)
    path("csprtf/", csprtf_views.csprtf_list, name="csprtf"),
    path("csprtf/<uuid:uuid>/", csprtf_views.csprtf_detail, name="csprtf_detail"),
    path("csprtf/<uuid:uuid>/errors.csv", csprtf_views.csprtf_error_file, name="csprtf_errors"),
]
