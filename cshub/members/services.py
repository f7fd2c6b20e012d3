"""Every write of member data (STYLE 2), in one transaction with its audit row (STYLE 7).

`roster_import` loads a plan's eligibility roster (issue item 6; DESIGN principle 5): validated row by row,
all or nothing, idempotent, the original file kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.files.base import ContentFile
from django.db import transaction

from cshub.accounts.models import Organization
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
from cshub.members import permissions, roster
from cshub.members.errors import RosterRejected
from cshub.members.models import (
    CareRelationship,
    EcmAssignment,
    EligibilitySpan,
    Member,
    ProgramEnrollment,
    RosterImport,
)

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
