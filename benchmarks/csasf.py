"""Benchmark: the CSASF of every contracted provider (rule D1), on PostgreSQL.

Target (DESIGN.md, "Scale and performance targets"): CSASF for all providers, 250k rows, under 10 s, within
2x of a raw COPY of the same query.

The database is dropped, created, migrated, given the catalog and seeded with the product's seeder (members,
providers and referrals with their history); then every CS provider gets an executed contract with every
plan and the authorization requests are added straight in the tables (the seeder makes those through the
services, which takes hours at this size), about a third of them approved with their authorization. Then:

    csasf_run(production_date=today)    every file: build rows, write, store, put in the SFTP outbox
    COPY (same three queries) TO STDOUT per plan, the raw database cost of the same rows

    python -m benchmarks.run csasf [--members N] [--referrals N] [--authorizations N] [--reuse]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks import seed_members

DEFAULT_DATABASE = "cshub_bench_csasf"
MEMBERS = 400_000
PROVIDERS = 500
REFERRALS = 150_000
AUTHORIZATIONS = 160_000
TARGET_SECONDS = 10.0
TARGET_RATIO = 2.0
SEED = 2026


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CSHUB_VAR_DIR": str(seed_members.ROOT / "var" / "bench-csasf"),
        "DJANGO_SETTINGS_MODULE": "cshub.config.settings",
    }


def _child(args: list[str], url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.csasf", *args],
        cwd=seed_members.ROOT,
        env=_env(url),
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Outcome:
    prepared: dict[str, Any]
    measured: dict[str, Any]
    started_at: datetime
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def run(
    *,
    admin_url: str,
    database: str = DEFAULT_DATABASE,
    members: int = MEMBERS,
    providers: int = PROVIDERS,
    referrals: int = REFERRALS,
    authorizations: int = AUTHORIZATIONS,
    reuse: bool = False,
) -> Outcome:
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    url = seed_members._database_url(admin_url, database)
    saved = seed_members.ROOT / "var" / "bench-csasf" / f"{database}.seed.json"
    if reuse and saved.exists():
        prepared = json.loads(saved.read_text()) | {"reused": True}
    else:
        seed_members.fresh_database(admin_url, database)
        t = time.perf_counter()
        for args in (["migrate", "-v0"], ["catalog", "load"]):
            subprocess.run(
                [sys.executable, "-m", "cshub", *args],
                cwd=seed_members.ROOT,
                env=_env(url),
                check=True,
                capture_output=True,
            )
        migrate = time.perf_counter() - t
        sizes = [str(n) for n in (members, providers, referrals, authorizations)]
        prepared = _child(["--prepare", *sizes], url)
        prepared |= {"migrate": migrate, "reused": False}
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(prepared))
    measured = _child(["--measure"], url)
    return Outcome(prepared, measured, started_at, load_before, os.getloadavg())


# --- in the child, with Django set up -------------------------------------------------------------------


def _prepare(members: int, providers: int, referrals: int, authorizations: int) -> dict[str, Any]:
    import random
    from datetime import timedelta

    import django

    django.setup()
    from django.db import connection, transaction

    from cshub.accounts.models import Organization
    from cshub.accounts.roles import OrganizationKind
    from cshub.authorizations.models import Authorization, AuthorizationRequest, RequestStatus
    from cshub.catalog.models import ServiceCode
    from cshub.contracts.models import Contract, ContractStatus
    from cshub.core import clock
    from cshub.devtools.seed import seed
    from cshub.members.models import EligibilitySpan

    t = time.perf_counter()
    seed(
        members=members,
        providers=providers,
        seed=SEED,
        referrals=referrals,
        authorizations=0,
        network=False,
        stdout=sys.stderr,
    )
    seed_seconds = time.perf_counter() - t
    rng = random.Random(SEED)
    t = time.perf_counter()
    plans = list(Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("id"))
    cs = list(Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("id"))
    codes = list(ServiceCode.objects.filter(active=True).select_related("service"))
    now = clock.now()
    with transaction.atomic():
        Contract.objects.bulk_create(
            Contract(
                number=f"K-B-{plan.pk}-{org.pk}",
                plan=plan,
                organization=org,
                status=ContractStatus.EXECUTED,
                start_date=clock.today() - timedelta(days=800),
                executed_at=now,
            )
            for plan in plans
            for org in cs
        )
        spans = list(EligibilitySpan.objects.values_list("member_id", "plan_id")[: authorizations * 2])
        statuses = [
            (RequestStatus.APPROVED, 35),
            (RequestStatus.RECEIVED, 15),
            (RequestStatus.IN_REVIEW, 10),
            (RequestStatus.PENDED, 10),
            (RequestStatus.DENIED, 15),
            (RequestStatus.WITHDRAWN, 5),
            (RequestStatus.PARTIALLY_APPROVED, 10),
        ]
        population, weights = zip(*statuses, strict=True)
        batch: list[AuthorizationRequest] = []
        made = 0
        for i in range(authorizations):
            member_id, plan_id = spans[rng.randrange(len(spans))]
            org = cs[rng.randrange(len(cs))]
            code = codes[rng.randrange(len(codes))]
            received = now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
            start = clock.local(received).date() + timedelta(days=3)
            status = rng.choices(population, weights)[0]
            batch.append(
                AuthorizationRequest(
                    number=f"A-B-{i:07d}",
                    plan_id=plan_id,
                    member_id=member_id,
                    service=code.service,
                    code=code,
                    channel="portal",
                    requesting_organization=org,
                    requesting_npi=org.npi,
                    servicing_organization=org,
                    servicing_npi=org.npi,
                    diagnosis_codes=["Z59.01"],
                    units=rng.randint(1, 180),
                    start_date=start,
                    end_date=start + timedelta(days=180),
                    urgency="routine",
                    received_at=received,
                    due_at=received + timedelta(days=7),
                    status=status,
                    decided_at=received + timedelta(days=4) if status not in population[1:4] else None,
                )
            )
            if len(batch) == 5000 or i == authorizations - 1:
                created = AuthorizationRequest.objects.bulk_create(batch)
                Authorization.objects.bulk_create(
                    Authorization(
                        number=f"AU-{r.number[2:]}",
                        request=r,
                        member_id=r.member_id,
                        service=r.service,
                        code=r.code,
                        servicing_organization=r.servicing_organization,
                        plan_id=r.plan_id,
                        units=r.units,
                        start_date=r.start_date,
                        end_date=r.end_date,
                    )
                    for r in created
                    if r.status in (RequestStatus.APPROVED, RequestStatus.PARTIALLY_APPROVED)
                )
                made += len(created)
                batch = []
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {
        "members": members,
        "referrals": referrals,
        "authorization_requests": made,
        "contracts": len(plans) * len(cs),
        "cs_providers": len(cs),
        "plans": len(plans),
        "seed_seconds": seed_seconds,
        "extra_seconds": time.perf_counter() - t,
    }


def _measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from cshub.core import clock
    from cshub.exchange import csasf
    from cshub.exchange.models import ExchangeFile

    with tempfile.TemporaryDirectory() as tmp:
        settings.CSHUB_SFTP_ROOT = os.path.join(tmp, "sftp")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": os.path.join(tmp, "files")},
            },
        }
        day = clock.today()
        ExchangeFile.objects.filter(kind="csasf", production_date=day).delete()
        plans = [(p, [o.pk for o in csasf.csasf_providers(plan=p, on=day)]) for p in csasf.csasf_plans()]

        # The raw database cost: COPY of the same three queries per plan (every provider's rows).
        cutoff = clock.end_of_day(day)
        copied_bytes = 0
        t = time.perf_counter()
        with connection.cursor() as cursor, csasf._tuned_session():  # the session settings the run uses
            raw = cursor.cursor  # psycopg 3
            for plan, ids in plans:
                for qs in csasf.stream_querysets(plan, ids, cutoff):
                    sql, params = qs.query.sql_with_params()
                    with raw.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                        for block in copy:
                            copied_bytes += len(block)
        copy_seconds = time.perf_counter() - t

        t, cpu = time.perf_counter(), time.process_time()
        result = csasf.csasf_run(production_date=day)
        run_seconds, run_cpu = time.perf_counter() - t, time.process_time() - cpu
        rows = sum(f.rows for f in result.files)
        size = sum(f.size for f in result.files)
        t = time.perf_counter()
        again = csasf.csasf_run(production_date=day)
        again_seconds = time.perf_counter() - t
    return {
        "files": len(result.files),
        "made": result.made,
        "failed": len(result.failed),
        "rows": rows,
        "bytes": size,
        "largest": max((f.rows for f in result.files), default=0),
        "run_seconds": run_seconds,
        "run_cpu_seconds": run_cpu,
        "copy_seconds": copy_seconds,
        "copy_bytes": copied_bytes,
        "again_seconds": again_seconds,
        "again_made": again.made,
        "server_version": connection.pg_version,
    }


def report(outcome: Outcome) -> str:
    p, m = outcome.prepared, outcome.measured
    ratio = m["run_seconds"] / m["copy_seconds"] if m["copy_seconds"] else float("nan")
    met = m["run_seconds"] <= TARGET_SECONDS and ratio <= TARGET_RATIO
    seeded = (
        "The database seeded by an earlier run was reused (`--reuse`)."
        if p.get("reused")
        else f"Seed {p['seed_seconds']:.1f} s, contracts and requests {p['extra_seconds']:.1f} s."
    )
    facts = seed_members.machine() | {
        "date (UTC)": outcome.started_at.strftime("%Y-%m-%d %H:%M"),
        "load average before / after (1, 5, 15 min)": (
            f"{' '.join(f'{x:.2f}' for x in outcome.load_before)} / "
            f"{' '.join(f'{x:.2f}' for x in outcome.load_after)}"
        ),
    }
    lines = [
        "## CSASF for every contracted provider (`python -m benchmarks.run csasf`)",
        "",
        f"**{m['rows']:,} rows in {m['files']:,} files: {m['run_seconds']:.1f} s; raw COPY of the same "
        f"queries {m['copy_seconds']:.1f} s (x{ratio:.1f}) — "
        f"{'within' if met else '**outside**'} the {TARGET_SECONDS:.0f} s / x{TARGET_RATIO:.0f} target.**",
        "",
        f"Data: {p['members']:,} members, {p['referrals']:,} referrals (the product's seeder), "
        f"{p['authorization_requests']:,} authorization requests, {p['cs_providers']} CS providers each "
        f"contracted with {p['plans']} plans ({p['contracts']:,} contracts). {seeded}",
        "",
        *(
            [
                f"The machine was busy with other work during the run (load average "
                f"{outcome.load_before[0]:.1f} on {os.cpu_count()} cores): both times are inflated alike, "
                "so the ratio to the COPY of the same queries is the comparable figure.",
                "",
            ]
            if outcome.load_before[0] > (os.cpu_count() or 1)
            else []
        ),
        "| what | |",
        "|---|---|",
        f"| files made | {m['made']:,} ({m['failed']} failed) |",
        f"| rows | {m['rows']:,} (largest file {m['largest']:,}) |",
        f"| bytes written | {m['bytes']:,} |",
        f"| make every file (rows, write, store, outbox) | {m['run_seconds']:.2f} s "
        f"({m.get('run_cpu_seconds', float('nan')):.2f} s of it Python's CPU) |",
        f"| raw COPY of the same three queries per plan | {m['copy_seconds']:.2f} s "
        f"({m['copy_bytes']:,} bytes) |",
        f"| the same run again (every file exists) | {m['again_seconds']:.2f} s, {m['again_made']} made |",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--prepare":
        print(json.dumps(_prepare(*(int(a) for a in sys.argv[2:]))))
    elif sys.argv[1:] == ["--measure"]:
        print(json.dumps(_measure()))
    else:
        sys.exit("run through: python -m benchmarks.run csasf")
