"""The ``undersign`` command: Django's management commands under the project's settings."""

import argparse
import os
import sys


def _run_addr(args: list[str]) -> str | None:
    """The ``--addr`` of ``undersign run``, if given: read before the settings load, because the
    site's address (``SITE_URL``, and with it ``ALLOWED_HOSTS`` and a new log's name) follows it."""
    if args[:1] != ["run"]:
        return None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--addr")
    known, _ = parser.parse_known_args(args[1:])
    return known.addr


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["generate_keys"]:
        # Before settings load: production mode refuses to load settings without keys, and
        # making those keys is what this command is for.
        from undersign.core.keys import generate_environment_lines

        print("\n".join(generate_environment_lines()))
        return
    if addr := _run_addr(args):
        os.environ["UNDERSIGN_ADDR"] = addr
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["undersign", *args])
