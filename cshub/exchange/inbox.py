"""Taking files in from an organization's inbox: the worker's one ingest path (DESIGN principle 5).

`take_inbox_file(organization, path)` runs when the SFTP server finishes an upload (the
`exchange.tasks.inbox_file_arrived` task) and from the minute sweep (`sweep_inboxes`), which also picks up
files another server (OpenSSH) or a crash left behind. For one file it:

1. claims the file by renaming it into `inbox/.taking/<uuid>/`: a rename succeeds once, so a retried task
   and the sweep never take the same file twice (the second finds nothing and does nothing);
2. keeps a copy of the original in the file storage and, when the organization already had the same
   content taken in, records a duplicate and stops (same file twice = no change);
3. otherwise asks each handler of the `CSHUB_INBOX_HANDLERS` setting in turn; a handler is
   `handler(organization, filename, data) -> InboxOutcome | None` (None: not mine), and the first that
   answers takes the file. Its writes, the `InboxFile` row and the audit row share one transaction;
4. writes the outcome's reply files (a 999, say) to the organization's outbox, and moves the original to
   `inbox/processed/`, or to `inbox/failed/` with `<name>.error.txt` beside it when no handler took it
   or the handler refused it.

A worker that dies part-way leaves the claim folder; the sweep finishes it after `CLAIM_STALE_SECONDS`
(the row, when committed, says how far it got; the stored copies of the reply files let it write them).
A handler may carry an `accepts` attribute, a short phrase for what it takes ("837P claim files (X12
005010X222A1)"); a failed file's error report lists them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import stat
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.module_loading import import_string

from cshub.accounts.models import Organization
from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError
from cshub.exchange import folders
from cshub.exchange.models import ExchangeFile, InboxFile

logger = logging.getLogger(__name__)

CLAIM_STALE_SECONDS = 15 * 60
INTERNAL_ERROR = (
    "The file could not be processed because of an error in cshub; the plan's support team has been told. "
    "You do not need to send it again unless they ask."
)


@dataclass(frozen=True)
class InboxOutcome:
    """What a handler made of a file it took: a short message for the log, and files for the outbox."""

    message: str
    replies: Sequence[tuple[str, bytes]] = ()


Handler = Callable[[Organization, str, bytes], InboxOutcome | None]


def configured_handlers() -> list[tuple[str, Handler]]:
    return [(path, import_string(path)) for path in settings.CSHUB_INBOX_HANDLERS]


def accepted_kinds() -> list[str]:
    return [getattr(handler, "accepts", None) or path for path, handler in configured_handlers()]


def no_taker_message() -> str:
    kinds = accepted_kinds()
    if not kinds:
        return "This inbox does not take any kind of file yet."
    return "No kind of file this inbox takes: " + "; ".join(kinds) + "."


# --- Taking one file ------------------------------------------------------------------------------------
def _inbox_path(organization: Organization, path: str | Path) -> Path | None:
    """`path` (relative to the organization's folder, or absolute) when it names a file directly in the
    inbox that is ready to take; None otherwise."""
    folder = folders.organization_folder(organization)
    candidate = Path(os.path.normpath(folder / path))
    if candidate.parent != folder / folders.INBOX or not folders.is_ready(candidate.name):
        return None
    return candidate


def take_inbox_file(organization: Organization, path: str | Path) -> InboxFile | None:
    """Take one inbox file in (see the module's docstring). Returns its log row, or None when there was
    nothing to take: the file is gone (already taken), or the path is not a ready file in the inbox."""
    source = _inbox_path(organization, path)
    if source is None:
        return None
    record_id = uuid.uuid4()
    claims = source.parent / folders.CLAIMS
    claims.mkdir(mode=0o700, exist_ok=True)  # the worker's own; under OpenSSH the organization cannot look in
    claim = claims / record_id.hex
    claim.mkdir(mode=0o700)
    try:
        os.rename(source, claim / source.name)
    except FileNotFoundError:
        claim.rmdir()
        return None
    return _process_claim(organization, claim, record_id)


def _process_claim(organization: Organization, claim: Path, record_id: uuid.UUID) -> InboxFile | None:
    entries = list(claim.iterdir())
    if not entries:
        claim.rmdir()
        return None
    held = entries[0]
    record = InboxFile.objects.filter(uuid=record_id).first()
    if record is None:
        record = _ingest(organization, held, record_id)
    _finish(organization, record, held)
    claim.rmdir()
    return record


def _read(path: Path) -> bytes:
    """The file's bytes; refuses symbolic links and anything but a regular file (an OpenSSH user could make
    a link pointing outside their folder), and files over the size limit."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DomainError("Only plain files are taken in (not links, folders or devices).")
        limit = settings.CSHUB_SFTP_MAX_UPLOAD_BYTES
        if info.st_size > limit:
            raise DomainError(f"The file is {info.st_size:,} bytes; the limit is {limit:,}.")
        return f.read()


def _store(organization: Organization, record_id: uuid.UUID, name: str, data: bytes) -> str:
    """Keep a copy in the file storage (local folder or S3), beside nothing else: one folder per take."""
    day = clock.local(clock.now())
    base = f"exchange/inbox/{organization.uuid}/{day:%Y/%m}/{record_id.hex}"
    return default_storage.save(f"{base}/{name}", ContentFile(data))


def _record(base: dict[str, Any], **fields: Any) -> InboxFile:
    record = InboxFile.objects.create(**base, **fields)
    audit_record(
        actor=None,
        action="import",
        object_type="inbox_file",
        object_id=record.uuid,
        detail={
            "organization": str(record.organization.uuid),
            "filename": record.filename,
            "status": record.status,
            "handler": record.handler,
            "sha256": record.sha256,
            "size": record.size,
        },
    )
    return record


def _ingest(organization: Organization, held: Path, record_id: uuid.UUID) -> InboxFile:
    name = held.name
    base: dict[str, Any] = {
        "uuid": record_id,
        "organization": organization,
        "filename": name,
        "received_at": clock.now(),
    }
    try:
        data = _read(held)
    except (DomainError, OSError) as exc:
        if isinstance(exc, DomainError):
            message = str(exc)
        elif isinstance(exc, PermissionError):  # under OpenSSH: uploaded with a mode only its owner may read
            message = "cshub may not read this file: send it readable by its group (mode 640, not 600)."
        else:
            message = "Only plain files are taken in (not links, folders or devices)."
        return _record(
            base,
            sha256=hashlib.sha256(b"").hexdigest(),
            size=0,
            stored_name="",
            status="failed",
            message=message,
        )
    digest = hashlib.sha256(data).hexdigest()
    base.update(sha256=digest, size=len(data), stored_name=_store(organization, record_id, name, data))
    previous = (
        InboxFile.objects.filter(organization=organization, sha256=digest, status=InboxFile.Status.TAKEN)
        .order_by("received_at")
        .first()
    )
    if previous is not None:
        return _record(
            base,
            status=InboxFile.Status.DUPLICATE,
            message=(
                f"The same file was taken in on {clock.local(previous.received_at):%Y-%m-%d %H:%M} as "
                f"{previous.filename}; it was not taken again."
            ),
        )
    for path, handler in configured_handlers():
        try:
            with transaction.atomic():
                outcome = handler(organization, name, data)
                if outcome is None:
                    continue
                replies = [
                    {
                        "name": folders.check_filename(reply_name),
                        "stored": _store(organization, record_id, f"replies/{reply_name}", reply_data),
                        "outbox": "",
                    }
                    for reply_name, reply_data in outcome.replies
                ]
                record = _record(
                    base,
                    status=InboxFile.Status.TAKEN,
                    handler=path,
                    message=outcome.message,
                    replies=replies,
                )
                # The exchange file the handler recorded (a CSPRTF) points back at the upload it came from.
                ExchangeFile.objects.filter(
                    organization=organization, sha256=digest, channel="sftp", inbox_file__isnull=True
                ).update(inbox_file=record)
                return record
        except DomainError as exc:
            return _record(base, status=InboxFile.Status.FAILED, handler=path, message=str(exc))
        except Exception:
            # The file is kept (failed/) and the error logged for the operators; the next file goes on.
            logger.exception("Inbox handler %s failed on %s of %s", path, name, organization.uuid)
            return _record(base, status=InboxFile.Status.FAILED, handler=path, message=INTERNAL_ERROR)
    return _record(base, status=InboxFile.Status.FAILED, message=no_taker_message())


def error_report(record: InboxFile) -> str:
    received = clock.local(record.received_at)
    lines = [
        f"{record.filename} was not taken in.",
        f"Received: {received:%Y-%m-%d %H:%M} Pacific",
        f"Reason: {record.message}",
        "",
    ]
    kinds = accepted_kinds()
    if kinds:
        lines += ["This inbox takes:", *(f"- {kind}" for kind in kinds), ""]
    lines.append("Put a corrected file in inbox/ to send it again. This file stays here for your records.")
    return "\n".join(lines) + "\n"


def _finish(organization: Organization, record: InboxFile, held: Path) -> None:
    """Write the reply files not yet written, then move the original out of its claim folder."""
    replies = [dict(r) for r in record.replies]
    for reply in replies:
        if not reply.get("outbox"):
            with default_storage.open(reply["stored"], "rb") as f:
                reply["outbox"] = folders.outbox_put(organization, reply["name"], f.read()).name
            InboxFile.objects.filter(pk=record.pk).update(replies=replies)
    inbox = folders.inbox_dir(organization)
    if record.status == InboxFile.Status.FAILED:
        final = folders.place(held, inbox / folders.FAILED, record.filename)
        folders.write_new(final.parent, final.name + folders.ERROR_SUFFIX, error_report(record).encode())
    else:
        final = folders.place(held, inbox / folders.PROCESSED, record.filename)
    record.replies = replies
    record.final_path = folders.relative_to_folder(organization, final)
    InboxFile.objects.filter(pk=record.pk).update(final_path=record.final_path)


# --- The sweep ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _sweep_lock() -> Iterator[bool]:
    """One sweep at a time on this machine (a lock file the kernel releases if the worker dies). Takes
    stay safe without it (claims are renames); it keeps two sweeps off the same stale claim."""
    path = Path(settings.VAR_DIR) / "sftp_sweep.lock"
    with open(path, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _recover_stale_claims(organization: Organization) -> int:
    claims = folders.inbox_dir(organization) / folders.CLAIMS
    if not claims.is_dir():
        return 0
    cutoff = clock.now().timestamp() - CLAIM_STALE_SECONDS
    done = 0
    for entry in list(os.scandir(claims)):
        if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime > cutoff:
            continue
        try:
            record_id = uuid.UUID(hex=entry.name[:32])
        except ValueError:
            continue
        # Re-claim under a new name, so this sweep alone finishes it; fresh mtime in case it dies too.
        fresh = claims / f"{record_id.hex}-{secrets.token_hex(4)}"
        try:
            os.rename(entry.path, fresh)
        except FileNotFoundError:
            continue
        os.utime(fresh)
        logger.warning("Finishing a stale inbox claim %s of %s", entry.name, organization.uuid)
        if _process_claim(organization, fresh, record_id) is not None:
            done += 1
    return done


def sweep_inboxes() -> int:
    """Take every settled file waiting in any organization's inbox, and finish stale claims. Returns how
    many files were taken in (or finished). Safe to run at any time and twice at once."""
    root = folders.sftp_root()
    if not root.is_dir():
        return 0
    with _sweep_lock() as locked:
        if not locked:
            return 0
        ids = []
        for entry in os.scandir(root):
            with contextlib.suppress(ValueError):
                if entry.is_dir(follow_symlinks=False):
                    ids.append(uuid.UUID(entry.name))
        settled_before = clock.now().timestamp() - settings.CSHUB_INBOX_SETTLE_SECONDS
        count = 0
        for organization in Organization.objects.filter(uuid__in=ids).order_by("pk"):
            count += _recover_stale_claims(organization)
            for path in folders.inbox_files(organization):
                try:
                    if path.lstat().st_mtime > settled_before:
                        continue  # still being written, perhaps
                    if take_inbox_file(organization, path) is not None:
                        count += 1
                except FileNotFoundError:
                    continue  # taken meanwhile by the upload's own task
                except Exception:
                    # One file's trouble must not stop the others; its claim is finished by a later sweep.
                    logger.exception("Could not take %s of %s", path.name, organization.uuid)
        return count
