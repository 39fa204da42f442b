"""Signers' receipts: C2SP tlog-proof (c2sp.org/tlog-proof) documents.

The proof's opaque ``extra`` data is ``0x01 || petition UUID (16 bytes) || r (32 bytes)``: with
it anyone holding the receipt rebuilds the SIGNATURE entry (and so the leaf) and can show the
signature is theirs. That is also why a receipt on a seized device proves its owner signed.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from undersign_verify.entries import Entry, EntryType, commitment
from undersign_verify.merkle import HASH_SIZE, leaf_hash

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_VERSION = 1


class ReceiptError(ValueError):
    """Not a receipt of this format."""


@dataclass(frozen=True)
class Receipt:
    petition: uuid.UUID
    r: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim

    @property
    def commitment(self) -> bytes:
        return commitment(self.petition, self.r)

    @property
    def entry(self) -> bytes:
        return Entry(EntryType.SIGNATURE, self.petition, self.commitment).encode()

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.entry)

    def text(self) -> str:
        extra = base64.b64encode(bytes([EXTRA_VERSION]) + self.petition.bytes + self.r).decode()
        lines = [HEADER, f"extra {extra}", f"index {self.index}"]
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint


def parse_receipt(text: str) -> Receipt:
    head, sep, checkpoint = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines or lines[0] != HEADER:
        raise ReceiptError(f"a receipt starts with {HEADER!r} and has a checkpoint after a blank line")
    if len(lines) < 3 or not lines[1].startswith("extra ") or not lines[2].startswith("index "):
        raise ReceiptError("an Undersign receipt carries its extra data and index")
    try:
        extra = base64.b64decode(lines[1][len("extra ") :], validate=True)
        proof = tuple(base64.b64decode(line, validate=True) for line in lines[3:])
    except (binascii.Error, ValueError):
        raise ReceiptError("the receipt's extra data or proof is not base64") from None
    index_text = lines[2][len("index ") :]
    # ASCII only: str.isdigit() also takes "²", which int() refuses, and "٣", which it reads as 3.
    if not (index_text.isascii() and index_text.isdigit()) or (index_text != "0" and index_text.startswith("0")):
        raise ReceiptError("the receipt's index is not a decimal number")
    if len(extra) != 49 or extra[0] != EXTRA_VERSION:
        raise ReceiptError("the receipt's extra data is not version 1 (petition and r)")
    if any(len(h) != HASH_SIZE for h in proof):
        raise ReceiptError("a proof line is not a 32-byte hash")
    return Receipt(uuid.UUID(bytes=extra[1:17]), extra[17:], int(index_text), proof, checkpoint)
