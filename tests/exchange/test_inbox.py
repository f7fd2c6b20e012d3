"""Taking inbox files in (the worker's side, without the server): handlers, replies, failures with an error
report, idempotence, the sweep, stale claims, and files that must never be followed."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from cshub.core.models import AuditEvent
from cshub.exchange import folders, inbox
from cshub.exchange.models import InboxFile
from tests.exchange import handlers
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(sftp_root):
    return OrganizationFactory(name="Provider Z")


def drop(org, name: str, data: bytes = b"data", *, age: float = 0):
    path = folders.organization_folder(org) / "inbox" / name
    path.write_bytes(data)
    if age:
        old = time.time() - age
        os.utime(path, (old, old))
    return path


def test_a_handler_takes_the_file_and_its_reply_goes_to_the_outbox(org):
    drop(org, "claims.txt", b"hello")
    record = inbox.take_inbox_file(org, "inbox/claims.txt")
    assert record.status == InboxFile.Status.TAKEN and record.message == "took 5 bytes"
    assert (
        record.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        and record.size == 5
    )
    folder = folders.organization_folder(org)
    assert (folder / "outbox" / "claims.txt.ack").read_bytes() == b"ACK hello"
    assert (folder / "inbox" / "processed" / "claims.txt").read_bytes() == b"hello"
    assert not (folder / "inbox" / "claims.txt").exists()
    assert default_storage.open(record.stored_name).read() == b"hello"  # the original is kept
    assert not list((folder / "inbox" / ".taking").iterdir())
    event = AuditEvent.objects.get(object_type="inbox_file")
    assert event.action == "import" and event.detail["status"] == "taken"


def test_taking_the_same_path_twice_does_nothing_the_second_time(org):
    drop(org, "claims.txt")
    assert inbox.take_inbox_file(org, "inbox/claims.txt") is not None
    assert inbox.take_inbox_file(org, "inbox/claims.txt") is None
    assert InboxFile.objects.count() == 1 and len(handlers.RECEIVED) == 1


def test_same_content_again_is_a_duplicate_not_a_second_take(org):
    drop(org, "one.txt", b"same")
    inbox.take_inbox_file(org, "inbox/one.txt")
    drop(org, "two.txt", b"same")
    record = inbox.take_inbox_file(org, "inbox/two.txt")
    assert record.status == InboxFile.Status.DUPLICATE and "one.txt" in record.message
    assert len(handlers.RECEIVED) == 1
    assert (folders.organization_folder(org) / "inbox" / "processed" / "two.txt").exists()
    # another organization sending the same bytes is not a duplicate of ours
    other = OrganizationFactory()
    drop(other, "one.txt", b"same")
    assert inbox.take_inbox_file(other, "inbox/one.txt").status == InboxFile.Status.TAKEN


def test_no_handler_takes_it_failed_with_an_error_report(org):
    drop(org, "roster.csv")
    record = inbox.take_inbox_file(org, "inbox/roster.csv")
    assert record.status == InboxFile.Status.FAILED and record.handler == ""
    assert "test text files (.txt)" in record.message
    failed = folders.organization_folder(org) / "inbox" / "failed"
    assert (failed / "roster.csv").read_bytes() == b"data"
    report = (failed / "roster.csv.error.txt").read_text()
    assert "roster.csv was not taken in" in report and "- test text files (.txt)" in report
    assert record.final_path == "inbox/failed/roster.csv"


@override_settings(CSHUB_INBOX_HANDLERS=[])
def test_with_no_handlers_configured_every_file_fails_kept(org):
    drop(org, "claims.txt")
    record = inbox.take_inbox_file(org, "inbox/claims.txt")
    assert record.status == "failed" and "does not take any kind of file yet" in record.message


def test_a_handler_refusing_the_file_fails_it_with_the_reason(org):
    drop(org, "claims.bad")
    record = inbox.take_inbox_file(org, "inbox/claims.bad")
    assert record.status == "failed" and record.handler.endswith("refusing_handler")
    assert "segment 3 is missing" in record.message
    report = (folders.organization_folder(org) / "inbox" / "failed" / "claims.bad.error.txt").read_text()
    assert "segment 3 is missing" in report


def test_a_handler_crashing_keeps_the_file_and_hides_the_traceback(org, caplog):
    drop(org, "claims.boom")
    record = inbox.take_inbox_file(org, "inbox/claims.boom")
    assert record.status == "failed" and record.message == inbox.INTERNAL_ERROR
    assert (folders.organization_folder(org) / "inbox" / "failed" / "claims.boom").exists()
    assert "a bug" in caplog.text


@pytest.mark.parametrize(
    "path", ["outbox/x.txt", "inbox/processed/x.txt", "../x.txt", "inbox/../outbox/x.txt", "inbox/x.txt.part"]
)
def test_only_ready_files_directly_in_the_inbox_are_taken(org, path):
    folder = folders.organization_folder(org)
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"x")
    assert inbox.take_inbox_file(org, path) is None
    assert target.exists()


def test_a_symlink_is_never_followed(org, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"server secret")
    link = folders.organization_folder(org) / "inbox" / "passwd.txt"
    os.symlink(secret, link)
    record = inbox.take_inbox_file(org, link)
    assert record.status == "failed" and record.size == 0
    assert not handlers.RECEIVED
    moved = folders.organization_folder(org) / "inbox" / "failed" / "passwd.txt"
    assert moved.is_symlink()  # the link itself moved, its target untouched
    assert secret.read_bytes() == b"server secret"


def test_too_large_is_refused_without_reading(org, settings):
    settings.CSHUB_SFTP_MAX_UPLOAD_BYTES = 3
    drop(org, "big.txt", b"12345")
    record = inbox.take_inbox_file(org, "inbox/big.txt")
    assert record.status == "failed" and "limit is 3" in record.message and not handlers.RECEIVED


def test_sweep_waits_for_a_file_to_settle(org, settings):
    settings.CSHUB_INBOX_SETTLE_SECONDS = 60
    drop(org, "fresh.txt")
    drop(org, "old.txt", age=120)
    assert inbox.sweep_inboxes() == 1
    assert [name for _, name, _, _ in handlers.RECEIVED] == ["old.txt"]
    assert (folders.organization_folder(org) / "inbox" / "fresh.txt").exists()


def test_sweep_ignores_folders_that_are_not_organizations(org, sftp_root):
    (sftp_root / "lost+found").mkdir(parents=True)
    (sftp_root / str(uuid.uuid4()) / "inbox").mkdir(parents=True)
    drop(org, "a.txt")
    assert inbox.sweep_inboxes() == 1


def test_sweep_finishes_a_claim_a_dead_worker_left(org):
    """A worker died after claiming one file (no row yet) and after committing another (row, replies not
    written): the sweep takes the first in and finishes the second without asking the handler again."""
    claims = folders.organization_folder(org) / "inbox" / ".taking"
    claims.mkdir(parents=True)
    # 1. claimed, nothing committed
    first = claims / uuid.uuid4().hex
    first.mkdir()
    (first / "first.txt").write_bytes(b"one")
    # 2. committed (taken, reply stored but not yet in the outbox)
    drop(org, "second.txt", b"two")
    record_id = uuid.uuid4()
    second = claims / record_id.hex
    second.mkdir()
    os.rename(folders.organization_folder(org) / "inbox" / "second.txt", second / "second.txt")
    record = inbox._ingest(org, second / "second.txt", record_id)
    handlers.RECEIVED.clear()
    # 3. a fresh claim another worker is holding right now: left alone
    busy = claims / uuid.uuid4().hex
    busy.mkdir()
    (busy / "busy.txt").write_bytes(b"busy")
    old = time.time() - inbox.CLAIM_STALE_SECONDS - 10
    for path in (first, second):
        os.utime(path, (old, old))

    assert inbox.sweep_inboxes() == 2
    assert [name for _, name, _, _ in handlers.RECEIVED] == ["first.txt"]
    outbox = folders.organization_folder(org) / "outbox"
    assert (outbox / "first.txt.ack").exists() and (outbox / "second.txt.ack").read_bytes() == b"ACK two"
    record.refresh_from_db()
    assert (
        record.final_path == "inbox/processed/second.txt" and record.replies[0]["outbox"] == "second.txt.ack"
    )
    assert sorted(p.name for p in claims.iterdir()) == [busy.name]
