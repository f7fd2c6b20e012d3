"""Background claims work (thin Huey wrappers around services; safe to run twice)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from cshub.claims import services
from cshub.core.context import acting


# Pended lines wait for an authorization decision or a fee schedule rate; every hour they are decided
# again, so a claim moves on within the hour what it waited for arrives. A line still waiting stays pended.
@db_periodic_task(crontab(minute="41"))
def readjudicate_pended_claims() -> int:
    with acting("worker"):
        return services.claims_readjudicate_pended()
