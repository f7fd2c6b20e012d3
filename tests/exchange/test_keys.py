"""Registering and revoking SSH keys: field errors for bad keys, one key one organization, audit rows."""

from __future__ import annotations

import asyncssh
import pytest

from cshub.accounts.roles import Role
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.core.models import AuditEvent
from cshub.exchange import errors, services
from cshub.exchange.models import SshKey
from tests.exchange.conftest import new_key, public_text, register


def add(user, text, name="Key"):
    return services.ssh_key_add(actor=user, organization=user.organization, name=name, public_key=text)


def field_error(exc_info, field="public_key"):
    found = [e for e in exc_info.value.errors if e.field == field]
    assert found, exc_info.value.errors
    return found[0]


@pytest.mark.parametrize(
    ("alg", "kwargs"),
    [("ssh-ed25519", {}), ("ecdsa-sha2-nistp256", {}), ("ssh-rsa", {"key_size": 2048})],
)
def test_accepted_key_types(world, alg, kwargs):
    key = new_key(alg, comment="billing@provider-a", **kwargs)
    row = add(world.alice, public_text(key), name="  Billing  ")
    assert row.name == "Billing" and row.algorithm == alg and row.organization == world.provider_a
    assert row.fingerprint == key.get_fingerprint("sha256")
    assert row.public_key.startswith(alg + " ") and "\n" not in row.public_key
    assert row.added_by == world.alice
    event = AuditEvent.objects.get(object_type="ssh_key", action="create")
    assert event.actor == world.alice and event.detail["fingerprint"] == row.fingerprint


def test_rfc4716_key_is_stored_in_openssh_format(world):
    key = new_key()
    row = add(world.alice, key.export_public_key("rfc4716").decode())
    assert row.public_key.split()[:2] == public_text(key).split()[:2]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "required"),
        ("hello world", errors.KEY_INVALID),
        ("ssh-ed25519 AAAAnotbase64!!", errors.KEY_INVALID),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIC4U4l3ilJkhwHybld+HNvKK0/t5JVAQkEFjdHC3GFw\n"
            "ssh-ed25519 AAAA",
            errors.KEY_INVALID,
        ),
    ],
)
def test_garbage_gives_a_field_error(world, text, code):
    with pytest.raises(DomainError) as exc:
        add(world.alice, text)
    assert field_error(exc).code == code
    assert not SshKey.objects.exists()


def test_private_key_pasted_by_mistake_is_refused_and_not_kept(world):
    private = new_key().export_private_key("openssh").decode()
    with pytest.raises(DomainError) as exc:
        add(world.alice, private)
    error = field_error(exc)
    assert error.code == errors.KEY_PRIVATE and "private key" in error.message
    assert not SshKey.objects.exists()
    assert not AuditEvent.objects.filter(object_type="ssh_key").exists()
    pkcs8 = new_key("ecdsa-sha2-nistp256").export_private_key("pkcs8-pem").decode()
    with pytest.raises(DomainError) as exc:
        add(world.alice, pkcs8)
    assert field_error(exc).code == errors.KEY_PRIVATE


def test_weak_and_unaccepted_key_types(world):
    rsa_1024 = asyncssh.generate_private_key("ssh-rsa", key_size=1024)
    with pytest.raises(DomainError) as exc:
        add(world.alice, public_text(rsa_1024))
    assert field_error(exc).code == errors.KEY_TOO_SHORT and "1024 bits" in field_error(exc).message
    with pytest.raises(DomainError) as exc:
        add(world.alice, public_text(new_key("ecdsa-sha2-1.3.132.0.10")))  # secp256k1
    assert field_error(exc).code in (errors.KEY_ALGORITHM, errors.KEY_INVALID)


def test_duplicates(world):
    key = new_key()
    add(world.alice, public_text(key), name="First")
    with pytest.raises(DomainError) as exc:
        add(world.alice, public_text(key), name="Again")
    assert field_error(exc).code == errors.KEY_DUPLICATE and "First" in field_error(exc).message
    with pytest.raises(DomainError) as exc:
        add(world.charlie, public_text(key))  # another organization: told, not shown whose
    assert field_error(exc).code == errors.KEY_DUPLICATE and "First" not in field_error(exc).message
    services.ssh_key_revoke(actor=world.alice, key=SshKey.objects.get())
    with pytest.raises(DomainError) as exc:
        add(world.alice, public_text(key))
    assert field_error(exc).code == errors.KEY_REVOKED


def test_name_is_required_alongside_key_errors(world):
    with pytest.raises(DomainError) as exc:
        services.ssh_key_add(actor=world.alice, organization=world.provider_a, name=" ", public_key="junk")
    assert {e.field for e in exc.value.errors} == {"name", "public_key"}


def test_who_may_manage_keys(world):
    key = public_text(new_key())
    with pytest.raises(PermissionDeniedError):
        add(world.bob, key)  # care coordinator
    with pytest.raises(PermissionDeniedError):  # CEO of provider B, for provider A
        services.ssh_key_add(actor=world.charlie, organization=world.provider_a, name="x", public_key=key)
    with pytest.raises(PermissionDeniedError):  # the plan administrator manages the plan's keys, not A's
        services.ssh_key_add(
            actor=world.plan_users[Role.PLAN_ADMIN], organization=world.provider_a, name="x", public_key=key
        )
    for role in sorted(world.plan_users):
        user = world.plan_users[role]
        if role == Role.PLAN_ADMIN:
            assert add(user, public_text(new_key())).organization == world.plan
        else:
            with pytest.raises(PermissionDeniedError):
                add(user, public_text(new_key()))


def test_revoke(world):
    row = register(world.alice, new_key())
    with pytest.raises(PermissionDeniedError):
        services.ssh_key_revoke(actor=world.charlie, key=row)
    with pytest.raises(PermissionDeniedError):
        services.ssh_key_revoke(actor=world.bob, key=row)
    revoked = services.ssh_key_revoke(actor=world.alice, key=row)
    assert revoked.revoked_at is not None and revoked.revoked_by == world.alice
    again = services.ssh_key_revoke(actor=world.alice, key=row)
    assert again.revoked_at == revoked.revoked_at
    assert AuditEvent.objects.filter(object_type="ssh_key", action="update").count() == 1
