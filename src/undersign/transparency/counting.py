"""The counters a batch of appended entries changes: each petition's total, its per-region and
per-hour counts, and its threshold timestamps — one UPDATE per petition, one upsert per
(petition, region) and per (petition, hour), never a +1 per signature on the petition row that
every reader needs (docs/design.md). Precondition for everything here: the integrator's
transaction is open and it holds the log lock."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest

from undersign.petitions.models import HourlyCount, Petition, RegionCount


@dataclass(frozen=True)
class CountChange:
    petition_id: int
    region: str
    delta: int
    at: datetime


def _upsert_increments(table: str, key_column: str, rows: list[tuple[int, object, int]]) -> None:
    table_q = connection.ops.quote_name(table)
    key_q = connection.ops.quote_name(key_column)
    sql = (
        f'INSERT INTO {table_q} ("petition_id", {key_q}, "signature_count") VALUES (%s, %s, %s) '  # noqa: S608
        f'ON CONFLICT ("petition_id", {key_q}) DO UPDATE '
        f'SET "signature_count" = {table_q}."signature_count" + EXCLUDED."signature_count"'
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def counters_apply(
    *, changes: list[CountChange], petition_ids: set[int], size: int, root_hash: bytes, now: datetime
) -> None:
    """Apply ``changes`` and record, on every petition in ``petition_ids`` (each one with an
    entry in the batch), the checkpoint its count now stands at."""
    per_petition: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    per_region: dict[tuple[int, str], int] = defaultdict(int)
    per_hour: dict[tuple[int, datetime], int] = defaultdict(int)
    for change in changes:
        if not change.delta:
            continue
        per_petition[change.petition_id] += change.delta
        per_region[(change.petition_id, change.region)] += change.delta
        per_hour[(change.petition_id, change.at.replace(minute=0, second=0, microsecond=0))] += change.delta
        if change.delta > 0 and (change.petition_id not in latest or change.at > latest[change.petition_id]):
            latest[change.petition_id] = change.at
    checkpoint = {"counted_at_size": size, "counted_at_root": root_hash, "updated_at": now}
    for petition_id, delta in per_petition.items():
        fields: dict[str, object] = {"signature_count": F("signature_count") + delta, **checkpoint}
        if petition_id in latest:
            fields["last_signed_at"] = Greatest(Coalesce("last_signed_at", latest[petition_id]), latest[petition_id])
        Petition.objects.filter(pk=petition_id).update(**fields)
    # Entries that changed no count (an opening, a closing, changes that cancel out) still
    # move the petition's count to this checkpoint.
    Petition.objects.filter(pk__in=petition_ids - set(per_petition)).update(**checkpoint)
    # A check constraint judges the row proposed for INSERT before ON CONFLICT turns it into an
    # UPDATE, so decrements (whose rows exist already) go through a plain UPDATE.
    _upsert_increments(RegionCount._meta.db_table, "region", [(p, r, d) for (p, r), d in per_region.items() if d > 0])
    for (petition_id, region), delta in per_region.items():
        if delta < 0:
            RegionCount.objects.filter(petition_id=petition_id, region=region).update(
                signature_count=F("signature_count") + delta
            )
    _upsert_increments(HourlyCount._meta.db_table, "hour", [(p, h, d) for (p, h), d in per_hour.items()])
    touched = list(per_petition)
    Petition.objects.filter(
        pk__in=touched, response_threshold_reached_at__isnull=True, signature_count__gte=settings.RESPONSE_THRESHOLD
    ).update(response_threshold_reached_at=now)
    Petition.objects.filter(
        pk__in=touched, debate_threshold_reached_at__isnull=True, signature_count__gte=settings.DEBATE_THRESHOLD
    ).update(debate_threshold_reached_at=now)
