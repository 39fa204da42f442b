"""``undersign serve``: the production web server.

granian in WSGI mode by default: on the 2-core machine of docs/performance.md it served a bare
Django view about twice as fast as gunicorn's sync workers, and Django's ASGI modes were 3–6×
slower than either. ``--server gunicorn`` stays for comparison. The process is replaced by the
server (``exec``), so a process manager's signals reach it directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management.base import CommandError

from undersign.core.checks import DatabaseChecksOnStart

APP = "undersign.wsgi:application"
# granian's own logs (and its access log, when turned on) through the redacting filter.
LOG_CONFIG = Path(__file__).resolve().parents[2] / "data" / "granian-logging.json"
# No client address and no query string; the path goes through the redacting filter (tokens,
# a signature link's id, a proof's commitment). The balancer in front logs addresses if anyone
# does, and docs/deployment.md says how to keep those truncated too.
ACCESS_LOG_FORMAT = '[%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f'


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def server_argv(*, server: str, host: str, port: int, workers: int, access_log: bool = False) -> list[str]:
    """The command line of the server: one process per worker, one request at a time in each
    (Django's views block; more threads would only contend for the GIL). No access log unless
    asked for, and then one without client addresses and with token paths redacted."""
    if server == "granian":
        logging_argv = ["--log-config", str(LOG_CONFIG)]
        if access_log:
            logging_argv += ["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT]
        else:
            # Explicit: GRANIAN_LOG_ACCESS_ENABLED in the environment must not turn it on.
            logging_argv += ["--no-access-log"]
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "1",
            "--no-ws",
            # A worker that dies (killed, out of memory) is replaced instead of leaving the
            # server short of a process.
            "--respawn-failed-workers",
            *logging_argv,
            APP,
        ]
    if access_log:
        raise CommandError("--access-log is for granian only: gunicorn's log format would show client addresses")
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "sync",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--backlog",
        "1024",
        # gunicorn keeps no access log unless given --access-logfile; none is given.
        APP,
    ]


class Command(DatabaseChecksOnStart):
    help = "Serve the site in production: granian (WSGI) with one worker process per core."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 behind a load balancer)")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=default_workers(), help="processes (default: cores)")
        parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian")
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="log each request, without the client's address and with tokens in paths redacted (default: off)",
        )

    def handle(self, *args, host: str, port: int, workers: int, server: str, access_log: bool, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        argv = server_argv(server=server, host=host, port=port, workers=workers, access_log=access_log)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")
        self.stdout.write(f"{server}: {workers} worker(s) on http://{host}:{port}/")
        self.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter, fixed arguments
