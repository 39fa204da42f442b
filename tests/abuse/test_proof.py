"""Attack mode's proof of work (``abuse.proof``): a challenge binds the petition, an expiry and
a nonce; a solution binds the address; the server checks one, once. Small Argon2 parameters
(tests/settings.py) keep solving quick; the defaults are timed in bench/proof.py."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.factories import make_petition
from undersign.abuse.proof import (
    leading_zero_bits,
    proof_address_hash,
    proof_challenge_issue,
    proof_digest,
    proof_parameters,
    proof_posted,
    proof_renew,
    proof_solve,
    proof_verify,
)

pytestmark = pytest.mark.django_db
EMAIL = "suzie@example.org"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def petition():
    return make_petition(action="Keep the night buses")


def solved(petition, email=EMAIL):
    challenge = proof_challenge_issue(petition=petition)
    return challenge, proof_solve(challenge=challenge, email=email)


def solved_only_for(petition, email: str, other: str) -> tuple[str, int]:
    """A challenge and a counter that solves it for ``email`` and not for ``other`` (with a few
    bits of difficulty a counter may solve it for both, by chance)."""
    challenge = proof_challenge_issue(petition=petition)
    counter = proof_solve(challenge=challenge, email=email)
    while _bits_of(challenge, counter, other) >= proof_parameters().difficulty_bits:
        counter = proof_solve(challenge=challenge, email=email, start=counter + 1)
    return challenge, counter


def test_a_solution_proves(petition):
    challenge, counter = solved(petition)
    assert proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


def test_the_address_binds_stripped_and_lower_cased_only(petition):
    challenge, counter = solved(petition)
    assert proof_verify(petition=petition, email="  Suzie@Example.ORG ", challenge=challenge, counter=str(counter))
    assert proof_address_hash("a@b.example") == proof_address_hash(" A@B.example\t")


def test_another_address_is_not_proven(petition):
    challenge, counter = solved_only_for(petition, EMAIL, "sam@example.org")
    assert not proof_verify(petition=petition, email="sam@example.org", challenge=challenge, counter=counter)


def test_another_petition_is_not_proven(petition):
    other = make_petition(action="Light the park")
    challenge, counter = solved(petition)
    assert not proof_verify(petition=other, email=EMAIL, challenge=challenge, counter=counter)
    # Nor with the challenge's petition id rewritten: the MAC covers the petition's uuid.
    forged = challenge.replace(f"v1.{petition.pk}.", f"v1.{other.pk}.", 1)
    assert not proof_verify(petition=other, email=EMAIL, challenge=forged, counter=counter)


def test_a_replayed_proof_is_not_proven(petition):
    challenge, counter = solved(petition)
    assert proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


def test_a_wrong_guess_spends_the_challenge(petition):
    """One Argon2 evaluation per challenge, at most: a flooder cannot make us try counters."""
    challenge, counter = solved_only_for(petition, EMAIL, "sam@example.org")
    assert not proof_verify(petition=petition, email="sam@example.org", challenge=challenge, counter=counter)
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


def test_an_expired_challenge_is_not_proven(petition, settings):
    issued = time.time() - settings.POW_CHALLENGE_SECONDS - 1
    challenge = proof_challenge_issue(petition=petition, now=issued)
    counter = proof_solve(challenge=challenge, email=EMAIL)
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace(c.split(".")[2], str(int(c.split(".")[2]) + 3600), 1),  # a later expiry
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # the MAC
        lambda c: ".".join(c.split(".")[:3] + ["A" * 22] + c.split(".")[4:]),  # the nonce
        lambda c: "v2" + c[2:],
        lambda c: c + ".x",
        lambda c: "",
        lambda c: "v1.1.2.%%%.%%%",
    ],
)
def test_a_tampered_challenge_is_not_proven(petition, tamper):
    challenge = tamper(proof_challenge_issue(petition=petition))
    counter = proof_solve(challenge=challenge, email=EMAIL)  # solved for the forged text itself
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


@pytest.mark.parametrize("counter", ["", "-1", "1.5", "１２", "1" * 13, " 1"])
def test_a_counter_that_is_no_number_is_not_proven(petition, counter):
    challenge = proof_challenge_issue(petition=petition)
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


def test_a_counter_short_of_the_difficulty_is_not_proven(petition):
    challenge = proof_challenge_issue(petition=petition)
    short = next(n for n in range(1000) if _bits_of(challenge, n) < proof_parameters().difficulty_bits)
    assert not proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=short)


@override_settings(POW_DIFFICULTY_BITS=8)
def test_more_bits_need_a_longer_search(petition):
    challenge = proof_challenge_issue(petition=petition)
    counter = proof_solve(challenge=challenge, email=EMAIL)
    with override_settings(POW_DIFFICULTY_BITS=2):
        easy = proof_solve(challenge=challenge, email=EMAIL)
    assert easy <= counter
    assert proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)


def test_the_difficulty_is_checked_on_the_server(petition):
    """A solution to an easier puzzle than the server asks is not proven."""
    challenge = proof_challenge_issue(petition=petition)
    with override_settings(POW_DIFFICULTY_BITS=0):
        zero = proof_solve(challenge=challenge, email=EMAIL)
    assert zero == 0
    digest_bits = _bits_of(challenge, 0)
    proven = proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=0)
    assert proven == (digest_bits >= 2)


def _bits_of(challenge: str, counter: int, email: str = EMAIL) -> int:
    digest = proof_digest(
        challenge=challenge, address_hash=proof_address_hash(email), counter=counter, parameters=proof_parameters()
    )
    return leading_zero_bits(digest)


def test_leading_zero_bits():
    assert leading_zero_bits(b"\x80") == 0
    assert leading_zero_bits(b"\x01") == 7
    assert leading_zero_bits(b"\x00\x20") == 10
    assert leading_zero_bits(b"\x00\x00") == 16


def test_a_challenge_is_renewed_only_for_its_own_petition(petition, settings):
    other = make_petition(action="Light the park")
    old = proof_challenge_issue(petition=petition, now=time.time() - settings.POW_CHALLENGE_SECONDS - 10)
    fresh = proof_renew(petition=petition, challenge=old)
    assert fresh is not None and fresh != old
    counter = proof_solve(challenge=fresh, email=EMAIL)
    assert proof_verify(petition=petition, email=EMAIL, challenge=fresh, counter=counter)
    assert proof_renew(petition=other, challenge=old) is None
    assert proof_renew(petition=petition, challenge="v1.1.2.3.4") is None


class TestPosted:
    """What the sign form's POST proves: only in attack mode or on an onion origin, only with
    both fields."""

    def test_outside_attack_mode_nothing_is_proven_nor_spent(self, petition):
        challenge, counter = solved(petition)
        data = {"proof_challenge": challenge, "proof_counter": str(counter)}
        assert not proof_posted(petition=petition, email=EMAIL, data=data, onion=False)
        petition.attack_mode_since = petition.created_at
        assert proof_posted(petition=petition, email=EMAIL, data=data, onion=False)  # not spent above

    def test_on_an_onion_origin_a_proof_counts_outside_attack_mode(self, petition):
        challenge, counter = solved(petition)
        data = {"proof_challenge": challenge, "proof_counter": str(counter)}
        assert petition.attack_mode_since is None
        assert proof_posted(petition=petition, email=EMAIL, data=data, onion=True)

    @pytest.mark.parametrize("data", [{}, {"proof_challenge": ""}, {"proof_counter": "3"}])
    @pytest.mark.parametrize("onion", [False, True])
    def test_without_the_fields_nothing_is_proven(self, petition, data, onion):
        petition.attack_mode_since = petition.created_at
        assert not proof_posted(petition=petition, email=EMAIL, data=data, onion=onion)


def test_a_cache_outage_lets_a_valid_proof_through(petition, monkeypatch):
    """Open, like the limiter: a replay could only resubmit the same address to the same petition."""
    challenge, counter = solved_only_for(petition, EMAIL, "sam@example.org")

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    assert proof_verify(petition=petition, email=EMAIL, challenge=challenge, counter=counter)
    assert not proof_verify(petition=petition, email="sam@example.org", challenge=challenge, counter=counter)
