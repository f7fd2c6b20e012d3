"""Roster upload through the page, the API and `cshub members import` (issue item 6)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cshub.core.models import AuditEvent
from cshub.members.models import Member, RosterImport
from tests.members.factories import roster_csv, roster_row

pytestmark = pytest.mark.usefixtures("frozen_clock")

GOOD = roster_csv([roster_row(1), roster_row(2)])
BAD = roster_csv([roster_row(1), roster_row(2, zip_code="ABCDE")])


def upload(name: str, content: bytes, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- page ---------------------------------------------------------------------------------------------


def test_page_upload_imports_and_shows_counts(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post(reverse("members:import"), {"file": upload("roster.csv", GOOD)}, follow=True)
    record = RosterImport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("members:import_detail", args=[record.uuid])
    assert record.channel == "web"
    assert "2 new, 0 updated, 0 unchanged" in response.content.decode()
    assert Member.objects.filter(cin__in=["95000001Z", "95000002Z"]).count() == 2


def test_page_upload_rejected_shows_error_table_and_report_link(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post(reverse("members:import"), {"file": upload("roster.csv", BAD)})
    assert response.status_code == 422
    record = RosterImport.objects.get()
    html = response.content.decode()
    assert "nothing was changed" in html.lower()
    assert "<td>2</td><td>zip_code</td>" in html
    assert reverse("members:import_errors", args=[record.uuid]) in html
    assert not Member.objects.filter(cin="95000001Z").exists()

    report = client.get(reverse("members:import_errors", args=[record.uuid]))
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith('attachment; filename="roster-errors.csv"')
    body = b"".join(report.streaming_content).decode()
    assert body.splitlines()[1].startswith("2,zip_code,ABCDE,")
    assert AuditEvent.objects.filter(object_id=str(record.uuid), detail__purpose="error_report").exists()


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        (
            "roster.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Upload a .csv file.",
        ),
        ("roster.csv", "image/png", "not a CSV file"),
    ],
)
def test_page_upload_checks_file_type(client, world, plan_admin, name, content_type, message):
    client.force_login(plan_admin)
    response = client.post(reverse("members:import"), {"file": upload(name, GOOD, content_type)})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not RosterImport.objects.exists()


def test_page_upload_checks_file_size(client, world, plan_admin, settings):
    settings.CSHUB_MAX_UPLOAD_BYTES = 100
    client.force_login(plan_admin)
    response = client.post(reverse("members:import"), {"file": upload("roster.csv", GOOD)})
    assert response.status_code == 422
    assert "larger than" in response.content.decode()
    assert not RosterImport.objects.exists()


def test_page_upload_binary_file_is_a_file_level_error(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post(reverse("members:import"), {"file": upload("roster.csv", b"\x00\x01\x02binary")})
    assert response.status_code == 422
    assert "not a CSV text file" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "um_reviewer", "network"])
def test_import_pages_are_forbidden_to_other_roles(client, world, who):
    user = getattr(world, who, None) or world.plan_users[who]
    client.force_login(user)
    assert client.get(reverse("members:import")).status_code == 403
    assert client.post(reverse("members:import"), {"file": upload("r.csv", GOOD)}).status_code == 403
    assert client.get(reverse("members:imports")).status_code == 403


def test_import_history_is_scoped_to_the_plan(client, world, plan_admin):
    client.force_login(plan_admin)
    client.post(reverse("members:import"), {"file": upload("roster.csv", GOOD)})
    record = RosterImport.objects.get()
    listing = client.get(reverse("members:imports"))
    assert "roster.csv" in listing.content.decode()
    assert client.get(reverse("members:import_detail", args=[record.uuid])).status_code == 200

    client.force_login(world.other_plan_user)  # another plan's administrator
    assert "roster.csv" not in client.get(reverse("members:imports")).content.decode()
    assert client.get(reverse("members:import_detail", args=[record.uuid])).status_code == 404
    assert client.get(reverse("members:import_errors", args=[record.uuid])).status_code == 404


def test_applied_import_has_no_error_report(client, world, plan_admin):
    client.force_login(plan_admin)
    client.post(reverse("members:import"), {"file": upload("roster.csv", GOOD)})
    record = RosterImport.objects.get()
    assert client.get(reverse("members:import_errors", args=[record.uuid])).status_code == 404


# --- API ----------------------------------------------------------------------------------------------


def test_api_upload_returns_201_with_counts(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post("/api/v1/members/imports", {"file": upload("roster.csv", GOOD)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["created_count"], body["updated_count"], body["unchanged_count"]) == (
        "applied",
        2,
        0,
        0,
    )
    assert RosterImport.objects.get().channel == "api"

    again = client.post("/api/v1/members/imports", {"file": upload("roster.csv", GOOD)}).json()
    assert (again["created_count"], again["updated_count"], again["unchanged_count"]) == (0, 0, 2)

    fetched = client.get(f"/api/v1/members/imports/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["sha256"] == body["sha256"]


def test_api_upload_rejected_is_a_422_problem_with_row_and_field(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post("/api/v1/members/imports", {"file": upload("roster.csv", BAD)})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    record = RosterImport.objects.get()
    assert body["status"] == 422
    assert body["type"].endswith("#roster_rejected")
    assert str(record.uuid) in body["detail"]
    assert body["errors"] == [
        {"row": 2, "field": "zip_code", "message": "Enter a 5-digit ZIP code (or ZIP+4).", "code": "zip"}
    ]
    detail = client.get(f"/api/v1/members/imports/{record.uuid}").json()
    assert detail["status"] == "rejected"
    assert detail["errors"][0]["value"] == "ABCDE"
    assert detail["error_report_url"] == f"/members/imports/{record.uuid}/errors.csv"


def test_api_upload_file_level_error(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post("/api/v1/members/imports", {"file": upload("roster.csv", b"")})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 0, "field": "file", "message": "The file is empty.", "code": "empty"}
    ]


def test_api_upload_without_a_file_is_a_422(client, world, plan_admin):
    client.force_login(plan_admin)
    response = client.post("/api/v1/members/imports", {})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


@pytest.mark.parametrize("who", ["alice", "charlie", "um_reviewer", "provider_relations"])
def test_api_upload_is_forbidden_to_other_roles(client, world, who):
    user = getattr(world, who, None) or world.plan_users[who]
    client.force_login(user)
    response = client.post("/api/v1/members/imports", {"file": upload("roster.csv", GOOD)})
    assert response.status_code == 403
    assert not RosterImport.objects.exists()


def test_api_import_detail_is_scoped(client, world, plan_admin):
    client.force_login(plan_admin)
    uuid = client.post("/api/v1/members/imports", {"file": upload("roster.csv", GOOD)}).json()["id"]
    client.force_login(world.other_plan_user)
    assert client.get(f"/api/v1/members/imports/{uuid}").status_code == 404
    assert client.get("/api/v1/members/imports").json()["count"] == 0


# --- command ------------------------------------------------------------------------------------------


def test_command_imports_and_prints_counts(world, tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD)
    call_command("members", "import", str(path), "--plan", "GS1")
    assert "2 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    record = RosterImport.objects.get()
    assert (record.channel, record.uploaded_by) == ("cli", None)
    assert AuditEvent.objects.get(action="import").actor_label == "system:cli"

    call_command(
        "members", "import", str(path), "--plan", str(world.plan.uuid), "--as", "plan_admin@plan.example"
    )
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_command_prints_errors_and_exits_1_on_rejection(world, tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_bytes(BAD)
    with pytest.raises(CommandError) as info:
        call_command("members", "import", str(path), "--plan", "GS1")
    assert info.value.returncode == 1
    err = capsys.readouterr().err
    assert "row 2, zip_code" in err
    assert not Member.objects.filter(cin="95000001Z").exists()


def test_command_exit_code_is_1(world, tmp_path):
    from cshub.cli import main

    path = tmp_path / "roster.csv"
    path.write_bytes(BAD)
    with pytest.raises(SystemExit) as info:
        main(["members", "import", str(path), "--plan", "GS1"])
    assert info.value.code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "NOPE"], "No plan"),
        (["--plan", "GS1", "--as", "nobody@example.org"], "No active user"),
        (["--plan", "GS1", "--as", "um_reviewer@plan.example"], "roster"),
    ],
)
def test_command_refuses_bad_arguments(world, tmp_path, args, message):
    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD)
    with pytest.raises(CommandError, match=message):
        call_command("members", "import", str(path), *args)
    assert not RosterImport.objects.exists()


def test_command_missing_file(world, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("members", "import", str(tmp_path / "missing.csv"), "--plan", "GS1")
