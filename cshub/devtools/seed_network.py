"""The demo's provider network (`cshub seed --network/--no-network`), made THROUGH the services of issue 4.

For the first plan by name (the demo's plan logins) and the seeded CS providers, in name order:

- every provider goes the network path of rules N1-N4: a Provider Interest Form (`interest_form_submit`),
  the plan's invitation (`interest_form_invite`, linking the seeded organization), its leadership filling in
  and submitting the Certification Application with the services and counties of its referral intake, the
  plan's findings and decision. Most are approved for contracting; of the others (taken from the end of the
  name order) one is declined, one is in a gap closure plan (one item answered and waiting for the plan, one
  answered and returned) and one or two are still under review;
- each approved provider's leadership records training completions (rule N7) and attests them; the plan
  drafts a contract with the services x counties of the provider's referral intake, a fee schedule row for
  every catalog code of those services (a deterministic rate by billing unit), and executes it (rule N6),
  starting at the beginning of the quarter four quarters back;
- the providers claim and fill in program listings (rule N9) and submit quarterly staffing and capacity
  reports for the quarters since their contract began (rule D3);
- a few Provider Interest Forms of prospective organizations wait in the network queue (new, one closed
  without invitation; the seeded providers' own forms show as invited), and one contracted provider has a
  Network Participation Request under review (rule N5). No organization is created: every CS provider
  stays a seeded one with its referral intake.

The demo's provider logins' organization (the first CS provider by name, as in seed_referrals.py) is always
contracted, with every listing claimed and filled in, a mandatory training overdue, and capacity reports for
the last four quarters, one of them submitted late. Its leadership login is `provider.ceo@demo.cshub.example`
(`cshub demo` gives it its password); the plan's network login is `network@demo.cshub.example`.

As in seed_authorizations.py, the product's one clock (and Django's `timezone.now`) travels into the past
step by step, so histories, audit rows and notifications are the services' own; times are relative to the
day the seed runs, every other choice comes from a `random.Random` seeded with the seed. At most
`MAX_CONTRACTED` providers get a contract whatever the size (each is some hundred queries through the
services). The seeder's users get seeded uuids; `reset_network` deletes what they made (and the interest
forms from *.example.org sent to seeded plans) before their users go.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, TextIO

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization, OrganizationContact, User, UserRole
from cshub.accounts.roles import OrganizationKind, Role
from cshub.capacity import services as capacity_services
from cshub.capacity.models import CapacityNotice, CapacityReport, StaffRole
from cshub.capacity.schedule import Quarter, quarter_of
from cshub.catalog.models import Service, ServiceCode
from cshub.contracts import services as contract_services
from cshub.contracts.models import Contract, TrainingAttestation, TrainingCompletion
from cshub.contracts.trainings import training_catalog
from cshub.core import clock
from cshub.core.models import County
from cshub.core.validators import npi_with_check_digit
from cshub.devtools import seed as base
from cshub.devtools.seed_authorizations import _travel
from cshub.devtools.seed_referrals import minimal_pdf
from cshub.directory import services as directory_services
from cshub.directory.models import ProgramListing
from cshub.network import sections
from cshub.network import services as network_services
from cshub.network.models import Application, ApplicationAttachment, GapItemFile, InterestForm
from cshub.referrals.models import ProviderIntake

MAX_CONTRACTED = 40
NETWORK_EMAIL = "network@demo.cshub.example"  # the demo's network & contracting login (cshub demo)
FOCUS_CEO_EMAIL = "provider.ceo@demo.cshub.example"  # the demo's CEO login at the first CS provider
QUARTERS_BACK = 4  # contracts start at the beginning of the quarter this many quarters back

# A plausible rate range (dollars) per billing unit; the rate of a code is drawn once, deterministically.
RATES: dict[str, tuple[int, int]] = {
    "per diem": (95, 185),
    "15 minutes": (18, 34),
    "per month": (1100, 2400),
    "per meal": (11, 17),
    "per visit": (90, 210),
    "per service": (1500, 7500),
    "per session": (45, 95),
}
BLANK_UNIT = "per service"
_BLANK_UNIT_RATE = (150, 400)

_PROSPECTS = (  # Provider Interest Forms of organizations not yet in the network (names sort late on purpose)
    ("Yosemite Gateway Housing Partners", "Fresno", "Mariposa"),
    ("Yolo Harvest Medically Tailored Meals", "Yolo", "Sacramento"),
    ("Yreka Valley Respite Collective", "Siskiyou", "Shasta"),
    ("Yucca Valley Recovery Homes", "San Bernardino", "Riverside"),
)
_PROSPECT_SERVICES = (
    ("housing_transition_navigation", "housing_tenancy_sustaining"),
    ("medically_tailored_meals",),
    ("respite_services", "personal_care_homemaker"),
    ("recuperative_care", "short_term_post_hospitalization_housing"),
)
_LANGUAGES = (("en", "es"), ("en", "es", "vi"), ("en", "es", "zh"), ("en", "es", "tl"), ("en", "ko", "es"))
_HOURS = (
    [{"day": d, "opens": "08:00", "closes": "17:00"} for d in ("mo", "tu", "we", "th", "fr")],
    [{"day": d, "opens": "09:00", "closes": "18:00"} for d in ("mo", "tu", "we", "th", "fr")]
    + [{"day": "sa", "opens": "10:00", "closes": "14:00"}],
)


@dataclass
class NetworkSeedResult:
    contracts: int = 0
    certifications: Counter[str] = field(default_factory=Counter)  # by application status
    interest_forms: int = 0
    fee_rows: int = 0
    capacity_reports: int = 0
    listings: int = 0
    trainings: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- the world --------------------------------------------------------------------------------------------


class _World:
    def __init__(self, *, seed: int, started: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(f"network-{seed}")
        self.uuids = base._UuidStream(self.rng, seed)
        self.started = started
        self.today = clock.local(started).date()
        self.plan = Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name").first()
        low, high = base.seeded_uuid_range(seed)
        self.providers = list(
            Organization.objects.filter(
                kind=OrganizationKind.CS_PROVIDER,
                uuid__gte=low,
                uuid__lt=high,
                website__endswith=".example.org",
            ).order_by("name")
        )
        first = Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("name").first()
        self.focus = first if first in self.providers else None
        self.intakes = {
            i.organization_id: i
            for i in ProviderIntake.objects.filter(organization__in=self.providers).prefetch_related(
                "services", "counties"
            )
        }
        self.codes: dict[int, list[ServiceCode]] = {}
        for code in ServiceCode.objects.filter(active=True).order_by("hcpcs", "modifier"):
            self.codes.setdefault(code.service_id, []).append(code)
        self.leaders: dict[int, User] = {}
        self._network: User | None = None
        self.anchor = self.quarter_back(QUARTERS_BACK).start

    def quarter_back(self, n: int) -> Quarter:
        q = quarter_of(self.today)
        for _ in range(n):
            q = q.previous()
        return q

    def at(self, day: date, hour: float = 10.0) -> datetime:
        """`day` at `hour` Pacific, never later than an hour before the seed started."""
        when = datetime.combine(day, dtime(0, 0), tzinfo=clock.PACIFIC) + timedelta(hours=hour)
        return min(when, self.started - timedelta(hours=1))

    def user(self, org: Organization, role: str, email: str, name: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(
                email=email,
                organization=org,
                full_name=name,
                uuid=self.uuids.uuid(),
                date_joined=base.ORG_CREATED_AT,
            )
            user.set_unusable_password()
            user.save()
            UserRole.objects.create(user=user, role=role)
        return user

    def network(self) -> User:
        if self._network is None:
            self._network = self.user(
                self.plan, Role.NETWORK, NETWORK_EMAIL, f"Demo {Role(Role.NETWORK).label}"
            )
        return self._network

    def leader(self, org: Organization) -> User:
        if org.pk not in self.leaders:
            if self.focus is not None and org.pk == self.focus.pk:
                email, name = FOCUS_CEO_EMAIL, f"Demo {Role(Role.PROVIDER_CEO).label}"
            else:
                contact = org.contacts.filter(kind=OrganizationContact.Kind.PRIMARY).first()
                email = f"provider.ceo.{org.uuid.hex[-8:]}@seed.cshub.example"
                name = contact.name if contact else "Executive Director"
            self.leaders[org.pk] = self.user(org, Role.PROVIDER_CEO, email, name)
        return self.leaders[org.pk]

    def scope(self, org: Organization) -> tuple[list[Service], list[County]]:
        """The services and counties of the provider's referral intake (active services with codes)."""
        intake = self.intakes.get(org.pk)
        if intake is None:
            return [], []
        services = sorted(
            (s for s in intake.services.all() if s.active and self.codes.get(s.pk)),
            key=lambda s: (s.sort_order, s.name),
        )
        counties = sorted(intake.counties.all(), key=lambda c: c.name) or list(org.counties_served.all())
        return services, counties


def _pdf(title: str, lines: list[str], when: datetime) -> SimpleUploadedFile:
    name = title.lower().replace(" ", "-").replace("/", "-")[:60] + ".pdf"
    return SimpleUploadedFile(
        name, minimal_pdf(lines, title=title, when=when), content_type="application/pdf"
    )


def _answer(question: sections.Question, org: Organization, rng: random.Random, on: date) -> Any:
    if question.type == "yes_no":
        return "yes"
    if question.type == "number":
        return rng.randint(2, 40)
    if question.type == "choice":
        return question.choices[0]
    if question.type == "date":
        return (on - timedelta(days=rng.randint(400, 3000))).isoformat()
    if question.type == "text":
        return f"{org.name}: {question.label[:80]}"
    return (
        f"{org.name} has done this since it opened: written procedures, a named lead and a quarterly "
        "review by the program director."
    )


# --- rules N1-N4: interest form, invitation, application, review -----------------------------------------


def _apply(world: _World, now: Any, org: Organization, start: date) -> Application | None:
    """Interest form, invitation and a submitted Certification Application; `start` is the form's day."""
    services, counties = world.scope(org)
    if not services or not counties:
        return None
    rng = world.rng
    leader = world.leader(org)
    network = world.network()
    contact = org.contacts.filter(kind=OrganizationContact.Kind.PRIMARY).first()
    now.at = world.at(start, 9.5 + rng.random() * 6)
    form = network_services.interest_form_submit(
        plan=world.plan,
        data={
            "organization_name": org.name,
            "npi": org.npi,
            "tin": org.tin,
            "address_line": org.address_line,
            "city": org.city,
            "zip_code": org.zip_code,
            "website": org.website,
            "contact_name": contact.name if contact else leader.full_name,
            "contact_title": contact.title if contact else "Executive Director",
            "contact_email": leader.email,
            "contact_phone": org.phone,
            "message": f"We serve Medi-Cal members in {', '.join(c.name for c in counties)} County.",
        },
        counties=[c.name for c in counties],
        service_keys=[s.key for s in services],
    )
    now.at = world.at(start + timedelta(days=rng.randint(2, 6)), 11)
    app = network_services.interest_form_invite(
        actor=network, interest_form=form, organization=org, email=leader.email
    )
    day = start + timedelta(days=rng.randint(8, 14))
    now.at = world.at(day, 14)
    answers = {
        s.id: {q.key: _answer(q, org, rng, day) for q in s.questions}
        for s in network_services.application_sections(app)
    }
    app = network_services.application_save_draft(actor=leader, application=app, answers=answers)
    for section in network_services.application_sections(app):
        if section.attachment_required:
            network_services.application_attach(
                actor=leader,
                application=app,
                section=section.id,
                upload=_pdf(
                    f"{section.id} {section.attachments}"[:50],
                    [section.title, org.name, f"NPI {org.npi}  TIN {org.tin}"],
                    now.at,
                ),
                description=section.attachments[:300],
            )
    now.at = world.at(day + timedelta(days=rng.randint(3, 8)), 16)
    return network_services.application_submit(actor=leader, application=app)


def _review(world: _World, now: Any, app: Application, day: date, outcome: str) -> None:
    """Findings, then the decision of the first round (`outcome`), on `day`."""
    network = world.network()
    now.at = world.at(day, 10)
    network_services.finding_record(actor=network, application=app, section="1A", rating="meets")
    service_sections = [s.id for s in network_services.application_sections(app) if s.service_key]
    if outcome == "approve":
        network_services.finding_record(
            actor=network, application=app, section="general", rating="meets", note="Complete and consistent."
        )
        now.at = world.at(day, 15)
        network_services.application_decide(actor=network, application=app, outcome="approve")
    elif outcome == "decline":
        network_services.finding_record(
            actor=network,
            application=app,
            section=service_sections[0],
            rating="not_met",
            note="No staff with the required experience and no plan to hire them.",
        )
        now.at = world.at(day, 15)
        network_services.application_decide(
            actor=network,
            application=app,
            outcome="decline",
            reasons="The organization cannot staff the service it applied for (section A); it may apply "
            "again once it can.",
        )
    elif outcome == "gap_closure":
        network_services.finding_record(
            actor=network,
            application=app,
            section=service_sections[-1],
            rating="gap",
            note="No written policy for after-hours coverage; liability insurance certificate expired.",
        )
        now.at = world.at(day, 15)
        decision = network_services.application_decide(
            actor=network,
            application=app,
            outcome="gap_closure",
            reasons="Two readiness items before contracting.",
            gap_items=[
                {
                    "text": "Send the written after-hours coverage policy.",
                    "owner": "Program Director",
                    "due_date": day + timedelta(days=30),
                    "section": service_sections[-1],
                },
                {
                    "text": "Send a current certificate of liability insurance.",
                    "owner": "Operations",
                    "due_date": day + timedelta(days=30),
                    "section": "1A",
                },
            ],
        )
        leader = world.leader(app.organization)
        items = list(decision.gap_items.order_by("id"))
        for i, item in enumerate(items):
            now.at = world.at(day + timedelta(days=3 + i), 11)
            network_services.gap_item_respond(
                actor=leader,
                item=item,
                response="Attached." if i else "Policy adopted by the board; attached.",
                uploads=[_pdf(item.text[:40], [item.text, app.organization.name], now.at)],
            )
        now.at = world.at(day + timedelta(days=6), 10)
        items[-1].refresh_from_db()
        network_services.gap_item_review(
            actor=network,
            item=items[-1],
            accept=False,
            note="The certificate sent expired last month; send the renewed one.",
        )
    else:  # left under review: a first finding only
        pass


# --- rule N7: training ------------------------------------------------------------------------------------


def _train(world: _World, now: Any, org: Organization, day: date, *, overdue: bool) -> int:
    """Onboarding completions and the attestation before contracting; ongoing courses after the contract
    starts (all of them, or one left out when `overdue`)."""
    leader = world.leader(org)
    catalog = training_catalog()
    made = 0
    for i, course in enumerate(catalog.onboarding):
        on = day + timedelta(days=i)
        now.at = world.at(on, 16)
        contract_services.completion_record(
            actor=leader,
            person=leader,
            course_key=course.key,
            completed_on=on,
            evidence=_pdf(course.title[:50], [course.title, leader.full_name, f"{on:%m/%d/%Y}"], now.at),
        )
        made += 1
    now.at = world.at(day + timedelta(days=len(catalog.onboarding) + 1), 10)
    contract_services.attestation_record(
        actor=leader, plan=world.plan, course_keys=[c.key for c in catalog.required_for_contracting]
    )
    ongoing = list(catalog.ongoing)
    if overdue and ongoing:
        ongoing = ongoing[:-1] if len(ongoing) > 1 else []
    for course in ongoing:  # completed again every `every_months`, so none is overdue
        on = world.anchor + timedelta(days=world.rng.randint(15, 45))
        while on < world.today:
            now.at = world.at(on, 13)
            contract_services.completion_record(
                actor=leader, person=leader, course_key=course.key, completed_on=on
            )
            made += 1
            if not course.every_months:
                break
            on = clock.add_months(on, course.every_months) - timedelta(days=world.rng.randint(5, 20))
    return made


# --- rule N6: the contract --------------------------------------------------------------------------------


def _rate(world: _World, code: ServiceCode) -> tuple[str, Decimal]:
    unit = code.billing_unit or BLANK_UNIT
    low, high = RATES.get(code.billing_unit, _BLANK_UNIT_RATE)
    rng = random.Random(f"network-rate-{world.seed}-{code.hcpcs}-{code.modifier}")
    return unit, Decimal(rng.randint(low * 4, high * 4)) / 4  # quarter-dollar steps


def _contract(world: _World, now: Any, org: Organization, day: date, start: date) -> tuple[Contract, int]:
    services, counties = world.scope(org)
    network = world.network()
    now.at = world.at(day, 10)
    contract = contract_services.contract_create(
        actor=network,
        organization=org,
        start_date=start,
        notes=f"Community Supports agreement with {org.name}.",
    )
    contract = contract_services.contract_rows_set(
        actor=network,
        contract=contract,
        pairs=[(s, c) for s in services for c in counties],
        expected_version=contract.version,
    )
    fees = 0
    for service in services:
        for code in world.codes[service.pk]:
            unit, rate = _rate(world, code)
            contract_services.fee_row_add(
                actor=network,
                contract=contract,
                data=contract_services.FeeInput(code=code.code, rate=rate, effective_from=start, unit=unit),
                expected_version=None,
            )
            fees += 1
    contract.refresh_from_db()
    now.at = world.at(day + timedelta(days=world.rng.randint(5, 15)), 15)
    contract = contract_services.contract_execute(
        actor=network, contract=contract, expected_version=contract.version
    )
    return contract, fees


# --- rule N9: listings ------------------------------------------------------------------------------------


def _listings(world: _World, now: Any, org: Organization, start: date, *, every: bool) -> int:
    services, _counties = world.scope(org)
    leader = world.leader(org)
    rng = world.rng
    made = 0
    for i, service in enumerate(services if every else services[:1]):
        now.at = world.at(start + timedelta(days=10 + i), 11)
        listing = directory_services.listing_claim(actor=leader, service_key=service.key)
        directory_services.listing_update(
            actor=leader,
            listing=listing,
            description=(
                f"{service.name} for Medi-Cal members of {world.plan.name}: we meet members where they are, "
                "help them through every step, and stay in touch with their care team."
            ),
            hours_text=rng.choice(
                ("By appointment; walk-ins welcome mornings.", "Call first; same-week intake.")
            ),
            weekly_hours=rng.choice(_HOURS),
            languages=list(rng.choice(_LANGUAGES)),
            intake_phone=org.phone,
            version=listing.version,
        )
        made += 1
    return made


# --- rule D3: capacity reports ----------------------------------------------------------------------------


def _capacity(world: _World, now: Any, org: Organization, start: date, *, late: Quarter | None) -> int:
    """One submitted report per quarter from the contract's first to the last ended one."""
    services, counties = world.scope(org)
    leader = world.leader(org)
    rng = world.rng
    made = 0
    q = quarter_of(start)
    while q.end < world.today:
        due = q.due_date
        created = q.end + timedelta(days=rng.randint(3, 12))
        submitted = due + timedelta(days=6) if q == late else due - timedelta(days=rng.randint(1, 12))
        submitted = max(submitted, created)
        if world.at(created) >= world.started - timedelta(hours=1):
            break
        lines = []
        for s in services:
            for c in counties:
                able = rng.randint(8, 60)
                serving = int(able * rng.uniform(0.45, 1.08))
                lines.append(capacity_services.CapacityInput(s.key, c.name, able, serving))
        coordinators = rng.randint(2, 8)
        data = capacity_services.ReportInput(
            current_caseload=sum(line.members_serving for line in lines),
            notes="",
            staff=[
                capacity_services.StaffInput(StaffRole.PROGRAM_DIRECTOR, 1, "1.00"),
                capacity_services.StaffInput(
                    StaffRole.CARE_COORDINATOR, coordinators, f"{coordinators - 0.5:.2f}"
                ),
                capacity_services.StaffInput(StaffRole.OUTREACH_WORKER, 2, "1.50"),
                capacity_services.StaffInput(StaffRole.ADMINISTRATIVE, 1, "0.80"),
            ],
            capacity=lines,
        )
        now.at = world.at(created, 10)
        report = capacity_services.capacity_report_create(actor=leader, plan=world.plan, quarter=q, data=data)
        now.at = world.at(submitted, 15)
        capacity_services.capacity_report_submit(actor=leader, report=report)
        made += 1
        q = q.next()
    return made


# --- the queue: prospects and a participation request -----------------------------------------------------


def _prospects(world: _World, now: Any) -> int:
    rng = world.rng
    counties = {c.name: c for c in County.objects.all()}
    keys = set(Service.objects.filter(active=True).values_list("key", flat=True))
    made = 0
    for i, ((name, *county_names), service_keys) in enumerate(
        zip(_PROSPECTS, _PROSPECT_SERVICES, strict=True)
    ):
        slug = base._ascii_slug(name)[:63]
        now.at = world.started - timedelta(days=[2.2, 5.4, 9.1, 18.3][i])
        form = network_services.interest_form_submit(
            plan=world.plan,
            data={
                "organization_name": name,
                "npi": npi_with_check_digit(str(rng.randrange(200_000_000, 210_000_000))),
                "tin": f"94{rng.randrange(10**7):07d}",
                "address_line": f"{rng.randrange(100, 9900)} Main St",
                "city": county_names[0],
                "zip_code": "95000",
                "website": f"https://{slug}.example.org",
                "contact_name": rng.choice(("Maria Lopez", "Kevin Tran", "Dana Whitfield", "Ramon Ortiz")),
                "contact_title": "Executive Director",
                "contact_email": f"director@{slug}.example.org",
                "contact_phone": f"5305550{rng.randrange(100, 200)}",
                "message": "We would like to offer these Community Supports to the plan's members.",
            },
            counties=[c for c in county_names if c in counties],
            service_keys=[k for k in service_keys if k in keys],
        )
        made += 1
        if i == len(_PROSPECTS) - 1:  # the oldest was looked at and not invited (rule N2: selected ones are)
            now.at = world.started - timedelta(days=15.8)
            network_services.interest_form_close(
                actor=world.network(),
                interest_form=form,
                reason="The plan's recovery housing network is full in these counties this year.",
            )
    return made


def _participation(world: _World, now: Any, org: Organization) -> None:
    services, counties = world.scope(org)
    served = {c.pk for c in counties}
    extra = [c for c in org.counties_served.order_by("name") if c.pk not in served]
    if not extra:
        extra = list(County.objects.exclude(pk__in=served).order_by("name")[:1])
    now.at = world.started - timedelta(days=4.3)
    network_services.participation_request_submit(
        actor=world.leader(org),
        plan=world.plan,
        program=Application.Program.CS,
        service_keys=[s.key for s in services[:1]],
        counties=[c.name for c in extra[:1]],
        note=f"We have opened an office in {extra[0].name} County and ask to add it to our contract.",
    )


# --- entry points -----------------------------------------------------------------------------------------


def seed_network(*, seed: int, stdout: TextIO | None = None) -> NetworkSeedResult:
    """The network of the first plan (see the module docstring). Call inside the seed's transaction, after
    the referral seed (it reads the provider intakes)."""
    result = NetworkSeedResult()
    started = time.perf_counter()
    if not Service.objects.filter(active=True).exists():
        result.notes.append("no provider network: the service catalog is not loaded")
        return result
    real_now = clock.now()
    world = _World(seed=seed, started=real_now)
    if world.plan is None or not world.providers:
        result.notes.append("no provider network: no plan or no CS provider")
        return result
    # The focus first, then the others by name; special outcomes come from the end of the name order.
    others = [o for o in world.providers if o != world.focus]
    special: dict[int, str] = {}
    if len(others) >= 3:
        for org, outcome in zip(
            reversed(others), ("decline", "gap_closure", "review", "review"), strict=False
        ):
            if outcome == "review" and len(others) < 10 and "review" in special.values():
                break
            special[org.pk] = outcome
    contracted = ([world.focus] if world.focus else []) + [o for o in others if o.pk not in special]
    if len(contracted) > MAX_CONTRACTED:
        result.notes.append(f"network: contracts for the first {MAX_CONTRACTED} CS providers only")
        contracted = contracted[:MAX_CONTRACTED]
    rng = world.rng
    with _travel(real_now) as now:
        for i, org in enumerate(contracted):
            is_focus = world.focus is not None and org.pk == world.focus.pk
            form_day = world.anchor - timedelta(days=rng.randint(150, 200))
            app = _apply(world, now, org, form_day)
            if app is None:
                continue
            _review(world, now, app, form_day + timedelta(days=rng.randint(40, 55)), "approve")
            result.certifications[Application.Status.APPROVED] += 1
            result.trainings += _train(
                world, now, org, world.anchor - timedelta(days=70), overdue=is_focus or i % 4 == 3
            )
            start = (
                world.anchor
                if is_focus or rng.random() < 0.7
                else world.quarter_back(QUARTERS_BACK - 1).start
            )
            _contract_row, fees = _contract(world, now, org, world.anchor - timedelta(days=40), start)
            result.contracts += 1
            result.fee_rows += fees
            if is_focus or i % 2 == 0:
                result.listings += _listings(world, now, org, start, every=is_focus)
            if is_focus:
                result.capacity_reports += _capacity(
                    world, now, org, start, late=world.quarter_back(QUARTERS_BACK - 1)
                )
            elif i != len(contracted) - 1:  # the last one never reported (the matrix shows it missing)
                result.capacity_reports += _capacity(world, now, org, start, late=None)
        for org in world.providers:
            outcome = special.get(org.pk)
            if outcome is None:
                continue
            age = {"decline": 90, "gap_closure": 60, "review": 30}[outcome] + rng.randint(0, 10)
            app = _apply(world, now, org, world.today - timedelta(days=age))
            if app is None:
                continue
            assert app.submitted_at is not None
            _review(world, now, app, clock.local(app.submitted_at).date() + timedelta(days=3), outcome)
            app.refresh_from_db(fields=["status"])
            result.certifications[app.status] += 1
        result.interest_forms = len(contracted) + len(special) + _prospects(world, now)
        if len(contracted) > 1:
            _participation(world, now, contracted[1])
    result.seconds = time.perf_counter() - started
    if stdout is not None:
        stdout.write(f"  network: {result.contracts} contracts in {result.seconds:.1f} s\n")
    return result


def reset_network(in_range: dict[str, Any]) -> Counter[str]:
    """What the network seed made: rows created by the seeder's users (seeded uuids) and the interest forms
    from *.example.org sent to seeded plans; files are removed once the deletion commits. Call before the
    seeder's users go (reset_authorizations)."""
    deleted: Counter[str] = Counter()
    by_seed = {"created_by__" + k: v for k, v in in_range.items()}
    seeded_orgs = Organization.objects.filter(website__endswith=".example.org", **in_range)
    forms = InterestForm.objects.filter(plan__in=seeded_orgs, website__endswith=".example.org")
    apps = Application.objects.filter(**by_seed)
    files = list(ApplicationAttachment.objects.filter(application__in=apps).values_list("file", flat=True))
    files += list(GapItemFile.objects.filter(item__application__in=apps).values_list("file", flat=True))
    completions = TrainingCompletion.objects.filter(**by_seed)
    files += list(completions.exclude(evidence="").values_list("evidence", flat=True))
    reports = CapacityReport.objects.filter(**by_seed)
    deleted.update(reports.filter(supersedes__isnull=False).delete()[1])
    deleted.update(reports.delete()[1])
    seeded_pairs = Q(provider__in=seeded_orgs) & Q(plan__in=seeded_orgs)
    deleted.update(CapacityNotice.objects.filter(seeded_pairs).delete()[1])
    deleted.update(ProgramListing.objects.filter(**by_seed).delete()[1])
    contracts = Contract.objects.filter(**by_seed)
    deleted.update(contracts.filter(supersedes__isnull=False).delete()[1])
    deleted.update(contracts.delete()[1])
    deleted.update(TrainingAttestation.objects.filter(**by_seed).delete()[1])
    deleted.update(completions.delete()[1])
    deleted.update(apps.delete()[1])
    deleted.update(forms.delete()[1])
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])
    return deleted
