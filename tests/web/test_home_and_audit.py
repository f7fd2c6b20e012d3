"""Each role's home page shows that role's work; login and security settings; the audit log."""

import html

import pytest
from django.test import override_settings
from django.urls import reverse

from cshub.accounts.roles import PLAN_ROLES, Role
from cshub.core.models import AuditEvent
from cshub.web.views import ROLE_FOCUS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", sorted(PLAN_ROLES))
def test_home_page_per_plan_role(client, world, role):
    client.force_login(world.plan_users[role])
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    assert html.escape(ROLE_FOCUS[role][0]).encode() in response.content


def test_home_page_for_provider_shows_care_team_count(client, world):
    client.force_login(world.bob)
    response = client.get(reverse("web:home"))
    assert b"Your caseload" in response.content
    assert response.context["member_count"] == 1


def test_login_page_and_login_is_audited(client, world):
    assert client.get(reverse("account_login")).status_code == 200
    response = client.post(
        reverse("account_login"), {"login": "alice@a.example", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor=world.alice).exists()
    client.logout()
    client.post(reverse("account_login"), {"login": "alice@a.example", "password": "wrong"})
    assert AuditEvent.objects.filter(action="login_failed", detail__login="alice@a.example").exists()


def test_signup_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert b"closed" in response.content.lower() or response.status_code in (302, 403, 404)


def test_password_reset_sends_email(client, world, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "bob@a.example"})
    assert len(mailoutbox) == 1 and "bob@a.example" in mailoutbox[0].to


@override_settings(CSHUB_MFA_REQUIRED_FOR_PLAN=True)
def test_plan_staff_must_set_up_totp_when_required(client, world):
    client.force_login(world.plan_users[Role.UM_REVIEWER])
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and reverse("mfa_activate_totp") in response["Location"]
    client.force_login(world.alice)  # provider staff: optional
    assert client.get(reverse("web:home")).status_code == 200


def test_audit_log_only_for_plan_admin_and_reporting_director(client, world, django_assert_max_num_queries):
    client.force_login(world.alice)
    assert client.get(reverse("web:audit_log")).status_code == 403
    client.force_login(world.plan_users[Role.PLAN_ADMIN])
    client.get(reverse("web:home"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("web:audit_log"))
    assert response.status_code == 200
    csv = b"".join(client.get(reverse("web:audit_log"), {"format": "csv"}).streaming_content).decode()
    assert csv.startswith("at,actor,organization")


def test_pages_send_a_strict_content_security_policy(client, world):
    client.force_login(world.alice)
    policy = client.get(reverse("web:home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
