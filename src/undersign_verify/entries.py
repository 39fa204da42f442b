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
DECISION    0x06 the claimed signature's commitment C, an outcome (1 byte), and for VALIDATED
                 only: the member tag (32 bytes), then the registry (32 bytes, or none)
=========== ==== =======================================================

``C = SHA-256("undersign/v1/commit" || petition UUID (16 bytes) || r)`` with ``r`` 32 random
bytes that only the signer keeps: nothing in an entry identifies a signer.

A DECISION records a validator's (or the official e-mail's) decision on the claim made with a
signature of a registry-only petition. Its member tag is a keyed digest, different on every
petition, equal for two claims naming the same member of it: it lets anyone check that no
member counts twice without telling anyone who the member is. The registry, when named, is
``registry_digest(slug)``. The verified-count rule is ``PetitionTally.verified_count``.
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
REGISTRY_PREFIX = b"undersign/v1/registry\x00"


class EntryError(ValueError):
    """Bytes that are not an entry of this format."""


class EntryType(enum.IntEnum):
    OPENED = 1
    SIGNATURE = 2
    REVOCATION = 3
    REINSTATE = 4
    CLOSED = 5
    DECISION = 6


class RevocationReason(enum.IntEnum):
    """Why a signature stopped counting. New reasons get new numbers; numbers are never reused."""

    OTHER = 0
    FRAUD = 1
    WITHDRAWN = 2
    CLAIM_REJECTED = 3
    CONFIRMED_TOO_LATE = 4


class DecisionOutcome(enum.IntEnum):
    """What a DECISION did to its claim, following the claim's states (pending, validated,
    rejected). New outcomes get new numbers; numbers are never reused."""

    VALIDATED = 1  # pending -> validated
    REJECTED = 2  # pending or validated -> rejected
    REVOKED = 3  # a validation taken back: pending again
    REINSTATED = 4  # a rejection taken back: pending again


# The moves a claim may make, by its latest DECISION (None: none yet, so pending).
DECISION_MOVES: dict[DecisionOutcome | None, frozenset[DecisionOutcome]] = {
    None: frozenset({DecisionOutcome.VALIDATED, DecisionOutcome.REJECTED}),
    DecisionOutcome.VALIDATED: frozenset({DecisionOutcome.REVOKED, DecisionOutcome.REJECTED}),
    DecisionOutcome.REJECTED: frozenset({DecisionOutcome.REINSTATED}),
    DecisionOutcome.REVOKED: frozenset({DecisionOutcome.VALIDATED, DecisionOutcome.REJECTED}),
    DecisionOutcome.REINSTATED: frozenset({DecisionOutcome.VALIDATED, DecisionOutcome.REJECTED}),
}

_TAG_SIZE = 32
_REGISTRY_SIZES = (0, 32)

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
    digest: bytes = b""  # the text digest (OPENED) or the commitment (the signature types, DECISION)
    reason: RevocationReason | None = None
    # DECISION only; the member tag and the registry on VALIDATED only (the registry may be b"").
    outcome: DecisionOutcome | None = None
    member_tag: bytes = b""
    registry: bytes = b""

    def encode(self) -> bytes:
        return struct.pack(">BB", FORMAT_VERSION, self.type) + self.petition.bytes + self._body()

    def _body(self) -> bytes:
        malformed = EntryError(f"malformed {self.type.name} entry")
        if self.type == EntryType.DECISION:
            if self.outcome is None or self.reason is not None or len(self.digest) != 32:
                raise malformed
            if self.outcome == DecisionOutcome.VALIDATED:
                if len(self.member_tag) != _TAG_SIZE or len(self.registry) not in _REGISTRY_SIZES:
                    raise malformed
            elif self.member_tag or self.registry:
                raise malformed
            return self.digest + bytes([self.outcome]) + self.member_tag + self.registry
        if self.outcome is not None or self.member_tag or self.registry:
            raise malformed
        reason_byte = bytes([self.reason]) if self.type == EntryType.REVOCATION and self.reason is not None else b""
        body = self.digest + reason_byte
        if len(body) != _BODY_SIZE[self.type] or (self.type == EntryType.REVOCATION) != (self.reason is not None):
            raise malformed
        return body


def _decode_decision(petition: uuid.UUID, body: bytes) -> Entry:
    if len(body) < 33:
        raise EntryError(f"a DECISION entry's body is at least 33 bytes, not {len(body)}")
    try:
        outcome = DecisionOutcome(body[32])
    except ValueError:
        raise EntryError(f"unknown decision outcome {body[32]}") from None
    rest = body[33:]
    if outcome != DecisionOutcome.VALIDATED:
        if rest:
            raise EntryError(f"a DECISION entry with outcome {outcome.name} carries no member tag or registry")
        return Entry(EntryType.DECISION, petition, body[:32], outcome=outcome)
    if len(rest) - _TAG_SIZE not in _REGISTRY_SIZES:
        raise EntryError("a VALIDATED DECISION entry carries a 32-byte member tag and a registry of 0 or 32 bytes")
    return Entry(EntryType.DECISION, petition, body[:32], outcome=outcome, member_tag=rest[:32], registry=rest[32:])


def decode_entry(data: bytes) -> Entry:
    if len(data) < 18 or data[0] != FORMAT_VERSION:
        raise EntryError("not an entry of format version 1")
    try:
        kind = EntryType(data[1])
    except ValueError:
        raise EntryError(f"unknown entry type {data[1]}") from None
    body = data[18:]
    if kind == EntryType.DECISION:
        return _decode_decision(uuid.UUID(bytes=data[2:18]), body)
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


def registry_digest(slug: str) -> bytes:
    """How a DECISION names a registry: SHA-256 over its slug (``/petitions/<id>.json`` lists
    each petition's registries with their slugs), so anyone can tell which one it is."""
    return hashlib.sha256(REGISTRY_PREFIX + slug.encode()).digest()


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
    # commitment -> its claim's latest DECISION entry, and the leaf index of that entry
    decisions: dict[bytes, tuple[Entry, int]] = field(default_factory=dict)
    # member tag -> the commitments counted as that member now (more than one breaks the rule)
    verified_as: dict[bytes, set[bytes]] = field(default_factory=dict)
    registries: set[bytes] = field(default_factory=set)  # every registry a DECISION named

    @property
    def count(self) -> int:
        """Count rule 1: the petition's SIGNATURE entries, minus those whose latest status entry
        is a REVOCATION. Revocations count wherever they stand, after the petition's CLOSED
        entry too: a signature withdrawn after closing leaves the count."""
        return sum(1 for c in self.signatures if not self.revoked(c))

    @property
    def verified_count(self) -> int:
        """The verified-count rule: the distinct member tags of the signatures that count (count
        rule 1) and whose claim's latest DECISION is VALIDATED. Only registry-only petitions
        have DECISION entries (docs/transparency.md says why)."""
        return sum(1 for holders in self.verified_as.values() if holders)

    def revoked(self, c: bytes) -> bool:
        return self.revocation_reason(c) is not None

    def revocation_reason(self, c: bytes) -> RevocationReason | None:
        """Why the signature with commitment ``c`` no longer counts (None: it counts, or the log
        holds no such signature)."""
        latest = self.latest_status.get(c)
        return latest.reason if latest is not None and latest.type == EntryType.REVOCATION else None

    def verified_tag(self, c: bytes) -> bytes | None:
        """The member tag the signature with commitment ``c`` is verified as now, if it is."""
        latest = self.decisions.get(c)
        if latest is None or latest[0].outcome != DecisionOutcome.VALIDATED or self.revoked(c):
            return None
        return latest[0].member_tag if c in self.signatures else None

    def verified_recount(self, c: bytes) -> tuple[bytes | None, set[bytes]]:
        """Move ``c`` to the member it is verified as now (its decision or status changed).
        Returns that member's tag (None: not verified) and the other commitments already
        counted as that member (none, unless the log breaks the rule)."""
        for holders in self.verified_as.values():
            holders.discard(c)
        tag = self.verified_tag(c)
        if tag is None:
            return None, set()
        holders = self.verified_as.setdefault(tag, set())
        others = set(holders)
        holders.add(c)
        return tag, others


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
        elif entry.digest not in t.signatures:
            self.problems.append(f"{where}: names a signature that is not earlier in the log")
        else:
            if entry.type == EntryType.DECISION:
                self._decide(t, index, entry, where)
            else:
                t.latest_status[entry.digest] = entry
            tag, others = t.verified_recount(entry.digest)
            if tag is not None and others:
                earlier = ", ".join(f"entry {t.signatures[c]}" for c in sorted(others, key=t.signatures.__getitem__))
                self.problems.append(
                    f"{where}: a member counted twice: the signature of entry {t.signatures[entry.digest]} is "
                    f"verified as member tag {tag.hex()}, which already counts for the signature of {earlier}"
                )

    def _decide(self, t: PetitionTally, index: int, entry: Entry, where: str) -> None:
        """A claim may move only as its states allow (``DECISION_MOVES``): the log must not
        validate a claim twice without taking the first validation back, nor take back what it
        never decided."""
        latest = t.decisions.get(entry.digest)
        before = latest[0].outcome if latest else None
        assert entry.outcome is not None, "decode_entry gives every DECISION an outcome"
        if entry.outcome not in DECISION_MOVES[before]:
            was = f"{before.name} (entry {latest[1]})" if before and latest else "no decision"
            self.problems.append(f"{where}: a claim cannot go from {was} to {entry.outcome.name}")
        t.decisions[entry.digest] = (entry, index)
        if entry.registry:
            t.registries.add(entry.registry)


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
