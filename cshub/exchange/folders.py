"""Each organization's exchange folder: `<CSHUB_SFTP_ROOT>/<organization uuid>/` holding

    inbox/              files the organization sends; the worker takes each one in (`inbox.py`)
    inbox/processed/    files taken in, kept as they came
    inbox/failed/       files nobody took, each with `<name>.error.txt` beside it saying why
    outbox/             files cshub sends the organization (999 acknowledgements, 835 remittances, CSASF…)

Nothing here overwrites a file: a name already in use gets a numbered suffix (`claims.837` becomes
`claims-1.837`). Writes are atomic: a file appears under its name complete or not at all. Names starting
with a dot are cshub's working files (uploads in progress, files being taken) and are never shown to the
organization or taken in; names ending in a temporary suffix (`.part`, `.filepart`, `.tmp`) are uploads
still under way and wait for their rename.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from django.conf import settings

from cshub.core.errors import DomainError, FieldError

INBOX = "inbox"
OUTBOX = "outbox"
PROCESSED = "processed"
FAILED = "failed"
CLAIMS = ".taking"  # inbox/.taking/<InboxFile uuid>/<name>: a file the worker holds (inbox.py)
TEMP_SUFFIXES = (".part", ".filepart", ".tmp")
ERROR_SUFFIX = ".error.txt"
MAX_NAME_BYTES = 200
FILE_MODE = 0o640


def sftp_root() -> Path:
    return Path(settings.CSHUB_SFTP_ROOT)


def organization_folder(organization: object) -> Path:
    """The organization's folder, with inbox/ and outbox/ made on first use."""
    folder = sftp_root() / str(organization.uuid)
    for sub in (INBOX, OUTBOX):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def inbox_dir(organization: object) -> Path:
    return organization_folder(organization) / INBOX


def outbox_dir(organization: object) -> Path:
    return organization_folder(organization) / OUTBOX


def filename_problem(name: str) -> str | None:
    """Why `name` cannot be a file name in an exchange folder, or None when it can."""
    if not name or not name.strip():
        return "A file needs a name."
    if "/" in name or "\\" in name or name in (".", ".."):
        return "A file name cannot hold a path: no '/', '\\' or '..'."
    if name.startswith("."):
        return "A file name cannot start with a dot."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "A file name cannot hold control characters."
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"A file name can be at most {MAX_NAME_BYTES} bytes long."
    return None


def check_filename(name: str, *, field: str = "filename") -> str:
    problem = filename_problem(name)
    if problem:
        raise DomainError("The file name is not accepted.", errors=[FieldError(field, problem, "filename")])
    return name


def is_ready(name: str) -> bool:
    """An inbox name the worker may take: not cshub's working file, not an upload still under way."""
    return not name.startswith(".") and not name.lower().endswith(TEMP_SUFFIXES)


def numbered(name: str, n: int) -> str:
    """`claims.837` -> `claims-2.837`; `README` -> `README-2`."""
    if n == 0:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{n}"
    return f"{stem}-{n}.{suffix}"


def place(source: Path, directory: Path, name: str) -> Path:
    """Move `source` into `directory` under `name`, or the first free numbered variant: never replaces a
    file. A hard link then unlink makes the move atomic and refuses an existing target even when two
    processes place the same name at once."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(10_000):
        target = directory / numbered(name, n)
        try:
            os.link(source, target, follow_symlinks=False)  # a symlink moves as itself, never its target
        except FileExistsError:
            continue
        except OSError:
            # A file system without hard links: rename, after checking the name is free.
            if target.exists():
                continue
            os.rename(source, target)
            return target
        os.unlink(source)
        return target
    raise FileExistsError(f"No free name for {name} in {directory}")


def write_new(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to a hidden temporary file in `directory`, flush it to disk, then place it under `name`
    (numbered when taken). Readers never see a half-written file."""
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".write-{secrets.token_hex(8)}{TEMP_SUFFIXES[0]}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return place(temp, directory, name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def outbox_put(organization: object, filename: str, data: bytes) -> Path:
    """Put a file in the organization's outbox, atomically, never overwriting; returns where it landed."""
    check_filename(filename)
    return write_new(outbox_dir(organization), filename, data)


def inbox_files(organization: object) -> list[Path]:
    """The files waiting in the organization's inbox (oldest first), not counting uploads under way,
    cshub's working files, or the processed/ and failed/ folders."""
    folder = inbox_dir(organization)
    found: list[tuple[float, str, Path]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_ready(entry.name) and entry.is_file(follow_symlinks=False):
                found.append((entry.stat(follow_symlinks=False).st_mtime, entry.name, Path(entry.path)))
    return [path for _, _, path in sorted(found)]


def relative_to_folder(organization: object, path: Path) -> str:
    return path.relative_to(organization_folder(organization)).as_posix()
