"""`cshub sftp`: the embedded SFTP server (docs/sftp.md). Ctrl-C stops it.

When OpenSSH serves the same folders instead: `cshub sftp --list-accounts` prints each organization's SFTP
username, folder and name (tab-separated), for making one system user per organization, and
`cshub sftp --authorized-keys USERNAME` prints that organization's active keys, for sshd's
AuthorizedKeysCommand (so keys added or revoked on the keys page take effect at once)."""

from __future__ import annotations

import asyncio
import contextlib

from django.conf import settings
from django.core.management.base import BaseCommand

from cshub.accounts.models import Organization
from cshub.exchange import folders, selectors, sftp


class Command(BaseCommand):
    help = "Serve every organization's inbox/ and outbox/ over SFTP (public-key logins only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.CSHUB_SFTP_HOST)
        parser.add_argument("--port", type=int, default=settings.CSHUB_SFTP_PORT)
        parser.add_argument(
            "--list-accounts",
            action="store_true",
            help="print username, folder and name of each organization",
        )
        parser.add_argument(
            "--authorized-keys",
            metavar="USERNAME",
            default=None,
            help="print that organization's active keys (for sshd's AuthorizedKeysCommand)",
        )

    def handle(self, *args, **opts) -> None:
        if opts["authorized_keys"] is not None:
            for public_key in selectors.authorized_keys_for_username(opts["authorized_keys"]):
                self.stdout.write(f"restrict {public_key}")  # SFTP only: no forwarding, pty or agent
            return
        if opts["list_accounts"]:
            for org in Organization.objects.filter(is_active=True).order_by("name"):
                folder = folders.organization_folder(org)
                self.stdout.write(f"{selectors.sftp_username(org)}\t{folder}\t{org.name}")
            return

        def ready(host: str, port: int) -> None:
            self.stdout.write(f"SFTP on {host}:{port}, folders in {folders.sftp_root()} (Ctrl-C to stop)")

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sftp.serve_forever(host=opts["host"], port=opts["port"], on_ready=ready))
