from django.urls import path

from cshub.contracts import views

app_name = "contracts"

# Pages: cshub/contracts/views.py (rules N6, N7).
urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_new, name="new"),
    path("<uuid:uuid>/", views.contract_detail, name="detail"),
    path("<uuid:uuid>/dates/", views.contract_dates, name="dates"),
    path("<uuid:uuid>/rows/", views.contract_rows, name="rows"),
    path("<uuid:uuid>/fees/", views.contract_fee_add, name="fee_add"),
    path("<uuid:uuid>/fees/<uuid:fee>/remove/", views.contract_fee_remove, name="fee_remove"),
    path("<uuid:uuid>/execute/", views.contract_execute, name="execute"),
    path("<uuid:uuid>/terminate/", views.contract_terminate, name="terminate"),
    path("<uuid:uuid>/amend/", views.contract_amend, name="amend"),
]
