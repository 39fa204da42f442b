"""Waking background work after a commit without importing the task that does it.

A task module imports the services it runs; a service that wakes its own task would import the
task module back. By name, the wake-up needs no import. Without a broker (embedded mode, tests)
there is no worker to wake, so the work runs here, after commit, as Celery's eager mode would."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from undersign.celery import app


def wake_on_commit(task_name: str, *args: object, run_here: Callable[[], object]) -> None:
    """After the open transaction commits, publish ``task_name(*args)``, or call ``run_here``
    when there is no broker. Robust: a broker or mail outage must not turn a stored change into
    an error page; the periodic sweeps do the work later. Precondition: the task's arguments
    are what ``run_here`` does."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(run_here, robust=True)
    else:
        transaction.on_commit(lambda: app.send_task(task_name, args=list(args)), robust=True)
