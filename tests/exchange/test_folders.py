"""Organization folders: made on demand, atomic outbox writes that never overwrite, the inbox listing."""

from __future__ import annotations

import os

import pytest

from cshub.core.errors import DomainError
from cshub.exchange import folders
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_organization_folder_is_made_on_demand(sftp_root):
    org = OrganizationFactory()
    folder = folders.organization_folder(org)
    assert folder == sftp_root / str(org.uuid)
    assert (folder / "inbox").is_dir() and (folder / "outbox").is_dir()
    assert folders.organization_folder(org) == folder  # again: no error, same place


def test_outbox_put_never_overwrites(sftp_root):
    org = OrganizationFactory()
    first = folders.outbox_put(org, "remit.835", b"one")
    second = folders.outbox_put(org, "remit.835", b"two")
    third = folders.outbox_put(org, "README", b"three")
    fourth = folders.outbox_put(org, "README", b"four")
    assert [p.name for p in (first, second, third, fourth)] == [
        "remit.835",
        "remit-1.835",
        "README",
        "README-1",
    ]
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    # no temporary file is left behind
    assert sorted(os.listdir(first.parent)) == ["README", "README-1", "remit-1.835", "remit.835"]


@pytest.mark.parametrize("name", ["../escape.txt", "sub/file.txt", "..", ".", "", "a\\b", ".hidden", "a\nb"])
def test_outbox_put_refuses_paths_and_hidden_names(sftp_root, name):
    org = OrganizationFactory()
    with pytest.raises(DomainError) as exc:
        folders.outbox_put(org, name, b"x")
    assert exc.value.errors[0].field == "filename"
    assert not list(sftp_root.rglob("escape.txt"))


def test_inbox_files_lists_only_files_ready_to_take(sftp_root):
    org = OrganizationFactory()
    inbox = folders.organization_folder(org) / "inbox"
    for name in ("b.837", "a.txt", "upload.part", "x.filepart", "y.tmp", ".upload-123.part"):
        (inbox / name).write_bytes(b"x")
    (inbox / "processed").mkdir()
    os.symlink("/etc/hostname", inbox / "link.txt")
    assert sorted(p.name for p in folders.inbox_files(org)) == ["a.txt", "b.837"]


def test_numbered_names():
    assert folders.numbered("claims.837", 0) == "claims.837"
    assert folders.numbered("claims.837", 2) == "claims-2.837"
    assert folders.numbered("x.tar.gz", 1) == "x.tar-1.gz"
    assert folders.numbered("README", 3) == "README-3"
    assert folders.numbered(".profile", 1) == ".profile-1"
