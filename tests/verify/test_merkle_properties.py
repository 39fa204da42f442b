"""Proofs generated from a tree verify, for random sizes up to a few thousand, and roots agree
with a naive recursive reading of RFC 6962."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from undersign_verify.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from undersign_verify.tiles import TileSet, node_from_tiles

MAX = 3000


def naive_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(n)]


BIG = leaves(MAX)
TREE = MemoryTree()
for _leaf in BIG:
    TREE.append(_leaf)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_roots_agree_with_the_naive_definition(n):
    assert root(BIG[:n]) == naive_root(BIG[:n]) == TREE.root(n)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_proofs_verify_and_fail_when_wrong(data):
    size = data.draw(st.integers(min_value=1, max_value=MAX))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(TREE.node, index, size)
    verify_inclusion(BIG[index], index, size, proof, TREE.root(size))
    other = (index + 1) % size
    if other != index:
        try:
            verify_inclusion(BIG[other], index, size, proof, TREE.root(size))
        except ProofError:
            pass
        else:
            raise AssertionError("a proof for one leaf verified another")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_proofs_verify_and_fail_when_wrong(data):
    size2 = data.draw(st.integers(min_value=1, max_value=MAX))
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    proof = consistency_proof(TREE.node, size1, size2)
    verify_consistency(size1, size2, proof, TREE.root(size1), TREE.root(size2))
    if size1 < size2:
        forked = bytes(32)
        try:
            verify_consistency(size1, size2, proof, forked, TREE.root(size2))
        except ProofError:
            pass
        else:
            raise AssertionError("a consistency proof verified a forked first root")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6))
def test_appending_to_tiles_in_batches_gives_the_same_tree(batches):
    """What the integrator does: appending batch after batch to the stored right edge gives the
    root of the whole tree, and tiles serve the same nodes as the tree in memory."""
    stored: dict[tuple[int, int], list[bytes]] = {}
    size = 0
    for batch in batches:
        if size + batch > MAX:
            break
        tileset = TileSet.from_edge(size, lambda level, index: b"".join(stored[(level, index)]))
        for leaf in BIG[size : size + batch]:
            tileset.append(leaf)
        size += batch
        stored.update({key: list(hashes) for key, hashes in tileset.touched.items()})
        assert tileset.root() == TREE.root(size)
    node = node_from_tiles(lambda level, index: stored[(level, index)])
    if size:
        assert inclusion_proof(node, size - 1, size) == inclusion_proof(TREE.node, size - 1, size)
        assert consistency_proof(node, 1, size) == consistency_proof(TREE.node, 1, size)
