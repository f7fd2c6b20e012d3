from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "cshub.claims"
    label = "claims"
    verbose_name = "Claims, invoices and payment"

    def ready(self) -> None:
        from cshub.claims import tasks  # noqa: F401  (registers the pended-claim re-adjudication job)
