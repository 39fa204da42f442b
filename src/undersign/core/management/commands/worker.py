"""``undersign worker``: a Celery worker for e-mail delivery and the periodic jobs that beat sends."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import CommandError

from undersign.core.checks import DatabaseChecksOnStart


def require_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise CommandError("set REDIS_URL (or CELERY_BROKER_URL): without a broker, jobs run in-process")


class Command(DatabaseChecksOnStart):
    help = "Run a Celery worker (e-mail delivery, counting, closing, the outbox sweep). Run as many as you need."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None, help="worker processes (default: cores)")
        parser.add_argument("--loglevel", default="WARNING")

    def handle(self, *args, concurrency: int | None, loglevel: str, **options):
        require_broker()
        argv = [sys.executable, "-m", "celery", "-A", "undersign", "worker", "--loglevel", loglevel]
        if concurrency:
            argv += ["--concurrency", str(concurrency)]
        os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter, fixed arguments
