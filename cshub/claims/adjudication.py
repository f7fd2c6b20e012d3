"""Line-by-line adjudication (rules C1, C2, C5; issue 7 item 3).

`Adjudicator(plan, claims)` reads, in a handful of set-based queries, everything the lines of a batch of
claims are checked against: the members' eligibility spans, the providers' contracts and fee schedules,
the catalog codes, the members' authorizations and open requests, the units already paid against those
authorizations and the lines already billed (duplicates). `decide(line)` is then pure: it runs the edits
of cshub/data/claim_edits.toml in order and returns a `Decision` with the amounts, the CARC/RARC
adjustments and the explanation in plain words. Units paid against an authorization are drawn down as the
batch is decided, so two lines of one file cannot both spend the last units.

The edits, in order (the first that fails decides the line):
1. member known (CO-31), enrolled with the plan on the first date of service (CO-26/27, N30);
2. billing provider known (CO-B7); HCPCS + modifier a Community Supports code (CO-4/181, N56);
3. provider contracted for that service in the member's county on that date (CO-B7);
4. received within CSHUB_CLAIMS_TIMELY_FILING_DAYS of the last date of service (CO-29, rule C2);
5. not a duplicate of a line already billed and not denied (CO-18);
6. an authorization of the member, service and provider covering the dates, with units left (CO-197,
   CO-15/M62, CO-198/N54; pended while a request for it is under review); services the catalog marks
   "no authorization required" skip this, presumptive services need their (at once) authorization;
7. priced from the contract's fee schedule on the first date of service: the lower of billed and allowed
   (CO-45); pended when the contract has no rate for the code that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum

from cshub.accounts.models import Organization
from cshub.authorizations.models import OPEN_STATUSES, Authorization, AuthorizationRequest
from cshub.catalog.models import Service, ServiceCode
from cshub.claims.edits import edit
from cshub.claims.models import ZERO, Claim, ClaimLine, LineStatus
from cshub.contracts.selectors import contract_in_force, contracted_rows_for, fee_row_applies, fee_rows_for
from cshub.members.models import EligibilitySpan

CENT = Decimal("0.01")
# Lines that spend an authorization's units or block a repeat of themselves.
SPENDING_STATUSES = (LineStatus.PAID,)
DUPLICATE_BLOCKING = (LineStatus.PAID, LineStatus.PENDED, LineStatus.RECEIVED)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def usd(value: Decimal) -> str:
    return f"${money(value):,.2f}"


@dataclass
class Adjustment:
    group_code: str
    reason_code: str
    remark_code: str
    amount: Decimal
    units: Decimal | None = None


@dataclass
class Decision:
    status: str  # LineStatus
    reason_key: str
    explanation: str
    allowed: Decimal = ZERO
    paid: Decimal = ZERO
    rate: Decimal | None = None
    units_drawn: Decimal = ZERO
    authorization: Authorization | None = None
    code: ServiceCode | None = None
    adjustments: list[Adjustment] = field(default_factory=list)


def _fmt_date(d: date) -> str:
    return f"{d:%m/%d/%Y}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


class Adjudicator:
    """Decides the undecided lines of a batch of claims of one plan (see the module docstring)."""

    def __init__(self, plan: Organization, claims: Iterable[Claim]) -> None:
        self.plan = plan
        self.claims = list(claims)
        self.timely_days = settings.CSHUB_CLAIMS_TIMELY_FILING_DAYS
        member_ids = {c.member_id for c in self.claims if c.member_id}
        org_ids = sorted({c.billing_organization_id for c in self.claims if c.billing_organization_id})
        claim_ids = [c.pk for c in self.claims]

        self.codes: dict[tuple[str, str], ServiceCode] = {
            (c.hcpcs, c.modifier): c for c in ServiceCode.objects.select_related("service")
        }
        self.services: dict[int, Service] = {c.service_id: c.service for c in self.codes.values()}
        self.spans: dict[int, list[EligibilitySpan]] = defaultdict(list)
        for span in EligibilitySpan.objects.filter(member_id__in=member_ids, plan=plan).order_by(
            "start_date"
        ):
            self.spans[span.member_id].append(span)
        self.member_county: dict[int, int | None] = {
            c.member_id: c.member.county_id for c in self.claims if c.member_id
        }
        self.contract_rows: dict[tuple[int, int], list] = defaultdict(list)
        for row in contracted_rows_for(plan=plan, organization_ids=org_ids):
            self.contract_rows[(row.organization_id, row.service_id)].append(row)
        self.fee_rows: dict[tuple[int, int], list] = defaultdict(list)
        for row in fee_rows_for(plan=plan, organization_ids=org_ids):
            self.fee_rows[(row.contract.organization_id, row.code_id)].append(row)
        self.authorizations: dict[tuple[int, int, int], list[Authorization]] = defaultdict(list)
        for auth in Authorization.objects.filter(
            member_id__in=member_ids, plan=plan, voided_at__isnull=True
        ).order_by("start_date", "id"):
            self.authorizations[(auth.member_id, auth.service_id, auth.servicing_organization_id)].append(
                auth
            )
        self.auth_by_number = {a.number: a for auths in self.authorizations.values() for a in auths}
        self.open_requests: dict[tuple[int, int, int], list[AuthorizationRequest]] = defaultdict(list)
        for req in AuthorizationRequest.objects.filter(
            member_id__in=member_ids, plan=plan, status__in=OPEN_STATUSES
        ):
            self.open_requests[(req.member_id, req.service_id, req.servicing_organization_id)].append(req)
        auth_ids = list(self.auth_by_number.values())
        self.drawn: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for row in (
            ClaimLine.objects.filter(authorization__in=auth_ids, status__in=SPENDING_STATUSES)
            .exclude(claim_id__in=claim_ids)
            .values("authorization_id")
            .annotate(total=Sum("units_drawn"))
        ):
            self.drawn[row["authorization_id"]] = row["total"] or ZERO
        # Lines billed before (on other claims) that a new line must not repeat.
        self.billed: dict[tuple, tuple[str, int]] = {}
        if member_ids:
            earlier = (
                ClaimLine.objects.filter(claim__member_id__in=member_ids, status__in=DUPLICATE_BLOCKING)
                .exclude(claim_id__in=claim_ids)
                .values_list(
                    "claim__member_id",
                    "claim__billing_organization_id",
                    "hcpcs",
                    "modifiers",
                    "service_from",
                    "service_to",
                    "units",
                    "claim__number",
                    "number",
                )
            )
            for member_id, org_id, hcpcs, mods, start, end, units, number, line_no in earlier:
                self.billed[(member_id, org_id, hcpcs, tuple(mods), start, end, Decimal(units))] = (
                    number,
                    line_no,
                )

    # --- the edits ---------------------------------------------------------------------------------

    def decide(self, claim: Claim, line: ClaimLine) -> Decision:
        """The decision for one line; a line paid or pended is remembered so a repeat later in the batch is
        caught as a duplicate."""
        decision = self._decide(claim, line)
        if decision.status in {LineStatus.PAID, LineStatus.PENDED} and claim.member_id:
            self.billed.setdefault(self._key(claim, line), (claim.number, line.number))
        return decision

    @staticmethod
    def _key(claim: Claim, line: ClaimLine) -> tuple:
        return (
            claim.member_id,
            claim.billing_organization_id,
            line.hcpcs,
            tuple(line.modifiers),
            line.service_from,
            line.service_to,
            Decimal(line.units),
        )

    def _decide(self, claim: Claim, line: ClaimLine) -> Decision:
        plan_name = self.plan.name
        service_date = _fmt_date(line.service_from)
        if claim.member_id is None:
            return self._deny("member_unknown", member_id=claim.member_id_billed)
        spans = self.spans.get(claim.member_id, [])
        if not any(
            s.start_date <= line.service_from and (s.end_date is None or s.end_date >= line.service_from)
            for s in spans
        ):
            later = [s for s in spans if s.start_date > line.service_from]
            if later:
                return self._deny(
                    "member_not_yet_eligible",
                    plan=plan_name,
                    service_date=service_date,
                    coverage_start=_fmt_date(later[0].start_date),
                )
            return self._deny("member_not_eligible", plan=plan_name, service_date=service_date)
        if claim.billing_organization_id is None:
            return self._deny("provider_unknown", npi=claim.billing_npi, plan=plan_name)
        code = self.code_for(line)
        label = line.code_label
        if code is None:
            return self._deny("code_invalid", code=label)
        if not code.active:
            return self._deny("code_inactive", code=label, found=code)
        service = self.services[code.service_id]
        org_id = claim.billing_organization_id
        county_id = self.member_county.get(claim.member_id)
        rows = [
            r
            for r in self.contract_rows.get((org_id, service.pk), [])
            if contract_in_force(r.contract, line.service_from)
            and (county_id is None or r.county_id == county_id)
        ]
        if not rows:
            county = (
                claim.member.county.name if claim.member and claim.member.county_id else "the member's county"
            )
            return self._deny(
                "not_contracted",
                found=code,
                provider=claim.billing_organization.name,
                plan=plan_name,
                service=service.name,
                county=county,
                service_date=service_date,
            )
        age = (claim.received_on - line.service_to).days
        if age > self.timely_days:
            return self._deny(
                "timely_filing",
                found=code,
                received_on=_fmt_date(claim.received_on),
                days=age,
                service_date=_fmt_date(line.service_to),
                limit=self.timely_days,
            )
        key = (
            claim.member_id,
            org_id,
            line.hcpcs,
            tuple(line.modifiers),
            line.service_from,
            line.service_to,
            Decimal(line.units),
        )
        if key in self.billed:
            number, line_no = self.billed[key]
            return self._deny("duplicate", found=code, claim=number, line=line_no)

        units = Decimal(line.units)
        paid_units = units
        auth: Authorization | None = None
        unit_adjustments: list[Adjustment] = []
        if service.authorization != Service.Authorization.NOT_REQUIRED:
            found = self._authorization_for(claim, line, service)
            if isinstance(found, Decision):
                found.code = code
                return found
            auth = found
            remaining = Decimal(auth.units) - self.drawn[auth.pk]
            if remaining <= 0:
                return self._deny(
                    "authorization_used_up", found=code, number=auth.number, authorized=auth.units
                )
            if units > remaining:
                paid_units = remaining
        rate_row = next(
            (r for r in self.fee_rows.get((org_id, code.pk), []) if fee_row_applies(r, line.service_from)),
            None,
        )
        if rate_row is None:
            return Decision(
                LineStatus.PENDED,
                "no_rate",
                edit("no_rate").explain(code=label, service_date=service_date),
                code=code,
                authorization=auth,
            )
        charge = Decimal(line.charge)
        charge_for_paid = money(charge * paid_units / units)
        if paid_units < units:
            over = units - paid_units
            e = edit("authorization_exceeded")
            unit_adjustments.append(Adjustment(e.group, e.carc, e.rarc, charge - charge_for_paid, over))
        allowed_by_rate = money(rate_row.rate * paid_units)
        allowed = min(charge_for_paid, allowed_by_rate)
        adjustments = list(unit_adjustments)
        texts: list[str] = []
        if unit_adjustments:
            texts.append(
                edit("authorization_exceeded").explain(
                    number=auth.number,
                    authorized=auth.units,
                    remaining=_number(paid_units),
                    over=_number(units - paid_units),
                    units=_number(units),
                )
            )
        if allowed < charge_for_paid:
            e = edit("fee_schedule")
            adjustments.append(Adjustment(e.group, e.carc, e.rarc, charge_for_paid - allowed))
            texts.append(
                e.explain(
                    charge=usd(charge_for_paid),
                    rate=usd(rate_row.rate),
                    unit=rate_row.unit,
                    units=_number(paid_units),
                    allowed=usd(allowed),
                )
            )
            key_name = "fee_schedule"
        else:
            key_name = "paid"
            texts.append(edit("paid").explain(paid=usd(allowed)))
        if unit_adjustments:
            key_name = "authorization_exceeded"
        if auth is not None:
            self.drawn[auth.pk] += paid_units
        return Decision(
            LineStatus.PAID,
            key_name,
            " ".join(texts),
            allowed=allowed,
            paid=allowed,
            rate=rate_row.rate,
            units_drawn=paid_units if auth else ZERO,
            authorization=auth,
            code=code,
            adjustments=adjustments,
        )

    def code_for(self, line: ClaimLine) -> ServiceCode | None:
        """The catalog code a line bills: its HCPCS with the first modifier that names a Community Support
        (T1016-U8-GQ is T1016-U8 by phone or video)."""
        for modifier in line.modifiers or [""]:
            found = self.codes.get((line.hcpcs, modifier))
            if found is not None:
                return found
        return None

    def _authorization_for(self, claim: Claim, line: ClaimLine, service: Service) -> Authorization | Decision:
        key = (claim.member_id, service.pk, claim.billing_organization_id)
        covering = [
            a
            for a in self.authorizations.get(key, [])
            if a.start_date <= line.service_from and a.end_date >= line.service_to
        ]
        billed = line.authorization_number_billed or claim.authorization_number_billed
        if billed and billed in self.auth_by_number and self.auth_by_number[billed] not in covering:
            return self._deny("authorization_wrong_number", number=billed)
        if covering:
            named = [a for a in covering if a.number == billed]
            with_units = [a for a in covering if Decimal(a.units) - self.drawn[a.pk] > 0]
            return (named or with_units or covering)[0]
        pending = [
            r
            for r in self.open_requests.get(key, [])
            if r.start_date <= line.service_to and r.end_date >= line.service_from
        ]
        if pending:
            return Decision(
                LineStatus.PENDED,
                "authorization_pending",
                edit("authorization_pending").explain(request=pending[0].number),
            )
        return self._deny(
            "authorization_missing", service=service.name, service_date=_fmt_date(line.service_from)
        )

    def _deny(self, key: str, found: ServiceCode | None = None, **facts: object) -> Decision:
        return Decision(LineStatus.DENIED, key, edit(key).explain(**facts), code=found)


def adjustments_for_denial(decision: Decision, charge: Decimal) -> list[Adjustment]:
    """A denied line's whole charge is adjusted with the edit's codes (835 CAS)."""
    e = edit(decision.reason_key)
    return [Adjustment(e.group, e.carc, e.rarc, money(Decimal(charge)))]
