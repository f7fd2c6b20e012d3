from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cshub.core"
    label = "core"
    verbose_name = "Core"
