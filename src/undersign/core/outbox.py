"""The e-mail outbox: rows written with the change that calls for them, delivered on commit
and swept up later if that delivery was lost (broker down, mail server down, process killed).

``core`` knows no app above it, so it cannot build a message: each app registers, in its
``AppConfig.ready``, the renderer of the kinds it owns (``renders``). A renderer reads its
recipient and what it tells of at sending time, and returns ``None`` when the message is no
longer wanted (the signer unsubscribed, the signature was replaced or has gone). A message is
rendered in the site's language (``LANGUAGE_CODE``) unless its renderer knows its recipient's
(``signatures.emails.renders_to_signer``): never in the language of whichever request it is
delivered after."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import TruncDay
from django.template.loader import render_to_string
from django.utils import timezone, translation

from undersign.core.batches import batches_delete
from undersign.core.models import OutboundEmail
from undersign.core.origins import site_origins

log = logging.getLogger(__name__)

# A renderer gets the message and what its kind's preloader read for it (None: read it yourself).
Render = Callable[[OutboundEmail, Any], EmailMessage | None]
Preload = Callable[[list[OutboundEmail]], dict[int, Any]]


@dataclass(frozen=True)
class Renderer:
    render: Render
    # Reads what a whole delivery run's messages of this kind need in one query, keyed by
    # message id, instead of one query per message.
    preload: Preload | None = None


_renderers: dict[str, Renderer] = {}


def renders(*kinds: str, preload: Preload | None = None) -> Callable[[Render], Render]:
    """Register the function that builds the messages of ``kinds``."""

    def register(function: Render) -> Render:
        for kind in kinds:
            if kind in _renderers and _renderers[kind].render is not function:
                raise RuntimeError(f"two renderers for outbox kind {kind!r}")
            _renderers[kind] = Renderer(function, preload)
        return function

    return register


def renderer_kinds() -> set[str]:
    return set(_renderers)


def message_text(template: str, context: dict[str, object]) -> tuple[str, str]:
    """A message's subject (the first line of ``template``) and body, in the active language.
    Every renderer's text comes from here, so every message ends alike: when the site is served
    at more than one address (``SITE_URLS``: an onion address beside the clearnet name), its foot
    names the primary, which its links are on, and lists the others, so that a reader whose
    network blocks the primary knows where else the site is."""
    subject, _, body = render_to_string(template, context).strip().partition("\n")
    body = body.strip()
    primary, *others = site_origins()
    if others:
        context = {"site_name": settings.SITE_NAME, "primary": primary.url, "others": others}
        body += "\n\n" + render_to_string("emails/_site_addresses.txt", context).strip()
    return subject.strip(), body + "\n"


def outbox_add(
    *, kind: str, petition_id: int, signature_id: int | None, deliver_after_commit: bool = True
) -> OutboundEmail:
    """Queue an e-mail. Precondition: called inside the transaction making the change it tells
    of, so the message exists exactly when the change does.

    With a broker (production) nothing is published here: beat's ``deliver_outbox`` job sends
    whatever is unsent every ``OUTBOX_DELIVERY_INTERVAL`` seconds, many messages per SMTP
    connection. A Celery publish per message cost the sign request more Python time than its
    two INSERTs (docs/performance.md), and a broker outage now cannot touch the request at all.
    Without a broker (embedded mode, tests) the message is delivered right after commit,
    unless ``deliver_after_commit`` is False: then the sweep sends it, within about
    ``OUTBOX_SWEEP_AFTER_SECONDS``, for a request whose duration must not tell whether it
    queued a message (``signatures.resend``)."""
    message = OutboundEmail.objects.create(kind=kind, petition_id=petition_id, signature_id=signature_id)
    outbox_added(message_id=message.pk, deliver_after_commit=deliver_after_commit)
    return message


def outbox_added(*, message_id: int, deliver_after_commit: bool = True) -> None:
    """What ``outbox_add`` does after its INSERT, for a caller that wrote the row in a statement
    of its own (the sign path writes the signature and its message in one)."""
    if settings.CELERY_TASK_ALWAYS_EAGER and deliver_after_commit:
        # robust: a failure to send must not turn a stored change into an error page; the
        # sweep delivers the message later.
        transaction.on_commit(lambda: outbox_deliver(message_id=message_id), robust=True)


def outbox_add_many(*, kind: str, petition_id: int, signature_ids: Iterable[int], chunk: int = 1000) -> int:
    """Queue one message of ``kind`` per signature, ``chunk`` rows per INSERT: a large
    petition's response goes to hundreds of thousands, more than one statement should hold.
    Delivery is the caller's to wake. Precondition: as ``outbox_add``. Returns how many."""
    rows: list[OutboundEmail] = []
    added = 0
    for signature_id in signature_ids:
        rows.append(OutboundEmail(kind=kind, petition_id=petition_id, signature_id=signature_id))
        if len(rows) >= chunk:
            added += len(OutboundEmail.objects.bulk_create(rows))
            rows = []
    if rows:
        added += len(OutboundEmail.objects.bulk_create(rows))
    return added


def outbox_deliver_due(*, limit: int = 500) -> int:
    """Send up to ``limit`` unsent messages, oldest first, over one SMTP connection; returns how
    many went out. Each message is still locked, sent and marked sent in its own transaction
    (``outbox_deliver``): a confirmation link's token must be committed the moment its e-mail
    can be read, and a database failure between send and commit repeats one message, not a
    batch. Several workers share a backlog (``SKIP LOCKED``). A failure stops the run (the mail
    server is probably down): the next run or the sweep tries again."""
    ids = list(
        OutboundEmail.objects.filter(sent_at__isnull=True).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    sent = 0
    preloaded = outbox_preload(ids)
    smtp = get_connection()
    try:
        smtp.open()
        for message_id in ids:
            sent += outbox_deliver(message_id=message_id, connection=smtp, preloaded=preloaded.get(message_id))
    except Exception as error:  # noqa: BLE001 - retried by the next run and by the sweep
        log.warning("outbox delivery stopped after %d: %s", sent, type(error).__name__)
        if sent < len(ids):
            outbox_record_failure(message_id=ids[sent], error=error)
    finally:
        smtp.close()
    return sent


def outbox_preload(ids: list[int]) -> dict[int, Any]:
    """What the messages among ``ids`` need, read per kind in one query for the whole run by
    the kinds' preloaders. Read without a lock: a renderer must not trust it to be current
    (the confirmation renderer's token UPDATE is guarded by the signature's status and
    ``updated_at``, so a stale copy sends nothing)."""
    by_kind: dict[str, list[OutboundEmail]] = {}
    for message in OutboundEmail.objects.filter(pk__in=ids).only("pk", "kind", "signature_id", "petition_id"):
        by_kind.setdefault(message.kind, []).append(message)
    preloaded: dict[int, Any] = {}
    for kind, messages in by_kind.items():
        renderer = _renderers.get(kind)
        if renderer is not None and renderer.preload is not None:
            preloaded.update(renderer.preload(messages))
    return preloaded


def outbox_deliver(*, message_id: int, connection: BaseEmailBackend | None = None, preloaded: Any = None) -> bool:
    """Render and send one message unless another worker holds it or it went out already.
    The row stays locked while sending so two workers never send the same message.
    ``connection``: an open mail connection to reuse (``outbox_deliver_due``); ``preloaded``:
    what the kind's preloader read for this message beforehand, for a batch (``outbox_preload``)."""
    with transaction.atomic():
        # Only the outbox row is locked: never a row of the petition it tells of, which would
        # stall the integrator.
        message = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            email = _renderers[message.kind].render(message, preloaded)
        if email is not None:
            email.connection = connection
            email.send()
        outbox_mark_sent(message_id=message.pk)
    return email is not None


def outbox_mark_sent(*, message_id: int) -> None:
    """Mark a message sent and forget whom and what it was for. The recipient's mail provider
    knows to the second when it arrived; a sent row that kept its signature and exact times
    would let a dump match that arrival to a petition. What stays — the kind and the day — is
    enough to count mails per day; nothing reads a sent row's links. One plain UPDATE (the row
    is locked): cheaper than Model.save's machinery per e-mail."""
    OutboundEmail.objects.filter(pk=message_id).update(
        sent_at=day_start(timezone.now()),
        created_at=TruncDay("created_at", tzinfo=UTC),
        signature_id=None,
        petition_id=None,
        attempts=F("attempts") + 1,
    )


def day_start(moment: datetime) -> datetime:
    """``moment`` rounded down to its UTC day: the resolution of stored times that sit beside
    personal data once they are no longer needed exactly."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def outbox_record_failure(*, message_id: int, error: Exception) -> None:
    # The error class only: SMTP errors may quote the recipient's address.
    OutboundEmail.objects.filter(pk=message_id).update(
        attempts=F("attempts") + 1, last_error=type(error).__name__[:200]
    )


def outbox_sweep(*, older_than: timedelta | None = None, limit: int = 500) -> int:
    """Deliver what is still unsent after ``older_than`` (default ``OUTBOX_SWEEP_AFTER_SECONDS``);
    returns how many went out. One failing message does not stop the others."""
    age = older_than if older_than is not None else timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - age
    ids = list(
        OutboundEmail.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    preloaded = outbox_preload(ids)
    for message_id in ids:
        try:
            sent += outbox_deliver(message_id=message_id, preloaded=preloaded.get(message_id))
        except Exception as error:  # noqa: BLE001 - any failure is retried by the next sweep
            log.warning("outbox message %s not delivered: %s", message_id, type(error).__name__)
            outbox_record_failure(message_id=message_id, error=error)
    return sent


def outbox_unsent_forget(*, signature_ids: Iterable[int] = (), petition_ids: Iterable[int] = ()) -> int:
    """Delete the unsent messages about these signatures or petitions, which are being deleted
    themselves (a retention job): a row naming a signature that has gone would only be sent
    as nothing later, and meanwhile keep its id. Precondition: called in the transaction that
    deletes them. Returns how many."""
    signature_ids, petition_ids = list(signature_ids), list(petition_ids)
    unsent = OutboundEmail.objects.filter(sent_at__isnull=True)
    deleted, _ = unsent.filter(Q(signature_id__in=signature_ids) | Q(petition_id__in=petition_ids)).delete()
    return deleted


def outbox_sent_delete(now: datetime) -> int:
    """A retention job: delete sent messages' rows (their kind and day) ``SENT_MAIL_RETENTION_DAYS``
    after the day they were sent, in batches. Returns how many."""
    cutoff = now - timedelta(days=settings.SENT_MAIL_RETENTION_DAYS)
    return batches_delete(OutboundEmail.objects.filter(sent_at__lte=cutoff))
