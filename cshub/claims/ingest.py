"""837P files in (rule C3): web upload, API, SFTP inbox (a clearinghouse drop) and `cshub claims ingest`.

Every door hands the bytes to `claim_file_ingest`, which keeps the original, validates it with pyx12
(cshub/claims/x12/read837.py), keeps the 999 beside it, and stores the claims of the accepted transaction
sets through `services.claims_receive` (which adjudicates them). Nothing is taken twice: the same bytes, or
the same sender and interchange control number (ISA06 + ISA13), return the file already received and change
nothing. A claim that passes the 999 but is not for this plan's payer IDs or fails a field check (an unknown
ICD-10 code, a provider billing under another's NPI) is refused on its own and listed on the file's page.
"""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from cshub.accounts.models import Organization
from cshub.claims import permissions, services
from cshub.claims.models import ClaimFile, ClaimSource, ReceiptChannel
from cshub.claims.x12.read837 import Claim837, Interchange837, read_837p
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError


def claim_file_ingest(
    *,
    actor: Any,
    data: bytes,
    name: str,
    channel: str,
    submitter: Organization | None = None,
) -> ClaimFile:
    """Take in one 837P file; returns its `ClaimFile` with `duplicate` set when it was already received.
    Raises DomainError only when there is no file to speak of (empty, too large) or the actor may not send
    one; everything wrong inside the file is answered in the 999 and on the file's page."""
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not permissions.can_upload_837(actor)
    ):
        raise PermissionDeniedError("Your role does not send claim files.")
    name = (name or "claims.837").replace("\\", "/").rsplit("/", 1)[-1][:255] or "claims.837"
    if not data:
        raise DomainError("The file is empty.", errors=[FieldError("file", f"{name} is empty.", "empty")])
    limit = int(settings.CSHUB_MAX_UPLOAD_BYTES)
    if len(data) > limit:
        raise DomainError(
            "The file is too large.",
            errors=[
                FieldError("file", f"{name} is {len(data):,} bytes; the limit is {limit:,}.", "too_large")
            ],
        )
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = ClaimFile.objects.filter(sha256=sha256).first()
    if earlier is not None:
        return _as_duplicate(earlier, "This exact file was already received; nothing changed.")
    # The 999's ISA13/GS06 come from the plan's own sequence of files received (echoing the sender's ISA13
    # could collide with another sender's).
    next_number = (ClaimFile.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    interchange = read_837p(
        data,
        workers=settings.CSHUB_CLAIMS_X12_WORKERS or os.cpu_count() or 1,
        ack_control_number=next_number % 1_000_000_000,
    )
    if interchange.control_number:
        same = ClaimFile.objects.filter(
            sender_id=interchange.sender_id, interchange_control_number=interchange.control_number
        ).first()
        if same is not None:
            return _as_duplicate(
                same,
                f"Interchange {interchange.control_number} from sender {interchange.sender_id} was already "
                f"received on {clock.local(same.received_at):%m/%d/%Y}; nothing changed. "
                "Send new claims with a new interchange control number (ISA13).",
            )
    now = clock.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    inputs, refusals = _claims_for_this_plan(interchange)
    with transaction.atomic():
        claim_file = ClaimFile(
            submitter_organization=submitter,
            uploaded_by=user,
            channel=channel,
            received_at=now,
            original_name=name,
            sha256=sha256,
            size=len(data),
            sender_id=interchange.sender_id[:15],
            receiver_id=interchange.receiver_id[:15],
            interchange_control_number=interchange.control_number[:9],
            usage=interchange.usage[:1],
            ack_code=interchange.ack_code or ClaimFile.Ack.REJECTED,
            problems=[_problem_dict(p) for p in interchange.problems]
            + [_problem_dict(p) for ts in interchange.transaction_sets for p in ts.problems],
            transaction_set_count=len(interchange.transaction_sets),
            created_by=user,
        )
        claim_file.original.save(name, ContentFile(data), save=False)
        if interchange.ack_999:
            stem = name.rsplit(".", 1)[0]
            claim_file.ack_999.save(
                f"{stem}.999", ContentFile(interchange.ack_999.encode("ascii", "replace")), save=False
            )
        claim_file.save()
        received = (
            services.claims_receive(
                actor=actor,
                inputs=inputs,
                source=ClaimSource.EDI_837P,
                channel=channel,
                received_at=now,
                submitter=submitter,
                claim_file=claim_file,
                refuse_individually=True,
            )
            if inputs
            else services.Received([], [])
        )
        claim_file.refusals = refusals + [r.as_dict() for r in received.refusals]
        claim_file.claim_count = len(received.claims)
        claim_file.line_count = sum(len(c._lines) for c in received.claims)
        claim_file.save(update_fields=["refusals", "claim_count", "line_count"])
        audit_record(
            actor=actor,
            action="import",
            object_type="claims.ClaimFile",
            object_id=claim_file.uuid,
            detail={
                "name": name,
                "ack": claim_file.ack_code,
                "claims": claim_file.claim_count,
                "refused": len(claim_file.refusals),
                "channel": channel,
            },
        )
    claim_file.duplicate = False
    claim_file.message = _summary(claim_file)
    return claim_file


def _as_duplicate(claim_file: ClaimFile, message: str) -> ClaimFile:
    claim_file.duplicate = True
    claim_file.message = message
    return claim_file


def _summary(claim_file: ClaimFile) -> str:
    ack = claim_file.get_ack_code_display().lower()
    text = f"{claim_file.original_name}: {ack}; {claim_file.claim_count} claims stored"
    if claim_file.refusals:
        text += f", {len(claim_file.refusals)} refused"
    return text + "."


def _problem_dict(problem: Any) -> dict[str, Any]:
    return {
        "segment_id": problem.segment_id,
        "segment_position": problem.segment_position,
        "loop_id": problem.loop_id,
        "element_position": problem.element_position,
        "component_position": problem.component_position,
        "code": problem.code,
        "message": problem.message,
        "st_control_number": problem.st_control_number,
        "line": problem.line,
    }


def _claims_for_this_plan(interchange: Interchange837) -> tuple[list[services.ClaimInput], list[dict]]:
    """The accepted claims addressed to one of the plan's payer IDs (2010BB, else GS03), as ClaimInputs;
    the others refused with the reason."""
    payers = services.payer_plans()
    inputs: list[services.ClaimInput] = []
    refusals: list[dict] = []
    for claim in interchange.accepted_claims:
        payer = claim.payer_id or interchange.gs_receiver
        if payer not in payers:
            refusals.append(
                {
                    "patient_control_number": claim.patient_control_number,
                    "errors": [
                        FieldError(
                            "payer_id",
                            f"Payer ID {payer or '(none)'} is not one this plan accepts "
                            f"({', '.join(payers)}).",
                            "payer_id",
                        ).as_dict()
                    ],
                }
            )
            continue
        inputs.append(_claim_input(claim, payer))
    return inputs, refusals


def _claim_input(claim: Claim837, payer_id: str) -> services.ClaimInput:
    name = " ".join(part for part in (claim.member_first_name, claim.member_last_name) if part)
    return services.ClaimInput(
        billing_npi=claim.billing_npi,
        billing_name=claim.billing_name,
        billing_tax_id=claim.billing_tax_id,
        rendering_npi=claim.rendering_npi,
        member_id=claim.member_id,
        member_name=name,
        member_date_of_birth=claim.member_date_of_birth,
        patient_control_number=claim.patient_control_number,
        diagnosis_codes=list(claim.diagnosis_codes),
        place_of_service=claim.place_of_service,
        frequency_code=claim.frequency_code or "1",
        original_reference=claim.original_reference,
        authorization_number=claim.authorization_number,
        payer_id=payer_id,
        total_charge=claim.total_charge,
        lines=[
            services.LineInput(
                hcpcs=line.hcpcs,
                modifiers=list(line.modifiers),
                service_from=line.service_from,
                service_to=line.service_to,
                units=Decimal(line.units),
                charge=Decimal(line.charge),
                place_of_service=line.place_of_service,
                diagnosis_pointers=list(line.diagnosis_pointers) or [1],
                rendering_npi=line.rendering_npi if line.rendering_npi != claim.rendering_npi else "",
                authorization_number=line.authorization_number
                if line.authorization_number != claim.authorization_number
                else "",
            )
            for line in claim.lines
        ],
    )


def looks_like_x12(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \r\n\t")[:3] == b"ISA"


def inbox_handler(organization: Organization, filename: str, data: bytes) -> Any:
    """The SFTP inbox door (cshub.exchange.inbox): an X12 file dropped by a provider or a clearinghouse is
    taken in as an 837P, and its 999 is written back to the same organization's outbox."""
    if not looks_like_x12(data):
        return None
    from cshub.exchange.inbox import InboxOutcome

    claim_file = claim_file_ingest(
        actor=None, data=data, name=filename, channel=ReceiptChannel.SFTP, submitter=organization
    )
    replies = []
    if claim_file.ack_999 and not claim_file.duplicate:
        with claim_file.ack_999.open("rb") as fh:
            replies.append((f"{filename.rsplit('.', 1)[0]}.999", fh.read()))
    return InboxOutcome(message=claim_file.message, replies=replies)
