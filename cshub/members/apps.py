from django.apps import AppConfig
from django.core import checks


class MembersConfig(AppConfig):
    name = "cshub.members"
    label = "members"

    def ready(self) -> None:
        from cshub.members.timeline import register_member_sources

        register_member_sources()
        checks.register(check_documentation_files, "members")


def check_documentation_files(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The assessment templates and the SDOH code ranges are validated at start-up (DESIGN principle 1):
    `cshub check` lists each problem, naming the file and the field."""
    from cshub.core.errors import DomainError
    from cshub.members.assessments import read_templates
    from cshub.members.sdoh import read_ranges

    problems = []
    for read in (read_templates, read_ranges):
        try:
            read()
        except DomainError as exc:
            problems.extend(
                checks.Error(
                    f"{e.field}: {e.message}",
                    hint="Fix the data file under cshub/data/ (rule M2 documentation).",
                    id="members.E001",
                )
                for e in exc.errors
            )
    return problems
