"""RFC 6962 / RFC 9162 Merkle trees: hashing, roots, proof generation and verification.

Generation works over a ``NodeSource``: a function giving the hash of the perfect subtree at
``(height, index)`` — from memory here, from stored tiles on the server. Verification is the
iterative algorithm of RFC 9162 sections 2.1.3.2 and 2.1.4.2, stricter than the Go original
the test vectors come from in two documented ways (docs/transparency.md, "Proof leniency"):
every hash must be 32 bytes, and no consistency proof is accepted from the empty tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]  # (height, index) -> hash of a perfect subtree


class ProofError(ValueError):
    """A proof, or the data it is checked against, does not hold."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree whose bottom row is ``hashes`` (a power of two long)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 for the given leaf hashes (any count, 0 included)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return range_hash(lambda h, i: perfect_root(leaf_hashes[i << h : (i + 1) << h]), 0, len(leaf_hashes))


def range_hash(node: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) where ``start`` is a multiple of the largest power of two not above
    ``end - start`` — the only ranges RFC 6962's recursion asks for. The range splits into
    perfect subtrees by the binary digits of its length, folded from the right."""
    size = end - start
    parts: list[bytes] = []
    offset = start
    for height in range(size.bit_length() - 1, -1, -1):
        if size >> height & 1:
            parts.append(node(height, offset >> height))
            offset += 1 << height
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_proof(node: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 section 2.1.1, leaf's sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, collecting the sibling of each subtree we enter; reversed at the end.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(range_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(node, start, start + k))
            start += k
    return proof[::-1]


def consistency_proof(node: NodeSource, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 6962 section 2.1.2."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to {size2}")
    if size1 == size2:
        return []
    proof: list[bytes] = []
    start, end, complete = 0, size2, True
    while True:
        n = end - start
        m = size1 - start
        if m == n:
            if not complete:
                proof.append(range_hash(node, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(range_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(node, start, start + k))
            start += k
            complete = False
    return proof[::-1]


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def _walk(fn: int, sn: int, path: Sequence[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The walk of RFC 9162 sections 2.1.3.2 and 2.1.4.2 up from node ``fn`` of a tree whose
    last node is ``sn``: yields each proof hash and whether it joins from the left (and so is
    on the first tree's path too). Raises unless the proof is exactly as long as the walk."""
    for p in path:
        _check_hash("a proof hash", p)
        if sn == 0:
            raise ProofError("the proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            yield p, True
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            yield p, False
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is high")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root that ``proof`` leads to from ``leaf``."""
    _check_hash("the leaf hash", leaf)
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    r = leaf
    for p, from_left in _walk(index, size - 1, proof):
        r = node_hash(p, r) if from_left else node_hash(r, p)
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    _check_hash("the root", root_hash)
    if root_from_inclusion_proof(leaf, index, size, proof) != root_hash:
        raise ProofError("the inclusion proof leads to a different root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 section 2.1.4.2. Raises ``ProofError`` unless the tree of ``size2`` with
    ``root2`` extends the tree of ``size1`` with ``root1``."""
    _check_hash("the first root", root1)
    _check_hash("the second root", root2)
    if size1 > size2:
        raise ProofError(f"size {size1} is larger than size {size2}")
    if size1 == 0:
        # The empty tree is a prefix of every tree: a proof from it proves nothing, so we refuse
        # it rather than report a check that compared nothing (docs/transparency.md).
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    if not proof:
        raise ProofError("empty proof")
    for p in proof:
        _check_hash("a proof hash", p)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the first tree is itself a node of the second
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c, from_left in _walk(fn, sn, path[1:]):
        if from_left:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if fr != root1:
        raise ProofError("the proof does not lead to the first root")
    if sr != root2:
        raise ProofError("the proof does not lead to the second root")


class MemoryTree:
    """All levels of a tree kept in memory: what the verifier rebuilds from the entry tiles.
    ``levels[h][i]`` is the hash of the perfect subtree of height ``h`` at index ``i``."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        height, index = 0, len(self.levels[0]) - 1
        while index & 1:
            if len(self.levels) == height + 1:
                self.levels.append([])
            row = self.levels[height]
            self.levels[height + 1].append(node_hash(row[index - 1], row[index]))
            height, index = height + 1, index >> 1

    def node(self, height: int, index: int) -> bytes:
        return self.levels[height][index]

    def copy(self) -> MemoryTree:
        """A tree that can grow on without changing this one."""
        copied = MemoryTree()
        copied.levels = [list(level) for level in self.levels]
        return copied

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return EMPTY_ROOT if size == 0 else range_hash(self.node, 0, size)
