"""Fetching a newer checkpoint during a run (a count named it) reads only what the log verified
so far lacks, and the result is the log a fresh fetch gives, or a failure if what was read
before changed meanwhile."""

from __future__ import annotations

import pytest

from undersign_verify import cli, merkle, note
from undersign_verify.tiles import ENTRIES, TILE_WIDTH, TileSet, encode_bundle, tile_path, tiles_for_size

SIGNER = note.Signer.from_seed("example.org/log", b"\x07" * 32)


def publish(folder, entries: list[bytes], size: int) -> tuple[str, note.Checkpoint]:
    """Write the tiles of the log's first ``size`` entries into ``folder``, as a tile server
    serves them, and return its signed checkpoint."""
    tiles = TileSet()
    for entry in entries[:size]:
        tiles.append(merkle.leaf_hash(entry))
    for level, index, width in tiles_for_size(size):
        if level == ENTRIES:
            data = encode_bundle(entries[index * TILE_WIDTH : index * TILE_WIDTH + width])
        else:
            data = b"".join(tiles.touched[(level, index)][:width])
        path = folder / tile_path(level, index, width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    signed = SIGNER.sign(note.Checkpoint(SIGNER.name, size, tiles.root()).text())
    return signed, note.open_checkpoint(signed, SIGNER.verifier)


def fetched(folder, entries: list[bytes], size: int, previous: cli.Log | None = None) -> cli.Log:
    signed, checkpoint = publish(folder, entries, size)
    return cli._fetch_log(cli.Source(None, folder), checkpoint, signed, previous=previous)


ENTRIES_600 = [f"entry {i}".encode() for i in range(600)]


@pytest.mark.parametrize(("first", "then"), [(250, 600), (256, 300), (0, 5), (300, 300)])
def test_an_extended_log_is_the_log_fetched_afresh(tmp_path, first, then):
    earlier = fetched(tmp_path / "a", ENTRIES_600, first)
    extended = fetched(tmp_path / "b", ENTRIES_600, then, previous=earlier)
    afresh = fetched(tmp_path / "c", ENTRIES_600, then)
    assert extended.entries == afresh.entries
    assert extended.tree.root() == afresh.tree.root() == extended.checkpoint.root
    assert earlier.tree.size == first  # the earlier log is left as it was


def test_only_the_bundles_not_yet_read_are_fetched(tmp_path, monkeypatch):
    earlier = fetched(tmp_path / "a", ENTRIES_600, 520)
    signed, checkpoint = publish(tmp_path / "b", ENTRIES_600, 600)
    read: list[str] = []
    original = cli.Source.get

    def get(source, path):
        read.append(path)
        return original(source, path)

    monkeypatch.setattr(cli.Source, "get", get)
    cli._fetch_log(cli.Source(None, tmp_path / "b"), checkpoint, signed, previous=earlier)
    assert [p for p in read if p.startswith("tile/entries/")] == ["tile/entries/002.p/88"]


def test_entries_rewritten_between_two_fetches_fail(tmp_path):
    earlier = fetched(tmp_path / "a", ENTRIES_600, 520)
    rewritten = list(ENTRIES_600)
    rewritten[515] = b"not what was read before"
    with pytest.raises(cli.VerificationFailed, match="changed while the log was read"):
        fetched(tmp_path / "b", rewritten, 600, previous=earlier)


def test_a_smaller_checkpoint_between_two_fetches_fails(tmp_path):
    earlier = fetched(tmp_path / "a", ENTRIES_600, 520)
    with pytest.raises(cli.VerificationFailed, match="shrank from 520 to 400"):
        fetched(tmp_path / "b", ENTRIES_600, 400, previous=earlier)
