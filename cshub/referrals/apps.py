from django.apps import AppConfig
from django.core import checks


class ReferralsConfig(AppConfig):
    name = "cshub.referrals"
    label = "referrals"
    verbose_name = "Referrals, outreach and enrollment"

    def ready(self) -> None:
        checks.register(check_workflow_file, "referrals")
        from cshub.referrals import tasks, timeline  # noqa: F401  (tasks registers the periodic reminder job)

        timeline.register()  # the referrals part of the member timeline


def check_workflow_file(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The referral workflow file is validated at start-up (DESIGN principle 1)."""
    from cshub.referrals.workflow import WorkflowFileError, check_workflow

    try:
        check_workflow()
    except (WorkflowFileError, OSError) as exc:
        return [checks.Error(str(exc), id="referrals.E001")]
    return []
