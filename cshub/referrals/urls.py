from django.urls import path

from cshub.referrals import views

app_name = "referrals"
urlpatterns = [
    path("<uuid:uuid>/", views.referral_detail, name="detail"),
]
