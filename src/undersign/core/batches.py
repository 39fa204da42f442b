"""Work over many rows done in bounded batches, each its own transaction.

The retention jobs delete or rewrite rows that pile up (a popular petition leaves hundreds of
thousands of expired signatures): one statement over all of them would hold its locks, and
on SQLite the single writer, for as long as it takes, stalling signers. A batch of
``RETENTION_BATCH_SIZE`` rows is short, and the next batch starts once it has committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

# A run stops after this many full batches even if rows remain: the rest waits for the next
# run, so one run of a job over a huge backlog still ends within minutes.
MAX_BATCHES_PER_RUN = 100


def batches_run(step: Callable[[int], int], *, size: int | None = None, most: int = MAX_BATCHES_PER_RUN) -> int:
    """Call ``step(size)`` in a transaction of its own, again while it changed a full batch,
    at most ``most`` times; returns the sum of what the steps returned. ``step`` changes at
    most ``size`` rows (default ``RETENTION_BATCH_SIZE``) and returns how many, so a short
    count means nothing is left."""
    size = size or settings.RETENTION_BATCH_SIZE
    total = 0
    for _ in range(most):
        with transaction.atomic():
            done = step(size)
        total += done
        if done < size:
            break
    return total


def batches_delete(rows: QuerySet[Any]) -> int:
    """Delete the rows ``rows`` selects, a batch at a time (``batches_run``); returns how many.
    Rows of other tables that cascade from them go in the same batch."""

    def step(size: int) -> int:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:size])
        rows.model._default_manager.filter(pk__in=ids).delete()
        return len(ids)

    return batches_run(step)


def batches_update(rows: QuerySet[Any], **values: object) -> int:
    """Set ``values`` on the rows ``rows`` selects, a batch at a time; returns how many. The
    update must take a row out of ``rows`` (a column set to null that ``rows`` requires set),
    or the next batch finds it again."""

    def step(size: int) -> int:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:size])
        return rows.filter(pk__in=ids).update(**values)

    return batches_run(step)
