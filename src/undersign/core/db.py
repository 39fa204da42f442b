"""Read replicas for public reads (``DATABASE_REPLICA_URLS``).

Only what a public, cacheable page reads goes to a replica: views wrapped in
``core.http.public_cache`` (the petition page and lists, ``count.json``, ``petition.json``,
the CSV, the hourly history) run inside ``public_reads()``, and the router sends their reads to
a replica. Everything else reads the primary: signing, confirming, moderation and the jobs read
rows they are about to change or must see just written (a confirmation link e-mailed a moment
ago, a lock taken in the same transaction), and a replica lags by design. A public page is
cached for a count interval anyway, so a replica's lag of a second changes nothing anyone sees.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
from collections.abc import Iterator

from django.conf import settings

_public_reads = contextvars.ContextVar("undersign_public_reads", default=False)


@contextlib.contextmanager
def public_reads() -> Iterator[None]:
    """Reads in this block may come from a replica (they serve public, cacheable pages)."""
    token = _public_reads.set(True)
    try:
        yield
    finally:
        _public_reads.reset(token)


class ReplicaRouter:
    """Sends public reads to a random replica; every other read and every write to ``default``."""

    def __init__(self, replicas: list[str] | None = None) -> None:
        # Django makes one router per process, after the settings are final.
        self.replicas = (
            replicas if replicas is not None else [alias for alias in settings.DATABASES if alias.startswith("replica")]
        )

    def db_for_read(self, model, **hints) -> str | None:
        if not _public_reads.get() or not self.replicas:
            return None
        return random.choice(self.replicas)  # noqa: S311 - load spreading only

    def db_for_write(self, model, **hints) -> str | None:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # replicas hold the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return db == "default"  # replicas follow the primary's schema through replication
