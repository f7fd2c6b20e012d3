"""`cshub claims ingest FILE...` (837P files, rule C3) and `cshub claims pay` (a payment run, rule C5)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.claims.ingest import claim_file_ingest
from cshub.claims.models import ReceiptChannel
from cshub.claims.payments import payment_run_create
from cshub.core.context import acting
from cshub.core.errors import DomainError


class Command(BaseCommand):
    help = "Claims: ingest 837P files (answered with a 999 beside each) or run a payment (835 per provider)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="take in 837P files; each 999 is written next to its file")
        ingest.add_argument("files", nargs="+", type=Path)
        ingest.add_argument("--submitter", default="", help="NPI of the organization that sent the files")
        pay = sub.add_parser("pay", help="pay adjudicated claims: one EFT and one 835 per provider")
        pay.add_argument("--plan", default="", help="the plan's DHCS plan code (default: the only plan)")
        pay.add_argument("--date", type=date.fromisoformat, default=None, help="payment date, YYYY-MM-DD")
        pay.add_argument("--provider", action="append", default=[], help="billing NPI (repeat for more)")
        pay.add_argument("--received-through", type=date.fromisoformat, default=None)

    def handle(self, *args: object, **options: object) -> None:
        with acting("command"):
            if options["action"] == "ingest":
                self._ingest(options)
            else:
                self._pay(options)

    def _ingest(self, options: dict) -> None:
        submitter = None
        if options["submitter"]:
            submitter = Organization.objects.filter(npi=options["submitter"]).first()
            if submitter is None:
                raise CommandError(f"No organization has NPI {options['submitter']}.")
        failed = False
        for path in options["files"]:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from exc
            try:
                claim_file = claim_file_ingest(
                    actor=None, data=data, name=path.name, channel=ReceiptChannel.COMMAND, submitter=submitter
                )
            except DomainError as exc:
                self.stderr.write(f"{path}: {exc}")
                failed = True
                continue
            if claim_file.ack_999 and not claim_file.duplicate:
                with claim_file.ack_999.open("rb") as fh:
                    path.with_suffix(".999").write_bytes(fh.read())
            self.stdout.write(f"{path}: {claim_file.message}")
            for problem in claim_file.problems[:20]:
                where = f"{problem.get('segment_id') or ''} {problem.get('segment_position') or ''}".strip()
                self.stdout.write(f"  {where}: {problem.get('message')}")
            failed = failed or claim_file.ack_code == "R"
        if failed:
            raise CommandError("Some files were rejected; see above.")

    def _pay(self, options: dict) -> None:
        plans = Organization.objects.filter(kind=OrganizationKind.PLAN)
        if options["plan"]:
            plans = plans.filter(plan_code=options["plan"])
        if plans.count() != 1:
            raise CommandError("Name the plan with --plan CODE (its DHCS plan code).")
        ids = None
        if options["provider"]:
            ids = list(Organization.objects.filter(npi__in=options["provider"]).values_list("pk", flat=True))
            if len(ids) != len(set(options["provider"])):
                raise CommandError("An NPI given with --provider belongs to no organization.")
        try:
            run = payment_run_create(
                actor=None,
                plan=plans.get(),
                payment_date=options["date"],
                organization_ids=ids,
                received_through=options["received_through"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{run.number}: {run.claim_count} claims, {run.provider_count} providers, "
            f"${run.total_paid:,.2f} paid on {run.payment_date:%m/%d/%Y}."
        )
        for payment in run.payments.select_related("organization"):
            self.stdout.write(
                f"  {payment.organization.name}: ${payment.amount:,.2f}, EFT "
                f"{payment.eft_trace_number}, {payment.remittance_name}"
            )
