"""When a petition's personal data is destroyed: the one rule, read by staff pages, the
petition page and the retention jobs alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from undersign.petitions.models import REJECTED_STATES, Petition, PetitionState

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
        after = _closed_retention()
        return max(petition.closed_at, petition.closing_date or petition.closed_at) + after
    if petition.state in (S.REJECTED, S.HIDDEN) and petition.rejected_at is not None:
        return petition.rejected_at + timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
    if petition.state == S.PENDING:
        return petition.created_at + timedelta(days=settings.UNCONFIRMED_PETITION_RETENTION_DAYS)
    return None


def _closed_retention() -> timedelta:
    return max(
        timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS), timedelta(hours=settings.CONFIRMATION_GRACE_HOURS)
    )


def petitions_personal_data_due(*, now: datetime) -> QuerySet[Petition]:
    """Closed, rejected and hidden petitions whose personal data is due for destruction at
    ``now`` and not yet destroyed, oldest first: ``personal_data_destruction_at`` as a query
    (a test holds the two together). Pending petitions are deleted outright by their own job."""
    closed_before = now - _closed_retention()
    rejected_before = now - timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
    closed = Q(state=S.CLOSED, closed_at__lte=closed_before) & (
        Q(closing_date__isnull=True) | Q(closing_date__lte=closed_before)
    )
    rejected = Q(state__in=REJECTED_STATES, rejected_at__lte=rejected_before)
    return Petition.objects.filter(closed | rejected, personal_data_destroyed_at__isnull=True).order_by("pk")
