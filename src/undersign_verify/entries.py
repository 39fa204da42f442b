"""Log entries: their binary format, the signer's commitment, and the count rule.

Every entry is ``0x01 (format version) || type (1 byte) || petition UUID (16 bytes) || body``:

=========== ==== =======================================================
type        byte body
=========== ==== =======================================================
OPENED      0x01 SHA-256 of the petition's text (``petition_text_digest``)
SIGNATURE   0x02 the commitment C (32 bytes)
REVOCATION  0x03 the revoked signature's commitment C, then a reason code (1 byte)
REINSTATE   0x04 the reinstated signature's commitment C
CLOSED      0x05 (none)
=========== ==== =======================================================

``C = SHA-256("undersign/v1/commit" || petition UUID (16 bytes) || r)`` with ``r`` 32 random
bytes that only the signer keeps: nothing in an entry identifies a signer.
"""

from __future__ import annotations

import enum
import hashlib
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

FORMAT_VERSION = 1
COUNT_RULE_VERSION = 1
COMMIT_PREFIX = b"undersign/v1/commit"
TEXT_PREFIX = b"undersign/v1/petition-text\x00"


class EntryError(ValueError):
    """Bytes that are not an entry of this format."""


class EntryType(enum.IntEnum):
    OPENED = 1
    SIGNATURE = 2
    REVOCATION = 3
    REINSTATE = 4
    CLOSED = 5


class RevocationReason(enum.IntEnum):
    """Why a signature stopped counting. New reasons get new numbers; numbers are never reused."""

    OTHER = 0
    FRAUD = 1
    WITHDRAWN = 2
    CLAIM_REJECTED = 3
    CONFIRMED_TOO_LATE = 4


_BODY_SIZE = {
    EntryType.OPENED: 32,
    EntryType.SIGNATURE: 32,
    EntryType.REVOCATION: 33,
    EntryType.REINSTATE: 32,
    EntryType.CLOSED: 0,
}


@dataclass(frozen=True)
class Entry:
    type: EntryType
    petition: uuid.UUID
    digest: bytes = b""  # the text digest (OPENED) or the commitment (the signature types)
    reason: RevocationReason | None = None

    def encode(self) -> bytes:
        reason_byte = bytes([self.reason]) if self.type == EntryType.REVOCATION and self.reason is not None else b""
        body = self.digest + reason_byte
        if len(body) != _BODY_SIZE[self.type] or (self.type == EntryType.REVOCATION) != (self.reason is not None):
            raise EntryError(f"malformed {self.type.name} entry")
        return struct.pack(">BB", FORMAT_VERSION, self.type) + self.petition.bytes + body


def decode_entry(data: bytes) -> Entry:
    if len(data) < 18 or data[0] != FORMAT_VERSION:
        raise EntryError("not an entry of format version 1")
    try:
        kind = EntryType(data[1])
    except ValueError:
        raise EntryError(f"unknown entry type {data[1]}") from None
    body = data[18:]
    if len(body) != _BODY_SIZE[kind]:
        raise EntryError(f"a {kind.name} entry's body is {_BODY_SIZE[kind]} bytes, not {len(body)}")
    petition = uuid.UUID(bytes=data[2:18])
    if kind == EntryType.REVOCATION:
        try:
            reason = RevocationReason(body[32])
        except ValueError:
            raise EntryError(f"unknown revocation reason {body[32]}") from None
        return Entry(kind, petition, body[:32], reason)
    return Entry(kind, petition, body)


def commitment(petition: uuid.UUID, r: bytes) -> bytes:
    if len(r) != 32:
        raise EntryError("r is 32 bytes")
    return hashlib.sha256(COMMIT_PREFIX + petition.bytes + r).digest()


def petition_text_digest(action: str, background: str, additional_details: str) -> bytes:
    """SHA-256 over the three texts, each UTF-8 and prefixed with its length (4 bytes, big-endian)."""
    out = bytearray(TEXT_PREFIX)
    for part in (action, background, additional_details):
        encoded = part.encode()
        out += struct.pack(">I", len(encoded)) + encoded
    return hashlib.sha256(bytes(out)).digest()


@dataclass
class PetitionTally:
    """What the log says about one petition, read entry by entry."""

    petition: uuid.UUID
    opened_at: int | None = None  # leaf indexes
    closed_at: int | None = None
    text_digest: bytes | None = None
    signatures: dict[bytes, int] = field(default_factory=dict)  # commitment -> leaf index
    # commitment -> its latest REVOCATION or REINSTATE entry (a revocation keeps its reason)
    latest_status: dict[bytes, Entry] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Count rule 1: the petition's SIGNATURE entries, minus those whose latest status entry
        is a REVOCATION. Revocations count wherever they stand, after the petition's CLOSED
        entry too: a signature withdrawn after closing leaves the count."""
        return sum(1 for c in self.signatures if not self.revoked(c))

    def revoked(self, c: bytes) -> bool:
        return self.revocation_reason(c) is not None

    def revocation_reason(self, c: bytes) -> RevocationReason | None:
        """Why the signature with commitment ``c`` no longer counts (None: it counts, or the log
        holds no such signature)."""
        latest = self.latest_status.get(c)
        return latest.reason if latest is not None and latest.type == EntryType.REVOCATION else None


@dataclass
class Tally:
    petitions: dict[uuid.UUID, PetitionTally] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # entries that break the log's rules
    size: int = 0

    def add(self, index: int, entry: Entry) -> None:
        self.size = index + 1
        t = self.petitions.setdefault(entry.petition, PetitionTally(entry.petition))
        where = f"entry {index} ({entry.type.name} for petition {entry.petition})"
        if entry.type == EntryType.OPENED:
            if t.opened_at is not None:
                self.problems.append(f"{where}: the petition was already opened at entry {t.opened_at}")
            t.opened_at, t.text_digest = index, entry.digest
        elif entry.type == EntryType.CLOSED:
            if t.closed_at is not None:
                self.problems.append(f"{where}: the petition was already closed at entry {t.closed_at}")
            else:
                t.closed_at = index
        elif entry.type == EntryType.SIGNATURE:
            if t.closed_at is not None:
                self.problems.append(f"{where}: a signature after the petition closed (entry {t.closed_at})")
            elif entry.digest in t.signatures:
                self.problems.append(f"{where}: the same commitment was logged at entry {t.signatures[entry.digest]}")
            else:
                t.signatures[entry.digest] = index
        else:
            if entry.digest not in t.signatures:
                self.problems.append(f"{where}: names a signature that is not earlier in the log")
            else:
                t.latest_status[entry.digest] = entry


def tally(entries: Iterable[bytes], *, upto: int | None = None) -> Tally:
    """Apply the count rule to the first ``upto`` entries (all by default)."""
    result = Tally()
    for index, data in enumerate(entries):
        if upto is not None and index >= upto:
            break
        try:
            result.add(index, decode_entry(data))
        except EntryError as exc:
            result.size = index + 1
            result.problems.append(f"entry {index}: {exc}")
    return result
