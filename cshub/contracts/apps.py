from django.apps import AppConfig
from django.core import checks


class ContractsConfig(AppConfig):
    name = "cshub.contracts"
    label = "contracts"
    verbose_name = "Contracts and training"

    def ready(self) -> None:
        from cshub.contracts.trainings import check_training_file

        # The training catalog is validated at start-up (rule N7; DESIGN principle 1).
        checks.register(check_training_file, "contracts")
