"""Rule D1: the CSASF. For each contracted provider, a cumulative list of the members assigned to it and the
members it referred for authorization, with the authorization status, on the 15th and 29th of every month
(a month without a 29th: its last day), put in the provider's SFTP outbox; made once per provider, plan and
day; a run missed while the worker was down is made when it starts again.

The cast is the claims cast (tests/claims/conftest.py): provider A holds an executed contract with the
plan from 2026-01-01; provider B has none. The clock is frozen on Monday 2026-11-23, so the most recent
scheduled day is 2026-11-15."""

from __future__ import annotations

import csv
import datetime as dt
import io
from datetime import date
from itertools import count

import pytest
import time_machine
from django.core.management import call_command
from huey.contrib.djhuey import HUEY

from cshub.authorizations.models import RequestStatus
from cshub.core.models import AuditEvent
from cshub.exchange import csasf, folders, services, tasks
from cshub.exchange.layouts import load_layout
from cshub.exchange.models import ExchangeFile, ExchangeFileDownload
from cshub.referrals.models import Enrollment, Referral
from tests.claims.conftest import authorize, clw  # noqa: F401
from tests.contracts.conftest import cw  # noqa: F401
from tests.factories import MemberFactory, OrganizationFactory

DUE = date(2026, 11, 15)
_numbers = count(1)


@pytest.fixture
def cx(clw, sftp_root):  # noqa: F811
    clw.hospital = OrganizationFactory(kind="hospital", name="County General")
    return clw


def refer(
    cx,
    *,
    member=None,
    provider=None,
    status="pending",
    received=dt.datetime(2026, 11, 2, 18, tzinfo=dt.UTC),
    plan=None,
    service=None,
    referrer_kind="hospital",
    **extra,
):
    """A CS referral straight in the table (the referrals app's tests prove how one moves)."""
    member = cx.member_a if member is None else member
    kwargs = {}
    if member:
        kwargs = {
            "member": member,
            "member_first_name": member.first_name,
            "member_last_name": member.last_name,
            "member_date_of_birth": member.date_of_birth,
            "member_cin": member.cin,
        }
    kwargs.update(extra)
    return Referral.objects.create(
        number=f"R-2026-{next(_numbers):06d}",
        plan=plan or cx.plan,
        service=service or cx.nav,
        receiving_provider=provider or cx.provider_a,
        channel="portal",
        referrer_kind=referrer_kind,
        received_at=received,
        status=status,
        status_changed_at=received,
        **kwargs,
    )


def rows_by(rows, key="member_cin"):
    return {r[key]: r for r in rows}


def read_file(exchange_file):
    layout = load_layout("csasf")
    with exchange_file.file.open("rb") as fh:
        text = fh.read().decode(layout.encoding)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter))
    return layout, lines


# --- Schedule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "due"),
    [
        (date(2026, 3, 14), date(2026, 2, 28)),  # February 2026 has no 29th: its last day
        (date(2026, 3, 15), date(2026, 3, 15)),
        (date(2026, 3, 28), date(2026, 3, 15)),
        (date(2026, 3, 29), date(2026, 3, 29)),
        (date(2026, 3, 31), date(2026, 3, 29)),
        (date(2026, 2, 28), date(2026, 2, 28)),
        (date(2026, 2, 27), date(2026, 2, 15)),
        (date(2028, 2, 29), date(2028, 2, 29)),  # a leap February has its 29th
        (date(2028, 3, 1), date(2028, 2, 29)),
        (date(2027, 1, 10), date(2026, 12, 29)),  # across the year
    ],
)
def test_d1_schedule_15th_29th_and_a_short_months_last_day(on, due):
    assert csasf.csasf_due_date(on) == due
    assert csasf.csasf_is_due(due)


def test_d1_reporting_period_runs_from_the_day_after_the_previous_file():
    assert csasf.csasf_period(date(2026, 3, 15)) == (date(2026, 3, 1), date(2026, 3, 15))
    assert csasf.csasf_period(date(2026, 2, 28)) == (date(2026, 2, 16), date(2026, 2, 28))
    assert csasf.csasf_period(date(2026, 3, 29)) == (date(2026, 3, 16), date(2026, 3, 29))
    assert csasf.csasf_period(date(2026, 1, 15)) == (date(2025, 12, 30), date(2026, 1, 15))


# --- Rows -------------------------------------------------------------------------------------------------


def test_d1_rows_are_exactly_the_assigned_and_referred_members_with_their_authorization_status(cx):
    m = {k: MemberFactory(last_name=k.title(), cin=f"9300000{i}{k[0].upper()}") for i, k in enumerate(
        ["open", "closed", "enrolled", "approved", "pended", "hospital", "denied", "voided", "late", "other"]
    )}  # fmt: skip
    open_ref = refer(cx, member=m["open"], status="accepted")
    refer(cx, member=m["closed"], status="not_eligible")  # closed without enrollment: leaves the list
    enrolled_ref = refer(cx, member=m["enrolled"], status="got_help")  # closed, but enrolled with A
    Enrollment.objects.create(
        member=m["enrolled"], organization=cx.provider_a, service=cx.nav, referral=enrolled_ref,
        enrolled_on=date(2026, 11, 5),
    )  # fmt: skip
    refer(cx, member=m["other"], provider=cx.provider_b)  # another provider's
    refer(cx, member=m["other"], plan=cx.plan2)  # another plan's
    refer(cx, member=m["late"], received=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC))  # after the 15th
    approved = authorize(cx, member=m["approved"], units=12)  # A asked, the plan approved
    pended_ref = refer(cx, member=m["pended"], status="eligible", referrer_kind="ecm_provider")
    pended = authorize(cx, member=m["pended"], status=RequestStatus.PENDED)
    pended.referral = pended_ref
    pended.save()
    hospital = authorize(cx, member=m["hospital"], status=RequestStatus.RECEIVED)
    hospital.requesting_organization = cx.hospital  # rule A5: a hospital asked, naming A to serve
    hospital.save()
    authorize(cx, member=m["denied"], status=RequestStatus.DENIED)
    voided = authorize(cx, member=m["voided"])
    voided.voided_at = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    voided.save()
    b_request = authorize(cx, member=m["other"], organization=cx.provider_b)  # B's own request

    rows = csasf.csasf_rows(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    by_cin = rows_by(rows)
    assert set(by_cin) == {
        m[k].cin for k in ("open", "enrolled", "approved", "pended", "hospital", "denied", "voided")
    }
    assert len(rows) == 7  # the pended request carries its referral: one row, not two

    row = by_cin[m["open"].cin]
    assert (row["assignment_type"], row["authorization_status"]) == ("ASSIGNED", "NOT_REQUESTED")
    assert row["referral_number"] == open_ref.number and row["referral_status"] == "accepted"
    assert row["referral_date"] == "20261102" and row["referral_source"] == "HOSPITAL"
    assert by_cin[m["enrolled"].cin]["referral_status"] == "got_help"

    row = by_cin[m["approved"].cin]
    assert (row["assignment_type"], row["authorization_status"]) == ("PROVIDER_REFERRED", "APPROVED")
    assert row["authorization_number"] == approved.number
    assert row["authorization_request_number"] == approved.request.number
    assert (row["authorization_start_date"], row["authorization_end_date"]) == (
        f"{approved.start_date:%Y%m%d}",
        f"{approved.end_date:%Y%m%d}",
    )
    assert row["authorized_units"] == 12 and row["requested_units"] == 12
    assert (row["hcpcs_code"], row["hcpcs_modifier"]) == (cx.nav_code.hcpcs, cx.nav_code.modifier)
    assert row["service_name"] == cx.nav.name
    assert row["referral_number"] == ""  # the file's text: an empty cell

    row = by_cin[m["pended"].cin]
    assert (row["authorization_status"], row["referral_number"]) == ("PENDED", pended_ref.number)
    assert row["referral_source"] == "ECM_PROVIDER" and row["authorization_number"] == ""
    row = by_cin[m["hospital"].cin]
    assert (row["assignment_type"], row["authorization_status"]) == ("ASSIGNED", "RECEIVED")
    assert by_cin[m["denied"].cin]["authorization_status"] == "DENIED"
    assert by_cin[m["voided"].cin]["authorization_status"] == "VOIDED"

    b_rows = csasf.csasf_rows(plan=cx.plan, provider=cx.provider_b, production_date=DUE)
    assert [r["authorization_request_number"] for r in b_rows if r.get("authorization_request_number")] == [
        b_request.request.number
    ]


def test_d1_member_identifiers_and_contact_data_come_from_the_roster_else_the_referral(cx):
    cx.member_a.phone, cx.member_a.email, cx.member_a.is_homeless = "9165550111", "ana@example.org", True
    cx.member_a.save()
    refer(cx, member=cx.member_a)
    refer(
        cx,
        member=False,  # not matched to the roster: what the referrer gave
        member_first_name="Rosa",
        member_last_name="Delgado",
        member_date_of_birth=date(1975, 3, 9),
        member_cin="",
        member_phone="9165550101",
        member_address="1 Main St, Sacramento 95814",
        member_county=cx.sac,
    )
    rows = {
        r["member_last_name"]: r
        for r in csasf.csasf_rows(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    }
    ana = rows[cx.member_a.last_name]
    assert (ana["member_cin"], ana["member_plan_id"], ana["member_phone"]) == (
        "91000001A",
        "GS0000001",
        "9165550111",
    )
    assert ana["member_homeless"] == "Y" and ana["member_county"] == "Sacramento"
    rosa = rows["Delgado"]
    assert (rosa["member_cin"], rosa["member_plan_id"], rosa["member_homeless"]) == ("", "", "")
    assert rosa["member_date_of_birth"] == "19750309"
    assert rosa["member_address"] == "1 Main St, Sacramento 95814" and rosa["member_county"] == "Sacramento"


# --- Producing ------------------------------------------------------------------------------------------


def test_d1_file_is_written_per_the_layout_kept_and_put_in_the_providers_outbox(cx):
    refer(cx)
    authorize(cx, member=cx.member_b)
    f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    assert f.file_name == f"CSASF_GS1_{cx.provider_a.npi}_20261115.txt"
    assert (f.kind, f.direction, f.status, f.rows) == ("csasf", "out", "delivered", 2)
    assert (f.period_start, f.period_end) == (date(2026, 10, 30), DUE)
    layout, lines = read_file(f)
    assert lines[0] == layout.header_row()
    assert len(lines) == 3
    for line in lines[1:]:
        values, errors = layout.parse_row(line)
        assert errors == {}, errors  # every cell reads back under its own field's rules
        assert values["plan_code"] == "GS1" and values["provider_npi"] == cx.provider_a.npi
        assert values["production_date"] == DUE and values["reporting_period"] == "20261030-20261115"
    outbox = folders.outbox_dir(cx.provider_a) / f.file_name
    assert f.outbox_path == f"outbox/{f.file_name}"
    with f.file.open("rb") as fh:
        assert outbox.read_bytes() == fh.read()
    assert not folders.outbox_dir(cx.provider_b).exists() or not any(
        folders.outbox_dir(cx.provider_b).iterdir()
    )
    assert AuditEvent.objects.filter(
        action="create", object_type="exchange_file", object_id=str(f.uuid)
    ).exists()


def test_d1_a_provider_with_nobody_listed_still_gets_its_file_with_a_header_only(cx):
    f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    layout, lines = read_file(f)
    assert f.rows == 0 and lines == [layout.header_row()]


def test_d1_cumulative_earlier_members_stay_in_later_files(cx):
    refer(cx, member=cx.member_a)
    first = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    refer(cx, member=cx.member_b, received=dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC))
    second = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=date(2026, 11, 29))
    assert (first.rows, second.rows) == (1, 2)
    _, lines = read_file(second)
    cins = {line[load_layout("csasf").names.index("member_cin")] for line in lines[1:]}
    assert cins == {cx.member_a.cin, cx.member_b.cin}
    assert (second.period_start, second.period_end) == (date(2026, 11, 16), date(2026, 11, 29))


def test_d1_same_provider_plan_and_date_twice_is_one_file_unchanged(cx):
    refer(cx)
    first = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    refer(cx, member=cx.member_b)  # data changes between the runs
    again = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    run = csasf.csasf_run(production_date=DUE)
    assert again.pk == first.pk and again.sha256 == first.sha256 and again.rows == 1
    assert run.made == 0 and [f.pk for f in run.files] == [first.pk]
    assert ExchangeFile.objects.count() == 1
    assert sorted(p.name for p in folders.outbox_dir(cx.provider_a).iterdir()) == [first.file_name]


def test_d1_two_runs_at_once_keep_the_first_file(cx, monkeypatch):
    """The unique constraint decides a race: the loser returns the winner's file and drops its copy."""
    winner = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    real = csasf._existing
    calls = []

    def not_yet(*args):  # the loser looked before the winner inserted
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(csasf, "_existing", not_yet)
    loser = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    assert loser.pk == winner.pk and ExchangeFile.objects.count() == 1
    assert len(list(folders.outbox_dir(cx.provider_a).iterdir())) == 1


def test_d1_a_failed_delivery_leaves_nothing_and_the_next_run_makes_the_file(cx, monkeypatch, sftp_root):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(folders, "outbox_put", broken)
    run = csasf.csasf_run()
    assert run.files == [] and len(run.failed) == 1 and "disk full" in run.failed[0]
    assert not ExchangeFile.objects.exists()
    assert not any(p.is_file() for p in (sftp_root.parent / "files").rglob("*"))  # its stored copy removed
    monkeypatch.undo()
    run = csasf.csasf_run()
    stored = ExchangeFile.objects.get()
    assert (stored.status, stored.outbox_path) == ("delivered", f"outbox/{stored.file_name}")
    assert run.made == 1 and run.failed == []


def test_d1_a_file_kept_but_not_delivered_is_delivered_by_the_next_run(cx):
    """A row without an outbox path (recorded by an earlier version, or its outbox file lost): delivered."""
    f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    (folders.outbox_dir(cx.provider_a) / f.file_name).unlink()
    ExchangeFile.objects.filter(pk=f.pk).update(outbox_path="", status="produced")
    run = csasf.csasf_run()
    f.refresh_from_db()
    assert (f.status, f.outbox_path, run.made) == ("delivered", f"outbox/{f.file_name}", 0)
    assert (folders.outbox_dir(cx.provider_a) / f.file_name).exists()


def test_d1_only_providers_contracted_on_the_day_get_a_file(cx):
    run = csasf.csasf_run(production_date=DUE)
    assert {(f.plan_id, f.organization_id) for f in run.files} == {(cx.plan.pk, cx.provider_a.pk)}
    assert csasf.csasf_run(production_date=date(2025, 12, 29)).files == []  # before the contract started


def test_d1_the_worker_makes_a_missed_run_on_its_next_start(cx):
    """The worker was down on the 15th; it starts on the 23rd: the start-up hook queues the run (tasks run
    at once in tests), which makes the 15th's file; the hourly run after that makes nothing new."""
    assert "csasf_catch_up" in HUEY._startup
    assert not ExchangeFile.objects.exists()
    tasks.csasf_catch_up()
    f = ExchangeFile.objects.get()
    assert (f.organization, f.production_date) == (cx.provider_a, DUE)
    assert tasks.produce_csasf.call_local() == 0
    assert ExchangeFile.objects.count() == 1


def test_d1_the_hourly_run_makes_the_29th_file_on_the_29th(cx):
    with time_machine.travel(dt.datetime(2026, 11, 29, 7, 13, tzinfo=dt.UTC), tick=False):
        assert tasks.produce_csasf.call_local() == 1  # still the 28th in California: the 15th's file
        f = ExchangeFile.objects.get()
        assert f.production_date == DUE
    with time_machine.travel(
        dt.datetime(2026, 11, 29, 7, 13, tzinfo=dt.UTC) + dt.timedelta(hours=1), tick=False
    ):
        assert tasks.produce_csasf.call_local() == 1
    assert sorted(ExchangeFile.objects.values_list("production_date", flat=True)) == [DUE, date(2026, 11, 29)]


def test_d1_command_makes_the_files_of_a_day(cx, capsys):
    refer(cx)
    call_command(
        "exchange", "csasf", "--date", "2026-11-15", "--provider", cx.provider_a.npi, "--plan", "GS1"
    )
    out = capsys.readouterr().out
    assert f"CSASF_GS1_{cx.provider_a.npi}_20261115.txt\t1 rows" in out
    assert "1 files, 1 new, 0 already made" in out
    call_command("exchange", "csasf")  # default: the most recent scheduled day, already made
    assert "1 files, 0 new, 1 already made" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No provider with NPI"):
        call_command("exchange", "csasf", "--provider", cx.provider_b.npi)


# --- Download -------------------------------------------------------------------------------------------


def test_d1_d4_file_is_downloadable_and_every_download_is_logged_and_audited(cx, client):
    refer(cx)
    f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    client.force_login(cx.alice)
    page = client.get("/exchange/files/")
    assert page.status_code == 200 and f.file_name in page.content.decode()
    response = client.get(f"/exchange/files/{f.uuid}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.file.open("rb").read()
    assert f.file_name in response["Content-Disposition"]
    api = client.get(f"/api/v1/exchange/files/{f.uuid}/download")
    assert api.status_code == 200
    logged = list(ExchangeFileDownload.objects.order_by("id").values_list("user_id", "channel", "rows"))
    assert logged == [(cx.alice.pk, "web", 1), (cx.alice.pk, "api", 1)]
    audit = AuditEvent.objects.filter(action="export", object_type="exchange_file", object_id=str(f.uuid))
    assert audit.count() == 2
    assert audit.first().detail["rows"] == 1 and audit.first().member_ids == []
    detail = client.get(f"/exchange/files/{f.uuid}/")
    assert detail.status_code == 200 and str(cx.alice) in detail.content.decode()


def test_d1_d4_a_read_over_sftp_is_logged_as_a_download_of_the_file(cx):
    """The SFTP server calls this service for every file read (tests/exchange/test_sftp_server.py reads
    through the real server); a CSASF in the outbox gets its download row, other files only the audit."""
    refer(cx)
    f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    download = services.exchange_file_sftp_read_record(
        organization=cx.provider_a, relative_path=f.outbox_path
    )
    assert download is not None
    assert (
        download.exchange_file,
        download.user,
        download.organization,
        download.channel,
        download.rows,
    ) == (
        f,
        None,
        cx.provider_a,
        "sftp",
        1,
    )
    # Provider B reading a file of the same name in its own folder is not a download of A's file.
    assert (
        services.exchange_file_sftp_read_record(organization=cx.provider_b, relative_path=f.outbox_path)
        is None
    )
    assert (
        services.exchange_file_sftp_read_record(organization=cx.provider_a, relative_path="outbox/x.835")
        is None
    )
    assert ExchangeFileDownload.objects.count() == 1
    reads = AuditEvent.objects.filter(action="read", object_type="exchange_file")
    assert sorted(r.detail["path"] for r in reads) == sorted([f.outbox_path, f.outbox_path, "outbox/x.835"])


def test_d1_the_layout_file_decides_delimiter_date_format_and_columns(cx, settings, tmp_path):
    """Layouts are data: another delimiter, a date format SQL cannot make (formatted in Python), a column
    cshub does not fill (empty) and a column left out, without a code change."""
    text = (load_layout("csasf").path).read_text(encoding="utf-8")
    text = text.replace('delimiter = "|"', 'delimiter = ","').replace(
        'date_format = "%Y%m%d"', 'date_format = "%b %d %Y"'
    )
    text = text.replace('name = "member_email"', 'name = "member_state"').replace(
        'label = "Member Email"', 'label = "Member State"'
    )
    start = text.index('[[fields]]\nname = "member_language"')
    end = text.index("[[fields]]", start + 10)
    text = text[:start] + text[end:].replace("max_length = 17", "max_length = 30")  # the period column
    (tmp_path / "csasf.toml").write_text(text, encoding="utf-8")
    settings.CSHUB_EXCHANGE_LAYOUT_DIR = tmp_path
    load_layout.cache_clear()
    try:
        refer(cx)
        f = csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
        layout, lines = read_file(f)
        assert layout.delimiter == "," and "Member Preferred Language" not in lines[0]
        row = dict(zip(layout.names, lines[1], strict=True))
        assert row["referral_date"] == "Nov 02 2026" and row["production_date"] == "Nov 15 2026"
        assert row["member_date_of_birth"] == f"{cx.member_a.date_of_birth:%b %d %Y}"
        assert row["member_state"] == "" and row["reporting_period"] == "Oct 30 2026-Nov 15 2026"
    finally:
        load_layout.cache_clear()


def test_d1_every_code_cshub_writes_must_be_a_valid_value_of_the_layout(cx, settings, tmp_path):
    from cshub.exchange.apps import check_csasf_codes
    from cshub.exchange.layouts import LayoutFileError

    text = (load_layout("csasf").path).read_text(encoding="utf-8").replace('"PENDED", ', "")
    (tmp_path / "csasf.toml").write_text(text, encoding="utf-8")
    settings.CSHUB_EXCHANGE_LAYOUT_DIR = tmp_path
    load_layout.cache_clear()
    try:
        errors = check_csasf_codes()
        assert [e.id for e in errors] == ["exchange.E003"] and "valid_values lack PENDED" in errors[0].msg
        with pytest.raises(LayoutFileError, match="PENDED"):
            csasf.csasf_produce(plan=cx.plan, provider=cx.provider_a, production_date=DUE)
    finally:
        load_layout.cache_clear()
