"""`cshub members import FILE --plan PLAN_CODE_OR_UUID [--as EMAIL]`: load a plan's eligibility roster.

Without --as the system imports (the operator at the shell is trusted; the audit log says `system:cli`);
with --as the named user's permissions apply as on the web page. Exit code 1 when the roster is rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind
from cshub.core import context
from cshub.core.errors import DomainError
from cshub.members import services
from cshub.members.errors import RosterRejected
from cshub.members.models import RosterImport

ERRORS_PRINTED = 50


class Command(BaseCommand):
    help = "Member data: `members import FILE --plan CODE` loads a plan's eligibility roster (CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a roster CSV (all or nothing, idempotent)")
        imp.add_argument("file", type=Path)
        imp.add_argument("--plan", required=True, help="the plan's DHCS plan code or public id")
        imp.add_argument("--as", dest="as_email", default="", help="act as this user (email)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self.import_roster(options["file"], options["plan"], options["as_email"])

    def import_roster(self, path: Path, plan_ref: str, as_email: str) -> None:
        plan = _find_plan(plan_ref)
        actor = None
        if as_email:
            actor = User.objects.filter(email=as_email.lower(), is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {as_email}.")
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            with context.acting("cli"):
                record = services.roster_import(
                    actor=actor,
                    plan=plan,
                    file_name=path.name,
                    content=content,
                    channel=RosterImport.Channel.CLI,
                )
        except RosterRejected as exc:
            record = exc.roster_import
            self.stderr.write(f"{exc.message} (import {record.uuid})")
            for e in record.errors[:ERRORS_PRINTED]:
                self.stderr.write(f"  row {e['row']}, {e['field']}: {e['message']} [{e['value']}]")
            if record.error_count > ERRORS_PRINTED:
                self.stderr.write(f"  … {record.error_count - ERRORS_PRINTED} more in the error report")
            self.stderr.write(f"Error report: {record.error_report.name} (in the file storage)")
            raise CommandError("The roster was rejected; nothing was changed.", returncode=1) from exc
        except DomainError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self.stdout.write(
            f"Imported {path.name} for {plan.name}: {record.row_count} rows; members "
            f"{record.created_count} created, {record.updated_count} updated, "
            f"{record.unchanged_count} unchanged (import {record.uuid})."
        )


def _find_plan(ref: str) -> Organization:
    plans = Organization.objects.filter(kind=OrganizationKind.PLAN)
    try:
        plan = plans.filter(uuid=UUID(ref)).first()
    except ValueError:
        plan = plans.filter(plan_code__iexact=ref).first()
    if plan is None:
        raise CommandError(f"No plan with code or id {ref!r}.")
    return plan
