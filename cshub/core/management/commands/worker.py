"""`cshub worker`: the Huey consumer (SqliteHuey by default, RedisHuey when REDIS_URL is set),
running background tasks and the periodic jobs."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker and periodic jobs (Huey consumer)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, **opts) -> None:
        from django.conf import settings

        self.stdout.write(f"Worker: {settings.HUEY['huey_class']} with {opts['workers']} threads")
        call_command("run_huey", workers=opts["workers"], worker_type="thread")
