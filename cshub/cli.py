"""The `cshub` command: Django's manage.py under the product's name (`cshub demo`, `cshub seed`, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cshub.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["cshub", *argv])
    args[0] = "cshub"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
