"""`cshub exchange csasf [--date D] [--provider NPI] [--plan CODE]`: make the CSASF files of a day (rule D1).

Without --date: the most recent scheduled day (the 15th, the 29th, or a short month's last day), which is
what the worker's hourly run does. Files that exist already are left as they are and listed as such.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cshub.core.context import acting
from cshub.exchange import csasf

HELP = "make the CSASF of each contracted provider for a day (rule D1); existing files are kept"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="production date YYYY-MM-DD (default: the most recent 15th, 29th or short month's last day)",
    )
    parser.add_argument("--provider", default="", help="only this provider (its NPI)")
    parser.add_argument("--plan", default="", help="only this plan (its DHCS plan code)")


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    if options["plan"] and not csasf.csasf_plans(options["plan"]):
        raise CommandError(f"No active plan has the plan code {options['plan']}.")
    with acting("command"):
        result = csasf.csasf_run(
            production_date=options["date"], plan_code=options["plan"], provider_npi=options["provider"]
        )
    if not csasf.csasf_is_due(result.production_date):
        command.stderr.write(f"Note: {result.production_date} is not a scheduled CSASF day (rule D1).")
    for f in result.files:
        command.stdout.write(f"{f.file_name}\t{f.rows} rows\t{f.organization.name}\t{f.outbox_path}")
    command.stdout.write(
        f"CSASF {result.production_date}: {len(result.files)} files, {result.made} new, "
        f"{len(result.files) - result.made} already made."
    )
    if options["provider"] and not result.files and not result.failed:
        npi, day = options["provider"], result.production_date
        raise CommandError(f"No provider with NPI {npi} is contracted on {day}.")
    if result.failed:
        for line in result.failed:
            command.stderr.write(f"Failed: {line}")
        raise CommandError(f"{len(result.failed)} files could not be made; see above (the next run retries).")
