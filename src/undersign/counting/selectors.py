"""Reads of the published breakdowns: the public sees a petition's figures per region, and its
lists of named signers, only as of its latest snapshot; only the total count is live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from undersign.core.reference import region_names
from undersign.counting.models import BreakdownSnapshot
from undersign.petitions.models import Petition
from undersign.signatures.selectors import PublicSigner, public_signers


@dataclass(frozen=True)
class RegionFigure:
    code: str
    name: str
    signature_count: int | None  # a multiple of K_ANONYMITY; None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.signature_count is None


@dataclass(frozen=True)
class Breakdown:
    """A petition's published breakdown: its latest snapshot, or (before the first one) every
    region suppressed, with ``taken_at`` None."""

    taken_at: datetime | None
    sequence: int
    regions: list[RegionFigure]
    parts: dict[str, Any] = field(default_factory=dict)
    rounded_to: int = 0


def breakdown_latest(*, petition_id: int) -> BreakdownSnapshot | None:
    return BreakdownSnapshot.objects.filter(petition_id=petition_id).order_by("-sequence").first()


def breakdown_sequence(*, petition_id: int) -> int:
    """The number of the petition's latest snapshot (0: none yet), for validators (ETags)."""
    return (
        BreakdownSnapshot.objects.filter(petition_id=petition_id)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
        or 0
    )


def petition_breakdown(*, petition: Petition) -> Breakdown:
    """The figures per region (every region of the list, and any a snapshot holds that the list
    has since lost) and the registered parts, as the latest snapshot published them."""
    snapshot = breakdown_latest(petition_id=petition.pk)
    names = region_names()
    published: dict[str, int | None] = dict.fromkeys(names)
    if snapshot is not None:
        published.update(snapshot.regions)
    figures = [RegionFigure(code, names.get(code, code), count) for code, count in published.items()]
    figures.sort(key=lambda f: (-(f.signature_count or 0), f.name))
    if snapshot is None:
        return Breakdown(taken_at=None, sequence=0, regions=figures, rounded_to=settings.K_ANONYMITY)
    return Breakdown(
        taken_at=snapshot.taken_at,
        sequence=snapshot.sequence,
        regions=figures,
        parts=snapshot.parts,
        rounded_to=settings.K_ANONYMITY,
    )


def public_signers_listed(*, petition: Petition, limit: int, offset: int = 0) -> list[PublicSigner]:
    """The named and initials signers as of the latest snapshot (none before the first): a
    name that appeared with its confirmation would date that signer's arrival and, through the
    total, tell the region of whoever did not appear."""
    snapshot = breakdown_latest(petition_id=petition.pk)
    if snapshot is None:
        return []
    return public_signers(petition=petition, limit=limit, offset=offset, appended_before=snapshot.log_size)
