"""`cshub exchange ingest FILE... [--provider NPI]`: take in CSPRTF files (rule D2) as if the provider had put
them in its SFTP inbox: the same checks, the same cutoff, the same answer in the provider's outbox.

Without --provider, the sender is the organization whose NPI the file names (row 1's CS Provider NPI, else
the NPI in the file name). Problems are printed by row and field; the command fails when a file applied
nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cshub.accounts.models import Organization
from cshub.core.context import acting
from cshub.core.errors import DomainError
from cshub.exchange import csprtf

HELP = "take in CSPRTF files (rule D2) from a provider; each answer also goes to its SFTP outbox"
SHOWN = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--provider", default="", help="NPI of the sending provider (default: the file's)")


def _sender(path: Path, data: bytes, npi: str) -> Organization:
    if not npi:
        parts = csprtf.layout().match_file_name(path.name) or {}
        npi = parts.get("provider_npi", "") or csprtf.npi_in(data)
    organization = Organization.objects.filter(npi=npi).first() if npi else None
    if organization is None:
        raise CommandError(f"{path}: no organization has NPI {npi or '(none in the file)'}; use --provider.")
    return organization


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    failed = False
    for path in options["files"]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        organization = _sender(path, data, options["provider"])
        try:
            with acting("command"):
                result = csprtf.csprtf_ingest(
                    actor=None, data=data, name=path.name, channel="command", organization=organization
                )
        except DomainError as exc:
            command.stderr.write(f"{path}: {exc}")
            failed = True
            continue
        command.stdout.write(f"{path}: {result.message}")
        for error in result.errors[:SHOWN]:
            where = f"row {error['row']}" if error["row"] else "file"
            command.stdout.write(f"  {where}, {error['column'] or error['field']}: {error['message']}")
        if result.error_count > SHOWN:
            command.stdout.write(f"  … and {result.error_count - SHOWN} more (see the error file).")
        failed = failed or not (result.applied or result.duplicate)
    if failed:
        raise CommandError("Some files applied nothing; see above.")
