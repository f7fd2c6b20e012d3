from django.urls import path

from cshub.reports import views

app_name = "reports"

urlpatterns = [
    path("utilization/", views.utilization, name="utilization"),
    path("utilization/<uuid:uuid>/<str:kind>/", views.stored_report_file, name="stored_file"),
    path("referrals/", views.referral_analytics, name="referrals"),
    path("deidentified/", views.deidentified, name="deidentified"),
]
