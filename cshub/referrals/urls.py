from django.urls import path

from cshub.referrals import intake_views, views

app_name = "referrals"

# Work pages: lists, queues, the referral and what is done on it (cshub/referrals/views.py).
urlpatterns = [
    path("<uuid:uuid>/", views.referral_detail, name="detail"),
]

# Doors in: the referrer portal, the public self-referral form, fax/phone/email intake, plan assignment,
# and the provider's intake settings (cshub/referrals/intake_views.py).
urlpatterns += []
