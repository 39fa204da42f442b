"""Attack mode switched on by the held rate (the periodic job); moderators switch it either way
(``moderation.attack_views``). Here rather than in ``abuse``: it reads held signatures, which
live above it.

Switching off is a moderator's decision only, never automatic: a flooder who pauses for a quiet
period would otherwise get the proof dropped and flood again, while keeping it costs a genuine
signer a few seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from undersign.petitions.models import Petition
from undersign.petitions.services import petition_attack_mode_set
from undersign.signatures.models import Signature, SignatureStatus

# The reason the job gives in the audit trail.
HELD_RATE = "held_rate"


def petitions_attack_mode_switch_on(*, now: datetime | None = None) -> list[int]:
    """Switch attack mode on for every petition not in it whose held signatures submitted in
    the last hour reach ``ATTACK_MODE_HELD_PER_HOUR``; returns their ids. Reads the held
    signatures' partial index only; safe to run concurrently (the switch is a guarded UPDATE)."""
    now = now or timezone.now()
    busy = (
        Signature.objects.filter(
            status=SignatureStatus.HELD,
            created_at__gte=now - timedelta(hours=1),
            petition__attack_mode_since__isnull=True,
        )
        .values("petition_id")
        .annotate(held=Count("pk"))
        .filter(held__gte=settings.ATTACK_MODE_HELD_PER_HOUR)
        .values_list("petition_id", flat=True)
    )
    switched = []
    for petition in Petition.objects.filter(pk__in=list(busy)).order_by("pk"):
        if petition_attack_mode_set(petition=petition, on=True, actor=None, reason=HELD_RATE):
            switched.append(petition.pk)
    return switched
