"""notify / notify_email_address: who receives a notice, emails only after commit, failures recorded and
never raised (policy update 8: notices to referrers are electronic, in the app and by email)."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from cshub.accounts import services as account_services
from cshub.accounts.roles import Role
from cshub.core.errors import DomainError
from cshub.core.models import AuditEvent
from cshub.notifications import selectors
from cshub.notifications.models import Notification
from cshub.notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notify,
    notify_email_address,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

FAILING_BACKEND = "tests.notifications.test_services.FailingEmailBackend"
UNREACHABLE_BACKEND = "tests.notifications.test_services.UnreachableEmailBackend"


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"mailbox unavailable") for m in email_messages})


class UnreachableEmailBackend(BaseEmailBackend):
    """A mail server that cannot be reached at all."""

    def open(self):
        raise ConnectionRefusedError("mail.example: connection refused")

    def send_messages(self, email_messages):  # pragma: no cover - never reached
        raise AssertionError("sent without a connection")


def notice(**kwargs):
    defaults = {
        "kind": "referral.status_changed",
        "subject": "Referral accepted",
        "body": "Provider A accepted the referral of Ana Alvarez.",
        "url": "/referrals/123/",
        "object_type": "referral",
        "object_id": "123",
    }
    return notify(**{**defaults, **kwargs})


def test_p8_recipients_are_the_active_users_of_the_organization_holding_the_roles(world):
    UserFactory(
        email="gone@a.example", organization=world.provider_a, roles=[Role.PROVIDER_CEO], is_active=False
    )
    made = notice(organization=world.provider_a, roles=[Role.PROVIDER_CEO, Role.CS_PROGRAM_MANAGER])
    assert [n.recipient for n in made] == [world.alice]
    assert made[0].organization == world.provider_a
    assert made[0].kind == "referral.status_changed" and made[0].read_at is None


def test_p8_all_active_people_of_the_organization_when_no_roles_are_named(world):
    UserFactory(email="gone@a.example", organization=world.provider_a, is_active=False)
    account_services.api_key_create(
        actor=world.alice, organization=world.provider_a, name="EHR", roles=[Role.CARE_COORDINATOR]
    )
    made = notice(organization=world.provider_a)
    assert {n.recipient.email for n in made} == {"alice@a.example", "bob@a.example"}
    assert notice(organization=world.provider_a, roles=[]) == []


def test_p8_explicit_users_skip_inactive_ones(world):
    world.bob.is_active = False
    world.bob.save()
    made = notice(users=[world.alice, world.bob, world.charlie, world.alice])
    assert sorted(n.recipient.email for n in made) == ["alice@a.example", "charlie@b.example"]
    assert {n.recipient.email: n.organization for n in made}["charlie@b.example"] == world.provider_b


def test_p8_emails_leave_only_after_commit_and_mark_the_rows(
    world, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CSHUB_BASE_URL = "https://cshub.example.org/"
    with django_capture_on_commit_callbacks() as callbacks:
        made = notice(organization=world.provider_a)
        assert mailoutbox == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@a.example", "bob@a.example"]
    mail = mailoutbox[0]
    assert mail.subject == "Referral accepted"
    assert "Provider A accepted the referral of Ana Alvarez." in mail.body
    assert "https://cshub.example.org/referrals/123/" in mail.body
    rows = Notification.objects.filter(pk__in=[n.pk for n in made])
    assert all(n.emailed_at is not None and n.email_error == "" for n in rows)


def test_p8_rollback_sends_nothing_and_keeps_nothing(world, mailoutbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notice(organization=world.provider_a)
        notify_email_address(
            address="ana@example.org",
            subject="Your referral",
            body="Hello",
            kind="referral.received",
            object_type="referral",
            object_id="123",
        )
        raise RuntimeError("the caller's change failed")
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["create", "email_sent"]).exists()


def test_p8_email_false_makes_in_app_notices_only(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        made = notice(users=[world.alice], email=False)
    assert callbacks == [] and mailoutbox == []
    assert made[0].emailed_at is None


def test_p8_service_accounts_get_in_app_notices_but_no_email(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    key, _ = account_services.api_key_create(
        actor=world.alice, organization=world.provider_a, name="EHR", roles=[Role.CARE_COORDINATOR]
    )
    with django_capture_on_commit_callbacks(execute=True):
        made = notice(users=[key.user, world.bob])
    assert {n.recipient for n in made} == {key.user, world.bob}
    assert [m.to for m in mailoutbox] == [["bob@a.example"]]


def test_p8_a_refused_email_is_recorded_and_never_raised(
    world, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        made = notice(organization=world.provider_a)
    rows = list(Notification.objects.filter(pk__in=[n.pk for n in made]))
    assert len(rows) == 2
    for row in rows:
        assert row.emailed_at is None
        assert row.email_error.startswith("SMTPRecipientsRefused")
        assert "mailbox unavailable" in row.email_error


def test_p8_an_unreachable_mail_server_is_recorded_on_every_row(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = UNREACHABLE_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        made = notice(organization=world.provider_a)
    errors = set(
        Notification.objects.filter(pk__in=[n.pk for n in made]).values_list("email_error", flat=True)
    )
    assert errors == {"ConnectionRefusedError: mail.example: connection refused"}


def test_notify_audits_what_it_made(world):
    notice(organization=world.provider_a, actor=world.charlie)
    event = AuditEvent.objects.get(action="create", object_type="notification")
    assert event.actor == world.charlie
    assert event.detail == {
        "kind": "referral.status_changed",
        "about": {"type": "referral", "id": "123"},
        "recipients": 2,
        "email": True,
    }
    assert Notification.objects.filter(created_by=world.charlie).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "https://evil.example/"}, "url"),
        ({"url": "//evil.example/"}, "url"),
        ({"url": "/\\evil.example/"}, "url"),
        ({"url": "/\t/evil.example/"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"kind": " "}, "kind"),
        ({"subject": ""}, "subject"),
    ],
)
def test_bad_input_is_a_domain_error_with_the_field(world, kwargs, field):
    with pytest.raises(DomainError) as caught:
        notice(users=[world.alice], **kwargs)
    assert [e.field for e in caught.value.errors] == [field]
    assert not Notification.objects.exists()


def test_recipients_must_be_named_one_way(world):
    with pytest.raises(DomainError) as caught:
        notice()
    assert caught.value.errors[0].field == "organization"
    with pytest.raises(DomainError) as caught:
        notice(users=[world.alice], organization=world.provider_a)
    assert caught.value.errors[0].field == "users"


def test_subject_is_one_line(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = notice(users=[world.alice], subject="Referral\naccepted\r\n today")
    assert made[0].subject == "Referral accepted today"
    assert mailoutbox[0].subject == "Referral accepted today"


def test_email_to_an_address_is_sent_after_commit_and_audited(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        notify_email_address(
            address=" ana@example.org ",
            subject="We received your referral",
            body="Provider A will contact you within 5 business days.",
            kind="referral.received",
            object_type="referral",
            object_id="123",
            actor=world.bob,
        )
    assert mailoutbox == [] and not AuditEvent.objects.filter(action="email_sent").exists()
    callbacks[0]()
    assert [m.to for m in mailoutbox] == [["ana@example.org"]]
    assert mailoutbox[0].body == "Provider A will contact you within 5 business days."
    event = AuditEvent.objects.get(action="email_sent")
    assert (event.actor, event.object_type, event.object_id) == (world.bob, "referral", "123")
    assert event.detail == {
        "kind": "referral.received",
        "to": "ana@example.org",
        "subject": "We received your referral",
    }


def test_a_failed_email_to_an_address_is_audited_not_raised(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        notify_email_address(
            address="ana@example.org",
            subject="We received your referral",
            body="Hello",
            kind="referral.received",
            object_type="referral",
            object_id="123",
        )
    event = AuditEvent.objects.get(object_type="referral")
    assert event.action == "email_failed"
    assert event.detail["error"].startswith("SMTPRecipientsRefused")


def test_an_invalid_address_is_refused(world):
    with pytest.raises(DomainError) as caught:
        notify_email_address(
            address="not an address",
            subject="Hello",
            body="",
            kind="referral.received",
            object_type="referral",
            object_id="1",
        )
    assert caught.value.errors[0].field == "address"


def test_mark_read_is_scoped_and_keeps_the_first_read_time(world, frozen_clock):
    from django.http import Http404

    (mine,) = notice(users=[world.alice])
    with pytest.raises(Http404):
        notification_mark_read(user=world.charlie, uuid=mine.uuid)
    first = notification_mark_read(user=world.alice, uuid=mine.uuid).read_at
    assert first is not None
    frozen_clock.shift(3600)
    assert notification_mark_read(user=world.alice, uuid=mine.uuid).read_at == first


def test_mark_all_read_touches_only_the_users_own(world):
    notice(users=[world.alice, world.bob])
    notice(users=[world.alice])
    assert selectors.unread_count(world.alice) == 2
    assert notification_mark_all_read(user=world.alice) == 2
    assert selectors.unread_count(world.alice) == 0
    assert selectors.unread_count(world.bob) == 1
    assert notification_mark_all_read(user=world.alice) == 0
