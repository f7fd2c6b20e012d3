"""Payment runs (rules C3, C5; Reference Guide §9.4): adjudicated claims paid on one payment date.

`payment_run_create` takes the plan's adjudicated claims not yet paid (pended claims wait; denied claims are
remitted too so the provider hears why), groups them per billing provider, and for each provider makes one
`ProviderPayment` with an EFT trace number and one 835 (005010X221A1) remittance listing every claim and
line with its CARC/RARC adjustments. The 835 is stored, downloadable, and put in the provider's SFTP
outbox. Each claim gets its payment date, which the aging page compares with its 45-business-day deadline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from cshub.accounts.models import Organization
from cshub.claims import permissions, selectors
from cshub.claims.adjudication import money
from cshub.claims.models import (
    ZERO,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimOutcome,
    ClaimStatus,
    LineStatus,
    PaymentRun,
    ProviderPayment,
)
from cshub.claims.services import payer_plans
from cshub.claims.x12.remit835 import (
    Adjustment835,
    ClaimPayment835,
    LinePayment835,
    Remittance835,
    write_835,
)
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError

# CLP02 claim status codes (835): processed as primary, or denied.
PROCESSED = "1"
DENIED = "4"
# How far ahead a payment may be dated (a run is prepared for the next check or EFT date).
MAX_DAYS_AHEAD = 31


def payment_run_create(
    *,
    actor: Any,
    plan: Organization,
    payment_date: date | None = None,
    organization_ids: list[int] | None = None,
    received_through: date | None = None,
) -> PaymentRun:
    """Pay and remit every payable claim of the plan (optionally only some providers, or claims received up
    to a date). Refused, with nothing changed, when there is nothing to pay, the date is in the past or far
    ahead, or the plan lacks the tax ID the 835 names it by."""
    if actor is not None and not (permissions.can_process_claims(actor) and actor.organization_id == plan.pk):
        raise PermissionDeniedError("Only the plan's claims processors run payments.")
    today = clock.today()
    payment_date = payment_date or today
    errors: list[FieldError] = []
    if payment_date < today:
        errors.append(FieldError("payment_date", "The payment date cannot be in the past.", "past"))
    elif (payment_date - today).days > MAX_DAYS_AHEAD:
        errors.append(
            FieldError("payment_date", f"Date the payment at most {MAX_DAYS_AHEAD} days ahead.", "too_far")
        )
    if not plan.tin or len(plan.tin) != 9:
        errors.append(
            FieldError(
                "plan",
                f"{plan.name} has no 9-digit tax ID on file; the 835 names the payer by it. "
                "Add it on the organization page.",
                "no_tin",
            )
        )
    if not (plan.phone or plan.email):
        errors.append(
            FieldError(
                "plan",
                f"{plan.name} has no phone or email on file; the 835 names whom a "
                "provider calls about it. Add one on the organization page.",
                "no_contact",
            )
        )
    if errors:
        raise DomainError("The payment run cannot start; nothing was paid.", errors=errors)
    with transaction.atomic():
        claims = list(
            selectors.payable_claims(
                plan=plan, organization_ids=organization_ids, received_through=received_through
            )
            # lock the claims only: FOR UPDATE cannot reach the nullable side of the outer join to the
            # member (a claim for an unknown member ID), which PostgreSQL refuses
            .select_for_update(of=("self",))
            .select_related("billing_organization", "member")
            .order_by("billing_organization_id", "received_at", "id")
        )
        if not claims:
            raise DomainError(
                "There are no adjudicated claims to pay.",
                code="nothing_to_pay",
                errors=[FieldError("claims", "No adjudicated, unpaid claims match.", "empty")],
            )
        now = clock.now()
        user = actor if getattr(actor, "is_authenticated", False) else None
        run = PaymentRun.objects.create(
            number=f"T{now:%Y%m%d%H%M%S%f}"[:20],
            plan=plan,
            payment_date=payment_date,
            run_by=user,
            run_at=now,
            created_by=user,
        )
        run.number = f"PR-{payment_date.year}-{run.pk:05d}"
        lines_by_claim: dict[int, list[ClaimLine]] = defaultdict(list)
        for line in (
            ClaimLine.objects.filter(claim__in=claims)
            .exclude(status=LineStatus.VOID)
            .prefetch_related("adjustments")
            .order_by("claim_id", "number")
        ):
            lines_by_claim[line.claim_id].append(line)
        by_provider: dict[int, list[Claim]] = defaultdict(list)
        for claim in claims:
            by_provider[claim.billing_organization_id].append(claim)
        events: list[ClaimEvent] = []
        total = ZERO
        for provider_claims in by_provider.values():
            org = provider_claims[0].billing_organization
            amount = money(sum((c.paid_total for c in provider_claims), ZERO))
            payment = ProviderPayment.objects.create(
                run=run,
                plan=plan,
                organization=org,
                payment_date=payment_date,
                amount=amount,
                eft_trace_number=f"T{now:%H%M%S%f}{org.pk}",
                interchange_control_number=0,
                claim_count=len(provider_claims),
                created_by=user,
            )
            payment.eft_trace_number = f"{payment_date:%Y%m%d}{payment.pk:07d}"
            payment.interchange_control_number = payment.pk % 1_000_000_000
            text = write_835(_remittance(plan, org, payment, provider_claims, lines_by_claim, now))
            payment.remittance_name = (
                f"835_{org.npi or org.pk}_{payment_date:%Y%m%d}_{payment.eft_trace_number}.835"
            )
            payment.remittance_835.save(
                payment.remittance_name, ContentFile(text.encode("ascii")), save=False
            )
            payment.outbox_path = _to_outbox(org, payment.remittance_name, text.encode("ascii"))
            payment.save()
            Claim.objects.filter(pk__in=[c.pk for c in provider_claims]).update(
                payment=payment, paid_on=payment_date, status=ClaimStatus.REMITTED
            )
            for c in provider_claims:
                events.append(
                    ClaimEvent(
                        claim=c,
                        at=now,
                        kind="remitted",
                        actor=user,
                        actor_name=str(user or "")[:200],
                        from_status=c.status,
                        to_status=ClaimStatus.REMITTED,
                        text=f"{'Paid' if c.paid_total else 'Remitted (nothing to pay)'} "
                        f"${c.paid_total:,.2f} on {payment_date:%m/%d/%Y}, EFT {payment.eft_trace_number}, "
                        f"run {run.number}.",
                    )
                )
            total += amount
            _notify(org, payment)
        ClaimEvent.objects.bulk_create(events, batch_size=2000)
        run.claim_count, run.provider_count, run.total_paid = len(claims), len(by_provider), total
        run.save()
        audit_record(
            actor=actor,
            action="create",
            object_type="claims.PaymentRun",
            object_id=run.uuid,
            member_ids=sorted({c.member.uuid for c in claims if c.member_id}, key=str),
            detail={
                "claims": len(claims),
                "providers": len(by_provider),
                "total": str(total),
                "payment_date": payment_date.isoformat(),
            },
        )
    return run


def _remittance(
    plan: Organization,
    org: Organization,
    payment: ProviderPayment,
    claims: list[Claim],
    lines_by_claim: dict[int, list[ClaimLine]],
    now: Any,
) -> Remittance835:
    payer_id = next(iter(payer_plans()), "95567")
    return Remittance835(
        sender_id=payer_id,
        receiver_id=org.npi or str(org.pk),
        interchange_control_number=payment.interchange_control_number,
        group_control_number=payment.interchange_control_number,
        created_at=clock.local(now).replace(tzinfo=None),
        usage="P",
        payer_name=plan.name,
        payer_id=payer_id,
        payer_address_line=plan.address_line or "Unknown",
        payer_city=plan.city or "Sacramento",
        payer_state="CA",
        payer_zip=plan.zip_code or "95814",
        payee_name=org.name,
        payee_npi=org.npi,
        payee_tax_id=org.tin,
        payment_amount=payment.amount,
        payment_method="ACH" if payment.amount > 0 else "NON",
        payment_date=payment.payment_date,
        trace_number=payment.eft_trace_number,
        originating_company_id=f"1{plan.tin}",
        payer_contact_phone=plan.phone,
        claims=[_claim_payment(c, lines_by_claim[c.pk]) for c in claims],
    )


def _claim_payment(claim: Claim, lines: list[ClaimLine]) -> ClaimPayment835:
    first, _, last = (claim.member_name_billed or "").partition(" ")
    if claim.member_id:
        first, last = claim.member.first_name, claim.member.last_name
    return ClaimPayment835(
        patient_control_number=claim.patient_control_number,
        status_code=DENIED if claim.outcome == ClaimOutcome.DENIED else PROCESSED,
        total_charge=sum((line.charge for line in lines), ZERO),
        paid_amount=claim.paid_total,
        payer_claim_control_number=claim.number,
        member_id=claim.member_id_billed,
        member_last_name=last or "UNKNOWN",
        member_first_name=first,
        received_date=claim.received_on,
        place_of_service=claim.place_of_service,
        frequency_code=claim.frequency_code,
        lines=[
            LinePayment835(
                hcpcs=line.hcpcs,
                modifiers=list(line.modifiers),
                charge=line.charge,
                paid=line.paid_amount,
                units=Decimal(line.units),
                service_from=line.service_from,
                service_to=line.service_to,
                allowed_amount=line.allowed_amount if line.status == LineStatus.PAID else None,
                adjustments=[
                    Adjustment835(a.group_code, a.reason_code, a.amount, a.units)
                    for a in line.adjustments.all()
                ],
                remark_codes=sorted({a.remark_code for a in line.adjustments.all() if a.remark_code}),
            )
            for line in lines
        ],
    )


def _to_outbox(org: Organization, name: str, data: bytes) -> str:
    """Rule C3: the 835 goes where the provider's systems pick files up (its SFTP outbox)."""
    from cshub.exchange.folders import outbox_put

    return str(outbox_put(org, name, data))


def _notify(org: Organization, payment: ProviderPayment) -> None:
    from cshub.claims.permissions import PROVIDER_READ_ROLES
    from cshub.notifications.services import notify

    notify(
        kind="claims.payment",
        subject=f"Payment of ${payment.amount:,.2f} on {payment.payment_date:%m/%d/%Y}",
        body=f"{payment.claim_count} claims were paid or remitted (EFT trace {payment.eft_trace_number}). "
        "The remittance (835) is ready to download and in your SFTP outbox.",
        url=f"/claims/payments/{payment.uuid}/",
        organization=org,
        roles=PROVIDER_READ_ROLES,
        object_type="claims.ProviderPayment",
        object_id=payment.uuid,
    )


def payment_835_bytes(payment: ProviderPayment) -> bytes:
    with payment.remittance_835.open("rb") as fh:
        return fh.read()
