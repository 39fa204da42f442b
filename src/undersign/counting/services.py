"""Counting's one truth, checked: the set of confirmed, non-revoked signatures, against the
counters and against the transparency log's count rule.

The counters themselves move in the log's integrator (``transparency.services``, through
``petitions.services.petition_counters_apply``): a count changes only when the log does. This
app stands above both and the signatures, so it can compare all three; it repairs counters only
through the petitions app's service, and never the log (append-only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from undersign.core.reference import region_names
from undersign.counting.breakdowns import (
    breakdown_parts,
    snapshot_openers,
    snapshot_publisher,
    snapshot_triggered,
)
from undersign.counting.models import BreakdownSnapshot
from undersign.petitions.models import Petition, RegionCount
from undersign.petitions.services import petition_counters_set
from undersign.signatures.models import Display, Signature
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import LOG_LOCK_KEY


@dataclass(frozen=True)
class CounterDiscrepancy:
    petition_id: int
    region: str | None  # None: the petition's total
    counter: int
    pending: int  # net count change of the entries still pending in the log
    confirmed: int
    logged: int | None = None  # the count rule over the appended log (totals only)
    log_pending: int = 0  # what the pending entries will change in the count rule

    @property
    def expected_counter(self) -> int:
        return self.confirmed - self.pending

    @property
    def log_disagrees(self) -> bool:
        return self.logged is not None and self.logged + self.log_pending != self.confirmed


def counts_reconcile(*, repair: bool) -> list[CounterDiscrepancy]:
    """Check the one truth three ways (docs/architecture.md): each counter, ``COUNT(*)`` of
    confirmed signatures, and the log's count rule over the appended entries, allowing for
    entries still pending; with ``repair``, set wrong counters right. The log itself is never
    repaired — it is append-only — so a disagreement with it is reported for a person to look
    into. Each comparison is one statement, under the integrator's lock on PostgreSQL."""
    sig = connection.ops.quote_name(Signature._meta.db_table)
    log = connection.ops.quote_name(LogEntry._meta.db_table)
    pet = connection.ops.quote_name(Petition._meta.db_table)
    reg = connection.ops.quote_name(RegionCount._meta.db_table)
    k = LogEntryKind
    totals_sql = f"""
        SELECT p.id, p.signature_count,
          (SELECT COALESCE(SUM(q.delta), 0) FROM {log} q WHERE q.petition_id = p.id AND q.leaf_index IS NULL),
          (SELECT COUNT(*) FROM {sig} s WHERE s.petition_id = p.id AND s.status = 'confirmed'),
          (SELECT COALESCE(SUM(CASE q.kind WHEN {k.REVOCATION:d} THEN -1
                                 WHEN {k.SIGNATURE:d} THEN 1 WHEN {k.REINSTATE:d} THEN 1 ELSE 0 END), 0)
             FROM {log} q WHERE q.petition_id = p.id AND q.leaf_index IS NULL),
          (SELECT COUNT(*) FROM {log} e WHERE e.petition_id = p.id AND e.kind = {k.SIGNATURE:d}
             AND e.leaf_index IS NOT NULL
             AND COALESCE((SELECT x.kind FROM {log} x WHERE x.petition_id = e.petition_id
                 AND x.commitment = e.commitment AND x.kind IN ({k.REVOCATION:d}, {k.REINSTATE:d})
                 AND x.leaf_index IS NOT NULL ORDER BY x.leaf_index DESC LIMIT 1), 0) <> {k.REVOCATION:d})
        FROM {pet} p"""  # noqa: S608 - table names and codes are ours
    regions_sql = f"""
        SELECT k.petition_id, k.region,
          COALESCE((SELECT r.signature_count FROM {reg} r
                    WHERE r.petition_id = k.petition_id AND r.region = k.region), 0),
          (SELECT COALESCE(SUM(q.delta), 0) FROM {log} q
            WHERE q.petition_id = k.petition_id AND q.region = k.region AND q.leaf_index IS NULL),
          (SELECT COUNT(*) FROM {sig} s WHERE s.petition_id = k.petition_id
            AND s.region = k.region AND s.status = 'confirmed')
        FROM (SELECT petition_id, region FROM {reg}
              UNION SELECT petition_id, region FROM {sig} WHERE status = 'confirmed') k"""  # noqa: S608
    found: list[CounterDiscrepancy] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The integrator must not move counters between our reading and our repair.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK_KEY])
            cursor.execute(totals_sql)
            for petition_id, counter, pending, confirmed, log_pending, logged in cursor.fetchall():
                item = CounterDiscrepancy(petition_id, None, counter, int(pending), confirmed, logged, int(log_pending))
                if counter + pending != confirmed or item.log_disagrees:
                    found.append(item)
            cursor.execute(regions_sql)
            for petition_id, region, counter, pending, confirmed in cursor.fetchall():
                if counter + pending != confirmed:
                    found.append(CounterDiscrepancy(petition_id, region, counter, int(pending), confirmed))
        if repair:
            for item in found:
                petition_counters_set(petition_id=item.petition_id, region=item.region, count=item.expected_counter)
    return found


# Counters that higher apps keep (verification: verified figures per territory) and check
# themselves: ``check(repair=…)`` returns the differences, one line each, naming no person.
CounterCheck = Callable[..., list[str]]
_counter_checks: dict[str, CounterCheck] = {}


def register_counter_check(name: str, check: CounterCheck) -> None:
    """Let a higher app add its counters to ``reconcile_counts`` (in ``AppConfig.ready``)."""
    _counter_checks[name] = check


def counter_checks_run(*, repair: bool) -> list[str]:
    """Every registered check's differences (repaired with ``repair``)."""
    return [line for check in _counter_checks.values() for line in check(repair=repair)]


# --- breakdown snapshots (counting.breakdowns has the publication rule) ----------------------


# Signers whose region is public whenever their name is: every other display is region-private
# (counted only; a safety-in-numbers group until a snapshot names it: ``Opening``).
PUBLIC_DISPLAYS = frozenset({Display.NAMED, Display.INITIALS})


# Entries that move a signature's counts: its arrival, and its leaving or coming back (a
# withdrawal, an invalidation, a reinstatement), which show in the figures as much as it does.
_COUNT_MOVES = (LogEntryKind.SIGNATURE, LogEntryKind.REVOCATION, LogEntryKind.REINSTATE)


def _private_arrivals(*, petition_id: int, from_size: int, to_size: int, public: frozenset[str]) -> tuple[int, int]:
    """Count moves of region-private signers (any display not in ``public``): those whose log
    entries were appended in [from, to), and those whose entries still wait for the integrator.
    The waiting ones matter because the verified figures (``VerifiedCount``) move inside the
    confirmation (or withdrawal) itself, before its log entry is appended."""
    private = Signature.objects.filter(petition_id=petition_id).exclude(display__in=public).values("pk")
    entries = LogEntry.objects.filter(petition_id=petition_id, kind__in=_COUNT_MOVES, signature_id__in=private)
    appended = entries.filter(leaf_index__gte=from_size, leaf_index__lt=to_size).count()
    return appended, entries.filter(leaf_index__isnull=True).count()


def breakdown_snapshot_take(*, petition_id: int, now: datetime | None = None) -> BreakdownSnapshot | None:
    """Take the petition's next breakdown snapshot if it is due, and return it (None if not
    due). Due: ``BREAKDOWN_SNAPSHOT_MINUTES`` have passed since the last one (or there is none)
    and either at least ``K_ANONYMITY`` region-private signatures or none at all arrived (or
    were revoked or reinstated) in the log since it, counting with them those still waiting
    for the integrator (the periodic job looks
    only at petitions whose log moved, or that a registered trigger names). Region-private:
    counted only, and any display no registered opener makes public at this snapshot
    (verification names a safety-in-numbers group at the first one after its condition holds:
    its members then need no company, and the opener records the reveal if the snapshot is
    taken). The counts are read at the petition's current log
    checkpoint, under the log's lock on PostgreSQL so that the integrator cannot move them
    half-way (on SQLite the one writer does the same)."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK_KEY])
        petition = Petition.objects.filter(pk=petition_id).only("uuid", "counted_at_size").first()
        if petition is None:
            return None
        last = BreakdownSnapshot.objects.filter(petition_id=petition_id).order_by("-sequence").first()
        if last is not None and now - last.taken_at < timedelta(minutes=settings.BREAKDOWN_SNAPSHOT_MINUTES):
            return None
        size = petition.counted_at_size or 0
        openings = [opening for opener in snapshot_openers().values() if (opening := opener(petition, now))]
        public = PUBLIC_DISPLAYS.union(*(opening.displays for opening in openings))
        arrivals, waiting = _private_arrivals(
            petition_id=petition_id, from_size=last.log_size if last else 0, to_size=size, public=public
        )
        # None of them: what changed is the signers' who made their region public (named,
        # initials), so publishing it on schedule singles no one out; a petition signed by named
        # deputies alone still sees its figures move. Some, but fewer than k: wait for company.
        # The same for those waiting to be appended, which the verified figures already hold: a
        # deputy validated by official e-mail a moment before a snapshot of public arrivals only
        # would otherwise move its exact totals under unchanged draws (and name their territory
        # when it had no verified signer). Appended later, they are counted again.
        if 0 < arrivals < settings.K_ANONYMITY or 0 < arrivals + waiting < settings.K_ANONYMITY:
            return None
        sequence = last.sequence + 1 if last else 1
        for opening in openings:
            opening.record(sequence)
        # Fresh noise only when region-private signatures made this snapshot due (breakdowns.py).
        epoch = last.epoch + (1 if arrivals + waiting else 0) if last else 1
        # Every region, always: a row that appears with its first signer names that signer's region.
        counts = dict.fromkeys(region_names(), 0)
        counts.update(RegionCount.objects.filter(petition_id=petition_id).values_list("region", "signature_count"))
        regions = snapshot_publisher(petition_uuid=petition.uuid, epoch=epoch, part="regions")(counts)
        parts = {
            name: collect(petition, snapshot_publisher(petition_uuid=petition.uuid, epoch=epoch, part=name))
            for name, collect in breakdown_parts().items()
        }
        return BreakdownSnapshot.objects.create(
            petition_id=petition_id,
            sequence=sequence,
            epoch=epoch,
            taken_at=now,
            log_size=size,
            regions=regions,
            parts=parts,
        )


def breakdown_snapshots_take_due(*, now: datetime | None = None) -> int:
    """Take every due snapshot of the published petitions (the periodic job); returns how many.
    Only petitions whose log checkpoint moved since their last snapshot are looked at, and
    those a registered trigger names (a group whose condition holds after a validation, which
    moves no log)."""
    now = now or timezone.now()
    triggered = snapshot_triggered()
    last = BreakdownSnapshot.objects.filter(petition=OuterRef("pk")).values("petition")
    candidates = (
        Petition.objects.published()
        .filter(counted_at_size__isnull=False)
        .annotate(
            snapshot_size=Subquery(last.annotate(size=Max("log_size")).values("size")),
            snapshot_at=Subquery(last.annotate(at=Max("taken_at")).values("at")),
        )
        .filter(Q(counted_at_size__gt=Coalesce(F("snapshot_size"), -1)) | Q(pk__in=triggered))
        .filter(
            Q(snapshot_at__isnull=True)
            | Q(snapshot_at__lte=now - timedelta(minutes=settings.BREAKDOWN_SNAPSHOT_MINUTES))
        )
        .values_list("pk", flat=True)
    )
    return sum(1 for petition_id in list(candidates) if breakdown_snapshot_take(petition_id=petition_id, now=now))
