"""The SFTP keys page: who reaches it (the organization's administrators; everyone else 403, another
organization's keys 404), adding with field errors in the page, revoking, and how to connect."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cshub.accounts.roles import PLAN_ROLES, Role
from cshub.exchange import selectors
from cshub.exchange.models import InboxFile, SshKey
from tests.exchange.conftest import new_key, public_text, register

URL = "/exchange/keys/"


def test_url():
    assert reverse("exchange:keys") == URL


def test_administrator_sees_keys_connection_details_and_recent_files(client, world, sftp_root, settings):
    settings.CSHUB_SFTP_PUBLIC_HOST = "sftp.example.org"
    settings.CSHUB_SFTP_PUBLIC_PORT = 2222
    register(world.alice, new_key(), name="EHR nightly")
    register(world.charlie, new_key(), name="Provider B system")
    InboxFile.objects.create(
        organization=world.provider_a,
        filename="claims.837",
        sha256="0" * 64,
        size=10,
        received_at="2026-11-20T10:00Z",
        status="taken",
        message="10 claims",
        stored_name="x",
    )
    InboxFile.objects.create(
        organization=world.provider_b,
        filename="b-only.837",
        sha256="1" * 64,
        size=10,
        received_at="2026-11-20T10:00Z",
        status="taken",
        stored_name="y",
    )
    client.force_login(world.alice)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "EHR nightly" in body and "Provider B system" not in body
    assert selectors.sftp_username(world.provider_a) in body
    assert "sftp -P 2222" in body and "sftp.example.org" in body
    assert "claims.837" in body and "b-only.837" not in body
    assert 'for="id_public_key"' in body and "csrfmiddlewaretoken" in body
    nav = client.get("/").content.decode()
    assert 'href="/exchange/keys/"' in nav


@pytest.mark.parametrize("who", ["bob", "no_org"])
def test_people_who_may_not_manage_keys_get_403(client, world, who):
    if who == "bob":
        client.force_login(world.bob)  # care coordinator at provider A
    else:
        from tests.factories import UserFactory

        client.force_login(UserFactory(organization=None))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "x", "public_key": public_text(new_key())}).status_code == 403
    assert not SshKey.objects.exists()
    if who == "bob":
        assert 'href="/exchange/keys/"' not in client.get("/").content.decode()


def test_plan_roles_other_than_the_administrator_get_403(client, world):
    for role in sorted(PLAN_ROLES - {Role.PLAN_ADMIN}):
        client.force_login(world.plan_users[role])
        assert client.get(URL).status_code == 403, role
    client.force_login(world.plan_users[Role.PLAN_ADMIN])
    page = client.get(URL)
    assert page.status_code == 200 and selectors.sftp_username(world.plan) in page.content.decode()


def test_another_organizations_key_is_404(client, world):
    key = register(world.alice, new_key())
    revoke = reverse("exchange:key_revoke", args=[key.uuid])
    for outsider in (world.charlie, world.other_plan_user, world.plan_users[Role.PLAN_ADMIN], world.bob):
        client.force_login(outsider)
        assert client.post(revoke).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_add_and_revoke_through_the_page(client, world):
    client.force_login(world.alice)
    key = new_key()
    response = client.post(URL, {"name": "Billing", "public_key": public_text(key)})
    assert response.status_code == 302
    row = SshKey.objects.get()
    assert row.organization == world.provider_a and row.fingerprint == key.get_fingerprint("sha256")
    page = client.get(URL).content.decode()
    assert row.fingerprint in page
    assert client.get(reverse("exchange:key_revoke", args=[row.uuid])).status_code == 405
    assert client.post(reverse("exchange:key_revoke", args=[row.uuid])).status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_bad_key_errors_show_beside_the_field(client, world):
    client.force_login(world.alice)
    response = client.post(URL, {"name": "Billing", "public_key": "not a key"})
    assert response.status_code == 422
    form = response.context["form"]
    assert "This is not an SSH public key" in form.errors["public_key"][0]
    assert "not a key" in response.content.decode()  # garbage is shown back to fix


def test_a_pasted_private_key_is_not_echoed_back(client, world):
    client.force_login(world.alice)
    private = new_key().export_private_key("openssh").decode()
    response = client.post(URL, {"name": "Oops", "public_key": private})
    assert response.status_code == 422
    body = response.content.decode()
    assert "private key" in body
    assert "BEGIN OPENSSH PRIVATE KEY" not in body
    assert not SshKey.objects.exists()
