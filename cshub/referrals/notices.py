"""What the referral services tell people, in one place: in-app + email notices (rules R5, R6, R9;
CLR notices to referrers are electronic, policy_updates.md item 8) and the R8 letter.

Messages carry the minimum necessary: the referral number, the service and the status. Member names appear
only in notices to staff who already see the referral.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.urls import reverse

from cshub.core import clock
from cshub.notifications.services import notify, notify_email_address
from cshub.referrals import permissions
from cshub.referrals.workflow import workflow

if TYPE_CHECKING:
    from cshub.members.models import EcmAssignment
    from cshub.referrals.models import Referral, ReferralDocument

INTAKE_ROLES = sorted(permissions.PROVIDER_WORK_ROLES)
PLAN_ROLES = sorted(permissions.PLAN_REFERRAL_ROLES)
REFERRER_ROLES = sorted(permissions.REFERRER_ROLES)


def _url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.uuid])


def _what(referral: Referral) -> str:
    return referral.service.name if referral.service_id else "Enhanced Care Management"


def _notify_referrer(referral: Referral, *, subject: str, body: str, kind: str) -> None:
    """The referrer hears of every status change without phoning anyone (rule R9)."""
    if referral.referring_organization_id:
        user = referral.referring_user
        notify(
            kind=kind,
            subject=subject,
            body=body,
            url=_url(referral),
            users=[user] if user is not None and user.is_active else None,
            organization=None if user is not None and user.is_active else referral.referring_organization,
            roles=None if user is not None and user.is_active else REFERRER_ROLES,
            object_type="referral",
            object_id=str(referral.uuid),
        )
    elif referral.referrer_email:
        # A self-referral or an outside referrer: email only, with no member details.
        notify_email_address(
            address=referral.referrer_email,
            subject=subject,
            body=f"{body}\n\nReferral number: {referral.number}",
            kind=kind,
            object_type="referral",
            object_id=str(referral.uuid),
        )


def referral_received(referral: Referral) -> None:
    """A new referral reaches the receiving provider's intake staff, or the plan when it is to route it."""
    if referral.status != "pending":
        return
    body = f"Referral {referral.number} for {_what(referral)} ({referral.get_channel_display().lower()})."
    if referral.receiving_provider_id:
        notify(
            kind="referral.received",
            subject=f"New referral {referral.number}",
            body=body,
            url=_url(referral),
            organization=referral.receiving_provider,
            roles=INTAKE_ROLES,
            object_type="referral",
            object_id=str(referral.uuid),
        )
    else:
        notify(
            kind="referral.to_assign",
            subject=f"Referral {referral.number} needs a provider",
            body=body + " No provider was chosen: assign one.",
            url=_url(referral),
            organization=referral.plan,
            roles=PLAN_ROLES,
            object_type="referral",
            object_id=str(referral.uuid),
        )


def referral_status_changed(referral: Referral, *, from_status: str, reason: str) -> None:
    wf = workflow()
    status = wf.status(referral.status)
    subject = f"Referral {referral.number}: {status.label}"
    body = f"The referral for {_what(referral)} is now {status.label} (was {wf.status(from_status).label})."
    if reason:
        body += f" Reason: {reason}"
    if status.closed:
        body += f" The referral is closed: {referral.loop_closure_reason}."
    _notify_referrer(referral, subject=subject, body=body, kind="referral.status_changed")


def referral_assigned(referral: Referral) -> None:
    referral_received(referral)
    _notify_referrer(
        referral,
        subject=f"Referral {referral.number} assigned",
        body=f"The plan assigned the referral for {_what(referral)} to {referral.receiving_provider.name}.",
        kind="referral.assigned",
    )


def referral_reminder(referral: Referral, *, recipient: str, days: int) -> None:
    """Rule R6."""
    status = workflow().status(referral.status).label
    if recipient == "member":
        notify_email_address(
            address=referral.member_email,
            subject="Your Community Supports referral",
            body=(
                f"Your referral {referral.number} for {_what(referral)} is still {status}. "
                "The provider has been reminded to contact you. You can also call your health plan's member "
                "services number on your member ID card."
            ),
            kind="referral.reminder.member",
            object_type="referral",
            object_id=str(referral.uuid),
        )
        return
    organization = referral.receiving_provider if recipient == "provider" else referral.plan
    notify(
        kind="referral.reminder",
        subject=f"Referral {referral.number} has not been updated for {days} days",
        body=(
            f"Referral {referral.number} for {_what(referral)} has been {status} for {days} days. "
            "Update its status so the referrer knows where it stands (rule R6)."
        ),
        url=_url(referral),
        organization=organization,
        roles=INTAKE_ROLES if recipient == "provider" else PLAN_ROLES,
        object_type="referral",
        object_id=str(referral.uuid),
    )


def unable_to_process_letter(referral: Referral, *, assignment: EcmAssignment) -> ReferralDocument:
    """Rule R8: the letter to the referring provider, rendered to PDF, kept with the referral and
    announced to the referrer."""
    from cshub.core.letters import render_letter_pdf  # WeasyPrint loads only when a letter is made
    from cshub.referrals.models import ReferralDocument

    context = {
        "referral": referral,
        "plan": referral.plan,
        "recipient": referral.referring_organization,
        "recipient_name": referral.referrer_name,
        "letter_date": clock.today(),
        "assignment_start": assignment.start_date,
        "reason": workflow().status("unable_to_process").loop_closure,
    }
    pdf = render_letter_pdf(
        template_name="referrals/letters/unable_to_process", context=context, language="en"
    )
    name = f"{referral.number}-unable-to-process.pdf"
    document = ReferralDocument(
        referral=referral,
        kind=ReferralDocument.Kind.LETTER,
        original_name=name,
        content_type="application/pdf",
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        description="Unable to process: member already assigned to another ECM provider (rule R8)",
    )
    document.file.save(name, ContentFile(pdf), save=False)
    document.save()
    _notify_referrer(
        referral,
        subject=f"Referral {referral.number} to ECM: unable to process",
        body=(
            "The member is already assigned to another Enhanced Care Management provider, so the referral "
            "could not be processed. The letter is attached to the referral."
        ),
        kind="referral.unable_to_process",
    )
    return document
