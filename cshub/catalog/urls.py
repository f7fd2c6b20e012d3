from django.urls import path

from cshub.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.service_list, name="list"),
    path("<slug:key>/", views.service_detail, name="detail"),
]
