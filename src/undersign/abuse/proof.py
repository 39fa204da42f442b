"""Attack mode's proof of work: a memory-hard puzzle the signer's browser solves before signing.

A **challenge** is a string the sign page hands out, ``v1.<petition id>.<expires>.<nonce>.<mac>``:
the petition, an expiry ``POW_CHALLENGE_SECONDS`` ahead (Unix seconds) and 16 random bytes,
bound together by ``mac = HMAC-SHA256(proof key, "undersign/proof/v1" 0x00 petition uuid (16
bytes) expires (8 bytes) nonce (16 bytes))``. The proof key is derived from the limiter's key
under its own label (never the dedup key: every app host holds it). Issuing one writes nothing.

A **solution** is a counter such that

    Argon2id(password = "<challenge>|<address hash>|<counter>", salt = "undersign/proof/v1",
             memory = POW_MEMORY_KIB, passes = POW_ITERATIONS, parallelism 1, 32 bytes)

starts with ``POW_DIFFICULTY_BITS`` zero bits, where ``<address hash>`` is the lower-case hex
SHA-256 of the submitted e-mail address stripped of surrounding white space and lower-cased
(``proof_address_hash``; ``abuse/static/abuse/proof.js`` does the same). That binding only has
to stop one proof from serving another address, so it is deliberately simpler than the dedup
rule: an address the two rules would fold together merely needs its own proof. The browser
tries 2^bits counters on average; the server checks one (``proof_verify``), once: a challenge
is spent in the cache (``cache.add`` of its keyed id for the rest of its life, Redis in
production), never in the database, whatever the outcome, so a flooder cannot make the server
evaluate Argon2 twice for one challenge.

Argon2id rather than SHA-256 hashcash: each evaluation needs its ``POW_MEMORY_KIB`` of memory
filled and read back in a data-dependent order, so a GPU or ASIC gains little over a phone,
where a SHA-256 puzzle would give it about a thousandfold edge.

``proof_solve`` is the reference solver, for tests and the flood test's genuine signers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings
from django.core import signing
from django.core.cache import cache

from undersign.core.limiter import scope_key
from undersign.petitions.models import Petition

log = logging.getLogger(__name__)

VERSION = "v1"
SALT = b"undersign/proof/v1"
HASH_BYTES = 32
NONCE_BYTES = 16
# Set on a request whose page asked for a proof (the ``proof_fields`` tag), so that its response
# gets the policy that lets the page run WebAssembly (``proof_views.allows_proof_wasm``).
PROOF_ASKED = "undersign_proof_asked"
# A form loaded outside attack mode carries the time it was loaded (``proof_before_issue``).
BEFORE_FIELD = "proof_before"
BEFORE_SALT = "undersign.abuse.proof.before"
# The sign form's hidden fields that ``proof.js`` fills in.
CHALLENGE_FIELD = "proof_challenge"
COUNTER_FIELD = "proof_counter"
# A counter is a decimal number the browser counts up from 0; anything longer is not a solution.
COUNTER_MAX_DIGITS = 12


@dataclass(frozen=True)
class ProofParameters:
    """What the browser needs besides the challenge; published as the form's data attributes."""

    memory_kib: int
    iterations: int
    difficulty_bits: int


def proof_parameters() -> ProofParameters:
    return ProofParameters(
        memory_kib=settings.POW_MEMORY_KIB,
        iterations=settings.POW_ITERATIONS,
        difficulty_bits=settings.POW_DIFFICULTY_BITS,
    )


@lru_cache(maxsize=4)
def _proof_key(limiter_key: bytes) -> bytes:
    return hmac.new(limiter_key, b"undersign/proof/v1 key", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(*, petition: Petition, expires: int, nonce: bytes) -> bytes:
    message = SALT + b"\x00" + petition.uuid.bytes + expires.to_bytes(8, "big") + nonce
    return hmac.new(_proof_key(settings.KEYS.limiter_key), message, hashlib.sha256).digest()


def proof_challenge_issue(*, petition: Petition, now: float | None = None) -> str:
    """A fresh challenge for signing ``petition``, good for ``POW_CHALLENGE_SECONDS``."""
    expires = int(now if now is not None else time.time()) + settings.POW_CHALLENGE_SECONDS
    nonce = secrets.token_bytes(NONCE_BYTES)
    mac = _mac(petition=petition, expires=expires, nonce=nonce)
    return f"{VERSION}.{petition.pk}.{expires}.{_b64(nonce)}.{_b64(mac)}"


@dataclass(frozen=True)
class _Challenge:
    expires: int
    mac: bytes


def _challenge_parse(*, petition: Petition, challenge: str) -> _Challenge | None:
    """The challenge's expiry and MAC if it is well formed and was issued for ``petition`` by
    us; None otherwise. Expiry is not checked here."""
    parts = challenge.split(".")
    if len(parts) != 5 or parts[0] != VERSION or parts[1] != str(petition.pk) or not parts[2].isdigit():
        return None
    try:
        nonce, mac = _unb64(parts[3]), _unb64(parts[4])
    except (binascii.Error, ValueError):
        return None
    expires = int(parts[2])
    if len(nonce) != NONCE_BYTES or expires >= 2**63:
        return None
    if not hmac.compare_digest(mac, _mac(petition=petition, expires=expires, nonce=nonce)):
        return None
    return _Challenge(expires=expires, mac=mac)


def proof_address_hash(email: str) -> str:
    """The address as the proof binds it: hex SHA-256 of it stripped and lower-cased."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def proof_digest(*, challenge: str, address_hash: str, counter: int, parameters: ProofParameters) -> bytes:
    return hash_secret_raw(
        secret=f"{challenge}|{address_hash}|{counter}".encode("ascii"),
        salt=SALT,
        time_cost=parameters.iterations,
        memory_cost=parameters.memory_kib,
        parallelism=1,
        hash_len=HASH_BYTES,
        type=Type.ID,
    )


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def proof_renew(*, petition: Petition, challenge: str) -> str | None:
    """A fresh challenge in exchange for one we issued for ``petition``, expired or not (a sign
    page left open longer than a challenge lives); None for anything else. It gives nothing its
    holder could not get by reloading the sign page."""
    if _challenge_parse(petition=petition, challenge=challenge) is None:
        return None
    return proof_challenge_issue(petition=petition)


def proof_verify(
    *, petition: Petition, email: str, challenge: str, counter: str | int, now: float | None = None
) -> bool:
    """Whether ``counter`` solves ``challenge`` for ``petition`` and ``email``: one Argon2id
    evaluation at most, and at most one per challenge (spent before it is evaluated). Expired,
    tampered, foreign, replayed or wrong: False."""
    parsed = _challenge_parse(petition=petition, challenge=challenge)
    now = now if now is not None else time.time()
    if parsed is None or parsed.expires <= now:
        return False
    text = str(counter)
    if not (text.isascii() and text.isdigit()) or len(text) > COUNTER_MAX_DIGITS:
        return False
    remaining = max(1, int(parsed.expires - now) + 1)
    try:
        fresh = cache.add(scope_key(scope="proof/spent/v1", parts=[parsed.mac]), 1, timeout=remaining)
    except Exception as error:  # noqa: BLE001 - the cache (Redis) is down
        # Open, like the limiter: a replay can only re-submit the same address to the same
        # petition (the proof is bound to both), which dedup turns into the same one signature.
        log.warning("proof cache unavailable, not checking reuse: %s", type(error).__name__)
        fresh = True
    if not fresh:
        return False
    parameters = proof_parameters()
    digest = proof_digest(
        challenge=challenge, address_hash=proof_address_hash(email), counter=int(text), parameters=parameters
    )
    return leading_zero_bits(digest) >= parameters.difficulty_bits


def proof_asked(*, petition: Petition, onion: bool) -> bool:
    """Whether signing ``petition`` asks for a proof of work: in attack mode, and always on an
    onion origin (``onion``, ``core.origins.is_onion_origin``), where every signer arrives from
    the local tor daemon's one address, so that only the proof, never the address, can tell a
    flood from its signers (docs/abuse.md, "Tor and onion addresses")."""
    return onion or petition.attack_mode_since is not None


def proof_posted(*, petition: Petition, email: str, data: Mapping[str, Any], onion: bool) -> bool:
    """Whether a sign form's POST ``data`` carries a valid proof for ``email``: the sign path's
    ``proven``. Only where one is asked (``proof_asked``: elsewhere no Argon2 is spent on a
    request); a form posted without the fields (no JavaScript) is not proven."""
    if not proof_asked(petition=petition, onion=onion):
        return False
    challenge, counter = data.get(CHALLENGE_FIELD), data.get(COUNTER_FIELD)
    if not isinstance(challenge, str) or not isinstance(counter, str) or not challenge or not counter:
        return False
    return proof_verify(petition=petition, email=email, challenge=challenge, counter=counter)


def proof_before_issue(*, petition: Petition) -> str:
    """The stamp a sign form carries while its petition is not in attack mode: signed, with the
    time the form was loaded. A person who loaded the form just before attack mode began sends
    no proof of work (the page asked for none); the stamp lets their signature be judged as
    before, by the ordinary limits, for ``ATTACK_MODE_GRACE_SECONDS``."""
    return signing.dumps({"p": str(petition.uuid), "t": int(time.time())}, salt=BEFORE_SALT, compress=False)


def proof_before_attack(*, petition: Petition, data: Mapping[str, Any]) -> bool:
    """Whether a sign form's POST ``data`` was loaded before its petition's attack mode began,
    and is sent within the grace: its stamp (``proof_before_issue``) is ours, for this petition,
    older than attack mode and younger than ``ATTACK_MODE_GRACE_SECONDS``. A stamp kept by a
    flooder expires like any other; one taken in attack mode is not before it."""
    since = petition.attack_mode_since
    value = data.get(BEFORE_FIELD)
    if since is None or not isinstance(value, str) or not value:
        return False
    try:
        stamp = signing.loads(value, salt=BEFORE_SALT, max_age=settings.ATTACK_MODE_GRACE_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return False
    if not isinstance(stamp, dict) or stamp.get("p") != str(petition.uuid) or not isinstance(stamp.get("t"), int):
        return False
    return stamp["t"] <= since.timestamp()


def proof_solve(*, challenge: str, email: str, parameters: ProofParameters | None = None, start: int = 0) -> int:
    """The reference solver (what ``proof.js`` does in the browser): the first counter from
    ``start`` whose Argon2id output has the difficulty's leading zero bits. For tests and the
    flood test's genuine signers; ``bench/proof.py`` times it."""
    parameters = parameters or proof_parameters()
    address_hash = proof_address_hash(email)
    counter = start
    while True:
        digest = proof_digest(challenge=challenge, address_hash=address_hash, counter=counter, parameters=parameters)
        if leading_zero_bits(digest) >= parameters.difficulty_bits:
            return counter
        counter += 1
