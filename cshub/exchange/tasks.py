"""Exchange work on the worker (thin Huey wrappers; each safe to run twice).

Inbox: a file is claimed by a rename, so a retried task or an overlapping sweep finds nothing left to take.
CSASF (rule D1): the run for the most recent scheduled day makes only the files that do not exist yet
(one per plan, provider and day, a unique constraint), so running it every hour costs two small queries
per plan on the days between, makes the files within the hour the 15th or the 29th begins, and makes a
run missed while the worker was down as soon as it starts again (the start-up hook queues it).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from cshub.accounts.models import Organization
from cshub.core.context import acting
from cshub.exchange import csasf, inbox


@db_task()
def inbox_file_arrived(organization_id: int, relative_path: str) -> str | None:
    """The SFTP server finished an upload: take it in now. Returns the log row's status, or None."""
    with acting("worker"):
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            return None
        record = inbox.take_inbox_file(organization, relative_path)
        return record.status if record is not None else None


# Every minute: files dropped by another server (OpenSSH), left by a crash, or whose task was lost.
@db_periodic_task(crontab(minute="*"))
def sweep_inboxes() -> int:
    with acting("worker"):
        return inbox.sweep_inboxes()


# Rule D1: every hour; the files of the most recent scheduled day not made yet. Returns how many it made.
@db_periodic_task(crontab(minute="13"))
def produce_csasf() -> int:
    with acting("worker"):
        return csasf.csasf_run().made


@on_startup("csasf_catch_up")
def csasf_catch_up() -> None:
    """A worker starting queues the CSASF run at once: a 15th or 29th missed while it was down is made now,
    not at the next hour."""
    produce_csasf()
