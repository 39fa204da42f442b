"""Writes to signatures: signing, confirming, invalidating, unsubscribing, and the count job.

The signing path is the hot path (docs/design.md): a sign request does one INSERT of the
signature (``ON CONFLICT DO NOTHING`` on the dedup tag) and one INSERT into the outbox; a
confirmation one guarded UPDATE and one INSERT into the count queue. Everything else is batched.
"""

from __future__ import annotations

import enum
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from undersign.core.crypto import dedup_tag, seal, token_digest
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.petitions.models import SPONSORABLE_STATES, Petition, PetitionState
from undersign.petitions.services import notify_creator, petition_mark_sponsored, petition_validate
from undersign.signatures.models import (
    CountQueue,
    Display,
    Signature,
    SignatureKind,
    SignatureStatus,
)

S = PetitionState
COUNT_LOCK_KEY = 0x756E6473_00000001  # "unds" + job 1: the one count job at a time


class SigningRefused(Exception):
    """The petition does not take this signature now; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidLink(Exception):
    """A confirmation link that is unknown, tampered with, replaced or expired."""


class SignOutcome(enum.Enum):
    CREATED = "created"
    REPLACED = "replaced"  # a pending signature's data replaced, a fresh link sent
    ALREADY_SIGNED = "already_signed"


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"


@dataclass(frozen=True)
class SignerDetails:
    name: str
    email: str
    region: str
    display: str = Display.COUNTED
    notify_updates: bool = False
    ip_address: str | None = None


def pii_context(tag: bytes, field: str) -> bytes:
    """Associated data binding a sealed value to its signature (via the unique dedup tag) and
    field, so sealed values cannot be swapped between rows or columns."""
    return b"undersign/pii/v1\x00" + tag + b"\x00" + field.encode("ascii")


def check_can_sign(petition: Petition, kind: str, *, now: datetime | None = None) -> None:
    """Raise ``SigningRefused`` unless ``petition`` takes a new signature of ``kind``."""
    now = now or timezone.now()
    if kind == SignatureKind.CREATOR:
        if petition.state != S.PENDING:
            raise SigningRefused("This petition already has its creator.")
        return
    if petition.state == S.OPEN:
        if petition.closing_date is not None and now >= petition.closing_date:
            raise SigningRefused("This petition has closed. It is no longer collecting signatures.")
        return
    if kind == SignatureKind.SPONSOR and petition.state in SPONSORABLE_STATES:
        return
    if petition.state == S.CLOSED:
        raise SigningRefused("This petition has closed. It is no longer collecting signatures.")
    if petition.state in (S.REJECTED, S.HIDDEN):
        raise SigningRefused("This petition was rejected. It cannot be signed.")
    raise SigningRefused("This petition is not open for signatures yet.")


def check_can_confirm(petition: Petition, signature: Signature, *, now: datetime | None = None) -> None:
    """Confirmation follows signing, with ``CONFIRMATION_GRACE_HOURS`` after the closing date so
    that people who signed in the last minutes are not lost to a slow mailbox."""
    now = now or timezone.now()
    if signature.kind == SignatureKind.CREATOR and petition.state == S.PENDING:
        return
    if signature.kind == SignatureKind.SPONSOR and petition.state in SPONSORABLE_STATES:
        return
    if petition.state in (S.OPEN, S.CLOSED) and petition.closing_date is not None:
        if now < petition.closing_date + timedelta(hours=settings.CONFIRMATION_GRACE_HOURS):
            return
        raise SigningRefused("This petition has closed, and the time to confirm signatures has passed.")
    if petition.state in (S.REJECTED, S.HIDDEN):
        raise SigningRefused("This petition was rejected. Signatures can no longer be confirmed.")
    raise SigningRefused("This petition is not open for signatures yet.")


_INSERT_COLUMNS = (
    "petition_id",
    "kind",
    "status",
    "dedup_tag",
    "name_sealed",
    "email_sealed",
    "ip_sealed",
    "region",
    "display",
    "notify_updates",
    "created_at",
    "updated_at",
    "invalidation_reason",
)


def _insert_signature(values: dict[str, object]) -> int | None:
    """One INSERT that yields to an existing signature by the same person instead of failing:
    no savepoint, no second round trip on the common path."""
    table = connection.ops.quote_name(Signature._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    fields = {f.column: f for f in Signature._meta.concrete_fields}
    params = [fields[c].get_db_prep_save(values[c], connection) for c in _INSERT_COLUMNS]
    placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names are ours
        'ON CONFLICT ("petition_id", "dedup_tag") DO NOTHING RETURNING "id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def signature_create(
    *, petition: Petition, details: SignerDetails, kind: str = SignatureKind.SIGNER
) -> tuple[SignOutcome, int]:
    """Record a pending signature and queue its confirmation e-mail.

    Same person (by dedup tag) still pending: their data is replaced and a fresh link sent, the
    old one stops working, so whoever typed someone else's address first cannot choose what the
    owner later confirms. Already confirmed: a "you already signed" e-mail instead. The outcome
    is for e-mails and tests only: the signer sees the same page whatever it is.
    Precondition: ``check_can_sign(petition, kind)`` passed.
    """
    tag = dedup_tag(petition.uuid, details.email)
    key_id = petition.data_key_id
    now = timezone.now()
    sealed = {
        "name_sealed": seal(key_id, details.name, context=pii_context(tag, "name")),
        "email_sealed": seal(key_id, details.email, context=pii_context(tag, "email")),
        "ip_sealed": (seal(key_id, details.ip_address, context=pii_context(tag, "ip")) if details.ip_address else None),
    }
    with transaction.atomic():
        signature_id = _insert_signature(
            {
                "petition_id": petition.pk,
                "kind": kind,
                "status": SignatureStatus.PENDING,
                "dedup_tag": tag,
                **sealed,
                "region": details.region,
                "display": details.display,
                "notify_updates": details.notify_updates,
                "created_at": now,
                "updated_at": now,
                "invalidation_reason": "",
            }
        )
        if signature_id is not None:
            outbox_add(kind=OutboundEmail.Kind.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=signature_id)
            return SignOutcome.CREATED, signature_id

        existing = Signature.objects.select_for_update().get(petition=petition, dedup_tag=tag)
        if existing.status != SignatureStatus.PENDING:
            outbox_add(kind=OutboundEmail.Kind.ALREADY_SIGNED, petition_id=petition.pk, signature_id=existing.pk)
            return SignOutcome.ALREADY_SIGNED, existing.pk
        # A creator stays the creator; a signer who comes back through the sponsor link sponsors.
        new_kind = existing.kind if existing.kind == SignatureKind.CREATOR else kind
        Signature.objects.filter(pk=existing.pk, status=SignatureStatus.PENDING).update(
            kind=new_kind,
            region=details.region,
            display=details.display,
            notify_updates=details.notify_updates,
            token_digest=None,
            token_sent_at=None,
            updated_at=now,
            unsubscribed_at=None,
            **sealed,
        )
        outbox_add(kind=OutboundEmail.Kind.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=existing.pk)
        return SignOutcome.REPLACED, existing.pk


def signature_for_link(*, signature_id: int, token: str) -> Signature:
    """The signature an e-mailed confirmation link names, if the link is still good."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.token_digest is None:
        raise InvalidLink
    if not hmac.compare_digest(bytes(signature.token_digest), token_digest(token)):
        raise InvalidLink
    if signature.status == SignatureStatus.INVALIDATED:
        raise InvalidLink
    if signature.status == SignatureStatus.PENDING and signature.token_sent_at is not None:
        if timezone.now() > signature.token_sent_at + timedelta(days=settings.CONFIRMATION_LINK_DAYS):
            raise InvalidLink
    return signature


def signature_confirm(*, signature_id: int, token: str) -> tuple[ConfirmOutcome, Signature]:
    """Confirm through an e-mailed link. Idempotent: confirming twice changes nothing.
    Raises ``InvalidLink`` or ``SigningRefused``."""
    from undersign.verification.services import claim_on_signature_confirmed  # it imports this module

    signature = signature_for_link(signature_id=signature_id, token=token)
    if signature.status == SignatureStatus.CONFIRMED:
        return ConfirmOutcome.ALREADY_CONFIRMED, signature
    petition = signature.petition
    check_can_confirm(petition, signature)
    now = timezone.now()
    with transaction.atomic():
        confirmed = Signature.objects.filter(
            pk=signature.pk, status=SignatureStatus.PENDING, token_digest=token_digest(token)
        ).update(status=SignatureStatus.CONFIRMED, confirmed_at=now, updated_at=now)
        if not confirmed:
            signature.refresh_from_db()
            if signature.status == SignatureStatus.CONFIRMED:
                return ConfirmOutcome.ALREADY_CONFIRMED, signature
            raise InvalidLink
        CountQueue.objects.create(
            petition_id=petition.pk, signature_id=signature.pk, region=signature.region, delta=1, created_at=now
        )
        claim_on_signature_confirmed(signature=signature)
        if signature.kind == SignatureKind.CREATOR:
            petition_validate(petition=petition)
        elif signature.kind == SignatureKind.SPONSOR and petition.state in SPONSORABLE_STATES:
            _sponsor_confirmed(petition)
    signature.status, signature.confirmed_at = SignatureStatus.CONFIRMED, now
    return ConfirmOutcome.CONFIRMED, signature


def _sponsor_confirmed(petition: Petition) -> None:
    notify_creator(petition=petition, kind=OutboundEmail.Kind.SPONSOR_SIGNED)
    sponsors = Signature.objects.filter(
        petition=petition, kind=SignatureKind.SPONSOR, status=SignatureStatus.CONFIRMED
    ).count()
    if sponsors >= settings.SPONSORS_REQUIRED and petition.state == S.VALIDATED:
        petition_mark_sponsored(petition=petition)


def signature_invalidate(*, signature: Signature, reason: str) -> bool:
    """Stop a signature counting (fraud, withdrawal). A confirmed one is taken off the counters
    by the count job through a -1 in the count queue. Returns whether anything changed."""
    now = timezone.now()
    with transaction.atomic():
        was = Signature.objects.select_for_update().filter(pk=signature.pk).values_list("status", flat=True).first()
        if was is None or was == SignatureStatus.INVALIDATED:
            return False
        Signature.objects.filter(pk=signature.pk).update(
            status=SignatureStatus.INVALIDATED, invalidated_at=now, invalidation_reason=reason[:32], updated_at=now
        )
        if was == SignatureStatus.CONFIRMED:
            CountQueue.objects.create(
                petition_id=signature.petition_id,
                signature_id=signature.pk,
                region=signature.region,
                delta=-1,
                created_at=now,
            )
    return True


def signature_reinstate(*, signature: Signature) -> bool:
    """Undo an invalidation (a reversed decision): a signature that had been confirmed counts
    again, through a +1 in the count queue. Returns whether anything changed; a signature that
    was never confirmed, or is not invalidated, is left alone."""
    now = timezone.now()
    with transaction.atomic():
        row = Signature.objects.select_for_update().filter(pk=signature.pk).values("status", "confirmed_at").first()
        if row is None or row["status"] != SignatureStatus.INVALIDATED or row["confirmed_at"] is None:
            return False
        Signature.objects.filter(pk=signature.pk).update(
            status=SignatureStatus.CONFIRMED, invalidated_at=None, invalidation_reason="", updated_at=now
        )
        CountQueue.objects.create(
            petition_id=signature.petition_id,
            signature_id=signature.pk,
            region=signature.region,
            delta=1,
            created_at=now,
        )
    return True


def signature_unsubscribe(*, signature_id: int) -> bool:
    """No more update e-mails for this signature. Idempotent."""
    return bool(
        Signature.objects.filter(pk=signature_id, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now(), notify_updates=False
        )
    )


# --- counting -------------------------------------------------------------------------------


def _try_count_lock() -> bool:
    """Only one count job at a time: two at once double-counted for hours on the UK's site.
    On SQLite the single writer (BEGIN IMMEDIATE) already serialises the job."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COUNT_LOCK_KEY])
        return bool(cursor.fetchone()[0])


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


def signatures_count_batch(*, limit: int = 20_000) -> int:
    """Apply queued count changes: one UPDATE per petition, one upsert per (petition, region)
    and per (petition, hour), and the queue rows deleted in the same transaction. Returns how
    many changes were applied (0 if another count job holds the lock)."""
    from undersign.petitions.models import HourlyCount, RegionCount

    now = timezone.now()
    with transaction.atomic():
        if not _try_count_lock():
            return 0
        queued = list(
            CountQueue.objects.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "petition_id", "region", "delta", "created_at")[:limit]
        )
        if not queued:
            return 0
        per_petition: dict[int, int] = defaultdict(int)
        latest: dict[int, datetime] = {}
        per_region: dict[tuple[int, str], int] = defaultdict(int)
        per_hour: dict[tuple[int, datetime], int] = defaultdict(int)
        for _pk, petition_id, region, delta, created_at in queued:
            per_petition[petition_id] += delta
            per_region[(petition_id, region)] += delta
            per_hour[(petition_id, created_at.replace(minute=0, second=0, microsecond=0))] += delta
            if delta > 0 and (petition_id not in latest or created_at > latest[petition_id]):
                latest[petition_id] = created_at
        for petition_id, delta in per_petition.items():
            changes: dict[str, object] = {"signature_count": F("signature_count") + delta, "updated_at": now}
            if petition_id in latest:
                changes["last_signed_at"] = Greatest(
                    Coalesce("last_signed_at", latest[petition_id]), latest[petition_id]
                )
            Petition.objects.filter(pk=petition_id).update(**changes)
        # A check constraint judges the row proposed for INSERT before ON CONFLICT turns it into
        # an UPDATE, so decrements (whose rows exist already) go through a plain UPDATE.
        _upsert_increments(
            RegionCount._meta.db_table, "region", [(p, r, d) for (p, r), d in per_region.items() if d > 0]
        )
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
        ids = [row[0] for row in queued]
        for start in range(0, len(ids), 1000):
            CountQueue.objects.filter(pk__in=ids[start : start + 1000]).delete()
    return len(queued)


def signatures_count_all() -> int:
    """Drain the count queue (used by the reconcile command and the embedded scheduler)."""
    total = 0
    while applied := signatures_count_batch():
        total += applied
    return total


@dataclass(frozen=True)
class CounterDiscrepancy:
    petition_id: int
    region: str | None  # None: the petition's total
    counter: int
    queued: int
    confirmed: int

    @property
    def expected_counter(self) -> int:
        return self.confirmed - self.queued


def signatures_reconcile(*, repair: bool) -> list[CounterDiscrepancy]:
    """Compare every counter with ``COUNT(*)`` of confirmed signatures, allowing for changes
    still in the count queue, and (``repair``) set wrong counters right. Each comparison is a
    single statement, so it sees one consistent snapshot even while people sign."""
    from undersign.petitions.models import RegionCount

    sig = connection.ops.quote_name(Signature._meta.db_table)
    queue = connection.ops.quote_name(CountQueue._meta.db_table)
    pet = connection.ops.quote_name(Petition._meta.db_table)
    reg = connection.ops.quote_name(RegionCount._meta.db_table)
    totals_sql = f"""
        SELECT p.id, p.signature_count,
          (SELECT COALESCE(SUM(q.delta), 0) FROM {queue} q WHERE q.petition_id = p.id),
          (SELECT COUNT(*) FROM {sig} s WHERE s.petition_id = p.id AND s.status = 'confirmed')
        FROM {pet} p"""  # noqa: S608 - table names are ours
    regions_sql = f"""
        SELECT k.petition_id, k.region,
          COALESCE((SELECT r.signature_count FROM {reg} r
                    WHERE r.petition_id = k.petition_id AND r.region = k.region), 0),
          (SELECT COALESCE(SUM(q.delta), 0) FROM {queue} q
            WHERE q.petition_id = k.petition_id AND q.region = k.region),
          (SELECT COUNT(*) FROM {sig} s WHERE s.petition_id = k.petition_id
            AND s.region = k.region AND s.status = 'confirmed')
        FROM (SELECT petition_id, region FROM {reg}
              UNION SELECT petition_id, region FROM {sig} WHERE status = 'confirmed') k"""  # noqa: S608
    found: list[CounterDiscrepancy] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The count job must not move counters between our reading and our repair.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COUNT_LOCK_KEY])
            cursor.execute(totals_sql)
            for petition_id, counter, queued, confirmed in cursor.fetchall():
                if counter + queued != confirmed:
                    found.append(CounterDiscrepancy(petition_id, None, counter, int(queued), confirmed))
            cursor.execute(regions_sql)
            for petition_id, region, counter, queued, confirmed in cursor.fetchall():
                if counter + queued != confirmed:
                    found.append(CounterDiscrepancy(petition_id, region, counter, int(queued), confirmed))
        if repair:
            for item in found:
                if item.region is None:
                    Petition.objects.filter(pk=item.petition_id).update(signature_count=item.expected_counter)
                else:
                    RegionCount.objects.update_or_create(
                        petition_id=item.petition_id,
                        region=item.region,
                        defaults={"signature_count": item.expected_counter},
                    )
    return found
