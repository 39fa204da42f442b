"""C2SP signed notes with Ed25519 (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

A verifier key is written ``<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>``, the
form Go's ``golang.org/x/mod/sumdb/note`` and the transparency-dev tools read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from undersign_verify.merkle import HASH_SIZE

ED25519 = 0x01
EM_DASH = "\u2014"
MAX_SIGNATURES = 16


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or not signed by the expected key."""


def check_name(name: str) -> None:
    """Refuse a key name (a log's origin) that a note's signature line could not carry."""
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> int:
    """SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def split_key(text: str, *, key_type: int, what: str, error: type[Exception]) -> tuple[str, int, bytes]:
    """A ``name+hash+base64(type || key)`` key (a verifier key, a witness's key or, after its
    ``PRIVATE+KEY+`` prefix, a signing key) as (name, its claimed key ID, the 32 key bytes),
    raising ``error`` naming ``what`` when it is malformed or of another type than ``key_type``.
    The caller checks the key ID, which depends on what the key is for."""
    name, sep1, rest = text.strip().partition("+")
    hash_hex, sep2, encoded = rest.partition("+")
    if not (sep1 and sep2):
        raise error(f"a {what} is name+hash+base64")
    check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
        claimed = int(hash_hex, 16)
    except (binascii.Error, ValueError):
        raise error(f"the {what}'s hash or key is not hex/base64") from None
    if len(hash_hex) != 8 or len(raw) != 33 or raw[0] != key_type:
        raise error(f"a {what} must be an Ed25519 key of type 0x{key_type:02x} (32 bytes)")
    return name, claimed, raw[1:]


def parse_vkey(text: str) -> Verifier:
    """Read ``name+hash+base64`` and check that the hash matches the name and key."""
    name, claimed, key = split_key(text, key_type=ED25519, what="verifier key", error=NoteError)
    verifier = Verifier(name, key)
    if verifier.key_id != claimed:
        raise NoteError("the verifier key's hash does not match its name and key")
    return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        check_name(name)
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (ending in a newline), a blank line, one signature line."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(struct.pack(">I", self.verifier.key_id) + signature).decode()
        return f"{text}\n{EM_DASH} {self.name} {encoded}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text, once a signature by ``verifier`` checks out. Signatures by other keys
    are ignored (they may be witnesses'); one by our key that fails rejects the note."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note may hold no control characters but newlines")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("a note is text, a blank line, then signature lines")
    text += "\n"
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    verified = False
    for line in lines:
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if prefix != EM_DASH or not name or not encoded or " " in encoded:
            raise NoteError(f"malformed signature line {line!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("a signature is not base64") from None
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        if name != verifier.name or int.from_bytes(raw[:4], "big") != verifier.key_id:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"the signature by {name} does not verify")
        verified = True
    if not verified:
        raise NoteError(f"the note carries no valid signature by {verifier.name}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is origin, size and root, each on its own line")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not origin:
        raise NoteError("the checkpoint has no origin")
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"the checkpoint size {size_text!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("the checkpoint root is not base64") from None
    if len(root_hash) != HASH_SIZE:
        raise NoteError("the checkpoint root is not 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("a checkpoint's extension lines are not empty")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and read it; its origin must be the key's name (or ``origin``)."""
    checkpoint = parse_checkpoint(open_note(note, verifier))
    expected = origin or verifier.name
    if checkpoint.origin != expected:
        raise NoteError(f"the checkpoint is for log {checkpoint.origin!r}, not {expected!r}")
    return checkpoint
