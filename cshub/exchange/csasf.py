"""The Community Supports Authorization Status File (CSASF), rule D1: for each contracted CS provider, a
cumulative list of the members assigned to it and the members it referred for authorization, on the 15th
and 29th of every month (a month without a 29th: its last day), put in the provider's SFTP outbox.

    csasf_due_date(on)                       # the most recent scheduled day on or before `on`
    csasf_rows(plan=, provider=, production_date=)  # one provider's rows, as dicts by layout field name
    csasf_produce(plan=, provider=, production_date=, actor=)  # one file (idempotent)
    csasf_run(production_date=None, plan_code="", provider_npi="", actor=None)  # every contracted provider

What a row is. One row per member and Community Support episode with the provider, under the file's plan:
- each authorization request the provider made (`PROVIDER_REFERRED`) or that names it as the servicing
  provider (`ASSIGNED`, e.g. a hospital's recuperative care request, rule A5), in any status: the file is
  cumulative, so a denial or a withdrawal stays listed with its status;
- each CS referral sent or assigned to the provider (`ASSIGNED`) that is still open or led to an enrollment
  with the provider, unless one of the requests above already carries it (then the request's row names
  the referral). A referral closed without enrollment (declined, not eligible, unable to reach, sent
  elsewhere...) leaves the list: the provider reported it in its CSPRTF.
Only what was received by the end of the production date counts, so a file made late (a catch-up run, or
`cshub exchange csasf --date`) lists what was known on its day; statuses are those at the time it is made.

Who gets one: every organization with an executed contract with the plan in force on the production date
(`cshub.contracts.selectors.in_force_q`), even when its list is empty (the file then says so by having a
header only). Scale: three set-based queries per plan for all its providers (see Rows), streamed, no query
per row or per provider.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import heapq
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, CharField, Exists, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Left, TruncDate, Upper
from django.db.models.lookups import Exact

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.authorizations.models import AuthorizationRequest, RequestStatus
from cshub.contracts.models import Contract
from cshub.contracts.selectors import in_force_q
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.exchange import folders
from cshub.exchange.layouts import Layout, LayoutFileError, load_layout
from cshub.exchange.models import ExchangeFile
from cshub.members.models import EligibilitySpan
from cshub.referrals.models import Enrollment, Referral, ReferrerKind
from cshub.referrals.workflow import workflow

logger = logging.getLogger(__name__)

LAYOUT_KEY = "csasf"
# Rule D1: the 15th and the 29th of every month; a month without the day gets the file on its last day
# (DESIGN principle 2). A setting so a plan with another schedule changes data, not code.
DEFAULT_DAYS = (15, 29)
LINE_TERMINATOR = "\r\n"
CHUNK = 2000

ASSIGNED = "ASSIGNED"
PROVIDER_REFERRED = "PROVIDER_REFERRED"
NOT_REQUESTED = "NOT_REQUESTED"
VOIDED = "VOIDED"


def schedule_days() -> tuple[int, ...]:
    return tuple(getattr(settings, "CSHUB_CSASF_DAYS", DEFAULT_DAYS))


# --- Schedule -------------------------------------------------------------------------------------------


def csasf_due_date(on: date) -> date:
    """Rule D1: the most recent scheduled production day on or before `on` (2026-03-20 -> 2026-03-15;
    2026-03-10 -> 2026-02-28)."""
    days = schedule_days()
    for candidate in reversed(clock.monthly_dates(on.year, on.month, days=days)):
        if candidate <= on:
            return candidate
    previous = clock.add_months(on.replace(day=1), -1)
    return clock.monthly_dates(previous.year, previous.month, days=days)[-1]


def csasf_is_due(on: date) -> bool:
    return csasf_due_date(on) == on


def csasf_period(production_date: date) -> tuple[date, date]:
    """The reporting period a file dated `production_date` closes: the day after the previous scheduled
    day through the production date (2026-03-15 -> 2026-03-01..2026-03-15)."""
    previous = csasf_due_date(production_date - timedelta(days=1))
    return previous + timedelta(days=1), production_date


# --- Who gets a file ------------------------------------------------------------------------------------


def csasf_plans(plan_code: str = "") -> list[Organization]:
    plans = Organization.objects.filter(kind=OrganizationKind.PLAN, is_active=True)
    if plan_code:
        plans = plans.filter(plan_code=plan_code)
    return list(plans.order_by("name", "id"))


def csasf_providers(*, plan: Organization, on: date, provider_npi: str = "") -> list[Organization]:
    """Rule D1 "contracted": organizations with an executed contract with `plan` in force on `on`."""
    contracted = Contract.objects.filter(in_force_q(on), plan=plan).values("organization_id")
    providers = Organization.objects.filter(pk__in=contracted, is_active=True)
    if provider_npi:
        providers = providers.filter(npi=provider_npi)
    return list(providers.order_by("name", "id"))


# --- Rows -----------------------------------------------------------------------------------------------
#
# Three set-based queries per plan, for every provider whose file is being made, each ordered by provider:
# requests by the provider that asked (PROVIDER_REFERRED), requests by the servicing provider when another
# organization asked (ASSIGNED), referrals by the receiving provider (ASSIGNED). Each selects the layout's
# columns, in the layout's order, as the text the file holds, made in SQL: the roster's data else the
# referral's, upper-cased codes, Pacific dates in the layout's date format, Y/N flags, text cut to the
# column's length, empty text for NULL. Python only writes the lines (and formats a date whose format the
# database cannot make, and decimals). The code columns' possible values are checked against the layout's
# valid values once (`check_csasf_layout`), not per cell. The streams are merged by provider id and read
# one provider at a time: memory holds one provider's rows, never the whole plan's.

# Columns the same in every row of a file: filled once per file (csasf_write).
FILE_COLUMNS = frozenset(
    {
        "plan_code",
        "plan_name",
        "provider_name",
        "provider_npi",
        "provider_tin",
        "production_date",
        "reporting_period",
    }
)
_TEXT = CharField()


def _null() -> Value:
    return Value(None, output_field=_TEXT)


class DateText(Func):
    """A date as text in a strftime format made only of %Y, %m, %d and punctuation, by the database:
    to_char on PostgreSQL, strftime on SQLite (`sql_date_pattern` says whether a format qualifies)."""

    output_field = CharField()

    def __init__(self, expression: Any, date_format: str) -> None:
        super().__init__(expression)
        pattern = sql_date_pattern(date_format)
        if pattern is None:
            raise ValueError(f"{date_format!r}: only %Y, %m, %d and punctuation can be formatted in SQL")
        self.date_format, self.pg_pattern = date_format, pattern

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql}, %s)", [*params, self.pg_pattern]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"strftime(%s, {sql})", [self.date_format, *params]


_PG_DATE_PARTS = {"Y": "YYYY", "m": "MM", "d": "DD"}


def sql_date_pattern(date_format: str) -> str | None:
    """The to_char pattern of a strftime format of %Y, %m, %d and punctuation; None for anything else."""
    out, i = [], 0
    while i < len(date_format):
        ch = date_format[i]
        if ch == "%":
            part = _PG_DATE_PARTS.get(date_format[i + 1 : i + 2])
            if part is None:
                return None
            out.append(part)
            i += 2
            continue
        if ch.isalnum() or ch in "\"'":
            return None
        out.append(ch)
        i += 1
    return "".join(out)


def _plan_member_id(plan: Organization) -> Subquery:
    spans = EligibilitySpan.objects.filter(member=OuterRef("member_id"), plan=plan).order_by("-start_date")
    return Subquery(spans.values("plan_member_id")[:1])


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=clock.PACIFIC)


def _request_columns(plan: Organization, assignment: str) -> dict[str, Any]:
    """What each CSASF column is for an authorization request row (the layout's `maps_to`)."""
    return {
        "member_cin": F("member__cin"),
        "member_plan_id": _plan_member_id(plan),
        "member_last_name": F("member__last_name"),
        "member_first_name": F("member__first_name"),
        "member_date_of_birth": F("member__date_of_birth"),
        "member_address": F("member__address_line"),
        "member_city": F("member__city"),
        "member_zip": F("member__zip_code"),
        "member_county": F("member__county__name"),
        "member_homeless": F("member__is_homeless"),
        "member_phone": F("member__phone"),
        "member_email": F("member__email"),
        "member_language": F("member__preferred_language"),
        "assignment_type": Value(assignment, output_field=_TEXT),
        "service_name": F("service__name"),
        "hcpcs_code": F("code__hcpcs"),
        "hcpcs_modifier": F("code__modifier"),
        "referral_number": F("referral__number"),
        "referral_date": _day("referral__received_at"),
        "referral_source": Upper("referral__referrer_kind"),
        "referral_status": F("referral__status"),
        "authorization_request_number": F("number"),
        "authorization_status": Case(
            When(authorization__voided_at__isnull=False, then=Value(VOIDED)),
            default=Upper("status"),
            output_field=_TEXT,
        ),
        "authorization_number": F("authorization__number"),
        "authorization_decision_date": _day("decided_at"),
        "authorization_start_date": F("authorization__start_date"),
        "authorization_end_date": F("authorization__end_date"),
        "requested_units": F("units"),
        "authorized_units": F("authorization__units"),
    }


def _referral_columns(plan: Organization) -> dict[str, Any]:
    """What each CSASF column is for a referral row: the roster's data when the referral is matched to a
    member (its columns are never NULL then), else what the referrer gave."""
    return {
        "member_cin": Coalesce("member__cin", "member_cin"),
        "member_plan_id": _plan_member_id(plan),
        "member_last_name": Coalesce("member__last_name", "member_last_name"),
        "member_first_name": Coalesce("member__first_name", "member_first_name"),
        "member_date_of_birth": Coalesce("member__date_of_birth", "member_date_of_birth"),
        "member_address": Coalesce("member__address_line", "member_address"),
        "member_city": F("member__city"),
        "member_zip": F("member__zip_code"),
        "member_county": Coalesce("member__county__name", "member_county__name"),
        "member_homeless": F("member__is_homeless"),
        "member_phone": Coalesce("member__phone", "member_phone"),
        "member_email": Coalesce("member__email", "member_email"),
        "member_language": Coalesce("member__preferred_language", "member_language"),
        "assignment_type": Value(ASSIGNED, output_field=_TEXT),
        "service_name": F("service__name"),
        "referral_number": F("number"),
        "referral_date": _day("received_at"),
        "referral_source": Upper("referrer_kind"),
        "referral_status": F("status"),
        "authorization_status": Value(NOT_REQUESTED, output_field=_TEXT),
    }


def _select(qs: Any, layout: Layout, columns: dict[str, Any], provider_field: str) -> Any:
    """`qs` as tuples (provider id, then the layout's row columns in order), ordered by provider, each
    column the text the file holds (see above). A layout column cshub does not fill (one added to the
    layout file) is empty."""
    names = []
    annotations = {}
    for f in layout.fields:
        if f.name in FILE_COLUMNS:
            continue
        expression = columns.get(f.name)
        if expression is None:
            expression = Value("", output_field=_TEXT)
        elif f.type in ("string", "code"):
            if f.max_length is not None:
                expression = Left(expression, f.max_length)
            expression = Coalesce(expression, Value(""), output_field=_TEXT)
        elif f.type == "date" and sql_date_pattern(layout.date_format) is not None:
            expression = Coalesce(DateText(expression, layout.date_format), Value(""), output_field=_TEXT)
        elif f.type == "flag":
            yes, no = f.flag_values
            expression = Case(
                When(Exact(expression, True), then=Value(yes)),
                When(Exact(expression, False), then=Value(no)),
                default=Value(""),
                output_field=_TEXT,
            )
        alias = f"csasf_{f.name}"
        annotations[alias] = expression
        names.append(alias)
    return qs.annotate(**annotations).order_by(provider_field).values_list(provider_field, *names)


# The values cshub can put in each code column; every one must be among the layout's valid values.
def _code_values() -> dict[str, set[str]]:
    return {
        "assignment_type": {ASSIGNED, PROVIDER_REFERRED},
        "authorization_status": {v.upper() for v in RequestStatus.values} | {VOIDED, NOT_REQUESTED},
        "referral_source": {v.upper() for v in ReferrerKind.values},
    }


def check_csasf_layout(layout: Layout | None = None) -> list[str]:
    """Problems between the CSASF layout and what cshub writes in it: a code cshub can write that the
    layout's valid values lack. Run at start-up (the `exchange` system check) and before every run."""
    layout = layout or load_layout(LAYOUT_KEY)
    problems = []
    for name, produced in _code_values().items():
        if name not in layout.names:
            continue
        f = layout.field(name)
        if f.type != "code":
            continue
        missing = sorted(produced - set(f.valid_values))
        if missing:
            problems.append(f"{layout.path}: field {name!r}: valid_values lack {', '.join(missing)}")
    return problems


def stream_querysets(plan: Organization, provider_ids: list[int], cutoff: datetime) -> list[Any]:
    """The queries of a plan's files for `provider_ids` (see above): two or three."""
    layout = load_layout(LAYOUT_KEY)
    if problems := check_csasf_layout(layout):
        raise LayoutFileError("; ".join(problems))
    requests = AuthorizationRequest.objects.filter(plan=plan, received_at__lte=cutoff)
    asked = _select(
        requests.filter(requesting_organization_id__in=provider_ids),
        layout,
        _request_columns(plan, PROVIDER_REFERRED),
        "requesting_organization_id",
    )
    # Requests another organization made naming the provider to serve (hospitals, rule A5): usually few or
    # none, so a cheap look first spares the join of the whole plan when there are none.
    others = requests.filter(servicing_organization_id__in=provider_ids).exclude(
        servicing_organization_id=F("requesting_organization_id")
    )
    serviced = (
        [_select(others, layout, _request_columns(plan, ASSIGNED), "servicing_organization_id")]
        if others.exists()
        else []
    )
    provider = OuterRef("receiving_provider_id")
    enrolled = Enrollment.objects.filter(referral=OuterRef("pk"), organization_id=provider)
    carried = requests.filter(referral=OuterRef("pk")).filter(
        Q(requesting_organization_id=provider) | Q(servicing_organization_id=provider)
    )
    referred = _select(
        Referral.objects.filter(plan=plan, receiving_provider_id__in=provider_ids, received_at__lte=cutoff)
        .filter(kind=Referral.Kind.COMMUNITY_SUPPORT)
        .filter(Q(status__in=workflow().open_statuses) | Exists(enrolled))
        .exclude(Exists(carried)),
        layout,
        _referral_columns(plan),
        "receiving_provider_id",
    )
    return [asked, *serviced, referred]


def _row_names(layout: Layout) -> list[str]:
    return [f.name for f in layout.fields if f.name not in FILE_COLUMNS]


def _sort_key(layout: Layout) -> Callable[[tuple[Any, ...]], Any]:
    """Rows sorted by member name, CIN, service, referral and request number (text columns, never NULL)."""
    names = _row_names(layout)
    wanted = (
        "member_last_name", "member_first_name", "member_cin", "service_name", "referral_number",
        "authorization_request_number",
    )  # fmt: skip
    positions = [names.index(n) for n in wanted if n in names]
    if not positions:
        return lambda row: ()
    if len(positions) == 1:
        return lambda row: row[positions[0]]
    return itemgetter(*positions)


def csasf_rows_by_provider(
    *, plan: Organization, provider_ids: list[int], production_date: date
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """Rule D1: (provider id, its rows) for each of `provider_ids`, in id order, as of the end of
    `production_date`; an empty list for a provider with nobody to list. A row is a tuple of the layout's
    columns other than FILE_COLUMNS, in layout order, sorted by member name, CIN and service."""
    ids = sorted(set(provider_ids))
    if not ids:
        return
    layout = load_layout(LAYOUT_KEY)
    key = _sort_key(layout)
    cutoff = clock.end_of_day(production_date)
    streams = [qs.iterator(chunk_size=CHUNK) for qs in stream_querysets(plan, ids, cutoff)]
    merged = groupby(heapq.merge(*streams, key=itemgetter(0)), key=itemgetter(0))
    current = next(merged, None)
    for provider_id in ids:
        rows: list[tuple[Any, ...]] = []
        if current is not None and current[0] == provider_id:
            rows = [values[1:] for values in current[1]]
            current = next(merged, None)
        rows.sort(key=key)
        yield provider_id, rows


def csasf_rows(*, plan: Organization, provider: Organization, production_date: date) -> list[dict[str, Any]]:
    """Rule D1: one provider's rows under `plan` as of `production_date`, as dicts keyed by layout field
    name (for people and tests; the writer uses the tuples of csasf_rows_by_provider)."""
    names = _row_names(load_layout(LAYOUT_KEY))
    found = csasf_rows_by_provider(plan=plan, provider_ids=[provider.pk], production_date=production_date)
    ((_, rows),) = list(found)
    return [dict(zip(names, row, strict=True)) for row in rows]


# --- Writing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    name: str
    data: bytes
    rows: int
    sha256: str


@cache
def _cell_formatters(layout: Layout) -> tuple[tuple[int, Callable[[object], str]], ...]:
    """(position in a row tuple, formatter) for the columns Python formats: decimals, and dates when the
    layout's date format is not one SQL makes. The rest arrive as the file's text (whole numbers as
    numbers; csv writes None as an empty cell). Cached per layout, so a date formatter's memo of the days
    it has written serves every file of a run."""
    names = _row_names(layout)
    in_python = {"decimal"} | ({"date"} if sql_date_pattern(layout.date_format) is None else set())
    return tuple(
        (names.index(f.name), f.formatter(layout))
        for f in layout.fields
        if f.name not in FILE_COLUMNS and f.type in in_python
    )


def _row_writer(layout: Layout, fixed: dict[str, str]) -> Callable[[tuple[Any, ...]], list[Any]]:
    """Row tuple -> the cells of one line, the file columns taking their texts from `fixed`."""
    formatters = _cell_formatters(layout)
    slots = [i for i, f in enumerate(layout.fields) if f.name not in FILE_COLUMNS]
    texts = [fixed.get(f.name) for f in layout.fields]
    first, last = (slots[0], slots[-1]) if slots else (0, -1)
    if slots == list(range(first, last + 1)):  # the file columns around the row's (as in csasf.toml)
        before, after = texts[:first], texts[last + 1 :]

        def cells(row: tuple[Any, ...]) -> list[Any]:
            values = list(row)
            for position, fmt in formatters:
                values[position] = fmt(values[position])
            return before + values + after

        return cells

    def cells_anywhere(row: tuple[Any, ...]) -> list[Any]:
        values = list(row)
        for position, fmt in formatters:
            values[position] = fmt(values[position])
        line = texts.copy()
        for slot, value in zip(slots, values, strict=True):
            line[slot] = value
        return line

    return cells_anywhere


def csasf_write(
    *,
    layout: Layout,
    plan: Organization,
    provider: Organization,
    production_date: date,
    rows: Iterable[tuple[Any, ...]],
) -> Written:
    """The file's bytes: header (when the layout has one), then one line per row, in the layout's order,
    delimiter and encoding (csv quoting only when a value holds the delimiter, a quote or a line break)."""
    start, end = csasf_period(production_date)
    constants: dict[str, object] = {
        "plan_code": plan.plan_code,
        "plan_name": plan.name,
        "provider_name": provider.name,
        "provider_npi": provider.npi,
        "provider_tin": provider.tin,
        "production_date": production_date,
        "reporting_period": f"{start.strftime(layout.date_format)}-{end.strftime(layout.date_format)}",
    }
    fixed = {f.name: f.format(constants.get(f.name), layout) for f in layout.fields if f.name in FILE_COLUMNS}
    cells = _row_writer(layout, fixed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=layout.delimiter, lineterminator=LINE_TERMINATOR)
    if layout.header:
        writer.writerow(layout.header_row())
    count = 0
    for row in rows:
        writer.writerow(cells(row))
        count += 1
    data = buffer.getvalue().encode(layout.encoding, errors="replace")
    name = layout.file_name_for(
        plan_code=plan.plan_code or f"PLAN{plan.pk}",
        provider_npi=provider.npi,
        date=production_date,
    )
    return Written(name=name, data=data, rows=count, sha256=hashlib.sha256(data).hexdigest())


# --- Producing ------------------------------------------------------------------------------------------


def _existing(plan: Organization, provider: Organization, production_date: date) -> ExchangeFile | None:
    return ExchangeFile.objects.filter(
        kind=ExchangeFile.Kind.CSASF, plan=plan, organization=provider, production_date=production_date
    ).first()


# A plan's CSASF runs one at a time (PostgreSQL: a transaction-level advisory lock on this key and the
# plan's id; SQLite lets one writer in at a time anyway), so two runs at once make each file once.
LOCK_NAMESPACE = 0x0C5A5F


def _lock_plan(plan: Organization) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, plan.pk])


def _put_in_outbox(organization: Organization, name: str, data: bytes) -> tuple[Path, bool]:
    """(where the file is in the outbox, whether this call put it there). The same bytes already there
    under the name (put by a run that stopped before it recorded the file) are the delivery: never a
    second copy."""
    existing = folders.outbox_dir(organization) / name
    try:
        if existing.is_file() and existing.stat().st_size == len(data) and existing.read_bytes() == data:
            return existing, False
    except OSError:
        pass
    return folders.outbox_put(organization, name, data), True


def csasf_deliver(*, exchange_file: ExchangeFile) -> ExchangeFile:
    """Put a recorded file in the provider's SFTP outbox, once (`outbox_path` records it). Safe to call
    again: a file already delivered is left alone; one without an outbox path is delivered now."""
    if exchange_file.outbox_path:
        return exchange_file
    with exchange_file.file.open("rb") as fh:
        data = fh.read()
    landed, _ = _put_in_outbox(exchange_file.organization, exchange_file.file_name, data)
    exchange_file.outbox_path = folders.relative_to_folder(exchange_file.organization, landed)
    exchange_file.delivered_at = clock.now()
    exchange_file.status = ExchangeFile.Status.DELIVERED
    ExchangeFile.objects.filter(pk=exchange_file.pk, outbox_path="").update(
        outbox_path=exchange_file.outbox_path,
        delivered_at=exchange_file.delivered_at,
        status=exchange_file.status,
    )
    return exchange_file


def _record(
    *,
    plan: Organization,
    provider: Organization,
    production_date: date,
    rows: list[tuple[Any, ...]],
    actor: Any,
) -> ExchangeFile:
    """Write the file, keep it, put it in the provider's outbox, then record it and its audit row (in the
    caller's transaction, which holds the plan's lock). Nothing is recorded unless it was delivered; on
    any failure what this call stored is removed (the kept copy, and the outbox file if this call put it
    there), and the error goes to the caller."""
    layout = load_layout(LAYOUT_KEY)
    written = csasf_write(
        layout=layout, plan=plan, provider=provider, production_date=production_date, rows=rows
    )
    start, end = csasf_period(production_date)
    record = ExchangeFile(
        kind=ExchangeFile.Kind.CSASF,
        direction=ExchangeFile.Direction.OUT,
        plan=plan,
        organization=provider,
        production_date=production_date,
        period_start=start,
        period_end=end,
        file_name=written.name,
        sha256=written.sha256,
        size=len(written.data),
        rows=written.rows,
        status=ExchangeFile.Status.DELIVERED,
        layout_key=layout.key,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record.file.save(written.name, ContentFile(written.data), save=False)
    placed = None
    try:
        landed, put = _put_in_outbox(provider, written.name, written.data)
        placed = landed if put else None
        record.outbox_path = folders.relative_to_folder(provider, landed)
        record.delivered_at = clock.now()
        with transaction.atomic(savepoint=False):
            record.save()
            audit_record(
                actor=actor,
                action="create",
                object_type="exchange_file",
                object_id=record.uuid,
                detail={
                    "kind": record.kind,
                    "plan": plan.plan_code,
                    "provider_npi": provider.npi,
                    "production_date": production_date.isoformat(),
                    "rows": record.rows,
                    "sha256": record.sha256,
                    "outbox_path": record.outbox_path,
                },
            )
    except BaseException:
        record.file.delete(save=False)
        if placed is not None:
            placed.unlink(missing_ok=True)  # our own copy, never recorded: not yet a file of the outbox
        raise
    return record


def csasf_produce(
    *, plan: Organization, provider: Organization, production_date: date, actor: Any = None
) -> ExchangeFile:
    """Rule D1: make the provider's CSASF for `production_date` under `plan`, keep it, put it in the
    provider's outbox, record it. Idempotent: when the file exists it is returned unchanged (and delivered
    if it never was). Under the plan's lock, so a run at the same time waits for this one."""
    try:
        with transaction.atomic():
            _lock_plan(plan)
            existing = _existing(plan, provider, production_date)
            if existing is not None:
                return csasf_deliver(exchange_file=existing)
            found = csasf_rows_by_provider(
                plan=plan, provider_ids=[provider.pk], production_date=production_date
            )
            ((_, rows),) = list(found)  # read to the end: its cursors close here
            return _record(
                plan=plan, provider=provider, production_date=production_date, rows=rows, actor=actor
            )
    except IntegrityError:
        winner = _existing(plan, provider, production_date)  # made outside the lock (never by a run)
        if winner is None:
            raise
        return winner


# PostgreSQL, for the run's big reads: no JIT (compiling these plans costs seconds and saves nothing on a
# query read once), plans for reading every row of the cursor rather than its first tenth (the default
# cursor_tuple_fraction favours nested loops), and room to sort a plan's rows in memory. Session
# settings, reset afterwards.
PG_SESSION = (("jit", "off"), ("cursor_tuple_fraction", "1"), ("work_mem", "64MB"))


@contextlib.contextmanager
def _tuned_session() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for name, value in PG_SESSION:
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, _ in PG_SESSION:
                cursor.execute(f"RESET {name}")


@dataclass(frozen=True)
class RunResult:
    production_date: date
    files: list[ExchangeFile]
    made: int  # files new in this run (the others existed already)
    failed: list[str]  # "NPI under PLAN: reason" for each provider whose file could not be made


def csasf_run(
    *,
    production_date: date | None = None,
    plan_code: str = "",
    provider_npi: str = "",
    actor: Any = None,
) -> RunResult:
    """Rule D1 for every plan and every provider contracted with it on the production date (default: the
    most recent scheduled day, so a run missed while the worker was down is made on its next start).

    Per plan, in one transaction holding the plan's lock: the files that exist and are delivered are left
    alone; one recorded but not delivered is delivered; the missing ones are made from three queries for
    all of them (csasf_rows_by_provider), each recorded with its audit row as it is made, all committed
    together. A provider whose file cannot be written or delivered is logged and named in `failed`; the
    others still get theirs, and the next run tries it again. A database error ends that plan's run
    (nothing of it is recorded; the files it put in outboxes are recognized, not copied again, next time)."""
    day = production_date or csasf_due_date(clock.today())
    files: list[ExchangeFile] = []
    failed: list[str] = []
    made = 0
    with _tuned_session():
        for plan in csasf_plans(plan_code):
            try:
                with transaction.atomic():
                    plan_files, plan_made, plan_failed = _run_plan(
                        plan=plan, day=day, provider_npi=provider_npi, actor=actor
                    )
            except DatabaseError as exc:
                logger.exception("CSASF for %s on %s failed", plan.plan_code, day)
                failed.append(f"every provider under {plan.plan_code}: {exc}")
                continue
            files += plan_files
            made += plan_made
            failed += plan_failed
    return RunResult(production_date=day, files=files, made=made, failed=failed)


def _run_plan(
    *, plan: Organization, day: date, provider_npi: str, actor: Any
) -> tuple[list[ExchangeFile], int, list[str]]:
    _lock_plan(plan)
    files: list[ExchangeFile] = []
    failed: list[str] = []
    made = 0
    providers = {p.pk: p for p in csasf_providers(plan=plan, on=day, provider_npi=provider_npi)}
    existing = {
        f.organization_id: f
        for f in ExchangeFile.objects.filter(
            kind=ExchangeFile.Kind.CSASF, plan=plan, production_date=day, organization_id__in=providers
        ).select_related("organization")
    }
    for provider_id, found in existing.items():
        try:
            files.append(csasf_deliver(exchange_file=found))
        except OSError as exc:
            logger.exception("CSASF delivery of %s failed", found.file_name)
            failed.append(f"{providers[provider_id].npi} under {plan.plan_code}: {exc}")
    missing = [pk for pk in providers if pk not in existing]
    for provider_id, rows in csasf_rows_by_provider(plan=plan, provider_ids=missing, production_date=day):
        provider = providers[provider_id]
        try:
            made_file = _record(plan=plan, provider=provider, production_date=day, rows=rows, actor=actor)
        except DatabaseError:
            raise
        except Exception as exc:  # a file that cannot be written or delivered: the others still go out
            logger.exception("CSASF for %s under %s on %s failed", provider.npi, plan.plan_code, day)
            failed.append(f"{provider.npi} under {plan.plan_code}: {exc}")
            continue
        files.append(made_file)
        made += 1
    return files, made, failed
