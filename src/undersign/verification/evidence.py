"""Claim evidence (the signer's note and document): the one place where it is sealed and opened.

Built as a signer's own personal data is (``signatures.personal_data``): sealed under the
petition's data key, bound by associated data to its signature (through the unique dedup tag)
and to its field, so it dies with the petition's key. A security reviewer reads this module and
that one to know every way a claim's evidence is kept and read.
"""

from __future__ import annotations

import base64
from typing import Literal

from undersign.core.crypto import DecryptionError, open_sealed, reseal, seal
from undersign.verification.models import Claim, ClaimDecision

Field = Literal["note", "document"]
__all__ = [
    "DecryptionError",
    "decision_note_open",
    "decision_note_reseal",
    "decision_note_seal",
    "evidence_context",
    "evidence_document_open",
    "evidence_note_open",
    "evidence_reseal",
    "evidence_seal",
]


def evidence_context(tag: bytes, field: Field) -> bytes:
    """Binds sealed evidence to its signature (by the unique dedup tag) and field, as the
    signature's own personal data is bound."""
    return b"undersign/evidence/v1\x00" + tag + b"\x00" + field.encode("ascii")


def evidence_seal(*, key_id: str, tag: bytes, note: str, document: bytes | None) -> tuple[bytes | None, bytes | None]:
    """The sealed note and document (None where there is none)."""
    sealed_note = seal(key_id, note, context=evidence_context(tag, "note")) if note else None
    sealed_document = None
    if document is not None:
        # seal() takes text; base64 costs a third more bytes on a size-limited file, and keeps
        # one sealing function for all personal data.
        encoded = base64.b64encode(document).decode("ascii")
        sealed_document = seal(key_id, encoded, context=evidence_context(tag, "document"))
    return sealed_note, sealed_document


def evidence_reseal(claim: Claim, *, old_tag: bytes, new_tag: bytes) -> dict[str, bytes | None]:
    """The claim's sealed note and document bound to the signature's new dedup tag (a
    withdrawal replaced it). Raises ``DecryptionError`` once the petition's key is gone."""

    def again(sealed: bytes | memoryview | None, field: Field) -> bytes | None:
        if sealed is None:
            return None
        return reseal(sealed, context=evidence_context(old_tag, field), new_context=evidence_context(new_tag, field))

    return {
        "evidence_note_sealed": again(claim.evidence_note_sealed, "note"),
        "evidence_document_sealed": again(claim.evidence_document_sealed, "document"),
    }


def evidence_note_open(claim: Claim, tag: bytes) -> str | None:
    """The note, or None when there is none. Raises ``DecryptionError`` once the key is gone."""
    if claim.evidence_note_sealed is None:
        return None
    return open_sealed(claim.evidence_note_sealed, context=evidence_context(tag, "note"))


def evidence_document_open(claim: Claim, tag: bytes) -> bytes | None:
    """The document, or None when there is none. Raises ``DecryptionError`` once the key is
    gone."""
    if claim.evidence_document_sealed is None:
        return None
    encoded = open_sealed(claim.evidence_document_sealed, context=evidence_context(tag, "document"))
    return base64.b64decode(encoded)


# A validator's note on a decision may name the signer or what they sent: sealed the same way,
# bound to the claim's signature. Decisions are never moved between claims.
def decision_note_context(tag: bytes) -> bytes:
    return b"undersign/claim-decision-note/v1\x00" + tag


def decision_note_seal(*, key_id: str, tag: bytes, note: str) -> bytes | None:
    return seal(key_id, note, context=decision_note_context(tag)) if note else None


def decision_note_reseal(decision: ClaimDecision, *, old_tag: bytes, new_tag: bytes) -> bytes | None:
    """The decision's sealed note bound to the signature's new dedup tag. Raises
    ``DecryptionError`` once the petition's key is gone."""
    if decision.note_sealed is None:
        return None
    return reseal(
        decision.note_sealed, context=decision_note_context(old_tag), new_context=decision_note_context(new_tag)
    )


def decision_note_open(decision: ClaimDecision, tag: bytes) -> str:
    """The note, or "" when there is none. Raises ``DecryptionError`` once the key is gone."""
    if decision.note_sealed is None:
        return ""
    return open_sealed(decision.note_sealed, context=decision_note_context(tag))
