"""The data's lifecycle: the jobs that destroy personal data on schedule, each run recorded.

Every job is a function of ``now`` returning how many rows it destroyed or rewrote;
``retention_job_run`` runs one and leaves a ``RetentionRun`` row whatever happens, so staff can
see that retention is kept (and when it last failed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from undersign.retention.models import RetentionRun

log = logging.getLogger(__name__)

RetentionWork = Callable[[datetime], int]


def retention_job_run(*, job: str, work: RetentionWork, now: datetime | None = None) -> RetentionRun:
    """Run one retention job and record it. A failure is recorded by the exception's class
    (never its message, which could carry personal data) and re-raised for the scheduler."""
    now = now or timezone.now()
    run = RetentionRun.objects.create(job=job, started_at=timezone.now())
    try:
        run.items = work(now)
    except Exception as exc:
        run.error = type(exc).__name__[:100]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        log.error("retention job %s failed: %s", job, run.error)
        raise
    run.finished_at = timezone.now()
    run.save(update_fields=["items", "finished_at"])
    return run


_JOBS: dict[str, RetentionWork] = {}


def register_retention_job(name: str, work: RetentionWork) -> None:
    """Add a retention job. Jobs of apps below this one are registered by this app's
    ``ready()``; an app above it registers its own in its ``ready()``."""
    if name in _JOBS and _JOBS[name] is not work:
        raise ValueError(f"retention job {name!r} is already registered")
    _JOBS[name] = work


def retention_jobs() -> dict[str, RetentionWork]:
    return dict(_JOBS)


def retention_jobs_run_all(*, now: datetime | None = None) -> int:
    """Run every retention job once, each recorded; one that fails does not stop the others
    (its row says it failed, and the next run tries again). Returns the rows they changed."""
    total = 0
    for name, work in retention_jobs().items():
        try:
            total += retention_job_run(job=name, work=work, now=now).items
        except Exception:  # noqa: BLE001 - recorded in its run row; the other jobs still run
            log.warning("retention job %s will run again at the next tick", name)
    return total
