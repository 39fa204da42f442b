"""The log as static files, for ``export_log`` and the mirror (``undersign.mirror``): the same
bytes at the same c2sp.org/tlog-tiles paths as ``/log/…`` serves, so a static copy verifies
exactly as the site does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from undersign.transparency.selectors import SignedCheckpoint, log_checkpoint_latest, log_tile
from undersign_verify.tiles import TILE_WIDTH, tile_path, tiles_for_size


def log_checkpoint_served() -> SignedCheckpoint:
    """The checkpoint as ``/log/checkpoint`` serves it. Static copies take it from here, so
    that they follow the view with one change here when the view's text changes (witness
    cosignatures added to the note)."""
    return log_checkpoint_latest()


def log_static_tiles(*, size: int, partial_sizes: Iterable[int] = ()) -> Iterator[tuple[str, bytes]]:
    """(path under ``log/``, bytes) of every tile a tree of ``size`` leaves is served as, entry
    bundles included, then of the partial tiles of each size in ``partial_sizes`` (the
    checkpoints the published counts name: a client checking such a count fetches the tiles of
    its size, and their full tiles are those of ``size``). One tile at a time: a big log is
    never held in memory. Entry bundles are plain: static hosts do not gzip on the fly.
    Precondition: ``size`` and every partial size are at most the latest checkpoint's."""
    tiles = tiles_for_size(size)
    yield from _tiles(size, tiles)
    written = {t for t in tiles if t[2] != TILE_WIDTH}  # the partial ones: a few per level
    for smaller in sorted(set(partial_sizes) - {size}):
        if not 0 <= smaller <= size:
            raise ValueError(f"a count names size {smaller}, beyond the exported checkpoint ({size})")
        partial = [t for t in tiles_for_size(smaller) if t[2] != TILE_WIDTH and t not in written]
        written.update(partial)
        yield from _tiles(smaller, partial)


def _tiles(size: int, tiles: list[tuple[int, int, int]]) -> Iterator[tuple[str, bytes]]:
    for level, index, width in tiles:
        data = log_tile(level=level, index=index, width=width)
        if data is None:
            raise ValueError(f"tile {tile_path(level, index, width)} of size {size} is not stored")
        yield tile_path(level, index, width), data
