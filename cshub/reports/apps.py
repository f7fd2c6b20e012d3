from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "cshub.reports"
    label = "reports"
    verbose_name = "Utilization reports, referral analytics and de-identified extracts"

    def ready(self) -> None:
        from cshub.reports import tasks  # noqa: F401  (registers the monthly report and daily snapshot jobs)
