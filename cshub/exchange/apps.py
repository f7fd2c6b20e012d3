from django.apps import AppConfig
from django.core import checks


class ExchangeConfig(AppConfig):
    name = "cshub.exchange"
    label = "exchange"
    verbose_name = "File exchange (SFTP inbox and outbox)"

    def ready(self) -> None:
        checks.register(check_layout_files, "exchange")
        checks.register(check_csprtf_codes, "exchange")
        checks.register(check_csasf_codes, "exchange")
        from cshub.exchange import tasks  # noqa: F401  (registers the inbox task and the periodic sweep)


def check_layout_files(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Every file layout in cshub/data/exchange/ is validated at start-up (DESIGN principle 1)."""
    from cshub.exchange.layouts import LayoutFileError, check_layouts

    try:
        check_layouts()
    except (LayoutFileError, OSError) as exc:
        return [checks.Error(str(exc), id="exchange.E001")]
    return []


def check_csprtf_codes(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The CSPRTF code values (cshub/data/csprtf_codes.toml) agree with its layout and the referral
    workflow."""
    from cshub.exchange.csprtf import CodesFileError, check_codes

    try:
        check_codes()
    except CodesFileError as exc:
        return [checks.Error(str(exc), id="exchange.E002")]
    return []


def check_csasf_codes(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Rule D1: every code cshub writes in a CSASF column is among the layout's valid values."""
    from cshub.exchange.csasf import check_csasf_layout
    from cshub.exchange.layouts import LayoutFileError

    try:
        problems = check_csasf_layout()
    except (LayoutFileError, OSError) as exc:  # no valid csasf.toml: exchange.E001 says why
        problems = [str(exc)]
    return [checks.Error(problem, id="exchange.E003") for problem in problems]
