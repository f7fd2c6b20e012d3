from __future__ import annotations

import asyncssh
import pytest

from cshub.exchange import services
from tests.exchange import handlers


@pytest.fixture
def sftp_root(settings, tmp_path):
    """Exchange folders, host key and sweep lock in a temporary directory; files taken at once."""
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    settings.CSHUB_SFTP_HOST_KEY = tmp_path / "sftp_host_key"
    settings.CSHUB_INBOX_SETTLE_SECONDS = 0
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    settings.CSHUB_INBOX_HANDLERS = list(handlers.ALL)
    handlers.RECEIVED.clear()
    return settings.CSHUB_SFTP_ROOT


def new_key(alg: str = "ssh-ed25519", **kwargs) -> asyncssh.SSHKey:
    return asyncssh.generate_private_key(alg, **kwargs)


def public_text(key: asyncssh.SSHKey) -> str:
    return key.export_public_key("openssh").decode()


def register(user, key: asyncssh.SSHKey, name: str = "Billing system"):
    return services.ssh_key_add(
        actor=user, organization=user.organization, name=name, public_key=public_text(key)
    )
