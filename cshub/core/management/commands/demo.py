"""`cshub demo`: migrate, load the catalog, seed synthetic California data, make one login per role, and
serve web + API with the worker and the SFTP server beside it. Ctrl-C stops everything."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from cshub.accounts.models import Organization, User, UserRole
from cshub.accounts.roles import PLAN_ROLES, PROVIDER_ROLES, OrganizationKind, Role, roles_allowed_for
from cshub.core.context import acting

# Which organization kind each demo login belongs to: plan roles at a plan, provider roles at a CS provider,
# each referrer role at its own kind of organization.
REFERRER_HOME = {
    Role.ECM_STAFF: OrganizationKind.ECM_PROVIDER,
    Role.DISCHARGE_PLANNER: OrganizationKind.HOSPITAL,
    Role.REFERRER: OrganizationKind.OTHER,
}
DEMO_ROLE_HOME = {
    role: OrganizationKind.PLAN
    if role in PLAN_ROLES
    else OrganizationKind.CS_PROVIDER
    if role in PROVIDER_ROLES
    else REFERRER_HOME[role]
    for role in Role
}


def demo_password(var_dir: Path) -> str:
    """One password for every demo login, generated on the first run and kept in var/."""
    path = var_dir / "demo_password"
    if not path.exists():
        path.write_text(f"demo-{secrets.token_urlsafe(9)}")
        path.chmod(0o600)
    return path.read_text().strip()


def demo_email(role: str) -> str:
    return f"{role.replace('_', '.')}@demo.cshub.example"


@transaction.atomic
def ensure_demo_logins(password: str) -> list[tuple[str, str, str]]:
    """One user per role at the first organization of the right kind (the plan logins at the first plan)."""
    rows = []
    for role, kind in DEMO_ROLE_HOME.items():
        org = Organization.objects.filter(kind=kind).order_by("name").first()
        if org is None or role not in roles_allowed_for(kind):
            continue
        user = User.objects.filter(email=demo_email(role)).first()
        if user is None:
            user = User.objects.create_user(
                email=demo_email(role),
                password=password,
                organization=org,
                full_name=f"Demo {Role(role).label}",
            )
            UserRole.objects.create(user=user, role=role)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        rows.append((Role(role).label, user.email, user.organization.name))
    return rows


def ensure_demo_sftp_key(var_dir: Path) -> tuple[Path, str, str] | None:
    """A key pair in var/demo_sftp_key, registered for the demo CEO's provider, so the printed sftp command
    logs in as printed. Returns (private key path, SFTP username, organization name)."""
    import asyncssh

    from cshub.exchange import selectors as exchange_selectors
    from cshub.exchange import services as exchange_services
    from cshub.exchange.models import SshKey

    user = User.objects.filter(email=demo_email(Role.PROVIDER_CEO)).select_related("organization").first()
    if user is None:
        return None
    path = var_dir / "demo_sftp_key"
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="cshub demo")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.export_private_key("openssh"))
        path.with_name(path.name + ".pub").write_bytes(key.export_public_key("openssh"))
    key = asyncssh.read_private_key(str(path))
    existing = SshKey.objects.filter(fingerprint=key.get_fingerprint("sha256")).first()
    if existing is not None and existing.revoked_at is not None:
        return None  # revoked on the keys page: delete var/demo_sftp_key to get a new one
    if existing is None:
        with acting("cli"):
            exchange_services.ssh_key_add(
                actor=user,
                organization=user.organization,
                name="Demo key (var/demo_sftp_key)",
                public_key=key.export_public_key("openssh").decode(),
            )
    return path, exchange_selectors.sftp_username(user.organization), user.organization.name


class Command(BaseCommand):
    help = "Set up and run the demo: migrate, catalog, synthetic data, logins, web + API + worker + SFTP."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--members", type=int, default=3000)
        parser.add_argument("--providers", type=int, default=20)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sftp-port", type=int, default=settings.CSHUB_SFTP_PORT)
        parser.add_argument("--no-serve", action="store_true", help="set up only (used by the tests)")

    def handle(self, *args, **opts) -> None:
        out = self.stdout
        call_command("migrate", interactive=False, verbosity=0)
        out.write("Database migrated.")
        call_command("catalog", "load", verbosity=0)
        out.write("Community Supports catalog loaded.")
        if not Organization.objects.filter(kind=OrganizationKind.PLAN).exists():
            call_command("seed", members=opts["members"], providers=opts["providers"], seed=opts["seed"])
        else:
            out.write("Synthetic data already present (delete var/ to start over).")
        password = demo_password(Path(settings.VAR_DIR))
        logins = ensure_demo_logins(password)
        out.write("")
        out.write(self.style.SUCCESS(f"Demo logins (password for all: {password})"))
        width = max(len(r[1]) for r in logins)
        for label, email, org in logins:
            out.write(f"  {email.ljust(width)}  {label} — {org}")
        if opts["no_serve"]:
            return
        # The printed logins must work as printed: no TOTP setup for the demo's plan staff.
        settings.CSHUB_MFA_REQUIRED_FOR_PLAN = False
        out.write("")
        out.write(f"Web:  http://127.0.0.1:{opts['port']}/")
        out.write(f"API:  http://127.0.0.1:{opts['port']}/api/docs")
        sftp_port = opts["sftp_port"]
        out.write(f"SFTP: 127.0.0.1 port {sftp_port} (docs/sftp.md; keys at /exchange/keys/)")
        demo_key = ensure_demo_sftp_key(Path(settings.VAR_DIR))
        if demo_key is not None:
            key_path, username, org_name = demo_key
            out.write(f"      as {org_name}: sftp -P {sftp_port} -i {key_path} {username}@127.0.0.1")
        children = [
            subprocess.Popen([sys.executable, "-m", "cshub", "worker"]),
            subprocess.Popen(  # noqa: S603 (our own interpreter and command; the port is an int)
                [sys.executable, "-m", "cshub", "sftp", "--host", "127.0.0.1", "--port", str(sftp_port)]
            ),
        ]
        try:
            call_command("serve", port=opts["port"])
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            out.write("Stopped web, API, worker and SFTP.")
