from django.urls import path

from cshub.authorizations import views

app_name = "authorizations"

# Pages: cshub/authorizations/views.py.
urlpatterns = [
    path("<uuid:uuid>/", views.request_detail, name="detail"),
]
