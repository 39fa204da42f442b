"""The ``undersign`` command: Django's management commands under the project's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["undersign", *(argv if argv is not None else sys.argv[1:])])
