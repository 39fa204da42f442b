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
import unicodedata
import uuid
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
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
    """Unwrapped data keys by id, so the signing path does no key lookup after the first."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._items: OrderedDict[str, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: str) -> AESGCM:
        with self._lock:
            if key_id in self._items:
                self._items.move_to_end(key_id)
                return self._items[key_id]
        row = DataKey.objects.filter(key_id=key_id, destroyed_at__isnull=True).first()
        if row is None:
            raise DecryptionError(f"data key {key_id!r} does not exist or was destroyed")
        assert row.wrapped_key is not None, "kept until destroyed (constraint datakey_wrapped_unless_destroyed)"
        aead = AESGCM(unwrap_data_key(row.master_key_id, bytes(row.wrapped_key)))
        with self._lock:
            self._items[key_id] = aead
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return aead

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._items.pop(key_id, None)


data_keys = _DataKeyCache()


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


def normalise_email(address: str) -> str:
    """The form of an address that identifies a mailbox: NFKC, case-folded, ``+tags`` dropped,
    and Gmail's ignored dots removed."""
    address = unicodedata.normalize("NFKC", address).strip().casefold()
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def dedup_tag(petition_uuid: uuid.UUID, email: str) -> bytes:
    """HMAC-SHA256 over ``"dedup/v1" 0x00 petition_uuid(16 bytes) normalised_email``: the
    fixed-width uuid keeps (1, ``23@x.org``) and (12, ``3@x.org``) apart, and the per-petition
    input means a dump cannot link one person across petitions."""
    message = b"dedup/v1\x00" + petition_uuid.bytes + normalise_email(email).encode("utf-8")
    return hmac.new(settings.KEYS.dedup_key, message, hashlib.sha256).digest()


def token_digest(token: str) -> bytes:
    """What the database keeps of an e-mailed token, and looks its row up by: a dump must hold
    no working link, and, keyed by the secret key, no way to find the row of a link read in a
    mailbox (a plain hash of the token would be one)."""
    return salted_hmac("undersign.link-digest/v1", token, algorithm="sha256").digest()
