"""`cshub seed`: deterministic synthetic California data (plans, providers, members, referrals).

The generator itself is cshub/devtools/seed.py (referrals: cshub/devtools/seed_referrals.py, authorization
requests: cshub/devtools/seed_authorizations.py, provider network: cshub/devtools/seed_network.py, claims:
cshub/devtools/seed_claims.py)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cshub.devtools.seed import SeedError, reset, seed
from cshub.devtools.seed_authorizations import MAX_REQUESTS, default_authorizations
from cshub.devtools.seed_claims import DEFAULT_CLAIMS, MAX_CLAIMS
from cshub.devtools.seed_network import MAX_CONTRACTED


class Command(BaseCommand):
    help = (
        "Generate deterministic synthetic California data: plans, providers, members with eligibility and, "
        "when the service catalog is loaded, referrals in every state. "
        "The same arguments always give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=3000, help="members to create (default 3000)")
        parser.add_argument(
            "--providers", type=int, default=20, help="provider organizations of all kinds (default 20)"
        )
        parser.add_argument("--plans", type=int, default=2, help="managed care plans (default 2)")
        parser.add_argument(
            "--referrals",
            type=int,
            default=None,
            help="referrals with their history (default 5%% of the members, at most 300,000; "
            "needs the service catalog: cshub catalog load)",
        )
        parser.add_argument(
            "--authorizations",
            type=int,
            default=None,
            help="authorization requests made through the services, with letters (default: the demo's "
            f"{default_authorizations()} scenarios; 0 for none; at most {MAX_REQUESTS} whatever the size: "
            "each renders WeasyPrint letters)",
        )
        parser.add_argument(
            "--network",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="the first plan's provider network through the services: certifications, executed "
            "contracts with fee schedules, trainings, directory listings, quarterly capacity reports, "
            f"interest forms (default on; contracts for at most {MAX_CONTRACTED} CS providers whatever the "
            "size)",
        )
        parser.add_argument(
            "--claims",
            type=int,
            default=None,
            help="claims and invoices of the first plan made through the claims services, with 837P files "
            f"and their 999s, a payment run and its 835s (default one per 20 members, at most "
            f"{DEFAULT_CLAIMS}; 0 for none; at most {MAX_CLAIMS:,}; needs the network)",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed, 0 to 2**32-1 (default 2026)")
        parser.add_argument(
            "--reset", action="store_true", help="delete previously seeded data first (other data is kept)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        try:
            if opts["reset"]:
                deleted = reset(stdout=self.stdout)
                summary = ", ".join(f"{n:,} {label}" for label, n in deleted.items()) or "nothing"
                self.stdout.write(f"Reset: deleted {summary} ({time.perf_counter() - started:.1f} s).")
            result = seed(
                members=opts["members"],
                providers=opts["providers"],
                plans=opts["plans"],
                referrals=opts["referrals"],
                authorizations=opts["authorizations"],
                network=opts["network"],
                claims=opts["claims"],
                seed=opts["seed"],
                stdout=self.stdout,
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        style = self.style.WARNING if result.already_seeded else self.style.SUCCESS
        self.stdout.write(style(result.summary()))
