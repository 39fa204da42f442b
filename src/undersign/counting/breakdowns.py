"""The publication rule of breakdowns (per region, and per territory through parts), kept
pure so that it can be tested on its own and so that the observer test can reason over it.

A breakdown is published only as a snapshot (``counting.services``): the rule below turns the
true counts of one snapshot into what the public sees. With ``k`` = ``K_ANONYMITY``:

1. A cell below ``k`` is suppressed. A cell from ``k`` to ``2k - 2`` is suppressed too unless
   it reaches a threshold ``k + h``, ``h`` drawn from 0..k-1 per snapshot and cell: otherwise
   the snapshot in which a small cell first reaches ``k`` would name the region that just
   grew.
2. While the suppressed cells hold fewer than ``k`` signatures together, the smallest shown
   cell is suppressed as well (the total is public, so a lone small cell could be computed).
3. A shown count ``c`` is rounded to a multiple of ``k``: up with probability ``(c mod k)/k``,
   down otherwise (unbiased; a multiple of ``k`` is shown as it is). Otherwise an observer who
   adds ``k - 1`` signatures of their own could subtract them.

The draws come from an HMAC under a key derived from the site's secret, over the petition,
the snapshot's noise epoch and the cell: fresh in every snapshot that region-private signatures
made due (a draw fixed per count would let an unchanged cell keep its value and so point at the
one that moved), kept by a snapshot of public arrivals only (fresh draws there would let an
observer who signs with a name now and then average the noise away for free), fixed within one
(polling a snapshot again shows the same figures). What this still leaks over many
snapshots is written in docs/threat-model.md.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

# A draw in [0, 1) for (cell, purpose); purpose is "threshold" or "round".
Draw = Callable[[str, str], float]
# Publishes a part's counts by the rule, with the snapshot's draws (its cells kept apart).
Publish = Callable[[Mapping[str, int]], dict[str, int | None]]
# collect(petition, publish) -> a JSON-able dict, stored in each snapshot under the part's name.
Collect = Callable[[Any, Publish], dict[str, Any]]

_parts: dict[str, Collect] = {}


def register_breakdown_part(name: str, collect: Collect) -> None:
    """Let a higher app (verification: per-territory figures) add its own figures to every
    snapshot. ``collect(petition, publish)`` runs when the snapshot is taken, in its
    transaction; it must pass every count it publishes through ``publish`` (the rule, with this
    snapshot's draws, drawn apart from other parts' and the regions'): what it returns is stored
    and published as it is. Registered in ``AppConfig.ready``."""
    if name in _parts and _parts[name] is not collect:
        raise ValueError(f"a breakdown part named {name!r} is registered already")
    _parts[name] = collect


def breakdown_parts() -> dict[str, Collect]:
    return dict(_parts)


def _nothing_to_record(sequence: int) -> None:
    return None


@dataclass(frozen=True)
class Opening:
    """Signers a higher app makes public at the snapshot about to be taken, beyond the named and
    initials ones: ``displays`` (``signatures.models.Display`` values) whose signers this
    snapshot names, so their arrivals need no company (they are not region-private here), and
    ``record``, called with the snapshot's sequence number in its transaction if the snapshot
    is taken (the decision is made once, by the opener, and recorded as it was made). An opening
    that names no one may still use ``record`` to publish what its app held back for the
    snapshot (verification: its decisions, into the transparency log), before the snapshot
    reads its figures."""

    displays: frozenset[str]
    record: Callable[[int], None] = field(default=_nothing_to_record)


# opener(petition, now) -> Opening | None, called in the snapshot's transaction under the log's
# lock, before its due check.
Opener = Callable[[Any, datetime], Opening | None]
# trigger() -> ids of petitions whose next snapshot is due on schedule although their log has
# not moved (verification: a group whose condition holds, or decisions, wait for it).
Trigger = Callable[[], Iterable[int]]

_openers: dict[str, Opener] = {}
_triggers: dict[str, Trigger] = {}


def register_snapshot_opener(name: str, opener: Opener) -> None:
    """Let a higher app name more signers at a snapshot (verification: a safety-in-numbers group
    whose condition holds), or publish with it what it held back (verification: decisions for
    the log). Registered in ``AppConfig.ready``."""
    if name in _openers and _openers[name] is not opener:
        raise ValueError(f"a snapshot opener named {name!r} is registered already")
    _openers[name] = opener


def snapshot_openers() -> dict[str, Opener]:
    return dict(_openers)


def register_snapshot_trigger(name: str, trigger: Trigger) -> None:
    """Let a higher app ask for a petition's next snapshot although its log has not moved (its
    schedule and due rule still apply). Registered in ``AppConfig.ready``."""
    if name in _triggers and _triggers[name] is not trigger:
        raise ValueError(f"a snapshot trigger named {name!r} is registered already")
    _triggers[name] = trigger


def snapshot_triggered() -> set[int]:
    """The petitions every registered trigger asks a snapshot for."""
    return {petition_id for trigger in _triggers.values() for petition_id in trigger()}


@dataclass(frozen=True)
class SnapshotDraws:
    """The keyed draws of one noise epoch of one petition (1, 2, …): a new epoch begins with each
    snapshot that k region-private signatures made due, so fresh draws cost an observer k
    signatures each; a snapshot of public arrivals only keeps its epoch's draws, so an unchanged
    cell shows the same figure and polling many such snapshots averages nothing out."""

    petition_uuid: uuid.UUID
    epoch: int

    def __call__(self, cell: str, purpose: str) -> float:
        key = hmac.new(settings.SECRET_KEY.encode(), b"undersign/breakdown-noise/v1", hashlib.sha256).digest()
        label, name = purpose.encode(), cell.encode()
        # Fixed-width or length-prefixed parts: no two (cell, purpose) pairs run together.
        message = b"breakdown/v1\x00" + self.petition_uuid.bytes + struct.pack(">QB", self.epoch, len(label))
        message += label + struct.pack(">H", len(name)) + name
        digest = hmac.new(key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


def publish_counts(counts: Mapping[str, int], *, k: int, draw: Draw) -> dict[str, int | None]:
    """What the public sees of ``counts`` (every cell, zeros included) in one snapshot: a
    multiple of ``k`` (at least ``k``), or None for a suppressed cell. See the module's rule."""
    shown = {cell: count for cell, count in counts.items() if count >= k + int(draw(cell, "threshold") * k)}
    suppressed = sum(count for cell, count in counts.items() if cell not in shown)
    while shown and any(cell not in shown for cell in counts) and suppressed < k:
        smallest = min(shown, key=lambda cell: (shown[cell], cell))
        suppressed += shown.pop(smallest)
    result: dict[str, int | None] = {}
    for cell, count in counts.items():
        if cell not in shown:
            result[cell] = None
            continue
        low, rest = divmod(count, k)
        result[cell] = k * (low + (1 if draw(cell, "round") < rest / k else 0))
    return result


def snapshot_publisher(*, petition_uuid: uuid.UUID, epoch: int, part: str) -> Publish:
    """``publish_counts`` with the draws of one noise epoch, for the cells of ``part`` (the
    regions are the part ``"regions"``)."""
    draws = SnapshotDraws(petition_uuid, epoch)

    def publish(counts: Mapping[str, int]) -> dict[str, int | None]:
        return publish_counts(
            counts, k=settings.K_ANONYMITY, draw=lambda cell, purpose: draws(f"{part}/{cell}", purpose)
        )

    return publish
