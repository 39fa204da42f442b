"""Small reads for the open data's validators and the polled count: one narrow query each, so
that a conditional GET or a poll every few seconds costs a primary-key lookup and no more."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from undersign.petitions.models import PUBLIC_STATES, Petition

MAX_ID = 2**63 - 1  # a bigint primary key; larger ids cannot exist (and SQLite cannot bind them)


def petition_count_row(*, petition_id: int) -> dict[str, Any] | None:
    """``pk``, ``signature_count`` and ``updated_at`` of a public petition, or None."""
    if not 0 < petition_id <= MAX_ID:
        return None
    return (
        Petition.objects.filter(pk=petition_id, state__in=PUBLIC_STATES)
        .values("pk", "signature_count", "updated_at")
        .first()
    )


def petition_version(*, petition_id: int) -> str | None:
    """A short fingerprint of everything the petition's public documents are built from, or
    None if the petition is not public (so no validator is ever sent for a 404). Counts move
    without touching ``updated_at`` (the count job updates them in bulk), hence the counters,
    ``last_signed_at`` and the response's date are part of it."""
    if not 0 < petition_id <= MAX_ID:
        return None
    row = (
        Petition.objects.filter(pk=petition_id, state__in=PUBLIC_STATES)
        .values_list("state", "updated_at", "signature_count", "last_signed_at", "response__published_at")
        .first()
    )
    if row is None:
        return None
    text = "|".join(value.isoformat() if isinstance(value, datetime) else str(value) for value in row)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
