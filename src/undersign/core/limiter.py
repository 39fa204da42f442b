"""Keyed rate limits: counters in the cache named only by an HMAC, never by what they count.

A counter's name is ``HMAC-SHA256(limiter_key, scope 0x00 part₁ 0x00 … )`` over the rule's
scope label and its parts, each part length-prefixed, so no two (petition, address) pairs run
together and the plaintext (an e-mail address, later a network or a domain) is in no cache
key, log line or table. The limiter has its own key (``settings.KEYS.limiter_key``), never the
dedup key: every app host needs it, and it must not let its holder test "did this address sign
P?" against a dump.

Storage is Django's cache: Redis when ``REDIS_URL`` is set (shared by every app process),
process memory otherwise (the embedded mode runs one process). Never the database: a limiter
write on the sign path would cost the INSERT budget. Windows are fixed (a counter starts at
the first hit and expires ``window`` later), which allows at most twice the limit across a
window's edge: fine for keeping a mailbox from being flooded, and a sliding or burst rule can
be added as another ``Rule`` without touching callers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

KEY_PREFIX = "undersign:limit:"


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` takes per ``window`` for each distinct value of the parts, under a
    ``scope`` label naming what is counted and the layout of its parts (bump its version when
    the parts change, so old counters are not misread)."""

    scope: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window.total_seconds() < 1 or "\x00" in self.scope:
            raise ValueError(f"bad limiter rule {self.scope!r}")


Part = bytes | str


def _encode(part: Part) -> bytes:
    return part.encode("utf-8") if isinstance(part, str) else part


def limit_key(*, rule: Rule, parts: Sequence[Part]) -> str:
    """The cache key of ``rule``'s counter for ``parts``: hex of the HMAC, nothing else."""
    return scope_key(scope=rule.scope, parts=parts)


def scope_key(*, scope: str, parts: Sequence[Part]) -> str:
    """The cache key of a counter named by ``scope`` and ``parts`` (``limit_key`` and the growing
    delays of ``core.backoff`` share it, so every counter is named the same keyed way)."""
    message = bytearray(scope.encode("ascii"))
    message += b"\x00"
    for part in parts:
        encoded = _encode(part)
        message += len(encoded).to_bytes(4, "big") + encoded
    digest = hmac.new(settings.KEYS.limiter_key, bytes(message), hashlib.sha256).hexdigest()
    return KEY_PREFIX + digest


def limit_take(*, rule: Rule, parts: Sequence[Part]) -> bool:
    """Count one use against ``rule`` for ``parts``; False (over the limit) if this use would
    exceed it. A refused use still counts, so hammering a closed counter keeps it closed until
    its window ends. Atomic under concurrency: ``add`` creates the counter with its expiry only
    if absent, ``incr`` is atomic in Redis and under the local-memory cache's lock."""
    key = limit_key(rule=rule, parts=parts)
    timeout = int(rule.window.total_seconds())
    try:
        if cache.add(key, 1, timeout=timeout):
            return True
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr: this use opens a new window
            cache.add(key, 1, timeout=timeout)
            return True
        if used == 1:
            # Redis's INCR made the counter afresh (it expired between the cache's EXISTS and
            # INCR), without an expiry: give it one, or the address stays capped for good.
            cache.touch(key, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        # Open, not closed: a Redis outage must not stop confirmation e-mails for everyone (nor
        # turn a stored signature into an error page); floods are possible only while it lasts.
        log.warning("limiter unavailable, allowing: %s", type(error).__name__)
        return True
    return used <= rule.limit


def limit_take_all(*, takes: Sequence[tuple[Rule, Sequence[Part]]]) -> bool:
    """Take each rule in order, stopping at the first refusal (later counters are not
    charged for a use that does not happen). True only if every rule allowed it."""
    for rule, parts in takes:
        if not limit_take(rule=rule, parts=parts):
            log.info("limit reached: %s", rule.scope)
            return False
    return True
