"""Synthetic referrals of `cshub seed` (cshub/devtools/seed_referrals.py): every status and channel, histories
that follow the workflow table (rule R5) and the outreach rule (O3), first contact checks (A1), consents and
enrollments (R4, M2), duplicates, R7 onward referrals and R8 letters, determinism, and lists that are full for
the demo's logins and scoped for everyone else.

Runs on SQLite (executemany) and PostgreSQL (COPY from the writer thread)."""

from __future__ import annotations

import importlib.util
import io
import re
from collections import Counter, defaultdict
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Q
from pypdf import PdfReader

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind, Role
from cshub.catalog.services import catalog_load
from cshub.core import clock
from cshub.core.management.commands.demo import ensure_demo_logins
from cshub.devtools import seed_referrals
from cshub.devtools.seed import REFERENCE_DATE, reset, seed, seeded_uuid_range
from cshub.members import models as member_models
from cshub.members.models import CareRelationship, EcmAssignment
from cshub.referrals import permissions, selectors
from cshub.referrals.models import (
    Channel,
    Enrollment,
    FirstContactCheck,
    OutreachAttempt,
    ProviderIntake,
    Referral,
    ReferralDocument,
    ReferralEvent,
)
from cshub.referrals.services import consent_problem
from cshub.referrals.workflow import INITIAL_STATUS, workflow
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIZE = {"members": 1200, "providers": 16, "referrals": 140}
NUMBER = re.compile(r"^R-20\d\d-\d{7}$")


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    """Fax images and letters go to a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }


@pytest.fixture
def no_weasyprint(monkeypatch):
    """R8 letters as plain PDFs (the letter adapter is exercised once, in its own test)."""
    monkeypatch.setattr(seed_referrals, "LETTERS_RENDERED", 0)


@pytest.fixture
def seeded(no_weasyprint):
    catalog_load()
    return seed(seed=7, **SIZE)


@pytest.fixture
def demo_seeded(no_weasyprint):
    """What `cshub demo` makes (its default --members, --providers and --seed), with its logins."""
    catalog_load()
    result = seed(members=3000, providers=20, seed=2026)
    ensure_demo_logins("demo-password-1")
    return result


def snapshot() -> list[tuple]:
    return list(
        Referral.objects.order_by("number").values_list(
            "number",
            "uuid",
            "status",
            "channel",
            "kind",
            "member__cin",
            "member_last_name",
            "receiving_provider__name",
            "referring_organization__name",
            "version",
        )
    )


# --- what the seed makes ------------------------------------------------------------------------------


def test_r5_every_status_and_every_channel_is_seeded(seeded):
    wf = workflow()
    statuses = Counter(Referral.objects.values_list("status", flat=True))
    channels = Counter(Referral.objects.values_list("channel", flat=True))
    assert set(statuses) == set(wf.statuses)
    assert set(channels) == set(Channel.values)
    assert Referral.objects.count() == seeded.referrals == SIZE["referrals"]
    assert seeded.referral_status == dict(sorted(statuses.items()))
    assert seeded.referral_channel == dict(sorted(channels.items()))
    assert seeded.referral_rows["ReferralEvent"] == ReferralEvent.objects.count()
    assert seeded.referral_rows["OutreachAttempt"] == OutreachAttempt.objects.count()
    assert "referrals: 140" in seeded.summary() and "by status:" in seeded.summary()
    numbers = list(Referral.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(NUMBER.match(n) for n in numbers)
    for referral in Referral.objects.all():
        assert referral.number == f"R-{clock.local(referral.received_at):%Y}-{referral.pk:07d}"
    low, high = seeded_uuid_range(7)
    for model in (Referral, OutreachAttempt, FirstContactCheck, Enrollment, ReferralDocument, ProviderIntake):
        assert all(low <= u < high for u in model.objects.values_list("uuid", flat=True)), model


def test_r5_histories_follow_the_transition_table(seeded):
    """Each referral's status events form a path of the table from pending to its status, by a party the
    table allows; the version counts every versioned change (optimistic locking)."""
    wf = workflow()
    events = defaultdict(list)
    for event in ReferralEvent.objects.order_by("at", "id"):
        events[event.referral_id].append(event)
    horizon = seeding_horizon()
    for referral in Referral.objects.all():
        history = events[referral.pk]
        assert history[0].kind == ReferralEvent.Kind.CREATED and history[0].to_status == INITIAL_STATUS
        assert history[0].at == referral.received_at == referral.created_at
        status = INITIAL_STATUS
        versioned = 0
        for event in history:
            assert referral.received_at <= event.at < horizon
            if event.kind == ReferralEvent.Kind.STATUS:
                transition = wf.transition(event.from_status, event.to_status)
                assert transition is not None, (referral.number, event.from_status, event.to_status)
                assert event.from_status == status
                if transition.reason_required:
                    assert event.reason, (referral.number, event.to_status)
                status = event.to_status
            if event.kind in {"status", "assigned", "outreach_ended", "enrolled"}:
                versioned += 1
        assert status == referral.status, referral.number
        assert referral.version == 1 + versioned, referral.number
        status_events = [e for e in history if e.kind == ReferralEvent.Kind.STATUS]
        assert referral.status_changed_at == (status_events[-1].at if status_events else referral.received_at)
        closed = wf.status(referral.status).closed
        assert (referral.closed_at is not None) == closed
        assert bool(referral.loop_closure_reason) == closed
        if closed:
            assert referral.loop_closure_reason == wf.status(referral.status).loop_closure


def test_o3_outreach_attempts_meet_the_rule_where_outreach_ended_unreachable(seeded):
    """Rule O3: unable to reach only after five attempts in 30 days with three modalities; some open
    referrals met the rule and go on, others have not yet."""
    attempts = defaultdict(list)
    for attempt in OutreachAttempt.objects.order_by("attempted_at"):
        attempts[attempt.referral_id].append(attempt)
    unreachable = Referral.objects.filter(status="unable_to_reach")
    assert unreachable.exists()
    for referral in unreachable:
        progress = selectors.outreach_progress(referral, attempts[referral.pk], today=REFERENCE_DATE)
        assert progress.o3_met, (referral.number, progress.missing)
        assert referral.outreach_outcome == "unreachable" and referral.outreach_ended_at is not None
    open_ones = Referral.objects.filter(status__in=["accepted", "needs_member_action"])
    met = [
        selectors.outreach_progress(r, attempts[r.pk], today=REFERENCE_DATE).o3_met
        for r in open_ones
        if attempts[r.pk]
    ]
    assert True in met and False in met
    for referral_id, items in attempts.items():
        referral = Referral.objects.get(pk=referral_id)
        assert all(a.attempted_at >= referral.received_at for a in items)
        assert all(a.telehealth_consent for a in items if a.modality == "telehealth")  # rule O2


def test_a1_m2_r4_eligibility_enrollment_and_consent(seeded):
    """Eligible only after a first contact check that passed (A1); got help only with an enrollment (M2),
    enrolled only with a consent in force with the provider (R4)."""
    checks = defaultdict(list)
    for check in FirstContactCheck.objects.order_by("created_at"):
        checks[check.referral_id].append(check)
    became_eligible = set(
        ReferralEvent.objects.filter(kind="status", to_status="eligible").values_list(
            "referral_id", flat=True
        )
    )
    assert became_eligible
    for referral_id in became_eligible:
        assert checks[referral_id] and checks[referral_id][-1].passed
    for check in FirstContactCheck.objects.select_related("referral"):
        assert check.member_id == check.referral.member_id
        assert check.contact_on >= clock.local(check.referral.received_at).date()
        assert len(check.checklist) == len(check.referral.service.eligibility)
        assert all(item["result"] in {"met", "not_met", "unknown"} for item in check.checklist)
    failed = [c for cs in checks.values() for c in cs if not c.passed]
    assert failed and all(c.referral.status == "not_eligible" for c in failed)
    got_help = Referral.objects.filter(status="got_help")
    assert got_help.exists()
    for referral in got_help:
        enrollment = referral.enrollments.get()
        assert enrollment.organization_id == referral.receiving_provider_id
        assert enrollment.service_id == referral.service_id and enrollment.member_id == referral.member_id
        assert referral.outreach_outcome == "engaged"
    has_consent_model = hasattr(member_models, "Consent")
    for enrollment in Enrollment.objects.all():
        if has_consent_model:
            problem = consent_problem(
                member=enrollment.member,
                organization_id=enrollment.organization_id,
                on=enrollment.enrolled_on,
            )
            assert problem is None, enrollment.referral.number
    open_enrollments = Counter(
        Enrollment.objects.filter(ended_on__isnull=True).values_list("member", "service", "organization")
    )
    assert set(open_enrollments.values()) == {1}


def test_r1_r2_r3_doors_referrers_and_matching(seeded):
    """Rule R1 (no wrong door), R2 (fax image kept), R3 (member details kept even when unmatched)."""
    for referral in Referral.objects.select_related("referring_organization"):
        assert referral.member_first_name and referral.member_last_name and referral.member_date_of_birth
        assert referral.member_phone or referral.member_email or referral.member_address
        if referral.channel in (Channel.FAX, Channel.PHONE, Channel.EMAIL, Channel.SELF_REFERRAL):
            assert referral.referring_organization is None
        if referral.channel == Channel.SELF_REFERRAL:
            assert referral.consent_to_contact and referral.consent_text_version
        if referral.channel == Channel.PLAN_ASSIGNMENT:
            assert referral.referring_organization.kind == OrganizationKind.PLAN and referral.member_id
        if referral.channel in (Channel.PORTAL, Channel.API):
            assert referral.referring_organization.kind in {"hospital", "ecm_provider", "other"}
        if referral.channel == Channel.CS_TO_CS:
            assert referral.referring_organization.kind == OrganizationKind.CS_PROVIDER
        if referral.member_id:
            assert referral.member_cin == referral.member.cin
        else:
            assert referral.member_cin == ""
    assert Referral.objects.filter(member__isnull=True).exists()  # some still to be matched
    faxes = Referral.objects.filter(channel=Channel.FAX)
    for referral in faxes:
        document = referral.documents.get(kind="fax")
        data = default_storage.open(document.file.name).read()
        assert len(data) == document.size and data.startswith(b"%PDF-")
        assert referral.member_last_name in PdfReader(BytesIO(data)).pages[0].extract_text()


def test_care_relationships_let_the_providers_see_their_referred_members(seeded):
    for referral in Referral.objects.filter(member__isnull=False, receiving_provider__isnull=False):
        reasons = {"referral_received", "outreach_assignment"}
        assert CareRelationship.objects.filter(
            member=referral.member,
            organization=referral.receiving_provider,
            reason__in=reasons,
            source_id=str(referral.uuid),
        ).exists(), referral.number
        referring = referral.referring_organization
        if referring is not None and referring.kind != OrganizationKind.PLAN:
            assert CareRelationship.objects.filter(
                member=referral.member,
                organization=referring,
                reason="referral_made",
                source_id=str(referral.uuid),
            ).exists()
    assert CareRelationship.objects.filter(reason="outreach_assignment", source_id__gt="").exists()


def test_duplicates_unassigned_onward_and_r8(seeded):
    duplicates = Referral.objects.filter(duplicate_of__isnull=False).select_related("duplicate_of")
    assert duplicates.exists()
    for referral in duplicates:
        earlier = referral.duplicate_of
        assert (earlier.member_id, earlier.service_id) == (referral.member_id, referral.service_id)
        assert earlier.received_at < referral.received_at
        assert earlier.closed_at is None or earlier.closed_at > referral.received_at  # open when it came in
        assert referral.events.filter(kind="duplicate", detail__duplicate_of=earlier.number).exists()
    plan = Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name").first()
    unassigned = Referral.objects.filter(
        plan=plan, receiving_provider__isnull=True, kind="cs", status="pending"
    )
    assert unassigned.count() >= 2
    onward = Referral.objects.filter(source_referral__isnull=False).select_related("source_referral")
    assert onward.exists()
    for referral in onward:
        source = referral.source_referral
        assert referral.referring_organization_id == source.receiving_provider_id
        assert source.events.filter(kind="onward", detail__onward=referral.number).exists()
    r8 = Referral.objects.filter(status="unable_to_process")
    assert r8.exists()
    for referral in r8:
        assert referral.kind == "ecm" and referral.receiving_provider_id is None
        assignment = EcmAssignment.objects.get(member=referral.member, end_date__isnull=True)
        assert assignment.ecm_provider_id != referral.referring_organization_id
        letter = referral.documents.get(kind="letter")
        assert referral.events.filter(kind="letter", detail__document=str(letter.uuid)).exists()
        assert default_storage.open(letter.file.name).read().startswith(b"%PDF-")


def test_provider_intakes_route_by_the_catalog(seeded):
    intakes = ProviderIntake.objects.prefetch_related("services", "counties").select_related("organization")
    cs = Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER)
    assert intakes.count() == cs.count()
    assert 1 <= intakes.filter(accepting=False).count() <= 2
    for intake in intakes:
        assert intake.services.exists()
        assert {c.pk for c in intake.counties.all()} == set(
            intake.organization.counties_served.values_list("pk", flat=True)
        )
    for referral in Referral.objects.filter(receiving_provider__isnull=False, kind="cs").select_related(
        "receiving_provider__referral_intake"
    ):
        intake = referral.receiving_provider.referral_intake
        assert intake.services.filter(pk=referral.service_id).exists()
        if referral.member_county_id:
            assert intake.counties.filter(pk=referral.member_county_id).exists()
        if referral.channel in (Channel.PORTAL, Channel.API, Channel.SELF_REFERRAL, Channel.CS_TO_CS):
            assert intake.accepting or referral.events.filter(kind="assigned").exists()


# --- the people who use them --------------------------------------------------------------------------


def test_demo_logins_see_full_lists(demo_seeded):
    users = {u.roles.get().role: u for u in User.objects.filter(email__endswith="@demo.cshub.example")}
    everything = selectors.ReferralFilters()
    for role in (Role.PLAN_ADMIN, Role.UM_REVIEWER, Role.REPORTING_DIRECTOR):
        assert selectors.referral_list(user=users[role], filters=everything).exists(), role
    assert selectors.referral_list(
        user=users[Role.UM_REVIEWER], filters=selectors.ReferralFilters(box="unassigned")
    )
    for role in (Role.PROVIDER_CEO, Role.CS_PROGRAM_MANAGER, Role.CARE_COORDINATOR):
        user = users[role]
        assert selectors.intake_queue(user=user).count() >= 5, role
        worklist = selectors.outreach_worklist(user=user)
        assert worklist.count() >= 4, role
        received = selectors.referral_list(user=user, filters=selectors.ReferralFilters(box="received"))
        assert set(received.values_list("status", flat=True)) >= {"pending", "accepted", "got_help"}
        assert selectors.referral_list(user=user, filters=selectors.ReferralFilters(box="sent")).exists()
    for role in (Role.ECM_STAFF, Role.DISCHARGE_PLANNER, Role.REFERRER):
        sent = selectors.referral_list(user=users[role], filters=selectors.ReferralFilters(box="sent"))
        assert sent.exists(), role
    assert not selectors.referral_list(user=users[Role.PROVIDER_BILLING], filters=everything).exists()


def test_outsiders_see_only_their_own(demo_seeded):
    """A charlie at another CS provider sees only referrals it received or made; never the demo provider's."""
    demo_org = User.objects.get(email="provider.ceo@demo.cshub.example").organization
    other = Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).exclude(pk=demo_org.pk).first()
    charlie = UserFactory(email="charlie@seed.example", organization=other, roles=[Role.PROVIDER_CEO])
    assert permissions.can_view_referrals(charlie)
    seen = selectors.referral_list(user=charlie, filters=selectors.ReferralFilters())
    assert not seen.exclude(Q(receiving_provider=other) | Q(referring_organization=other)).exists()
    assert not seen.filter(receiving_provider=demo_org).exclude(referring_organization=other).exists()
    assert not selectors.intake_queue(user=charlie).exclude(receiving_provider=other).exists()
    assert not selectors.outreach_worklist(user=charlie).exclude(receiving_provider=other).exists()
    other_plan = Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name")[1]
    plan_user = UserFactory(
        email="admin@plan2.seed.example", organization=other_plan, roles=[Role.PLAN_ADMIN]
    )
    assert (
        not selectors.referral_list(user=plan_user, filters=selectors.ReferralFilters())
        .exclude(plan=other_plan)
        .exists()
    )


# --- determinism, sizes, reset ----------------------------------------------------------------------


def test_same_seed_gives_the_same_referrals(no_weasyprint):
    catalog_load()
    seed(seed=31, **SIZE)
    first = snapshot()
    events = ReferralEvent.objects.count()
    reset()
    assert Referral.objects.count() == 0 and ProviderIntake.objects.count() == 0
    seed(seed=31, **SIZE)
    assert snapshot() == first
    assert ReferralEvent.objects.count() == events


def test_referrals_follow_the_member_count_and_the_option(no_weasyprint):
    catalog_load()
    result = seed(members=300, providers=10, seed=5)
    assert result.referrals == seed_referrals.default_referrals(300) == 15
    assert Referral.objects.count() == 15
    assert seed_referrals.default_referrals(10_000_000) == seed_referrals.REFERRAL_CAP


def test_without_the_catalog_there_are_no_referrals():
    result = seed(members=50, providers=6, seed=3)
    assert Referral.objects.count() == 0 and ProviderIntake.objects.count() == 0
    assert "catalog is not loaded" in result.summary()


def test_reset_removes_referrals_and_their_files(seeded):
    files = list(ReferralDocument.objects.values_list("file", flat=True))
    assert files
    deleted = reset()
    assert deleted["referrals.Referral"] == SIZE["referrals"]
    assert Referral.objects.count() == ReferralEvent.objects.count() == Enrollment.objects.count() == 0


def test_later_referrals_get_numbers_after_the_seeded_ones(seeded):
    from cshub.referrals.services import MemberDetails, ReferrerDetails, referral_create

    ensure_demo_logins("demo-password-1")
    hospital_user = User.objects.get(email="discharge.planner@demo.cshub.example")
    intake = ProviderIntake.objects.filter(accepting=True).prefetch_related("services").first()
    referral = referral_create(
        actor=hospital_user,
        channel=Channel.PORTAL,
        plan=Organization.objects.filter(kind=OrganizationKind.PLAN).first(),
        member_details=MemberDetails(
            first_name="New",
            last_name="Person",
            date_of_birth=REFERENCE_DATE.replace(year=1970),
            phone="9165550100",
        ),
        referrer=ReferrerDetails(kind="hospital", name="Dana"),
        service_key=intake.services.first().key,
        receiving_provider=intake.organization,
    )
    assert referral.pk > Referral.objects.exclude(pk=referral.pk).order_by("-pk")[0].pk
    assert Referral.objects.filter(number=referral.number).count() == 1


def test_the_r8_letter_goes_through_the_letter_adapter(monkeypatch):
    """The first R8 letter is rendered by cshub.core.letters (WeasyPrint); the others are plain PDFs."""
    monkeypatch.setattr(seed_referrals, "LETTERS_RENDERED", 1)
    catalog_load()
    result = seed(seed=7, **SIZE)
    letters = list(ReferralDocument.objects.filter(kind="letter").order_by("referral__received_at", "id"))
    readers = [PdfReader(default_storage.open(d.file.name)) for d in letters]
    assert all("unable to process" in r.pages[0].extract_text().lower() for r in readers)
    producers = [str(r.metadata.producer) for r in readers]
    if importlib.util.find_spec("cshub.core.letters") is not None:
        assert "WeasyPrint" in producers[0]
    assert all(p == "cshub seed" for p in producers[1:])
    assert result.referral_rows["ReferralDocument"] == ReferralDocument.objects.count()


def test_command_takes_the_number_of_referrals(no_weasyprint):
    catalog_load()
    out = io.StringIO()
    call_command("seed", members=200, providers=8, seed=9, referrals=40, stdout=out)
    assert "referrals: 40 in" in out.getvalue()
    assert Referral.objects.count() == 40


def seeding_horizon():
    return seed_referrals.HORIZON
