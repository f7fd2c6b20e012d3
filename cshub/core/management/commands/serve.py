"""`cshub serve`: the web app and API on a production WSGI server (waitress), static files by WhiteNoise."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app and API (waitress)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args, **opts) -> None:
        from waitress import serve

        # Collect first: WhiteNoise indexes the static folder when the application is built, so files
        # collected afterwards would answer 404 until the next start (a fresh demo served bare pages).
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)

        from cshub.config.wsgi import application

        self.stdout.write(f"Serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C to stop)")
        serve(application, host=opts["host"], port=opts["port"], threads=opts["threads"], ident="cshub")
