"""The log's signing key and name: the key from settings (core/keys.py makes or requires it),
the name from the database, where it was stored the first time the log needed one."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from undersign.transparency.models import LogCheckpoint, LogName
from undersign_verify.note import Signer


class LogOriginMismatch(ImproperlyConfigured):
    """``LOG_ORIGIN`` is set to another name than the log's: verifiers pin the stored one."""


@cache
def _signer(origin: str, seed: bytes) -> Signer:
    return Signer.from_seed(origin, seed)


def _stored_origin() -> str | None:
    # From the primary, where the name is written: a replica may not have it yet.
    names = LogName.objects.using(DEFAULT_DB_ALIAS).order_by("-generation")
    return names.values_list("origin", flat=True).first()


def _checkpoint_origin() -> str | None:
    """The name the latest checkpoint carries (its first line), for a log signed before names
    were stored."""
    checkpoints = LogCheckpoint.objects.using(DEFAULT_DB_ALIAS).order_by("-size")
    note = checkpoints.values_list("note", flat=True).first()
    if note is None:
        return None
    return note.partition("\n")[0] or None


def log_origin_known() -> str | None:
    """The log's name if it has one (stored, or carried by its checkpoints); None for a log
    never signed or published. Reads only."""
    return _stored_origin() or _checkpoint_origin()


def log_origin_mismatch(known: str) -> str | None:
    """Why the settings may not run a log named ``known``, if they may not."""
    if settings.LOG_ORIGIN and settings.LOG_ORIGIN != known:
        return (
            f"LOG_ORIGIN is {settings.LOG_ORIGIN!r} but the log is named {known!r}: verifiers pin the log's "
            "name with its key, so it does not follow a change of address. Unset LOG_ORIGIN (or set it to "
            f"{known!r}); to rename the log on purpose (a compromised key), run `undersign log_origin --rename "
            "NEW` (docs/deployment.md)."
        )
    return None


def log_origin_store() -> str:
    """The log's stored name, storing it if the log has none yet: the name of a log signed
    before names were stored, else ``LOG_ORIGIN``, else the site's host and ``/log``. The one
    write of this module: the name is fixed by the first use that could publish it."""
    known = _stored_origin()
    if known is None:
        first = _checkpoint_origin() or settings.LOG_ORIGIN or settings.LOG_ORIGIN_DEFAULT
        # Concurrent first starts race on generation 1; the loser reads the winner's name.
        name, _ = LogName.objects.get_or_create(generation=1, defaults={"origin": first, "named_at": timezone.now()})
        known = name.origin
    return known


def log_origin() -> str:
    """The log's name, stored the first time it is asked for (the first checkpoint signed or the
    log first published: ``log_origin_store``). Raises ``LogOriginMismatch`` when ``LOG_ORIGIN``
    names another log: nothing is signed or published under a name verifiers do not know."""
    known = log_origin_store()
    if problem := log_origin_mismatch(known):
        raise LogOriginMismatch(problem)
    return known


def log_signer() -> Signer:
    """The signer of checkpoints; its key name is the log's origin (c2sp.org/tlog-checkpoint)."""
    return _signer(log_origin(), settings.KEYS.log_signing_key)
