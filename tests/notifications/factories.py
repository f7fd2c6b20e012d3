"""Notifications written directly, for page and API tests (services are tested in test_services.py)."""

from __future__ import annotations

import factory

from cshub.notifications.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = None  # always given
    organization = factory.LazyAttribute(lambda n: n.recipient.organization)
    kind = "referral.status_changed"
    subject = factory.Sequence(lambda n: f"Referral {n} was accepted")
    body = "Provider A Housing Services accepted the referral of Ana Alvarez."
    url = factory.Sequence(lambda n: f"/referrals/{n}/")
    object_type = "referral"
    object_id = factory.Sequence(lambda n: f"ref-{n}")
