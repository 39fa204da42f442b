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
