from django.apps import AppConfig
from django.core import checks


class CatalogConfig(AppConfig):
    name = "cshub.catalog"
    label = "catalog"
    verbose_name = "Community Supports catalog"

    def ready(self) -> None:
        checks.register(check_catalog_files, "catalog")


def check_catalog_files(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The catalog files are validated at start-up (DESIGN principle 1): `cshub check` lists each problem."""
    from cshub.catalog.loader import read_catalog
    from cshub.core.errors import DomainError

    try:
        read_catalog()
    except DomainError as exc:
        return [
            checks.Error(
                f"{e.field}{f' row {e.row}' if e.row is not None else ''}: {e.message}",
                hint="Fix the catalog file, then run `cshub catalog load`.",
                id="catalog.E001",
            )
            for e in exc.errors
        ]
    return []
