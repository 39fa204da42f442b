"""Growing delays on keyed counters: a few free tries, then each further try waits longer.

Where a fixed-window cap (``core.limiter.Rule``) would lock a counter for the rest of its window
(and so let anyone who can reach the counter lock its owner out), a ``Backoff`` only slows it:
after ``free`` tries, try *n* may start only ``delay(n - 1)`` after try *n - 1* did, the delay
doubling from ``base`` up to ``cap``. A try that comes too early is refused before anything is
checked, and is not counted: the delay grows with checked tries only.

Counters are named like the limiter's (``core.limiter.scope_key``: an HMAC under the limiter
key, never what they count) and live in the same cache: Redis in production, process memory
when embedded. Each has a count (forgotten ``memory`` after its last try) and a *gate*: the time
before which the next try is refused. Concurrent tries are ordered by the atomic ``incr`` of the
count, and a try past the free ones goes only if it wins ``cache.add`` on the gate, so a burst
of parallel tries gets through one at a time, not all at once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache

from undersign.core.limiter import Part, scope_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """``free`` tries without waiting per distinct value of the parts, then waits doubling from
    ``base`` to ``cap``; a count is forgotten ``memory`` after its last try. ``scope`` names what
    is counted and the layout of its parts (bump its version when they change)."""

    scope: str
    free: int
    base: timedelta
    cap: timedelta
    memory: timedelta

    def __post_init__(self) -> None:
        if self.free < 1 or not timedelta(seconds=1) <= self.base <= self.cap <= self.memory or "\x00" in self.scope:
            raise ValueError(f"bad backoff rule {self.scope!r}")

    def delay(self, tries: int) -> int:
        """Whole seconds the next try must wait after ``tries`` counted ones."""
        if tries < self.free:
            return 0
        doublings = min(tries - self.free, 64)  # 2**64 seconds is past any cap
        return int(min(self.base.total_seconds() * 2**doublings, self.cap.total_seconds()))

    def count_key(self, parts: Sequence[Part]) -> str:
        return scope_key(scope=self.scope, parts=parts)

    def gate_key(self, parts: Sequence[Part]) -> str:
        return scope_key(scope=self.scope + "/gate", parts=parts)


@dataclass(frozen=True)
class Try:
    """One try at one rule: ``wait`` seconds if refused (0: it may go), and whether it set the
    gate (so that undoing it can reopen the gate)."""

    wait: int
    set_gate: bool = False


def _count(rule: Backoff, parts: Sequence[Part]) -> int:
    key, timeout = rule.count_key(parts), int(rule.memory.total_seconds())
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        tries = cache.incr(key)
    except ValueError:  # expired between add and incr: this try starts afresh
        cache.add(key, 1, timeout=timeout)
        return 1
    cache.touch(key, timeout=timeout)  # forgotten ``memory`` after the last try, not the first
    return tries


def _try(rule: Backoff, parts: Sequence[Part]) -> Try:
    tries = _count(rule, parts)
    now = time.time()
    delay = rule.delay(tries)
    gate = rule.gate_key(parts)
    set_gate = bool(delay) and cache.add(gate, now + delay, timeout=delay)
    if tries <= rule.free or set_gate:
        # A free try goes whatever the gate says (its add may lose to a later try's, which
        # then holds the gate for longer anyway); a later one goes only if it took the gate.
        return Try(wait=0, set_gate=set_gate)
    _uncount(rule, parts)  # refused unchecked: not a try that makes the delay grow
    until = cache.get(gate)
    return Try(wait=max(1, math.ceil(until - now)) if until else 1)


def _uncount(rule: Backoff, parts: Sequence[Part]) -> None:
    try:
        cache.decr(rule.count_key(parts))
    except ValueError:  # already forgotten
        pass


def _undo(rule: Backoff, parts: Sequence[Part], taken: Try) -> None:
    """Take back a try that did not happen (a later rule refused it)."""
    _uncount(rule, parts)
    if taken.set_gate:
        cache.delete(rule.gate_key(parts))


def backoff_try_all(*, tries: Sequence[tuple[Backoff, Sequence[Part]]]) -> int:
    """Count one try against each rule in order; 0 if every rule lets it go now, otherwise the
    seconds to wait, and then no rule is charged (a refused try is not counted anywhere).
    Open, not closed, while the cache is down, like the limiter: an outage must not keep staff
    out, and only lifts the delays while it lasts."""
    taken: list[tuple[Backoff, Sequence[Part], Try]] = []
    try:
        for rule, parts in tries:
            attempt = _try(rule, parts)
            if attempt.wait:
                for earlier_rule, earlier_parts, earlier in taken:
                    _undo(earlier_rule, earlier_parts, earlier)
                log.info("backoff: %s, %d s", rule.scope, attempt.wait)
                return attempt.wait
            taken.append((rule, parts, attempt))
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        log.warning("backoff unavailable, allowing: %s", type(error).__name__)
    return 0


def backoff_clear(*, rule: Backoff, parts: Sequence[Part]) -> None:
    """Forget every try counted for ``parts`` (e.g. after a success)."""
    try:
        cache.delete_many([rule.count_key(parts), rule.gate_key(parts)])
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        log.warning("backoff unavailable, not cleared: %s", type(error).__name__)


def backoff_forgive(*, rule: Backoff, parts: Sequence[Part]) -> None:
    """Take one try off ``parts``' count (a try that turned out not to be a failure), leaving
    the rest and any gate as they are."""
    try:
        _uncount(rule, parts)
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        log.warning("backoff unavailable, not forgiven: %s", type(error).__name__)
