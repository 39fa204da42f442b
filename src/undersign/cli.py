"""The ``undersign`` command: Django's management commands under the project's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["generate_keys"]:
        # Before settings load: production mode refuses to load settings without keys, and
        # making those keys is what this command is for.
        from undersign.core.keys import generate_environment_lines

        print("\n".join(generate_environment_lines()))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["undersign", *args])
