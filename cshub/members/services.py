"""Every write of member data (STYLE 2), in one transaction with its audit row (STYLE 7).

`roster_import` loads a plan's eligibility roster (issue item 6; DESIGN principle 5): validated row by row,
all or nothing, idempotent, the original file kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404

from cshub.accounts.models import Organization
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
from cshub.core.uploads import CheckedUpload, check_upload
from cshub.members import assessments, permissions, roster, sdoh
from cshub.members.errors import (
    ASSESSMENT_INVALID,
    CONSENT_INVALID,
    EXTERNAL_INFORMATION_INVALID,
    GOAL_INVALID,
    NOTE_INVALID,
    SDOH_NEED_INVALID,
    RosterRejected,
)
from cshub.members.models import (
    Assessment,
    CareRelationship,
    Consent,
    EcmAssignment,
    EligibilitySpan,
    ExternalInformation,
    Goal,
    GoalProgress,
    Member,
    MemberNote,
    ProgramEnrollment,
    RosterImport,
    SdohNeed,
)
from cshub.members.selectors import member_queryset_for

CHUNK = 2000  # CINs loaded and written per round trip
BATCH = 1000  # rows per INSERT / UPDATE statement
STORED_ERRORS = 1000  # errors kept on the RosterImport row (the report file has them all)
RAISED_ERRORS = 20  # errors named in the DomainError (API body, page summary, command output)
AUDIT_MEMBER_IDS_CAP = 10_000  # member ids listed in the import's audit row


@dataclass
class _Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: list[UUID] = field(default_factory=list)  # members created or updated (capped)
    touched_total: int = 0

    def touch(self, uuid: UUID) -> None:
        self.touched_total += 1
        if len(self.touched) < AUDIT_MEMBER_IDS_CAP:
            self.touched.append(uuid)


def roster_import(
    *, actor: Any, plan: Organization, file_name: str, content: bytes, channel: str
) -> RosterImport:
    """Import a plan's roster file. Plan staff with a roster role import their own plan's roster; `actor`
    None is the system (an operator's `cshub members import` without --as).

    Raises PermissionDeniedError (403), or RosterRejected (422) after recording the rejected import and its
    error report when any row or the file is invalid: then no member data is written.
    Locks: the plan's organization row (select_for_update), so one plan's imports run one at a time.
    """
    _check_can_import(actor=actor, plan=plan)
    if channel not in RosterImport.Channel.values:
        raise DomainError(
            "Unknown import channel.",
            errors=[FieldError("channel", f"Use one of {', '.join(RosterImport.Channel.values)}.")],
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    record = RosterImport(
        plan=plan,
        uploaded_by=user,
        created_by=user,
        updated_by=user,
        channel=channel,
        original_name=(file_name or "roster.csv")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        started_at=clock.now(),
    )
    parsed = roster.parse_roster(content)
    record.row_count = parsed.row_count
    record.file.save(f"{record.uuid}.csv", ContentFile(content), save=False)
    if parsed.error_total:
        raise _reject(record=record, parsed=parsed, actor=actor)
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=plan.pk).first()
        outcome = _apply(parsed=parsed, plan=plan, user=user, now=clock.now())
        record.status = RosterImport.Status.APPLIED
        record.created_count = outcome.created
        record.updated_count = outcome.updated
        record.unchanged_count = outcome.unchanged
        record.finished_at = clock.now()
        record.save()
        detail: dict[str, object] = {
            "plan": str(plan.uuid),
            "status": record.status,
            "channel": channel,
            "file": record.original_name,
            "sha256": record.sha256,
            "rows": record.row_count,
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "members_touched": outcome.touched_total,
        }
        if outcome.touched_total > len(outcome.touched):
            detail["member_ids_truncated"] = (
                f"member_ids lists the first {len(outcome.touched)} of {outcome.touched_total} members"
            )
        audit_record(
            actor=actor,
            action="import",
            object_type="roster_import",
            object_id=record.uuid,
            member_ids=outcome.touched,
            detail=detail,
        )
    return record


def _check_can_import(*, actor: Any, plan: Organization) -> None:
    if actor is not None and (not permissions.can_import_roster(actor) or actor.organization_id != plan.pk):
        raise PermissionDeniedError("Only the plan's administrator and reporting staff import its roster.")
    if not plan.is_plan:
        raise DomainError(
            "A roster is imported for a plan.",
            errors=[FieldError("plan", "This organization is not a plan.")],
        )


def _reject(*, record: RosterImport, parsed: roster.ParsedRoster, actor: Any) -> RosterRejected:
    """Keep the rejected import, its errors and the error report; write nothing else (principle 5).
    Returns the error for the caller to raise."""
    record.status = RosterImport.Status.REJECTED
    record.error_count = parsed.error_total
    record.errors = [e.as_dict() for e in parsed.errors[:STORED_ERRORS]]
    record.finished_at = clock.now()
    record.error_report.save(
        f"{record.uuid}-errors.csv",
        ContentFile(error_report_csv(parsed.errors, parsed.error_total)),
        save=False,
    )
    with transaction.atomic():
        record.save()
        audit_record(
            actor=actor,
            action="import",
            object_type="roster_import",
            object_id=record.uuid,
            detail={
                "plan": str(record.plan.uuid),
                "status": record.status,
                "file": record.original_name,
                "sha256": record.sha256,
                "rows": record.row_count,
                "errors": parsed.error_total,
            },
        )
    return RosterRejected(
        record, [e.as_field_error() for e in parsed.errors[:RAISED_ERRORS]], parsed.error_total
    )


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in values copied from an uploaded file (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def error_report_csv(errors: Iterable[roster.RowError], total: int) -> bytes:
    """The downloadable error report: one line per error, naming the row and field."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "value", "message", "code"])
    listed = 0
    for e in errors:
        writer.writerow([e.row, e.field, _safe_cell(e.value), e.message, e.code])
        listed += 1
    if total > listed:
        writer.writerow(["", "", "", f"{total - listed} more errors are not listed.", "truncated"])
    return out.getvalue().encode("utf-8")


def _apply(*, parsed: roster.ParsedRoster, plan: Organization, user: Any, now: datetime) -> _Outcome:
    outcome = _Outcome()
    records = list(parsed.members.values())
    for i in range(0, len(records), CHUNK):
        _apply_chunk(
            chunk=records[i : i + CHUNK],
            plan=plan,
            ecm_providers=parsed.ecm_providers,
            user=user,
            now=now,
            outcome=outcome,
        )
    return outcome


def _apply_chunk(
    *,
    chunk: list[roster.MemberRecord],
    plan: Organization,
    ecm_providers: dict[str, int],
    user: Any,
    now: datetime,
    outcome: _Outcome,
) -> None:
    """Upsert one chunk of members and their spans, ECM assignments (with care relationships) and program
    enrollments: a fixed number of queries per chunk, never one per row."""
    existing = {m.cin: m for m in Member.objects.filter(cin__in=[r.cin for r in chunk])}
    new_members: list[Member] = []
    changed: set[int] = set()
    changed_members: list[Member] = []
    for rec in chunk:
        values = rec.member_fields()
        member = existing.get(rec.cin)
        if member is None:
            new_members.append(Member(cin=rec.cin, created_by=user, updated_by=user, **values))
        elif any(getattr(member, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(member, f, v)
            member.updated_by, member.updated_at = user, now
            changed_members.append(member)
    Member.objects.bulk_create(new_members, batch_size=BATCH)
    if any(m.pk is None for m in new_members):  # backends that cannot return ids from a bulk insert
        ids = dict(Member.objects.filter(cin__in=[m.cin for m in new_members]).values_list("cin", "pk"))
        for m in new_members:
            m.pk = ids[m.cin]
    Member.objects.bulk_update(
        changed_members, [*roster.MEMBER_FIELDS, "updated_at", "updated_by"], batch_size=BATCH
    )
    changed.update(m.pk for m in changed_members)
    by_cin = {**existing, **{m.cin: m for m in new_members}}
    member_ids = [m.pk for m in by_cin.values()]

    changed |= _upsert_spans(chunk=chunk, by_cin=by_cin, member_ids=member_ids, plan=plan, user=user, now=now)
    changed |= _upsert_ecm(
        chunk=chunk,
        by_cin=by_cin,
        member_ids=member_ids,
        plan=plan,
        ecm_providers=ecm_providers,
        user=user,
        now=now,
    )
    changed |= _upsert_programs(
        chunk=chunk, by_cin=by_cin, member_ids=member_ids, plan=plan, user=user, now=now
    )

    new_ids = {m.pk for m in new_members}
    for rec in chunk:
        member = by_cin[rec.cin]
        if member.pk in new_ids:
            outcome.created += 1
            outcome.touch(member.uuid)
        elif member.pk in changed:
            outcome.updated += 1
            outcome.touch(member.uuid)
        else:
            outcome.unchanged += 1


def _upsert_spans(
    *,
    chunk: list[roster.MemberRecord],
    by_cin: dict[str, Member],
    member_ids: list[int],
    plan: Organization,
    user: Any,
    now: datetime,
) -> set[int]:
    """Eligibility spans by member + plan + start date (rule A1). Returns the members whose spans changed."""
    existing = {
        (s.member_id, s.start_date): s
        for s in EligibilitySpan.objects.filter(plan=plan, member_id__in=member_ids)
    }
    new, updated, changed = [], [], set()
    for rec in chunk:
        member_id = by_cin[rec.cin].pk
        for start, (plan_member_id, lob, end, _row) in rec.spans.items():
            span = existing.get((member_id, start))
            if span is None:
                new.append(
                    EligibilitySpan(
                        member_id=member_id,
                        plan=plan,
                        plan_member_id=plan_member_id,
                        line_of_business=lob,
                        start_date=start,
                        end_date=end,
                        created_by=user,
                        updated_by=user,
                    )
                )
            elif (span.plan_member_id, span.line_of_business, span.end_date) != (plan_member_id, lob, end):
                span.plan_member_id, span.line_of_business, span.end_date = plan_member_id, lob, end
                span.updated_by, span.updated_at = user, now
                updated.append(span)
            else:
                continue
            changed.add(member_id)
    EligibilitySpan.objects.bulk_create(new, batch_size=BATCH)
    EligibilitySpan.objects.bulk_update(
        updated,
        ["plan_member_id", "line_of_business", "end_date", "updated_by", "updated_at"],
        batch_size=BATCH,
    )
    return changed


def _upsert_ecm(
    *,
    chunk: list[roster.MemberRecord],
    by_cin: dict[str, Member],
    member_ids: list[int],
    plan: Organization,
    ecm_providers: dict[str, int],
    user: Any,
    now: datetime,
) -> set[int]:
    """ECM assignments by member + ECM provider + start date, each with the care relationship that lets the
    ECM provider see the member (reason ecm_assignment, source_id = the assignment's public id)."""
    existing = {
        (a.member_id, a.ecm_provider_id, a.start_date): a
        for a in EcmAssignment.objects.filter(member_id__in=member_ids)
    }
    in_file: list[EcmAssignment] = []
    new, updated, changed = [], [], set()
    for rec in chunk:
        member_id = by_cin[rec.cin].pk
        for (npi, start), (end, _row) in rec.ecm.items():
            provider_id = ecm_providers[npi]
            assignment = existing.get((member_id, provider_id, start))
            if assignment is None:
                assignment = EcmAssignment(
                    member_id=member_id,
                    plan=plan,
                    ecm_provider_id=provider_id,
                    start_date=start,
                    end_date=end,
                    created_by=user,
                    updated_by=user,
                )
                new.append(assignment)
                changed.add(member_id)
            elif assignment.end_date != end:
                assignment.end_date, assignment.updated_by, assignment.updated_at = end, user, now
                updated.append(assignment)
                changed.add(member_id)
            in_file.append(assignment)
    EcmAssignment.objects.bulk_create(new, batch_size=BATCH)
    EcmAssignment.objects.bulk_update(updated, ["end_date", "updated_by", "updated_at"], batch_size=BATCH)

    relations = {
        r.source_id: r
        for r in CareRelationship.objects.filter(
            member_id__in=member_ids, reason=CareRelationship.Reason.ECM_ASSIGNMENT
        )
    }
    new_rel, updated_rel = [], []
    for a in in_file:
        rel = relations.get(str(a.uuid))
        if rel is None:
            new_rel.append(
                CareRelationship(
                    member_id=a.member_id,
                    organization_id=a.ecm_provider_id,
                    reason=CareRelationship.Reason.ECM_ASSIGNMENT,
                    source_id=str(a.uuid),
                    start_date=a.start_date,
                    end_date=a.end_date,
                    created_by=user,
                    updated_by=user,
                )
            )
        elif (rel.start_date, rel.end_date) != (a.start_date, a.end_date):
            rel.start_date, rel.end_date, rel.updated_by, rel.updated_at = a.start_date, a.end_date, user, now
            updated_rel.append(rel)
        else:
            continue
        changed.add(a.member_id)
    CareRelationship.objects.bulk_create(new_rel, batch_size=BATCH)
    CareRelationship.objects.bulk_update(
        updated_rel, ["start_date", "end_date", "updated_by", "updated_at"], batch_size=BATCH
    )
    return changed


def _upsert_programs(
    *,
    chunk: list[roster.MemberRecord],
    by_cin: dict[str, Member],
    member_ids: list[int],
    plan: Organization,
    user: Any,
    now: datetime,
) -> set[int]:
    """Enrollments in other care coordination programs by member + program + start date (rule A1)."""
    existing = {
        (p.member_id, p.program, p.start_date): p
        for p in ProgramEnrollment.objects.filter(member_id__in=member_ids)
    }
    source = f"roster of {plan.name}"[:100]
    new, updated, changed = [], [], set()
    for rec in chunk:
        member_id = by_cin[rec.cin].pk
        for (code, start), (end, _row) in rec.programs.items():
            enrollment = existing.get((member_id, code, start))
            if enrollment is None:
                new.append(
                    ProgramEnrollment(
                        member_id=member_id,
                        program=code,
                        start_date=start,
                        end_date=end,
                        source=source,
                        created_by=user,
                        updated_by=user,
                    )
                )
            elif enrollment.end_date != end:
                enrollment.end_date, enrollment.updated_by, enrollment.updated_at = end, user, now
                updated.append(enrollment)
            else:
                continue
            changed.add(member_id)
    ProgramEnrollment.objects.bulk_create(new, batch_size=BATCH)
    ProgramEnrollment.objects.bulk_update(updated, ["end_date", "updated_by", "updated_at"], batch_size=BATCH)
    return changed


# --- Member documentation (rule M2) ---------------------------------------------------------------------
# Each function checks who may write (`_check_can_write`: 404 when the member is out of the actor's scope,
# 403 for a role that does not record documentation, such as plan staff or billing), validates every field
# (one DomainError listing each wrong field), then writes the row and its audit row in one transaction.
# Dates are checked against `clock.today()` (Pacific). Audit details name codes and dates, never free text.


def _check_can_write(*, actor: Any, member: Member) -> None:
    if not member_queryset_for(actor).filter(pk=member.pk).exists():
        raise Http404("No such member")
    if not permissions.can_write_documentation(actor):
        raise PermissionDeniedError(
            "Your role does not record member documentation; the provider's care staff do (rule M2)."
        )


def _check_can_change(*, actor: Any, record: Any) -> None:
    """A record is changed only by its own organization's documentation roles."""
    _check_can_write(actor=actor, member=record.member)
    if record.organization_id != actor.organization_id:
        raise Http404("No such record")


def _date_not_future(day: date | None, field_name: str, label: str, errors: list[FieldError]) -> None:
    if day is not None and day > clock.today():
        errors.append(FieldError(field_name, f"{label} cannot be in the future.", "future_date"))


def _required_date(day: object, field_name: str, label: str, errors: list[FieldError]) -> bool:
    if not isinstance(day, date):
        errors.append(FieldError(field_name, f"Enter the {label.lower()}.", "required"))
        return False
    return True


def _raise_if(errors: list[FieldError], message: str, code: str) -> None:
    if errors:
        raise DomainError(message, code=code, errors=errors)


def _check_document(document: UploadedFile | None, errors: list[FieldError]) -> CheckedUpload | None:
    """The upload checked by `cshub.core.uploads` (type by first bytes and extension, size), or None with
    its errors added."""
    try:
        return check_upload(document, field="document", required=False)
    except DomainError as exc:
        errors.extend(exc.errors)
        return None


@contextmanager
def _saving_document(record: Any, checked: CheckedUpload | None) -> Iterator[None]:
    """Store the checked document on `record.document` for the transaction inside; delete the file again
    when the transaction fails (nothing half-saved)."""
    if checked is not None:
        extension = Path(checked.name).suffix.lower()
        record.document.save(f"{record.uuid}{extension}", checked.file, save=False)
        record.document_name = checked.name
        record.document_content_type = checked.content_type
        record.document_sha256 = checked.sha256
    try:
        with transaction.atomic():
            yield
    except BaseException:
        if checked is not None and record.document:
            record.document.delete(save=False)
        raise


def _clean_text(
    value: str | None, field_name: str, label: str, errors: list[FieldError], *, limit: int
) -> str:
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field_name, f"Enter the {label.lower()}.", "required"))
    elif len(text) > limit:
        errors.append(FieldError(field_name, f"At most {limit} characters.", "max_length"))
    return text


def _service_by_key(service_key: str | None, errors: list[FieldError]) -> Service | None:
    if not service_key:
        return None
    service = Service.objects.filter(key=service_key, active=True).first()
    if service is None:
        errors.append(
            FieldError("service", f"{service_key} is not a Community Support of the catalog.", "service")
        )
    return service


def _audit_write(*, actor: Any, action: str, object_type: str, record: Any, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=record.uuid,
        member_ids=[record.member.uuid],
        detail={"organization": str(record.organization.uuid), **detail},
    )


def consent_create(
    *,
    actor: Any,
    member: Member,
    scopes: list[str],
    recipients: str,
    signed_on: date | None,
    expires_on: date | None = None,
    scope_detail: str = "",
    document: UploadedFile | None = None,
) -> Consent:
    """Record a release-of-information consent the member signed (rule M2), with its signed copy (PDF,
    PNG, JPEG or TIFF: `cshub.core.uploads.check_upload`). Signed on or before today (Pacific); expires on
    or after signing."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    scopes = list(dict.fromkeys(scopes or []))
    if not scopes:
        errors.append(FieldError("scopes", "Choose what the consent covers.", "required"))
    if unknown := [s for s in scopes if s not in Consent.Scope.values]:
        errors.append(
            FieldError("scopes", f"Not a consent scope: {', '.join(map(str, unknown))}.", "invalid")
        )
    scope_detail = (scope_detail or "").strip()
    if Consent.Scope.OTHER in scopes and not scope_detail:
        errors.append(
            FieldError("scope_detail", "Describe the other information the consent covers.", "required")
        )
    recipient_lines = [line.strip() for line in (recipients or "").splitlines() if line.strip()]
    if not recipient_lines:
        errors.append(
            FieldError("recipients", "Name who may receive the information, one per line.", "required")
        )
    if _required_date(signed_on, "signed_on", "Date signed", errors):
        _date_not_future(signed_on, "signed_on", "The date signed", errors)
        if expires_on is not None and expires_on < signed_on:
            errors.append(
                FieldError("expires_on", "The consent cannot expire before it was signed.", "date_order")
            )
    checked = _check_document(document, errors)
    _raise_if(errors, "The consent is not valid.", CONSENT_INVALID)
    consent = Consent(
        member=member,
        organization=actor.organization,
        scopes=scopes,
        scope_detail=scope_detail,
        recipients="\n".join(recipient_lines),
        signed_on=signed_on,
        expires_on=expires_on,
        created_by=actor,
        updated_by=actor,
    )
    with _saving_document(consent, checked):
        consent.save()
        _audit_write(
            actor=actor,
            action="create",
            object_type="consent",
            record=consent,
            detail={
                "scopes": scopes,
                "signed_on": signed_on.isoformat(),
                "expires_on": expires_on.isoformat() if expires_on else None,
                "document_sha256": consent.document_sha256 or None,
            },
        )
    return consent


def consent_revoke(*, actor: Any, consent: Consent, reason: str, revoked_on: date | None = None) -> Consent:
    """Record that the member revoked a consent (rule M2). Locks the consent row; a consent is revoked once
    (409 the second time)."""
    _check_can_change(actor=actor, record=consent)
    revoked_on = revoked_on or clock.today()
    errors: list[FieldError] = []
    reason = _clean_text(reason, "reason", "Reason", errors, limit=2000)
    _date_not_future(revoked_on, "revoked_on", "The revocation date", errors)
    if revoked_on < consent.signed_on:
        errors.append(
            FieldError("revoked_on", "A consent cannot be revoked before it was signed.", "date_order")
        )
    _raise_if(errors, "The revocation is not valid.", CONSENT_INVALID)
    with transaction.atomic():
        locked = (
            Consent.objects.select_for_update().select_related("member", "organization").get(pk=consent.pk)
        )
        if locked.revoked_on is not None:
            raise DomainError("This consent is already revoked.", code=CONSENT_INVALID, status=409)
        locked.revoked_on, locked.revoke_reason = revoked_on, reason
        locked.revoked_by, locked.updated_by = actor, actor
        locked.save(update_fields=["revoked_on", "revoke_reason", "revoked_by", "updated_by", "updated_at"])
        _audit_write(
            actor=actor,
            action="update",
            object_type="consent",
            record=locked,
            detail={"change": "revoked", "revoked_on": revoked_on.isoformat()},
        )
    return locked


def assessment_create(
    *,
    actor: Any,
    member: Member,
    service_key: str | None,
    assessed_on: date | None,
    answers: dict[str, Any],
) -> Assessment:
    """Record an individual assessment (rule M2), answered against the service's template (or the general
    one); each wrong or missing answer is a FieldError `answers.<question key>`."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    service = _service_by_key(service_key, errors)
    template = assessments.template_for_service(service.key if service else None)
    if _required_date(assessed_on, "assessed_on", "Date assessed", errors):
        _date_not_future(assessed_on, "assessed_on", "The assessment date", errors)
    cleaned: dict[str, Any] = {}
    try:
        cleaned = assessments.answers_validate(template, answers)
    except DomainError as exc:
        errors.extend(exc.errors)
    _raise_if(errors, "The assessment is not valid.", ASSESSMENT_INVALID)
    assessment = Assessment(
        member=member,
        organization=actor.organization,
        service=service,
        template_key=template.key,
        template_version=template.version,
        answers=cleaned,
        assessed_on=assessed_on,
        assessor=actor,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        assessment.save()
        _audit_write(
            actor=actor,
            action="create",
            object_type="assessment",
            record=assessment,
            detail={
                "service": service.key if service else None,
                "template": template.key,
                "version": template.version,
                "assessed_on": assessed_on.isoformat(),
            },
        )
    return assessment


def sdoh_need_create(
    *, actor: Any, member: Member, code: str, identified_on: date | None, note: str = ""
) -> SdohNeed:
    """Record a social need as an ICD-10-CM Z code of Z55-Z65 (rule M2; `sdoh.sdoh_code_check`). The same
    code cannot be open twice for the member at one organization."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    normalized, description = "", ""
    try:
        normalized, description = sdoh.sdoh_code_check(code, field="code")
    except DomainError as exc:
        errors.extend(exc.errors)
    if _required_date(identified_on, "identified_on", "Date identified", errors):
        _date_not_future(identified_on, "identified_on", "The date identified", errors)
    note = (note or "").strip()
    _raise_if(errors, "The SDOH need is not valid.", SDOH_NEED_INVALID)
    need = SdohNeed(
        member=member,
        organization=actor.organization,
        code=normalized,
        description=description[:255],
        identified_on=identified_on,
        note=note,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()  # one open need per code
        open_needs = SdohNeed.objects.filter(
            member=member, organization_id=actor.organization_id, code=normalized, status=SdohNeed.Status.OPEN
        )
        if open_needs.exists():
            raise DomainError(
                "The SDOH need is already recorded.",
                code=SDOH_NEED_INVALID,
                errors=[
                    FieldError("code", f"{normalized} is already an open need of this member.", "duplicate")
                ],
                status=409,
            )
        need.save()
        _audit_write(
            actor=actor,
            action="create",
            object_type="sdoh_need",
            record=need,
            detail={"code": normalized, "identified_on": identified_on.isoformat()},
        )
    return need


def sdoh_need_resolve(
    *, actor: Any, need: SdohNeed, resolved_on: date | None = None, note: str = ""
) -> SdohNeed:
    """Mark an open need resolved (on or after it was identified, not in the future); the note, if any, is
    added to the need's note. 409 when it is already resolved."""
    _check_can_change(actor=actor, record=need)
    resolved_on = resolved_on or clock.today()
    errors: list[FieldError] = []
    _date_not_future(resolved_on, "resolved_on", "The date resolved", errors)
    if resolved_on < need.identified_on:
        errors.append(
            FieldError("resolved_on", "A need cannot be resolved before it was identified.", "date_order")
        )
    _raise_if(errors, "The resolution is not valid.", SDOH_NEED_INVALID)
    with transaction.atomic():
        locked = SdohNeed.objects.select_for_update().select_related("member", "organization").get(pk=need.pk)
        if locked.status == SdohNeed.Status.RESOLVED:
            raise DomainError("This need is already resolved.", code=SDOH_NEED_INVALID, status=409)
        locked.status, locked.resolved_on, locked.updated_by = SdohNeed.Status.RESOLVED, resolved_on, actor
        if note := (note or "").strip():
            locked.note = f"{locked.note}\n\nResolved: {note}".strip()
        locked.save(update_fields=["status", "resolved_on", "note", "updated_by", "updated_at"])
        _audit_write(
            actor=actor,
            action="update",
            object_type="sdoh_need",
            record=locked,
            detail={"change": "resolved", "code": locked.code, "resolved_on": resolved_on.isoformat()},
        )
    return locked


def goal_create(
    *,
    actor: Any,
    member: Member,
    description: str,
    target_date: date | None = None,
    service_key: str | None = None,
    status: str = GoalProgress.Status.NOT_STARTED,
    note: str = "",
) -> Goal:
    """Record a goal (rule M2) and its first progress row (`status`, default not started, recorded today)."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    description = _clean_text(description, "description", "Goal", errors, limit=2000)
    service = _service_by_key(service_key, errors)
    if status not in GoalProgress.Status.values:
        errors.append(FieldError("status", "Not a goal status.", "invalid"))
    _raise_if(errors, "The goal is not valid.", GOAL_INVALID)
    goal = Goal(
        member=member,
        organization=actor.organization,
        service=service,
        description=description,
        target_date=target_date,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        goal.save()
        progress = GoalProgress.objects.create(
            goal=goal,
            status=status,
            recorded_on=clock.today(),
            note=(note or "").strip(),
            recorded_by=actor,
            created_by=actor,
            updated_by=actor,
        )
        _audit_write(
            actor=actor,
            action="create",
            object_type="goal",
            record=goal,
            detail={
                "service": service.key if service else None,
                "target_date": target_date.isoformat() if target_date else None,
                "status": progress.status,
            },
        )
    return goal


def goal_progress_record(
    *, actor: Any, goal: Goal, status: str, recorded_on: date | None = None, note: str = ""
) -> GoalProgress:
    """Append a progress row to a goal (rule M2: goal attainment over time); rows are never changed. The
    goal's current status is its latest row by `recorded_on`."""
    _check_can_change(actor=actor, record=goal)
    recorded_on = recorded_on or clock.today()
    errors: list[FieldError] = []
    if status not in GoalProgress.Status.values:
        errors.append(
            FieldError("status", f"Choose one of: {', '.join(GoalProgress.Status.values)}.", "invalid")
        )
    _date_not_future(recorded_on, "recorded_on", "The date", errors)
    _raise_if(errors, "The progress is not valid.", GOAL_INVALID)
    with transaction.atomic():
        progress = GoalProgress.objects.create(
            goal=goal,
            status=status,
            recorded_on=recorded_on,
            note=(note or "").strip(),
            recorded_by=actor,
            created_by=actor,
            updated_by=actor,
        )
        _audit_write(
            actor=actor,
            action="create",
            object_type="goal_progress",
            record=goal,
            detail={"goal": str(goal.uuid), "status": status, "recorded_on": recorded_on.isoformat()},
        )
    return progress


def member_note_create(*, actor: Any, member: Member, text: str) -> MemberNote:
    """Record a note about the member (rule M2)."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    text = _clean_text(text, "text", "Note", errors, limit=20_000)
    _raise_if(errors, "The note is not valid.", NOTE_INVALID)
    note = MemberNote(
        member=member,
        organization=actor.organization,
        text=text,
        author=actor,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        note.save()
        _audit_write(actor=actor, action="create", object_type="member_note", record=note, detail={})
    return note


def external_information_create(
    *,
    actor: Any,
    member: Member,
    source_name: str,
    source_kind: str,
    received_on: date | None,
    summary: str,
    document: UploadedFile | None = None,
) -> ExternalInformation:
    """Record information about the member received from another source (rule M2), with an optional
    document (PDF, PNG, JPEG or TIFF)."""
    _check_can_write(actor=actor, member=member)
    errors: list[FieldError] = []
    source_name = _clean_text(source_name, "source_name", "Source", errors, limit=200)
    if source_kind not in ExternalInformation.SourceKind.values:
        errors.append(
            FieldError(
                "source_kind",
                f"Choose one of: {', '.join(ExternalInformation.SourceKind.values)}.",
                "invalid",
            )
        )
    if _required_date(received_on, "received_on", "Date received", errors):
        _date_not_future(received_on, "received_on", "The date received", errors)
    summary = _clean_text(summary, "summary", "Summary", errors, limit=20_000)
    checked = _check_document(document, errors)
    _raise_if(errors, "The information is not valid.", EXTERNAL_INFORMATION_INVALID)
    info = ExternalInformation(
        member=member,
        organization=actor.organization,
        source_name=source_name,
        source_kind=source_kind,
        received_on=received_on,
        summary=summary,
        created_by=actor,
        updated_by=actor,
    )
    with _saving_document(info, checked):
        info.save()
        _audit_write(
            actor=actor,
            action="create",
            object_type="external_information",
            record=info,
            detail={
                "source_kind": source_kind,
                "received_on": received_on.isoformat(),
                "document_sha256": info.document_sha256 or None,
            },
        )
    return info
