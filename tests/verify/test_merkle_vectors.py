"""The RFC 6962 reference vectors of transparency-dev/merkle (Apache-2.0), vendored unchanged in
``tests/verify/vectors/`` (its README and LICENSE say where they come from). They are read only
from there, relative to this file, so a fresh clone runs this test with nothing from outside the
repository."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from undersign_verify.merkle import ProofError, verify_consistency, verify_inclusion

VECTORS = Path(__file__).resolve().parent / "vectors"

# Where the Go original is lenient we are strict, and say so (docs/transparency.md, "Proof
# leniency"): its vector accepts two equal 12-byte "roots" at size 1; we refuse any hash that is
# not 32 bytes. Equal sizes with equal 32-byte roots and an empty proof still pass (tested below).
STRICTER_THAN_GO = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def _vectors(kind: str) -> list[Path]:
    found = sorted((VECTORS / kind).rglob("*.json"))
    return found


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_the_vectors_are_there():
    assert len(_vectors("inclusion")) > 50
    assert len(_vectors("consistency")) > 50


@pytest.mark.parametrize("path", _vectors("inclusion"), ids=_id)
def test_inclusion_vector(path):
    v = json.loads(path.read_text())
    proof = [_b64(p) for p in v["proof"] or []]

    def check():
        verify_inclusion(_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b64(v["root"]))

    if v["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize("path", _vectors("consistency"), ids=_id)
def test_consistency_vector(path):
    v = json.loads(path.read_text())
    proof = [_b64(p) for p in v["proof"] or []]

    def check():
        verify_consistency(v["size1"], v["size2"], proof, _b64(v["root1"]), _b64(v["root2"]))

    if v["wantErr"] or _id(path) in STRICTER_THAN_GO:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_equal_sizes_with_equal_full_size_roots_and_no_proof_are_consistent():
    root = bytes(range(32))
    verify_consistency(1, 1, [], root, root)
    verify_consistency(7, 7, [], root, root)


def test_no_consistency_proof_from_the_empty_tree():
    """Some verifiers accept any size as consistent with size 0; a proof of that proves
    nothing, so we refuse it rather than report a check that did not happen."""
    empty = base64.b64decode("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    with pytest.raises(ProofError):
        verify_consistency(0, 0, [], empty, empty)
    with pytest.raises(ProofError):
        verify_consistency(0, 5, [], empty, bytes(32))
