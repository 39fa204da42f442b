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
window's edge: fine for keeping a mailbox from being flooded, and a burst rule is simply
another ``Rule`` with a shorter window (the sign path's limits, ``abuse.limits``, pair a burst
and a sustained window per client host, network and e-mail domain).

Two ways to count: ``limit_take`` takes one rule at a time (the mail caps, a few per request);
``limit_count_many`` counts a whole request's counters in one round trip to Redis (one small
Lua script: ``INCR`` each counter, give a new one its expiry) and returns their values for the
caller to judge, which the sign path needs to stay within its budget. Both fail open: while
the cache is unreachable every use is allowed (and said so in the log, once per use).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

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
    its window ends. Atomic under concurrency: on Redis one script (``limit_take_all``), in
    process memory ``add`` creates the counter with its expiry only if absent and ``incr`` is
    atomic under the local-memory cache's lock."""
    return limit_take_all(takes=[(rule, parts)])


def _count_one(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (made with expiry ``timeout`` if absent) through the
    cache's own API; its value afterwards."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: this use opens a new window
        cache.add(key, 1, timeout=timeout)
        return 1
    if used == 1:
        # Redis's INCR made the counter afresh (it expired between the cache's EXISTS and
        # INCR), without an expiry: give it one, or the address stays capped for good.
        cache.touch(key, timeout=timeout)
    return int(used)


# One round trip for a whole request's counters. A counter INCR just made (1), or one left
# without an expiry by a race elsewhere (TTL -1), gets its window; the others keep theirs.
_COUNT_MANY_LUA = """
local counts = {}
for i, key in ipairs(KEYS) do
  local used = redis.call('INCR', key)
  if used == 1 or redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, ARGV[i])
  end
  counts[i] = used
end
return counts
"""


def limit_count_many(*, counters: Sequence[tuple[Rule, Sequence[Part]]]) -> list[int] | None:
    """Count one use against every counter of ``counters`` and return their values afterwards,
    in order, for the caller to compare with each rule's limit (a use over a limit still
    counts, as in ``limit_take``). On Redis this is one round trip (a Lua script, atomic);
    in process memory, the cache's own calls. None if the cache is unreachable: the caller
    then allows the use (fail open, as ``limit_take``).

    The script names every key it touches, as Redis requires; with several cache servers
    configured all of them go to the first, where Django's cache writes too."""
    keys = [limit_key(rule=rule, parts=parts) for rule, parts in counters]
    timeouts = [int(rule.window.total_seconds()) for rule, _ in counters]
    try:
        backend = caches["default"]  # ``cache`` is a proxy: isinstance needs the backend itself
        if isinstance(backend, RedisCache):
            full = [backend.make_and_validate_key(key) for key in keys]
            return [int(used) for used in _count_many_script(backend)(keys=full, args=timeouts)]
        return [_count_one(key, timeout) for key, timeout in zip(keys, timeouts, strict=True)]
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        log.warning("limiter unavailable, allowing: %s", type(error).__name__)
        return None


def _count_many_script(backend: RedisCache) -> Any:
    return _script(backend, "_undersign_count_many", _COUNT_MANY_LUA)


def _script(backend: RedisCache, name: str, source: str) -> Any:
    """The script ``source`` bound to the cache's Redis client, made once per cache object (one
    per thread) and kept on it as ``name``: Django's cache offers no script call, and building
    a client for every request (its ``get_client``, which each of its own calls does too) cost
    more CPU than the counting itself. ``register_script`` sends the script by its SHA1
    (EVALSHA), loading it again if the server has lost it."""
    client = backend._cache  # type: ignore[attr-defined]  # Django's RedisCacheClient
    script = getattr(client, name, None)
    if script is None:
        script = client.get_client(write=True).register_script(source)
        setattr(client, name, script)
    return script


# Takes in order, stopping at the first counter over its limit (which keeps this use all the
# same): the 1-based position of that counter, 0 if every one allowed it.
_TAKE_ALL_LUA = """
for i, key in ipairs(KEYS) do
  local used = redis.call('INCR', key)
  if used == 1 or redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, ARGV[2 * i - 1])
  end
  if used > tonumber(ARGV[2 * i]) then
    return i
  end
end
return 0
"""


def limit_take_all(*, takes: Sequence[tuple[Rule, Sequence[Part]]]) -> bool:
    """Take each rule in order, stopping at the first refusal (later counters are not
    charged for a use that does not happen). True only if every rule allowed it. On Redis
    one round trip (a Lua script, atomic); in process memory, the cache's own calls. Fails
    open, as every counter here: while the cache is unreachable the use is allowed."""
    return limit_take_counted(takes=takes)[0]


def limit_take_counted(*, takes: Sequence[tuple[Rule, Sequence[Part]]]) -> tuple[bool, int]:
    """``limit_take_all``, also saying how many of ``takes`` (from the first) this use was
    counted against, for ``limit_give_back``: all of them when allowed, up to the refusing one
    when refused, none while the cache is unreachable."""
    keys = [limit_key(rule=rule, parts=parts) for rule, parts in takes]
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            full = [backend.make_and_validate_key(key) for key in keys]
            args: list[int] = []
            for rule, _ in takes:
                args += [int(rule.window.total_seconds()), rule.limit]
            refused_at = int(_script(backend, "_undersign_take_all", _TAKE_ALL_LUA)(keys=full, args=args))
        else:
            refused_at = 0
            for position, (key, (rule, _)) in enumerate(zip(keys, takes, strict=True), start=1):
                if _count_one(key, int(rule.window.total_seconds())) > rule.limit:
                    refused_at = position
                    break
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        # Open, not closed: a Redis outage must not stop confirmation e-mails for everyone (nor
        # turn a stored signature into an error page); floods are possible only while it lasts.
        log.warning("limiter unavailable, allowing: %s", type(error).__name__)
        return True, 0
    if refused_at:
        log.info("limit reached: %s", takes[refused_at - 1][0].scope)
        return False, refused_at
    return True, len(takes)


# Gives back one use of each counter that still exists: one that expired meanwhile is not made
# again (a DECR would make it at -1, without an expiry).
_GIVE_BACK_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('DECR', key)
  end
end
return 0
"""


def limit_give_back(*, takes: Sequence[tuple[Rule, Sequence[Part]]]) -> None:
    """Undo one use of each of ``takes``, counted for something that then did not happen
    (``limit_take_counted`` says how many were). Best effort: with the cache unreachable the
    uses stay counted, which only makes the limits tighter until their windows end."""
    keys = [limit_key(rule=rule, parts=parts) for rule, parts in takes]
    if not keys:
        return
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            full = [backend.make_and_validate_key(key) for key in keys]
            _script(backend, "_undersign_give_back", _GIVE_BACK_LUA)(keys=full, args=[])
            return
        for key in keys:
            try:
                cache.decr(key)
            except ValueError:  # expired meanwhile: nothing to give back
                pass
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        log.warning("limiter unavailable, not given back: %s", type(error).__name__)
