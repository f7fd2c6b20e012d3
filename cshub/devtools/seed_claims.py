"""Synthetic claims for the demo (`cshub seed --claims N`), made THROUGH the claims services.

For the first plan by name (the demo's plan logins) and its contracted CS providers (seed_network.py), on the
product's one clock travelled into the past step by step as in seed_authorizations.py:

- **authorizations to bill against**: for each billing episode (a provider, one of its contracted services,
  a member of the plan living in a county the contract covers for it: a member not yet enrolled anywhere,
  else one the provider already serves under another service, else one the referral seed enrolled) the
  provider's care coordinator enrolls the member (rule A2) and requests an authorization, which the UM
  reviewer takes and approves (presumptive services are approved at once), all through
  `cshub.authorizations.services`. Their determination letters are plain one-page PDFs
  with the letter's facts instead of WeasyPrint renderings (as seed_referrals.py does for its R8 letters):
  the authorization seed already shows rendered letters, and a rendering takes seconds on a busy machine;
- **a clearinghouse** (a seeded "other" organization, *Zephyr Claims Clearinghouse*, named to sort last so
  no demo login lands there) drops 837P files (written with `write_837p`) in its SFTP inbox, taken by the
  claims inbox handler (`claim_file_ingest`, channel SFTP) with the 999 put back in its outbox. The first
  batch, about 15 weeks ago, is mostly paid, with partial payments (CO-45 above the rate, CO-198 over the
  authorized units), denials (CO-197 no authorization, CO-31 unknown member, CO-29 timely filing, CO-18
  duplicate) and lines pended because an amendment of one provider's contract left a code without a rate
  (the network team has not added it yet); the last batch, two days ago, has lines pended on an
  authorization request still in review, more lines waiting for that rate, a replacement (frequency 7)
  and a void (frequency 8) of earlier claims. One file a month ago is rejected (a malformed DMG segment),
  with its 999;
- the demo provider (the first CS provider by name) also uploads an 837P of its own, sends web invoices and
  a CSV of invoices (`invoices_upload`); the plan's claims processor enters a CMS-1500 from the mail and a
  faxed invoice with a generated scan (a small PDF), decides two pended lines by hand (one paid, one
  denied), and runs a payment about four weeks ago for the claims received through the first batch
  (`payment_run_create`: one EFT and one 835 per provider, in the providers' SFTP outboxes). Later claims
  are unpaid: received 38 to 75 business days ago, they are at risk or overdue against the 45-business-day
  deadline (rule C5).

The demo provider has claims in every status and outcome a claim keeps (RECEIVED lasts only until the
adjudication that follows at once). Its billing login is `provider.billing@demo.cshub.example` and the
plan's claims processor `claims.processor@demo.cshub.example` (`cshub demo` gives them their password).

Times are relative to the day the seed runs; every other choice comes from a `random.Random` seeded with the
seed. The seeder's users and the clearinghouse get seeded uuids. `reset_claims` removes the claims, files,
payments and runs of the seeded organizations and members, with their stored files and the 999 and 835
files placed in SFTP outboxes; the authorizations, enrollments and the contract amendment go with the
authorization, referral and network resets.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_CEILING, Decimal
from functools import cache
from pathlib import Path
from typing import Any, TextIO
from unittest import mock

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind, Role
from cshub.authorizations import letters as authorization_letters
from cshub.authorizations import services as authorization_services
from cshub.authorizations.models import Authorization, AuthorizationRequest, Determination
from cshub.catalog.models import Service, ServiceCode
from cshub.claims import services as claim_services
from cshub.claims.ingest import claim_file_ingest, inbox_handler
from cshub.claims.invoices import COLUMNS as CSV_COLUMNS
from cshub.claims.invoices import invoices_upload
from cshub.claims.models import (
    Claim,
    ClaimFile,
    ClaimSource,
    LineStatus,
    PaymentRun,
    ProviderPayment,
    ReceiptChannel,
)
from cshub.claims.payments import payment_run_create
from cshub.claims.x12.write837 import Batch837, BillingProvider837, ClaimOut837, LineOut837, write_837p
from cshub.contracts import services as contract_services
from cshub.contracts.models import Contract, ContractStatus, FeeScheduleRow
from cshub.core import clock, icd10
from cshub.core.errors import DomainError
from cshub.devtools import seed as base
from cshub.devtools.seed_authorizations import DIAGNOSES, _business_days_before, _travel
from cshub.devtools.seed_authorizations import _World as _AuthorizationWorld
from cshub.devtools.seed_network import NETWORK_EMAIL
from cshub.devtools.seed_referrals import minimal_pdf
from cshub.exchange.folders import outbox_dir, outbox_put
from cshub.members.models import CareRelationship, Consent, EligibilitySpan, Member
from cshub.referrals.models import Enrollment

DEFAULT_CLAIMS = 150  # the demo's (3,000 members); smaller seeds get one claim per 20 members
MAX_CLAIMS = 2000  # each billing episode is an authorization made through the services
PROCESSOR_EMAIL = "claims.processor@demo.cshub.example"  # the demo's claims processor login (cshub demo)
FOCUS_BILLING_EMAIL = "provider.billing@demo.cshub.example"  # the demo provider's billing login
CLEARINGHOUSE_NAME = "Zephyr Claims Clearinghouse"
CLEARINGHOUSE_ID = "ZEPHYRCH"  # ISA06 of its files

# Receipt days, in business days before the seeding day (the payment clock counts from them, rule C5).
BATCH_A_BD = 70  # clearinghouse 837P, paid in the run
DECIDE_BD = 66  # the processor decides two pended lines
BATCH_B_BD = 60  # the demo provider's own 837P upload
INVOICES_BD = (55, 42, 15, 3)  # web invoices
CSV_BD = 48
CMS1500_BD = 38
REJECTED_BD = 33
RUN_BD = 30  # the payment run (claims received through batch A): 40 business days after it
FAX_BD = 12
BATCH_C_DAYS = 2  # the last clearinghouse file, in calendar days before the seeding day
PENDING_REQUEST_DAYS = 5  # the authorization request still in review was received this many days ago
AMENDMENT_DAYS = 150  # an amendment drafted this many days ago, starting 15 days later, drops one rate
POOL_SINCE_DAYS = 330  # members eligible with the plan since at least this many days ago
OLDEST_SERVICE_DAYS = 60  # claims bill services that ended at most this many days before receipt
EPISODE_STARTS = (178, 168, 158, 148, 128)  # authorization starts, days before the seeding day

# How a billing unit is billed: days from one period to the next, days of service in a period, units.
_PERIODS: dict[str, tuple[int, int, int]] = {
    "per diem": (7, 7, 7),
    "per meal": (7, 7, 14),
    "15 minutes": (7, 1, 8),
    "per month": (28, 28, 1),
    "per visit": (7, 1, 1),
    "per session": (7, 1, 1),
    "per service": (0, 1, 1),  # one time
}
_UNIT_PREFERENCE = tuple(_PERIODS)
_PLACE_OF_SERVICE = {"recuperative_care": "13", "sobering_centers": "99", "day_habilitation": "99"}
_FEW_DAYS = frozenset({"respite_services", "housing_deposits"})  # a few days a year, or once
_CO45_SHARE = 0.15  # claims billed at the provider's usual charge, above the contracted rate
_FIRST_NAMES = ("Jordan", "Alex", "Sam", "Taylor", "Morgan", "Casey")
_LAST_NAMES = ("Ellis", "Moreno", "Quinn", "Baker", "Soto", "Hale")


@dataclass
class ClaimSeedResult:
    claims: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    files: int = 0
    rejected_files: int = 0
    payment_runs: int = 0
    payments: int = 0
    authorizations: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def default_claims(members: int) -> int:
    return min(DEFAULT_CLAIMS, max(10, members // 20))


# --- what is billed ---------------------------------------------------------------------------------------


@dataclass
class _Period:
    start: date
    end: date
    units: Decimal


@dataclass
class _Episode:
    """A member served by a provider under one code, with the authorization the periods are billed under."""

    org: Organization
    service: Service
    code: ServiceCode
    member: Member
    rate: Decimal
    periods: list[_Period]
    authorization: Authorization | None = None
    billed: int = 0  # periods billed so far (in order)
    doors: frozenset[str] | None = None  # only these doors bill it (None: any)
    special: str = ""  # "over": billed once, past its units; "pending": request still in review


@dataclass
class _LineSpec:
    code: ServiceCode
    start: date
    end: date
    units: Decimal
    charge: Decimal


@dataclass
class _ClaimSpec:
    org: Organization
    member: Member | None  # None: an ID nobody has (CO-31)
    member_id: str
    lines: list[_LineSpec]
    service: Service
    pcn: str = ""
    authorization_number: str = ""
    frequency: str = "1"
    original: str = ""
    fake_name: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class _Door:
    key: str
    received: datetime
    share: float  # of the claims asked for
    providers: str  # "focus", "others" or "all"


class _Seeder:
    def __init__(self, *, seed: int, count: int, started: datetime, result: ClaimSeedResult) -> None:
        self.seed = seed
        self.count = count
        self.started = started
        self.result = result
        self.today = clock.local(started).date()
        self.rng = random.Random(f"claims-{seed}")
        self.aw = _AuthorizationWorld(seed=seed, rng=self.rng, started=started)
        self.plan: Organization = self.aw.plan
        self.payer_id = next(iter(claim_services.payer_plans()), "95567")
        self.focus = Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("name").first()
        contracts = (
            Contract.objects.filter(plan=self.plan, status=ContractStatus.EXECUTED)
            .select_related("organization")
            .order_by("organization__name")
        )
        self.contracts = {c.organization_id: c for c in contracts}
        self.providers = [c.organization for c in self.contracts.values()]
        self.services = {s.pk: s for s in Service.objects.filter(active=True)}
        self.codes: dict[int, list[ServiceCode]] = defaultdict(list)
        for code in ServiceCode.objects.filter(active=True).order_by("hcpcs", "modifier"):
            self.codes[code.service_id].append(code)
        self.rates: dict[tuple[int, int], Decimal] = {
            (row.contract.organization_id, row.code_id): row.rate
            for row in FeeScheduleRow.objects.filter(contract__in=self.contracts.values()).select_related(
                "contract"
            )
        }
        self.scope: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        for contract in self.contracts.values():
            for row in contract.rows.all():
                self.scope[contract.organization_id][row.service_id].add(row.county_id)
        self.pool, self.enrolled_pool = self._member_pools()
        self.episodes: list[_Episode] = []
        self.served: dict[int, list[Member]] = defaultdict(list)  # members with an episode, by provider
        self.services_of: dict[tuple[int, int], set[int]] = defaultdict(set)  # (member, provider): services
        self.numbers: Counter[int] = Counter()
        self.billing_users: dict[int, User] = {}
        self.no_rate: tuple[Organization, Service, ServiceCode] | None = None
        self.claims_by_door: dict[str, list[Claim]] = {}
        self._icn = 1000 + self.rng.randrange(8000)
        self.refused = ""

    # --- people and members ---------------------------------------------------------------------------

    def _member_pools(self) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """Seeded members of the plan only, eligible for the whole claims period, by county of residence
        (the counties the contracts cover): those with no CS enrollment yet, and those enrolled by the
        referral seed (no authorization request), used when a small county runs out of the first."""
        counties = {c for services in self.scope.values() for ids in services.values() for c in ids}
        low, high = base.seeded_uuid_range(self.seed)
        spans = EligibilitySpan.objects.filter(
            member__uuid__gte=low, member__uuid__lt=high, member__county_id__in=counties
        ).exclude(member__authorization_requests__isnull=False)
        since = self.today - timedelta(days=POOL_SINCE_DAYS)
        good: set[int] = set()
        bad: set[int] = set()
        for member_id, plan_id, start, end in spans.values_list(
            "member_id", "plan_id", "start_date", "end_date"
        ):
            if plan_id != self.plan.pk:
                bad.add(member_id)
            elif start <= since and (end is None or end >= self.today):
                good.add(member_id)
        enrolled = set(
            Enrollment.objects.filter(member_id__in=good).values_list("member_id", flat=True).distinct()
        )
        fresh: dict[int, list[int]] = defaultdict(list)
        second: dict[int, list[int]] = defaultdict(list)
        rows = Member.objects.filter(pk__in=good - bad).order_by("pk").values_list("pk", "county_id")
        for pk, county_id in rows:
            (second if pk in enrolled else fresh)[county_id].append(pk)
        return fresh, second

    def member_for(self, org: Organization, service: Service) -> Member | None:
        """A member living where the provider's contract covers the service: a new one while there are,
        else one the provider already serves under another service (small counties run out)."""
        counties = self.scope[org.pk][service.pk]
        member = self._pop(self.pool, counties)
        if member is None:
            served = [
                m
                for m in self.served[org.pk]
                if m.county_id in counties and service.pk not in self.services_of[(m.pk, org.pk)]
            ]
            if served:
                member = served[int(self.rng.random() * len(served))]
                self.served[org.pk].remove(member)
            else:
                member = self._pop(self.enrolled_pool, counties)
        if member is None:
            return None
        self.served[org.pk].append(member)
        self.services_of[(member.pk, org.pk)].add(service.pk)
        return member

    def _pop(self, pool: dict[int, list[int]], counties: set[int]) -> Member | None:
        choices = [c for c in sorted(counties) if pool.get(c)]
        if not choices:
            return None
        pks = pool[self.rng.choice(choices)]
        return Member.objects.select_related("county").get(pk=pks.pop(int(self.rng.random() * len(pks))))

    def enroll(self, member: Member, service: Service, org: Organization, on: date) -> None:
        """Rule A2 as seed_authorizations.py records it (care team, release of information, enrollment),
        skipping what the member already has with the provider."""
        at = datetime.combine(on, dtime(17, 0), tzinfo=clock.PACIFIC)
        if not CareRelationship.objects.filter(
            member=member, organization=org, end_date__isnull=True
        ).exists():
            CareRelationship.objects.create(
                uuid=self.aw.uuids.uuid(),
                member=member,
                organization=org,
                reason=CareRelationship.Reason.REFERRAL_RECEIVED,
                start_date=on,
                created_at=at,
                updated_at=at,
            )
            Consent.objects.create(
                uuid=self.aw.uuids.uuid(),
                member=member,
                organization=org,
                scopes=[Consent.Scope.CS_SERVICES, Consent.Scope.HEALTH_INFORMATION],
                recipients=f"{org.name}\n{self.plan.name}",
                signed_on=on,
                expires_on=on + timedelta(days=365),
            )
        if not Enrollment.objects.filter(
            member=member, organization=org, service=service, ended_on=None
        ).exists():
            Enrollment.objects.create(
                uuid=self.aw.uuids.uuid(),
                member=member,
                organization=org,
                service=service,
                enrolled_on=on,
                enrolled_by=self.aw.coordinator(org),
            )

    def processor(self) -> User:
        return self.aw.user(self.plan, Role.CLAIMS_PROCESSOR, PROCESSOR_EMAIL, "Demo Claims processor")

    def billing(self, org: Organization) -> User:
        if org.pk not in self.billing_users:
            if org == self.focus:
                email, name = FOCUS_BILLING_EMAIL, "Demo Billing"
            else:
                email = f"provider.billing.{org.uuid.hex[-8:]}@seed.cshub.example"
                name = f"{self.rng.choice(_FIRST_NAMES)} {self.rng.choice(_LAST_NAMES)}"
            self.billing_users[org.pk] = self.aw.user(org, Role.PROVIDER_BILLING, email, name)
        return self.billing_users[org.pk]

    def at(self, day: date, hour: float) -> datetime:
        when = datetime.combine(day, dtime(0, 0), tzinfo=clock.PACIFIC) + timedelta(hours=hour)
        return min(when, self.started - timedelta(minutes=30))

    def bd(self, n: int) -> date:
        return _business_days_before(self.today, n)

    # --- authorizations -------------------------------------------------------------------------------

    def billable_codes(self, org: Organization, service: Service) -> list[ServiceCode]:
        return [
            c
            for c in self.codes.get(service.pk, [])
            if c.billing_unit in _PERIODS and (org.pk, c.pk) in self.rates
        ]

    def pick_code(self, org: Organization, service: Service) -> ServiceCode | None:
        codes = self.billable_codes(org, service)
        codes.sort(key=lambda c: _UNIT_PREFERENCE.index(c.billing_unit))
        return codes[0] if codes else None

    def episode(
        self,
        now: Any,
        org: Organization,
        service: Service,
        code: ServiceCode,
        *,
        start: date,
        special: str = "",
        doors: frozenset[str] | None = None,
    ) -> _Episode | None:
        """A member enrolled with the provider and, unless the service needs none, an authorization made
        through the services (approved, or left in review for `special="pending"`)."""
        member = self.member_for(org, service)
        if member is None:
            return None
        step, span, units = _PERIODS[code.billing_unit]
        one_time = step == 0 or service.initial_auth_unit == Service.LengthUnit.ONE_TIME
        if one_time:
            span, units = 1, 1
        rate = self.rates[(org.pk, code.pk)]
        if service.authorization == Service.Authorization.NOT_REQUIRED:
            periods = self._periods(start, start + timedelta(days=179), step, span, units, one_time)
            periods = [p for p in periods if p.end < self.today]
            return self._keep(_Episode(org, service, code, member, rate, periods, None, 0, doors, special))
        self.enroll(member, service, org, start - timedelta(days=14))
        latest = authorization_services.latest_end_date(service, "initial", start)
        longest = (latest - start).days + 1 if latest else 180
        request = None
        for days in (1,) if one_time else (min(longest, 180), 90, 28, 14):
            if days > longest:
                continue
            window = self._periods(start, start + timedelta(days=days - 1), step, span, units, one_time)
            if not window:
                continue
            requested = int(sum(p.units for p in window))
            if special == "over":  # the provider asked for a little less than it then billed
                requested = max(1, int(sum(p.units for p in window[:2])) - 3)
            end = start if one_time else window[-1].end
            request = self._request(now, org, service, code, member, start, end, requested)
            if request is not None:
                periods = [p for p in window if p.end < self.today]
                break
        if request is None:
            self.result.notes.append(
                f"claims: no authorization of {service.name} for {org.name}: {self.refused}"
            )
            return None
        if special != "pending" and request.status not in (
            Determination.Outcome.APPROVED,
            Determination.Outcome.PARTIALLY_APPROVED,
        ):
            reviewer = self.aw.reviewer()
            now.at = self.at(clock.local(request.received_at).date() + timedelta(days=1), 9.2)
            request = authorization_services.request_take(
                actor=reviewer, request=request, expected_version=request.version
            )
            now.at = self.at(clock.local(request.received_at).date() + timedelta(days=1), 14.5)
            authorization_services.request_decide(
                actor=reviewer,
                request=request,
                decision=authorization_services.DecisionInput(outcome=Determination.Outcome.APPROVED),
                expected_version=request.version,
            )
        elif special == "pending":
            now.at = self.at(clock.local(request.received_at).date() + timedelta(days=1), 9.5)
            authorization_services.request_take(
                actor=self.aw.reviewer(), request=request, expected_version=request.version
            )
        authorization = Authorization.objects.filter(request=request).first()
        self.result.authorizations += authorization is not None
        return self._keep(
            _Episode(org, service, code, member, rate, periods, authorization, 0, doors, special)
        )

    def _keep(self, episode: _Episode) -> _Episode:
        self.episodes.append(episode)
        return episode

    def _periods(
        self, start: date, last: date, step: int, span: int, units: int, one_time: bool
    ) -> list[_Period]:
        periods: list[_Period] = []
        day = start
        while day + timedelta(days=span - 1) <= last:
            periods.append(_Period(day, day + timedelta(days=span - 1), Decimal(units)))
            if one_time:
                break
            day += timedelta(days=step)
        return periods

    def _request(
        self,
        now: Any,
        org: Organization,
        service: Service,
        code: ServiceCode,
        member: Member,
        start: date,
        end: date,
        units: int,
    ) -> AuthorizationRequest | None:
        actor = self.aw.coordinator(org)
        received = self.at(start - timedelta(days=6 if start < self.today - timedelta(days=20) else 0), 10.5)
        now.at = received
        documents = [
            authorization_services.DocumentUpload(
                file=_pdf(
                    item[:50], [item, _member_line(member), f"Prepared by {actor.full_name}"], received
                ),
                checklist_item=item,
            )
            for item in authorization_services.required_documents(service, "initial")
        ] or [
            authorization_services.DocumentUpload(file=_pdf("Assessment", ["Assessment", org.name], received))
        ]
        try:
            return authorization_services.request_submit(
                actor=actor,
                channel="portal",
                data=authorization_services.RequestInput(
                    member=member,
                    service_key=service.key,
                    hcpcs=code.hcpcs,
                    modifier=code.modifier,
                    requesting_npi=org.npi,
                    servicing_npi=org.npi,
                    diagnosis_codes=_diagnoses(service.key),
                    units=units,
                    start_date=start,
                    end_date=end,
                    notes=f"{member.first_name} is enrolled with {org.name}; billing {code.code} "
                    f"{code.billing_unit}.",
                ),
                documents=documents,
            )
        except DomainError as exc:  # a catalog limit: the caller tries a shorter span
            self.refused = "; ".join(e.message for e in exc.errors) or str(exc)
            return None

    # --- the contract amendment that leaves a code without a rate ---------------------------------------

    def amend(self, now: Any) -> None:
        """One provider's contract is amended and a code's rate left out of the amendment: lines billing that
        code after the amendment starts pend until the network team adds the rate (rule C1)."""
        network = User.objects.filter(email=NETWORK_EMAIL).first()
        for org in self.providers:
            if org == self.focus or network is None:
                continue
            candidates = sorted(
                (self.services[i] for i in self.scope[org.pk] if i in self.services),
                key=lambda service: (service.key in _FEW_DAYS, service.sort_order),
            )
            for service in candidates:
                if service.authorization == Service.Authorization.NOT_REQUIRED:
                    continue
                if len(self.billable_codes(org, service)) < 2:
                    continue
                code = self.pick_code(org, service)
                contract = self.contracts[org.pk]
                starts = self.today - timedelta(days=AMENDMENT_DAYS - 15)
                if contract.start_date >= starts:
                    continue
                now.at = self.at(self.today - timedelta(days=AMENDMENT_DAYS), 11)
                draft = contract_services.contract_amend(
                    actor=network, contract=contract, start_date=starts, expected_version=contract.version
                )
                fee = draft.fees.get(code=code)
                draft = contract_services.fee_row_remove(
                    actor=network, contract=draft, fee_uuid=fee.uuid, expected_version=draft.version
                )
                now.at = self.at(self.today - timedelta(days=AMENDMENT_DAYS - 4), 15)
                draft.refresh_from_db()
                contract_services.contract_execute(
                    actor=network, contract=draft, expected_version=draft.version
                )
                self.no_rate = (org, service, code)
                return
        self.result.notes.append("claims: no contract to amend, so no line waits for a rate")

    # --- choosing what each door bills ------------------------------------------------------------------

    def take(self, episode: _Episode, received: date, lines: int) -> list[_Period]:
        taken: list[_Period] = []
        while episode.billed < len(episode.periods) and len(taken) < lines:
            period = episode.periods[episode.billed]
            if period.end > received - timedelta(days=2):
                break
            episode.billed += 1
            if (received - period.end).days <= OLDEST_SERVICE_DAYS:
                taken.append(period)
        return taken

    def spec(
        self, episode: _Episode, periods: list[_Period], *, overcharge: bool | None = None
    ) -> _ClaimSpec:
        over = self.rng.random() < _CO45_SHARE if overcharge is None else overcharge
        lines = []
        for p in periods:
            allowed = episode.rate * p.units
            charge = (
                (allowed * Decimal("1.2")).quantize(Decimal("1"), rounding=ROUND_CEILING) if over else allowed
            )
            lines.append(_LineSpec(episode.code, p.start, p.end, p.units, charge.quantize(Decimal("0.01"))))
        auth = episode.authorization
        return _ClaimSpec(
            org=episode.org,
            member=episode.member,
            member_id=episode.member.cin,
            lines=lines,
            service=episode.service,
            authorization_number=auth.number if auth is not None and self.rng.random() < 0.7 else "",
        )

    def fill(self, door: _Door, quota: int) -> list[_ClaimSpec]:
        received = clock.local(door.received).date()
        specs: list[_ClaimSpec] = []
        candidates = [
            e
            for e in self.episodes
            if not e.special
            and (e.doors is None or door.key in e.doors)
            and (door.providers == "all" or (door.providers == "focus") == (e.org == self.focus))
        ]
        self.rng.shuffle(candidates)
        while len(specs) < quota and candidates:
            progress = False
            for episode in list(candidates):
                if len(specs) >= quota:
                    break
                periods = self.take(episode, received, self.rng.choice((1, 1, 2, 2, 3)))
                if not periods:
                    if episode.billed >= len(episode.periods) or not self._billable_later(episode, received):
                        candidates.remove(episode)
                    continue
                specs.append(self.spec(episode, periods))
                progress = True
            if not progress:
                break
        return specs

    def _billable_later(self, episode: _Episode, received: date) -> bool:
        period = episode.periods[episode.billed]
        return period.end <= received - timedelta(days=2)

    def number(self, spec: _ClaimSpec, kind: str) -> str:
        self.numbers[spec.org.pk] += 1
        n = self.numbers[spec.org.pk]
        initials = "".join(w[0] for w in spec.org.name.split() if w[:1].isalpha())[:4].upper()
        if kind == "invoice":
            return f"INV-{initials}-{1000 + n}"
        return f"{initials}{self.today:%y}{n:05d}"

    # --- the doors ------------------------------------------------------------------------------------

    def clearinghouse(self) -> Organization:
        org = Organization.objects.filter(name=CLEARINGHOUSE_NAME, kind=OrganizationKind.OTHER).first()
        if org is None:
            org = Organization.objects.create(
                uuid=self.aw.uuids.uuid(),
                kind=OrganizationKind.OTHER,
                name=CLEARINGHOUSE_NAME,
                address_line="500 Capitol Mall, Suite 1200",
                city="Sacramento",
                zip_code="95814",
                phone="9165550199",
                email="edi@zephyrclaims.example.org",
                website="https://zephyrclaims.example.org",
            )
        return org

    def file_837(
        self,
        now: Any,
        specs: list[_ClaimSpec],
        *,
        received: datetime,
        name: str,
        channel: str,
        submitter: Organization,
        sender_id: str,
        sender_name: str,
        mangle: Callable[[bytes], bytes] | None = None,
    ) -> ClaimFile:
        by_org: dict[int, list[_ClaimSpec]] = defaultdict(list)
        for spec in specs:
            spec.pcn = spec.pcn or self.number(spec, "claim")
            by_org[spec.org.pk].append(spec)
        if not by_org:  # a seed too small to have authorized episodes left to bill in this file
            raise _NothingToBill(name)
        self._icn += 1 + self.rng.randrange(40)
        batch = Batch837(
            sender_id=sender_id,
            receiver_id=self.payer_id,
            interchange_control_number=self._icn,
            group_control_number=self._icn,
            created_at=clock.local(received - timedelta(minutes=17)).replace(tzinfo=None),
            usage="P",
            submitter_name=sender_name,
            submitter_contact_name="EDI Support",
            submitter_phone=submitter.phone or "9165550199",
            receiver_name=self.plan.name,
            billing_providers=[
                BillingProvider837(
                    npi=group[0].org.npi,
                    name=group[0].org.name,
                    tax_id=group[0].org.tin,
                    address_line=group[0].org.address_line or "1 Main St",
                    city=group[0].org.city or "Sacramento",
                    state="CA",
                    zip_code=group[0].org.zip_code or "95814",
                    claims=[self._claim_out(s) for s in group],
                )
                for group in by_org.values()
            ],
        )
        data = write_837p(batch).encode("ascii")
        if mangle is not None:
            data = mangle(data)
        now.at = received
        if channel == ReceiptChannel.SFTP:
            outcome = inbox_handler(submitter, name, data)
            for reply_name, reply in outcome.replies:
                outbox_put(submitter, reply_name, reply)
            claim_file = ClaimFile.objects.get(sha256=hashlib.sha256(data).hexdigest())
        else:
            claim_file = claim_file_ingest(
                actor=self.billing(submitter), data=data, name=name, channel=channel, submitter=submitter
            )
        self.result.files += 1
        self.result.rejected_files += claim_file.ack_code == ClaimFile.Ack.REJECTED
        return claim_file

    def _claim_out(self, spec: _ClaimSpec) -> ClaimOut837:
        member = spec.member
        if member is not None:
            first, last, dob = member.first_name, member.last_name, member.date_of_birth
            sex = member.sex if member.sex in ("F", "M") else "U"
            address = member.address_line or "General Delivery"
            city, zip_code = (
                member.city or spec.org.city or "Sacramento",
                member.zip_code or spec.org.zip_code,
            )
        else:
            first, last = spec.fake_name
            dob, sex, address, city, zip_code = date(1968, 4, 12), "U", "100 Main St", "Fresno", "93701"
        return ClaimOut837(
            patient_control_number=spec.pcn,
            member_id=spec.member_id,
            member_last_name=last,
            member_first_name=first,
            member_date_of_birth=dob,
            member_sex=sex,
            member_address_line=address,
            member_city=city,
            member_zip=zip_code or "95814",
            payer_id=self.payer_id,
            payer_name=self.plan.name,
            place_of_service=_PLACE_OF_SERVICE.get(spec.service.key, "12"),
            frequency_code=spec.frequency,
            original_reference=spec.original,
            diagnosis_codes=_diagnoses(spec.service.key),
            authorization_number=spec.authorization_number,
            lines=[
                LineOut837(
                    hcpcs=line.code.hcpcs,
                    modifiers=[line.code.modifier] if line.code.modifier else [],
                    charge=line.charge,
                    units=line.units,
                    service_from=line.start,
                    service_to=line.end,
                )
                for line in spec.lines
            ],
        )

    def claim_input(self, spec: _ClaimSpec, kind: str = "invoice") -> claim_services.ClaimInput:
        spec.pcn = spec.pcn or self.number(spec, kind)
        member = spec.member
        return claim_services.ClaimInput(
            billing_npi=spec.org.npi,
            billing_name=spec.org.name,
            billing_tax_id=spec.org.tin,
            member_id=spec.member_id,
            member_name=f"{member.first_name} {member.last_name}" if member else " ".join(spec.fake_name),
            member_date_of_birth=member.date_of_birth if member else None,
            patient_control_number=spec.pcn,
            diagnosis_codes=_diagnoses(spec.service.key),
            place_of_service=_PLACE_OF_SERVICE.get(spec.service.key, "12"),
            authorization_number=spec.authorization_number,
            lines=[
                claim_services.LineInput(
                    hcpcs=line.code.hcpcs,
                    modifiers=[line.code.modifier] if line.code.modifier else [],
                    service_from=line.start,
                    service_to=line.end,
                    units=line.units,
                    charge=line.charge,
                )
                for line in spec.lines
            ],
        )

    def web_invoices(self, now: Any, specs: list[_ClaimSpec], received: datetime) -> list[Claim]:
        claims: list[Claim] = []
        for i, spec in enumerate(specs):
            now.at = min(received + timedelta(minutes=23 * i), self.started - timedelta(minutes=20))
            claims += claim_services.claims_receive(
                actor=self.billing(spec.org),
                inputs=[self.claim_input(spec)],
                source=ClaimSource.INVOICE_WEB,
                channel=ReceiptChannel.WEB,
                submitter=spec.org,
            ).claims
        return claims

    def csv_upload(self, now: Any, specs: list[_ClaimSpec], received: datetime) -> list[Claim]:
        if not specs:
            return []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        spans = {
            s.member.pk: s
            for s in EligibilitySpan.objects.filter(plan=self.plan, member__in=[x.member for x in specs])
        }
        for i, spec in enumerate(specs):
            ci = self.claim_input(spec)
            # some offices key the plan's member ID rather than the CIN
            member_id = (
                spans[spec.member.pk].plan_member_id
                if i % 3 == 2 and spec.member.pk in spans
                else ci.member_id
            )
            for line in ci.lines:
                writer.writerow(
                    [
                        ci.patient_control_number,
                        member_id,
                        ";".join(ci.diagnosis_codes),
                        line.hcpcs,
                        " ".join(line.modifiers),
                        f"{line.service_from:%m/%d/%Y}",
                        f"{line.service_to:%m/%d/%Y}",
                        f"{line.units.normalize():f}",
                        f"${line.charge:,.2f}",
                        ci.authorization_number,
                        ci.place_of_service,
                        "",
                    ]
                )
        now.at = received
        org = specs[0].org
        return invoices_upload(
            actor=self.billing(org), data=out.getvalue().encode(), name=f"invoices-{received:%Y-%m-%d}.csv"
        ).claims

    def paper(
        self, now: Any, spec: _ClaimSpec, *, entered: datetime, stamped: date, fax: bool
    ) -> list[Claim]:
        """A CMS-1500 from the mail or an invoice by fax, keyed by the claims processor with the scan."""
        ci = self.claim_input(spec, "claim" if not fax else "invoice")
        member = spec.member
        total = sum((line.charge for line in ci.lines), Decimal(0))
        if fax:
            title = f"Fax from {spec.org.name}"
            lines = [
                f"FAX  {spec.org.phone}  {stamped:%m/%d/%Y}  page 1 of 1",
                f"INVOICE {ci.patient_control_number}",
                f"{spec.org.name}, {spec.org.address_line}, {spec.org.city} CA  NPI {spec.org.npi}",
                f"Bill to: {self.plan.name}",
                f"Member: {member.first_name} {member.last_name}  CIN {member.cin}",
            ]
        else:
            title = "CMS-1500 claim form"
            lines = [
                "HEALTH INSURANCE CLAIM FORM  (NUCC 1500, 02/12)",
                f"1a INSURED'S ID: {member.cin}   2 PATIENT: {member.last_name}, {member.first_name}",
                f"21 DIAGNOSIS: {'  '.join(ci.diagnosis_codes)}   26 ACCOUNT NO: {ci.patient_control_number}",
            ]
        lines += [
            f"{line.service_from:%m/%d/%y}-{line.service_to:%m/%d/%y}  {line.hcpcs} "
            f"{' '.join(line.modifiers)}  {line.units.normalize():f} units  ${line.charge:,.2f}"
            for line in ci.lines
        ]
        lines += [f"TOTAL ${total:,.2f}", f"33 BILLING PROVIDER: {spec.org.name}  NPI {spec.org.npi}"]
        lines.append(f"RECEIVED {self.plan.name.upper()} {stamped:%m/%d/%Y}")
        image = _pdf(
            f"{'fax' if fax else 'cms1500'} {ci.patient_control_number}", lines, entered, title=title
        )
        now.at = entered
        return claim_services.claims_receive(
            actor=self.processor(),
            inputs=[ci],
            source=ClaimSource.INVOICE_PAPER if fax else ClaimSource.CMS1500,
            channel=ReceiptChannel.FAX if fax else ReceiptChannel.MAIL,
            received_at=self.at(stamped, 9.0),
            image=image,
            notes=("Faxed invoice" if fax else "Paper CMS-1500 from the mail")
            + f", received {stamped:%m/%d/%Y}; keyed from the scan.",
        ).claims


@cache
def _diagnoses(service_key: str) -> list[str]:
    """Two billable ICD-10-CM codes for the service (the authorization seed's list, checked against the
    code set loaded: a category such as G35 became non-billable when it gained subcodes)."""
    found = []
    for code in DIAGNOSES.get(service_key, []):
        try:
            icd10.diagnosis_code_check(code, field="diagnosis_codes", error_code="invalid")
        except DomainError:
            continue
        found.append(code)
    return found[:2] or ["Z59.01"]


def _member_line(member: Member) -> str:
    return f"Member: {member.first_name} {member.last_name}  DOB {member.date_of_birth:%m/%d/%Y}"


def _pdf(name: str, lines: list[str], when: datetime, *, title: str = "") -> SimpleUploadedFile:
    filename = name.lower().replace(" ", "-").replace("/", "-")[:60] + ".pdf"
    return SimpleUploadedFile(
        filename, minimal_pdf(lines, title=title or name, when=when), content_type="application/pdf"
    )


def _plain_letter(*, template_name: str, context: dict, language: str = "en") -> bytes:
    """The facts of a determination letter on one plain page (see the module docstring)."""
    request = context.get("request")
    determination = context.get("determination")
    authorization = context.get("authorization")
    lines = [
        str(getattr(context.get("plan"), "name", "")),
        f"{context.get('letter_date'):%m/%d/%Y}",
        f"To: {context.get('recipient_name', '')}",
        f"Authorization request {getattr(request, 'number', '')}: "
        f"{determination.get_outcome_display() if determination else ''}",
    ]
    if authorization is not None:
        lines.append(
            f"{authorization.number}: {authorization.units} units of {authorization.code.code}, "
            f"{authorization.start_date:%m/%d/%Y} to {authorization.end_date:%m/%d/%Y}"
        )
    return minimal_pdf(lines, title="Authorization determination", when=clock.now())


@contextmanager
def _plain_letters() -> Iterator[None]:
    with mock.patch.object(authorization_letters, "render_letter_pdf", _plain_letter):
        yield


# --- the story --------------------------------------------------------------------------------------------


def _plan_episodes(s: _Seeder, now: Any) -> None:
    """About one billing episode for every five claims, a third of them at the demo provider; one that
    bills the code the amendment left without a rate; one that runs past its authorized units (CO-198)."""
    today, focus = s.today, s.focus
    wanted = max(6, round(s.count / 5))
    others = [p for p in s.providers if p != focus]
    pairs: list[tuple[Organization, Service]] = []
    reserved: tuple[Organization, Service] | None = None
    if focus in s.providers:
        services = [s.services[i] for i in sorted(s.scope[focus.pk]) if i in s.services]
        kept = _routine_required(s, focus)
        if len(kept) > 1 and len(services) > 1:  # left for the request still in review (_pending_claims)
            reserved = (focus, kept[0])
            services.remove(kept[0])
        pairs += [(focus, services[i % len(services)]) for i in range(max(3, wanted // 3))]
    turn = 0
    while len(pairs) < wanted and others:
        org = others[turn % len(others)]
        services = [s.services[i] for i in sorted(s.scope[org.pk]) if i in s.services]
        pairs.append((org, services[(turn // len(others)) % len(services)]))
        turn += 1
    planned: list[tuple[date, Organization, Service, ServiceCode, str, frozenset[str] | None]] = []
    for i, (org, service) in enumerate(pairs):
        code = s.pick_code(org, service)
        if code is not None and not (s.no_rate and (org, service) == s.no_rate[:2]):
            start = today - timedelta(days=EPISODE_STARTS[i % len(EPISODE_STARTS)])
            planned.append((start, org, service, code, "", None))
    if s.no_rate is not None:  # two members whose lines wait for the rate the amendment left out
        org, service, code = s.no_rate
        for days in (AMENDMENT_DAYS - 18, AMENDMENT_DAYS - 25):
            planned.append(
                (today - timedelta(days=days), org, service, code, "", frozenset({"batch_a", "batch_c"}))
            )
    for start, org, service, code, special, doors in sorted(planned, key=lambda p: (p[0], p[1].name)):
        s.episode(now, org, service, code, start=start, special=special, doors=doors)
    for org in [focus, *others] if focus in s.providers else others:  # the demo provider's if it can
        for service_id in sorted(s.scope[org.pk]):
            service = s.services.get(service_id)
            code = s.pick_code(org, service) if service else None
            if not code or _PERIODS[code.billing_unit][2] < 4 or service.authorization == "not_required":
                continue
            if (org, service) == reserved:
                continue
            if s.episode(now, org, service, code, start=today - timedelta(days=170), special="over"):
                return


def _first_batch_extras(s: _Seeder, batch: list[_ClaimSpec], day: date) -> list[_ClaimSpec]:
    """The denials and partial payments of every kind, added to the first clearinghouse batch."""
    rng, focus = s.rng, s.focus
    others = [p for p in s.providers if p != focus]
    extras: list[_ClaimSpec] = []
    at_focus = [x for x in batch if x.org == focus]
    if at_focus:  # CO-45 (billed at the usual charge), and CO-18: that line again under another number
        first = at_focus[0]
        for line in first.lines:
            line.charge = (line.charge * Decimal("1.2")).quantize(Decimal("1"), rounding=ROUND_CEILING)
        extras.append(_ClaimSpec(first.org, first.member, first.member_id, first.lines[:1], first.service))
    episodes = [e for e in s.episodes if not e.special and e.authorization and e.periods]
    for episode in [e for e in episodes if e.org == focus][:1]:  # CO-29: a service of seven months ago
        old = day - timedelta(days=190 + rng.randrange(20))
        _step, span, units = _PERIODS[episode.code.billing_unit]
        extras.append(
            s.spec(episode, [_Period(old, old + timedelta(days=span - 1), Decimal(units))], overcharge=False)
        )
    made = 0
    for org in [focus, *others]:  # CO-197: a member with no authorization for the service (two of them)
        target = next((e for e in episodes if e.org == org), None)
        member = s.member_for(org, target.service) if target else None
        if target and member:
            p = target.periods[0]
            lines = [_LineSpec(target.code, p.start, p.end, p.units, target.rate * p.units)]
            extras.append(_ClaimSpec(org, member, member.cin, lines, target.service))
            made += 1
        if made == 2:
            break
    extras += _waiting_for_rate(s, batch, day, 3)
    target = next((e for e in episodes if e.org != focus), None)
    if target is not None:  # CO-31: a member ID nobody has
        p = target.periods[0]
        fake = f"{96_000_000 + rng.randrange(1_000_000)}{rng.choice('ABCDEFGHJK')}"
        name = (rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES))
        lines = [_LineSpec(target.code, p.start, p.end, p.units, target.rate * p.units)]
        extras.append(_ClaimSpec(target.org, None, fake, lines, target.service, fake_name=name))
    over = next((e for e in s.episodes if e.special == "over"), None)
    if over is not None and len(over.periods) >= 2:  # CO-198: two periods, three units more than authorized
        over.billed = 2
        extras.append(s.spec(over, over.periods[:2], overcharge=False))
    return extras


def _waiting_for_rate(s: _Seeder, batch: list[_ClaimSpec], day: date, wanted: int) -> list[_ClaimSpec]:
    """Claims for the code the amendment left without a rate, so that `batch` has `wanted` of them."""
    if s.no_rate is None:
        return []
    org, _service, code = s.no_rate
    have = sum(1 for x in batch if x.org == org and x.lines[0].code == code)
    specs = []
    for episode in [e for e in s.episodes if e.org == org and e.code == code] * wanted:
        if have + len(specs) >= wanted:
            break
        periods = s.take(episode, day, 1)
        if periods:
            specs.append(s.spec(episode, periods))
    return specs


def _decide_waiting(s: _Seeder, now: Any, claims: list[Claim]) -> None:
    """The claims processor decides the lines of two claims waiting for a rate: one paid, one denied."""
    processor = s.processor()
    waiting = [
        c for c in claims if c.status == "pended" and all(li.reason_key == "no_rate" for li in c.lines.all())
    ]
    now.at = s.at(s.bd(DECIDE_BD), 10.5)
    for claim, action in zip(waiting, ("pay", "deny"), strict=False):
        for line in claim.lines.filter(status=LineStatus.PENDED).order_by("number"):
            claim.refresh_from_db()
            if action == "pay":
                amount = (line.charge * Decimal("0.9")).quantize(Decimal("0.01"))
                note = "Paid at the rate of the contract before the amendment until the new rate is entered."
            else:
                amount, note = (
                    None,
                    "The member was in the hospital on these dates; the service was not given.",
                )
            claim_services.claim_line_decide(
                actor=processor,
                claim=claim,
                line_number=line.number,
                action=action,
                amount=amount,
                note=note,
                version=claim.version,
            )
        now.at += timedelta(minutes=14)


def _routine_required(s: _Seeder, org: Organization) -> list[Service]:
    """The provider's contracted services that need a prior authorization, routine ones first."""
    return [
        service
        for service in sorted(
            (s.services[i] for i in s.scope[org.pk] if i in s.services),
            key=lambda service: (service.urgent_by_default, service.sort_order),
        )
        if service.authorization == Service.Authorization.REQUIRED and s.pick_code(org, service)
    ]


def _pending_claims(s: _Seeder, now: Any) -> list[_ClaimSpec]:
    """Requests received a few days ago and still in review (the demo provider's and one other's), and the
    claims already sent for their first days of service: they pend until the reviewer decides."""
    today = s.today
    day = today - timedelta(days=PENDING_REQUEST_DAYS)
    specs = []
    for org in [s.focus, *[p for p in s.providers if p != s.focus][:1]]:
        if org not in s.providers:
            continue
        for service in _routine_required(s, org):
            code = s.pick_code(org, service)
            episode = s.episode(now, org, service, code, start=day, special="pending")
            if episode is None:
                continue
            _step, span, units = _PERIODS[code.billing_unit]
            last = min(day + timedelta(days=span - 1), today - timedelta(days=BATCH_C_DAYS + 1))
            days = (last - day).days + 1
            billed = Decimal(max(1, round(units * days / span)) if span > 1 else units)
            specs.append(s.spec(episode, [_Period(day, last, billed)], overcharge=False))
            break
    return specs


def _corrections(s: _Seeder) -> list[_ClaimSpec]:
    """A replacement (frequency 7, the charge corrected down to the rate) and a void (8) of two claims the
    demo provider uploaded itself and that are not paid yet."""
    uploaded = (
        Claim.objects.filter(
            billing_organization=s.focus,
            claim_file__channel=ReceiptChannel.UPLOAD,
            outcome__in=("paid", "partially_paid"),
        )
        .select_related("member")
        .order_by("-total_charge", "pk")
    )
    specs = []
    for claim, frequency in zip(uploaded, ("7", "8"), strict=False):
        lines = list(claim.lines.select_related("code", "service").order_by("number"))
        specs.append(
            _ClaimSpec(
                s.focus,
                claim.member,
                claim.member_id_billed,
                [
                    _LineSpec(
                        line.code,
                        line.service_from,
                        line.service_to,
                        line.units,
                        min(line.charge, ((line.rate or line.charge) * line.units).quantize(Decimal("0.01"))),
                    )
                    for line in lines
                ],
                lines[0].service,
                pcn=f"{claim.patient_control_number}{'C' if frequency == '7' else 'V'}",
                frequency=frequency,
                original=claim.number,
            )
        )
    return specs


def _run(s: _Seeder, now: Any) -> None:
    today, focus, rng = s.today, s.focus, s.rng
    s.processor()
    if focus is not None:
        s.billing(focus)
    s.amend(now)
    _plan_episodes(s, now)

    n = s.count
    doors = sorted(
        [
            _Door("batch_a", s.at(s.bd(BATCH_A_BD), 6.5), 0.38, "all"),
            _Door("batch_b", s.at(s.bd(BATCH_B_BD), 15.2), 0.10, "focus"),
            _Door("invoices_0", s.at(s.bd(INVOICES_BD[0]), 10.0), 0.05, "others"),
            _Door("csv", s.at(s.bd(CSV_BD), 11.4), 0.07, "focus"),
            _Door("invoices_1", s.at(s.bd(INVOICES_BD[1]), 13.0), 0.03, "focus"),
            _Door("cms1500_focus", s.at(s.bd(CMS1500_BD), 10.0), 0.0, "focus"),
            _Door("cms1500", s.at(s.bd(CMS1500_BD), 11.0), 0.0, "others"),
            _Door("rejected", s.at(s.bd(REJECTED_BD), 7.1), 0.0, "others"),
            _Door("invoices_2", s.at(s.bd(INVOICES_BD[2]), 9.5), 0.06, "all"),
            _Door("fax", s.at(s.bd(FAX_BD), 14.5), 0.0, "others"),
            _Door("invoices_3", s.at(s.bd(INVOICES_BD[3]), 14.0), 0.05, "all"),
            _Door("batch_c", s.at(today - timedelta(days=BATCH_C_DAYS), 6.4), 0.16, "all"),
        ],
        key=lambda d: d.received,
    )
    specs: dict[str, list[_ClaimSpec]] = {}
    for door in doors:  # in date order: each bills the periods its providers have done by then
        quota = max(1, round(door.share * n)) if door.share else (2 if door.key == "rejected" else 1)
        specs[door.key] = s.fill(door, quota)
        if door.key == "rejected" and specs[door.key]:  # one provider's file: one transaction set
            org = specs[door.key][0].org
            for spec in [x for x in specs[door.key] if x.org != org]:
                _unbill(s, spec)
            specs[door.key] = [x for x in specs[door.key] if x.org == org]
    when = {d.key: d.received for d in doors}

    clearinghouse = s.clearinghouse()
    sftp = {
        "channel": ReceiptChannel.SFTP,
        "submitter": clearinghouse,
        "sender_id": CLEARINGHOUSE_ID,
        "sender_name": CLEARINGHOUSE_NAME,
    }
    a_day = clock.local(when["batch_a"]).date()
    batch_a = specs["batch_a"] + _first_batch_extras(s, specs["batch_a"], a_day)
    rng.shuffle(batch_a)
    file_a = s.file_837(now, batch_a, received=when["batch_a"], name=f"ZCH{a_day:%Y%m%d}01.837", **sftp)
    _decide_waiting(s, now, list(Claim.objects.filter(claim_file=file_a).order_by("pk")))

    run_day = s.bd(RUN_BD)
    paid_run = False
    for door in doors[1:]:
        if not paid_run and door.received > s.at(run_day, 16.0):
            _payment_run(s, now, run_day, a_day)
            paid_run = True
        day = clock.local(door.received).date()
        batch = specs[door.key]
        if door.key == "batch_b" and batch:
            s.file_837(
                now,
                batch,
                received=door.received,
                name=f"claims_{day:%Y%m%d}.837",
                channel=ReceiptChannel.UPLOAD,
                submitter=focus,
                sender_id=focus.npi,
                sender_name=focus.name,
            )
        elif door.key.startswith("invoices"):
            s.web_invoices(now, batch, door.received)
        elif door.key == "csv":
            s.csv_upload(now, batch, door.received)
        elif door.key.startswith("cms1500"):
            for spec in batch:
                s.paper(now, spec, entered=door.received, stamped=day - timedelta(days=1), fax=False)
        elif door.key == "fax":
            for spec in batch:
                s.paper(now, spec, entered=door.received, stamped=day, fax=True)
        elif door.key == "rejected" and batch:  # a date of birth with month 13: the file is rejected
            s.file_837(
                now, batch, received=door.received, name=f"ZCH{day:%Y%m%d}01.837", mangle=_bad_dob, **sftp
            )
            for spec in batch:  # not received: the periods are billed again later
                _unbill(s, spec)
        elif door.key == "batch_c":
            batch = batch + _pending_claims(s, now) + _corrections(s) + _waiting_for_rate(s, batch, day, 1)
            rng.shuffle(batch)
            s.file_837(now, batch, received=door.received, name=f"ZCH{day:%Y%m%d}01.837", **sftp)
    if not paid_run:
        _payment_run(s, now, run_day, a_day)


def _unbill(s: _Seeder, spec: _ClaimSpec) -> None:
    """Give a claim's periods back to its episode (a claim that was not received after all)."""
    episode = next(e for e in s.episodes if e.member == spec.member and e.org == spec.org)
    first = episode.periods.index(next(p for p in episode.periods if p.start == spec.lines[0].start))
    episode.billed = min(episode.billed, first)


def _payment_run(s: _Seeder, now: Any, run_day: date, through: date) -> None:
    """The payment run of some weeks ago: the claims received through the first batch (rule C5)."""
    now.at = s.at(run_day, 16.0)
    changed = []
    if not (s.plan.tin and len(s.plan.tin) == 9):  # the 835 names the payer by its tax ID
        s.plan.tin = f"94{s.rng.randrange(10**7):07d}"
        changed.append("tin")
    if not (s.plan.phone or s.plan.email):
        s.plan.phone = "9165550100"
        changed.append("phone")
    if changed:
        s.plan.save(update_fields=changed)
    try:
        payment_run_create(actor=s.processor(), plan=s.plan, payment_date=run_day, received_through=through)
    except DomainError as exc:
        s.result.notes.append(f"claims: no payment run ({exc})")


def _bad_dob(data: bytes) -> bytes:
    start = data.index(b"DMG*D8*") + len(b"DMG*D8*")
    return data[: start + 4] + b"13" + data[start + 6 :]


# --- entry points -----------------------------------------------------------------------------------------


class _NothingToBill(Exception):
    """A file of the story has no claims at this seed size; the claims made so far stay."""


def seed_claims(*, seed: int, count: int, stdout: TextIO | None = None) -> ClaimSeedResult:
    """About `count` claims (at most MAX_CLAIMS) following the story of the module docstring. Call inside the
    seed's transaction, after the network (it bills the executed contracts)."""
    result = ClaimSeedResult()
    started = time.perf_counter()
    if count <= 0:
        return result
    if count > MAX_CLAIMS:
        result.notes.append(
            f"claims capped at {MAX_CLAIMS} (each episode is an authorization made through the services)"
        )
        count = MAX_CLAIMS
    if not Service.objects.filter(active=True).exists():
        result.notes.append("no claims: the service catalog is not loaded")
        return result
    real_now = clock.now()
    seeder = _Seeder(seed=seed, count=count, started=real_now, result=result)
    if seeder.plan is None or not seeder.providers:
        result.notes.append("no claims: no executed contract with the first plan (seed the network)")
        return result
    try:
        with _travel(real_now) as now, _plain_letters():
            _run(seeder, now)
    except _NothingToBill as stop:
        result.notes.append(
            f"claims stopped at {stop}: too few authorized episodes to bill (seed more members)"
        )
    claims = Claim.objects.filter(plan=seeder.plan)
    result.claims = claims.count()
    result.by_status = Counter(claims.values_list("status", flat=True))
    result.by_outcome = Counter(o or "none" for o in claims.values_list("outcome", flat=True))
    result.payment_runs = PaymentRun.objects.filter(plan=seeder.plan).count()
    result.payments = ProviderPayment.objects.filter(plan=seeder.plan).count()
    result.seconds = time.perf_counter() - started
    if stdout is not None:
        stdout.write(f"  claims: {result.claims} claims in {result.seconds:.1f} s\n")
    return result


def reset_claims(in_range: dict[str, Any]) -> Counter[str]:
    """The claims, 837P files, payments and runs of the seeded organizations and members, with their stored
    files and the 999 and 835 files put in SFTP outboxes (removed once the deletion commits). Call first:
    claims protect the members, authorizations and organizations they name."""
    deleted: Counter[str] = Counter()
    orgs = Organization.objects.filter(website__endswith=".example.org", **in_range)
    members = Member.objects.filter(**in_range)
    claims = Claim.objects.filter(Q(plan__in=orgs) | Q(billing_organization__in=orgs) | Q(member__in=members))
    files = list(claims.exclude(image="").values_list("image", flat=True))
    claim_files = ClaimFile.objects.filter(
        Q(submitter_organization__in=orgs) | Q(claims__in=claims)
    ).distinct()
    outbox: list[Path] = []
    for cf in claim_files.select_related("submitter_organization"):
        files += [name for name in (cf.original.name, cf.ack_999.name) if name]
        if cf.channel == ReceiptChannel.SFTP and cf.submitter_organization is not None:
            outbox.append(outbox_dir(cf.submitter_organization) / f"{cf.original_name.rsplit('.', 1)[0]}.999")
    payments = ProviderPayment.objects.filter(Q(plan__in=orgs) | Q(organization__in=orgs))
    for name, path in payments.values_list("remittance_835", "outbox_path"):
        files.append(name)
        if path:
            outbox.append(Path(path))
    claim_file_ids = list(claim_files.values_list("pk", flat=True))
    deleted.update(claims.delete()[1])
    deleted.update(payments.delete()[1])
    deleted.update(PaymentRun.objects.filter(plan__in=orgs).delete()[1])
    deleted.update(ClaimFile.objects.filter(pk__in=claim_file_ids).delete()[1])

    def remove() -> None:
        for name in files:
            if name:
                default_storage.delete(name)
        for path in outbox:
            path.unlink(missing_ok=True)

    transaction.on_commit(remove)
    return deleted
