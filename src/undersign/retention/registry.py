"""The registry of retention jobs: each app's jobs, under the names staff see, with the
settings that say how long their data is kept. ``services`` runs them; ``selectors`` lists
them for staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

RetentionWork = Callable[[datetime], int]


class RetentionJob(NamedTuple):
    """A registered job: the name staff see (at most ``NAME_MAX_LENGTH`` characters), its
    work, and the settings that say how long its data is kept (shown beside it to staff)."""

    name: str
    work: RetentionWork
    setting_names: tuple[str, ...] = ()


_JOBS: dict[str, RetentionJob] = {}
NAME_MAX_LENGTH = 64  # RetentionRun.job


def register_retention_job(name: str, work: RetentionWork, *, setting_names: tuple[str, ...] = ()) -> None:
    """Add a retention job. Jobs of apps below this one are registered by this app's
    ``ready()``; an app above it registers its own in its ``ready()``."""
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"retention job name {name!r} is longer than {NAME_MAX_LENGTH} characters")
    if name in _JOBS and _JOBS[name].work is not work:
        raise ValueError(f"retention job {name!r} is already registered")
    _JOBS[name] = RetentionJob(name, work, setting_names)


def retention_jobs() -> dict[str, RetentionWork]:
    return {name: job.work for name, job in _JOBS.items()}


def retention_jobs_registered() -> list[RetentionJob]:
    """Every job, in the order they run."""
    return list(_JOBS.values())
