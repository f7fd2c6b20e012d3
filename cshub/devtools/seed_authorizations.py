"""Synthetic authorization requests for the demo (`cshub seed --authorizations N`), made THROUGH the services.

Every request is submitted, taken, pended, answered, extended, re-prioritised, decided or withdrawn by
`cshub.authorizations.services` with real users of the seeded organizations, so its history, clock, letters
(WeasyPrint PDFs), notifications and audit rows are exactly what the product makes. The services read the
time from `cshub.core.clock.now()`; the seeder travels that one clock (and Django's `timezone.now`, which
fills `created_at`) step by step into the past (`_travel`), as `time_machine` does in the tests
(time-machine is a test dependency only, so it is not used here).

Times are relative to the day the seed runs (the review queue is judged against the real clock when the
demo is used): open requests are overdue, due today, due soon and on track; decided ones spread over the
last six months so the timeliness report has months to show. Every other choice comes from a
`random.Random` seeded with the seed, so the same arguments on the same day give the same data.

Who acts: the first plan by name (the demo's plan logins) reviews; its UM reviewer is the user
`um.reviewer@demo.cshub.example` (`cshub demo` gives it its password). The requests come from the CS
providers whose intake offers the service (a care coordinator per provider), the sobering center stays are
service records of the provider offering sobering centers (rule G2). Each member has the enrollment
(rule A2) and care-team row the request needs: the referral seed makes few enrollments, so this part adds
its own (rows like the referral seed's, dated before the request). Users, enrollments and care-team rows
get seeded uuids and `reset` deletes them with the requests, their files and the service records.

At most `MAX_REQUESTS` requests: each renders letters through WeasyPrint (a few tenths of a second), so this
path is for the demo, not for benchmark volumes.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any, TextIO
from unittest import mock

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization, User, UserRole
from cshub.accounts.roles import OrganizationKind, Role
from cshub.authorizations import services
from cshub.authorizations.models import (
    Authorization,
    AuthorizationRequest,
    DenialReason,
    Determination,
    Letter,
    RequestDocument,
    ServiceRecord,
    Urgency,
)
from cshub.catalog.models import Service, ServiceCode
from cshub.core import clock
from cshub.devtools import seed as base
from cshub.devtools.seed_referrals import minimal_pdf
from cshub.members.models import CareRelationship, Consent, EligibilitySpan, Member
from cshub.referrals.models import Enrollment, ProviderIntake

MAX_REQUESTS = 200
REVIEWER_EMAIL = "um.reviewer@demo.cshub.example"  # the demo's UM reviewer login (cshub demo)
# Billable ICD-10-CM codes the scenarios draw from, by service (the services check them against the code set).
DIAGNOSES = {
    "housing_transition_navigation": ["Z59.01", "Z59.02", "F20.9", "I10"],
    "housing_deposits": ["Z59.01", "Z59.811", "E11.9"],
    "housing_tenancy_sustaining": ["Z59.811", "F33.1", "I10"],
    "transitional_rent": ["Z59.01", "Z59.02", "F20.9"],
    "recuperative_care": ["Z59.02", "L89.152", "E11.9", "I10"],
    "short_term_post_hospitalization_housing": ["Z59.01", "J44.1", "I50.9"],
    "medically_tailored_meals": ["E11.9", "I50.9", "N18.4", "I10"],
    "asthma_remediation": ["J45.909", "J45.40", "Z77.120"],
    "environmental_accessibility_adaptations": ["Z74.09", "G35", "M17.0"],
    "personal_care_homemaker": ["Z74.1", "I69.351", "E11.9"],
    "respite_services": ["Z63.6", "G30.9"],
    "day_habilitation": ["Z59.01", "F79"],
    "nf_transition_diversion_alf": ["Z74.09", "G30.9", "I10"],
    "community_transition_nf_to_home": ["Z74.09", "I69.351"],
    "sobering_centers": ["F10.129", "F10.920"],
}
_QUESTIONS = (
    "Please send the most recent assessment showing the member's housing situation.",
    "Please send the physician's note supporting the primary diagnosis.",
    "Please confirm the member's current address and send the signed care plan.",
)
_ANSWERS = (
    "Assessment of last week attached; the member has been unsheltered since spring.",
    "Physician's note attached (visit of this month).",
    "Address confirmed with the member by phone; signed care plan attached.",
)


@dataclass(frozen=True)
class Scenario:
    """One request's life. Days are counted back from the seeding day; `steps` name service calls in order."""

    status: str  # what it should end as (checked by the tests)
    age_days: float  # received this many days ago
    steps: tuple[str, ...] = ()
    expedite: bool = False  # submitted expedited although the service is routine by default
    services: tuple[str, ...] = ()  # preferred services (first one with a provider and a member wins)
    decide_after_days: float = 2.0  # days between receipt and the decision (late ones exceed the clock)
    partial: bool = False


_ROUTINE = (
    "medically_tailored_meals",
    "housing_tenancy_sustaining",
    "asthma_remediation",
    "transitional_rent",
)
_URGENT = ("housing_transition_navigation", "housing_deposits")
_PRESUMPTIVE = ("recuperative_care", "short_term_post_hospitalization_housing")

SCENARIOS: tuple[Scenario, ...] = (
    # --- the open queue -----------------------------------------------------------------------------------
    Scenario("received", 3.4, services=_URGENT),  # expedited, overdue (72 hours)
    Scenario("received", 9.2, services=_ROUTINE),  # routine, overdue (5 business days)
    Scenario("in_review", 7.1, ("take",), services=_ROUTINE),  # routine, overdue, taken
    Scenario("received", 0.0, services=_ROUTINE),  # due today: received 5 business days ago (set below)
    Scenario("in_review", 0.0, ("take",), services=_ROUTINE),  # due today, taken
    Scenario("received", 2.6, services=_URGENT),  # expedited, due in a few hours
    Scenario("received", 0.0, services=_ROUTINE),  # due soon: 4 business days ago (set below)
    Scenario("received", 0.1, services=_ROUTINE),  # on track
    Scenario("received", 0.3, expedite=True, services=_ROUTINE),  # expedited by the provider, with a reason
    Scenario("in_review", 1.2, ("take",), services=_ROUTINE),
    Scenario("in_review", 1.0, ("take", "urgency"), services=_ROUTINE),  # reviewer made it expedited
    Scenario("pended", 2.2, ("take", "pend"), services=_ROUTINE),  # waiting for an answer
    Scenario("pended", 3.1, ("pend",), services=_URGENT),
    Scenario("in_review", 6.0, ("take", "pend", "answer"), services=_ROUTINE),  # answered, back in review
    Scenario("in_review", 8.0, ("take", "extend"), services=_ROUTINE),  # extended 14 days
    Scenario("approved", 2.0, services=_PRESUMPTIVE),  # presumptive, retrospective review due
    Scenario("approved", 5.0, services=_PRESUMPTIVE[::-1]),
    # --- decided over the last six months -----------------------------------------------------------------
    Scenario("approved", 4.0, ("take", "approve"), services=_URGENT, decide_after_days=1.0),
    Scenario("approved", 12.0, ("take", "approve"), services=_ROUTINE),
    Scenario("partially_approved", 16.0, ("take", "approve"), services=_ROUTINE, partial=True),
    Scenario("denied", 20.0, ("take", "deny"), services=_ROUTINE),
    Scenario("withdrawn", 9.0, ("withdraw",), services=_ROUTINE, decide_after_days=1.5),
    Scenario("approved", 27.0, ("take", "pend", "answer", "approve"), services=_ROUTINE, decide_after_days=6),
    Scenario("approved", 33.0, ("take", "extend", "approve"), services=_ROUTINE, decide_after_days=12),
    Scenario("approved", 41.0, ("take", "approve"), services=_URGENT, decide_after_days=4.5),  # late
    Scenario("approved", 48.0, ("take", "approve"), services=_ROUTINE, decide_after_days=3),
    Scenario("denied", 55.0, ("take", "pend", "deny"), services=_ROUTINE, decide_after_days=13),
    Scenario("approved", 63.0, ("take", "approve"), services=_ROUTINE, decide_after_days=9),  # late
    Scenario(
        "partially_approved",
        70.0,
        ("take", "approve"),
        services=_URGENT[:1],
        partial=True,
        decide_after_days=1,
    ),
    Scenario("approved", 78.0, ("take", "approve"), services=_ROUTINE),
    Scenario("approved", 86.0, ("approve",), services=_PRESUMPTIVE),  # presumptive, reviewed later
    Scenario("withdrawn", 94.0, ("take", "withdraw"), services=_ROUTINE),
    Scenario("approved", 101.0, ("take", "approve"), services=_ROUTINE, decide_after_days=4),
    Scenario("denied", 110.0, ("take", "deny"), services=_URGENT, decide_after_days=2),
    Scenario("approved", 118.0, ("take", "urgency", "approve"), services=_ROUTINE, decide_after_days=1),
    Scenario("approved", 126.0, ("take", "approve"), services=_ROUTINE, decide_after_days=11),  # late
    Scenario("approved", 134.0, ("take", "approve"), services=_URGENT, decide_after_days=2),
    Scenario("partially_approved", 143.0, ("take", "approve"), services=_ROUTINE, partial=True),
    Scenario("approved", 151.0, ("take", "approve"), services=_ROUTINE, decide_after_days=3),
    Scenario("denied", 160.0, ("take", "deny"), services=_ROUTINE, decide_after_days=4),
    Scenario("approved", 168.0, ("take", "approve"), services=_ROUTINE, decide_after_days=2),
    Scenario("approved", 176.0, ("take", "approve"), services=_URGENT, decide_after_days=1),
)
SOBERING_STAYS = 4  # rule G2 service records at the sobering center


def default_authorizations() -> int:
    return len(SCENARIOS)


@dataclass
class AuthorizationSeedResult:
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    service_records: int = 0
    letters: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- the clock --------------------------------------------------------------------------------------------


class _Clock:
    """The instant the services see while seeding."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def _travel(start: datetime) -> Iterator[_Clock]:
    """Move the product's one clock (and Django's `timezone.now` for created_at) to `start`; the caller sets
    `.at` before each step. Only this seeding thread runs while it is in force (`cshub seed` / `cshub demo`
    before serving)."""
    now = _Clock(start)
    with mock.patch.object(clock, "now", now), mock.patch("django.utils.timezone.now", now):
        yield now


# --- the world --------------------------------------------------------------------------------------------


class _World:
    def __init__(self, *, seed: int, rng: random.Random, started: datetime) -> None:
        self.seed = seed
        self.started = started  # the real instant the seed started (the clock travels while it runs)
        today = clock.local(started).date()
        self.rng = rng
        self.uuids = base._UuidStream(rng, seed)
        self.today = today
        self.plan = Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name").first()
        self.services = {s.key: s for s in Service.objects.filter(active=True)}
        self.codes: dict[int, list[ServiceCode]] = {}
        for code in ServiceCode.objects.filter(active=True).order_by("hcpcs", "modifier"):
            self.codes.setdefault(code.service_id, []).append(code)
        self.offered: dict[str, list[Organization]] = {}
        intakes = ProviderIntake.objects.filter(organization__kind=OrganizationKind.CS_PROVIDER)
        for intake in intakes.select_related("organization").prefetch_related("services").order_by("id"):
            for service in intake.services.all():
                orgs = self.offered.setdefault(service.key, [])
                if intake.organization not in orgs and intake.organization.npi:
                    orgs.append(intake.organization)
        for orgs in self.offered.values():
            orgs.sort(key=lambda o: o.name)
        self.staff: dict[int, User] = {}
        self.used_members: set[int] = set()
        self._members = self._eligible_members()

    def _eligible_members(self) -> list[int]:
        """Seeded members of the plan eligible from 200 days ago with no end (open span), by id."""
        low, high = base.seeded_uuid_range(self.seed)
        since = self.today - timedelta(days=200)
        return list(
            EligibilitySpan.objects.filter(
                plan=self.plan,
                start_date__lte=since,
                member__uuid__gte=low,
                member__uuid__lt=high,
            )
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=self.today + timedelta(days=200)))
            .exclude(member__cs_enrollments__isnull=False)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()
        )

    def member(self) -> Member:
        while True:
            pk = self._members[int(self.rng.random() * len(self._members))]
            if pk not in self.used_members:
                self.used_members.add(pk)
                return Member.objects.get(pk=pk)

    def user(self, org: Organization, role: str, email: str, name: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(
                email=email, organization=org, full_name=name, uuid=self.uuids.uuid(), date_joined=self._ts()
            )
            user.set_unusable_password()
            user.save()
            UserRole.objects.create(user=user, role=role)
        return user

    def _ts(self) -> datetime:
        return base.ORG_CREATED_AT

    def reviewer(self) -> User:
        return self.user(self.plan, Role.UM_REVIEWER, REVIEWER_EMAIL, "Demo Utilization management reviewer")

    def coordinator(self, org: Organization) -> User:
        if org.pk not in self.staff:
            first = Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("name").first()
            if first is not None and first.pk == org.pk:
                email = "care.coordinator@demo.cshub.example"  # the demo's login at the first CS provider
                name = "Demo Care coordinator / outreach worker"
            else:
                email = f"care.coordinator.{org.uuid.hex[-8:]}@seed.cshub.example"
                name = (
                    f"{self.rng.choice(('Ana', 'Luis', 'Mai', 'Grace', 'Omar', 'Rosa'))} "
                    + self.rng.choice(("Ramirez", "Nguyen", "Thompson", "Garcia", "Lee", "Patel"))
                )
            self.staff[org.pk] = self.user(org, Role.CARE_COORDINATOR, email, name)
        return self.staff[org.pk]

    def enroll(self, member: Member, service: Service, org: Organization, on: date) -> None:
        """Rule A2: the member was reached, screened and enrolled with the provider before the request."""
        at = datetime.combine(on, dtime(17, 0), tzinfo=clock.PACIFIC)
        CareRelationship.objects.create(
            uuid=self.uuids.uuid(),
            member=member,
            organization=org,
            reason=CareRelationship.Reason.REFERRAL_RECEIVED,
            start_date=on,
            created_at=at,
            updated_at=at,
        )
        # Rule R4: a release of information recorded with the provider before enrolling.
        Consent.objects.create(
            uuid=self.uuids.uuid(),
            member=member,
            organization=org,
            scopes=[Consent.Scope.CS_SERVICES, Consent.Scope.HEALTH_INFORMATION],
            recipients=f"{org.name}\n{self.plan.name}",
            signed_on=on,
            expires_on=on + timedelta(days=365),
        )
        Enrollment.objects.create(
            uuid=self.uuids.uuid(),
            member=member,
            organization=org,
            service=service,
            enrolled_on=on,
            enrolled_by=self.coordinator(org),
        )


def _pdf(title: str, lines: list[str], when: datetime) -> SimpleUploadedFile:
    name = title.lower().replace(" ", "-").replace("/", "-")[:60] + ".pdf"
    return SimpleUploadedFile(
        name, minimal_pdf(lines, title=title, when=when), content_type="application/pdf"
    )


def _business_days_before(day: date, n: int) -> date:
    while n:
        day -= timedelta(days=1)
        if clock.is_business_day(day):
            n -= 1
    return day


# --- one request ------------------------------------------------------------------------------------------


def _make_request(world: _World, now: _Clock, scenario: Scenario, index: int) -> AuthorizationRequest | None:
    rng = world.rng
    service = org = None
    for key in rng.sample(scenario.services, k=len(scenario.services)):
        if key in world.services and world.offered.get(key):
            service, org = world.services[key], rng.choice(world.offered[key])
            break
    if service is None or org is None:
        return None
    received_day = world.today - timedelta(days=int(scenario.age_days))
    if index == 3 or index == 4:  # due today: received the 5th business day before today
        received_day = _business_days_before(world.today, 5)
    if index == 6:  # due tomorrow or so
        received_day = _business_days_before(world.today, 4)
    hour = 8 + (scenario.age_days % 1) * 8 if scenario.age_days >= 1 else 8.5
    received = datetime.combine(received_day, dtime(0, 0), tzinfo=clock.PACIFIC) + timedelta(hours=hour)
    if (scenario.age_days and scenario.age_days < 1) or (service.urgent_by_default and scenario.age_days < 4):
        received = world_now(world) - timedelta(days=scenario.age_days)
    received = min(received, world_now(world) - timedelta(minutes=30))
    member = world.member()
    world.enroll(member, service, org, (received - timedelta(days=rng.randint(3, 20))).date())
    actor = world.coordinator(org)
    reviewer = world.reviewer()
    code = world.codes[service.pk][int(rng.random() * len(world.codes[service.pk]))]
    start = clock.local(received).date() + timedelta(days=rng.randint(0, 3))
    latest = services.latest_end_date(service, "initial", start)
    if service.initial_auth_unit == Service.LengthUnit.ONE_TIME:
        end, units = start, 1
    else:
        end = min(latest or start + timedelta(days=89), start + timedelta(days=89))
        units = min(90, (end - start).days + 1) if service.initial_auth_unit != "units" else 10
    diagnoses = DIAGNOSES.get(service.key, ["Z59.01"])
    diagnosis_codes = [diagnoses[0], *rng.sample(diagnoses[1:], k=min(len(diagnoses) - 1, rng.randint(0, 2)))]
    documents = [
        services.DocumentUpload(
            file=_pdf(
                item[:50],
                [
                    item,
                    f"Member: {member.first_name} {member.last_name}  DOB {member.date_of_birth:%m/%d/%Y}",
                    f"Primary diagnosis: {diagnosis_codes[0]}",
                    f"Prepared by {actor.full_name}, {org.name}",
                ],
                received,
            ),
            checklist_item=item,
        )
        for item in services.required_documents(service, "initial")
    ] or [services.DocumentUpload(file=_pdf("Assessment", ["Assessment", org.name], received))]
    now.at = received
    urgency, reason = "", ""
    if scenario.expedite and not service.urgent_by_default:
        urgency, reason = Urgency.EXPEDITED, "The member is being discharged this week with nowhere to go."
    request = services.request_submit(
        actor=actor,
        channel=rng.choice(("portal", "portal", "api")),
        data=services.RequestInput(
            member=member,
            service_key=service.key,
            hcpcs=code.hcpcs,
            modifier=code.modifier,
            requesting_npi=org.npi,
            servicing_npi=org.npi,
            diagnosis_codes=diagnosis_codes,
            units=units,
            start_date=start,
            end_date=end,
            urgency=urgency,
            urgency_reason=reason,
            notes=f"Member enrolled with {org.name}; see the attached assessment.",
        ),
        documents=documents,
    )
    t = received
    decide_at = received + timedelta(days=scenario.decide_after_days)
    steps = list(scenario.steps)
    gap = (min(decide_at, world_now(world)) - received) / (len(steps) + 1)

    def step_time() -> datetime:
        nonlocal t
        t = min(t + gap, world_now(world) - timedelta(minutes=5))
        now.at = t
        return t

    for name in steps:
        request.refresh_from_db()
        v = request.version
        if name == "take":
            step_time()
            request = services.request_take(actor=reviewer, request=request, expected_version=v)
        elif name == "urgency":
            step_time()
            request = services.request_set_urgency(
                actor=reviewer,
                request=request,
                urgency=Urgency.EXPEDITED if request.urgency == Urgency.ROUTINE else Urgency.ROUTINE,
                reason="The member's discharge date moved up; the clinical notes show an urgent need.",
                expected_version=v,
            )
        elif name == "pend":
            at = step_time()
            due = min(clock.local(request.due_at).date(), clock.local(at).date() + timedelta(days=3))
            services.request_pend(
                actor=reviewer,
                request=request,
                question=rng.choice(_QUESTIONS),
                due_on=due,
                expected_version=v,
            )
        elif name == "answer":
            at = step_time()
            services.information_answer(
                actor=actor,
                request=request,
                answer=rng.choice(_ANSWERS),
                files=[_pdf("Additional information", ["Additional information", org.name], at)],
                expected_version=v,
            )
        elif name == "extend":
            step_time()
            services.request_extend(
                actor=reviewer,
                request=request,
                days=14,
                reason="The plan needs the member's records from the hospital to decide; this is in the "
                "member's interest.",
                expected_version=v,
            )
        elif name in ("approve", "deny"):
            if request.presumptive:
                now.at = decide_at
                services.retrospective_review_record(
                    actor=reviewer, request=request, upheld=True, note="Criteria met.", expected_version=v
                )
                continue
            now.at = max(t, min(decide_at, world_now(world) - timedelta(minutes=5)))
            if name == "deny":
                decision = services.DecisionInput(
                    outcome=Determination.Outcome.DENIED,
                    reason_code=rng.choice(
                        (DenialReason.NOT_ELIGIBLE, DenialReason.NOT_MEDICALLY_APPROPRIATE)
                    ),
                    reason="The records sent do not show the need this service is for.",
                    criteria=f"{service.name}: eligibility criteria of the DHCS policy guide.",
                )
            elif scenario.partial and (request.units > 1 or request.end_date > request.start_date):
                decision = services.DecisionInput(
                    outcome=Determination.Outcome.PARTIALLY_APPROVED,
                    units=max(1, request.units // 2),
                    end_date=request.start_date + (request.end_date - request.start_date) / 2,
                    reason_code=DenialReason.NOT_MEDICALLY_APPROPRIATE,
                    reason="Half the period is approved now; ask again with the progress notes.",
                    criteria=f"{service.name}: DHCS Community Supports policy guide, authorization length.",
                )
            else:
                decision = services.DecisionInput(outcome=Determination.Outcome.APPROVED)
            services.request_decide(actor=reviewer, request=request, decision=decision, expected_version=v)
        elif name == "withdraw":
            now.at = max(t, min(decide_at, world_now(world) - timedelta(minutes=5)))
            services.request_withdraw(
                actor=actor, request=request, reason="The member moved out of the county.", expected_version=v
            )
    request.refresh_from_db()
    return request


def world_now(world: _World) -> datetime:
    """The real instant the seed started (the clock is travelling while scenarios run)."""
    return world.started


def _sobering_stays(world: _World, now: _Clock, count: int) -> int:
    service = world.services.get("sobering_centers")
    orgs = world.offered.get("sobering_centers") or []
    if service is None or not orgs:
        return 0
    code = world.codes[service.pk][0]
    made = 0
    for i in range(count):
        org = orgs[0]
        member = world.member()
        day = world.today - timedelta(days=3 + 11 * i)
        world.enroll(member, service, org, day)
        now.at = datetime.combine(day, dtime(23, 30), tzinfo=clock.PACIFIC)
        services.service_record_create(
            actor=world.coordinator(org),
            member=member,
            service_key=service.key,
            hcpcs=code.hcpcs,
            modifier=code.modifier,
            service_date=day,
            end_date=day + timedelta(days=1) if i % 2 else None,
            units=1,
            diagnosis_codes=[world.rng.choice(DIAGNOSES["sobering_centers"])],
            notes="Brought in by the police; stayed overnight and left with a referral to treatment.",
        )
        made += 1
    return made


def seed_authorizations(*, seed: int, count: int, stdout: TextIO | None = None) -> AuthorizationSeedResult:
    """Up to `count` (at most MAX_REQUESTS) requests following SCENARIOS in order, then a few sobering
    center service records. Call inside the seed's transaction, after members and referrals."""
    result = AuthorizationSeedResult()
    started = time.perf_counter()
    if count <= 0:
        return result
    if count > MAX_REQUESTS:
        result.notes.append(f"authorizations capped at {MAX_REQUESTS} (each one renders WeasyPrint letters)")
        count = MAX_REQUESTS
    if not Service.objects.filter(active=True).exists():
        result.notes.append("no authorizations: the service catalog is not loaded")
        return result
    real_now = clock.now()
    world = _World(seed=seed, rng=random.Random(f"authorizations-{seed}"), started=real_now)
    if world.plan is None or len(world._members) < count + SOBERING_STAYS:
        result.notes.append("no authorizations: too few members eligible with the first plan")
        return result
    progress = logging.getLogger("weasyprint.progress")  # one INFO line per layout step otherwise
    level = progress.level
    progress.setLevel(logging.WARNING)
    with _travel(real_now) as now:
        for i in range(count):
            scenario = SCENARIOS[i % len(SCENARIOS)]
            request = _make_request(world, now, scenario, i % len(SCENARIOS))
            if request is not None:
                result.requests += 1
                result.by_status[request.status] += 1
        result.service_records = _sobering_stays(world, now, SOBERING_STAYS)
    progress.setLevel(level)
    result.letters = Letter.objects.filter(request__plan=world.plan).count()
    result.seconds = time.perf_counter() - started
    if stdout is not None:
        stdout.write(f"  authorizations: {result.requests} requests in {result.seconds:.1f} s\n")
    return result


def reset_authorizations(in_range: dict[str, Any]) -> Counter[str]:
    """The requests, authorizations and service records of the seeded members (with their files, removed
    once the deletion commits) and the seeder's users (seeded uuids). Call before the enrollments go."""
    deleted: Counter[str] = Counter()
    members = Member.objects.filter(**in_range)
    requests = AuthorizationRequest.objects.filter(member__in=members)
    files = list(RequestDocument.objects.filter(request__in=requests).values_list("file", flat=True))
    files += list(Letter.objects.filter(request__in=requests).values_list("file", flat=True))
    deleted[Authorization._meta.label] += Authorization.objects.filter(request__in=requests).delete()[0]
    # follow-up requests point at authorizations (PROTECT): none are seeded, so one pass is enough
    deleted.update(requests.delete()[1])
    deleted.update(ServiceRecord.objects.filter(member__in=members).delete()[1])
    deleted.update(User.objects.filter(**in_range).delete()[1])
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])
    return deleted
