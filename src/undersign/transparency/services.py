"""Writes to the transparency log: pending entries, and the integrator that appends them.

Callers insert a pending entry in the transaction that causes it (one INSERT: the confirm path's
budget). The integrator — one at a time, under an advisory lock on PostgreSQL and SQLite's
single writer otherwise — takes pending entries in batches, shuffles each batch so that leaf
order does not replay confirmation order, appends them, stores the tiles it changed, signs a
checkpoint, and applies the entries' count changes in the same transaction: a count moves only
when the log does, and the petition records the checkpoint it was counted at.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import TruncDay
from django.utils import timezone

from undersign.core.errors import Refusal
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import CountChange, petition_counters_apply
from undersign.transparency.high_water import (
    IntegrationRefused,
    high_water_check,
    high_water_record,
    refusal_clear,
    refusal_report,
)
from undersign.transparency.keys import log_origin_store, log_signer
from undersign.transparency.models import LogCheckpoint, LogEntry, LogEntryKind, LogName, LogTile
from undersign.transparency.signals import signatures_too_late
from undersign_verify.entries import DecisionOutcome, Entry, EntryType, RevocationReason, petition_text_digest
from undersign_verify.merkle import EMPTY_ROOT, leaf_hash
from undersign_verify.note import Checkpoint, NoteError, check_name
from undersign_verify.tiles import ENTRIES, TILE_WIDTH, TileSet, decode_bundle, encode_bundle

S = PetitionState
K = LogEntryKind
LOG_LOCK_KEY = 0x756E6473_00000001  # "unds" + job 1: the one integrator
_random = secrets.SystemRandom()

# Invalidation reasons (``signatures.Signature.invalidation_reason``) as the log's reason codes; any other
# reason is logged as OTHER. The log says why in a code, never in words that could name anyone.
REVOCATION_REASONS = {
    "fraud": RevocationReason.FRAUD,
    "withdrawn": RevocationReason.WITHDRAWN,
    "claim_rejected": RevocationReason.CLAIM_REJECTED,
    "confirmed_too_late": RevocationReason.CONFIRMED_TOO_LATE,
}


# --- pending entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedSignature:
    """What the log keeps of a signature beside its public entry: which row it is (to tell the
    signatures app which ones came too late) and its region (for the private per-region
    counters). The log knows no signature model: ``signatures`` stands above it."""

    petition_id: int
    petition_uuid: uuid.UUID
    signature_id: int
    region: str


def _pending(*, kind: int, petition_id: int, entry: Entry, now: datetime, **fields: object) -> LogEntry:
    return LogEntry.objects.create(kind=kind, petition_id=petition_id, body=entry.encode(), created_at=now, **fields)


def _signature_entry_add(*, kind: int, signature: LoggedSignature, entry: Entry, delta: int, now: datetime) -> None:
    _pending(
        kind=kind,
        petition_id=signature.petition_id,
        entry=entry,
        now=now,
        signature_id=signature.signature_id,
        commitment=entry.digest,
        region=signature.region,
        delta=delta,
    )


def log_signature_add(*, signature: LoggedSignature, commitment: bytes, now: datetime) -> None:
    """Queue the SIGNATURE entry of a signature just confirmed (+1 when appended).
    Precondition: in the confirming transaction."""
    entry = Entry(EntryType.SIGNATURE, signature.petition_uuid, commitment)
    _signature_entry_add(kind=K.SIGNATURE, signature=signature, entry=entry, delta=1, now=now)


def log_revocation_add(*, signature: LoggedSignature, commitment: bytes, reason: str, now: datetime) -> None:
    """Queue the REVOCATION of a counted signature (-1 when appended). Precondition: in the
    invalidating transaction, the signature's row locked."""
    code = REVOCATION_REASONS.get(reason, RevocationReason.OTHER)
    entry = Entry(EntryType.REVOCATION, signature.petition_uuid, commitment, code)
    _signature_entry_add(kind=K.REVOCATION, signature=signature, entry=entry, delta=-1, now=now)


def log_reinstate_add(*, signature: LoggedSignature, commitment: bytes, now: datetime) -> None:
    """Queue the REINSTATE of a revoked signature (+1 when appended). Precondition: as above."""
    entry = Entry(EntryType.REINSTATE, signature.petition_uuid, commitment)
    _signature_entry_add(kind=K.REINSTATE, signature=signature, entry=entry, delta=1, now=now)


@dataclass(frozen=True)
class Decision:
    """A verification decision as the log records it (``EntryType.DECISION``): the claimed
    signature's commitment, the outcome, and on a validation the member tag and the registry
    (its digest, or b"" where the registry is not named)."""

    petition_id: int
    petition_uuid: uuid.UUID
    commitment: bytes
    outcome: DecisionOutcome
    member_tag: bytes = b""
    registry: bytes = b""


def log_decision_hold(*, decision: Decision, now: datetime) -> None:
    """Queue a DECISION entry, held until the petition's next breakdown snapshot releases it
    (``log_decisions_release``): appended at once, it would date the decision, and a per-city
    registry's decision next to the snapshot's per-territory figures would name the city.
    Precondition: in the deciding transaction, the claim locked."""
    entry = Entry(
        EntryType.DECISION,
        decision.petition_uuid,
        decision.commitment,
        outcome=decision.outcome,
        member_tag=decision.member_tag,
        registry=decision.registry,
    )
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    _pending(
        kind=K.DECISION, petition_id=decision.petition_id, entry=entry, now=day, commitment=entry.digest, held=True
    )


def log_decisions_release(*, petition_id: int) -> int:
    """Hand the petition's held DECISION entries to the integrator, which appends them in its
    next batch, shuffled with the batch's other status entries (each claim's decisions kept in
    the order they were taken). Called in the transaction of the petition's breakdown snapshot,
    which publishes the figures those decisions moved. One guarded UPDATE: running it twice,
    or in two transactions at once, releases each entry once. Returns how many it released."""
    return LogEntry.objects.filter(petition_id=petition_id, held=True).update(held=False)


def log_opened_add(*, petition: Petition) -> None:
    """Queue the OPENED entry, with the digest of the text as published. Precondition: in the
    transaction that opens the petition."""
    digest = petition_text_digest(petition.action, petition.background, petition.additional_details)
    _pending(
        kind=K.OPENED, petition_id=petition.pk, entry=Entry(EntryType.OPENED, petition.uuid, digest), now=timezone.now()
    )


# --- the integrator -------------------------------------------------------------------------


def _try_log_lock() -> bool:
    """Only one integrator at a time: two would each append the same size and the second
    checkpoint would be refused (and two counting jobs once double-counted on the UK's site).
    On SQLite the single writer (BEGIN IMMEDIATE) already serialises it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOG_LOCK_KEY])
        return bool(cursor.fetchone()[0])


# Entries that name an earlier signature by its commitment.
_STATUS_KINDS = (K.REVOCATION, K.REINSTATE, K.DECISION)


def _order(batch: list[dict]) -> list[dict]:
    """Shuffle the batch, then put openings and signatures first, status changes and decisions
    after them (each commitment's own changes kept in the order they happened, so a revocation
    never precedes the signature it names nor a reinstatement the revocation, nor a reversal
    the decision it reverses), closings last."""
    firsts = [e for e in batch if e["kind"] in (K.OPENED, K.SIGNATURE)]
    _random.shuffle(firsts)
    by_commitment: dict[bytes, list[dict]] = defaultdict(list)
    for e in batch:  # batch is in insertion order
        if e["kind"] in _STATUS_KINDS:
            by_commitment[bytes(e["commitment"])].append(e)
    slots = [c for c, changes in by_commitment.items() for _ in changes]
    _random.shuffle(slots)
    statuses = [by_commitment[c].pop(0) for c in slots]
    closings = [e for e in batch if e["kind"] == K.CLOSED]
    return firsts + statuses + closings


def _closings_due(now: datetime, pending_petitions: set[int]) -> list[dict]:
    """CLOSED entries for petitions whose confirmation grace has ended (or that were taken down
    after opening), once none of their signatures is still pending. Inserted here, under the
    lock, so that no SIGNATURE can be appended after them in this or a later batch."""
    grace_end = now - timedelta(hours=settings.CONFIRMATION_GRACE_HOURS)
    closed = LogEntry.objects.filter(kind=K.CLOSED).values("petition_id")
    opened = LogEntry.objects.filter(kind=K.OPENED).values("petition_id")
    due = (
        Petition.objects.filter(state=S.CLOSED, closing_date__lte=grace_end)
        | Petition.objects.rejected().filter(pk__in=opened)
    ).exclude(pk__in=closed)
    rows = []
    for petition_id, petition_uuid in due.values_list("pk", "uuid"):
        if petition_id in pending_petitions:
            continue  # its last signatures first; the next batch closes it
        entry = _pending(kind=K.CLOSED, petition_id=petition_id, entry=Entry(EntryType.CLOSED, petition_uuid), now=now)
        rows.append(_row(entry))
    return rows


_FIELDS = ("pk", "kind", "petition_id", "signature_id", "commitment", "body", "region", "delta", "created_at")


def _row(entry: LogEntry) -> dict:
    return {name: getattr(entry, name) for name in _FIELDS}


def _drop_late_signatures(batch: list[dict], now: datetime) -> list[dict]:
    """A confirmation that committed after its petition's CLOSED entry (it passed the grace
    check a moment before the end) cannot follow it in the log: its pending entry, never
    appended, is dropped, and the signatures app, told through ``signatures_too_late``,
    invalidates the signature as confirmed too late. Any status entry queued for it meanwhile
    (its signer withdrew it at once, say) goes too: a REVOCATION of a signature the log never
    held would break the count rule and take one off the counter for nothing. It is deleted
    after the signal, whose UPDATE waits for a withdrawal still holding the signature's row, so
    that withdrawal's entry is committed by then; a later one finds the signature invalidated
    and queues nothing."""
    candidates = {e["petition_id"] for e in batch if e["kind"] == K.SIGNATURE}
    if not candidates:
        return batch
    closed = set(
        LogEntry.objects.filter(kind=K.CLOSED, petition_id__in=candidates, leaf_index__isnull=False).values_list(
            "petition_id", flat=True
        )
    )
    late = [e for e in batch if e["kind"] == K.SIGNATURE and e["petition_id"] in closed]
    if not late:
        return batch
    signatures_too_late.send(sender=LogEntry, signature_ids=[e["signature_id"] for e in late], now=now)
    statuses = LogEntry.objects.filter(
        leaf_index__isnull=True,
        kind__in=[K.REVOCATION, K.REINSTATE],
        signature_id__in=[e["signature_id"] for e in late],
    )
    decisions = LogEntry.objects.filter(
        leaf_index__isnull=True,
        kind=K.DECISION,
        petition_id__in={e["petition_id"] for e in late},
        commitment__in=[e["commitment"] for e in late],
    )
    dropped = {e["pk"] for e in late} | set(statuses.values_list("pk", flat=True))
    dropped |= set(decisions.values_list("pk", flat=True))
    LogEntry.objects.filter(pk__in=dropped).delete()
    return [e for e in batch if e["pk"] not in dropped]


def _append(size: int, entries: list[bytes]) -> tuple[int, bytes]:
    """Append to the stored tiles and entry bundles; returns the new size and root. Reads and
    writes only the right edge: the partial tile of each level, the partial entry bundle."""
    edge_keys = [(level, (size >> (8 * level)) // TILE_WIDTH) for level in range((size.bit_length() + 7) // 8 + 1)]
    stored = {
        (level, index): bytes(data)
        for level, index, data in LogTile.objects.filter(level__gte=0, index__in=[i for _, i in edge_keys]).values_list(
            "level", "index", "data"
        )
        if (level, index) in edge_keys
    }
    tileset = TileSet.from_edge(size, lambda level, index: stored[(level, index)])
    bundle_index = size // TILE_WIDTH
    bundle: list[bytes] = []
    if size % TILE_WIDTH:
        row = LogTile.objects.filter(level=ENTRIES, index=bundle_index).values_list("data", flat=True).first()
        bundle = decode_bundle(bytes(row or b""))[: size % TILE_WIDTH]
    bundles: dict[int, list[bytes]] = {}
    for entry in entries:
        tileset.append(leaf_hash(entry))
        bundle.append(entry)
        bundles[bundle_index] = bundle
        if len(bundle) == TILE_WIDTH:
            bundle_index, bundle = bundle_index + 1, []
    changed = [LogTile(level=level, index=index, data=b"".join(h)) for (level, index), h in tileset.touched.items()]
    changed += [LogTile(level=ENTRIES, index=index, data=encode_bundle(b)) for index, b in bundles.items()]
    LogTile.objects.bulk_create(
        changed, update_conflicts=True, unique_fields=["level", "index"], update_fields=["data"], batch_size=500
    )
    return tileset.size, tileset.root()


def _sign(size: int, root_hash: bytes, now: datetime) -> LogCheckpoint:
    signer = log_signer()
    note = signer.sign(Checkpoint(signer.name, size, root_hash).text())
    return LogCheckpoint.objects.create(size=size, root_hash=root_hash, note=note, created_at=now)


def _set_leaf_indexes(ordered: list[dict], first: int) -> None:
    """One statement for the whole batch on PostgreSQL (Django's ``bulk_update`` builds a CASE
    per row and took 90% of a 5,000-entry batch); on SQLite, in-process, executemany is cheap."""
    table = connection.ops.quote_name(LogEntry._meta.db_table)
    ids = [e["pk"] for e in ordered]
    indexes = list(range(first, first + len(ordered)))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'UPDATE {table} SET "leaf_index" = v.leaf_index '  # noqa: S608 - the table name is ours
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS leaf_index) v "
                f'WHERE {table}."id" = v.id',
                [ids, indexes],
            )
        else:
            cursor.executemany(
                f'UPDATE {table} SET "leaf_index" = %s WHERE "id" = %s',  # noqa: S608 - the table name is ours
                list(zip(indexes, ids, strict=True)),
            )


def log_integrate_batch(*, limit: int | None = None) -> int:
    """Append up to ``limit`` pending entries (``LOG_BATCH_SIZE`` by default), sign a
    checkpoint, apply the count changes. Returns how many entries were appended (0 if another
    integrator holds the lock or nothing is pending). Raises ``IntegrationRefused``, signing
    nothing, when the database's log does not extend the largest checkpoint already signed
    (``transparency.high_water``: a restore from an older backup)."""
    try:
        appended = _integrate_batch(limit=limit or settings.LOG_BATCH_SIZE)
    except IntegrationRefused as refusal:
        refusal_report(refusal)
        raise
    refusal_clear()
    return appended


def _latest_checkpoint() -> tuple[int, bytes]:
    row = LogCheckpoint.objects.order_by("-size").values_list("size", "root_hash").first()
    return (row[0], bytes(row[1])) if row else (0, EMPTY_ROOT)


def _integrate_batch(*, limit: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        if not _try_log_lock():
            return 0
        # Under the lock, before anything is appended: this database's log must extend every
        # checkpoint already signed.
        latest, latest_root = _latest_checkpoint()
        high_water_check(size=latest, root_hash=latest_root)
        batch = list(
            LogEntry.objects.select_for_update(skip_locked=True)
            .filter(leaf_index__isnull=True, held=False)
            .order_by("pk")
            .values(*_FIELDS)[:limit]
        )
        # Signatures still waiting beyond this batch hold their petition's CLOSED back. Rows
        # not yet committed are invisible here; if one commits after CLOSED it is dropped as
        # late (``_drop_late_signatures``) in a later batch.
        still_pending: set[int] = set()
        if len(batch) == limit:
            still_pending = set(
                LogEntry.objects.filter(leaf_index__isnull=True, kind=K.SIGNATURE, pk__gt=batch[-1]["pk"])
                .values_list("petition_id", flat=True)
                .distinct()
            )
        batch = _drop_late_signatures(batch, now)
        batch += _closings_due(now, still_pending)
        if not batch:
            return 0
        ordered = _order(batch)
        size, root_hash = _append(latest, [bytes(e["body"]) for e in ordered])
        _set_leaf_indexes(ordered, latest)
        _sign(size, root_hash, now)
        petition_counters_apply(
            changes=[CountChange(e["petition_id"], e["region"], e["delta"], e["created_at"]) for e in ordered],
            petition_ids={e["petition_id"] for e in ordered},
            size=size,
            root_hash=root_hash,
            now=now,
        )
        _forget_entry_times(first=latest, size=size)
        # Last, inside the transaction: a crash may leave the file ahead of the database (the
        # next run refuses and says so), never behind a checkpoint that was served.
        high_water_record(previous_size=latest, previous_root_hash=latest_root, size=size, root_hash=root_hash)
    return len(ordered)


def _forget_entry_times(*, first: int, size: int) -> None:
    """Round the private ``created_at`` of the entries just appended to their UTC day: the
    counters per hour have been applied, nothing reads it again, and an exact confirmation
    time beside a signature's id would let a dump matched against a mail provider's delivery
    times single out whose signature it is."""
    LogEntry.objects.filter(leaf_index__gte=first, leaf_index__lt=size).update(
        created_at=TruncDay("created_at", tzinfo=UTC)
    )


def log_integrate_all() -> int:
    """Integrate until nothing is pending (the periodic job, and tests)."""
    total = 0
    while appended := log_integrate_batch():
        total += appended
    return total


def log_integrate_periodic() -> int:
    """The periodic job (Celery beat and the embedded runner): integrate until nothing is
    pending. A refusal is not raised again every tick, which would only repeat it in the logs
    each second: it was logged once, and the health endpoint shows it."""
    try:
        return log_integrate_all()
    except IntegrationRefused:
        return 0


class LogRenameRefused(Refusal):
    pass


@transaction.atomic
def log_rename(*, origin: str) -> LogName:
    """Name the log ``origin`` from now on: the next checkpoint is signed under it. For a
    compromised signing key only (docs/deployment.md), together with the new key, since
    verifiers pin the name with the key. A name the log has had is never taken again, so
    nothing signed under an old name can pass for the new one."""
    try:
        check_name(origin)
    except NoteError as error:
        raise LogRenameRefused(str(error)) from None
    log_origin_store()  # a log never named yet keeps its first name in the history
    if LogName.objects.filter(origin=origin).exists():
        raise LogRenameRefused(f"the log has already been named {origin!r}: choose a name it never had")
    latest = LogName.objects.order_by("-generation").values_list("generation", flat=True).first() or 0
    # A concurrent rename fails on the unique generation rather than fork the name.
    return LogName.objects.create(origin=origin, generation=latest + 1, named_at=timezone.now())
