"""The SFTP username: the last 12 hex digits of the organization's uuid, found again at login on SQLite
and PostgreSQL alike, even when uuids share their leading digits (the seeder's `5eed…` marker)."""

from __future__ import annotations

import uuid

import pytest

from cshub.exchange import selectors
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_username_finds_its_organization_even_with_a_shared_uuid_prefix():
    a = OrganizationFactory(uuid=uuid.UUID("5eed0000-07ea-4fd3-9acb-921d2e4f4a48"))
    b = OrganizationFactory(uuid=uuid.UUID("5eed0000-07ea-4fb0-b196-d2cf3c084d64"))
    assert selectors.sftp_username(a) == "921d2e4f4a48"
    assert selectors.organization_for_sftp_username("921d2e4f4a48") == a
    assert selectors.organization_for_sftp_username("D2CF3C084D64") == b  # case does not matter
    for wrong in ("5eed000007ea", "921d2e4f4a4", "921d2e4f4a48x", "%", "921d2e4f4a4_", "", str(a.uuid)):
        assert selectors.organization_for_sftp_username(wrong) is None, wrong


def test_inactive_or_ambiguous_names_log_no_one_in():
    a = OrganizationFactory(uuid=uuid.UUID("11111111-1111-4111-8111-aaaaaaaaaaaa"), is_active=False)
    assert selectors.organization_for_sftp_username(selectors.sftp_username(a)) is None
    OrganizationFactory(uuid=uuid.UUID("22222222-2222-4222-8222-bbbbbbbbbbbb"))
    OrganizationFactory(uuid=uuid.UUID("33333333-3333-4333-8333-bbbbbbbbbbbb"))
    assert selectors.organization_for_sftp_username("bbbbbbbbbbbb") is None
