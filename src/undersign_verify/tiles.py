"""C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, entry bundles, and building tiles.

A tile at level ``L`` and index ``N`` holds up to 256 consecutive hashes of perfect subtrees of
``256**L`` leaves; level 0 holds leaf hashes. Because a tile only ever grows at its end, a
partial tile of width ``W`` is the first ``W`` hashes of the tile as it stands later, which is
how the site serves every partial width from one stored row.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from undersign_verify.merkle import EMPTY_ROOT, HASH_SIZE, node_hash, perfect_root

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
ENTRIES = -1  # the "level" under which entry bundles are kept beside hash tiles


class TileError(ValueError):
    """A tile path or tile body that does not follow the spec."""


def encode_index(index: int) -> str:
    """1234067 -> ``x001/x234/067``: zero-padded 3-digit elements, all but the last with ``x``."""
    if index < 0:
        raise TileError("a tile index is not negative")
    parts = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        parts.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(parts))


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``, or ``tile/entries/<N>[.p/<W>]`` for ``level == ENTRIES``."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"a tile is 1 to {TILE_WIDTH} wide, not {width}")
    name = "entries" if level == ENTRIES else str(level)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{name}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """The inverse of ``tile_path``: (level, index, width). Refuses every non-canonical form."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TileError("not a tile path")
    name, rest = parts[1], parts[2:]
    if name == "entries":
        level = ENTRIES
    elif name.isdigit() and str(int(name)) == name and int(name) <= 63:
        level = int(name)
    else:
        raise TileError("bad tile level")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width_text = rest[-1]
        if not width_text.isdigit() or str(int(width_text)) != width_text or not 1 <= int(width_text) < TILE_WIDTH:
            raise TileError("bad partial tile width")
        width = int(width_text)
        rest = [*rest[:-2], rest[-2][:-2]]
    index = 0
    for position, element in enumerate(rest):
        last = position == len(rest) - 1
        digits = element if last else element[1:]
        if (not last and not element.startswith("x")) or len(digits) != 3 or not digits.isdigit():
            raise TileError("bad tile index")
        index = index * 1000 + int(digits)
    if encode_index(index) != "/".join(rest):
        raise TileError("non-canonical tile index")
    return level, index, width


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise TileError("an entry is longer than 65535 bytes")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError("an entry bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + length > len(data):
            raise TileError("an entry bundle ends inside an entry")
        entries.append(data[offset : offset + length])
        offset += length
    return entries


def split_hashes(data: bytes) -> list[bytes]:
    if len(data) % HASH_SIZE or len(data) > TILE_WIDTH * HASH_SIZE:
        raise TileError("a hash tile is a whole number of 32-byte hashes, at most 256")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def tiles_for_size(size: int) -> list[tuple[int, int, int]]:
    """Every (level, index, width) tile a tree of ``size`` leaves is served as, entry bundles
    included: full tiles, then the partial tile of each level that has one."""
    found: list[tuple[int, int, int]] = []
    level = 0
    while (size >> (TILE_HEIGHT * level)) > 0:
        count = size >> (TILE_HEIGHT * level)  # hashes at this level
        levels = [level, ENTRIES] if level == 0 else [level]
        for lv in levels:
            found.extend((lv, n, TILE_WIDTH) for n in range(count // TILE_WIDTH))
            if count % TILE_WIDTH:
                found.append((lv, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
    return found


@dataclass
class TileSet:
    """The right edge of a tiled tree, enough to append leaves and compute the root: the last
    (partial or just-filled) tile of each level. ``touched`` names the tiles changed since it
    was made, for the caller to store. Appending costs the batch plus the tree's height."""

    size: int = 0
    edge: dict[int, tuple[int, list[bytes]]] = field(default_factory=dict)  # level -> (index, hashes)
    touched: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)  # (level, index) -> hashes

    @classmethod
    def from_edge(cls, size: int, load: Callable[[int, int], bytes]) -> TileSet:
        """Rebuild from storage: ``load(level, index)`` gives a stored tile's bytes."""
        tiles = cls(size=size)
        level = 0
        while (size >> (TILE_HEIGHT * level)) > 0:
            count = size >> (TILE_HEIGHT * level)
            width = count % TILE_WIDTH
            if width:
                index = count // TILE_WIDTH
                tiles.edge[level] = (index, split_hashes(load(level, index))[:width])
            level += 1
        return tiles

    def append(self, leaf: bytes) -> None:
        self._push(0, self.size // TILE_WIDTH, leaf)
        self.size += 1

    def _push(self, level: int, index: int, value: bytes) -> None:
        current = self.edge.get(level)
        if current is None or current[0] != index:
            current = (index, [])
            self.edge[level] = current
        current[1].append(value)
        self.touched[(level, index)] = current[1]
        if len(current[1]) == TILE_WIDTH:
            # A full tile's root is a hash one level up; the next leaf starts a new tile.
            self._push(level + 1, index // TILE_WIDTH, perfect_root(current[1]))

    def root(self) -> bytes:
        """The tree's root from the edge: the partial tiles' hashes, highest level first, split
        into perfect subtrees by the binary digits of each tile's width, folded from the right."""
        parts: list[bytes] = []
        for level in sorted(self.edge, reverse=True):
            index, hashes = self.edge[level]
            width = (self.size >> (TILE_HEIGHT * level)) % TILE_WIDTH
            if width == 0:
                continue
            hashes = hashes[:width]
            offset = 0
            for height in range(TILE_HEIGHT - 1, -1, -1):
                if width >> height & 1:
                    parts.append(perfect_root(hashes[offset : offset + (1 << height)]))
                    offset += 1 << height
        if not parts:
            return EMPTY_ROOT
        result = parts[-1]
        for part in reversed(parts[:-1]):
            result = node_hash(part, result)
        return result


def node_from_tiles(get_tile: Callable[[int, int], Sequence[bytes]]) -> Callable[[int, int], bytes]:
    """A ``NodeSource`` over tiles: the perfect subtree at (height, index) is the root of
    ``2**(height % 8)`` consecutive hashes of one tile at level ``height // 8``."""

    def node(height: int, index: int) -> bytes:
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        hashes = get_tile(level, first // TILE_WIDTH)
        start = first % TILE_WIDTH
        chunk = hashes[start : start + (1 << rest)]
        if len(chunk) != 1 << rest:
            raise TileError(f"node {height}/{index} is beyond the stored tiles")
        return perfect_root(chunk)

    return node
