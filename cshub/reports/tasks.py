"""Periodic report work (thin Huey wrappers around services; safe to run twice).

Huey matches crontabs in UTC: 14:30 UTC is 6:30 or 7:30 in the morning, Pacific, so "today" (Pacific) is
already the new day when the jobs run.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cshub.core.context import acting
from cshub.reports import services


# Rule D6: every morning. On the 1st it makes and sends the previous month's reports; on any other day it
# finds nothing to do unless a month was missed (the worker was down on the 1st, or a contract was signed
# with an earlier start date), which it then makes. The (provider, plan, month) rows make repeated runs
# change nothing.
@db_periodic_task(crontab(hour="14", minute="30"))
def make_utilization_reports() -> int:
    with acting("worker"):
        return len(services.utilization_reports_run())


# Rule D7: every morning, a fresh referral-analytics snapshot per plan (the page also recomputes one on
# demand when the latest is more than a day old).
@db_periodic_task(crontab(hour="13", minute="10"))
def refresh_referral_snapshots() -> int:
    with acting("worker"):
        return services.referral_snapshots_run()
