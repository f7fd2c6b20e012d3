from django.urls import path

from cshub.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.organization_list, name="organization_list"),
    path("new/", views.organization_edit, name="organization_create"),
    path("mine/", views.my_organization, name="my_organization"),
    path("<uuid:uuid>/", views.organization_detail, name="organization_detail"),
    path("<uuid:uuid>/edit/", views.organization_edit, name="organization_edit"),
    path("<uuid:uuid>/contacts/new/", views.contact_add, name="contact_add"),
    path("<uuid:uuid>/users/invite/", views.user_invite, name="user_invite"),
    path("<uuid:uuid>/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("<uuid:uuid>/api-keys/<uuid:key_uuid>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
