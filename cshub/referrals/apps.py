from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "cshub.referrals"
    label = "referrals"
