"""Staff login over HTTP: growing delays per (account, network), never a lockout."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client

from tests.core.test_backoff import Clock
from tests.origins import CLEARNET, ONION

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # the ``moderator`` fixture's
ATTACKER = "198.51.100.7"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _login_settings(settings):
    settings.LOGIN_FREE_FAILURES = 5
    settings.LOGIN_NETWORK_FREE_FAILURES = 50
    settings.LOGIN_DELAY_SECONDS = 2
    settings.LOGIN_DELAY_MAX_SECONDS = 900


def from_network(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(client: Client, password: str, username: str = "mod"):
    return client.post("/en/accounts/login/", {"username": username, "password": password})


def test_wrong_passwords_from_one_network_get_growing_delays(clock, moderator):
    attacker = from_network(ATTACKER)
    assert [log_in(attacker, "wrong").status_code for _ in range(5)] == [200] * 5
    refused = log_in(attacker, "wrong")
    assert refused.status_code == 429 and refused["Retry-After"] == "2"
    assert b"Too many attempts; try again in 2 seconds." in refused.content
    clock.advance(2)
    assert log_in(attacker, "wrong").status_code == 200
    assert log_in(attacker, "wrong")["Retry-After"] == "4"


def test_the_right_password_during_the_delay_is_refused_the_same_way(clock, moderator, django_assert_num_queries):
    attacker = from_network(ATTACKER)
    for _ in range(5):
        log_in(attacker, "wrong")
    with django_assert_num_queries(0):  # nothing looked up, no password hashed
        answers = [log_in(attacker, PASSWORD), log_in(attacker, "wrong"), log_in(attacker, "x", username="MOD")]
    assert {(a.status_code, a["Retry-After"], a.content) for a in answers} == {(429, "2", answers[0].content)}
    assert "_auth_user_id" not in attacker.session


def test_the_answer_is_the_same_whether_or_not_the_account_exists(clock, moderator):
    for username in ("mod", "nobody"):
        client = from_network(ATTACKER)
        for _ in range(5):
            log_in(client, "wrong", username=username)
        refused = log_in(client, "wrong", username=username)
        assert (refused.status_code, refused["Retry-After"]) == (429, "2")
        cache.clear()


def test_the_owner_on_another_network_logs_in_at_once(clock, moderator):
    attacker = from_network(ATTACKER)
    for _ in range(12):
        log_in(attacker, "wrong")
        clock.advance(1)
    assert log_in(attacker, PASSWORD).status_code == 429
    owner = from_network("203.0.113.9")
    assert log_in(owner, PASSWORD).status_code == 302


def test_a_network_failing_across_accounts_is_slowed_as_a_whole(clock, moderator, settings):
    settings.LOGIN_NETWORK_FREE_FAILURES = 8
    for number in range(8):  # a few tries at each of many names, each under its own free count
        log_in(from_network(f"198.51.100.{number}"), "wrong", username=f"user{number}")
    assert log_in(from_network("198.51.100.200"), PASSWORD).status_code == 429  # same /24
    assert log_in(from_network("203.0.113.9"), PASSWORD).status_code == 302


def test_a_success_resets_the_accounts_count_on_that_network(clock, moderator):
    client = from_network(ATTACKER)
    for _ in range(4):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.post("/en/accounts/logout/")
    assert [log_in(client, "wrong").status_code for _ in range(5)] == [200] * 5
    assert log_in(client, "wrong").status_code == 429


def test_the_counters_store_no_plaintext(clock, moderator):
    log_in(from_network(ATTACKER), "wrong", username="mod")
    stored = repr(list(cache._cache.items()))  # type: ignore[attr-defined]  # local-memory store
    assert "mod" not in stored.replace("undersign:limit:", "") and "198.51" not in stored


def test_a_40_try_scripted_attack_ends_slowed(clock, moderator):
    """Kim's script tries 40 passwords, waiting exactly as long as each answer says: the first
    five go at once, the rest wait ever longer, and the real password at the end is refused."""
    script = from_network(ATTACKER)
    started, checked = clock.now, 0
    while checked < 40:
        answer = log_in(script, f"guess {checked}")
        if answer.status_code == 429:
            clock.advance(int(answer["Retry-After"]))
            continue
        assert answer.status_code == 200
        checked += 1
    # Waits after tries 5 to 13 double from 2 s to 512 s; after tries 14 to 39, 900 s each:
    # 6.8 hours for 40 guesses, where there was no wait at all before.
    assert clock.now - started == (2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 512) + 26 * 900
    final = log_in(script, PASSWORD)
    assert final.status_code == 429 and final["Retry-After"] == "900"


def test_failures_on_the_onion_count_apart_from_the_clearnets_from_one_address(clock, moderator, two_origins):
    """The tor daemon and a local clearnet client share 127.0.0.1: an attacker on the onion
    delays the onion's logins, not the clearnet owner's, nor the other way round."""
    onion = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST=ONION)
    for _ in range(5):
        log_in(onion, "wrong")
    assert log_in(onion, "wrong").status_code == 429
    owner = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST=CLEARNET)
    assert log_in(owner, PASSWORD).status_code == 302
