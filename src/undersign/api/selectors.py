"""The polled count's read: one narrow primary-key lookup, so a poll every few seconds costs no more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from undersign.petitions.models import Petition


def petition_count_row(*, petition_id: int) -> Mapping[str, Any] | None:
    """``pk``, ``signature_count``, ``updated_at`` and the log checkpoint the count was computed at
    (``uuid``, ``counted_at_size``, ``counted_at_root``) of a public petition, or None. Read at
    most once a second per process: ``api.views`` keeps the encoded answer in a micro-cache."""
    return (
        Petition.objects.public()
        .filter(pk=petition_id)
        .values("pk", "signature_count", "updated_at", "uuid", "counted_at_size", "counted_at_root")
        .first()
    )
