"""Periodic capacity-report work (thin Huey wrappers around services; safe to run twice)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cshub.capacity import services
from cshub.core.context import acting


# Rule D3: every hour, so a reminder or late flag goes out within the hour its day starts; the service's
# (provider, plan, quarter, kind) rows make repeated runs send nothing twice.
@db_periodic_task(crontab(minute="23"))
def send_capacity_report_notices() -> int:
    with acting("worker"):
        return services.capacity_notices_send()
