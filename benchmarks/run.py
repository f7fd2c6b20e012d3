"""Run the benchmarks and record their figures in benchmarks/RESULTS.md (`make bench`).

    python -m benchmarks.run                      # every benchmark, full size
    python -m benchmarks.run seed_members --members 200000 --no-write

Benchmarks measure; they never assert. Each one owns a section of RESULTS.md between
``<!-- name:start -->`` and ``<!-- name:end -->``, so running one leaves the others' figures alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks import csasf, referral_api, seed_members

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Written by `python -m benchmarks.run` (`make bench`); each section is replaced when its benchmark runs "
    'again. Targets are in DESIGN.md, "Scale and performance targets".\n'
)


def _seed_members(args: argparse.Namespace) -> str:
    members = args.members or seed_members.MEMBERS
    print(f"seed_members: {members:,} members into a fresh database {args.database!r} ...", flush=True)
    outcome = seed_members.run(
        members=members,
        providers=args.providers or seed_members.PROVIDERS,
        admin_url=args.admin_url,
        database=args.database or seed_members.DEFAULT_DATABASE,
    )
    return seed_members.report(outcome)


def _referral_api(args: argparse.Namespace) -> str:
    members = args.members or referral_api.MEMBERS
    referrals = args.referrals if args.referrals is not None else referral_api.REFERRALS
    database = args.database or referral_api.DEFAULT_DATABASE
    what = "the existing database" if args.reuse else f"{members:,} members and {referrals:,} referrals"
    print(f"referral_api: {what} in {database!r} ...", flush=True)
    outcome = referral_api.run(
        admin_url=args.admin_url,
        database=database,
        members=members,
        providers=args.providers or referral_api.PROVIDERS,
        referrals=referrals,
        reuse=args.reuse,
        clients=args.clients,
        duration=args.duration,
        only=args.scenario or None,
        two_processes=not args.one_process,
    )
    return referral_api.report(outcome)


def _csasf(args: argparse.Namespace) -> str:
    database = args.database or csasf.DEFAULT_DATABASE
    print(f"csasf: every provider's CSASF in {database!r} ...", flush=True)
    outcome = csasf.run(
        admin_url=args.admin_url,
        database=database,
        members=args.members or csasf.MEMBERS,
        providers=args.providers or csasf.PROVIDERS,
        referrals=args.referrals if args.referrals is not None else csasf.REFERRALS,
        authorizations=args.authorizations if args.authorizations is not None else csasf.AUTHORIZATIONS,
        reuse=args.reuse,
    )
    return csasf.report(outcome)


BENCHMARKS: dict[str, Callable[[argparse.Namespace], str]] = {
    "seed_members": _seed_members,
    "referral_api": _referral_api,
    "csasf": _csasf,
}


def record(name: str, section: str, path: Path = RESULTS) -> None:
    """Put `section` between the benchmark's markers in RESULTS.md (appended the first time)."""
    text = path.read_text() if path.exists() else HEADER
    block = f"<!-- {name}:start -->\n{section.rstrip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.DOTALL)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text if text.endswith("\n") else text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--members", type=int, help=f"members to seed (default {seed_members.MEMBERS:,})")
    parser.add_argument("--providers", type=int, help=f"providers to seed (default {seed_members.PROVIDERS})")
    parser.add_argument("--admin-url", default=seed_members.DEFAULT_ADMIN_URL, help="PostgreSQL server URL")
    parser.add_argument(
        "--database",
        help=f"database to (re)create (default {seed_members.DEFAULT_DATABASE}; "
        f"referral_api: {referral_api.DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--referrals", type=int, help=f"referral_api: referrals to seed (default {referral_api.REFERRALS:,})"
    )
    parser.add_argument(
        "--authorizations", type=int, help=f"csasf: authorization requests (default {csasf.AUTHORIZATIONS:,})"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="referral_api, csasf: keep the seeded database, only measure"
    )
    parser.add_argument(
        "--clients", type=int, default=referral_api.CLIENTS, help="referral_api: concurrent users"
    )
    parser.add_argument(
        "--duration", type=float, default=referral_api.DURATION, help="referral_api: seconds measured per run"
    )
    parser.add_argument(
        "--one-process", action="store_true", help="referral_api: skip the run on two server processes"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        help=f"referral_api: only these ({', '.join(referral_api.SCENARIO_LABELS)})",
    )
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if unknown := [n for n in args.names if n not in BENCHMARKS]:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        section = BENCHMARKS[name](args)
        print(section)
        if not args.no_write:
            record(name, section)
            print(f"recorded in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
