"""A small in-process runner of periodic jobs, for the embedded mode (no Celery beat).

The list of jobs is the top app's (``site.jobs.periodic_jobs``): ``core`` knows no app's work.
In production Celery beat wakes the same functions (``CELERY_BEAT_SCHEDULE``); either way the
jobs read their work from the database, so missing a tick delays work and never loses it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """``own_thread``: run on a thread of its own, for a job that waits on other servers (the
    log's witnesses), so that the jobs on the shared thread, counting first, never wait for it."""

    name: str
    every_seconds: float
    run: Callable[[], object]
    own_thread: bool = False


def run_jobs_forever(stop: threading.Event, jobs: list[PeriodicJob]) -> None:
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


def start_in_process_jobs(jobs: list[PeriodicJob]) -> threading.Event:
    stop = threading.Event()
    groups = [("undersign-jobs", [job for job in jobs if not job.own_thread])]
    groups += [(f"undersign-jobs: {job.name}", [job]) for job in jobs if job.own_thread]
    for name, group in groups:
        if group:
            threading.Thread(target=run_jobs_forever, args=(stop, group), name=name, daemon=True).start()
    return stop
