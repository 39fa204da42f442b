"""What a mirror carries, read once per petition: published petitions only, and their figures
as the public pages show them, less every name (docs/deployment.md, "A mirror")."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from undersign.counting.selectors import Breakdown, petition_breakdown
from undersign.petitions.models import Petition
from undersign.petitions.selectors import SignatureHistory, signature_history
from undersign.verification.selectors import VerificationSummary, verification_summary


def mirror_petitions() -> Iterator[Petition]:
    """The published petitions (open and closed), in the order of the live list of all: newest
    opened first. Rejected and hidden ones are left out: a copy cannot follow a later decision,
    and a text moderation refused, or took down, must not outlive the site in copies. Read in
    chunks, so a big site is never held in memory."""
    return (
        Petition.objects.published().select_related("response").order_by("-opened_at", "-pk").iterator(chunk_size=100)
    )


@dataclass(frozen=True)
class PetitionFigures:
    """A petition's published figures, in the active language (region and territory names)."""

    breakdown: Breakdown
    verification: VerificationSummary | None
    history: SignatureHistory


def petition_figures(*, petition: Petition) -> PetitionFigures:
    return PetitionFigures(
        breakdown=petition_breakdown(petition=petition),
        verification=without_names(verification_summary(petition=petition)),
        history=signature_history(petition=petition),
    )


def without_names(summary: VerificationSummary | None) -> VerificationSummary | None:
    """The verified figures without the verified signers who chose to be named, nor a named
    group's members: a copy outlives a withdrawal, and a deputy's office and district name them
    as surely as their name, so the entries go whole; the counts stay."""
    if summary is None:
        return None
    group = dataclasses.replace(summary.group, members=[]) if summary.group is not None else None
    return dataclasses.replace(summary, signers=[], group=group)
