"""Rule D4: only the named roles see shared data. Every role of `Role` (and a superuser, and nobody signed
in) walks every exchange file page and API endpoint: the list, one file, the download.

- D4 roles at the plan (Director of Reporting & Business Analytics, Supervisor of Reporting & Data
  Analysis) and the plan administrator: the plan's files, every provider's; another plan's file is 404;
- D4 roles at a provider (CEO/Executive Director, COO/Director of Operations, CS Program Director, CS
  Program Manager): the provider's own files, under every plan; another provider's file is 404;
- every other role: 403 on every page and endpoint;
- a superuser: everything; nobody signed in: the login page (web) or 401 (API).
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from cshub.accounts.roles import ROLES_BY_KIND, SHARED_DATA_ROLES, OrganizationKind, Role
from cshub.exchange import permissions
from cshub.exchange.models import ExchangeFile, ExchangeFileDownload
from tests.factories import OrganizationFactory, UserFactory

PLAN_FILE_ROLES = {Role.REPORTING_DIRECTOR, Role.REPORTING_SUPERVISOR, Role.PLAN_ADMIN}
PROVIDER_FILE_ROLES = {
    Role.PROVIDER_CEO,
    Role.PROVIDER_COO,
    Role.CS_PROGRAM_DIRECTOR,
    Role.CS_PROGRAM_MANAGER,
}


def _file(plan, organization, name):
    f = ExchangeFile(
        kind=ExchangeFile.Kind.CSASF,
        direction=ExchangeFile.Direction.OUT,
        plan=plan,
        organization=organization,
        production_date="2026-11-15",
        period_start="2026-10-30",
        period_end="2026-11-15",
        file_name=name,
        sha256="0" * 64,
        size=6,
        rows=1,
        status=ExchangeFile.Status.DELIVERED,
        layout_key="csasf",
    )
    f.file.save(name, ContentFile(b"a|b\r\n"), save=False)
    f.save()
    return f


@pytest.fixture
def files(world, sftp_root):
    return {
        "a_plan1": _file(world.plan, world.provider_a, "CSASF_A_PLAN1.txt"),
        "b_plan1": _file(world.plan, world.provider_b, "CSASF_B_PLAN1.txt"),
        "a_plan2": _file(world.plan2, world.provider_a, "CSASF_A_PLAN2.txt"),
    }


def _org_for(world, role):
    """An organization of a kind that may hold `role` (provider A for provider roles)."""
    if role in ROLES_BY_KIND[OrganizationKind.PLAN]:
        return world.plan
    if role in ROLES_BY_KIND[OrganizationKind.CS_PROVIDER]:
        return world.provider_a
    if role in ROLES_BY_KIND[OrganizationKind.HOSPITAL]:
        return OrganizationFactory(kind=OrganizationKind.HOSPITAL)
    return OrganizationFactory(kind=OrganizationKind.OTHER)


def _expected(role):
    """The files (by key) the role sees per rule D4; None = refused (403)."""
    if role in PLAN_FILE_ROLES:
        return {"a_plan1", "b_plan1"}
    if role in PROVIDER_FILE_ROLES:
        return {"a_plan1", "a_plan2"}
    return None


def test_d4_the_roles_that_see_files_are_exactly_the_named_roles_plus_the_plan_administrator():
    assert SHARED_DATA_ROLES | {Role.PLAN_ADMIN} == PLAN_FILE_ROLES | PROVIDER_FILE_ROLES
    assert permissions.EXCHANGE_FILE_ROLES == PLAN_FILE_ROLES | PROVIDER_FILE_ROLES


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_d4_every_role_walks_every_file_page_and_endpoint(client, world, files, role):
    user = UserFactory(organization=_org_for(world, role), roles=[role])
    client.force_login(user)
    expected = _expected(role)
    pages = {
        "list": ("/exchange/files/", "/api/v1/exchange/files"),
        **{
            key: (f"/exchange/files/{f.uuid}/", f"/api/v1/exchange/files/{f.uuid}")
            for key, f in files.items()
        },
    }
    if expected is None:
        assert not permissions.can_view_shared_data(user)
        for web, api in pages.values():
            assert client.get(web).status_code == 403, web
            assert client.get(api).status_code == 403, api
        for f in files.values():
            assert client.get(f"/exchange/files/{f.uuid}/download").status_code == 403
            assert client.get(f"/api/v1/exchange/files/{f.uuid}/download").status_code == 403
        assert not ExchangeFileDownload.objects.exists()
        return

    assert permissions.can_view_shared_data(user)
    page = client.get("/exchange/files/")
    assert page.status_code == 200
    body = page.content.decode()
    listed = {key for key, f in files.items() if f.file_name in body}
    assert listed == expected
    api = client.get("/api/v1/exchange/files")
    assert api.status_code == 200
    assert {item["file_name"] for item in api.json()["items"]} == {files[k].file_name for k in expected}
    for key, f in files.items():
        status = 200 if key in expected else 404
        for url in (
            f"/exchange/files/{f.uuid}/",
            f"/exchange/files/{f.uuid}/download",
            f"/api/v1/exchange/files/{f.uuid}",
            f"/api/v1/exchange/files/{f.uuid}/download",
        ):
            assert client.get(url).status_code == status, url
    assert ExchangeFileDownload.objects.filter(user=user).count() == 2 * len(expected)
    assert set(ExchangeFileDownload.objects.values_list("exchange_file__file_name", flat=True)) == {
        files[k].file_name for k in expected
    }


def test_d4_a_superuser_sees_every_file(client, world, files):
    """Wherever the superuser's account sits (the API needs an organization, as for every caller)."""
    admin = UserFactory(organization=world.provider_b, is_superuser=True, is_staff=True)
    client.force_login(admin)
    api = client.get("/api/v1/exchange/files")
    assert api.status_code == 200 and api.json()["count"] == 3
    for f in files.values():
        assert client.get(f"/exchange/files/{f.uuid}/download").status_code == 200
        assert client.get(f"/api/v1/exchange/files/{f.uuid}").status_code == 200


def test_d4_nobody_signed_in_gets_the_login_page_or_401(client, files):
    f = files["a_plan1"]
    for url in ("/exchange/files/", f"/exchange/files/{f.uuid}/", f"/exchange/files/{f.uuid}/download"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for url in (
        "/api/v1/exchange/files",
        f"/api/v1/exchange/files/{f.uuid}",
        f"/api/v1/exchange/files/{f.uuid}/download",
    ):
        assert client.get(url).status_code == 401


def test_d4_the_navigation_shows_exchange_files_only_to_the_d4_roles(client, world, files):
    client.force_login(world.alice)  # CEO at provider A
    assert 'href="/exchange/files/"' in client.get("/").content.decode()
    client.force_login(world.bob)  # care coordinator at provider A
    assert 'href="/exchange/files/"' not in client.get("/").content.decode()


def test_d4_filters_stay_inside_the_users_scope(client, world, files):
    director = world.plan_users[Role.REPORTING_DIRECTOR]
    client.force_login(director)
    by_provider = client.get("/api/v1/exchange/files", {"organization": str(world.provider_b.uuid)})
    assert [i["file_name"] for i in by_provider.json()["items"]] == ["CSASF_B_PLAN1.txt"]
    other_plan = client.get("/api/v1/exchange/files", {"plan": str(world.plan2.uuid)})
    assert other_plan.status_code == 422 and other_plan.json()["errors"][0]["field"] == "plan"
    bad_kind = client.get("/api/v1/exchange/files", {"kind": "x12"})
    assert bad_kind.status_code == 422
    page = client.get("/exchange/files/", {"organization": str(world.provider_b.uuid), "kind": "csasf"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "CSASF_B_PLAN1.txt" in body and "CSASF_A_PLAN1.txt" not in body


def test_d4_file_lists_cost_the_same_queries_for_more_files(client, world, files):
    """No query per row on the files page and the API list (DESIGN principle 7)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    director = world.plan_users[Role.REPORTING_DIRECTOR]
    client.force_login(director)

    def counts():
        found = []
        for url in ("/exchange/files/", "/api/v1/exchange/files"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            found.append(len(ctx.captured_queries))
        return found

    before = counts()
    for n in range(4):
        other = OrganizationFactory(name=f"Provider {n}")
        _file(world.plan, other, f"CSASF_X{n}.txt")
    assert counts() == before
