from django.apps import AppConfig
from django.core import checks

from cshub.authorizations.notice_text import check_notice_file


class AuthorizationsConfig(AppConfig):
    name = "cshub.authorizations"
    label = "authorizations"
    verbose_name = "Authorizations"

    def ready(self) -> None:
        # The notice-of-action text every denial letter carries is validated at start-up (rule A9).
        checks.register(check_notice_file, "authorizations")
        from cshub.authorizations import timeline

        timeline.register()  # the authorizations part of the member timeline
