"""The periodic jobs, and a small in-process runner for the embedded mode (no Celery beat).

In production Celery beat wakes the same functions (``CELERY_BEAT_SCHEDULE``); either way the
jobs read their work from the database, so missing a tick delays work and never loses it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], object]


def periodic_jobs() -> list[PeriodicJob]:
    from undersign.core.outbox import outbox_sweep
    from undersign.petitions.services import petitions_close_due
    from undersign.transparency.services import log_integrate_all
    from undersign.verification.services import claims_evidence_purge

    return [
        # Counting happens here: integrating the log applies the count changes of its entries.
        PeriodicJob("integrate the transparency log", settings.LOG_INTEGRATE_INTERVAL, log_integrate_all),
        PeriodicJob("close due petitions", 60, petitions_close_due),
        PeriodicJob("sweep the e-mail outbox", 30, outbox_sweep),
        PeriodicJob("delete claim evidence past its retention", 3600, claims_evidence_purge),
    ]


def run_jobs_forever(stop: threading.Event, jobs: list[PeriodicJob] | None = None) -> None:
    jobs = jobs or periodic_jobs()
    due = {job.name: 0.0 for job in jobs}
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if now >= due[job.name]:
                due[job.name] = now + job.every_seconds
                try:
                    job.run()
                except Exception:  # noqa: BLE001 - the next tick retries; never kill the runner
                    log.exception("periodic job %r failed", job.name)
                finally:
                    close_old_connections()
        stop.wait(min(0.5, *(job.every_seconds for job in jobs)))


def start_in_process_jobs() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_jobs_forever, args=(stop,), name="undersign-jobs", daemon=True).start()
    return stop
