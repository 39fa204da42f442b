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


class LogEntry(models.Model):
    """One entry of the log. Inserted *pending* (``leaf_index`` null) in the transaction that
    causes it — a confirmation, an invalidation, an opening — and given its leaf index by the
    integrator, which also applies ``delta`` to the petition's counters in that transaction:
    counts move only when the log does. ``body`` is the published entry; ``signature_id``,
    ``region`` and ``created_at`` stay here and feed the private counters (per region, per hour)
    only. ``signature_id`` names a row of ``signatures`` (an app above the log) by id, without a
    foreign key. An appended row's published part (``body``, ``leaf_index``) never changes; its
    ``created_at`` is rounded to the UTC day in the batch that appends it, once the counts per
    hour no longer need it (see ``log_integrate_batch``)."""

    kind = models.PositiveSmallIntegerField(choices=LogEntryKind.choices)
    petition = models.ForeignKey("petitions.Petition", on_delete=models.PROTECT, related_name="+")
    signature_id = models.BigIntegerField(null=True, db_index=True)
    commitment = models.BinaryField(max_length=32, null=True)
    body = models.BinaryField()
    region = models.CharField(max_length=16, blank=True)
    delta = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField()
    leaf_index = models.BigIntegerField(null=True, unique=True)

    class Meta:
        constraints = [
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
        ]

    def __str__(self) -> str:
        where = "pending" if self.leaf_index is None else f"#{self.leaf_index}"
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


class WitnessProblem(models.TextChoices):
    """Why the last submission to a witness failed: a short code, never the witness's words.
    ``AHEAD`` and ``FORK`` are conflicts: the witness holds a view of the log that ours does not
    extend, which no retry mends (docs/transparency.md, "Witnesses")."""

    NONE = "", "none"
    UNREACHABLE = "unreachable", "unreachable or timed out"
    UNKNOWN_LOG = "unknown-log", "the witness does not follow this log (404)"
    BAD_SIGNATURE = "bad-signature", "the witness does not accept the log's key (403)"
    REFUSED = "refused", "refused for another reason"
    BAD_COSIGNATURE = "bad-cosignature", "its cosignature does not verify under the configured key"
    AHEAD = "ahead", "conflict: the witness has cosigned a larger tree than ours"
    FORK = "fork", "conflict: the witness has cosigned another tree"


CONFLICTS = (WitnessProblem.AHEAD, WitnessProblem.FORK)


class LogWitness(models.Model):
    """A witness of ``LOG_WITNESSES`` and what the site knows of it, shared by every host: the
    checkpoint it last cosigned for us (size, root, and the time in its newest cosignature we
    hold), when we last tried and last succeeded, and why the last try failed. ``vkey`` is the
    key this state belongs to: a witness given a new key starts afresh. ``lease_until`` and
    ``lease_token`` let one worker at a time talk to the witness without holding a
    transaction (and SQLite's one write lock) across the network."""

    name = models.CharField(max_length=255, unique=True)
    vkey = models.CharField(max_length=512)
    cosigned_size = models.BigIntegerField(null=True)
    cosigned_root = models.BinaryField(max_length=32, null=True)
    cosigned_at = models.DateTimeField(null=True)
    last_attempt_at = models.DateTimeField(null=True)
    last_success_at = models.DateTimeField(null=True)
    last_error = models.CharField(max_length=16, choices=WitnessProblem.choices, blank=True, default="")
    lease_until = models.DateTimeField(null=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cosigned_size__isnull=True, cosigned_root__isnull=True, cosigned_at__isnull=True)
                | Q(cosigned_size__gte=0, cosigned_root__isnull=False, cosigned_at__isnull=False),
                name="logwitness_cosigned_together",
            ),
            models.CheckConstraint(
                condition=Q(last_error__in=WitnessProblem.values), name="logwitness_last_error_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LogCosignature(models.Model):
    """A witness's newest cosignature (c2sp.org/tlog-cosignature) on the checkpoint of size
    ``checkpoint_size``, checked against the witness's key before it was stored: ``line`` is the
    signature line served after the log's own on ``/log/checkpoint``, ``cosigned_at`` the time
    it carries. A later cosignature of the same checkpoint (a refresh) replaces it."""

    witness = models.ForeignKey(LogWitness, on_delete=models.CASCADE, related_name="cosignatures")
    checkpoint_size = models.BigIntegerField()
    line = models.TextField()
    cosigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["witness", "checkpoint_size"], name="logcosignature_one_per_checkpoint"),
            models.CheckConstraint(condition=Q(checkpoint_size__gte=0), name="logcosignature_size_not_negative"),
        ]
        indexes = [models.Index(fields=["checkpoint_size"], name="logcosignature_by_size")]

    def __str__(self) -> str:
        return f"cosignature by {self.witness_id} of checkpoint {self.checkpoint_size}"
