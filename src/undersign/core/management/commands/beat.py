"""``undersign beat``: Celery beat, which wakes the periodic jobs (``CELERY_BEAT_SCHEDULE``).

Run exactly one per site. A second beat would only send duplicate wake-ups (the log's integrator
holds an advisory lock, so nothing is counted twice), but it is wasted work."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from undersign.core.management.commands.worker import require_broker


class Command(BaseCommand):
    help = "Run Celery beat: exactly one per site; it sends the periodic jobs to the workers."

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", default="WARNING")

    def handle(self, *args, loglevel: str, **options):
        require_broker()
        # Beat's own bookkeeping lives in the data folder, not wherever it was started.
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        schedule = settings.DATA_DIR / "celerybeat-schedule"
        argv = [sys.executable, "-m", "celery", "-A", "undersign", "beat", "--loglevel", loglevel]
        argv += ["--schedule", str(schedule)]
        os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter, fixed arguments
