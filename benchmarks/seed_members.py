"""Benchmark: seed 1,500,000 members (with eligibility spans and care-team rows) into a fresh PostgreSQL DB.

Target (DESIGN.md, "Scale and performance targets"): the roster of 1.5 M members loads in under 90 s on a
2-core machine. The member part is timed separately from the organizations; the database is dropped,
created and migrated first, so every run starts from the same empty schema. The database is kept afterwards
for other benchmarks (member search, work queues) to use.

    python -m benchmarks.run seed_members [--members N] [--admin-url URL] [--database NAME]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "cshub_bench"
TARGET_SECONDS = 90.0
MEMBERS = 1_500_000
PROVIDERS = 500  # DESIGN.md sizing: 500 CS providers (the seeder splits providers across all kinds)
SEED = 2026
# Server settings that matter for a bulk load, recorded with the figures (the server is used as installed).
SERVER_SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "maintenance_work_mem",
    "max_parallel_maintenance_workers",
)


@dataclass
class Outcome:
    members: int
    providers: int
    database_url: str
    seed_result: dict[str, Any]
    migrate_seconds: float
    wall_seconds: float
    database_bytes: int
    server_version: str
    server_settings: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    started_at: datetime


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create `name` on the server of `admin_url`; return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _database_url(admin_url, name)


def _cshub(args: list[str], url: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "CSHUB_VAR_DIR": str(ROOT / "var" / "bench")}
    return subprocess.run(  # the child reads DATABASE_URL when Django starts
        [sys.executable, *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


def run(
    *,
    members: int = MEMBERS,
    providers: int = PROVIDERS,
    admin_url: str = DEFAULT_ADMIN_URL,
    database: str = DEFAULT_DATABASE,
) -> Outcome:
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    url = fresh_database(admin_url, database)
    t = time.perf_counter()
    _cshub(["-m", "cshub", "migrate", "-v0"], url)
    migrate_seconds = time.perf_counter() - t
    t = time.perf_counter()
    child = _cshub(
        ["-m", "benchmarks.seed_members", "--child", str(members), str(providers), str(SEED)],
        url,
        capture=True,
    )
    wall = time.perf_counter() - t
    seed_result = json.loads(child.stdout.strip().splitlines()[-1])
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = ", ".join(f"{n} {conn.execute(f'SHOW {n}').fetchone()[0]}" for n in SERVER_SETTINGS)
        counted = conn.execute("SELECT count(*) FROM members_member").fetchone()[0]
    if counted != members:
        raise RuntimeError(f"expected {members} members in {database}, found {counted}")
    return Outcome(
        members=members,
        providers=providers,
        database_url=url,
        seed_result=seed_result,
        migrate_seconds=migrate_seconds,
        wall_seconds=wall,
        database_bytes=size,
        server_version=version,
        server_settings=settings,
        load_before=load_before,
        load_after=os.getloadavg(),
        started_at=started_at,
    )


def _child(members: int, providers: int, seed_value: int) -> None:
    """In the child process: seed with Django configured for DATABASE_URL; print the result as JSON."""
    from dataclasses import asdict

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cshub.config.settings")
    import django

    django.setup()
    from cshub.devtools.seed import seed

    result = seed(members=members, providers=providers, seed=seed_value, stdout=sys.stderr)
    print(json.dumps(asdict(result)))


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), "")
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpus (nproc)": nproc or str(os.cpu_count()),
        "cpu": cpu or platform.processor(),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def report(outcome: Outcome) -> str:
    """The Markdown section for benchmarks/RESULTS.md."""
    r = outcome.seed_result
    member_s = r["member_seconds"]
    tables = ("members", "eligibility_spans", "ecm_assignments", "care_relationships", "program_enrollments")
    rows = sum(r[t] for t in tables)
    verdict = "within" if member_s < TARGET_SECONDS else "OVER"
    facts = machine() | {
        "PostgreSQL": outcome.server_version,
        "PostgreSQL settings": outcome.server_settings,
        "date (UTC)": outcome.started_at.strftime("%Y-%m-%d %H:%M"),
        "load average before / after (1, 5, 15 min)": (
            f"{' '.join(f'{x:.2f}' for x in outcome.load_before)} / "
            f"{' '.join(f'{x:.2f}' for x in outcome.load_after)}"
        ),
    }
    phases = "\n".join(f"| {name} | {sec:.1f} s |" for name, sec in r["phases"].items())
    lines = [
        f"## Seed {outcome.members:,} members (`python -m benchmarks.run seed_members`)",
        "",
        f"**Member part: {member_s:.1f} s ({outcome.members / member_s:,.0f} members/s) — {verdict} the "
        f"{TARGET_SECONDS:.0f} s target.** Whole seed {r['seconds']:.1f} s; command wall time "
        f"{outcome.wall_seconds:.1f} s (Python start-up included); migrate {outcome.migrate_seconds:.1f} s.",
        "",
        "| what | rows |",
        "|---|---|",
        f"| organizations | {sum(r['organizations'].values()):,} "
        f"({', '.join(f'{n} {k}' for k, n in r['organizations'].items())}) |",
        f"| members | {r['members']:,} |",
        f"| eligibility spans | {r['eligibility_spans']:,} |",
        f"| ECM assignments | {r['ecm_assignments']:,} |",
        f"| care relationships | {r['care_relationships']:,} |",
        f"| program enrollments | {r['program_enrollments']:,} |",
        f"| all rows of the member part | {rows:,} ({rows / member_s:,.0f} rows/s) |",
        f"| database size after | {outcome.database_bytes / 1024**3:.2f} GiB |",
        "",
        f"Method: {r['method']}. Members get ids from a block reserved on their sequence, so their "
        "eligibility spans, ECM assignments, care relationships and program enrollments are generated in "
        "the same pass, "
        "50,000 members at a time; a background thread COPYs each chunk while Python generates the next. "
        "Loads of 100,000 members or more drop the secondary indexes and the unique and foreign key "
        "constraints of the member and eligibility span tables first and rebuild them afterwards, in the "
        "same transaction (the seeder raises maintenance_work_mem for that transaction only).",
        "",
        "| phase (organizations are outside the member part) | time |",
        "|---|---|",
        phases,
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("run through: python -m benchmarks.run seed_members [--members N]")
