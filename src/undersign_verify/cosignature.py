"""Timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A cosignature is a note signature line on a checkpoint: ``— <witness name> base64(key ID ||
8-byte big-endian time || 64-byte Ed25519 signature)``, the signature taken over
``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint's whole body. Its key ID uses the
algorithm byte 0x04, not the log's 0x01, so a witness key can never pass for a log key.

A witness key is written as a vkey with type 0x04 (``name+<key ID>+base64(0x04 || key)``), and
its private half as ``PRIVATE+KEY+name+<key ID>+base64(0x04 || seed)``, the same shape as the
sumdb note format's signer keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time as time_module
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from undersign_verify.note import EM_DASH, NoteError, Verifier, check_name, split_key

COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
SKEY_PREFIX = "PRIVATE+KEY+"


class CosignatureError(NoteError):
    """A cosignature or witness key that is malformed or does not verify."""


def cosigner_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line, then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is out of range")
    return f"{HEADER}time {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key: what a verifier is configured with (name and key)."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        return cosigner_key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, line: str, checkpoint_text: str) -> int:
        """The time a cosignature line by this key gives, once it verifies over the checkpoint.
        Raises ``CosignatureError`` otherwise (including for a line by another key)."""
        name, raw = _parse_line(line)
        if name != self.name or len(raw) != 4 + 8 + 64 or int.from_bytes(raw[:4], "big") != self.key_id:
            raise CosignatureError(f"the line is not a cosignature/v1 by {self.name}")
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError("the cosignature's time is out of range")
        if not Verifier(self.name, self.public_key).verify(signed_message(checkpoint_text, timestamp), raw[12:]):
            raise CosignatureError(f"the cosignature by {self.name} does not verify")
        return int(timestamp)


def _parse_line(line: str) -> tuple[str, bytes]:
    prefix, _, rest = line.rstrip("\n").partition(" ")
    name, _, encoded = rest.partition(" ")
    if prefix != EM_DASH or not name or not encoded or " " in encoded:
        raise CosignatureError(f"malformed signature line {line!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CosignatureError("a signature is not base64") from None
    return name, raw


def parse_witness_vkey(text: str) -> WitnessKey:
    """Read ``name+<key ID>+base64(0x04 || key)`` and check the key ID against name and key."""
    name, claimed, raw = split_key(text, key_type=COSIGNATURE_V1, what="witness key", error=CosignatureError)
    key = WitnessKey(name, raw)
    if key.key_id != claimed:
        raise CosignatureError("the witness key's hash does not match its name and key")
    return key


def cosignature_times(note: str, keys: list[WitnessKey]) -> dict[WitnessKey, int]:
    """The time of each valid cosignature in a signed checkpoint ``note``, by witness key.

    Lines by other keys (the log's own, unknown witnesses') are ignored; a line that claims one
    of ``keys`` (same name and key ID) but does not verify raises, as a forged one should."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise CosignatureError("a note is text, a blank line, then signature lines")
    text += "\n"
    times: dict[WitnessKey, int] = {}
    for line in signatures.rstrip("\n").split("\n"):
        name, raw = _parse_line(line)
        for key in keys:
            if name == key.name and len(raw) >= 4 and int.from_bytes(raw[:4], "big") == key.key_id:
                times[key] = key.verify(line, text)
    return times


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key."""

    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        check_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def key(self) -> WitnessKey:
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return WitnessKey(self.name, public)

    def cosign(self, checkpoint_text: str, timestamp: int | None = None) -> str:
        """The cosignature line (ending in a newline) for a checkpoint body, at ``timestamp``
        (now by default)."""
        when = int(time_module.time()) if timestamp is None else timestamp
        signature = self.private_key.sign(signed_message(checkpoint_text, when))
        raw = struct.pack(">IQ", self.key.key_id, when) + signature
        return f"{EM_DASH} {self.name} {base64.b64encode(raw).decode()}\n"

    @property
    def skey(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + seed).decode()
        return f"{SKEY_PREFIX}{self.name}+{self.key.key_id:08x}+{encoded}"


def parse_skey(text: str) -> Cosigner:
    """Read ``PRIVATE+KEY+name+<key ID>+base64(0x04 || seed)``; the key ID must match."""
    if not text.startswith(SKEY_PREFIX):
        raise CosignatureError(f"a witness signing key starts with {SKEY_PREFIX}")
    name, claimed, seed = split_key(
        text[len(SKEY_PREFIX) :], key_type=COSIGNATURE_V1, what="witness signing key", error=CosignatureError
    )
    cosigner = Cosigner(name, Ed25519PrivateKey.from_private_bytes(seed))
    if cosigner.key.key_id != claimed:
        raise CosignatureError("the signing key's hash does not match its name and key")
    return cosigner
