"""The keyed limiter: counts per rule and parts, and names its counters by an HMAC only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache

from undersign.core.limiter import Rule, limit_key, limit_take, limit_take_all

RULE = Rule(scope="test-address/v1", limit=3, window=timedelta(hours=1))
ADDRESS = "suzie.q@example.org"


def test_allows_up_to_the_limit_then_refuses():
    assert [limit_take(rule=RULE, parts=[ADDRESS]) for _ in range(5)] == [True, True, True, False, False]


def test_counts_each_value_and_each_scope_apart():
    for _ in range(3):
        limit_take(rule=RULE, parts=[ADDRESS])
    assert limit_take(rule=RULE, parts=["someone.else@example.org"])
    assert limit_take(rule=replace(RULE, scope="other/v1"), parts=[ADDRESS])


def test_parts_are_length_prefixed_so_they_never_run_together():
    assert limit_key(rule=RULE, parts=["1", "23@x.org"]) != limit_key(rule=RULE, parts=["12", "3@x.org"])
    assert limit_key(rule=RULE, parts=[b"ab", b"c"]) != limit_key(rule=RULE, parts=[b"a", b"bc"])


def test_a_refusal_does_not_charge_the_rules_after_it():
    narrow = Rule(scope="narrow/v1", limit=1, window=timedelta(hours=1))
    wide = Rule(scope="wide/v1", limit=2, window=timedelta(hours=1))
    takes = [(narrow, [ADDRESS]), (wide, [ADDRESS])]
    assert limit_take_all(takes=takes)
    assert not limit_take_all(takes=takes)
    assert not limit_take_all(takes=takes)
    assert limit_take(rule=wide, parts=[ADDRESS])  # only the first use reached the wide rule


def test_keys_name_no_address_and_depend_on_the_limiter_key_only(settings):
    key = limit_key(rule=RULE, parts=[ADDRESS])
    for needle in (ADDRESS, "suzie", "example.org", ADDRESS.encode().hex()):
        assert needle not in key
    settings.KEYS = replace(settings.KEYS, dedup_key=b"\x01" * 32)
    assert limit_key(rule=RULE, parts=[ADDRESS]) == key  # not the dedup key
    settings.KEYS = replace(settings.KEYS, limiter_key=b"\x02" * 32)
    assert limit_key(rule=RULE, parts=[ADDRESS]) != key


def test_nothing_in_the_cache_names_the_address():
    limit_take(rule=RULE, parts=[ADDRESS])
    store = getattr(cache, "_cache", None)
    if store is None:
        pytest.skip("not the local-memory cache")
    assert store, "the counter is in the cache"
    dumped = repr(dict(store)).casefold()
    assert "suzie" not in dumped and "example.org" not in dumped


def test_an_unreachable_cache_lets_mail_through(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    assert limit_take(rule=RULE, parts=[ADDRESS])


def test_rules_refuse_nonsense():
    with pytest.raises(ValueError):
        Rule(scope="x", limit=0, window=timedelta(hours=1))
    with pytest.raises(ValueError):
        Rule(scope="x\x00y", limit=1, window=timedelta(hours=1))
    assert settings.KEYS.limiter_key != settings.KEYS.dedup_key


def test_a_counter_remade_by_incr_gets_its_window_back(monkeypatch):
    """Redis: the counter can expire between the cache's EXISTS and its INCR, and INCR then
    makes a counter without expiry, which would cap the address for good."""
    touched = []
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)  # the counter seemed to exist
    monkeypatch.setattr(cache, "incr", lambda key, delta=1: 1)  # … and INCR made it afresh
    monkeypatch.setattr(cache, "touch", lambda key, timeout=None: touched.append(timeout) or True)
    assert limit_take(rule=RULE, parts=["someone@example.org"])
    assert touched == [int(RULE.window.total_seconds())]
