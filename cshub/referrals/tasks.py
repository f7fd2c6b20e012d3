"""Periodic referral work (thin Huey wrappers around services; safe to run twice)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cshub.core.context import acting
from cshub.referrals import services


# Rule R6: every hour, so a referral is reminded within the hour its week without an update ends; the
# service's (referral, recipient, period) rows make repeated runs send nothing twice.
@db_periodic_task(crontab(minute="7"))
def send_referral_reminders() -> int:
    with acting("worker"):
        return services.referral_reminders_send()
