from django.apps import AppConfig


class NetworkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cshub.network"
    label = "network"
    verbose_name = "Provider network: interest, certification, review"
