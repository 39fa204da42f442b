"""The transparency log's storage: entries (pending, then appended), tiles and checkpoints.

The formats are those of ``undersign_verify`` (docs/transparency.md); these tables only keep
them. Work per integrator batch is proportional to the batch plus the tree's height: it reads
and writes the right edge of the tiles, never the whole log.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from undersign_verify.entries import EntryType


class LogEntryKind(models.IntegerChoices):
    OPENED = EntryType.OPENED, pgettext_lazy("log entry kind", "Opened")
    SIGNATURE = EntryType.SIGNATURE, pgettext_lazy("log entry kind", "Signature")
    REVOCATION = EntryType.REVOCATION, pgettext_lazy("log entry kind", "Revocation")
    REINSTATE = EntryType.REINSTATE, pgettext_lazy("log entry kind", "Reinstatement")
    CLOSED = EntryType.CLOSED, pgettext_lazy("log entry kind", "Closed")
    DECISION = EntryType.DECISION, pgettext_lazy("log entry kind", "Verification decision")


class LogEntry(models.Model):
    """One entry of the log. Inserted *pending* (``leaf_index`` null) in the transaction that
    causes it — a confirmation, an invalidation, an opening — and given its leaf index by the
    integrator, which also applies ``delta`` to the petition's counters in that transaction:
    counts move only when the log does. ``body`` is the published entry; ``signature_id``,
    ``region`` and ``created_at`` stay here and feed the private counters (per region, per hour)
    only. ``signature_id`` names a row of ``signatures`` (an app above the log) by id, without a
    foreign key. An appended row's published part (``body``, ``leaf_index``) never changes; its
    ``created_at`` is rounded to the UTC day in the batch that appends it, once the counts per
    hour no longer need it (see ``log_integrate_batch``).

    A DECISION (a verification decision on a registry-only petition's claim) is inserted
    *held* instead: the integrator leaves it alone until the petition's next breakdown snapshot
    releases it (``log_decisions_release``), so that its place in the log dates the snapshot,
    not the decision. Its ``created_at`` is the day, and it has no ``signature_id``."""

    kind = models.PositiveSmallIntegerField(choices=LogEntryKind.choices)
    petition = models.ForeignKey("petitions.Petition", on_delete=models.PROTECT, related_name="+")
    signature_id = models.BigIntegerField(null=True, db_index=True)
    commitment = models.BinaryField(max_length=32, null=True)
    body = models.BinaryField()
    region = models.CharField(max_length=16, blank=True)
    delta = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField()
    leaf_index = models.BigIntegerField(null=True, unique=True)
    held = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Only a decision waits for a snapshot, and only before it is appended.
            models.CheckConstraint(
                condition=Q(held=False) | Q(kind=LogEntryKind.DECISION, leaf_index__isnull=True),
                name="logentry_only_pending_decisions_held",
            ),
            models.CheckConstraint(condition=Q(delta__in=[-1, 0, 1]), name="logentry_unit_delta"),
            models.CheckConstraint(condition=Q(kind__in=LogEntryKind.values), name="logentry_kind_valid"),
            models.CheckConstraint(condition=Q(leaf_index__gte=0), name="logentry_index_not_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=[LogEntryKind.OPENED, LogEntryKind.CLOSED]) | Q(commitment__isnull=False),
                name="logentry_signature_types_have_commitment",
            ),
            # One CLOSED per petition, ever: the integrator decides once.
            models.UniqueConstraint(
                fields=["petition"], condition=Q(kind=LogEntryKind.CLOSED), name="logentry_one_closed"
            ),
        ]
        indexes = [
            models.Index(fields=["id"], condition=Q(leaf_index__isnull=True), name="logentry_pending"),
            models.Index(fields=["commitment"], name="logentry_by_commitment"),
            models.Index(fields=["petition", "kind"], name="logentry_by_petition"),
            models.Index(fields=["petition"], condition=Q(held=True), name="logentry_held"),
        ]

    def __str__(self) -> str:
        where = "held" if self.held else "pending" if self.leaf_index is None else f"#{self.leaf_index}"
        return f"{LogEntryKind(self.kind).label} for petition {self.petition_id} ({where})"


class LogTile(models.Model):
    """A tile as c2sp.org/tlog-tiles serves it: ``level`` 0.. for hash tiles, -1 for entry
    bundles. A row grows while its tile is partial and is never written again once full
    (256 hashes or entries); every partial width is a prefix of the row, so served from it."""

    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="logtile_unique"),
            models.CheckConstraint(condition=Q(level__gte=-1, level__lte=63), name="logtile_level_valid"),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class LogCheckpoint(models.Model):
    """A signed checkpoint (c2sp.org/tlog-checkpoint in a signed note). Unique per size: the
    database itself refuses a second, different root for a size already signed — the fork a
    verifier's saved state would catch later is refused here first."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="logcheckpoint_size_not_negative")]

    def __str__(self) -> str:
        return f"checkpoint at size {self.size}"


class LogName(models.Model):
    """A name of the log: its origin, the first line of every checkpoint and the name of its
    signing key (c2sp.org/tlog-checkpoint), which verifiers pin. The first row (generation 1)
    is written the first time the log is signed or published, from ``LOG_ORIGIN`` or the site's
    host, and is never changed by a later change of address. A row is never updated: a
    deliberate rename (a compromised key, docs/deployment.md) adds the next generation, and the
    newest generation names the log."""

    generation = models.PositiveIntegerField(unique=True)
    origin = models.CharField(max_length=255, unique=True)
    named_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(generation__gte=1), name="logname_generation_positive")]

    def __str__(self) -> str:
        return self.origin
