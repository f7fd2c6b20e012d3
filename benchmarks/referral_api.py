"""Benchmark: the referral list API, the outreach worklist API and the member search API under 50 concurrent
users, on PostgreSQL, served as `cshub serve` serves them (waitress, one process, 8 threads).

Target (DESIGN.md, "Scale and performance targets"): work queues, member search, referral list API: p95 under
150 ms at 50 concurrent users on a 2-core machine.

Each endpoint is measured on `cshub serve` as shipped (one process) and on two such processes.

The database is dropped, created, migrated, given the catalog and seeded with `cshub seed` at the plan size of
DESIGN.md (1.5 M members, 500 providers, 300,000 referrals; smaller with --members/--referrals); the seed is
timed. Then API keys are made for the staff of the 50 CS providers with the most referrals (care coordinators)
and for the plans' UM reviewers, the app is served, and 50 client threads (http.client, keep-alive) call:

    GET /api/v1/referrals?box=received     each client as a different CS provider
    GET /api/v1/referrals/worklist         the same providers' outreach worklists (rule O3 progress per row)
    GET /api/v1/members?member_id=…        plan staff finding a member by CIN, or by last name + date of
        / ?last_name=…&date_of_birth=…     birth (members drawn from the roster)
    GET /api/v1/referrals?box=unassigned   plan staff: referrals waiting for a provider
    GET /api/v1/referrals                  plan staff: every referral of the plan, newest first

each under three loads: 50 users who pause 2.5-7.5 s between requests (people working a queue: open the list,
read, act), 50 users who pause 0.5-1.5 s (clicking through lists as fast as people do), and 50 clients that
do not pause at all (saturation: the throughput the server reaches and the latency when everyone waits on
it). Latency is measured from sending the request to reading the last byte.
The driver runs on the same 2 cores as the server and PostgreSQL, so it takes some of their CPU.

    python -m benchmarks.run referral_api [--members N] [--referrals N] [--reuse] [--database NAME]
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import psycopg

from benchmarks import seed_members

DEFAULT_DATABASE = "cshub_bench_referrals"
MEMBERS = 1_500_000
PROVIDERS = 500
REFERRALS = 300_000
CLIENTS = 50
DURATION = 30.0  # seconds measured per run
WARMUP = 5.0  # seconds run first and not measured
LOADS: dict[str, tuple[float, float] | None] = {  # seconds a user pauses between requests, by load
    "think 2.5-7.5 s": (2.5, 7.5),
    "think 0.5-1.5 s": (0.5, 1.5),
    "no think time": None,
}
SERVER_THREADS = 8  # `cshub serve` default
TARGET_P95_MS = 150.0
SEED = 2026


@dataclass
class Run:
    scenario: str
    load: str
    variant: str = "1 process"
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: dict[str, int] = field(default_factory=dict)  # HTTP status or exception -> count
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        k = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[k] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


# --- the database ---------------------------------------------------------------------------------------


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CSHUB_VAR_DIR": str(seed_members.ROOT / "var" / "bench-referrals"),
        "DJANGO_SETTINGS_MODULE": "cshub.config.settings",
    }


def _child(args: list[str], url: str) -> str:
    """Run `python -m …` with Django pointed at `url`; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=seed_members.ROOT,
        env=_env(url),
        check=True,
        text=True,
        capture_output=True,
    )
    return done.stdout.strip().splitlines()[-1]


def prepare(
    *, admin_url: str, database: str, members: int, providers: int, referrals: int, reuse: bool
) -> dict[str, Any]:
    """Fresh database, migrated, catalog loaded, seeded (timed); or the existing one with --reuse."""
    url = seed_members._database_url(admin_url, database)
    saved = seed_members.ROOT / "var" / "bench-referrals" / f"{database}.seed.json"
    if reuse:  # the figures of the seed that made the database, when this benchmark made it
        previous = json.loads(saved.read_text()) if saved.exists() else {}
        return {**previous, "url": url, "reused": True}
    seed_members.fresh_database(admin_url, database)
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cshub", "migrate", "-v0"], cwd=seed_members.ROOT, env=_env(url), check=True
    )
    subprocess.run(
        [sys.executable, "-m", "cshub", "catalog", "load"],
        cwd=seed_members.ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
    )
    migrate = time.perf_counter() - t
    t = time.perf_counter()
    result = json.loads(
        _child(
            ["-m", "benchmarks.referral_api", "--seed-child", str(members), str(providers), str(referrals)],
            url,
        )
    )
    prepared = {
        "url": url,
        "reused": False,
        "migrate": migrate,
        "wall": time.perf_counter() - t,
        "seed": result,
    }
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(prepared))
    return prepared


def _seed_child(members: int, providers: int, referrals: int) -> None:
    from dataclasses import asdict

    import django

    django.setup()
    from cshub.devtools.seed import seed

    result = seed(members=members, providers=providers, seed=SEED, referrals=referrals, stdout=sys.stderr)
    print(json.dumps(asdict(result)))


def _keys_child() -> None:
    """API keys for the callers, and the members plan staff look up (printed as JSON)."""
    import django

    django.setup()
    from django.db.models import Count

    from cshub.accounts.models import Organization
    from cshub.accounts.roles import OrganizationKind, Role
    from cshub.accounts.services import api_key_create
    from cshub.members.models import EligibilitySpan
    from cshub.referrals.models import Referral

    busiest = (
        Referral.objects.filter(receiving_provider__isnull=False)
        .values("receiving_provider")
        .annotate(n=Count("id"))
        .order_by("-n", "receiving_provider")[:CLIENTS]
    )
    providers = []
    for row in busiest:
        org = Organization.objects.get(pk=row["receiving_provider"])
        _key, raw = api_key_create(
            actor=None, organization=org, name="benchmark", roles=[Role.CARE_COORDINATOR]
        )
        open_items = Referral.objects.filter(
            receiving_provider=org, status__in=["pending", "accepted", "needs_member_action"]
        ).count()
        providers.append({"org": org.name, "key": raw, "referrals": row["n"], "open": open_items})
    plans = []
    rng = random.Random(SEED)
    for org in Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name"):
        _key, raw = api_key_create(actor=None, organization=org, name="benchmark", roles=[Role.UM_REVIEWER])
        spans = EligibilitySpan.objects.filter(plan=org, end_date__isnull=True)
        low = spans.order_by("member_id").values_list("member_id", flat=True).first() or 0
        high = spans.order_by("-member_id").values_list("member_id", flat=True).first() or 0
        sample = {rng.randint(low, high) for _ in range(2000)} if high else set()
        found = spans.filter(member_id__in=sample).order_by("member_id")
        members = [
            {"cin": cin, "last_name": last, "date_of_birth": dob.isoformat()}
            for cin, last, dob in found.values_list(
                "member__cin", "member__last_name", "member__date_of_birth"
            )[:400]
        ]
        plan_referrals = Referral.objects.filter(plan=org).count()
        plans.append({"org": org.name, "key": raw, "members": members, "referrals": plan_referrals})
    print(json.dumps({"providers": providers, "plans": plans}))


def _explain_child(kind: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the SQL behind one scenario, as its API runs it, for its first caller."""
    import django

    django.setup()
    from django.db import connection

    from cshub.accounts.models import ApiKey
    from cshub.referrals import selectors

    plan_scenarios = {"plan_unassigned", "plan_all", "member_search"}
    key = (
        ApiKey.objects.filter(
            name="benchmark", organization__kind="plan" if kind in plan_scenarios else "cs_provider"
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    user = key.user
    if kind == "worklist":
        qs = selectors.outreach_worklist(user=user)
    elif kind == "member_search":  # by CIN, as half the searches are
        from cshub.core import clock
        from cshub.members import selectors as member_selectors
        from cshub.members.models import EligibilitySpan

        span = EligibilitySpan.objects.filter(plan=user.organization, end_date__isnull=True).order_by("id")[
            1000
        ]
        found = member_selectors.member_search(user=user, member_id=span.member.cin)
        qs = member_selectors.member_annotate_eligible(found, user=user, on=clock.today())
    else:
        box = {"received": "received", "plan_unassigned": "unassigned", "plan_all": ""}[kind]
        qs = selectors.referral_list(user=user, filters=selectors.ReferralFilters(box=box))
    out = {}
    with connection.cursor() as cursor:
        for name, query in (("page", qs[:50]), ("count", None)):
            if query is None:
                # as QuerySet.count() asks: without the ORDER BY
                sql, params = qs.order_by().values("pk").query.sql_with_params()
                sql = f"SELECT COUNT(*) FROM ({sql}) subquery"
            else:
                sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            out[name] = [row[0] for row in cursor.fetchall()]
    print(json.dumps(out))


# --- the server and the clients --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = _env(url)
    env.pop("CSHUB_DEBUG", None)
    command = [
        "-m",
        "cshub",
        "serve",
        "--port",
        str(port),
        "--threads",
        str(SERVER_THREADS),
        "--no-collectstatic",
    ]
    server = subprocess.Popen(
        [sys.executable, *command],
        cwd=seed_members.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/referrals")
            if conn.getresponse().status < 500:  # 401 without a key: the app answers
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not answer within 60 s")


Request = tuple[str, dict[str, str]]  # path, headers


def drive(
    ports: list[int],
    name: str,
    requests: Callable[[int, random.Random], Request],
    *,
    load: str,
    variant: str = "1 process",
    clients: int,
    duration: float,
    warmup: float,
) -> Run:
    """`clients` threads call `requests(client, rng)` in a loop for warmup + duration seconds, client n on
    ports[n % len(ports)]; only the requests that start after the warm-up count."""
    run = Run(name, load, variant)
    think = LOADS[load]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    t0: list[float] = []

    def client(n: int) -> None:
        rng = random.Random(f"{name}:{n}")
        port = ports[n % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        begin = t0[0]
        mine: list[float] = []
        errors: dict[str, int] = {}
        if think:
            time.sleep(rng.uniform(0, think[1]))  # users do not all click at the same instant
        while (now := time.perf_counter()) < begin + warmup + duration:
            path, headers = requests(n, rng)
            sent = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = time.perf_counter() - sent
            if now >= begin + warmup:
                if status == 200:
                    mine.append(took)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
            if think:
                time.sleep(rng.uniform(*think))
        with lock:
            run.latencies.extend(mine)
            for k, v in errors.items():
                run.errors[k] = run.errors.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    t0.append(time.perf_counter())
    start.wait()
    for t in threads:
        t.join()
    run.seconds = duration
    return run


def scenarios(keys: dict[str, Any]) -> dict[str, Callable[[int, random.Random], Request]]:
    providers = keys["providers"]
    plans = keys["plans"]

    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def provider(n: int) -> dict[str, Any]:
        return providers[n % len(providers)]

    def plan(n: int) -> dict[str, Any]:
        return plans[n % len(plans)]

    def member_search(n: int, rng: random.Random) -> Request:
        p = plan(n)
        m = rng.choice(p["members"])
        if rng.random() < 0.5:
            return f"/api/v1/members?{urlencode({'member_id': m['cin']})}", auth(p["key"])
        query = urlencode({"last_name": m["last_name"], "date_of_birth": m["date_of_birth"]})
        return f"/api/v1/members?{query}", auth(p["key"])

    return {
        "received": lambda n, rng: ("/api/v1/referrals?box=received", auth(provider(n)["key"])),
        "worklist": lambda n, rng: ("/api/v1/referrals/worklist", auth(provider(n)["key"])),
        "member_search": member_search,
        "plan_unassigned": lambda n, rng: ("/api/v1/referrals?box=unassigned", auth(plan(n)["key"])),
        "plan_all": lambda n, rng: ("/api/v1/referrals", auth(plan(n)["key"])),
    }


SCENARIO_LABELS = {
    "received": "`GET /api/v1/referrals?box=received` (50 CS providers)",
    "worklist": "`GET /api/v1/referrals/worklist` (50 CS providers)",
    "member_search": "`GET /api/v1/members` by CIN or last name + DOB (plan staff)",
    "plan_unassigned": "`GET /api/v1/referrals?box=unassigned` (plan staff)",
    "plan_all": "`GET /api/v1/referrals`, every referral of the plan (plan staff)",
}


@dataclass
class Outcome:
    prepared: dict[str, Any]
    keys: dict[str, Any]
    runs: list[Run]
    explains: dict[str, dict[str, list[str]]]
    counts: dict[str, int]
    server_version: str
    server_settings: str
    started_at: datetime
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    clients: int
    duration: float


def run(
    *,
    admin_url: str = seed_members.DEFAULT_ADMIN_URL,
    database: str = DEFAULT_DATABASE,
    members: int = MEMBERS,
    providers: int = PROVIDERS,
    referrals: int = REFERRALS,
    reuse: bool = False,
    clients: int = CLIENTS,
    duration: float = DURATION,
    only: list[str] | None = None,
    two_processes: bool = True,
) -> Outcome:
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    prepared = prepare(
        admin_url=admin_url,
        database=database,
        members=members,
        providers=providers,
        referrals=referrals,
        reuse=reuse,
    )
    url = prepared["url"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM accounts_apikey WHERE name = 'benchmark'")
        conn.execute("VACUUM ANALYZE")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "members_member",
                "referrals_referral",
                "referrals_referralevent",
                "referrals_outreachattempt",
            )
        }
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = ", ".join(
            f"{n} {conn.execute(f'SHOW {n}').fetchone()[0]}"
            for n in ("shared_buffers", "work_mem", "max_connections")
        )
    keys = json.loads(_child(["-m", "benchmarks.referral_api", "--keys-child"], url))
    requests = scenarios(keys)
    runs: list[Run] = []
    explains: dict[str, dict[str, list[str]]] = {}
    # (label, web server processes): `cshub serve` as shipped, and two of them (stateless web nodes,
    # DESIGN.md) with the clients spread over them.
    variants = [("1 process", 1)] + ([("2 processes", 2)] if two_processes else [])
    for variant, processes in variants:
        ports = [_free_port() for _ in range(processes)]
        servers = [serve(url, port) for port in ports]
        try:
            for name, make in requests.items():
                if only and name not in only:
                    continue
                for load in LOADS:
                    print(f"referral_api ({variant}): {name}, {load} ...", flush=True)
                    last = drive(
                        ports,
                        name,
                        make,
                        load=load,
                        variant=variant,
                        clients=clients,
                        duration=duration,
                        warmup=WARMUP,
                    )
                    runs.append(last)
                    p50, p95 = last.pct(50), last.pct(95)
                    print(f"  p50 {p50:.0f} ms, p95 {p95:.0f} ms, {last.throughput:.0f}/s", flush=True)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    for name in ("received", "worklist", "member_search", "plan_all"):
        if not only or name in only:
            explains[name] = json.loads(
                _child(["-m", "benchmarks.referral_api", "--explain-child", name], url)
            )
    return Outcome(
        prepared=prepared,
        keys=keys,
        runs=runs,
        explains=explains,
        counts=counts,
        server_version=version,
        server_settings=settings,
        started_at=started_at,
        load_before=load_before,
        load_after=os.getloadavg(),
        clients=clients,
        duration=duration,
    )


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value == value else "—"


def report(outcome: Outcome) -> str:
    """The Markdown section for benchmarks/RESULTS.md."""
    lines = [
        "## Referral list, worklist and member search API under 50 concurrent users "
        "(`python -m benchmarks.run referral_api`)",
        "",
    ]
    prepared = outcome.prepared
    if prepared.get("reused"):
        lines += [
            "The database seeded by an earlier run was reused (`--reuse`); its seed figures follow.",
            "",
        ]
    if "seed" in prepared:
        seed = prepared["seed"]
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in seed["phases"].items())
        statuses = ", ".join(f"{k} {n:,}" for k, n in seed["referral_status"].items())
        channels = ", ".join(f"{k} {n:,}" for k, n in seed["referral_channel"].items())
        lines += [
            f"**Seed: {seed['members']:,} members, {seed['referrals']:,} referrals in "
            f"{seed['seconds']:.1f} s** (members {seed['member_seconds']:.1f} s, referrals with history "
            f"{seed['referral_seconds']:.1f} s; command wall time {prepared['wall']:.1f} s; migrate and "
            f"catalog {prepared['migrate']:.1f} s). Phases: {phases}.",
            "",
            "| seeded rows | |",
            "|---|---|",
            *(f"| {name} | {n:,} |" for name, n in seed["referral_rows"].items()),
            f"| referrals by status | {statuses} |",
            f"| referrals by channel | {channels} |",
            "",
        ]
    providers = outcome.keys["providers"]
    sizes = sorted(p["referrals"] for p in providers)
    opens = sorted(p["open"] for p in providers)
    plans = outcome.keys["plans"]
    plan_sizes = ", ".join(f"{p['referrals']:,} referrals" for p in plans)
    lines += [
        f"Database: {outcome.counts['members_member']:,} members, {outcome.counts['referrals_referral']:,} "
        f"referrals, {outcome.counts['referrals_referralevent']:,} referral events, "
        f"{outcome.counts['referrals_outreachattempt']:,} outreach attempts. Callers: the {len(providers)} "
        f"CS providers with the most referrals (received {sizes[0]:,}-{sizes[-1]:,} each, "
        f"{opens[0]:,}-{opens[-1]:,} open), one API key (care coordinator) each; the plans' UM reviewers "
        f"({plan_sizes}). {outcome.clients} clients for {outcome.duration:.0f} s after a {WARMUP:.0f} s "
        "warm-up; page size 50 (the API default). Server: **1 process** = `cshub serve` as shipped "
        f"(waitress, one process, {SERVER_THREADS} threads, persistent database connections); "
        "**2 processes** = two such servers, the clients spread over them.",
        "",
        "| endpoint | server | load | requests | p50 | p95 | p99 | throughput | errors "
        f"| p95 target {TARGET_P95_MS:.0f} ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in outcome.runs:
        load = f"{outcome.clients} {'clients' if LOADS[r.load] is None else 'users'}, {r.load}"
        verdict = "met" if r.pct(95) <= TARGET_P95_MS else "**missed**"
        errors = ", ".join(f"{k}: {v}" for k, v in r.errors.items()) or "0"
        lines.append(
            f"| {SCENARIO_LABELS[r.scenario]} | {r.variant} | {load} | {len(r.latencies):,} | "
            f"{_ms(r.pct(50))} | {_ms(r.pct(95))} | {_ms(r.pct(99))} | {r.throughput:.1f}/s | {errors} "
            f"| {verdict} |"
        )
    lines.append("")
    for scenario, plans_text in outcome.explains.items():
        lines += [f"<details><summary>EXPLAIN ANALYZE: {SCENARIO_LABELS[scenario]}</summary>", ""]
        for part, rows in plans_text.items():
            lines += [f"{part}:", "", "```", *rows, "```", ""]
        lines += ["</details>", ""]
    facts = seed_members.machine() | {
        "PostgreSQL": outcome.server_version,
        "PostgreSQL settings": outcome.server_settings,
        "date (UTC)": outcome.started_at.strftime("%Y-%m-%d %H:%M"),
        "load average before / after (1, 5, 15 min)": (
            f"{' '.join(f'{x:.2f}' for x in outcome.load_before)} / "
            f"{' '.join(f'{x:.2f}' for x in outcome.load_after)}"
        ),
    }
    lines += ["| machine | |", "|---|---|", *(f"| {k} | {v} |" for k, v in facts.items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--seed-child":
        _seed_child(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:] == ["--keys-child"]:
        _keys_child()
    elif len(sys.argv) == 3 and sys.argv[1] == "--explain-child":
        _explain_child(sys.argv[2])
    else:
        sys.exit("run through: python -m benchmarks.run referral_api [--members N] [--referrals N] [--reuse]")
