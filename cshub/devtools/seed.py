"""Deterministic synthetic California data: plans, providers, members and their eligibility (`cshub seed`).

The same arguments give the same data: every random draw comes from `random.Random` streams derived from the
seed, uuids are drawn from those streams, and timestamps come from `REFERENCE_DATE`, never the wall clock.

Seeded rows are recognisable without a marker column: their uuids start with ``5eed`` followed by the seed as
eight hex digits (``5eed0000-07ea-4...`` for seed 2026), and seeded organizations also have a website on
``*.example.org``. `reset` deletes exactly those rows, and `seed` refuses to mix two seeds in one database.

Members are written in chunks of `CHUNK_SIZE` generated on the fly, so memory stays bounded:
PostgreSQL gets them through COPY from a background thread (Python generates the next chunk while the server
parses this one), other databases through `executemany`. Members get explicit ids from a block reserved on
the id sequence up front, so eligibility spans and the rest can point at them in the same streaming pass
instead of reading 1.5 million (id, cin) pairs back.
"""

from __future__ import annotations

import bisect
import itertools
import queue
import random
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from typing import Any, TextIO
from uuid import UUID

from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED, ProtectedError
from faker import Faker

from cshub.accounts.models import Organization, OrganizationContact, User
from cshub.accounts.roles import OrganizationKind
from cshub.core.models import County
from cshub.core.reference import read_data_csv
from cshub.core.validators import npi_with_check_digit
from cshub.members.models import CareRelationship, EcmAssignment, EligibilitySpan, Member, ProgramEnrollment

__all__ = ["REFERENCE_DATE", "SeedError", "SeedResult", "reset", "seed", "seeded_seeds", "seeded_uuid_range"]

REFERENCE_DATE = date(2026, 11, 1)  # "today" of the synthetic data: spans, ages and timestamps count from it
ORG_CREATED_AT = datetime(2022, 1, 1, 16, 0, tzinfo=UTC)  # CalAIM Community Supports began January 2022
CHUNK_SIZE = 50_000
# On PostgreSQL, loads at least this large drop the secondary indexes and constraints of the member and
# eligibility span tables and rebuild them afterwards (as pg_restore does): one sort per index instead of
# 1.5 million random B-tree inserts, and one set-based foreign key check instead of a trigger per row.
BULK_LOAD_MIN_MEMBERS = 100_000

_UUID_MARK = 0x5EED
_MAX_SEED = 2**32 - 1
_VERSION_MASK = ~((0xF << 76) | (0x3 << 62))
_VERSION_BITS = (4 << 76) | (0x2 << 62)  # RFC 4122 version 4, variant 10

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Seeded CINs stay below 90000000 so they never meet the test factories' 9xxxxxxx CINs.
_CIN_LOW, _CIN_HIGH = 10_000_000, 90_000_000
# NPI stems from a range the test factories (1000000xx) do not reach.
_NPI_LOW, _NPI_HIGH = 150_000_000, 200_000_000


class SeedError(Exception):
    """The seed cannot run as asked (already seeded with another seed, protected rows, bad arguments)."""


@dataclass
class SeedResult:
    seed: int
    organizations: dict[str, int] = field(default_factory=dict)  # by OrganizationKind value
    contacts: int = 0
    members: int = 0
    eligibility_spans: int = 0
    ecm_assignments: int = 0
    care_relationships: int = 0
    program_enrollments: int = 0
    referrals: int = 0
    referral_status: dict[str, int] = field(default_factory=dict)
    referral_channel: dict[str, int] = field(default_factory=dict)
    referral_rows: dict[str, int] = field(default_factory=dict)  # by model: events, attempts, checks, ...
    referral_seconds: float = 0.0
    authorizations: int = 0
    authorization_status: dict[str, int] = field(default_factory=dict)
    service_records: int = 0
    network: dict[str, int] = field(default_factory=dict)  # contracts, certifications, reports, ...
    claims: int = 0
    claim_status: dict[str, int] = field(default_factory=dict)
    claim_outcome: dict[str, int] = field(default_factory=dict)
    claim_rows: dict[str, int] = field(default_factory=dict)  # files, rejected files, runs, payments, ...
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    member_seconds: float = 0.0  # members, spans, assignments: generation, writing and index rebuild
    phases: dict[str, float] = field(default_factory=dict)
    method: str = ""
    already_seeded: bool = False

    def summary(self) -> str:
        if self.already_seeded:
            return f"Already seeded with seed {self.seed}; nothing to do (use --reset to seed again)."
        kinds = ", ".join(f"{n:,} {OrganizationKind(k).label}" for k, n in self.organizations.items())
        rate = self.members / self.member_seconds if self.member_seconds else 0.0
        return (
            f"Seeded with seed {self.seed} in {self.seconds:.1f} s ({self.method}).\n"
            f"  organizations: {sum(self.organizations.values()):,} ({kinds}); {self.contacts:,} contacts\n"
            f"  members: {self.members:,} in {self.member_seconds:.1f} s ({rate:,.0f} members/s)\n"
            f"  eligibility spans: {self.eligibility_spans:,}; ECM assignments: {self.ecm_assignments:,}; "
            f"care relationships: {self.care_relationships:,}; program enrollments: "
            f"{self.program_enrollments:,}\n"
            + self._referral_summary()
            + self._authorization_summary()
            + self._network_summary()
            + self._claims_summary()
            + f"  time: {', '.join(f'{name} {sec:.1f} s' for name, sec in self.phases.items())}"
            + "".join(f"\n  note: {note}" for note in self.notes)
        )

    def _referral_summary(self) -> str:
        if not self.referral_rows:
            return ""
        rows = self.referral_rows
        other = ", ".join(f"{n:,} {name}" for name, n in rows.items() if name != "Referral")
        statuses = ", ".join(f"{k} {n:,}" for k, n in sorted(self.referral_status.items()))
        channels = ", ".join(f"{k} {n:,}" for k, n in sorted(self.referral_channel.items()))
        return (
            f"  referrals: {self.referrals:,} in {self.referral_seconds:.1f} s; {other}\n"
            f"    by status: {statuses}\n"
            f"    by channel: {channels}\n"
        )

    def _authorization_summary(self) -> str:
        if not self.authorizations and not self.service_records:
            return ""
        statuses = ", ".join(f"{k} {n:,}" for k, n in sorted(self.authorization_status.items()))
        return (
            f"  authorization requests: {self.authorizations:,} (through the services); "
            f"{self.service_records:,} service records\n    by status: {statuses}\n"
        )

    def _claims_summary(self) -> str:
        if not self.claims:
            return ""
        statuses = ", ".join(f"{k} {n:,}" for k, n in sorted(self.claim_status.items()))
        outcomes = ", ".join(f"{k} {n:,}" for k, n in sorted(self.claim_outcome.items()))
        rows = ", ".join(f"{n:,} {name}" for name, n in self.claim_rows.items())
        return (
            f"  claims: {self.claims:,} (through the services); {rows}\n"
            f"    by status: {statuses}\n    by outcome: {outcomes}\n"
        )

    def _network_summary(self) -> str:
        if not self.network:
            return ""
        return (
            "  provider network (through the services): "
            + ", ".join(f"{n:,} {name}" for name, n in self.network.items())
            + "\n"
        )


# --- identifiers ----------------------------------------------------------------------------------------


def seeded_uuid_range(seed: int | None = None) -> tuple[UUID, UUID]:
    """[low, high) of the uuids the seeder gives rows for `seed` (or for any seed when None)."""
    if seed is None:
        return UUID(int=_UUID_MARK << 112), UUID(int=(_UUID_MARK + 1) << 112)
    low = (_UUID_MARK << 112) | (seed << 80)
    return UUID(int=low), UUID(int=low + (1 << 80))


class _UuidStream:
    """Version-4 uuids drawn from an RNG, prefixed with the seed marker (74 random bits remain)."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self._bits = rng.getrandbits
        self._prefix = (_UUID_MARK << 112) | (seed << 80)

    def hex(self) -> str:
        """32 hex digits: both PostgreSQL's uuid input and Django's SQLite column accept this form."""
        return "%032x" % (((self._prefix | self._bits(80)) & _VERSION_MASK) | _VERSION_BITS)

    def uuid(self) -> UUID:
        return UUID(self.hex())


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded.encode("ascii", "ignore").decode().lower() if ch.isalnum())


# --- reference data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CountyRef:
    name: str
    weight: int
    region: str
    area_codes: tuple[str, ...]
    zips: tuple[tuple[str, str], ...]  # (zip, city)


@dataclass(frozen=True)
class _Reference:
    counties: tuple[_CountyRef, ...]
    languages: tuple[str, ...]
    language_cum: tuple[float, ...]
    programs: frozenset[str]


@cache
def _reference() -> _Reference:
    """County weights and ZIPs, languages and programs from cshub/data (validated against each other)."""
    zips: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in read_data_csv("ca_county_zips.csv"):
        zips[row["county"]].append((row["zip"], row["city"]))
    weights = {row["county"]: row for row in read_data_csv("ca_county_weights.csv")}
    counties = []
    for row in read_data_csv("ca_counties.csv"):
        name = row["county"]
        if name not in weights or not zips.get(name):
            raise SeedError(f"{name}: missing from ca_county_weights.csv or ca_county_zips.csv")
        w = weights[name]
        counties.append(
            _CountyRef(
                name=name,
                weight=int(w["medi_cal_enrollment"]),
                region=w["region"],
                area_codes=tuple(w["area_codes"].split()),
                zips=tuple(zips[name]),
            )
        )
    langs = read_data_csv("languages.csv")
    cum = tuple(itertools.accumulate(float(r["share_pct"]) for r in langs))
    programs = frozenset(r["code"] for r in read_data_csv("care_coordination_programs.csv"))
    missing = {code for options in _PROGRAMS_BY_AGE.values() for code, _ in options} - programs
    if missing:
        raise SeedError(f"programs {sorted(missing)} are not in care_coordination_programs.csv")
    return _Reference(tuple(counties), tuple(r["code"] for r in langs), cum, programs)


# Age bands of Medi-Cal enrollment (children about a third, seniors about an eighth): (from, to, share %).
_AGE_BANDS = ((0, 5, 10.0), (6, 18, 24.0), (19, 26, 10.0), (27, 44, 24.0), (45, 64, 20.0), (65, 95, 12.0))
_SEX_CUM = tuple(itertools.accumulate((53.0, 46.5, 0.3, 0.2)))  # F, M, X, U
_SEXES = ("F", "M", "X", "U")
# Contact preference thresholds: phone, text, mail, email (only with an address), in person.
_CONTACT_CUM = ((0.45, "phone"), (0.70, "text"), (0.85, "mail"), (0.95, "email"), (1.01, "in_person"))
_HOMELESS_SHARE = 0.03
_EMAIL_SHARE = 0.40
_ECM_SHARE = 0.03
_OUTREACH_SHARE = 0.01
_PROGRAM_SHARE = 0.02
_HISPANIC_NAME_SHARE_OF_ENGLISH = 0.35  # many English-speaking Medi-Cal members have Spanish names
_PROGRAMS_BY_AGE: dict[str, tuple[tuple[str, int], ...]] = {
    "child": (("ccs", 60), ("ccm", 20), ("tcm", 20)),
    "adult": (("ccm", 30), ("hhap", 25), ("tcm", 20), ("ihss", 10), ("cal_aim_pathways", 10), ("hh", 5)),
    "senior": (("ihss", 35), ("mssp", 25), ("hcba", 10), ("alw", 10), ("hospice", 10), ("ccm", 10)),
}
_PROGRAM_SOURCE = {
    "ccs": "County CCS program",
    "ihss": "County IHSS roster",
    "hhap": "County coordinated entry",
    "mssp": "MSSP site",
    "hh": "Health Homes Program file (historical)",
}

# Romanized name pools for languages Faker has no Latin-script names for (common names, not weighted).
_SMALL_NAME_POOLS: dict[str, tuple[str, str, str, str]] = {
    # group: (female first names, male first names, surnames, female surnames or "")
    "hy": (
        "Anahit Armine Gayane Lusine Nare Ani Hasmik Siranush Mariam Lilit",
        "Aram Armen Arman Davit Hayk Gevorg Tigran Vardan Levon Karen",
        "Petrosyan Sargsyan Harutyunyan Hovhannisyan Grigoryan Khachatryan Hakobyan Vardanyan Gevorgyan "
        "Karapetyan Avetisyan Mkrtchyan Ghazaryan Manukyan Davtyan",
        "",
    ),
    "ru": (
        "Olga Natalia Elena Irina Svetlana Tatiana Anna Maria Yulia Ekaterina",
        "Alexander Sergei Dmitri Andrei Alexei Ivan Mikhail Nikolai Vladimir Yuri",
        "Ivanov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Novikov Morozov Petrov Volkov Solovyov",
        "Ivanova Smirnova Kuznetsova Popova Sokolova Lebedeva Kozlova Novikova Morozova Petrova Volkova "
        "Solovyova",
    ),
    "ko": (
        "Ji-woo Seo-yeon Min-ji Soo-jin Eun-ji Hye-jin Yoon-hee Ji-hye Su-bin Hana",
        "Min-jun Ji-hoon Hyun-woo Sung-min Jae-won Dong-hyun Young-ho Seung-woo Joon-young Tae-yang",
        "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon",
        "",
    ),
    "fa": (
        "Maryam Fatemeh Zahra Shirin Leila Parisa Nasrin Roya Mina Azadeh",
        "Ali Reza Mohammad Hossein Mehdi Amir Dariush Babak Kourosh Farhad",
        "Hosseini Mohammadi Ahmadi Rezaei Karimi Moradi Jafari Rahimi Hashemi Sadeghi Ebrahimi Tehrani",
        "",
    ),
    "ar": (
        "Fatima Aisha Mariam Layla Noor Huda Rania Salma Yasmin Amal",
        "Mohammed Ahmed Omar Ali Youssef Khaled Hassan Ibrahim Tariq Samir",
        "Haddad Khalil Nasser Saleh Mansour Hassan Ibrahim Abdullah Said Aziz Farah Khoury",
        "",
    ),
    "tl": (
        "Maria Rosario Jocelyn Maricel Analyn Cristina Rowena Lorna Marites Divina",
        "Jose Rodrigo Ramon Eduardo Romeo Danilo Renato Ferdinand Jun Rogelio",
        "Santos Reyes Cruz Bautista Garcia Mendoza Dela_Cruz Ramos Aquino Villanueva Castillo Flores "
        "Gonzales Torres Navarro",
        "",
    ),
    "hmn": (
        "Pa Mai Nou Yer Bao Kia Chia Mee Yia Zoua",
        "Tou Kou Chue Pao Xay Neng Fue Nhia Cheng Tong",
        "Vang Xiong Yang Lee Thao Moua Her Lor Vue Chang Hang Lo Kong Khang Cha",
        "",
    ),
    "km": (
        "Sophea Sreymom Chanthou Bopha Sokha Vanna Channary Srey Kunthea Rathana",
        "Dara Sokhom Vuthy Rithy Sophal Chea Bunthoeun Samnang Visal Piseth",
        "Sok Chan Keo Phan Meas Chea Kim Pich Sam Ouk Heng Long Mao Nhem Seng",
        "",
    ),
}
_NAME_GROUP_BY_LANGUAGE = {
    "en": "en",
    "es": "es",
    "vi": "vi",
    "yue": "zh",
    "cmn": "zh",
    "zh": "zh",
    "hy": "hy",
    "ru": "ru",
    "tl": "tl",
    "ko": "ko",
    "fa": "fa",
    "ar": "ar",
    "hmn": "hmn",
    "km": "km",
}
_FAKER_POOL_SIZE = 800  # draws per Faker pool: keeps Faker's name frequencies, costs well under a second


@dataclass(frozen=True)
class _NamePool:
    """Names with their ASCII slugs (for e-mail addresses), by sex; drawn once, then sampled per row."""

    female: tuple[tuple[str, str], ...]
    male: tuple[tuple[str, str], ...]
    last_female: tuple[tuple[str, str], ...]
    last_male: tuple[tuple[str, str], ...]


def _pool(names: Iterable[str], fold: bool = False) -> tuple[tuple[str, str], ...]:
    out = []
    for name in names:
        name = name.replace("_", " ")
        if fold:  # Vietnamese-American records are written without diacritics
            name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
            name = name.encode("ascii", "ignore").decode()
        out.append((name, _ascii_slug(name)))
    return tuple(out)


def _name_pools(seed: int) -> dict[str, _NamePool]:
    pools: dict[str, _NamePool] = {}
    n = _FAKER_POOL_SIZE
    for group, locale in (("en", "en_US"), ("es", "es_MX"), ("vi", "vi_VN")):
        fake = Faker(locale)
        fake.seed_instance(seed)
        fold = group == "vi"
        female = _pool((fake.first_name_female() for _ in range(n)), fold)
        male = _pool((fake.first_name_male() for _ in range(n)), fold)
        last = _pool((fake.last_name() for _ in range(2 * n)), fold)
        pools[group] = _NamePool(female, male, last, last)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    firsts = _pool(fake.first_romanized_name() for _ in range(n))
    lasts = _pool(fake.last_romanized_name() for _ in range(n))
    pools["zh"] = _NamePool(firsts, firsts, lasts, lasts)
    for group, (female, male, last, last_female) in _SMALL_NAME_POOLS.items():
        lasts = _pool(last.split())
        pools[group] = _NamePool(
            _pool(female.split()), _pool(male.split()), _pool(last_female.split()) or lasts, lasts
        )
    return pools


_STREET_NAMES = (
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Walnut",
    "Olive",
    "Palm",
    "Sycamore",
    "Willow",
    "Magnolia",
    "Orange",
    "Lemon",
    "Grove",
    "Vine",
    "Mission",
    "Sierra",
    "Santa Fe",
    "San Pablo",
    "Alameda",
    "Valley",
    "Park",
    "Lake",
    "Hill",
    "Center",
    "Washington",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Jackson",
    "Franklin",
    "Adams",
    "Kennedy",
    "Cesar Chavez",
    "Martin Luther King Jr",
    "Chestnut",
    "Laurel",
    "Hillcrest",
    "Sunset",
    "Ocean View",
    "Mountain View",
    "Pacific",
    "Florence",
    "Figueroa",
    "Alvarado",
    "Vermont",
    "Western",
    "Vista",
    "Del Mar",
    "Bonita",
    "Rosewood",
    "Fairview",
    "Highland",
    "Meadow",
    "Harbor",
    "Poplar",
    "Redwood",
    "Manzanita",
    "Acacia",
    "Juniper",
    "Date",
    "Almond",
    "Fig",
)
_STREET_SUFFIXES = ("St", "Ave", "Blvd", "Dr", "Way", "Rd", "Ln", "Ct", "Pl")


def _street_pool(rng: random.Random, size: int = 600) -> tuple[str, ...]:
    streets = [f"{n} {s}" for n in _STREET_NAMES for s in _STREET_SUFFIXES]
    return (*rng.sample(streets, min(size, len(streets))), "Main St", "Broadway", "El Camino Real")


def _fictional_phone(rng: random.Random, area_codes: Sequence[str]) -> str:
    """555-0100 to 555-0199 are reserved for fiction, so no real person is called or texted."""
    return f"{rng.choice(area_codes)}55501{rng.randrange(100):02d}"


# --- tables written in bulk -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """A table the member pass writes directly: the fields in the order the generator emits them."""

    model: type[models.Model]
    fields: tuple[str, ...]

    @cached_property
    def columns(self) -> tuple[str, ...]:
        meta = self.model._meta
        unfilled = [
            f.name
            for f in meta.concrete_fields
            if f.name not in self.fields and not f.null and f.db_default is NOT_PROVIDED and not f.primary_key
        ]
        if unfilled:  # a new NOT NULL column would otherwise fail deep inside COPY
            raise SeedError(
                f"{self.model.__name__} has fields the generator does not fill: {', '.join(unfilled)}; "
                "update cshub/devtools/seed.py"
            )
        return tuple(meta.get_field(name).column for name in self.fields)

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    def _column_list(self) -> str:
        qn = connection.ops.quote_name
        return ", ".join(qn(c) for c in self.columns)

    def copy_sql(self) -> str:
        return f"COPY {connection.ops.quote_name(self.db_table)} ({self._column_list()}) FROM STDIN"

    def insert_sql(self) -> str:
        marks = ", ".join(["%s"] * len(self.columns))
        table = connection.ops.quote_name(self.db_table)  # names from model metadata, quoted
        return f"INSERT INTO {table} ({self._column_list()}) VALUES ({marks})"  # noqa: S608


_BASE = ("uuid", "created_at", "updated_at")
MEMBERS = _Table(
    Member,
    (
        "id",
        *_BASE,
        "cin",
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "preferred_language",
        "address_line",
        "city",
        "zip_code",
        "county",
        "is_homeless",
        "phone",
        "email",
        "contact_preference",
    ),
)
SPANS = _Table(
    EligibilitySpan,
    (*_BASE, "member", "plan", "plan_member_id", "line_of_business", "start_date", "end_date"),
)
ECM = _Table(EcmAssignment, (*_BASE, "member", "plan", "ecm_provider", "start_date", "end_date"))
CARE = _Table(
    CareRelationship, (*_BASE, "member", "organization", "reason", "source_id", "start_date", "end_date")
)
PROGRAMS = _Table(ProgramEnrollment, (*_BASE, "member", "program", "start_date", "end_date", "source"))
_MEMBER_PASS_TABLES = (MEMBERS, SPANS, ECM, CARE, PROGRAMS)


class _InsertWriter:
    """Any database: one executemany per chunk and table."""

    method = "executemany"

    def write(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(table.insert_sql(), rows)

    def close(self, *, abort: bool = False) -> None:
        pass


class _CopyWriter:
    """PostgreSQL: COPY each chunk from a background thread, so generating the next chunk in Python overlaps
    with the server parsing this one (on 2 cores: one for Python, one for the server). Only this thread uses
    the connection until `close`; the main thread does no database work meanwhile."""

    method = "COPY"

    def __init__(self, *, maxsize: int = 2) -> None:
        """`maxsize` chunks may wait in the queue (0: any number, for a caller that queues a whole batch and
        generates the next one while it is written)."""
        connection.ensure_connection()
        self._conn = connection.connection  # Django's psycopg 3 connection, inside the seed's transaction
        self._queue: queue.Queue[tuple[str, list[tuple[Any, ...]]] | None] = queue.Queue(maxsize=maxsize)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cshub-seed-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining so the producer never blocks on a full queue
            statement, rows = item
            try:
                with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            except BaseException as exc:  # re-raised in the main thread
                self._error = exc

    def write(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        if self._error is not None:
            raise self._error
        if rows:
            self._queue.put((table.copy_sql(), rows))

    def close(self, *, abort: bool = False) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and not abort:
            raise self._error


# --- PostgreSQL bulk load: drop and rebuild secondary indexes and constraints ------------------------------


def _pg_drop_secondary(cursor: Any, table: str) -> list[str]:
    """Drop the table's indexes, unique and foreign key constraints except the primary key (and unique
    constraints other tables' foreign keys rely on); return the statements that recreate them, in order."""
    qn = connection.ops.quote_name
    cursor.execute(
        """
        SELECT c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'f')
          AND NOT (c.contype = 'u' AND EXISTS (
              SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))
        ORDER BY c.contype DESC, c.conname
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT ic.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
        ORDER BY ic.relname
        """,
        [table],
    )
    indexes = cursor.fetchall()
    for name, _kind, _definition in constraints:
        cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {qn(name)}")
    # Unique constraints first, then plain indexes, then foreign keys (validated once, set-based).
    return [
        *(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(n)} {d}" for n, k, d in constraints if k == "u"),
        *(d for _n, d in indexes),
        *(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(n)} {d}" for n, k, d in constraints if k == "f"),
    ]


@contextmanager
def _constraints_checked_now(cursor: Any) -> Iterator[None]:
    """PostgreSQL refuses to alter a table with pending deferred trigger events (Django's foreign keys are
    INITIALLY DEFERRED, so rows inserted earlier in the transaction leave some): check them now, then go
    back to deferring (the initial mode of every Django constraint)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _pg_reserve_ids(cursor: Any, table: str, count: int) -> int:
    """Reserve `count` consecutive ids on the table's identity sequence; return the first. The caller holds
    a lock that keeps other writers out of the table, so the block cannot be handed out twice."""
    qn = connection.ops.quote_name
    cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {qn(table)}")  # noqa: S608 (quoted table name)
    highest = cursor.fetchone()[0]
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
        " GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), %s + 1) + %s - 1)",
        [table, table, highest, count],
    )
    return int(cursor.fetchone()[0]) - count + 1


# --- organizations --------------------------------------------------------------------------------------

_PLAN_NAMES = (
    "Golden Poppy Health Plan",
    "Sierra Coast Health",
    "Pacific Valley Health Alliance",
    "Redwood Community Health Plan",
    "Bay and Valley Partnership Plan",
    "Sunrise Medi-Cal Partners",
    "Central Valley Care Plan",
    "Harbor Community Health Plan",
)
_PROVIDER_MIX = (  # share of `providers` by kind; CS providers are the majority
    (OrganizationKind.CS_PROVIDER, 0.55),
    (OrganizationKind.ECM_PROVIDER, 0.15),
    (OrganizationKind.HOSPITAL, 0.15),
    (OrganizationKind.OTHER, 0.15),
)
_NAME_TEMPLATES: dict[str, tuple[str, ...]] = {
    OrganizationKind.CS_PROVIDER: (
        "{place} Housing Navigation Services",
        "{place} Recuperative Care",
        "{place} Meals on Wheels",
        "{place} Home Modification Collaborative",
        "{place} Sobering Center",
        "{place} Respite Care",
        "{place} Community Living Services",
        "{place} Tenancy Support Services",
        "{place} Medically Tailored Meals",
        "{place} Recovery Housing",
        "{word} Community Services",
        "{word} Housing Services",
        "{word} Family Services",
        "{word} Care Network",
        "{word} Outreach Collaborative",
    ),
    OrganizationKind.ECM_PROVIDER: (
        "{place} Community Health Center",
        "{place} Family Health Clinic",
        "{place} Care Coordination Partners",
        "{word} Health",
        "{word} Community Clinic",
    ),
    OrganizationKind.HOSPITAL: (
        "{place} Medical Center",
        "{place} Community Hospital",
        "{place} Regional Medical Center",
        "St. {saint} Medical Center",
        "{county} County Medical Center",
    ),
    OrganizationKind.OTHER: (
        "{county} County Behavioral Health",
        "{county} County Department of Social Services",
        "{county} County Public Health",
        "{place} Family Resource Center",
        "{place} Senior Center",
        "{place} Food Bank",
        "{county} County Probation Department",
    ),
}
_NAME_WORDS = (
    "Bridges",
    "Harbor House",
    "New Horizons",
    "Open Door",
    "Pathways",
    "Hope Street",
    "Second Chance",
    "Safe Haven",
    "Golden Years",
    "Sunrise",
    "Cornerstone",
    "Lighthouse",
    "Good Neighbor",
    "Homeward",
    "Stepping Stones",
    "Casa Esperanza",
    "La Familia",
    "Unidos",
    "Kinship",
    "Common Ground",
)
_SAINTS = ("Agnes", "Bernardine", "Francis", "Joseph", "Jude", "Mary", "Rose", "Vincent", "Luke", "Elizabeth")
_CONTACT_TITLES = {
    OrganizationContact.Kind.PRIMARY: ("Executive Director", "Chief Executive Officer", "Program Director"),
    OrganizationContact.Kind.BILLING: ("Billing Manager", "Finance Director"),
    OrganizationContact.Kind.DATA: ("Data Analyst", "Reporting Manager"),
    OrganizationContact.Kind.CLINICAL: ("Medical Director", "Clinical Director"),
    OrganizationContact.Kind.POINT_OF_CONTACT: ("Program Coordinator", "Community Supports Manager"),
}


def _provider_counts(providers: int) -> list[tuple[str, int]]:
    """Split `providers` by `_PROVIDER_MIX`, every kind at least once when there are enough."""
    counts = {kind: int(providers * share) for kind, share in _PROVIDER_MIX}
    for kind, _share in itertools.cycle(_PROVIDER_MIX):
        if sum(counts.values()) >= providers:
            break
        if counts[kind] == 0 or all(counts.values()):
            counts[kind] += 1
    return [(kind, counts[kind]) for kind, _share in _PROVIDER_MIX]


@dataclass
class _Orgs:
    plans: list[tuple[int, str]] = field(default_factory=list)  # (id, member id prefix)
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    counties: dict[int, list[int]] = field(default_factory=dict)  # org id -> county indexes
    contacts: int = 0


def _create_organizations(
    *, plans: int, providers: int, seed: int, county_ids: list[int], ts: datetime
) -> _Orgs:
    ref = _reference()
    rng = random.Random(f"cshub-seed:{seed}:organizations")
    ids = _UuidStream(rng, seed)
    fake = Faker(["en_US", "es_MX"])
    fake.seed_instance(seed)
    county_cum = list(itertools.accumulate(c.weight for c in ref.counties))
    by_region: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(ref.counties):
        by_region[c.region].append(i)
    used_npis = set(Organization.objects.exclude(npi="").values_list("npi", flat=True))
    used_codes = set(Organization.objects.exclude(plan_code="").values_list("plan_code", flat=True))
    used_names: set[str] = set()
    streets = _street_pool(rng)

    def npi() -> str:
        while (value := npi_with_check_digit(str(rng.randrange(_NPI_LOW, _NPI_HIGH)))) in used_npis:
            pass
        used_npis.add(value)
        return value

    def tin() -> str:  # EIN campus prefixes used for California organizations
        return f"{rng.choice(('94', '95', '33', '68', '77', '26'))}{rng.randrange(10**7):07d}"

    def served(home: int) -> list[int]:
        """The home county plus 0-3 others of its region, likelier where more members live."""
        want = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        others = [i for i in by_region[ref.counties[home].region] if i != home]
        chosen = [home]
        while others and len(chosen) < want:
            pick = rng.choices(others, weights=[ref.counties[i].weight for i in others])[0]
            others.remove(pick)
            chosen.append(pick)
        return chosen

    def unique(name: str, county: str) -> str:
        candidate, n = name, 2
        while candidate in used_names:
            candidate = f"{name} of {county}" if n == 2 else f"{name} {n}"
            n += 1
        used_names.add(candidate)
        return candidate

    # kind, name, counties served, (home county, zip, city, plan code)
    specs: list[tuple[str, str, list[int], tuple[int, str, str, str]]] = []
    plan_names = list(rng.sample(_PLAN_NAMES, min(plans, len(_PLAN_NAMES))))
    plan_names += [f"Community Health Plan {n}" for n in range(len(plan_names) + 1, plans + 1)]
    for name in plan_names:
        while (code := str(rng.randrange(100, 1000))) in used_codes:
            pass
        used_codes.add(code)
        home = bisect.bisect_right(county_cum, rng.random() * county_cum[-1])
        zip_code, city = rng.choice(ref.counties[home].zips)
        everywhere = list(range(len(ref.counties)))  # synthetic plans serve the whole state
        specs.append((OrganizationKind.PLAN, unique(name, ""), everywhere, (home, zip_code, city, code)))
    for kind, count in _provider_counts(providers):
        for _ in range(count):
            home = bisect.bisect_right(county_cum, rng.random() * county_cum[-1])
            county = ref.counties[home]
            zip_code, city = rng.choice(county.zips)
            template = rng.choice(_NAME_TEMPLATES[kind])
            name = template.format(
                place=city,
                county=county.name,
                word=rng.choice(_NAME_WORDS),
                saint=rng.choice(_SAINTS),
            )
            specs.append((kind, unique(name, county.name), served(home), (home, zip_code, city, "")))

    orgs: list[Organization] = []
    for kind, name, _counties, (home, zip_code, city, code) in specs:
        slug = _ascii_slug(name)[:63]  # one DNS label
        orgs.append(
            Organization(
                uuid=ids.uuid(),
                kind=kind,
                name=name,
                npi=npi(),
                tin=tin(),
                plan_code=code,
                address_line=f"{rng.randrange(100, 9900)} {rng.choice(streets)}",
                city=city,
                zip_code=zip_code,
                phone=_fictional_phone(rng, ref.counties[home].area_codes),
                email=f"info@{slug}.example.org",
                website=f"https://{slug}.example.org",
            )
        )
    Organization.objects.bulk_create(orgs)
    result = _Orgs()
    through = Organization.counties_served.through
    links = []
    contacts = []
    kinds = list(_CONTACT_TITLES)
    for org, (kind, _name, served_counties, (home, _zip, _city, code)) in zip(orgs, specs, strict=True):
        result.counties[org.pk] = served_counties
        if kind == OrganizationKind.PLAN:
            initials = "".join(w[0] for w in org.name.split() if w[0].isalpha())[:3].upper()
            result.plans.append((org.pk, f"{initials}{code}"))  # prefix of the plan's member ids
        else:
            result.by_kind[kind].append(org.pk)
        links += [through(organization_id=org.pk, county_id=county_ids[i]) for i in served_counties]
        area_codes = ref.counties[home].area_codes
        for k, contact_kind in enumerate(
            [kinds[0], *rng.sample(kinds[1:], rng.choices((0, 1, 2), weights=(40, 35, 25))[0])]
        ):
            first, last = fake.first_name(), fake.last_name()
            contacts.append(
                OrganizationContact(
                    uuid=ids.uuid(),
                    organization=org,
                    kind=contact_kind,
                    name=f"{first} {last}",
                    title=rng.choice(_CONTACT_TITLES[contact_kind]),
                    email=f"{_ascii_slug(first)}.{_ascii_slug(last)}{k or ''}@{org.email.split('@')[1]}",
                    phone=_fictional_phone(rng, area_codes),
                )
            )
    through.objects.bulk_create(links)
    OrganizationContact.objects.bulk_create(contacts)
    # auto_now_add stamped the wall clock; seeded data carries the fixed reference timestamp instead
    Organization.objects.filter(pk__in=[o.pk for o in orgs]).update(created_at=ts, updated_at=ts)
    OrganizationContact.objects.filter(pk__in=[c.pk for c in contacts]).update(created_at=ts, updated_at=ts)
    result.contacts = len(contacts)
    return result


# --- members --------------------------------------------------------------------------------------------


def _db_timestamp(value: datetime) -> Any:
    """The database form of a timestamp; text for PostgreSQL, which COPY parses faster than psycopg adapts
    datetime objects."""
    adapted = connection.ops.adapt_datetimefield_value(value)
    return adapted.isoformat(sep=" ") if isinstance(adapted, datetime) else adapted


@dataclass
class _MemberCounts:
    members: int = 0
    spans: int = 0
    ecm: int = 0
    care: int = 0
    programs: int = 0
    first_id: int = 0  # the members' ids are first_id .. first_id + members - 1


class _MemberGenerator:
    """Generates members chunk by chunk, with their spans, ECM assignments, care relationships and program
    enrollments. Per-row work is plain arithmetic on precomputed pools: Faker is only used to fill them."""

    def __init__(
        self, *, seed: int, orgs: _Orgs, county_ids: list[int], first_id: int, taken_cins: set[int]
    ) -> None:
        ref = _reference()
        self.ref = ref
        self.rng = random.Random(f"cshub-seed:{seed}:members")
        # Assignments to providers come from their own stream so the members themselves do not change when
        # the number of providers does.
        self.link_rng = random.Random(f"cshub-seed:{seed}:assignments")
        self.ids = _UuidStream(self.rng, seed)
        self.link_ids = _UuidStream(self.link_rng, seed)
        self.pools = _name_pools(seed)
        self.streets = _street_pool(self.rng)
        self.county_ids = county_ids
        self.county_cum = list(itertools.accumulate(c.weight for c in ref.counties))
        self.next_id = first_id
        self.taken = taken_cins
        self.plans = orgs.plans
        self.plan_cum = list(itertools.accumulate(2.0 if i == 0 else 1.0 for i in range(len(orgs.plans))))
        self.plan_seq = [self.rng.randrange(1_000_000, 5_000_000) for _ in orgs.plans]
        self.ecm_by_county = self._by_county(orgs, OrganizationKind.ECM_PROVIDER)
        self.cs_by_county = self._by_county(orgs, OrganizationKind.CS_PROVIDER)
        # Scale the ECM and outreach rates up by the share of members whose county has such a provider,
        # so the overall rates stay near their targets when only a few providers exist.
        self.ecm_rate = self._scaled_rate(_ECM_SHARE, self.ecm_by_county)
        self.outreach_rate = self._scaled_rate(_OUTREACH_SHARE, self.cs_by_county)
        self.age_cum = list(itertools.accumulate(share for _lo, _hi, share in _AGE_BANDS))
        ref_mi = REFERENCE_DATE.year * 12 + REFERENCE_DATE.month - 1
        self.ref_mi = ref_mi
        self.ref_ord = REFERENCE_DATE.toordinal()
        months = range(ref_mi - 12 * 8, ref_mi + 1)
        firsts = {m: date(m // 12, m % 12 + 1, 1) for m in range(months.start, months.stop + 1)}
        self.month_start = {m: firsts[m].isoformat() for m in months}
        self.month_end = {m: date.fromordinal(firsts[m + 1].toordinal() - 1).isoformat() for m in months}
        # created_at of a row: the first day of its (first) span, 8:00 Pacific
        self.month_ts = {m: _db_timestamp(datetime(m // 12, m % 12 + 1, 1, 16, tzinfo=UTC)) for m in months}

    def _by_county(self, orgs: _Orgs, kind: str) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for org_id in orgs.by_kind.get(kind, []):
            for county in orgs.counties[org_id]:
                out[county].append(org_id)
        return dict(out)

    def _scaled_rate(self, target: float, by_county: dict[int, list[int]]) -> float:
        covered = sum(self.ref.counties[i].weight for i in by_county)
        total = self.county_cum[-1]
        return min(1.0, target * total / covered) if covered else 0.0

    def _cin(self) -> str:
        rand = self.rng.random  # random() is several times cheaper than randrange()
        while True:
            number, letter = _CIN_LOW + int(rand() * (_CIN_HIGH - _CIN_LOW)), int(rand() * 26)
            key = number * 26 + letter
            if key not in self.taken:
                self.taken.add(key)
                return f"{number:08d}{_LETTERS[letter]}"

    def chunk(self, n: int, counts: _MemberCounts) -> dict[_Table, list[tuple[Any, ...]]]:
        """The rows of the next `n` members, by table."""
        rng, rand, link_rand = self.rng, self.rng.random, self.link_rng.random
        ref = self.ref
        languages = rng.choices(ref.languages, cum_weights=ref.language_cum, k=n)
        sexes = rng.choices(_SEXES, cum_weights=_SEX_CUM, k=n)
        counties = rng.choices(range(len(ref.counties)), cum_weights=self.county_cum, k=n)
        ages = rng.choices(_AGE_BANDS, cum_weights=self.age_cum, k=n)
        members: list[tuple[Any, ...]] = []
        spans: list[tuple[Any, ...]] = []
        ecm: list[tuple[Any, ...]] = []
        care: list[tuple[Any, ...]] = []
        programs: list[tuple[Any, ...]] = []
        pools, streets, n_streets = self.pools, self.streets, len(self.streets)
        county_refs, county_ids = ref.counties, self.county_ids
        ref_mi, ref_ord = self.ref_mi, self.ref_ord
        month_start, month_end, month_ts = self.month_start, self.month_end, self.month_ts
        plans, plan_cum, plan_total = self.plans, self.plan_cum, self.plan_cum[-1]
        uid, link_uid = self.ids.hex, self.link_ids.hex
        for language, sex, c, (age_lo, age_hi, _share) in zip(languages, sexes, counties, ages, strict=True):
            member_id = self.next_id
            self.next_id += 1
            # name, in the style of the member's language
            group = _NAME_GROUP_BY_LANGUAGE.get(language, "en")
            if group == "en" and rand() < _HISPANIC_NAME_SHARE_OF_ENGLISH:
                group = "es"
            pool = pools[group]
            female = sex == "F" or (sex in "XU" and rand() < 0.5)
            firsts = pool.female if female else pool.male
            lasts = pool.last_female if female else pool.last_male
            first, first_slug = firsts[int(rand() * len(firsts))]
            last, last_slug = lasts[int(rand() * len(lasts))]
            # date of birth within the age band, counted back from the reference date
            dob = date.fromordinal(ref_ord - int((age_lo + rand() * (age_hi + 1 - age_lo)) * 365.25) - 1)
            dob_mi = dob.year * 12 + dob.month - 1
            age = (ref_ord - dob.toordinal()) // 365
            # where the member lives
            county = county_refs[c]
            zip_code, city = county.zips[int(rand() * len(county.zips))]
            homeless = rand() < _HOMELESS_SHARE
            if homeless:
                address = ""
            else:
                address = f"{int(rand() * 19900) + 100} {streets[int(rand() * n_streets)]}"
                if rand() < 0.25:
                    address += f" Apt {int(rand() * 40) + 1}"
            area_codes = county.area_codes
            phone = f"{area_codes[int(rand() * len(area_codes))]}55501{int(rand() * 100):02d}"
            email = (
                f"{first_slug}.{last_slug}{int(rand() * 100)}@example.com" if rand() < _EMAIL_SHARE else ""
            )
            r = rand()
            for limit, preference in _CONTACT_CUM:  # noqa: B007 (the loop picks the preference)
                if r < limit:
                    break
            if (preference == "email" and not email) or (homeless and preference == "mail"):
                preference = "phone"
            # eligibility: one open span for most, an ended one for some, two for movers and re-enrollees
            low = max(ref_mi - 59, dob_mi)
            room = ref_mi - low
            plan_i = bisect.bisect_right(plan_cum, rand() * plan_total)
            r = rand()
            if r < 0.12 and room >= 4:
                s1 = low + int(rand() * (room - 3))
                e1 = s1 + int(rand() * (ref_mi - 1 - s1))
                s2 = e1 + 1 + int(rand() * min(6, ref_mi - e1 - 1))
                e2 = s2 + int(rand() * (ref_mi - s2)) if rand() < 0.08 and s2 < ref_mi else None
                plan2 = plan_i
                if len(plans) > 1 and rand() < 0.5:
                    plan2 = (plan_i + 1 + int(rand() * (len(plans) - 1))) % len(plans)
                periods = ((plan_i, s1, e1), (plan2, s2, e2))
            elif r < 0.22 and room >= 1:
                s1 = low + int(rand() * room)
                periods = ((plan_i, s1, s1 + int(rand() * (ref_mi - s1))),)
            else:
                periods = ((plan_i, low + int(rand() * (room + 1)), None),)
            dual = rand() < (0.55 if age >= 65 else 0.015)
            line = "dual" if dual else "medi_cal"
            created = month_ts[periods[0][1]]
            members.append(
                (
                    member_id,
                    uid(),
                    created,
                    created,
                    self._cin(),
                    first,
                    last,
                    dob.isoformat(),
                    sex,
                    language,
                    address,
                    city,
                    zip_code,
                    county_ids[c],
                    homeless,
                    phone,
                    email,
                    preference,
                )
            )
            plan_ids: dict[int, str] = {}
            for p, start, end in periods:
                if p not in plan_ids:
                    self.plan_seq[p] += 1
                    plan_ids[p] = f"{plans[p][1]}{self.plan_seq[p]:08d}"
                ts = month_ts[start]
                spans.append(
                    (
                        uid(),
                        ts,
                        ts,
                        member_id,
                        plans[p][0],
                        plan_ids[p],
                        line,
                        month_start[start],
                        None if end is None else month_end[end],
                    )
                )
            # care team links for members covered today, to providers serving their county
            current_plan, current_start, current_end = periods[-1]
            if current_end is None:
                if link_rand() < self.ecm_rate and (choices := self.ecm_by_county.get(c)):
                    org = choices[int(link_rand() * len(choices))]
                    m = max(current_start, ref_mi - 36)
                    m += int(link_rand() * (ref_mi - m + 1))
                    ecm_uuid, ts = link_uid(), month_ts[m]
                    ecm.append(
                        (ecm_uuid, ts, ts, member_id, plans[current_plan][0], org, month_start[m], None)
                    )
                    care.append(
                        (
                            link_uid(),
                            ts,
                            ts,
                            member_id,
                            org,
                            "ecm_assignment",
                            _dashed(ecm_uuid),
                            month_start[m],
                            None,
                        )
                    )
                if link_rand() < self.outreach_rate and (choices := self.cs_by_county.get(c)):
                    org = choices[int(link_rand() * len(choices))]
                    m = max(current_start, ref_mi - 12)
                    m += int(link_rand() * (ref_mi - m + 1))
                    ts = month_ts[m]
                    care.append(
                        (link_uid(), ts, ts, member_id, org, "outreach_assignment", "", month_start[m], None)
                    )
            if link_rand() < _PROGRAM_SHARE:
                programs.append(self._program(member_id, age, low, link_rand, link_uid))
        counts.members += len(members)
        counts.spans += len(spans)
        counts.ecm += len(ecm)
        counts.care += len(care)
        counts.programs += len(programs)
        return {MEMBERS: members, SPANS: spans, ECM: ecm, CARE: care, PROGRAMS: programs}

    def _program(
        self, member_id: int, age: int, low: int, rand: Callable[[], float], uid: Callable[[], str]
    ) -> tuple[Any, ...]:
        band = "child" if age < 21 else "senior" if age >= 65 else "adult"
        options = _PROGRAMS_BY_AGE[band]
        pick = rand() * sum(w for _c, w in options)
        for code, weight in options:  # noqa: B007 (the last code is the fallback)
            if pick < weight:
                break
            pick -= weight
        if code == "hh":  # Health Homes ended when ECM began (January 2022): adults' historical spans only
            start = 2019 * 12 + int(rand() * 30)
            end: str | None = self.month_end[2021 * 12 + 11]
        else:
            start = low + int(rand() * (self.ref_mi - low + 1))
            end = (
                self.month_end[start + int(rand() * (self.ref_mi - start))]
                if rand() < 0.3 and start < self.ref_mi
                else None
            )
        ts = self.month_ts[start]
        source = _PROGRAM_SOURCE.get(code, "Plan care management file")
        return (uid(), ts, ts, member_id, code, self.month_start[start], end, source)


# --- entry points ---------------------------------------------------------------------------------------


def seeded_seeds() -> list[int]:
    """The seeds whose data is in the database (found through the seeded organizations)."""
    low, high = seeded_uuid_range()
    uuids = Organization.objects.filter(
        uuid__gte=low, uuid__lt=high, website__endswith=".example.org"
    ).values_list("uuid", flat=True)
    return sorted({(u.int >> 80) & _MAX_SEED for u in uuids})


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + ("" if text.endswith("\n") else "\n"))


def seed(
    *,
    members: int,
    providers: int,
    seed: int,
    plans: int = 2,
    referrals: int | None = None,
    authorizations: int | None = None,
    network: bool = True,
    claims: int | None = None,
    stdout: TextIO | None = None,
) -> SeedResult:
    """Create `plans` plans, about `providers` provider organizations and `members` members with their
    eligibility spans, ECM assignments, care relationships and program enrollments, all in one transaction;
    then, when the service catalog is loaded, provider intakes and `referrals` referrals with their history
    (default: 5% of the members, at most 300,000; see cshub/devtools/seed_referrals.py), then
    `authorizations` authorization requests made through the services (default: the demo's scenarios; see
    cshub/devtools/seed_authorizations.py), then, with `network`, the first plan's provider network:
    certifications, contracts, trainings, listings and capacity reports made through the services (see
    cshub/devtools/seed_network.py), then, with the network, `claims` claims and invoices of the first plan
    made through the claims services (default: one per 20 members, at most 150; see
    cshub/devtools/seed_claims.py).

    Running it again with the same seed changes nothing (`already_seeded` is set); a database seeded with
    another seed is refused (SeedError): call `reset` first."""
    if not 0 <= seed <= _MAX_SEED:
        raise SeedError(f"--seed must be between 0 and {_MAX_SEED}")
    if members < 0 or providers < 0 or plans < 1 or (referrals is not None and referrals < 0):
        raise SeedError("--members, --providers and --referrals must be 0 or more, --plans at least 1")
    started = time.perf_counter()
    result = SeedResult(seed=seed)
    is_pg = connection.vendor == "postgresql"
    with transaction.atomic():
        if is_pg:
            # Serialise seeders and keep other writers out of the member table while ids are reserved.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(MEMBERS.db_table)} IN SHARE ROW EXCLUSIVE MODE"
                )
        present = seeded_seeds()
        if seed in present:
            result.already_seeded = True
            return result
        if present:
            raise SeedError(
                f"The database is already seeded with seed {present[0]}; use --reset to replace that data."
            )
        for table in _MEMBER_PASS_TABLES:
            _ = table.columns  # fail early if a model gained a field the generator does not fill
        county_ids = _county_ids()
        orgs = _create_organizations(
            plans=plans, providers=providers, seed=seed, county_ids=county_ids, ts=ORG_CREATED_AT
        )
        result.organizations = {OrganizationKind.PLAN.value: len(orgs.plans)} | {
            kind.value: len(orgs.by_kind.get(kind, [])) for kind, _share in _PROVIDER_MIX
        }
        result.contacts = orgs.contacts
        result.phases["organizations"] = time.perf_counter() - started
        member_started = time.perf_counter()
        counts = _write_members(
            members=members, seed=seed, orgs=orgs, county_ids=county_ids, result=result, stdout=stdout
        )
        result.member_seconds = time.perf_counter() - member_started
        _seed_referrals(
            seed=seed,
            count=default_referrals(members) if referrals is None else referrals,
            orgs=orgs,
            county_ids=county_ids,
            counts=counts,
            result=result,
            stdout=stdout,
        )
        _seed_authorizations(seed=seed, count=authorizations, result=result, stdout=stdout)
        if network:
            _seed_network(seed=seed, result=result, stdout=stdout)
            _seed_claims(seed=seed, count=claims, members=members, result=result, stdout=stdout)
            _seed_exchange(result=result)
    result.members = counts.members
    result.eligibility_spans = counts.spans
    result.ecm_assignments = counts.ecm
    result.care_relationships = counts.care + result.referral_rows.get("CareRelationship", 0)
    result.program_enrollments = counts.programs
    result.seconds = time.perf_counter() - started
    return result


def default_referrals(members: int) -> int:
    from cshub.devtools.seed_referrals import default_referrals as default

    return default(members)


def _seed_referrals(
    *,
    seed: int,
    count: int,
    orgs: _Orgs,
    county_ids: list[int],
    counts: _MemberCounts,
    result: SeedResult,
    stdout: TextIO | None,
) -> None:
    """Provider intakes and referrals (cshub/devtools/seed_referrals.py), when the catalog is loaded."""
    from cshub.devtools.seed_referrals import seed_referrals  # it builds on this module

    started = time.perf_counter()
    outcome = seed_referrals(
        seed=seed,
        count=count,
        orgs=orgs,
        county_ids=county_ids,
        first_member=counts.first_id,
        members=counts.members,
        stdout=stdout,
    )
    result.referrals = outcome.referrals
    result.referral_status = dict(sorted(outcome.by_status.items()))
    result.referral_channel = dict(sorted(outcome.by_channel.items()))
    result.referral_rows = outcome.rows
    result.referral_seconds = outcome.seconds
    result.notes += outcome.notes
    if outcome.rows:
        result.phases["referrals"] = time.perf_counter() - started
        result.phases.update({f"referrals: {name}": sec for name, sec in outcome.phases.items()})


def _seed_authorizations(*, seed: int, count: int | None, result: SeedResult, stdout: TextIO | None) -> None:
    """Authorization requests through the services (cshub/devtools/seed_authorizations.py)."""
    from cshub.devtools.seed_authorizations import default_authorizations, seed_authorizations

    started = time.perf_counter()
    outcome = seed_authorizations(
        seed=seed, count=default_authorizations() if count is None else count, stdout=stdout
    )
    result.authorizations = outcome.requests
    result.authorization_status = dict(sorted(outcome.by_status.items()))
    result.service_records = outcome.service_records
    result.notes += outcome.notes
    if outcome.requests or outcome.service_records:
        result.phases["authorizations"] = time.perf_counter() - started


def _seed_network(*, seed: int, result: SeedResult, stdout: TextIO | None) -> None:
    """The first plan's provider network through the services (cshub/devtools/seed_network.py)."""
    from cshub.devtools.seed_network import seed_network

    started = time.perf_counter()
    outcome = seed_network(seed=seed, stdout=stdout)
    result.notes += outcome.notes
    if outcome.contracts or outcome.interest_forms:
        result.network = {
            "executed contracts": outcome.contracts,
            "fee schedule rows": outcome.fee_rows,
            **{f"applications {k}": n for k, n in sorted(outcome.certifications.items())},
            "interest forms": outcome.interest_forms,
            "training completions": outcome.trainings,
            "listings": outcome.listings,
            "capacity reports": outcome.capacity_reports,
        }
        result.phases["network"] = time.perf_counter() - started


def _seed_exchange(*, result: SeedResult) -> None:
    """The CSASF of the last two scheduled days for every provider contracted on them (rule D1), made by the
    product's own run and put in the providers' SFTP outboxes, so the exchange pages have files to show."""
    from cshub.core import clock
    from cshub.exchange.csasf import csasf_due_date, csasf_run

    latest = csasf_due_date(clock.today())
    made = sum(
        csasf_run(production_date=day).made for day in (csasf_due_date(latest - timedelta(days=1)), latest)
    )
    if made:
        result.network["CSASF files"] = made


def _seed_claims(
    *, seed: int, count: int | None, members: int, result: SeedResult, stdout: TextIO | None
) -> None:
    """Claims, 837P files, invoices and a payment run through the services (cshub/devtools/seed_claims.py)."""
    from cshub.devtools.seed_claims import default_claims, seed_claims

    started = time.perf_counter()
    count = default_claims(members) if count is None else count
    outcome = seed_claims(seed=seed, count=count, stdout=stdout)
    result.notes += outcome.notes
    if outcome.claims:
        result.claims = outcome.claims
        result.claim_status = dict(sorted(outcome.by_status.items()))
        result.claim_outcome = dict(sorted(outcome.by_outcome.items()))
        result.claim_rows = {
            "837P files": outcome.files,
            "rejected": outcome.rejected_files,
            "payment runs": outcome.payment_runs,
            "payments with an 835": outcome.payments,
            "authorizations billed against": outcome.authorizations,
        }
        result.phases["claims"] = time.perf_counter() - started


def _county_ids() -> list[int]:
    """Database ids of the counties, in the order of the data file (the migration loads them)."""
    ids = dict(County.objects.values_list("name", "id"))
    missing = [c.name for c in _reference().counties if c.name not in ids]
    if missing:
        raise SeedError(f"counties missing from the database (run migrate): {', '.join(missing)}")
    return [ids[c.name] for c in _reference().counties]


def _write_members(
    *, members: int, seed: int, orgs: _Orgs, county_ids: list[int], result: SeedResult, stdout: TextIO | None
) -> _MemberCounts:
    counts = _MemberCounts()
    if members == 0:
        return counts
    is_pg = connection.vendor == "postgresql"
    taken = {
        int(cin[:8]) * 26 + _LETTERS.index(cin[8])
        for cin in Member.objects.filter(cin__lt=str(_CIN_HIGH)).values_list("cin", flat=True)
        if len(cin) == 9 and cin[:8].isdigit() and cin[8] in _LETTERS
    }
    rebuild: list[str] = []
    with connection.cursor() as cursor:
        if is_pg:
            first_id = _pg_reserve_ids(cursor, MEMBERS.db_table, members)
            if members >= BULK_LOAD_MIN_MEMBERS:
                t = time.perf_counter()
                with _constraints_checked_now(cursor):
                    for table in (MEMBERS, SPANS):
                        rebuild += _pg_drop_secondary(cursor, table.db_table)
                result.phases["drop indexes"] = time.perf_counter() - t
        else:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(MEMBERS.db_table)}")  # noqa: S608
            first_id = (cursor.fetchone()[0] or 0) + 1
    counts.first_id = first_id
    generator = _MemberGenerator(
        seed=seed, orgs=orgs, county_ids=county_ids, first_id=first_id, taken_cins=taken
    )
    writer: _CopyWriter | _InsertWriter = _CopyWriter() if is_pg else _InsertWriter()
    result.method = writer.method + (", indexes rebuilt after the load" if rebuild else "")
    t = time.perf_counter()
    try:
        done = 0
        while done < members:
            n = min(CHUNK_SIZE, members - done)
            for table, rows in generator.chunk(n, counts).items():
                writer.write(table, rows)
            done += n
            if members > CHUNK_SIZE:
                _say(stdout, f"  members: {done:,}/{members:,} ({time.perf_counter() - t:.1f} s)")
    except BaseException:
        writer.close(abort=True)
        raise
    writer.close()
    result.phases["generate and write"] = time.perf_counter() - t
    if rebuild:
        t = time.perf_counter()
        with connection.cursor() as cursor:
            # Bigger sort memory lets each index build sort in memory (this transaction only).
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            with _constraints_checked_now(cursor):
                for statement in rebuild:
                    cursor.execute(statement)
        result.phases["rebuild indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for table in _MEMBER_PASS_TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table.db_table)}")
        result.phases["analyze"] = time.perf_counter() - t
    return counts


def _reset_referrals(in_range: dict[str, Any], stdout: TextIO | None) -> Counter[str]:
    """The seeded referrals with their history, enrollments, consents and provider intakes; their files are
    removed from the storage once the deletion commits."""
    from django.core.files.storage import default_storage

    from cshub.members import models as member_models
    from cshub.referrals.models import Enrollment, ProviderIntake, Referral, ReferralDocument

    deleted: Counter[str] = Counter()
    files = list(ReferralDocument.objects.filter(**in_range).exclude(file="").values_list("file", flat=True))
    deleted[Enrollment._meta.label] += Enrollment.objects.filter(**in_range).delete()[0]
    consent = getattr(member_models, "Consent", None)
    if consent is not None:
        deleted[consent._meta.label] += consent.objects.filter(**in_range).delete()[0]
    referrals = Referral.objects.filter(**in_range).order_by("pk").values_list("pk", flat=True)
    last = 0
    while pks := list(referrals.filter(pk__gt=last)[:20_000]):
        last = pks[-1]
        try:
            _total, by_model = Referral.objects.filter(pk__in=pks).delete()
        except ProtectedError as exc:
            raise SeedError(f"Seeded referrals are still referenced: {exc.args[0]}") from exc
        deleted.update(by_model)
        _say(stdout, f"  deleted {deleted[Referral._meta.label]:,} referrals")
    deleted.update(ProviderIntake.objects.filter(**in_range).delete()[1])
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return deleted


def reset(*, stdout: TextIO | None = None) -> dict[str, int]:
    """Delete everything the seeder made (any seed): members and their rows, then the seeded organizations.
    Rows made by anyone else are kept; if they depend on seeded rows (a user of a seeded organization, say),
    nothing is deleted and SeedError says why."""
    deleted: Counter[str] = Counter()
    with transaction.atomic():
        seeds = seeded_seeds()
        for s in seeds:
            low, high = seeded_uuid_range(s)
            in_range = {"uuid__gte": low, "uuid__lt": high}
            orgs = Organization.objects.filter(website__endswith=".example.org", **in_range)
            # The network seed's rows, then the authorization seed's requests and the seeders' own users
            # (seeded uuids) go first.
            from cshub.devtools.seed_authorizations import reset_authorizations
            from cshub.devtools.seed_claims import reset_claims
            from cshub.devtools.seed_network import reset_network
            from cshub.exchange.models import ExchangeFile

            # Exchange files (CSASF made for seeded providers, CSPRTF they sent) protect the organizations.
            deleted.update(
                ExchangeFile.objects.filter(
                    models.Q(organization__in=orgs) | models.Q(plan__in=orgs)
                ).delete()[1]
            )

            deleted.update(reset_claims(in_range))  # claims protect members, authorizations, organizations
            deleted.update(reset_network(in_range))
            deleted.update(reset_authorizations(in_range))
            users = list(User.objects.filter(organization__in=orgs).values_list("email", flat=True)[:5])
            if users:
                raise SeedError(
                    f"Users belong to seeded organizations ({', '.join(users)}); move or delete them before "
                    "--reset."
                )
            deleted.update(_reset_referrals(in_range, stdout))
            for model in (CareRelationship, EcmAssignment, ProgramEnrollment, EligibilitySpan):
                deleted[model._meta.label] += model.objects.filter(**in_range).delete()[0]
            # Members in chunks: the collector then also removes rows other apps hang on them.
            members = Member.objects.filter(**in_range).order_by("pk").values_list("pk", flat=True)
            last = 0
            # Walk the ids forwards: restarting from the lowest id would rescan every deleted row each time.
            while pks := list(members.filter(pk__gt=last)[:20_000]):
                last = pks[-1]
                try:
                    _total, by_model = Member.objects.filter(pk__in=pks).delete()
                except ProtectedError as exc:
                    raise SeedError(f"Seeded members are still referenced: {exc.args[0]}") from exc
                deleted.update(by_model)
                _say(stdout, f"  deleted {deleted[Member._meta.label]:,} members")
            try:
                _total, by_model = orgs.delete()
            except ProtectedError as exc:
                raise SeedError(f"Seeded organizations are still referenced: {exc.args[0]}") from exc
            deleted.update(by_model)
    return {label: n for label, n in sorted(deleted.items()) if n}
