"""Rule D4: only the named reporting and leadership roles export member data; each export is audited."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from cshub.core.models import AuditEvent

EXPORT = {"format": "csv"}


def exported_cins(response) -> set[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    return {row["cin"] for row in rows}


@pytest.mark.parametrize("role", ["reporting_director", "reporting_supervisor"])
def test_d4_plan_reporting_roles_export_the_plans_members(client, world, role):
    client.force_login(world.plan_users[role])
    assert "Export CSV" in client.get(reverse("members:list")).content.decode()
    cins = exported_cins(client.get(reverse("members:list"), EXPORT))
    assert cins == {world.member_a.cin, world.member_b.cin}


def test_d4_provider_ceo_exports_only_her_care_team(client, world):
    client.force_login(world.alice)
    assert exported_cins(client.get(reverse("members:list"), EXPORT)) == {world.member_a.cin}


def test_d4_export_keeps_the_search_filters(client, world):
    client.force_login(world.plan_users["reporting_director"])
    response = client.get(reverse("members:list"), {**EXPORT, "member_id": world.member_b.cin})
    assert exported_cins(response) == {world.member_b.cin}


@pytest.mark.parametrize("who", ["bob", "plan_admin", "um_reviewer", "claims_processor"])
def test_d4_other_roles_get_403_and_no_export_button(client, world, who):
    client.force_login(getattr(world, who, None) or world.plan_users[who])
    assert "Export CSV" not in client.get(reverse("members:list")).content.decode()
    assert client.get(reverse("members:list"), EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("role", ["network", "provider_relations"])
def test_d4_roles_without_member_access_get_403(client, world, role):
    client.force_login(world.plan_users[role])
    assert client.get(reverse("members:list"), EXPORT).status_code == 403


def test_d4_export_is_audited_with_every_member_exported(client, world):
    director = world.plan_users["reporting_director"]
    client.force_login(director)
    exported_cins(client.get(reverse("members:list"), EXPORT))
    event = AuditEvent.objects.get(action="export")
    assert event.actor == director
    assert set(event.member_ids) == {str(world.member_a.uuid), str(world.member_b.uuid)}
    assert event.detail["purpose"] == "export"
    assert event.channel == "web"
