"""The log's high-water mark: the largest checkpoint the integrator has signed, kept outside the
database (``LOG_HIGH_WATER_FILE``), so that a database restored from an older backup cannot make
the log sign a checkpoint smaller than one already published, nor another history at a size
already signed. Verifiers that saw the larger checkpoint would report a rollback or a fork, and
the signatures appended since would be appended again in another order.

Order of writes: the file is written inside the checkpoint's transaction, as its last step
before the commit, so it is never behind a published (committed) checkpoint. A crash between
the two leaves it one batch *ahead* of the database; the integrator then refuses like after a
restore, because from the database alone nobody can tell whether that checkpoint was committed
(and served) before a failover lost it. The refusal says so, and the operator decides
(docs/deployment.md, "Backups and restore").

The file holds the checkpoint signed (size and root) and the one before it, in JSON. Missing:
nothing was signed with it yet (a first start). Damaged: refused. Empty setting: no guard.

With integrators on several hosts and nothing shared but PostgreSQL and Redis, the mark lives in
Redis instead (``LOG_HIGH_WATER_URL``, one key), which must then persist its data (append-only
file, fsync on every write), on storage apart from the database's: the same JSON, written with
one SET, so a crash leaves the old mark or the new one. A mark that cannot be read or written
(Redis down) refuses integration until it can, as an unreadable file does.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import cache

from undersign.transparency.keys import log_origin_known
from undersign.transparency.models import LogCheckpoint
from undersign_verify.merkle import HASH_SIZE

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REFUSAL_CACHE_KEY = "undersign:log:integration-refused"
REDIS_KEY = "undersign:log:high-water"
WHAT_TO_DO = (
    "Nothing is signed or counted until this is resolved; the site keeps serving pages. "
    "Point DATABASE_URL at the newest database, or restore the newest backup, whose log reaches the "
    "checkpoint recorded in {path}. Only if you are certain that no checkpoint larger than the "
    "database's was ever served (by the site, a mirror or a CDN) may you move that mark aside: the "
    "integrator then goes on from the database's log. See docs/deployment.md, 'Backups and restore'."
)


@dataclass(frozen=True)
class HighWater:
    """The largest checkpoint signed, and the one signed before it (size 0 and the empty
    tree's root before the first)."""

    size: int
    root_hash: bytes
    previous_size: int
    previous_root_hash: bytes


class IntegrationRefused(Exception):
    """The integrator will not sign on this database. ``reason`` says why in public terms
    (sizes and roots are in the published log anyway); the message adds what to do."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The transparency log's integrator refuses to sign: {reason}. " + _what_to_do())


def _what_to_do() -> str:
    return WHAT_TO_DO.format(path=_where())


def _where() -> str:
    """Where the mark is, for people: the Redis URL without its password, or the file."""
    if settings.LOG_HIGH_WATER_URL:
        url = urlsplit(settings.LOG_HIGH_WATER_URL)
        host = (url.hostname or "") + (f":{url.port}" if url.port else "")
        return f"{url.scheme}://{host}{url.path} (key {REDIS_KEY})"
    return settings.LOG_HIGH_WATER_FILE


def _path() -> Path | None:
    return Path(settings.LOG_HIGH_WATER_FILE) if settings.LOG_HIGH_WATER_FILE else None


def _redis() -> redis.Redis:
    # A client per call: the integrator writes once per batch, and a process forked after a
    # client was made (Celery's pool) must not share its socket.
    return redis.Redis.from_url(settings.LOG_HIGH_WATER_URL, socket_timeout=5, socket_connect_timeout=5)


def _read_text() -> str | None:
    """The stored mark's text; None when none is stored or there is no guard."""
    if settings.LOG_HIGH_WATER_URL:
        try:
            with _redis() as client:
                value = client.get(REDIS_KEY)
        except redis.RedisError as exc:
            raise IntegrationRefused(f"the high-water mark cannot be read ({type(exc).__name__})") from None
        try:
            return None if value is None else bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise IntegrationRefused("the high-water mark is damaged (not a checkpoint this site wrote)") from None
    path = _path()
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrationRefused(f"the high-water file cannot be read ({type(exc).__name__})") from None


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _root(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("a root is base64 text")
    root = base64.b64decode(text, validate=True)
    if len(root) != HASH_SIZE:
        raise ValueError("a root is 32 bytes")
    return root


def _size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("a size is a whole number")
    return value


def high_water_read() -> HighWater | None:
    """The recorded mark; None when there is no guard (empty setting) or nothing was recorded
    yet (no file, no key). A mark that cannot be read or understood raises ``IntegrationRefused``."""
    text = _read_text()
    if text is None:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("unknown format")
        mark = HighWater(
            size=_size(data["size"]),
            root_hash=_root(data["root"]),
            previous_size=_size(data["previous_size"]),
            previous_root_hash=_root(data["previous_root"]),
        )
        if mark.previous_size >= mark.size:
            raise ValueError("the previous checkpoint is not smaller")
    except (ValueError, KeyError, binascii.Error):
        raise IntegrationRefused("the high-water file is damaged (not a checkpoint this site wrote)") from None
    return mark


def high_water_write(mark: HighWater) -> None:
    """Record ``mark`` atomically: in Redis one SET; in a file a temporary file beside it,
    flushed to disk, renamed over it, and the folder flushed, so a crash leaves the old mark or
    the new one, never half. A mark that cannot be written raises ``IntegrationRefused``."""
    path = _path()
    if path is None and not settings.LOG_HIGH_WATER_URL:
        return
    data = {
        "version": FORMAT_VERSION,
        "origin": log_origin_known(),  # for whoever reads the file; not compared
        "size": mark.size,
        "root": _b64(mark.root_hash),
        "previous_size": mark.previous_size,
        "previous_root": _b64(mark.previous_root_hash),
    }
    if settings.LOG_HIGH_WATER_URL:
        try:
            with _redis() as client:
                client.set(REDIS_KEY, json.dumps(data) + "\n")
        except redis.RedisError as exc:
            # Not recorded, so not signed: the caller's transaction rolls back.
            raise IntegrationRefused(f"the high-water mark cannot be written ({type(exc).__name__})") from None
        return
    assert path is not None
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        # Not recorded, so not signed: the caller's transaction rolls back.
        raise IntegrationRefused(f"the high-water file cannot be written ({type(exc).__name__})") from None


def high_water_check(*, size: int, root_hash: bytes) -> None:
    """Raise ``IntegrationRefused`` unless the database's log, whose latest checkpoint is
    (``size``, ``root_hash``), extends the recorded mark: at least as large, and with the
    recorded root at the recorded size."""
    mark = high_water_read()
    if mark is None:
        return
    if size < mark.size:
        reason = (
            f"the database's log (size {size}) is smaller than the largest checkpoint already signed "
            f"(size {mark.size}), as after a restore from an older backup"
        )
        if (size, root_hash) == (mark.previous_size, mark.previous_root_hash):
            reason += (
                "; it ends exactly at the checkpoint signed before that one, so either the integrator "
                f"stopped after recording checkpoint {mark.size} and before committing it (then it was "
                "never served), or the database lost its last transaction (a failover or a restore)"
            )
        raise IntegrationRefused(reason)
    if size == mark.size:
        if root_hash != mark.root_hash:
            raise IntegrationRefused(
                f"the database's log at size {size} has root {_b64(root_hash)}, not the root "
                f"{_b64(mark.root_hash)} already signed at that size: it is another history"
            )
        return
    signed = LogCheckpoint.objects.filter(size=mark.size).values_list("root_hash", flat=True).first()
    if signed is None or bytes(signed) != mark.root_hash:
        found = "has no checkpoint" if signed is None else f"has root {_b64(bytes(signed))}"
        raise IntegrationRefused(
            f"the database's log (size {size}) {found} at size {mark.size}, where root "
            f"{_b64(mark.root_hash)} was already signed: it is another history"
        )


def high_water_record(*, previous_size: int, previous_root_hash: bytes, size: int, root_hash: bytes) -> None:
    """Record a checkpoint just signed, after (``previous_size``, ``previous_root_hash``).
    Precondition: in its transaction, as the last step before the commit (see the module's
    docstring for why)."""
    high_water_write(HighWater(size, root_hash, previous_size, previous_root_hash))


# --- telling people ---------------------------------------------------------------------------

_logged: str | None = None  # the refusal this process has logged, so a tick a second adds no more


def refusal_report(refusal: IntegrationRefused) -> None:
    """Say it loudly once per process (and again if the reason changes), and let the health
    endpoint of every host show it for a while (``REFUSAL_CACHE_KEY``; the integrator renews it
    on every tick it refuses)."""
    global _logged
    if refusal.reason != _logged:
        log.error("%s", refusal)
        _logged = refusal.reason
    try:
        cache.set(REFUSAL_CACHE_KEY, refusal.reason, timeout=max(60, int(10 * settings.LOG_INTEGRATE_INTERVAL)))
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down: the log line stands
        log.warning("cannot record the refusal for the health endpoint: %s", type(error).__name__)


def refusal_clear() -> None:
    """Integration went ahead: forget a refusal this process reported."""
    global _logged
    if _logged is None:
        return
    _logged = None
    try:
        cache.delete(REFUSAL_CACHE_KEY)
    except Exception as error:  # noqa: BLE001 - it expires on its own
        log.warning("cannot clear the refusal for the health endpoint: %s", type(error).__name__)
