"""Counting's one truth, checked: the set of confirmed, non-revoked signatures, against the
counters and against the transparency log's count rule.

The counters themselves move in the log's integrator (``transparency.services``, through
``petitions.services.petition_counters_apply``): a count changes only when the log does. This
app stands above both and the signatures, so it can compare all three; it repairs counters only
through the petitions app's service, and never the log (append-only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from undersign.petitions.models import Petition, RegionCount
from undersign.petitions.services import petition_counters_set
from undersign.signatures.models import Signature
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
