"""`cshub exchange <subcommand>`: the DHCS member information files.

    cshub exchange csasf [--date D] [--provider NPI] [--plan CODE]   make CSASF files (rule D1)
    cshub exchange ingest FILE... [--provider NPI]                   take in CSPRTF files (rule D2)

Each subcommand is a module in cshub/exchange/cli/ (see its docstring); add one by adding it to SUBCOMMANDS.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# subcommand -> module with HELP, add_arguments(parser), handle(command, options)
SUBCOMMANDS: dict[str, str] = {
    "csasf": "cshub.exchange.cli.csasf",  # rule D1, plan -> provider
    "ingest": "cshub.exchange.cli.ingest",  # rule D2, CSPRTF provider -> plan
}


def _module(name: str) -> ModuleType:
    return import_module(SUBCOMMANDS[name])


class Command(BaseCommand):
    help = "DHCS member information files: " + ", ".join(SUBCOMMANDS) + "."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name in SUBCOMMANDS:
            module = _module(name)
            module.add_arguments(sub.add_parser(name, help=module.HELP))

    def handle(self, *args: Any, **options: Any) -> None:
        _module(options["subcommand"]).handle(self, options)
