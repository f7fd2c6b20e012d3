"""`cshub catalog load` (validate the catalog files and write them to the database) and
`cshub catalog check` (validate only). Both print every error with its file and field."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cshub.catalog.loader import catalog_dir, read_catalog
from cshub.catalog.services import catalog_load
from cshub.core import context
from cshub.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Community Supports catalog: 'load' writes cshub/data/catalog to the database, 'check' validates it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,check}")
        for name, text in (("load", "validate and load the catalog files"), ("check", "validate only")):
            action = sub.add_parser(name, help=text)
            action.add_argument(
                "--dir",
                dest="directory",
                type=Path,
                default=None,
                help="catalog folder (default: setting CSHUB_CATALOG_DIR or cshub/data/catalog)",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options.get("directory") or catalog_dir()
        try:
            if options["action"] == "check":
                spec = read_catalog(directory)
                message = f"Catalog {spec.version} in {directory}: {len(spec.services)} services and "
                message += f"{len(spec.codes)} codes, valid."
            else:
                with context.acting("cli"):
                    message = catalog_load(directory=directory).summary()
        except DomainError as exc:
            for error in exc.errors:
                row = f" row {error.row}" if error.row is not None else ""
                self.stderr.write(f"  {error.field}{row}: {error.message}")
            raise CommandError(f"{exc.message} ({len(exc.errors)} problems)") from exc
        if options["verbosity"] >= 1:
            self.stdout.write(message)
