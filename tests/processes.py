"""Settings are read once per process, so a test of what the settings accept or refuse runs
Python in a subprocess with an environment of its own."""

from __future__ import annotations

import os
import subprocess
import sys


def python_run(argv: list[str], *, env: dict[str, str], without: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``python argv…`` with this process's environment, less Django's settings module and every
    variable starting with one of ``without`` (the ones the test is about), plus ``env``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", *without))}
    return subprocess.run(
        [sys.executable, *argv],
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
