"""When a petition's personal data is destroyed: the one rule, read by staff pages, the
petition page and the retention jobs alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from undersign.petitions.models import Petition, PetitionState

S = PetitionState


def personal_data_destruction_at(petition: Petition) -> datetime | None:
    """When the petition's data key is (or was) destroyed: the moment it happened, or the
    moment the retention jobs will do it (at their first run after it); None while the
    petition's fate is open (collecting, in moderation, open).

    A closed petition's key outlives the confirmation grace too, so that a link still being
    confirmed never meets a destroyed key. A petition whose creator never confirmed is deleted
    outright at its moment."""
    if petition.personal_data_destroyed_at is not None:
        return petition.personal_data_destroyed_at
    if petition.state == S.CLOSED and petition.closed_at is not None:
        after = max(
            timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS), timedelta(hours=settings.CONFIRMATION_GRACE_HOURS)
        )
        return max(petition.closed_at, petition.closing_date or petition.closed_at) + after
    if petition.state in (S.REJECTED, S.HIDDEN) and petition.rejected_at is not None:
        return petition.rejected_at + timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
    if petition.state == S.PENDING:
        return petition.created_at + timedelta(days=settings.UNCONFIRMED_PETITION_RETENTION_DAYS)
    return None
