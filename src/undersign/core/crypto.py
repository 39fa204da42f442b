"""Encryption of signers' personal data and the blind index that keeps one signature per person.

Personal values are sealed with AES-256-GCM under a per-petition data key. The data key is
stored wrapped by a master key (named by its key id) in ``core.DataKey``; each sealed value
names the data key it was sealed with. Destroying a petition's data key, and rotating the
master key so old backups' wrapped copies become unreadable, destroys that petition's personal
data (crypto-shredding) without touching any other petition.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from undersign.core.models import DataKey

SEAL_VERSION = 1
WRAP_AAD = b"undersign/dek/v1"
NONCE_BYTES = 12

_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


class DecryptionError(Exception):
    """A sealed value could not be opened: wrong key, damaged bytes or a destroyed data key."""


def new_data_key_id() -> str:
    return "dk-" + secrets.token_hex(8)


def wrap_data_key(dek: bytes) -> tuple[str, bytes]:
    """Seal a fresh data key under the active master key; returns (master key id, blob)."""
    kid = settings.KEYS.pii_active_key_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    return kid, nonce + AESGCM(settings.KEYS.pii_keys[kid]).encrypt(nonce, dek, WRAP_AAD)


def data_key_create() -> DataKey:
    """A fresh 256-bit data key, stored only wrapped under the active master key. The caller
    (a new petition) points at it by ``key_id``."""
    master_key_id, wrapped = wrap_data_key(secrets.token_bytes(32))
    return DataKey.objects.create(key_id=new_data_key_id(), master_key_id=master_key_id, wrapped_key=wrapped)


def data_key_delete(*, key_id: str) -> None:
    """Delete a data key whose petition has been deleted (a petition its creator never
    confirmed): nothing sealed under it remains to be read, so its row goes too rather than
    staying as a destroyed key. Precondition: no petition points at it (``Petition.data_key``
    is PROTECT)."""
    DataKey.objects.filter(key_id=key_id).delete()
    data_keys.forget(key_id)


def unwrap_data_key(master_key_id: str, blob: bytes) -> bytes:
    try:
        master = settings.KEYS.pii_keys[master_key_id]
    except KeyError:
        raise DecryptionError(f"master key {master_key_id!r} is not configured") from None
    try:
        return AESGCM(master).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], WRAP_AAD)
    except InvalidTag:
        raise DecryptionError("data key does not open under its master key") from None


class _DataKeyCache:
    """Unwrapped data keys by id, so the signing path does no key lookup after the first.

    An entry is trusted for at most ``DATA_KEY_CACHE_SECONDS`` (``seconds``, read at each
    lookup unless given; 0: nothing is kept). Then the key's row is read again, so a key that
    another process destroyed stops being served here within that bound: every process holds
    its own cache and no message tells it of a destruction. The cost stays one lookup per key
    and interval. ``clock`` (monotonic seconds) is there for tests, which must not sleep."""

    def __init__(
        self,
        size: int = 2048,
        *,
        seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._size = size
        self._seconds = seconds
        self._clock = clock
        # key id -> (the key, when its row was read)
        self._items: OrderedDict[str, tuple[AESGCM, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _max_age(self) -> float:
        return float(settings.DATA_KEY_CACHE_SECONDS if self._seconds is None else self._seconds)

    def get(self, key_id: str) -> AESGCM:
        max_age = self._max_age()
        with self._lock:
            item = self._items.get(key_id)
            if item is not None:
                if self._clock() - item[1] < max_age:
                    self._items.move_to_end(key_id)
                    return item[0]
                del self._items[key_id]  # too old to trust: read the row again
        read_at = self._clock()
        row = DataKey.objects.filter(key_id=key_id, destroyed_at__isnull=True).first()
        if row is None:
            raise DecryptionError(f"data key {key_id!r} does not exist or was destroyed")
        assert row.wrapped_key is not None, "kept until destroyed (constraint datakey_wrapped_unless_destroyed)"
        aead = AESGCM(unwrap_data_key(row.master_key_id, bytes(row.wrapped_key)))
        if max_age > 0:
            with self._lock:
                # Aged from before the read: the row may have been destroyed just after it.
                self._items[key_id] = (aead, read_at)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return aead

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._items.pop(key_id, None)


data_keys = _DataKeyCache()


def data_key_destroy(*, key_id: str, now: datetime) -> bool:
    """Erase a data key (crypto-shredding): its wrapped copy is deleted, so nothing sealed
    under it opens again, whoever holds the master keys; this process forgets it at once (and
    again at commit, in case a lookup in between cached it), other processes within
    ``DATA_KEY_CACHE_SECONDS``. Backups keep the wrapped copy until the master key that wrapped
    it is retired (docs/threat-model.md, "Lifecycle"). Returns whether the key existed and was
    still whole. Precondition: inside the transaction that destroys the rest of the data."""
    destroyed = bool(
        DataKey.objects.filter(key_id=key_id, destroyed_at__isnull=True).update(wrapped_key=None, destroyed_at=now)
    )
    data_keys.forget(key_id)
    transaction.on_commit(lambda: data_keys.forget(key_id))
    return destroyed


def data_key_derive(key_id: str, *, label: bytes) -> bytes:
    """A 32-byte key for one purpose (``label``), derived from the data key ``key_id`` as
    HMAC-SHA256 of the label under it: shared by every host (the data key is in the database,
    wrapped by the master keys of the settings), and gone with the data key, so whatever it
    keyed can no longer be tested by anyone once the petition's data is destroyed. Raises
    ``DecryptionError`` once the key is destroyed. One query (keys derived are not cached)."""
    row = DataKey.objects.filter(key_id=key_id, destroyed_at__isnull=True).first()
    if row is None or row.wrapped_key is None:
        raise DecryptionError(f"data key {key_id!r} does not exist or was destroyed")
    return hmac.new(unwrap_data_key(row.master_key_id, bytes(row.wrapped_key)), label, hashlib.sha256).digest()


def seal(key_id: str, plaintext: str, *, context: bytes) -> bytes:
    """``version | len(key id) | key id | nonce | ciphertext+tag``; ``context`` is bound as
    associated data so a sealed value cannot be moved to another row or field."""
    kid = key_id.encode("ascii")
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = data_keys.get(key_id).encrypt(nonce, plaintext.encode("utf-8"), context)
    return bytes([SEAL_VERSION, len(kid)]) + kid + nonce + sealed


def sealed_key_id(blob: bytes) -> str:
    if len(blob) < 2 or blob[0] != SEAL_VERSION:
        raise DecryptionError("unknown sealed value format")
    return blob[2 : 2 + blob[1]].decode("ascii")


def open_sealed(blob: bytes | memoryview, *, context: bytes) -> str:
    blob = bytes(blob)
    key_id = sealed_key_id(blob)
    start = 2 + blob[1]
    nonce, sealed = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
    try:
        return data_keys.get(key_id).decrypt(nonce, sealed, context).decode("utf-8")
    except InvalidTag:
        raise DecryptionError("sealed value does not open") from None


def reseal(blob: bytes | memoryview, *, context: bytes, new_context: bytes) -> bytes:
    """The value sealed in ``blob`` (bound to ``context``) sealed afresh under the same data key,
    bound to ``new_context``: for a row whose binding changes (a withdrawn signature's dedup tag
    is replaced). Raises ``DecryptionError`` if the value does not open (its key destroyed)."""
    blob = bytes(blob)
    return seal(sealed_key_id(blob), open_sealed(blob, context=context), context=new_context)


DEDUP_V1 = 1
DEDUP_V2 = 2
# New petitions take the newest; a petition keeps the version it was opened with until its data
# is destroyed, so its stored tags never need recomputing (``Petition.dedup_version``).
DEDUP_CURRENT = DEDUP_V2
DEDUP_VERSIONS = (DEDUP_V1, DEDUP_V2)
_DEDUP_LABELS = {DEDUP_V1: b"dedup/v1\x00", DEDUP_V2: b"dedup/v2\x00"}

# RFC 5322 atext: what an unquoted local part may hold between its dots.
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
# Full stops that IDNA reads as the dot between labels (UTS #46); NFKC already folds U+FF0E.
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff61": "."})


def normalise_email(address: str, *, version: int) -> str:
    """The form of an address that identifies a mailbox: NFKC, case-folded, ``+tags`` dropped,
    and Gmail's ignored dots removed. Version 2 also folds a domain's Unicode and ``xn--``
    spellings to one (``_domain_v2``) and unquotes a quoted local part that means the same
    unquoted (``_local_v2``). Version 1 stays exactly as it was: v1 petitions' stored tags
    depend on it. An IP-literal domain is left as it is: the forms refuse one."""
    if version == DEDUP_V1:
        return _normalise_email_v1(address)
    if version != DEDUP_V2:
        raise ValueError(f"unknown dedup version {version!r}")
    address = unicodedata.normalize("NFKC", address).strip().casefold()
    local, _, domain = address.rpartition("@")
    domain = _domain_v2(domain)
    local, plain = _local_v2(local)
    if plain:
        local = local.split("+", 1)[0]
        if domain in _GMAIL_DOMAINS:
            local = local.replace(".", "")
            domain = "gmail.com"
    return f"{local}@{domain}"


def _normalise_email_v1(address: str) -> str:
    address = unicodedata.normalize("NFKC", address).strip().casefold()
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def _domain_v2(domain: str) -> str:
    """A domain in one spelling, its ASCII (``xn--``) form: ``bücher.example``,
    ``BÜCHER.example`` and ``xn--bcher-kva.example`` are one. Each ``xn--`` label is decoded,
    folded like the rest (NFKC, case) and encoded again; one that does not decode, or decodes
    to plain ASCII (not a valid IDNA label), stays as typed. No IDNA validity rules beyond that:
    this only folds spellings of one name together, it never decides that a domain exists."""
    if domain.startswith("["):
        return domain  # an address literal, which the forms refuse
    labels = []
    for label in domain.translate(_IDNA_DOTS).split("."):
        if label.startswith("xn--"):
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                decoded = label
            if not decoded.isascii():
                label = unicodedata.normalize("NFKC", decoded).casefold()
        if not label.isascii():
            label = "xn--" + label.encode("punycode").decode("ascii")
        labels.append(label)
    return ".".join(labels)


def _local_v2(local: str) -> tuple[str, bool]:
    """A local part and whether it is a plain dot-string. A quoted one whose content, its
    backslash escapes resolved, is a valid dot-string is the same mailbox unquoted (RFC 5321
    section 4.1.2: ``"john"`` is ``john``); one with specials (a space, an ``@``, two dots)
    stays quoted, written with the fewest escapes, so two spellings of it still agree."""
    if not (len(local) >= 2 and local.startswith('"') and local.endswith('"')):
        return local, True
    content, escaped = [], False
    for char in local[1:-1]:
        if escaped or char != "\\":
            content.append(char)
            escaped = False
        else:
            escaped = True
    text = "".join(content)
    atoms = text.split(".")
    # RFC 6531 lets an unquoted local part hold any non-ASCII character too.
    if all(atom and all(char in _ATEXT or not char.isascii() for char in atom) for atom in atoms):
        return text, True
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"', False


def dedup_tag(petition_uuid: uuid.UUID, email: str, *, version: int) -> bytes:
    """HMAC-SHA256 over ``"dedup/v<version>" 0x00 petition_uuid(16 bytes) normalised_email``:
    the fixed-width uuid keeps (1, ``23@x.org``) and (12, ``3@x.org``) apart, and the
    per-petition input means a dump cannot link one person across petitions. ``version`` is the
    petition's (``Petition.dedup_version``): the label and the normalisation go together."""
    label = _DEDUP_LABELS.get(version)
    if label is None:
        raise ValueError(f"unknown dedup version {version!r}")
    message = label + petition_uuid.bytes + normalise_email(email, version=version).encode("utf-8")
    return hmac.new(settings.KEYS.dedup_key, message, hashlib.sha256).digest()


def token_digest(token: str) -> bytes:
    """What the database keeps of an e-mailed token, and looks its row up by: a dump must hold
    no working link, and, keyed by the secret key, no way to find the row of a link read in a
    mailbox (a plain hash of the token would be one)."""
    return salted_hmac("undersign.link-digest/v1", token, algorithm="sha256").digest()
