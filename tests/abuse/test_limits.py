"""The sign path's verdicts (``abuse.limits.sign_verdict``), at the shipped defaults: in process
memory (the embedded mode) and on Redis, where one request is one round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from tests.factories import make_petition
from undersign.abuse.limits import ACCEPT, Action, HoldReason, Verdict, email_domain, sign_verdict
from undersign.abuse.models import ListKind, ListTarget
from undersign.abuse.services import list_entry_add
from undersign.core.limiter import Rule, limit_count_many, limit_take, limit_take_all
from undersign.petitions.models import Petition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_limits")]

HELD_HOST = Verdict(Action.HOLD, HoldReason.HOST)
HELD_NETWORK = Verdict(Action.HOLD, HoldReason.NETWORK)
HELD_DOMAIN = Verdict(Action.HOLD, HoldReason.DOMAIN)
REFUSED = Verdict(Action.REFUSE, "hard")


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request):
    """Each rule both ways: the embedded mode's process memory and production's Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    return request.param


@pytest.fixture
def petition() -> Petition:
    return make_petition()


def verdicts(petition: Petition, n: int, *, email=lambda i: f"s{i}@town{i}.example", ip=lambda i: f"198.51.{i}.7"):
    return [sign_verdict(petition=petition, email=email(i), ip=ip(i)) for i in range(n)]


@pytest.mark.usefixtures("cache_backend")
class TestSoftLimits:
    def test_distinct_signers_are_accepted(self, petition):
        assert set(verdicts(petition, 40)) == {ACCEPT}

    def test_one_host_is_held_past_its_burst(self, petition, settings):
        got = verdicts(petition, 5, ip=lambda i: "203.0.113.9")
        burst = settings.SIGN_PER_HOST_BURST
        assert got == [ACCEPT] * burst + [HELD_HOST] * (5 - burst)

    def test_one_network_is_held_past_its_burst_whatever_the_hosts(self, petition, settings):
        got = verdicts(petition, 8, ip=lambda i: f"203.0.113.{i + 1}")
        burst = settings.SIGN_PER_NETWORK_BURST
        assert got == [ACCEPT] * burst + [HELD_NETWORK] * (8 - burst)

    def test_one_ipv6_slash_64_is_one_host(self, petition, settings):
        got = verdicts(petition, 4, ip=lambda i: f"2001:db8:1:2::{i + 1}")
        assert got[-1] == HELD_HOST and got[: settings.SIGN_PER_HOST_BURST] == [ACCEPT] * settings.SIGN_PER_HOST_BURST

    def test_one_domain_is_held_past_its_burst_from_many_networks(self, petition, settings):
        got = verdicts(petition, 7, email=lambda i: f"s{i}@catch-all.example")
        burst = settings.SIGN_PER_DOMAIN_BURST
        assert got == [ACCEPT] * burst + [HELD_DOMAIN] * (7 - burst)

    def test_a_domain_is_counted_in_its_idna_form(self, petition, settings):
        settings.SIGN_PER_DOMAIN_BURST = 1
        assert sign_verdict(petition=petition, email="a@bücher.example", ip="198.51.100.1") == ACCEPT
        assert sign_verdict(petition=petition, email="b@xn--bcher-kva.example", ip="198.51.101.1") == HELD_DOMAIN

    def test_limits_are_per_petition(self, petition):
        other = make_petition(action="Another petition")
        for _ in range(3):
            sign_verdict(petition=petition, email="x@a.example", ip="203.0.113.9")
        assert sign_verdict(petition=other, email="x@b.example", ip="203.0.113.9") == ACCEPT

    def test_a_large_provider_is_held_only_past_its_floor_and_share(self, petition, settings):
        settings.LARGE_PROVIDER_FLOOR = 3
        settings.LARGE_PROVIDER_SHARE_PERCENT = 50
        gmail = [sign_verdict(petition=petition, email=f"g{i}@gmail.com", ip=f"198.51.{i}.1") for i in range(4)]
        assert gmail == [ACCEPT] * 3 + [Verdict(Action.HOLD, HoldReason.PROVIDER)]  # 4 of 4 > 50 %
        verdicts(petition, 6)  # the petition's own traffic grows: 4 of 10
        assert sign_verdict(petition=petition, email="g9@gmail.com", ip="198.51.99.1") == ACCEPT  # 5 of 11

    def test_a_large_provider_is_never_limited_by_the_domain_rules(self, petition):
        got = verdicts(petition, 20, email=lambda i: f"user{i}@gmail.com")
        assert set(got) == {ACCEPT}  # the floor (50) is not reached


@pytest.mark.usefixtures("cache_backend")
class TestHardLimit:
    def test_a_network_over_the_hard_limit_is_refused_site_wide(self, settings):
        settings.SIGN_HARD_LIMIT = 4
        petitions = [make_petition(action=f"Petition {n}") for n in range(5)]
        got = [sign_verdict(petition=p, email=f"s{n}@x{n}.example", ip="203.0.113.9") for n, p in enumerate(petitions)]
        assert got[:4] == [ACCEPT] * 4 and got[4] == REFUSED

    def test_a_domain_over_the_hard_limit_is_refused(self, petition, settings):
        settings.SIGN_HARD_LIMIT = 6
        got = verdicts(petition, 8, email=lambda i: f"s{i}@catch-all.example")
        assert got[6:] == [REFUSED, REFUSED]

    def test_a_large_provider_is_never_refused_for_its_volume(self, petition, settings):
        settings.SIGN_HARD_LIMIT = 2
        assert REFUSED not in verdicts(petition, 5, email=lambda i: f"s{i}@gmail.com")


@pytest.mark.usefixtures("cache_backend")
class TestListsAndAttackMode:
    def add(self, moderator, kind, target, value, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            list_entry_add(actor=moderator, kind=kind, target=target, value=value)

    def test_a_block_listed_domain_or_subdomain_is_held(self, petition, moderator, django_capture_on_commit_callbacks):
        self.add(moderator, ListKind.BLOCK, ListTarget.DOMAIN, "Evil.example", django_capture_on_commit_callbacks)
        blocked = Verdict(Action.HOLD, HoldReason.BLOCKED)
        assert sign_verdict(petition=petition, email="a@evil.example", ip="198.51.100.1") == blocked
        assert sign_verdict(petition=petition, email="a@mx.EVIL.example", ip="198.51.100.2") == blocked
        assert sign_verdict(petition=petition, email="a@notevil.example", ip="198.51.100.3") == ACCEPT

    def test_a_block_listed_network_is_held(self, petition, moderator, django_capture_on_commit_callbacks):
        self.add(moderator, ListKind.BLOCK, ListTarget.NETWORK, "203.0.113.0/24", django_capture_on_commit_callbacks)
        blocked = Verdict(Action.HOLD, HoldReason.BLOCKED)
        assert sign_verdict(petition=petition, email="a@a.example", ip="203.0.113.200") == blocked
        assert sign_verdict(petition=petition, email="a@a.example", ip="::ffff:203.0.113.1") == blocked
        assert sign_verdict(petition=petition, email="b@a.example", ip="203.0.114.1") == ACCEPT

    def test_an_allow_listed_network_is_never_held_nor_refused(
        self, petition, moderator, settings, django_capture_on_commit_callbacks
    ):
        settings.SIGN_HARD_LIMIT = 10
        self.add(moderator, ListKind.ALLOW, ListTarget.NETWORK, "2001:db8::/48", django_capture_on_commit_callbacks)
        got = verdicts(petition, 30, ip=lambda i: "2001:db8:0:1::5")
        assert set(got) == {ACCEPT}

    def test_attack_mode_holds_without_proof_and_skips_soft_limits_with_it(self, petition):
        Petition.objects.filter(pk=petition.pk).update(attack_mode_since=timezone.now())
        petition.refresh_from_db()
        assert sign_verdict(petition=petition, email="a@a.example", ip="198.51.100.1") == Verdict(
            Action.HOLD, HoldReason.PROOF
        )
        proven = [
            sign_verdict(petition=petition, email=f"s{i}@t.example", ip="10.0.0.1", proven=True) for i in range(9)
        ]
        assert set(proven) == {ACCEPT}  # one Tor exit, one catch-all domain: the proof stands for them

    def test_with_proof_the_hard_limit_still_refuses(self, petition, settings):
        settings.SIGN_HARD_LIMIT = 3
        got = [sign_verdict(petition=petition, email=f"s{i}@t.example", ip="10.0.0.1", proven=True) for i in range(4)]
        assert got[-1] == REFUSED


def test_limits_switched_off_accept_everything(petition, settings):
    settings.SIGN_LIMITS_ENABLED = False
    assert set(verdicts(petition, 10, ip=lambda i: "203.0.113.9")) == {ACCEPT}


def test_email_domain_is_the_normalised_idna_domain():
    assert email_domain("Ana+tag@Bücher.Example") == "xn--bcher-kva.example"
    assert email_domain("a.b@googlemail.com") == "gmail.com"


class TestRedis:
    def test_one_request_is_one_round_trip(self, petition, redis_cache, monkeypatch):
        calls = []
        execute = redis.Redis.execute_command

        def counted(client, *args, **kwargs):
            calls.append(args[0])
            return execute(client, *args, **kwargs)

        sign_verdict(petition=petition, email="warm@a.example", ip="198.51.100.1")  # the lists' first read
        monkeypatch.setattr(redis.Redis, "execute_command", counted)
        sign_verdict(petition=petition, email="a@a.example", ip="198.51.100.2")
        assert calls == ["EVALSHA"]  # the script by its digest (register_script), one round trip

    def test_counters_are_named_by_keyed_hashes_only_and_expire(self, petition, redis_cache):
        sign_verdict(petition=petition, email="ana@town.example", ip="198.51.100.2")
        keys = [key.decode() for key in redis_cache.scan_iter("*undersign:limit:*")]
        assert keys
        for key in keys:
            assert "town" not in key and "198.51" not in key and str(petition.uuid) not in key
            assert 0 < redis_cache.ttl(key) <= 3600

    def test_a_redis_that_lost_its_scripts_still_counts(self, redis_cache):
        """After a Redis restart the script is gone from the server; the next count loads it again."""
        counter = (Rule("test/script/v1", 5, timedelta(minutes=1)), ("x",))
        assert limit_count_many(counters=[counter]) == [1]
        redis_cache.script_flush()
        assert limit_count_many(counters=[counter]) == [2]

    def test_redis_down_fails_open(self, petition, settings):
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
        }
        assert set(verdicts(petition, 6, ip=lambda i: "203.0.113.9")) == {ACCEPT}


class TestTakeAllOnRedis:
    """``core.limiter.limit_take_all`` (the mail caps, the other forms' limits): one round trip
    on Redis, with the semantics of taking each rule in turn."""

    def test_one_round_trip_that_stops_at_the_first_refusal(self, redis_cache, monkeypatch):
        narrow = Rule("test/take-narrow/v1", 1, timedelta(minutes=1))
        wide = Rule("test/take-wide/v1", 5, timedelta(minutes=1))
        takes = [(narrow, ["ana"]), (wide, ["ana"])]
        limit_take_all(takes=takes)  # the script's first load
        calls = []
        execute = redis.Redis.execute_command

        def counted(client, *args, **kwargs):
            calls.append(args[0])
            return execute(client, *args, **kwargs)

        monkeypatch.setattr(redis.Redis, "execute_command", counted)
        assert not limit_take_all(takes=takes)
        assert calls == ["EVALSHA"]
        monkeypatch.undo()
        assert limit_take_all(takes=[(wide, ["ana"])]) and limit_take_all(takes=[(wide, ["ana"])])
        assert limit_take_all(takes=[(wide, ["ana"])])
        # Uses 4 and 5: the refused take above never reached the wide counter.
        assert limit_take_all(takes=[(wide, ["ana"])])
        assert not limit_take_all(takes=[(wide, ["ana"])])
        keys = [key.decode() for key in redis_cache.scan_iter("*undersign:limit:*")]
        assert keys and all(0 < redis_cache.ttl(key) <= 60 for key in keys)

    def test_a_redis_that_lost_its_scripts_still_takes(self, redis_cache):
        rule = Rule("test/take-flush/v1", 1, timedelta(minutes=1))
        assert limit_take(rule=rule, parts=["x"])
        redis_cache.script_flush()
        assert not limit_take(rule=rule, parts=["x"])

    def test_redis_down_lets_the_use_through(self, settings):
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
        }
        rule = Rule("test/take-down/v1", 1, timedelta(minutes=1))
        assert limit_take(rule=rule, parts=["x"]) and limit_take(rule=rule, parts=["x"])
