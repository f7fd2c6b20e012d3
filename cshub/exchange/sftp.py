"""The embedded SFTP server (`cshub sftp`): asyncssh, public-key logins only, one folder per organization.

* Login: the username is the organization's short id (`selectors.sftp_username`) and the key offered must be
  one of that organization's active `SshKey`s. No passwords, no shells, no forwarding, no scp.
* Each session is chrooted to the organization's folder (`folders.organization_folder`): it sees `/inbox`
  and `/outbox` and nothing above them; `..` and absolute paths stay inside, and names starting with a dot
  (cshub's working files) do not exist for it.
* Reading: anything in the folder (inbox/, inbox/processed/, inbox/failed/ with its error reports,
  outbox/). Every file read is audited, since outbox files hold member data.
* Writing: new files directly in inbox/, nothing else. An upload is written to a hidden `.upload-….part`
  file and takes its name only when the client closes it, so a half-sent file is never taken in (one cut
  off by a dropped connection is deleted). A name already waiting in the inbox gets a numbered suffix.
  Renames within inbox/ are allowed (clients that upload `x.filepart` and rename it to `x`); removing,
  overwriting, making folders or links are refused everywhere, so the outbox is read-only and nothing the
  organization sent or received disappears. Attribute changes (times, modes) are accepted and ignored.
* When an upload lands, the worker is asked to take it in (`tasks.inbox_file_arrived`); the minute sweep
  catches any file whose task was lost.

The ORM is synchronous, so every database call runs in a thread (`run_db`), which closes its connection
when done.
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.sftp import FXF_APPEND, FXF_CREAT, FXF_EXCL, FXF_READ, FXF_TRUNC, FXF_WRITE
from django.conf import settings
from django.db import connections

from cshub.core.context import acting
from cshub.exchange import folders, selectors, services

logger = logging.getLogger(__name__)

DENIED_WRITE = (
    "Only new files directly in inbox/ can be written; outbox/ and the other folders are read-only."
)
DENIED_CHANGE = "Files here cannot be removed or changed; send a new file to inbox/ instead."


async def run_db(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run synchronous Django work in a thread; the thread's database connections are closed after."""

    def call() -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key; an Ed25519 key is made on first start and kept with mode 0600."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="cshub sftp host key")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made by another process a moment ago
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(key.export_private_key("openssh"))
    return asyncssh.read_private_key(str(path))


# --- Logging in -----------------------------------------------------------------------------------------
def _login_lookup(username: str, fingerprint: str) -> tuple[Any, Any] | None:
    organization = selectors.organization_for_sftp_username(username)
    if organization is None:
        return None
    key = selectors.ssh_key_for_login(organization=organization, fingerprint=fingerprint)
    return (organization, key) if key is not None else None


class ExchangeSSHServer(asyncssh.SSHServer):
    """One per connection: public-key authentication against the organizations' registered keys."""

    def __init__(self) -> None:
        self._conn: asyncssh.SSHServerConnection | None = None
        self._accepted: dict[str, tuple[Any, Any]] = {}
        self._pending: set[asyncio.Task[Any]] = set()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    @property
    def peer(self) -> str | None:
        peer = self._conn.get_extra_info("peername") if self._conn else None
        return peer[0] if peer else None

    def begin_auth(self, username: str) -> bool:
        return True  # every login must authenticate

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Whether `key` may log in as `username` (asyncssh checks the signature itself)."""
        found = await run_db(_login_lookup, username, key.get_fingerprint("sha256"))
        if found is None:
            logger.info("SFTP login refused for %r from %s", username, self.peer)
            return False
        self._accepted[username] = found
        return True

    def organization_for(self, username: str) -> Any:
        return self._accepted[username][0]

    def auth_completed(self) -> None:
        username = self._conn.get_extra_info("username")
        _, key = self._accepted[username]
        peer = self.peer

        def record() -> None:
            with acting("sftp", ip_address=peer):
                services.ssh_key_record_login(key=key, username=username, ip_address=peer)

        task = asyncio.get_running_loop().create_task(run_db(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


# --- The folder -----------------------------------------------------------------------------------------
def _enqueue_take(organization_id: int, relative_path: str) -> None:
    from cshub.exchange.tasks import inbox_file_arrived

    try:
        inbox_file_arrived(organization_id, relative_path)
    except Exception:
        # The file is safe in the inbox; the minute sweep takes it in. The upload itself succeeded.
        logger.exception("Could not queue %s of organization %s", relative_path, organization_id)


class OrganizationSFTPServer(asyncssh.SFTPServer):
    """An SFTP session confined to one organization's folder (see the module's docstring)."""

    def __init__(self, chan: asyncssh.SSHServerChannel, *, organization: Any) -> None:
        self.organization = organization
        self.folder = folders.organization_folder(organization).resolve()
        self._root = os.fsencode(self.folder)
        self._uploads: dict[Any, tuple[Path, str]] = {}
        peer = chan.get_connection().get_extra_info("peername")
        self._peer = peer[0] if peer else None
        super().__init__(chan, chroot=self._root)

    # Paths
    def _parts(self, path: bytes) -> tuple[str, ...]:
        """The client's path as names from the folder's top; a hidden name does not exist."""
        normalized = posixpath.normpath(posixpath.join(b"/", path))
        parts = tuple(os.fsdecode(p) for p in normalized.split(b"/") if p)
        if any(p.startswith(".") for p in parts):
            raise asyncssh.SFTPNoSuchFile("No such file")
        return parts

    def map_path(self, path: bytes) -> bytes:
        self._parts(path)
        local = super().map_path(path)
        real = os.path.realpath(local)
        if real != self._root and not real.startswith(self._root + b"/"):
            raise asyncssh.SFTPNoSuchFile("No such file")  # a link leading out of the folder
        return local

    def _inbox_name(self, path: bytes) -> str:
        parts = self._parts(path)
        if len(parts) != 2 or parts[0] != folders.INBOX:
            raise asyncssh.SFTPPermissionDenied(DENIED_WRITE)
        problem = folders.filename_problem(parts[1])
        if problem:
            raise asyncssh.SFTPPermissionDenied(problem)
        return parts[1]

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        async for entry in super().scandir(path):
            name = entry.filename
            if name in (b".", b"..") or not name.startswith(b"."):
                yield entry

    # Files
    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC):
            return self._open_upload(path, pflags)
        file_obj = super().open(path, FXF_READ, attrs)
        try:
            await run_db(self._audit_read, "/".join(self._parts(path)))
        except BaseException:
            super().close(file_obj)  # no read without its audit row
            raise
        return file_obj

    def _audit_read(self, relative: str) -> None:
        with acting("sftp", ip_address=self._peer):
            services.exchange_file_sftp_read_record(organization=self.organization, relative_path=relative)

    def _open_upload(self, path: bytes, pflags: int) -> object:
        name = self._inbox_name(path)
        if pflags & (FXF_READ | FXF_APPEND):
            raise asyncssh.SFTPOpUnsupported(
                "Uploads cannot be appended to or read back; send the whole file."
            )
        if not pflags & FXF_CREAT:
            raise asyncssh.SFTPPermissionDenied(DENIED_CHANGE)
        inbox = self.folder / folders.INBOX
        if pflags & FXF_EXCL and os.path.lexists(inbox / name):
            raise asyncssh.SFTPFileAlreadyExists("A file with this name is waiting in the inbox")
        temp = inbox / f".upload-{secrets.token_hex(8)}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, folders.FILE_MODE)
        file_obj = open(fd, "wb", buffering=0)  # noqa: SIM115 (closed in close())
        self._uploads[file_obj] = (temp, name)
        return file_obj

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        limit = settings.CSHUB_SFTP_MAX_UPLOAD_BYTES
        if file_obj in self._uploads and offset + len(data) > limit:
            raise asyncssh.SFTPFailure(f"Files larger than {limit:,} bytes are not accepted")
        return super().write(file_obj, offset, data)

    async def close(self, file_obj: object) -> None:
        upload = self._uploads.pop(file_obj, None)
        super().close(file_obj)
        if upload is None:
            return
        temp, name = upload
        if self.channel.is_closing():
            # The session ended with the file still open: the upload was cut off. Drop the partial file.
            temp.unlink(missing_ok=True)
            logger.warning("Dropped an interrupted upload of %s by %s", name, self.organization.uuid)
            return
        final = folders.place(temp, self.folder / folders.INBOX, name)
        await run_db(_enqueue_take, self.organization.pk, f"{folders.INBOX}/{final.name}")

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        old, new = self._inbox_name(oldpath), self._inbox_name(newpath)
        inbox = self.folder / folders.INBOX
        source, target = inbox / old, inbox / new
        if not source.is_file() or source.is_symlink():
            raise asyncssh.SFTPNoSuchFile("No such file")
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            raise asyncssh.SFTPFileAlreadyExists("A file with this name is already in the inbox") from None
        os.unlink(source)
        if folders.is_ready(new):
            await run_db(_enqueue_take, self.organization.pk, f"{folders.INBOX}/{new}")

    posix_rename = rename  # never replaces an existing file either

    def remove(self, path: bytes) -> None:
        self._parts(path)
        raise asyncssh.SFTPPermissionDenied(DENIED_CHANGE)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied(DENIED_WRITE)

    def rmdir(self, path: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied(DENIED_CHANGE)

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied(DENIED_WRITE)

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied(DENIED_WRITE)

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        self._parts(path)  # accepted and ignored (clients set times after an upload)

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        self._parts(path)

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        return None


def _sftp_factory(chan: asyncssh.SSHServerChannel) -> OrganizationSFTPServer:
    conn = chan.get_connection()
    server: ExchangeSSHServer = conn.get_owner()
    return OrganizationSFTPServer(chan, organization=server.organization_for(conn.get_extra_info("username")))


# --- Running --------------------------------------------------------------------------------------------
async def start_server(
    *, host: str | None = None, port: int | None = None, host_key_path: Path | None = None
) -> asyncssh.SSHAcceptor:
    """Listen for SFTP clients; returns the acceptor (`.sockets`, `.close()`, `.wait_closed()`)."""
    host_key = load_host_key(host_key_path or settings.CSHUB_SFTP_HOST_KEY)
    folders.sftp_root().mkdir(parents=True, exist_ok=True)
    return await asyncssh.listen(
        settings.CSHUB_SFTP_HOST if host is None else host,
        settings.CSHUB_SFTP_PORT if port is None else port,
        server_host_keys=[host_key],
        server_factory=ExchangeSSHServer,
        sftp_factory=_sftp_factory,
        allow_scp=False,
        password_auth=False,
        kbdint_auth=False,
        host_based_auth=False,
        gss_host=None,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=False,
        rdns_lookup=False,
        login_timeout=60,
        keepalive_interval=60,
    )


async def serve_forever(*, host: str, port: int, on_ready: Callable[[str, int], None] | None = None) -> None:
    with acting("sftp"):
        acceptor = await start_server(host=host, port=port)
        bound = acceptor.sockets[0].getsockname()
        if on_ready is not None:
            on_ready(bound[0], bound[1])
        await acceptor.wait_closed()
