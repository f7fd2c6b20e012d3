"""The CSPRTF in (rules D2, O4, D4): real files built here from the layout, sent through every door (the
service, the SFTP inbox, the web page, the API, the command), checked against the layout and what cshub
holds, and applied through the referral services, whose history shows what changed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command

from cshub.accounts.roles import OrganizationKind, Role
from cshub.catalog.models import Service
from cshub.catalog.services import catalog_load
from cshub.core import clock
from cshub.core.errors import DomainError
from cshub.core.models import AuditEvent, County
from cshub.core.reference import sync_counties
from cshub.exchange import csprtf, folders, inbox
from cshub.exchange.layouts import load_layout
from cshub.exchange.models import CsprtfRecord, ExchangeFile, InboxFile
from cshub.members.models import Consent
from cshub.notifications.models import Notification
from cshub.referrals import services as referral_services
from cshub.referrals.models import Enrollment, OutreachAttempt, ProviderIntake, Referral, ReferralEvent
from tests.factories import CareRelationshipFactory, EligibilitySpanFactory, OrganizationFactory, UserFactory
from tests.referrals.factories import make_referral

pytestmark = pytest.mark.django_db

# Wednesday December 2, 2026, 9:00 Pacific: November's file is due by Saturday December 5.
NOW = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
RECEIVED = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
URL = "/exchange/csprtf/"
API = "/api/v1/exchange/csprtf"


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as t:
        clock.reset_calendar_cache()
        yield t


@pytest.fixture
def cw(world, traveller, settings, tmp_path):
    """Provider A takes housing navigation and sobering center referrals; a hospital's discharge planner
    (dana) referred member A to it on November 2; member A consented to share data with A on November 3."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    settings.CSHUB_INBOX_SETTLE_SECONDS = 0
    settings.VAR_DIR = tmp_path
    sync_counties(County)  # loaded by a data migration; also when tests run without migrations
    catalog_load()
    intake = ProviderIntake.objects.create(organization=world.provider_a, accepting=True)
    intake.services.set(Service.objects.filter(key__in=["housing_transition_navigation", "sobering_centers"]))
    intake.counties.set(County.objects.filter(name="Sacramento"))
    world.hospital = OrganizationFactory(kind=OrganizationKind.HOSPITAL, name="Mercy General")
    world.dana = UserFactory(
        email="dana@mercy.example", organization=world.hospital, roles=[Role.DISCHARGE_PLANNER]
    )
    world.referral = make_referral(world, received_at=RECEIVED)
    Consent.objects.create(
        member=world.member_a,
        organization=world.provider_a,
        scopes=["cs_services"],
        recipients="Golden State Health Plan",
        signed_on=dt.date(2026, 11, 3),
    )
    world.director = world.plan_users[Role.REPORTING_DIRECTOR]
    return world


def first_contact(cw, referral=None):
    """The provider recorded first contact in cshub (rule A1), as it does on the referral's page."""
    referral = referral or cw.referral
    items = referral.service.eligibility
    referral_services.first_contact_check_record(
        actor=cw.alice,
        referral=referral,
        contact_on=dt.date(2026, 11, 3),
        results=["not_met" if i.get("kind") == "exclusion" else "met" for i in items],
    )


def row(cw, **values):
    base = {
        "plan_code": "GS1",
        "plan_name": "Golden State Health Plan",
        "provider_name": cw.provider_a.name,
        "provider_npi": cw.provider_a.npi,
        "provider_tin": cw.provider_a.tin,
        "member_cin": cw.member_a.cin,
        "member_last_name": cw.member_a.last_name,
        "member_first_name": cw.member_a.first_name,
        "hcpcs_code": "H0043",
        "hcpcs_modifier": "U6",
        "cs_status": "OUTREACH",
        "referral_status": "ACCEPTED",
        "referral_status_date": dt.date(2026, 11, 3),
        "production_date": dt.date(2026, 12, 1),
        "reporting_period": "202611",
    }
    base.update(values)
    return base


def build(rows, *, delimiter="|", header=None, encoding="utf-8"):
    layout = load_layout("csprtf")

    def cells(values):  # a str is written as it is, so a test can send a value the layout would refuse
        return [v if isinstance(v := values.get(f.name), str) else f.format(v, layout) for f in layout.fields]

    lines = [header or layout.header_row()] + [cells(r) for r in rows]
    return ("\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n").encode(encoding)


def enrolled_rows(cw):
    """Reached in person on 11/03, enrolled 11/04, services through the month: the loop closes."""
    return [
        row(
            cw,
            outreach_date=dt.date(2026, 11, 3),
            outreach_method="IN_PERSON",
            outreach_successful=True,
            cs_status="ENROLLED",
            enrollment_start_date=dt.date(2026, 11, 4),
            service_start_date=dt.date(2026, 11, 4),
            service_end_date=dt.date(2026, 11, 30),
            service_units=27,
            outreach_outcome="ENGAGED",
            referral_status="GOT_HELP",
            referral_status_date=dt.date(2026, 11, 30),
            loop_closure_reason="SERVICES_RECEIVED",
            new_phone_indicator=True,
            member_phone="9165550199",
        )
    ]


def unreachable_rows(cw, attempts):
    return [
        row(
            cw,
            outreach_date=dt.date(2026, 11, day),
            outreach_method=method,
            outreach_successful=False,
            cs_status="NOT_ENROLLED",
            outreach_outcome="UNREACHABLE",
            referral_status="UNABLE_TO_REACH",
            referral_status_date=dt.date(2026, 11, 30),
            loop_closure_reason="UNABLE_TO_REACH",
        )
        for day, method in attempts
    ]


FIVE_ATTEMPTS = [(3, "PHONE"), (5, "IN_PERSON"), (9, "TEXT"), (12, "PHONE"), (20, "IN_PERSON")]


def ingest(cw, data, *, name="CSPRTF_GS1_x.txt", actor=None, channel="web", organization=None):
    return csprtf.csprtf_ingest(
        actor=cw.alice if actor is None else actor,
        data=data,
        name=name,
        channel=channel,
        organization=organization or cw.provider_a,
    )


def state(cw):
    """Everything a CSPRTF can change, to compare before and after."""
    referral = Referral.objects.get(pk=cw.referral.pk)
    return (
        referral.status,
        referral.version,
        referral.outreach_outcome,
        ReferralEvent.objects.count(),
        OutreachAttempt.objects.count(),
        list(Enrollment.objects.values_list("enrolled_on", "ended_on")),
        CsprtfRecord.objects.count(),
    )


def errors_of(result):
    return [(e["row"], e["field"], e["code"]) for e in result.errors]


# --- A valid file is applied through the referral services --------------------------------------------------


def test_d2_valid_file_applies_outreach_enrollment_and_services_in_the_referrals_history(
    cw, django_capture_on_commit_callbacks
):
    first_contact(cw)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(cw, build(enrolled_rows(cw)), name="CSPRTF_GS1_nov.txt")
    f = result.exchange_file
    assert result.applied and result.errors == [] and f.status == ExchangeFile.Status.APPLIED
    assert (f.kind, f.direction, f.plan, f.organization) == ("csprtf", "in", cw.plan, cw.provider_a)
    assert (f.period_start, f.period_end, f.production_date) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    )
    assert (f.rows, f.channel, f.created_by, f.applied_at) == (1, "web", cw.alice, NOW)
    assert f.file.read().startswith(b"Primary Payer (MCP) Identifier|")  # the original is kept
    referral = Referral.objects.get(pk=cw.referral.pk)
    history = list(referral.events.filter(kind="status").values_list("from_status", "to_status"))
    assert history == [("pending", "accepted"), ("accepted", "eligible"), ("eligible", "got_help")]
    assert referral.loop_closure_reason == "Services received" and referral.outreach_outcome == "engaged"
    closing = referral.events.get(to_status="got_help")
    assert (
        closing.actor == cw.alice and "November 2026 CSPRTF, row 1; status date 11/30/2026" in closing.reason
    )
    assert referral.events.filter(kind="enrolled").exists()
    attempt = OutreachAttempt.objects.get()
    assert (attempt.modality, attempt.outcome, clock.local(attempt.attempted_at).date()) == (
        "in_person",
        "reached",
        dt.date(2026, 11, 3),
    )
    assert Enrollment.objects.get().enrolled_on == dt.date(2026, 11, 4)
    record = CsprtfRecord.objects.get()
    assert (record.service_start, record.service_end, record.units) == (
        dt.date(2026, 11, 4),
        dt.date(2026, 11, 30),
        27,
    )
    assert (record.new_phone, record.phone, record.referral, record.cs_status) == (
        True,
        "9165550199",
        referral,
        "ENROLLED",
    )
    assert record.changes == [
        "Outreach attempt on 11/03/2026 (in person)",
        "Enrolled from 11/04/2026",
        "Referral status Eligible → Got help",
    ]
    # The referrer hears of the closed loop (rule R9); the answer is in the provider's outbox.
    assert Notification.objects.filter(recipient=cw.dana, object_id=str(referral.uuid)).exists()
    outbox = folders.outbox_dir(cw.provider_a)
    assert (outbox / "CSPRTF_GS1_nov.accepted.txt").read_text().startswith("CSPRTF_GS1_nov.txt was applied")
    assert f.outbox_path == "outbox/CSPRTF_GS1_nov.accepted.txt"
    audit = AuditEvent.objects.get(object_type="exchange_file", object_id=str(f.uuid), action="import")
    assert audit.detail["status"] == "applied" and audit.detail["changed"] == 1


def test_o4_unreachable_after_rule_o3_ends_outreach_and_tells_the_referrer(cw):
    result = ingest(cw, build(unreachable_rows(cw, FIVE_ATTEMPTS)))
    assert result.applied, result.errors
    referral = Referral.objects.get(pk=cw.referral.pk)
    assert (referral.status, referral.outreach_outcome) == ("unable_to_reach", "unreachable")
    assert referral.loop_closure_reason == "Unable to reach"
    assert sorted(OutreachAttempt.objects.values_list("modality", flat=True)) == [
        "in_person",
        "in_person",
        "phone",
        "phone",
        "text",
    ]
    assert referral.events.filter(kind="outreach_ended").exists()
    assert Notification.objects.filter(recipient=cw.dana, object_id=str(referral.uuid)).exists()
    assert CsprtfRecord.objects.count() == 5  # one per row; the changes on the member's first row
    assert len(CsprtfRecord.objects.get(row=1).changes) == 6


def test_o4_o3_unreachable_before_five_attempts_is_refused_and_records_nothing(cw):
    before = state(cw)
    result = ingest(cw, build(unreachable_rows(cw, FIVE_ATTEMPTS[:2])))
    assert result.exchange_file.status == ExchangeFile.Status.REJECTED
    assert errors_of(result) == [(1, "outreach_outcome", "outreach_o3_not_met")]
    assert "rule O3" in result.errors[0]["message"] and "3 more attempt(s)" in result.errors[0]["message"]
    assert state(cw) == before  # the two attempts of the file were rolled back with the rest


def test_o4_declined_closes_the_referral_as_declined(cw):
    rows = [
        row(
            cw,
            cs_status="NOT_ENROLLED",
            outreach_outcome="DECLINED",
            referral_status="DECLINED",
            referral_status_date=dt.date(2026, 11, 10),
            loop_closure_reason="DECLINED",
        )
    ]
    assert ingest(cw, build(rows)).applied
    referral = Referral.objects.get(pk=cw.referral.pk)
    assert (referral.status, referral.outreach_outcome, referral.loop_closure_reason) == (
        "no_longer_interested",
        "declined",
        "Declined",
    )


def test_d2_discontinuation_ends_the_enrollment_with_the_reason_code(cw):
    first_contact(cw)
    assert ingest(cw, build(enrolled_rows(cw))).applied
    rows = enrolled_rows(cw)
    rows[0].update(
        cs_status="DISCONTINUED",
        discontinuation_date=dt.date(2026, 11, 28),
        discontinuation_reason_code="04",
        service_end_date=dt.date(2026, 11, 28),
        production_date=dt.date(2026, 12, 2),
    )
    result = ingest(cw, build(rows), name="second.txt")
    assert result.applied, result.errors
    enrollment = Enrollment.objects.get()
    assert (enrollment.ended_on, enrollment.end_reason) == (
        dt.date(2026, 11, 28),
        "04 Member moved out of the service area",
    )
    assert result.exchange_file.corrects.file_name == "CSPRTF_GS1_x.txt"


# --- A file with problems applies nothing -------------------------------------------------------------------


def test_d2_one_bad_row_applies_nothing_and_the_error_file_names_row_field_value_message(
    cw, django_capture_on_commit_callbacks
):
    first_contact(cw)
    referral_b = make_referral(cw, member=cw.member_b, received_at=RECEIVED)
    CareRelationshipFactory(member=cw.member_b, organization=cw.provider_a)
    rows = [*enrolled_rows(cw), row(cw, member_cin=cw.member_b.cin)]
    data = build(rows).replace(b"|ACCEPTED|20261103|", b"|ACCEPTED|20261131|")  # row 2: November 31st
    before = state(cw)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(cw, data, name="CSPRTF_GS1_bad.txt")
    f = result.exchange_file
    assert f.status == ExchangeFile.Status.REJECTED and f.error_rows == 1 and f.applied_at is None
    assert f.message == "CSPRTF_GS1_bad.txt: 1 problem; nothing was applied. See the error file."
    assert state(cw) == before  # row 1 was valid, and nothing of it was applied
    assert Referral.objects.get(pk=referral_b.pk).status == "pending"
    assert errors_of(result) == [(2, "referral_status_date", "date")]
    error = result.errors[0]
    assert error["value"] == "20261131" and error["column"] == "Date of Referral Status Update"
    assert "must be a date like 20260131" in error["message"]
    lines = list(
        csv.reader(io.StringIO((folders.outbox_dir(cw.provider_a) / "CSPRTF_GS1_bad.errors.csv").read_text()))
    )
    assert lines[0] == ["Row", "Column", "Field", "Value", "Error Code", "Message"]
    assert lines[1][:5] == ["2", "Date of Referral Status Update", "referral_status_date", "20261131", "date"]
    assert lines[1][5] == error["message"]
    assert (
        f.error_file.read() == (folders.outbox_dir(cw.provider_a) / "CSPRTF_GS1_bad.errors.csv").read_bytes()
    )


def test_d2_a_refusal_by_the_referral_services_is_a_row_error_and_nothing_is_applied(cw):
    """No first-contact check in cshub (rule A1): the enrollment is refused, and the outreach attempt of the
    same file is not kept either."""
    before = state(cw)
    result = ingest(cw, build(enrolled_rows(cw)))
    assert result.exchange_file.status == ExchangeFile.Status.REJECTED
    assert errors_of(result) == [(1, "enrollment_start_date", "referral_guard_not_met")]
    assert "first contact" in result.errors[0]["message"] and "rule A1" in result.errors[0]["message"]
    assert state(cw) == before


def test_d2_every_problem_is_reported_at_once(cw):
    rows = [
        row(cw, cs_status="ENROLLED"),  # no enrollment date
        row(cw, member_cin="99999999Z", hcpcs_code="H9999"),
        row(cw, member_cin=cw.member_plan2.cin, outreach_date=dt.date(2026, 11, 5)),
    ]
    result = ingest(cw, build(rows))
    assert errors_of(result) == [
        (1, "enrollment_start_date", "required"),
        (1, "referral_status", "status"),  # ACCEPTED, yet enrolled
        (2, "member_cin", "not_on_roster"),
        (2, "hcpcs_code", "code"),
        (3, "member_cin", "not_on_roster"),
        (3, "outreach_method", "required"),
        (3, "outreach_successful", "required"),
    ]


# --- Precise errors, one kind at a time ---------------------------------------------------------------------


def test_d2_wrong_header_names_the_missing_and_unknown_columns(cw):
    header = load_layout("csprtf").header_row()
    header[5] = "Member CIN"
    result = ingest(cw, build([row(cw)], header=header))
    assert result.exchange_file is None  # not readable as a CSPRTF of a plan and a month: not recorded
    assert errors_of(result) == [(0, "header", "missing_column"), (0, "header", "unknown_column")]
    assert result.errors[0]["message"] == "Column 'Member Client Index Number (CIN)' is missing."
    assert result.errors[1]["value"] == "Member CIN"


def test_d2_columns_out_of_order_are_named(cw):
    header = load_layout("csprtf").header_row()
    header[0], header[1] = header[1], header[0]
    result = ingest(cw, build([row(cw)], header=header))
    assert errors_of(result) == [(0, "header", "column_order")]
    assert result.errors[0]["message"].startswith("Column 1 must be 'Primary Payer (MCP) Identifier'")


def test_d2_wrong_delimiter_is_named(cw):
    result = ingest(cw, build([row(cw)], delimiter=","))
    assert errors_of(result) == [(0, "header", "delimiter")]
    assert "separated by commas (',')" in result.errors[0]["message"]
    assert "separated by pipes ('|')" in result.errors[0]["message"]


def test_d2_wrong_encoding_names_the_byte_and_line(cw):
    data = build([row(cw, member_last_name="Muñoz")], encoding="latin-1")
    result = ingest(cw, data)
    assert errors_of(result) == [(0, "file", "encoding")]
    assert "line 2" in result.errors[0]["message"] and "UTF-8" in result.errors[0]["message"]
    assert result.errors[0]["value"].startswith("f1")


def test_d2_utf8_with_a_byte_order_mark_is_read(cw):
    assert ingest(cw, b"\xef\xbb\xbf" + build([row(cw)])).applied


def test_d2_wrong_date_and_wrong_code_are_named_with_their_values(cw):
    data = build([row(cw, cs_status="ACTIVE")]).replace(b"|20261103|", b"|11/03/2026|")
    result = ingest(cw, data)
    assert errors_of(result) == [
        (1, "cs_status", "code"),
        (1, "referral_status_date", "date"),
    ]
    code, day = result.errors
    assert code["value"] == "ACTIVE"
    assert code["message"] == (
        "Member CS Status must be one of OUTREACH, ENROLLED, DISCONTINUED, NOT_ENROLLED (got 'ACTIVE')."
    )
    assert day["value"] == "11/03/2026" and "like 20260131" in day["message"]


def test_d2_member_not_on_the_plans_roster_or_not_assigned_to_this_provider(cw):
    rows = [
        row(cw, member_cin="99999999Z"),  # nobody
        row(cw, member_cin=cw.member_plan2.cin),  # another plan's member
        row(cw, member_cin=cw.member_b.cin),  # the plan's member, with provider B
        row(cw, member_cin="12345"),  # not a CIN
    ]
    result = ingest(cw, build(rows))
    assert errors_of(result) == [
        (1, "member_cin", "not_on_roster"),
        (2, "member_cin", "not_on_roster"),
        (3, "member_cin", "not_assigned"),
        (4, "member_cin", "cin"),
    ]
    assert (
        result.errors[0]["message"]
        == "Member 99999999Z is not on Golden State Health Plan's roster for November 2026."
    )
    assert result.errors[2]["message"] == (
        f"Member {cw.member_b.cin} is not referred or assigned to Provider A Housing Services for Housing "
        "Transition Navigation Services (H0043-U6) with Golden State Health Plan."
    )


def test_d2_reporting_month_must_be_a_month_and_the_same_on_every_row(cw):
    result = ingest(cw, build([row(cw, reporting_period="202613")]))
    assert result.exchange_file is None and errors_of(result) == [(1, "reporting_period", "period")]
    result = ingest(cw, build([row(cw), row(cw, reporting_period="202610", member_cin=cw.member_a.cin)]))
    assert (2, "reporting_period", "differs") in errors_of(result)
    result = ingest(cw, build([row(cw, reporting_period="202701")]))
    assert (1, "reporting_period", "future") in errors_of(result)


def test_d2_a_provider_sends_only_its_own_file(cw):
    result = ingest(cw, build([row(cw, provider_npi=cw.provider_b.npi)]))
    assert errors_of(result) == [(1, "provider_npi", "sender")]
    assert result.exchange_file.status == "rejected"
    result = ingest(cw, build([row(cw, plan_code="ZZ9")]), name="z.txt")
    assert result.exchange_file is None and errors_of(result)[0] == (1, "plan_code", "plan")


def test_d2_the_file_name_must_agree_with_the_rows(cw):
    name = f"CSPRTF_GS1_{cw.provider_a.npi}_202610_20261201.txt"
    result = ingest(cw, build([row(cw)]), name=name)
    assert errors_of(result) == [(0, "file_name", "file_name")]
    assert (
        "Member Information File Reporting Period 202610; the rows say 202611" in result.errors[0]["message"]
    )


def test_d2_closing_status_needs_its_loop_closure_reason(cw):
    first_contact(cw)
    rows = enrolled_rows(cw)
    rows[0]["loop_closure_reason"] = "DECLINED"
    result = ingest(cw, build(rows))
    assert errors_of(result) == [(1, "loop_closure_reason", "status")]
    assert "closes the loop with reason SERVICES_RECEIVED, not DECLINED" in result.errors[0]["message"]


def test_d2_sobering_centers_need_no_referral_status(cw):
    """Closed-loop referral tracking does not apply to Sobering Centers (DHCS CLR FAQ)."""
    make_referral(cw, service_key="sobering_centers", received_at=RECEIVED)
    rows = [row(cw, hcpcs_code="H0014", referral_status=None, referral_status_date=None)]
    assert ingest(cw, build(rows)).applied
    result = ingest(cw, build([row(cw, referral_status=None, referral_status_date=None)]), name="b.txt")
    assert errors_of(result) == [(1, "referral_status", "required")]


def test_o2_telehealth_outreach_needs_consent(cw):
    rows = [
        row(cw, outreach_date=dt.date(2026, 11, 4), outreach_method="TELEHEALTH", outreach_successful=False)
    ]
    assert errors_of(ingest(cw, build(rows))) == [(1, "telehealth_consent", "required")]


# --- Idempotence and corrections ----------------------------------------------------------------------------


def test_d2_the_same_file_twice_changes_nothing(cw):
    first_contact(cw)
    data = build(enrolled_rows(cw))
    first = ingest(cw, data)
    after_first = state(cw)
    again = ingest(cw, data, name="renamed.txt", channel="api")
    assert again.duplicate and again.exchange_file == first.exchange_file
    assert (
        "This exact file was received on 12/02/2026" in again.message and "nothing changed" in again.message
    )
    assert state(cw) == after_first and ExchangeFile.objects.count() == 1


def test_d2_a_second_file_for_the_month_is_a_correction_that_adds_only_what_is_new(cw):
    first_contact(cw)
    one = [
        row(cw, outreach_date=dt.date(2026, 11, 3), outreach_method="PHONE", outreach_successful=False),
    ]
    first = ingest(cw, build(one))
    assert first.applied and OutreachAttempt.objects.count() == 1
    two = [
        row(cw, outreach_date=dt.date(2026, 11, 3), outreach_method="PHONE", outreach_successful=False),
        row(cw, outreach_date=dt.date(2026, 11, 3), outreach_method="PHONE", outreach_successful=False),
        row(cw, outreach_date=dt.date(2026, 11, 4), outreach_method="IN_PERSON", outreach_successful=True),
    ]
    second = ingest(cw, build(two), name="CSPRTF_GS1_corrected.txt")
    assert second.applied and second.exchange_file.corrects == first.exchange_file
    # The 11/03 call already recorded is not recorded again; the second 11/03 call and the visit are new.
    assert OutreachAttempt.objects.count() == 3
    assert second.changes == {
        1: ["Outreach attempt on 11/03/2026 (phone)", "Outreach attempt on 11/04/2026 (in person)"]
    }
    for r in two:
        r["production_date"] = dt.date(2026, 12, 2)
    third = ingest(cw, build(two), name="CSPRTF_GS1_again.txt")
    assert third.applied and third.changes == {1: []}  # the same report once more: nothing new
    assert OutreachAttempt.objects.count() == 3 and third.exchange_file.corrects == second.exchange_file


def test_d2_a_report_contradicting_cshub_is_refused_with_what_cshub_holds(cw):
    first_contact(cw)
    assert ingest(cw, build(enrolled_rows(cw))).applied
    rows = enrolled_rows(cw)
    rows[0]["enrollment_start_date"] = dt.date(2026, 11, 6)
    rows[0]["service_start_date"] = dt.date(2026, 11, 6)
    rows[0]["referral_status"], rows[0]["loop_closure_reason"] = "ELIGIBLE", None
    result = ingest(cw, build(rows), name="b.txt")
    assert errors_of(result) == [(1, "enrollment_start_date", "enrollment_differs")]
    assert "since 11/04/2026" in result.errors[0]["message"]


# --- The cutoff (rule D2) -----------------------------------------------------------------------------------


def test_d2_before_the_cutoff_is_accepted_even_when_the_5th_is_a_saturday(cw, traveller):
    assert dt.date(2026, 12, 5).weekday() == 5
    traveller.move_to(dt.datetime(2026, 12, 5, 23, 59, tzinfo=clock.PACIFIC))
    assert csprtf.due_date(dt.date(2026, 11, 1)) == dt.date(2026, 12, 5)  # not moved to a business day
    assert ingest(cw, build([row(cw)])).applied


def test_d2_after_the_cutoff_is_refused_with_the_next_month_message(cw, traveller):
    traveller.move_to(dt.datetime(2026, 12, 6, 0, 1, tzinfo=clock.PACIFIC))
    before = state(cw)
    result = ingest(cw, build([row(cw)]))
    assert result.exchange_file.status == "rejected" and state(cw) == before
    assert errors_of(result) == [(1, "reporting_period", "late")]
    assert result.errors[0]["message"] == (
        "The CSPRTF for November 2026 was due by December 5, 2026 (Pacific time) and was not taken "
        "(rule D2). Send these updates with your December 2026 file, due by January 5, 2027."
    )
    assert result.exchange_file.message.endswith("due by January 5, 2027.")


def test_d2_the_next_months_file_carries_the_late_updates(cw, traveller):
    traveller.move_to(dt.datetime(2027, 1, 4, 9, 0, tzinfo=clock.PACIFIC))
    first_contact(cw)
    rows = enrolled_rows(cw)
    for r in rows:
        r.update(reporting_period="202612", production_date=dt.date(2027, 1, 4))
    assert ingest(cw, build(rows)).applied  # November's dates in December's file


def test_d2_february_and_a_cutoff_day_the_month_lacks(cw, traveller, settings):
    assert csprtf.due_date(dt.date(2027, 1, 1)) == dt.date(2027, 2, 5)
    assert csprtf.due_date(dt.date(2027, 2, 1)) == dt.date(2027, 3, 5)
    settings.CSHUB_CSPRTF_CUTOFF_DAY = 30
    assert csprtf.due_date(dt.date(2027, 1, 1)) == dt.date(2027, 2, 28)
    assert csprtf.due_date(dt.date(2028, 1, 1)) == dt.date(2028, 2, 29)
    traveller.move_to(dt.datetime(2027, 3, 1, 0, 1, tzinfo=clock.PACIFIC))
    rows = [row(cw, reporting_period="202701", production_date=dt.date(2027, 2, 27))]
    result = ingest(cw, build(rows))
    assert "was due by February 28, 2027" in result.errors[0]["message"]


# --- The SFTP door ------------------------------------------------------------------------------------------


def test_d2_sftp_inbox_takes_a_csprtf_and_answers_in_the_outbox(cw):
    first_contact(cw)
    name = f"CSPRTF_GS1_{cw.provider_a.npi}_202611_20261201.txt"
    (folders.inbox_dir(cw.provider_a) / name).write_bytes(build(enrolled_rows(cw)))
    record = inbox.take_inbox_file(cw.provider_a, f"inbox/{name}")
    assert record.status == InboxFile.Status.TAKEN and record.handler == "cshub.exchange.csprtf.inbox_handler"
    f = ExchangeFile.objects.get()
    assert (f.status, f.channel, f.created_by, f.inbox_file) == ("applied", "sftp", None, record)
    referral = Referral.objects.get(pk=cw.referral.pk)
    assert referral.status == "got_help"
    # Applied by the provider's SFTP service account, which the referral history names.
    event = referral.events.get(to_status="got_help")
    assert event.actor.is_service_account and event.actor.organization == cw.provider_a
    assert event.actor_label == f"SFTP file exchange ({cw.provider_a.name})"
    outbox = folders.outbox_dir(cw.provider_a)
    assert (outbox / name.replace(".txt", ".accepted.txt")).exists()
    assert (folders.inbox_dir(cw.provider_a) / "processed" / name).exists()


def test_d2_sftp_inbox_answers_a_file_with_errors_with_an_error_file(cw):
    name = "csprtf-november.txt"  # not the pattern: recognised by its header
    (folders.inbox_dir(cw.provider_a) / name).write_bytes(build([row(cw, cs_status="ACTIVE")]))
    record = inbox.take_inbox_file(cw.provider_a, f"inbox/{name}")
    assert record.status == InboxFile.Status.TAKEN and "1 problem; nothing was applied" in record.message
    errors = (folders.outbox_dir(cw.provider_a) / "csprtf-november.errors.csv").read_text()
    assert "1,Member CS Status,cs_status,ACTIVE,code," in errors
    rejected = ExchangeFile.objects.get()
    assert (rejected.status, rejected.inbox_file) == ("rejected", record)


def test_d2_sftp_inbox_leaves_other_files_to_other_handlers(cw):
    (folders.inbox_dir(cw.provider_a) / "notes.txt").write_bytes(b"hello")
    record = inbox.take_inbox_file(cw.provider_a, "inbox/notes.txt")
    assert record.status == InboxFile.Status.FAILED and "CSPRTF return files" in record.message
    assert not ExchangeFile.objects.exists()


# --- The command --------------------------------------------------------------------------------------------


def test_d2_cshub_exchange_ingest(cw, tmp_path, capsys):
    first_contact(cw)
    path = tmp_path / f"CSPRTF_GS1_{cw.provider_a.npi}_202611_20261201.txt"
    path.write_bytes(build(enrolled_rows(cw)))
    call_command("exchange", "ingest", str(path))
    assert "applied; 1 rows, 1 with changes" in capsys.readouterr().out
    assert ExchangeFile.objects.get().channel == "command"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(build([row(cw, cs_status="ACTIVE")]))
    with pytest.raises(Exception, match="applied nothing"):
        call_command("exchange", "ingest", str(bad), "--provider", cw.provider_a.npi)
    assert "row 1, Member CS Status: Member CS Status must be one of" in capsys.readouterr().out


# --- Pages and API: the D4 roles only -----------------------------------------------------------------------


def test_d4_provider_leadership_uploads_on_the_page_and_sees_the_errors(cw, client):
    client.force_login(cw.alice)
    page = client.get(URL)
    assert page.status_code == 200 and b"Send a CSPRTF" in page.content
    assert "The November 2026 file is due by <strong>December 5, 2026</strong>" in page.content.decode()
    upload = io.BytesIO(build([row(cw, cs_status="ACTIVE")]))
    upload.name = "nov.txt"
    response = client.post(URL, {"file": upload})
    f = ExchangeFile.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exchange/csprtf/{f.uuid}/"
    detail = client.get(response["Location"]).content.decode()
    assert (
        "nothing in this file was applied" in detail and "ACTIVE" in detail and "Member CS Status" in detail
    )
    errors = client.get(f"/exchange/csprtf/{f.uuid}/errors.csv")
    assert errors.status_code == 200 and b"Member CS Status,cs_status,ACTIVE,code" in errors.content
    unreadable = io.BytesIO(b"hello,world\r\n")
    unreadable.name = "x.csv"
    response = client.post(URL, {"file": unreadable})
    assert response.status_code == 422 and b"could not be read as a CSPRTF" in response.content


@pytest.mark.parametrize("who", ["bob", "billing", "plan_um", "plan_director_upload"])
def test_d4_other_roles_get_403(cw, client, who):
    users = {
        "bob": cw.bob,  # care coordinator at provider A
        "billing": UserFactory(organization=cw.provider_a, roles=[Role.PROVIDER_BILLING]),
        "plan_um": cw.plan_users[Role.UM_REVIEWER],
        "plan_director_upload": cw.director,
    }
    client.force_login(users[who])
    upload = io.BytesIO(build([row(cw)]))
    upload.name = "nov.txt"
    if who == "plan_director_upload":  # sees the files, sends none
        assert client.get(URL).status_code == 200
        assert client.post(URL, {"file": upload}).status_code == 403
    else:
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"file": upload}).status_code == 403
    response = client.post(API, build([row(cw)]), content_type="text/plain")
    assert response.status_code == 403
    assert not ExchangeFile.objects.exists()


def test_d4_outsiders_get_404_and_the_plans_reporting_roles_see_the_file(cw, client):
    f = ingest(cw, build([row(cw)])).exchange_file
    detail = f"/exchange/csprtf/{f.uuid}/"
    client.force_login(cw.charlie)  # CEO of provider B
    assert client.get(detail).status_code == 404
    assert client.get(f"{API}/{f.uuid}").status_code == 404
    assert str(f.uuid) not in client.get(URL).content.decode()
    client.force_login(cw.other_plan_user)  # another plan's administrator
    assert client.get(detail).status_code == 404
    client.force_login(cw.director)
    page = client.get(detail)
    assert page.status_code == 200 and cw.member_a.cin in page.content.decode()
    assert AuditEvent.objects.filter(actor=cw.director, action="read", object_id=str(f.uuid)).exists()
    assert client.get(f"{API}/{f.uuid}").status_code == 200


def test_d2_api_raw_and_multipart_with_results_and_errors(cw, client):
    first_contact(cw)
    client.force_login(cw.alice)
    bad = client.post(
        API, build([row(cw, cs_status="ACTIVE")]), content_type="text/plain", HTTP_X_FILE_NAME="b.txt"
    )
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    body = bad.json()
    assert body["errors"] == [
        {
            "row": 1,
            "field": "cs_status",
            "column": "Member CS Status",
            "value": "ACTIVE",
            "message": "Member CS Status must be one of OUTREACH, ENROLLED, DISCONTINUED, NOT_ENROLLED "
            "(got 'ACTIVE').",
            "code": "code",
        }
    ]
    assert body["file"]["status"] == "rejected"
    upload = io.BytesIO(build(enrolled_rows(cw)))
    upload.name = "nov.txt"
    good = client.post(API, {"file": upload})
    assert good.status_code == 201, good.content
    data = good.json()
    assert (data["status"], data["period"], data["file_name"], data["channel"]) == (
        "applied",
        "2026-11",
        "nov.txt",
        "api",
    )
    again = client.post(API, build(enrolled_rows(cw)), content_type="text/plain")
    assert again.status_code == 200 and "nothing changed" in again.json()["message"]
    one = client.get(data["url"]).json()
    assert one["changes"][0]["changes"][-1] == "Referral status Eligible → Got help"
    listed = client.get(API).json()
    assert [f["file_name"] for f in listed["items"]] == ["nov.txt", "b.txt"]
    unreadable = client.post(API, b"", content_type="text/plain")
    assert unreadable.status_code == 422


def test_d2_empty_file_is_refused_without_a_record(cw):
    with pytest.raises(DomainError) as exc:
        ingest(cw, b"")
    assert exc.value.errors[0].code == "empty"


def test_d2_codes_file_agrees_with_the_layout_and_the_workflow():
    csprtf.check_codes()
    codes = csprtf.codes()
    assert codes.referral_status["DECLINED"] == "no_longer_interested"
    assert codes.loop_closure_reason["SERVICES_RECEIVED"] == "got_help"
    raw = json.loads(json.dumps({"cs_status": {}, "referral_status": {"X": "nope"}}))
    with pytest.raises(csprtf.CodesFileError, match="not a status of the referral workflow"):
        csprtf.parse_codes(raw)


def test_d2_members_of_plan2_with_provider_a_report_under_plan2(cw):
    """Many plans: a provider's file for one plan reads that plan's roster only."""
    EligibilitySpanFactory(member=cw.member_a, plan=cw.plan2, plan_member_id="SC9")
    result = ingest(cw, build([row(cw, plan_code="SC2")]))
    assert errors_of(result) == [(1, "member_cin", "not_assigned")]
