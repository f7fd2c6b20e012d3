"""Organizations: NPI Luhn and TIN checks, scoping (provider B never sees provider A), audit, CSV."""

import pytest
from django.urls import reverse

from cshub.accounts import services
from cshub.accounts.models import Organization
from cshub.accounts.roles import Role
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_create_organization_checks_npi_luhn_tin_and_counties(world):
    network = world.plan_users[Role.NETWORK]
    before = Organization.objects.count()
    with pytest.raises(DomainError) as exc:
        services.organization_create(
            actor=network,
            kind="cs_provider",
            name="Bad Org",
            npi="1234567890",
            tin="12-34",
            counties=["Atlantis"],
        )
    fields = {e.field for e in exc.value.errors}
    assert {"npi", "tin"} <= fields
    assert Organization.objects.count() == before  # nothing half-saved


def test_create_organization_records_audit_and_counties(world):
    network = world.plan_users[Role.NETWORK]
    org = services.organization_create(
        actor=network,
        kind="cs_provider",
        name="Casa Verde",
        npi="1234567893",
        tin="12-3456789",
        counties=["Fresno", "Kern"],
    )
    assert org.tin == "123456789"
    assert sorted(c.name for c in org.counties_served.all()) == ["Fresno", "Kern"]
    event = AuditEvent.objects.get(object_type="organization", object_id=str(org.uuid))
    assert event.action == "create" and event.actor == network and event.organization == world.plan


def test_duplicate_npi_is_refused(world):
    with pytest.raises(DomainError) as exc:
        services.organization_create(actor=None, kind="hospital", name="Copy", npi=world.provider_a.npi)
    assert exc.value.errors[0].code == "duplicate"


def test_provider_cannot_create_organizations(world):
    with pytest.raises(PermissionDeniedError):
        services.organization_create(actor=world.alice, kind="cs_provider", name="Mine")


def test_organization_list_page_for_network_staff_with_filters_and_csv(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.plan_users[Role.NETWORK])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:organization_list"), {"kind": "cs_provider"})
    assert response.status_code == 200
    names = [o.name for o in response.context["page_obj"]]
    assert "Provider A Housing Services" in names
    assert "Golden State Health Plan" not in names  # filtered out by kind
    csv = client.get(reverse("accounts:organization_list"), {"format": "csv", "search": "Provider B"})
    body = b"".join(csv.streaming_content).decode()
    assert body.splitlines()[0].startswith("id,kind,name") and "Provider B Meals on Wheels" in body
    assert "Provider A" not in body


def test_provider_gets_403_on_network_list_and_404_on_other_provider(client, world):
    client.force_login(world.charlie)
    assert client.get(reverse("accounts:organization_list")).status_code == 403
    url = reverse("accounts:organization_detail", args=[world.provider_a.uuid])
    assert client.get(url).status_code == 404
    own = client.get(reverse("accounts:organization_detail", args=[world.provider_b.uuid]))
    assert own.status_code == 200 and b"Invite a user" in own.content


def test_organization_form_shows_field_errors_and_saves_nothing(client, world):
    client.force_login(world.plan_users[Role.NETWORK])
    before = Organization.objects.count()
    response = client.post(
        reverse("accounts:organization_create"),
        {"kind": "cs_provider", "name": "Typo Org", "npi": "1234567890"},
    )
    assert response.status_code == 200
    assert b"check digit" in response.content
    assert Organization.objects.count() == before


def test_invite_user_sends_link_and_rejects_roles_of_other_kinds(client, world, mailoutbox):
    client.force_login(world.alice)
    url = reverse("accounts:user_invite", args=[world.provider_a.uuid])
    bad = client.post(url, {"email": "x@a.example", "full_name": "X", "roles": ["um_reviewer"]})
    assert bad.status_code == 200 and not mailoutbox
    ok = client.post(
        url, {"email": "dana@a.example", "full_name": "Dana Diaz", "roles": ["care_coordinator"]}
    )
    assert ok.status_code == 302
    assert len(mailoutbox) == 1 and "/accounts/password/reset/key/" in mailoutbox[0].body
    client.force_login(world.charlie)
    assert client.get(url).status_code == 404
