"""The API's own reads: the polled count's narrow row, and the modification time behind the
single-petition documents' ``Last-Modified``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Subquery

from undersign.counting.models import BreakdownSnapshot
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


def petition_modified_at(*, petition_id: int) -> datetime | None:
    """When anything the petition's public document is built from last changed (its row, its
    response, its latest breakdown snapshot), or None if the petition is not public: a 404
    carries no validator, as for ``petitions.selectors.petition_version``."""
    latest_snapshot = BreakdownSnapshot.objects.filter(petition_id=OuterRef("pk")).order_by("-sequence")
    row = (
        Petition.objects.public()
        .filter(pk=petition_id)
        .annotate(snapshot_at=Subquery(latest_snapshot.values("taken_at")[:1]))
        .values_list("updated_at", "response__published_at", "personal_data_destroyed_at", "snapshot_at")
        .first()
    )
    if row is None:
        return None
    return max(value for value in row if value is not None)
