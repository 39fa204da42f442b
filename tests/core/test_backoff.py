"""Growing delays: free tries, then waits that double up to a cap, refused tries not counted."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from undersign.core.backoff import Backoff, backoff_clear, backoff_forgive, backoff_try_all

RULE = Backoff(
    scope="test-backoff/v1",
    free=3,
    base=timedelta(seconds=2),
    cap=timedelta(seconds=10),
    memory=timedelta(hours=1),
)
WIDE = Backoff(
    scope="test-wide/v1", free=5, base=timedelta(seconds=2), cap=timedelta(seconds=10), memory=timedelta(hours=1)
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The one clock both this code and the local-memory cache's expiry read."""
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


def attempt(parts=("alice",), rules=(RULE,)) -> int:
    return backoff_try_all(tries=[(rule, list(parts)) for rule in rules])


def test_delays_double_from_base_to_cap():
    assert [RULE.delay(n) for n in range(1, 9)] == [0, 0, 2, 4, 8, 10, 10, 10]


def test_free_tries_then_a_wait_that_doubles(clock):
    assert [attempt() for _ in range(3)] == [0, 0, 0]
    assert attempt() == 2
    clock.advance(2)
    assert attempt() == 0
    assert attempt() == 4
    clock.advance(3)
    assert attempt() == 1
    clock.advance(1)
    assert attempt() == 0
    assert attempt() == 8


def test_refused_tries_do_not_make_the_wait_grow(clock):
    for _ in range(3):
        attempt()
    assert [attempt() for _ in range(20)] == [2] * 20
    clock.advance(2)
    assert attempt() == 0
    assert attempt() == 4


def test_each_value_counts_apart(clock):
    for _ in range(3):
        attempt()
    assert attempt() == 2
    assert attempt(parts=("bob",)) == 0


def test_a_later_rules_refusal_charges_no_rule(clock):
    """The second rule refuses: the first rule's try is taken back, gate and all."""
    for name in ("a", "b", "c", "d", "e"):
        backoff_try_all(tries=[(RULE, [name]), (WIDE, ["net"])])
    assert backoff_try_all(tries=[(RULE, ["f"]), (WIDE, ["net"])]) == 2
    assert cache.get(RULE.count_key(["f"])) == 0
    assert cache.get(RULE.gate_key(["f"])) is None


def test_clear_forgets_every_try(clock):
    for _ in range(4):
        attempt()
    backoff_clear(rule=RULE, parts=["alice"])
    assert [attempt() for _ in range(3)] == [0, 0, 0]


def test_forgive_takes_one_try_off(clock):
    for _ in range(3):
        attempt()
    backoff_forgive(rule=RULE, parts=["alice"])
    clock.advance(2)
    assert attempt() == 0
    assert attempt() == 2


def test_counts_are_forgotten_after_memory(clock):
    for _ in range(3):
        attempt()
    clock.advance(3601)
    assert [attempt() for _ in range(3)] == [0, 0, 0]


def test_counters_are_named_by_keyed_hashes_only(clock):
    attempt(parts=("alice@example.org", "192.0.2.7/32"))
    keys = list(cache._cache)  # type: ignore[attr-defined]  # the local-memory cache's store
    assert keys and not any("alice" in key or "192.0.2" in key for key in keys)


def test_open_while_the_cache_is_down(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "add", broken)
    assert attempt() == 0


@pytest.mark.parametrize(
    "changes", [{"free": 0}, {"base": timedelta(0)}, {"cap": timedelta(seconds=1)}, {"memory": timedelta(seconds=5)}]
)
def test_bad_rules_are_refused(changes):
    fields = {
        "scope": "x/v1",
        "free": 1,
        "base": timedelta(seconds=2),
        "cap": timedelta(seconds=10),
        "memory": timedelta(hours=1),
    }
    with pytest.raises(ValueError, match="bad backoff rule"):
        Backoff(**(fields | changes))
