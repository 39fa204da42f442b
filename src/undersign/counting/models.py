from __future__ import annotations

from django.db import models
from django.db.models import Q


class BreakdownSnapshot(models.Model):
    """One published breakdown of a petition: what the public sees per region (and, through
    registered parts, per territory) from ``taken_at`` until the next snapshot. ``regions``
    holds only the published figures (``counting.breakdowns``: a multiple of k, or null when
    suppressed), never the true counts; ``log_size`` is the petition's log checkpoint when it was
    taken, which cuts the lists of named signers (those whose entry was appended before it), so
    the lists move with snapshots only and no name is ever copied here. ``sequence`` numbers a
    petition's snapshots from 1; ``epoch`` keys the snapshot's noise, and moves on only with a
    snapshot that region-private signatures made due (``counting.breakdowns``)."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveIntegerField()
    epoch = models.PositiveIntegerField(default=1)
    taken_at = models.DateTimeField()
    log_size = models.BigIntegerField()
    regions = models.JSONField()
    parts = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "sequence"], name="breakdownsnapshot_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="breakdownsnapshot_sequence_positive"),
            models.CheckConstraint(condition=Q(log_size__gte=0), name="breakdownsnapshot_log_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"breakdown {self.sequence} of petition {self.petition_id}"
