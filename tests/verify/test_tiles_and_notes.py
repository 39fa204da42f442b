from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from undersign_verify import note, tiles
from undersign_verify.entries import Entry, EntryError, EntryType, RevocationReason, decode_entry, tally


class TestTilePaths:
    @pytest.mark.parametrize(
        ("level", "index", "width", "path"),
        [
            (0, 0, 256, "tile/0/000"),
            (0, 1234067, 256, "tile/0/x001/x234/067"),
            (1, 5, 17, "tile/1/005.p/17"),
            (tiles.ENTRIES, 1000, 3, "tile/entries/x001/000.p/3"),
        ],
    )
    def test_spec_examples(self, level, index, width, path):
        assert tiles.tile_path(level, index, width) == path
        assert tiles.parse_tile_path(path) == (level, index, width)

    @pytest.mark.parametrize(
        "path", ["tile/0/1", "tile/0/001/002", "tile/00/001", "tile/0/001.p/256", "tile/0/001.p/0", "tile/x/001"]
    )
    def test_non_canonical_paths_are_refused(self, path):
        with pytest.raises(tiles.TileError):
            tiles.parse_tile_path(path)

    @given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=256))
    def test_round_trip(self, index, width):
        assert tiles.parse_tile_path(tiles.tile_path(3, index, width)) == (3, index, width)

    def test_the_spec_example_of_size_70000(self):
        listed = tiles.tiles_for_size(70_000)
        hashes = [t for t in listed if t[0] != tiles.ENTRIES]
        assert (0, 273, 112) in hashes and (1, 0, 256) in hashes
        assert (1, 1, 17) in hashes and (2, 0, 1) in hashes
        assert len([t for t in hashes if t[0] == 0]) == 274


@given(st.lists(st.binary(max_size=300), max_size=40))
def test_entry_bundles_round_trip(entries):
    assert tiles.decode_bundle(tiles.encode_bundle(entries)) == entries


def test_truncated_bundle_is_refused():
    with pytest.raises(tiles.TileError):
        tiles.decode_bundle(tiles.encode_bundle([b"abc"])[:-1])


class TestEntries:
    P = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @pytest.mark.parametrize(
        "entry",
        [
            Entry(EntryType.OPENED, P, bytes(32)),
            Entry(EntryType.SIGNATURE, P, bytes(range(32))),
            Entry(EntryType.REVOCATION, P, bytes(32), RevocationReason.CLAIM_REJECTED),
            Entry(EntryType.REINSTATE, P, bytes(32)),
            Entry(EntryType.CLOSED, P),
        ],
    )
    def test_round_trip(self, entry):
        assert decode_entry(entry.encode()) == entry

    def test_bad_entries_are_refused(self):
        good = Entry(EntryType.SIGNATURE, self.P, bytes(32)).encode()
        for bad in (good[:-1], b"\x02" + good[1:], good[:1] + b"\x09" + good[2:]):
            with pytest.raises(EntryError):
                decode_entry(bad)

    def test_count_rule(self):
        a, b, c = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32
        log = [
            Entry(EntryType.SIGNATURE, self.P, a),  # the creator's, before OPENED
            Entry(EntryType.OPENED, self.P, bytes(32)),
            Entry(EntryType.SIGNATURE, self.P, b),
            Entry(EntryType.SIGNATURE, self.P, c),
            Entry(EntryType.REVOCATION, self.P, b, RevocationReason.FRAUD),
            Entry(EntryType.REVOCATION, self.P, c, RevocationReason.WITHDRAWN),
            Entry(EntryType.REINSTATE, self.P, c),
            Entry(EntryType.CLOSED, self.P),
        ]
        result = tally(e.encode() for e in log)
        assert not result.problems
        assert result.petitions[self.P].count == 2
        assert tally((e.encode() for e in log), upto=5).petitions[self.P].count == 2
        assert tally((e.encode() for e in log), upto=4).petitions[self.P].count == 3

    def test_the_tally_keeps_each_revocations_reason(self):
        a, b = bytes([1]) * 32, bytes([2]) * 32
        log = [
            Entry(EntryType.SIGNATURE, self.P, a),
            Entry(EntryType.SIGNATURE, self.P, b),
            Entry(EntryType.REVOCATION, self.P, a, RevocationReason.WITHDRAWN),
            Entry(EntryType.REVOCATION, self.P, b, RevocationReason.FRAUD),
            Entry(EntryType.REINSTATE, self.P, b),
        ]
        petition = tally(e.encode() for e in log).petitions[self.P]
        assert petition.revocation_reason(a) == RevocationReason.WITHDRAWN and petition.revoked(a)
        assert petition.revocation_reason(b) is None and not petition.revoked(b)  # reinstated since
        assert petition.revocation_reason(bytes(32)) is None  # no such signature

    def test_a_withdrawal_after_closing_counts(self):
        """A signer may withdraw after the petition closed: the count rule takes the revocation
        wherever it stands, so the count over the whole log drops, while the count up to the
        CLOSED entry stays what it was at closing."""
        a, b = bytes([1]) * 32, bytes([2]) * 32
        log = [
            Entry(EntryType.SIGNATURE, self.P, a),
            Entry(EntryType.SIGNATURE, self.P, b),
            Entry(EntryType.CLOSED, self.P),
            Entry(EntryType.REVOCATION, self.P, b, RevocationReason.WITHDRAWN),
        ]
        result = tally(e.encode() for e in log)
        assert not result.problems
        assert result.petitions[self.P].count == 1
        assert tally((e.encode() for e in log), upto=3).petitions[self.P].count == 2

    def test_rule_breaking_entries_are_reported(self):
        a = bytes([1]) * 32
        log = [
            Entry(EntryType.REVOCATION, self.P, a, RevocationReason.FRAUD),  # of nothing earlier
            Entry(EntryType.SIGNATURE, self.P, a),
            Entry(EntryType.SIGNATURE, self.P, a),  # the same commitment twice
            Entry(EntryType.CLOSED, self.P),
            Entry(EntryType.SIGNATURE, self.P, bytes(32)),  # after closing
        ]
        result = tally(e.encode() for e in log)
        assert len(result.problems) == 3
        assert result.petitions[self.P].count == 1


class TestSignedNotes:
    def signer(self, name="example.org/log"):
        return note.Signer(name, Ed25519PrivateKey.generate())

    def test_sign_and_open(self):
        signer = self.signer()
        checkpoint = note.Checkpoint("example.org/log", 5, bytes(32))
        signed = signer.sign(checkpoint.text())
        assert note.open_checkpoint(signed, signer.verifier) == checkpoint
        assert note.parse_vkey(signer.verifier.vkey) == signer.verifier

    def test_a_note_signed_by_another_key_is_refused(self):
        signed = self.signer().sign("example.org/log\n1\n" + "A" * 43 + "=\n")
        with pytest.raises(note.NoteError):
            note.open_note(signed, self.signer().verifier)

    def test_a_changed_text_is_refused(self):
        signer = self.signer()
        signed = signer.sign(note.Checkpoint("example.org/log", 5, bytes(32)).text())
        with pytest.raises(note.NoteError):
            note.open_note(signed.replace("\n5\n", "\n6\n"), signer.verifier)

    def test_unknown_signatures_are_ignored(self):
        """A witness's cosignature must not make the note unreadable."""
        signer, witness = self.signer(), self.signer("witness.example")
        text = note.Checkpoint("example.org/log", 5, bytes(32)).text()
        both = signer.sign(text) + witness.sign(text).split("\n\n", 1)[1]
        assert note.open_checkpoint(both, signer.verifier).size == 5

    def test_key_id_follows_the_spec(self):
        import hashlib

        v = self.signer().verifier
        expected = hashlib.sha256(v.name.encode() + b"\n\x01" + v.public_key).digest()[:4]
        assert v.key_id == int.from_bytes(expected, "big")
        assert v.vkey.split("+")[1] == expected.hex()

    def test_a_vkey_with_a_wrong_hash_is_refused(self):
        name, _hash, key = self.signer().verifier.vkey.split("+", 2)
        with pytest.raises(note.NoteError):
            note.parse_vkey(f"{name}+00000000+{key}")
