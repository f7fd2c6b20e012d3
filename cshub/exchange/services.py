"""Every write to SSH keys (STYLE 2): validated, written in a transaction, audited in the same transaction.
Inbox files are written by `inbox.take_inbox_file` (the worker's one ingest path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncssh
from django.db import IntegrityError, transaction

from cshub.core import clock
from cshub.core.audit import audit_record
from cshub.core.errors import DomainError, FieldError, PermissionDeniedError
from cshub.exchange import errors, permissions
from cshub.exchange.models import ExchangeFile, ExchangeFileDownload, SshKey

# The key types accepted (OpenSSH's current defaults); DSA, RSA under 2048 bits, certificates and
# security-key (sk-) types are refused.
ACCEPTED_ALGORITHMS = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
)
RSA_MIN_BITS = 2048
MAX_KEY_TEXT = 16_384
PRIVATE_KEY_MARKERS = ("PRIVATE KEY-----", "PuTTY-User-Key-File", "BEGIN SSH2 ENCRYPTED PRIVATE KEY")
HOW_TO = (
    "Paste the public key: the one line of the .pub file, starting with ssh-ed25519, ecdsa-sha2-… or "
    "ssh-rsa (make one with: ssh-keygen -t ed25519)."
)


@dataclass(frozen=True)
class ParsedKey:
    public_key: str  # normalized, one line, OpenSSH format (with the pasted comment)
    algorithm: str
    fingerprint: str  # SHA256:… as `ssh-keygen -l` prints it


def _key_error(message: str, code: str) -> DomainError:
    return DomainError("The key was not added.", code=code, errors=[FieldError("public_key", message, code)])


def parse_public_key(text: str) -> ParsedKey:
    """Check pasted key text; a DomainError on the `public_key` field says what is wrong and what to do."""
    text = (text or "").strip()
    if not text:
        raise _key_error(HOW_TO, "required")
    if any(marker in text for marker in PRIVATE_KEY_MARKERS):
        raise _key_error(
            "This is a private key, which must never leave your computer. It was not saved. Make a new key "
            "pair (this one has been exposed) and paste the public key: the .pub file.",
            errors.KEY_PRIVATE,
        )
    if len(text) > MAX_KEY_TEXT:
        raise _key_error("This is too long to be a public key. " + HOW_TO, errors.KEY_INVALID)
    if not text.startswith("---- BEGIN SSH2 PUBLIC KEY") and len(text.splitlines()) > 1:
        raise _key_error("Paste one key at a time (one line).", errors.KEY_INVALID)
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError, TypeError, UnicodeError):
        raise _key_error("This is not an SSH public key. " + HOW_TO, errors.KEY_INVALID) from None
    algorithm = key.get_algorithm()
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise _key_error(
            f"{algorithm} keys are not accepted; use ssh-ed25519 (recommended), ECDSA or RSA of at least "
            f"{RSA_MIN_BITS} bits.",
            errors.KEY_ALGORITHM,
        )
    if algorithm == "ssh-rsa":
        bits = key.pyca_key.key_size
        if bits < RSA_MIN_BITS:
            raise _key_error(
                f"This RSA key has {bits} bits; at least {RSA_MIN_BITS} are needed "
                "(ssh-keygen -t ed25519 makes a better key).",
                errors.KEY_TOO_SHORT,
            )
    normalized = key.export_public_key("openssh").decode("ascii", "replace").strip()
    return ParsedKey(normalized, algorithm, key.get_fingerprint("sha256"))


def _duplicate_error(existing: SshKey, organization: Any) -> DomainError:
    if existing.organization_id != organization.pk:
        message = "This key is registered to another organization; each organization needs its own key."
        code = errors.KEY_DUPLICATE
    elif existing.revoked_at is not None:
        message = (
            f"This key was revoked on {clock.local(existing.revoked_at):%Y-%m-%d} and cannot be added again; "
            "make a new key pair."
        )
        code = errors.KEY_REVOKED
    else:
        message = f"This key is already registered here, as “{existing.name}”."
        code = errors.KEY_DUPLICATE
    return _key_error(message, code)


@transaction.atomic
def ssh_key_add(*, actor: Any, organization: Any, name: str, public_key: str) -> SshKey:
    """Register an SSH public key with which `organization` logs in to its SFTP folder."""
    if not permissions.can_manage_keys(actor, organization):
        raise PermissionDeniedError("Only the organization's administrators manage its SSH keys.")
    name = (name or "").strip()
    field_errors = []
    if not name:
        field_errors.append(
            FieldError("name", "Name the key, e.g. the system or person using it.", "required")
        )
    elif len(name) > 100:
        field_errors.append(FieldError("name", "At most 100 characters.", "max_length"))
    try:
        parsed = parse_public_key(public_key)
    except DomainError as exc:
        raise DomainError("The key was not added.", code=exc.code, errors=field_errors + exc.errors) from None
    if field_errors:
        raise DomainError("The key was not added.", errors=field_errors)
    existing = SshKey.objects.filter(fingerprint=parsed.fingerprint).first()
    if existing is not None:
        raise _duplicate_error(existing, organization)
    try:
        with transaction.atomic():
            key = SshKey.objects.create(
                organization=organization,
                added_by=actor,
                created_by=actor,
                name=name,
                public_key=parsed.public_key,
                algorithm=parsed.algorithm,
                fingerprint=parsed.fingerprint,
            )
    except IntegrityError:  # added by someone else a moment ago
        raise _duplicate_error(SshKey.objects.get(fingerprint=parsed.fingerprint), organization) from None
    audit_record(
        actor=actor,
        action="create",
        object_type="ssh_key",
        object_id=key.uuid,
        detail={
            "organization": str(organization.uuid),
            "name": name,
            "algorithm": parsed.algorithm,
            "fingerprint": parsed.fingerprint,
        },
    )
    return key


@transaction.atomic
def ssh_key_revoke(*, actor: Any, key: SshKey) -> SshKey:
    """Stop a key from logging in, for good. Revoking a revoked key changes nothing. Locks the key's row."""
    if not permissions.can_manage_keys(actor, key.organization):
        raise PermissionDeniedError("Only the organization's administrators manage its SSH keys.")
    key = SshKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = clock.now()
    key.revoked_by = actor
    key.updated_by = actor
    key.save(update_fields=["revoked_at", "revoked_by", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        object_type="ssh_key",
        object_id=key.uuid,
        detail={"organization": str(key.organization.uuid), "revoked": True, "fingerprint": key.fingerprint},
    )
    return key


@transaction.atomic
def ssh_key_record_login(*, key: SshKey, username: str, ip_address: str | None = None) -> None:
    """An SFTP login with `key` succeeded: note when, and audit it (channel sftp)."""
    SshKey.objects.filter(pk=key.pk).update(last_used_at=clock.now())
    audit_record(
        actor=None,
        action="login",
        object_type="ssh_key",
        object_id=key.uuid,
        detail={"username": username, "fingerprint": key.fingerprint, "ip_address": ip_address or ""},
    )


def exchange_file_download_record(
    *, actor: Any, exchange_file: ExchangeFile, channel: str
) -> ExchangeFileDownload:
    """Rule D4: log one download of an exchange file (who, when, which door) and audit it, in one
    transaction, before the file is handed over. The audit row names the file and its row count, not the
    member ids (a CSASF can hold thousands of members; the file itself says who they are)."""
    if not permissions.can_view_shared_data(actor):
        raise PermissionDeniedError("Only the roles rule D4 names see exchange files.")
    with transaction.atomic():
        download = ExchangeFileDownload.objects.create(
            exchange_file=exchange_file,
            user=actor,
            organization_id=actor.organization_id,
            at=clock.now(),
            channel=channel,
            rows=exchange_file.rows,
        )
        audit_record(
            actor=actor,
            action="export",
            object_type="exchange_file",
            object_id=exchange_file.uuid,
            detail={
                "kind": exchange_file.kind,
                "file_name": exchange_file.file_name,
                "rows": exchange_file.rows,
                "plan_id": exchange_file.plan_id,
                "organization_id": exchange_file.organization_id,
                "channel": channel,
            },
        )
    return download


def exchange_file_sftp_read_record(*, organization: Any, relative_path: str) -> ExchangeFileDownload | None:
    """Rules D1 and D4: a file read over SFTP is audited, and when it is an exchange file put in the
    organization's outbox (a CSASF), the read is logged as a download like one from the page or the API.
    SFTP logins are by organization key, so no user is named (the audit row carries the address)."""
    with transaction.atomic():
        audit_record(
            actor=None,
            action="read",
            object_type="exchange_file",
            object_id=str(organization.uuid),
            detail={"organization": str(organization.uuid), "path": relative_path},
        )
        exchange_file = (
            ExchangeFile.objects.filter(organization=organization, outbox_path=relative_path)
            .order_by("-id")
            .first()
        )
        if exchange_file is None:
            return None
        return ExchangeFileDownload.objects.create(
            exchange_file=exchange_file,
            user=None,
            organization=organization,
            at=clock.now(),
            channel="sftp",
            rows=exchange_file.rows,
        )
