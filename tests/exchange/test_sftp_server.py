"""The embedded SFTP server, end to end: the real asyncssh server on a free port in a background thread,
real asyncssh clients, keys registered through the service, uploads taken in by the (immediate) worker.

The server's threads use their own database connections, so these tests commit (transaction=True)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import asyncssh
import pytest

from cshub.core.models import AuditEvent
from cshub.exchange import folders, selectors, services, sftp
from cshub.exchange.models import InboxFile, SshKey
from tests.exchange import handlers
from tests.exchange.conftest import new_key, register

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class ServerThread:
    """`sftp.start_server` on 127.0.0.1 and a free port, in its own event loop and thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="sftp-server", daemon=True)
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.acceptor = self.loop.run_until_complete(sftp.start_server(host="127.0.0.1", port=0))
            self.port = self.acceptor.sockets[0].getsockname()[1]
        except BaseException as exc:  # surfaced by start()
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    def start(self) -> ServerThread:
        self.thread.start()
        self.ready.wait(10)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self.acceptor.close()
            await self.acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


@pytest.fixture
def server(sftp_root):
    running = ServerThread().start()
    yield running
    running.stop()


def connect(server: ServerThread, username: str, key: asyncssh.SSHKey):
    return asyncssh.connect(
        "127.0.0.1",
        server.port,
        username=username,
        client_keys=[key],
        known_hosts=None,
        agent_path=None,
        config=None,
        preferred_auth="publickey",
    )


def run(coro):
    return asyncio.run(coro)


async def can_login(server, username, key) -> bool:
    try:
        async with connect(server, username, key) as conn, conn.start_sftp_client() as client:
            await client.listdir("/")
    except asyncssh.PermissionDenied:
        return False
    return True


@pytest.fixture
def alice_key(world, sftp_root):
    key = new_key()
    register(world.alice, key)
    return key


def test_login_with_registered_key_only(server, world, alice_key):
    user_a = selectors.sftp_username(world.provider_a)
    user_b = selectors.sftp_username(world.provider_b)
    assert run(can_login(server, user_a, alice_key))
    assert not run(can_login(server, user_a, new_key()))  # never registered
    assert not run(can_login(server, user_b, alice_key))  # provider A's key, provider B's username
    assert not run(can_login(server, "nosuchorg000", alice_key))
    assert not run(can_login(server, str(world.provider_a.uuid), alice_key))  # the full uuid is not it
    key = SshKey.objects.get()
    assert key.last_used_at is not None
    assert AuditEvent.objects.filter(action="login", object_type="ssh_key", object_id=str(key.uuid)).exists()


def test_revoked_key_no_longer_logs_in(server, world, alice_key):
    username = selectors.sftp_username(world.provider_a)
    assert run(can_login(server, username, alice_key))
    services.ssh_key_revoke(actor=world.alice, key=SshKey.objects.get())
    assert not run(can_login(server, username, alice_key))


def test_inactive_organization_cannot_log_in(server, world, alice_key):
    world.provider_a.is_active = False
    world.provider_a.save(update_fields=["is_active"])
    assert not run(can_login(server, selectors.sftp_username(world.provider_a), alice_key))


def test_no_password_and_no_shell(server, world, alice_key):
    async def attempt():
        with pytest.raises(asyncssh.PermissionDenied):
            async with asyncssh.connect(
                "127.0.0.1",
                server.port,
                username=selectors.sftp_username(world.provider_a),
                password="correct horse battery staple",
                client_keys=None,
                known_hosts=None,
                agent_path=None,
                config=None,
            ):
                pass
        async with connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.run("cat /etc/passwd", check=True)

    run(attempt())


def test_client_sees_only_its_own_folder(server, world, alice_key):
    # Provider B has a folder with a file in it; A's client must not reach it by any path.
    b_folder = folders.organization_folder(world.provider_b)
    (b_folder / "outbox" / "secret-835.txt").write_bytes(b"provider B remittance")
    folders.outbox_put(world.provider_a, "ours.835", b"provider A remittance")
    b_id = str(world.provider_b.uuid)

    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            assert sorted(await client.listdir("/")) == [".", "..", "inbox", "outbox"]
            assert await client.realpath("..") == "/"
            assert sorted(await client.listdir("/../..")) == [".", "..", "inbox", "outbox"]
            assert sorted(await client.listdir("/outbox")) == [".", "..", "ours.835"]
            async with client.open("../../outbox/ours.835", "rb") as f:
                assert await f.read() == b"provider A remittance"
            for path in (
                f"/../{b_id}/outbox/secret-835.txt",
                f"../../{b_id}/outbox/secret-835.txt",
                f"{b_folder}/outbox/secret-835.txt",
                f"/inbox/../../{b_id}/outbox/secret-835.txt",
            ):
                with pytest.raises(asyncssh.SFTPNoSuchFile):
                    async with client.open(path, "rb") as f:
                        await f.read()
            for path in (f"/../{b_id}", str(b_folder), f"{b_folder}/outbox"):
                with pytest.raises(asyncssh.SFTPNoSuchFile):
                    await client.listdir(path)
            # cshub's working files are invisible and unreachable
            assert not [
                n for n in await client.listdir("/inbox") if n.startswith(".") and n not in (".", "..")
            ]
            with pytest.raises(asyncssh.SFTPNoSuchFile):
                await client.listdir("/inbox/.taking")

    run(session())


def test_upload_is_taken_in_and_the_reply_downloaded(server, world, alice_key, tmp_path):
    local = tmp_path / "claims.txt"
    local.write_bytes(b"ISA*00*...~")

    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            await client.put(str(local), "inbox/claims.txt")
            # Taken in when the upload closed: the reply is already in the outbox.
            assert "claims.txt.ack" in await client.listdir("/outbox")
            await client.get("/outbox/claims.txt.ack", str(tmp_path / "reply"))
            assert "claims.txt" in await client.listdir("/inbox/processed")
            assert "claims.txt" not in await client.listdir("/inbox")

    run(session())
    assert (tmp_path / "reply").read_bytes() == b"ACK ISA*00*...~"
    assert [(org, name, data) for org, name, data, _ in handlers.RECEIVED] == [
        (str(world.provider_a.uuid), "claims.txt", b"ISA*00*...~")
    ]
    record = InboxFile.objects.get()
    assert record.organization == world.provider_a and record.status == "taken"
    assert record.handler == "tests.exchange.handlers.echo_handler"
    assert record.final_path == "inbox/processed/claims.txt"
    assert record.replies[0]["outbox"] == "claims.txt.ack"
    assert AuditEvent.objects.filter(
        action="read", object_type="exchange_file", detail__path="outbox/claims.txt.ack"
    ).exists()


def test_unknown_file_fails_with_an_error_report(server, world, alice_key):
    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            async with client.open("inbox/roster.csv", "wb") as f:
                await f.write(b"a,b,c\n")
            names = await client.listdir("/inbox/failed")
            assert "roster.csv" in names and "roster.csv.error.txt" in names
            async with client.open("/inbox/failed/roster.csv.error.txt", "r") as f:
                return await f.read()

    report = run(session())
    assert "roster.csv was not taken in" in report
    assert "test text files (.txt)" in report
    assert InboxFile.objects.get().status == "failed"


def test_writes_outside_the_inbox_are_refused(server, world, alice_key):
    folders.outbox_put(world.provider_a, "remit.835", b"ISA~")

    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            for path in ("/outbox/new.txt", "/outbox/remit.835", "/top.txt", "/inbox/processed/x.txt"):
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    async with client.open(path, "wb") as f:
                        await f.write(b"x")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await client.remove("/outbox/remit.835")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await client.rename("/outbox/remit.835", "/inbox/remit.835")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await client.mkdir("/inbox/sub")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await client.symlink("/outbox/remit.835", "/inbox/link.txt")
            with pytest.raises(asyncssh.SFTPOpUnsupported):
                async with client.open("/inbox/append.txt", "ab") as f:
                    await f.write(b"x")
            assert sorted(await client.listdir("/outbox")) == [".", "..", "remit.835"]

    run(session())
    assert (folders.organization_folder(world.provider_a) / "outbox" / "remit.835").read_bytes() == b"ISA~"
    assert not InboxFile.objects.exists()


def test_a_name_in_use_gets_a_number_and_nothing_is_overwritten(server, world, alice_key, settings):
    settings.CSHUB_INBOX_HANDLERS = []  # nothing takes them: both land in failed/
    inbox = folders.organization_folder(world.provider_a) / "inbox"

    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            for body in (b"first", b"second"):
                async with client.open("inbox/same.dat", "wb") as f:
                    await f.write(body)

    run(session())
    assert (inbox / "failed" / "same.dat").read_bytes() == b"first"
    assert (inbox / "failed" / "same-1.dat").read_bytes() == b"second"


def test_temporary_upload_name_waits_for_the_rename(server, world, alice_key):
    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            async with client.open("inbox/batch.txt.filepart", "wb") as f:
                await f.write(b"hello")
            assert "batch.txt.filepart" in await client.listdir("/inbox")
            assert not handlers.RECEIVED
            await client.rename("inbox/batch.txt.filepart", "inbox/batch.txt")
            assert "batch.txt" in await client.listdir("/inbox/processed")

    run(session())
    assert [name for _, name, _, _ in handlers.RECEIVED] == ["batch.txt"]


def test_an_upload_cut_off_is_never_taken_in(server, world, alice_key):
    inbox = folders.organization_folder(world.provider_a) / "inbox"

    async def session():
        conn = await connect(server, selectors.sftp_username(world.provider_a), alice_key)
        client = await conn.start_sftp_client()
        f = await client.open("inbox/half.txt", "wb")
        await f.write(b"only the first half")
        assert [p.name for p in inbox.iterdir() if p.name.startswith(".upload-")]
        conn.abort()  # connection dropped mid-upload: the file was never closed
        await conn.wait_closed()

    run(session())
    for _ in range(50):  # the server notices the drop on its own loop
        if not [p for p in inbox.iterdir() if p.name.startswith(".upload-")]:
            break
        threading.Event().wait(0.05)
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    assert not handlers.RECEIVED and not InboxFile.objects.exists()


def test_sweep_takes_a_file_dropped_straight_into_the_folder(server, world, alice_key):
    """As when OpenSSH serves the folders: a file appears in the inbox without the embedded server."""
    from cshub.exchange.tasks import sweep_inboxes

    inbox = folders.organization_folder(world.provider_b) / "inbox"
    (inbox / "dropped.txt").write_bytes(b"from openssh")
    (inbox / "still-uploading.txt.part").write_bytes(b"partial")
    sweep_inboxes.call_local()
    assert [name for _, name, _, _ in handlers.RECEIVED] == ["dropped.txt"]
    assert (inbox / "processed" / "dropped.txt").exists()
    assert (inbox / "still-uploading.txt.part").exists()
    assert (folders.organization_folder(world.provider_b) / "outbox" / "dropped.txt.ack").exists()
    sweep_inboxes.call_local()  # nothing left: nothing taken twice
    assert len(handlers.RECEIVED) == 1


def test_same_file_twice_is_not_taken_twice(server, world, alice_key, tmp_path):
    local = Path(tmp_path / "again.txt")
    local.write_bytes(b"same bytes")

    async def session():
        async with (
            connect(server, selectors.sftp_username(world.provider_a), alice_key) as conn,
            conn.start_sftp_client() as client,
        ):
            await client.put(str(local), "inbox/again.txt")
            await client.put(str(local), "inbox/again.txt")
            return sorted(await client.listdir("/outbox"))

    outbox = run(session())
    assert outbox == [".", "..", "again.txt.ack"]
    assert len(handlers.RECEIVED) == 1
    statuses = list(InboxFile.objects.order_by("received_at", "id").values_list("status", flat=True))
    assert statuses == ["taken", "duplicate"]


def test_host_key_is_made_once_with_mode_0600(server, sftp_root, settings):
    path = Path(settings.CSHUB_SFTP_HOST_KEY)
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    before = path.read_bytes()
    sftp.load_host_key(path)
    assert path.read_bytes() == before


def test_openssh_helpers_list_accounts_and_authorized_keys(world, sftp_root):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sftp", "--list-accounts", stdout=out)
    username = selectors.sftp_username(world.provider_a)
    folder = folders.organization_folder(world.provider_a)
    assert f"{username}\t{folder}\t{world.provider_a.name}" in out.getvalue()
    active, revoked = register(world.alice, new_key()), register(world.alice, new_key(), name="Old")
    register(world.charlie, new_key())
    services.ssh_key_revoke(actor=world.alice, key=revoked)
    out = StringIO()
    call_command("sftp", "--authorized-keys", username, stdout=out)
    assert out.getvalue().splitlines() == [f"restrict {active.public_key}"]
    out = StringIO()
    call_command("sftp", "--authorized-keys", "000000000000", stdout=out)
    assert out.getvalue() == ""
