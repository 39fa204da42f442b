"""Writes to signatures: signing, confirming, invalidating, reinstating, unsubscribing and
leaving a safety-in-numbers group.

The signing path is the hot path (docs/architecture.md): a sign request does one INSERT of the
signature (``ON CONFLICT DO NOTHING`` on the dedup tag) and one INSERT into the outbox, on
PostgreSQL as one statement (a data-modifying CTE, its own transaction); a
confirmation one guarded UPDATE and one INSERT of a pending transparency-log entry, which the
log's integrator appends and counts in batches (``transparency.services``).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDay
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from undersign.core.batches import batches_run, batches_update
from undersign.core.compiled import OneRow
from undersign.core.crypto import dedup_tag, token_digest
from undersign.core.errors import Refusal
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add, outbox_added, outbox_unsent_forget
from undersign.petitions.models import Petition, PetitionState, Transition
from undersign.petitions.services import notify_creator, petition_mark_sponsored, petition_validate
from undersign.signatures.links import unsubscribe_digest
from undersign.signatures.mail_limits import MailTaken, mail_allowed, mail_give_back, mail_taken
from undersign.signatures.models import WITHDRAWN, Display, Signature, SignatureKind, SignatureStatus, SignerDataLink
from undersign.signatures.personal_data import signer_fields_seal, signer_name_seal
from undersign.signatures.signals import confirmation_related, signature_confirmed, signatures_status_changed
from undersign.transparency.models import LogEntry
from undersign.transparency.services import LoggedSignature, log_reinstate_add, log_revocation_add, log_signature_add
from undersign_verify.entries import commitment as make_commitment

S = PetitionState


class SigningRefused(Refusal):
    """The petition does not take this signature now; ``reason`` is safe to show."""

    title = gettext_lazy("You cannot sign this petition")

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidLink(Refusal):
    """A link that is unknown, tampered with, used, replaced or expired: one page for all, so
    that whoever holds a spent link (browser history, a mailbox) learns nothing from it."""

    title = gettext_lazy("This link is no longer valid")
    status = 404

    def __init__(self) -> None:
        super().__init__(gettext("If you still want to sign, sign again and we will e-mail you a new link."))


class CommitmentTaken(Refusal):
    """The commitment posted with a confirmation is already another signature's on this
    petition: a browser that reuses r, or someone replaying a commitment. Nothing changed."""

    title = gettext_lazy("Please try again")

    def __init__(self) -> None:
        super().__init__(gettext("Something went wrong making your receipt. Confirm again."))


class SignOutcome(enum.Enum):
    CREATED = "created"  # its confirmation e-mail queued, unless the address is over its limit
    REPLACED = "replaced"  # a pending signature's data replaced, a fresh link sent
    ALREADY_SIGNED = "already_signed"
    # A pending signature left as it was, nothing sent: the address had reached its limit of
    # e-mails (signatures.mail_limits), so the owner's data and link stand.
    UNCHANGED = "unchanged"


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class SignerDetails:
    name: str
    email: str
    region: str
    display: str = Display.COUNTED
    notify_updates: bool = False
    ip_address: str | None = None
    # The language every later mail to the signer is written in; None: the active one, the
    # language of the page the form was sent from.
    language: str | None = None


@dataclass(frozen=True)
class SignerCorrections:
    """What the holder of a confirmation link may set right before confirming: whoever typed
    the address first must not choose the name, region and display its owner confirms."""

    name: str
    region: str
    display: str


def check_can_sign(petition: Petition, kind: str, *, now: datetime | None = None) -> None:
    """Raise ``SigningRefused`` unless ``petition`` takes a new signature of ``kind``."""
    now = now or timezone.now()
    if kind == SignatureKind.CREATOR:
        if petition.state != S.PENDING:
            raise SigningRefused(gettext("This petition already has its creator."))
        return
    if petition.state == S.OPEN:
        if petition.closing_date is not None and now >= petition.closing_date:
            raise SigningRefused(gettext("This petition has closed. It is no longer collecting signatures."))
        return
    if kind == SignatureKind.SPONSOR and petition.is_sponsorable:
        return
    if petition.state == S.CLOSED:
        raise SigningRefused(gettext("This petition has closed. It is no longer collecting signatures."))
    if petition.is_rejected:
        raise SigningRefused(gettext("This petition was rejected. It cannot be signed."))
    raise SigningRefused(gettext("This petition is not open for signatures yet."))


def check_can_confirm(petition: Petition, signature: Signature, *, now: datetime | None = None) -> None:
    """Confirmation follows signing, with ``CONFIRMATION_GRACE_HOURS`` after the closing date so
    that people who signed in the last minutes are not lost to a slow mailbox."""
    now = now or timezone.now()
    if signature.kind == SignatureKind.CREATOR and petition.state == S.PENDING:
        return
    if signature.kind == SignatureKind.SPONSOR and petition.is_sponsorable:
        return
    if petition.is_published and petition.closing_date is not None:
        if now < petition.closing_date + timedelta(hours=settings.CONFIRMATION_GRACE_HOURS):
            return
        raise SigningRefused(gettext("This petition has closed, and the time to confirm signatures has passed."))
    if petition.is_rejected:
        raise SigningRefused(gettext("This petition was rejected. Signatures can no longer be confirmed."))
    raise SigningRefused(gettext("This petition is not open for signatures yet."))


_INSERT_COLUMNS = (
    "petition_id",
    "kind",
    "status",
    "dedup_tag",
    "name_sealed",
    "email_sealed",
    "ip_sealed",
    "language_sealed",
    "region",
    "display",
    "notify_updates",
    "unsubscribe_digest",
    "created_at",
    "updated_at",
    "invalidation_reason",
    "hold_reason",
)


def _insert_sql(values: dict[str, object]) -> tuple[str, list[Any]]:
    """The signature's INSERT, yielding to an existing signature by the same person instead of
    failing (no savepoint), and returning the new row's id."""
    table = connection.ops.quote_name(Signature._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    fields = {f.column: f for f in Signature._meta.concrete_fields}
    params: list[Any] = [fields[c].get_db_prep_save(values[c], connection) for c in _INSERT_COLUMNS]
    placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names are ours
        'ON CONFLICT ("petition_id", "dedup_tag") DO NOTHING RETURNING "id"'
    )
    return sql, params


def _insert_signature(values: dict[str, object]) -> int | None:
    sql, params = _insert_sql(values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _insert_signature_and_message(
    values: dict[str, object], *, message_kind: str | None
) -> tuple[int, int | None] | None:
    """PostgreSQL: the signature's INSERT and, for a new row, its outbox message's, as one
    statement (a data-modifying CTE: atomic on its own, so no BEGIN or COMMIT either): the sign
    request's writes in one round trip. (signature id, message id or None), or None where the
    person had signed already (nothing written)."""
    sql, params = _insert_sql(values)
    if message_kind is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else (int(row[0]), None)
    outbox = connection.ops.quote_name(OutboundEmail._meta.db_table)
    sql = (
        f"WITH s AS ({sql}), m AS ("  # noqa: S608 - names are ours
        f'INSERT INTO {outbox} ("kind", "signature_id", "petition_id", "created_at", "sent_at", "attempts", '
        '"last_error") SELECT %s, s."id", %s, %s, NULL, 0, \'\' FROM s RETURNING "id") '
        'SELECT s."id", m."id" FROM s, m'
    )
    params += [message_kind, values["petition_id"], values["created_at"]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def signature_create(
    *, petition: Petition, details: SignerDetails, kind: str = SignatureKind.SIGNER, hold_reason: str = ""
) -> tuple[SignOutcome, int]:
    """Record a pending signature and queue its confirmation e-mail; with ``hold_reason`` (the
    sign path's limits held it: ``abuse.limits``), record it held and send nothing.

    Same person (by dedup tag) still pending or held: their data is replaced and a fresh link
    sent, the old one stops working, so whoever typed someone else's address first cannot
    choose what the owner later confirms; a held row submitted again without a hold becomes
    pending and gets its link, with one it stays held. A held submission never touches a
    pending row (``UNCHANGED``): it would retire the owner's link and send no new one, so a
    flood naming known addresses could silence their signers. Already confirmed: a "you
    already signed" e-mail instead (none for a held submission), and so for an invalidated
    one (withdrawn, or fraud): signing again does not undo a moderator's decision, and the mail
    must not tell a catch-all domain's owner which of his signatures were caught. Every e-mail
    is counted against the address's limits first (``mail_limits``, a cache, no query); over
    them nothing is sent and a pending signature keeps its data and its link (``UNCHANGED``).
    The outcome is for e-mails and tests only: the signer sees the same page whatever it is.
    The language of the request (or ``details.language``) is sealed with the name, and every
    later mail to the signer is written in it; a replaced pending signature takes the new one.
    Precondition: ``check_can_sign(petition, kind)`` passed.
    """
    held = bool(hold_reason)
    status = SignatureStatus.HELD if held else SignatureStatus.PENDING
    tag = dedup_tag(petition.uuid, details.email, version=petition.dedup_version)
    key_id = petition.data_key_id
    now = timezone.now()
    sealed = signer_fields_seal(
        key_id=key_id,
        tag=tag,
        name=details.name,
        email=details.email,
        ip_address=details.ip_address,
        language=details.language or translation.get_language(),
    )
    values = {
        "petition_id": petition.pk,
        "kind": kind,
        "status": status,
        "dedup_tag": tag,
        **sealed,
        "region": details.region,
        "display": details.display,
        "notify_updates": details.notify_updates,
        "unsubscribe_digest": unsubscribe_digest(tag=tag),
        "created_at": now,
        "updated_at": now,
        "invalidation_reason": "",
        "hold_reason": hold_reason,
    }
    taken: MailTaken | None = None
    if connection.vendor == "postgresql":
        # Its confirmation mail is counted first, so that the row and its message are one
        # statement; over the limit the signature is kept all the same (without a link yet): the
        # owner signing again later, under the limit, gets one, and the page must not differ.
        taken = None if held else mail_taken(petition_uuid=petition.uuid, email=details.email)
        message_kind = OutboundEmail.Kind.SIGNATURE_CONFIRM if taken is not None and taken.allowed else None
        written = _insert_signature_and_message(values, message_kind=message_kind)
        if written is not None:
            if written[1] is not None:
                outbox_added(message_id=written[1])
            return SignOutcome.CREATED, written[0]
    with transaction.atomic():
        if connection.vendor != "postgresql":  # SQLite: no data-modifying CTE, two statements
            signature_id = _insert_signature(values)
            if signature_id is not None:
                if not held and mail_allowed(petition_uuid=petition.uuid, email=details.email):
                    outbox_add(
                        kind=OutboundEmail.Kind.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=signature_id
                    )
                return SignOutcome.CREATED, signature_id

        existing = Signature.objects.select_for_update().get(petition=petition, dedup_tag=tag)
        if existing.status not in (SignatureStatus.PENDING, SignatureStatus.HELD):
            if taken is not None:
                # Not a confirmation mail after all: the "already signed" one takes its own
                # narrowest rule first, and a refusal there must not use up the address's others.
                mail_give_back(taken)
            if not held and mail_allowed(petition_uuid=petition.uuid, email=details.email, already_signed=True):
                outbox_add(kind=OutboundEmail.Kind.ALREADY_SIGNED, petition_id=petition.pk, signature_id=existing.pk)
            return SignOutcome.ALREADY_SIGNED, existing.pk
        if held and existing.status == SignatureStatus.PENDING:
            return SignOutcome.UNCHANGED, existing.pk
        if not held:
            allowed = (
                taken.allowed if taken is not None else mail_allowed(petition_uuid=petition.uuid, email=details.email)
            )
            if not allowed:
                return SignOutcome.UNCHANGED, existing.pk
        # A creator stays the creator; a signer who comes back through the sponsor link sponsors.
        new_kind = existing.kind if existing.kind == SignatureKind.CREATOR else kind
        Signature.objects.filter(pk=existing.pk, status__in=(SignatureStatus.PENDING, SignatureStatus.HELD)).update(
            kind=new_kind,
            status=status,
            hold_reason=hold_reason,
            region=details.region,
            display=details.display,
            notify_updates=details.notify_updates,
            token_digest=None,
            token_sent_at=None,
            updated_at=now,
            unsubscribed_at=None,
            **sealed,
        )
        if not held:
            outbox_add(kind=OutboundEmail.Kind.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=existing.pk)
        return SignOutcome.REPLACED, existing.pk


def signature_confirmation_token_issue(*, signature: Signature) -> str | None:
    """A fresh confirmation token for ``signature``, for the e-mail about to be sent: only the
    latest link works, and the database holds only its digest. None (nothing to send) if the
    signature was confirmed, invalidated or replaced (which queues its own message) since it
    was read: the UPDATE is guarded by status and ``updated_at``, as the copy may be older than
    the outbox row's lock."""
    token = secrets.token_urlsafe(32)
    updated = Signature.objects.filter(
        pk=signature.pk, status=SignatureStatus.PENDING, updated_at=signature.updated_at
    ).update(token_digest=token_digest(token), token_sent_at=timezone.now())
    return token if updated else None


def signature_confirmation_tokens_issue(
    *, signatures: list[Signature], using: BaseDatabaseWrapper | None = None
) -> dict[int, str]:
    """``signature_confirmation_token_issue`` for a batch of signatures, in one UPDATE, guarded
    row by row in the same way; on ``using`` (default: the default connection), which the
    outbox may hold in autocommit so that the tokens are committed before their e-mails leave.
    Returns the fresh token of each signature (by id) whose guard held."""
    if not signatures:
        return {}
    db = using if using is not None else connection
    tokens = {signature.pk: secrets.token_urlsafe(32) for signature in signatures}
    rows: list[Any] = []
    for signature in signatures:
        rows += [
            signature.pk,
            db.ops.adapt_datetimefield_value(signature.updated_at),
            token_digest(tokens[signature.pk]),
        ]
    table = Signature._meta.db_table
    values = ", ".join(["(%s, %s, %s)"] * len(signatures))
    # VALUES' columns are column1..3 on both PostgreSQL and SQLite (3.33+ for UPDATE … FROM).
    sql = (
        f"UPDATE {table} SET token_digest = v.column3, token_sent_at = %s FROM (VALUES {values}) AS v "  # noqa: S608 - no user input
        f"WHERE {table}.id = v.column1 AND {table}.status = %s AND {table}.updated_at = v.column2 RETURNING {table}.id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [db.ops.adapt_datetimefield_value(timezone.now()), *rows, SignatureStatus.PENDING.value])
        issued = {row[0] for row in cursor.fetchall()}
    return {pk: token for pk, token in tokens.items() if pk in issued}


# Compiled once (``core.compiled``), at the first confirmation: by then every app has registered
# its relations. The confirm GET and POST both read it.
_SIGNATURE_BY_LINK = OneRow(
    Signature,
    lambda digest: Signature.objects.select_related("petition", *confirmation_related()).filter(
        token_digest=digest, status=SignatureStatus.PENDING
    ),
    samples=(b"\x00" * 32, b"\x01" * 32),
)


def signature_for_link(*, token: str) -> Signature:
    """The pending signature an e-mailed confirmation link names, found by its token's digest
    (unique), if the link is still good. Its petition, and the relations higher apps
    registered (``confirmation_related``), come in the same query. A used, replaced, expired
    or unknown link raises the same ``InvalidLink``: a spent link shows nothing."""
    if not token or len(token) > 200:
        raise InvalidLink
    signature = _SIGNATURE_BY_LINK.get(token_digest(token))
    if signature is None or signature.token_sent_at is None:
        raise InvalidLink
    if timezone.now() > signature.token_sent_at + timedelta(days=settings.CONFIRMATION_LINK_DAYS):
        raise InvalidLink
    return signature


def signature_confirm(
    *,
    token: str,
    commitment: bytes | None = None,
    signature: Signature | None = None,
    corrections: SignerCorrections | None = None,
) -> tuple[ConfirmOutcome, Signature]:
    """Confirm through an e-mailed link: one guarded UPDATE and one INSERT of the signature's
    pending log entry carrying ``commitment`` (C, made by the signer's browser from an r that
    never reaches us; None: made here from an r thrown away, for callers that offer no
    receipt). ``corrections``: the name, region and display the link's holder confirmed on the
    page, written by the same UPDATE (the name sealed afresh). ``signature``: what
    ``signature_for_link`` just returned for this token in the same request, so it is not read
    twice (the UPDATE below is guarded by status and token digest all the same).
    Confirming twice changes nothing: the second time the link is spent (``InvalidLink``).
    Apps above this one act on a confirmation through the ``signature_confirmed`` signal, sent
    inside the confirming transaction (verification validates a claim by official e-mail).
    Raises ``InvalidLink``, ``SigningRefused`` or ``CommitmentTaken``."""
    if signature is None:
        signature = signature_for_link(token=token)
    petition = signature.petition
    check_can_confirm(petition, signature)
    if commitment is None:
        commitment = make_commitment(petition.uuid, secrets.token_bytes(32))
    now = timezone.now()
    changes: dict[str, object] = {}
    if corrections is not None:
        changes = {
            "name_sealed": signer_name_seal(
                key_id=petition.data_key_id, tag=bytes(signature.dedup_tag), name=corrections.name
            ),
            "region": corrections.region,
            "display": corrections.display,
        }
    try:
        with transaction.atomic():
            confirmed = Signature.objects.filter(
                pk=signature.pk, status=SignatureStatus.PENDING, token_digest=token_digest(token)
            ).update(
                # The spent link's digest goes too: a dump plus a mailbox copy of the link then
                # find no row, and only a pending signature has a digest to find.
                status=SignatureStatus.CONFIRMED,
                confirmed_at=now,
                updated_at=now,
                commitment=commitment,
                token_digest=None,
                **changes,
            )
            if not confirmed:
                raise InvalidLink
            for field, value in changes.items():
                setattr(signature, field, value)
            log_signature_add(signature=_logged(signature), commitment=commitment, now=now)
            signature_confirmed.send(sender=Signature, signature=signature)
            _after_confirm(petition, signature)
    except IntegrityError:
        raise CommitmentTaken from None
    signature.status, signature.confirmed_at, signature.commitment = SignatureStatus.CONFIRMED, now, commitment
    return ConfirmOutcome.CONFIRMED, signature


def _logged(signature: Signature) -> LoggedSignature:
    """What the log keeps of the signature beside its entry. Reads ``signature.petition``
    (already cached on the confirm path)."""
    petition = signature.petition
    return LoggedSignature(
        petition_id=petition.pk, petition_uuid=petition.uuid, signature_id=signature.pk, region=signature.region
    )


def _after_confirm(petition: Petition, signature: Signature) -> None:
    if signature.kind == SignatureKind.CREATOR:
        petition_validate(petition=petition)
    elif signature.kind == SignatureKind.SPONSOR and petition.is_sponsorable:
        _sponsor_confirmed(petition)


def _sponsor_confirmed(petition: Petition) -> None:
    notify_creator(petition=petition, kind=OutboundEmail.Kind.SPONSOR_SIGNED)
    sponsors = sponsors_confirmed_locked(petition=petition)
    if sponsors >= settings.SPONSORS_REQUIRED and petition.can(Transition.MARK_SPONSORED):
        petition_mark_sponsored(petition=petition)


def sponsors_confirmed_locked(*, petition: Petition) -> int:
    """How many confirmed sponsors the petition has, counted under its row lock, with its state
    read afresh into ``petition``. A sponsor confirming and another withdrawing at the same
    moment (``signatures.withdrawal``) would otherwise each count without the other's change,
    and leave the petition in the moderation queue with too few sponsors, or out of it with
    enough. Precondition: transaction open."""
    petition.state = Petition.objects.select_for_update().values_list("state", flat=True).get(pk=petition.pk)
    return Signature.objects.filter(
        petition=petition, kind=SignatureKind.SPONSOR, status=SignatureStatus.CONFIRMED
    ).count()


def signature_invalidate(*, signature: Signature, reason: str) -> bool:
    """Stop a signature counting (fraud, withdrawal, a rejected claim). A confirmed one gets a
    REVOCATION in the log (its reason as a code), which takes it off the counters when the
    integrator appends it; nothing is deleted from the log. Returns whether anything changed."""
    now = timezone.now()
    with transaction.atomic():
        row = Signature.objects.select_for_update().filter(pk=signature.pk).values("status", "commitment").first()
        if row is None or row["status"] == SignatureStatus.INVALIDATED:
            return False
        Signature.objects.filter(pk=signature.pk).update(
            status=SignatureStatus.INVALIDATED, invalidated_at=now, invalidation_reason=reason[:32], updated_at=now
        )
        if row["status"] == SignatureStatus.CONFIRMED:
            assert row["commitment"] is not None, "constraint signature_confirmed_has_commitment"
            log_revocation_add(
                signature=_logged(signature), commitment=bytes(row["commitment"]), reason=reason, now=now
            )
        signatures_status_changed.send(sender=Signature, signature_ids=[signature.pk])
    return True


def signature_reinstate(*, signature: Signature) -> bool:
    """Undo an invalidation (a reversed decision): a signature that had been confirmed counts
    again, through a REINSTATE in the log. Returns whether anything changed; a signature that
    was never confirmed, or is not invalidated, is left alone."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            Signature.objects.select_for_update()
            .filter(pk=signature.pk)
            .values("status", "confirmed_at", "commitment", "invalidation_reason")
            .first()
        )
        if row is None or row["status"] != SignatureStatus.INVALIDATED or row["confirmed_at"] is None:
            return False
        if row["invalidation_reason"] == "confirmed_too_late":
            return False  # never in the log (it came after its petition's CLOSED): it cannot count again
        if row["invalidation_reason"] == WITHDRAWN:
            return False  # its signer took it back: no decision of ours counts it again
        assert row["commitment"] is not None, "set with confirmed_at (signature_confirm, or the log backfill)"
        Signature.objects.filter(pk=signature.pk).update(
            status=SignatureStatus.CONFIRMED, invalidated_at=None, invalidation_reason="", updated_at=now
        )
        log_reinstate_add(signature=_logged(signature), commitment=bytes(row["commitment"]), now=now)
        signatures_status_changed.send(sender=Signature, signature_ids=[signature.pk])
    return True


def signature_group_leave(*, signature_id: int) -> bool:
    """Take a signature out of its safety-in-numbers group: counted only from now on, shown
    nowhere. One guarded UPDATE (a signature that is no group member, or was invalidated, is
    left alone); returns whether it changed. ``updated_at`` stays: a pending signature's
    confirmation e-mail, still to be sent, is guarded by it. Precondition: the caller holds
    the petition's group (``verification.services.group_leave``: a group already named cannot
    be left, so the check and this write must not be split by a snapshot)."""
    with transaction.atomic():
        left = (
            Signature.objects.filter(pk=signature_id, display=Display.GROUP)
            .exclude(status=SignatureStatus.INVALIDATED)
            .update(display=Display.COUNTED)
        )
        if left:
            signatures_status_changed.send(sender=Signature, signature_ids=[signature_id])
    return bool(left)


def signature_for_unsubscribe(*, token: str) -> Signature:
    """The signature an unsubscribe link names (by its token's digest), or ``InvalidLink``."""
    if not token or len(token) > 200:
        raise InvalidLink
    signature = (
        Signature.objects.filter(unsubscribe_digest=token_digest(token)).only("pk", "petition_id", "status").first()
    )
    if signature is None:
        raise InvalidLink
    return signature


def signature_unsubscribe(*, token: str) -> bool:
    """No more update e-mails for the signature of this unsubscribe link. Idempotent; raises
    ``InvalidLink`` for a link that names no signature."""
    signature = signature_for_unsubscribe(token=token)
    return bool(
        Signature.objects.filter(pk=signature.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now(), notify_updates=False
        )
    )


def signatures_invalidate_too_late(*, signature_ids: list[int], now: datetime) -> None:
    """Signatures whose confirmation committed after their petition's CLOSED entry: the log
    dropped their entries (they can never be appended), so they never count. Called by the
    log's integrator, in its transaction, through ``transparency.signals.signatures_too_late``.
    One its signer withdrew meanwhile stays withdrawn: their choice, and no more mail."""
    withdrawn = Q(status=SignatureStatus.INVALIDATED, invalidation_reason=WITHDRAWN)
    Signature.objects.filter(pk__in=signature_ids).exclude(withdrawn).update(
        status=SignatureStatus.INVALIDATED, invalidated_at=now, invalidation_reason="confirmed_too_late", updated_at=now
    )
    signatures_status_changed.send(sender=Signature, signature_ids=signature_ids)


# Every stored time of a signature. Exact until it is counted: a pending link expires by
# ``token_sent_at``, and the confirmation e-mail's renderer guards on ``updated_at``.
_SIGNATURE_TIMES = ("created_at", "updated_at", "token_sent_at", "confirmed_at", "invalidated_at", "unsubscribed_at")


def signatures_times_coarsen() -> int:
    """Round every time of each counted signature (confirmed or invalidated, with no log entry
    still pending) to its UTC day, in one UPDATE; returns how many rows changed. The signer's
    mail provider knows to the second when the confirmation e-mail arrived; exact times in a
    dump would match that arrival to this row, and so to the petition. At day resolution a
    signature hides among the day's others. Public lists order by ``confirmed_at`` then id, so
    within a day they show the order of the ids, as they would anyway.

    Rows already at day resolution are skipped, so each run writes only what changed since
    the last (new confirmations, invalidations, unsubscriptions); it still reads the table."""
    day = {name: TruncDay(name, tzinfo=UTC) for name in _SIGNATURE_TIMES}
    exact = Q()
    for name in _SIGNATURE_TIMES:
        exact |= Q(**{f"{name}__isnull": False}) & ~Q(**{name: day[name]})
    logging = LogEntry.objects.filter(signature_id=OuterRef("pk"), leaf_index__isnull=True)
    return (
        # Held ones are not counted either: moderators review them by the hour (trending, alerts).
        Signature.objects.exclude(status__in=[SignatureStatus.PENDING, SignatureStatus.HELD])
        .filter(exact)
        .exclude(Exists(logging))
        .update(**{name: day[name] for name in _SIGNATURE_TIMES})
    )


def signatures_personal_data_destroy(*, petition: Petition, chunk: int = 1000) -> int:
    """What a key holder could still learn of the petition's signers once its data key is
    destroyed (the sealed name, e-mail and IP address die with the key): each signature's dedup
    tag is replaced by random bytes (with the dedup key, the real tag answers "did this address
    sign?"), the digests of its unsubscribe token (derived from the tag under the secret key)
    and of a pending confirmation link are cleared, and its one-time data links deleted. Its
    region, display choice, status and commitment stay: counts, the log and receipts need
    them. Random 32-byte tags keep one per person (the unique constraint) without matching
    anyone. Returns the rows changed. Precondition: inside the transaction that destroys the
    petition's data key (``retention.services.petition_personal_data_destroy``)."""
    changed, _ = SignerDataLink.objects.filter(signature__petition=petition).delete()
    ids = list(Signature.objects.filter(petition=petition).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        rows = [
            Signature(pk=pk, dedup_tag=secrets.token_bytes(32), unsubscribe_digest=None, token_digest=None)
            for pk in ids[start : start + chunk]
        ]
        changed += Signature.objects.bulk_update(rows, ["dedup_tag", "unsubscribe_digest", "token_digest"])
    return changed


# --- retention (each a job of the ``retention`` app: ``work(now) -> int``) ---------------------


def signatures_expired_delete(now: datetime) -> int:
    """Delete the signatures still unconfirmed once their confirmation link has expired:
    ``CONFIRMATION_LINK_DAYS`` after the link was mailed, or, for one never mailed (over the
    mail limits, or replaced and its new mail not sent yet), after it was last submitted
    (``updated_at``: a replaced row's ``created_at`` is its first submission, and its fresh
    data must not go before its fresh link could). ``signature_for_link`` refuses exactly
    these links, so nothing deleted here could still have been confirmed. In batches; returns
    how many.

    A creator's pending signature is left alone: its petition is still awaiting that
    confirmation, and is deleted whole, signature and all, by ``petitions_unconfirmed_delete``
    (``retention``). A sponsor's is not needed by its petition: only confirmed sponsors count,
    and the sponsor link still works for signing again. With the signature go what hangs off
    it: its claim and the claim's sealed evidence and decisions (cascade; a claim of a pending
    signature is in no public counter), its data links (cascade) and its unsent e-mails."""
    # Strictly before, as ``signature_for_link`` still takes a link at its very last moment.
    cutoff = now - timedelta(days=settings.CONFIRMATION_LINK_DAYS)
    expired = (
        Signature.objects.filter(status=SignatureStatus.PENDING, updated_at__lt=cutoff)
        .exclude(kind=SignatureKind.CREATOR)
        .filter(Q(token_sent_at__lt=cutoff) | Q(token_sent_at__isnull=True))
    )

    def step(size: int) -> int:
        # Locked, and the condition checked again by the lock: a signer re-submitting the form
        # meanwhile (which renews the row) waits, then finds no row and signs afresh.
        ids = list(expired.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:size])
        signatures_delete(signature_ids=ids)
        return len(ids)

    return batches_run(step)


def signatures_delete(*, signature_ids: list[int]) -> None:
    """Delete these signatures and everything that hangs off them: claims with their evidence
    and decisions, data links (the database's cascades), and unsent e-mails about them.
    Precondition: transaction open; none has a log entry (never confirmed: only a confirmation
    adds one), so no count or receipt depends on them."""
    outbox_unsent_forget(signature_ids=signature_ids)
    Signature.objects.filter(pk__in=signature_ids).delete()


def signatures_ips_drop(now: datetime) -> int:
    """Drop the sealed IP addresses kept longer than ``IP_RETENTION_DAYS`` (by ``created_at``,
    which for a counted signature is its day: an address may go up to a day early). They are
    kept only for abuse review (a moderator's search by network); nothing else derived from
    an address is stored. In batches; returns how many."""
    cutoff = now - timedelta(days=settings.IP_RETENTION_DAYS)
    return batches_update(Signature.objects.filter(ip_sealed__isnull=False, created_at__lte=cutoff), ip_sealed=None)
