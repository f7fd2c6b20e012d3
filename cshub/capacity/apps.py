from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "cshub.capacity"
    label = "capacity"
    verbose_name = "Staffing and capacity reports"

    def ready(self) -> None:
        from cshub.capacity import tasks  # noqa: F401  (registers the periodic reminder and late-flag job)
