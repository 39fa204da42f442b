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
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.db.models.functions import TruncDay
from django.template.loader import render_to_string
from django.utils import timezone, translation

from undersign.core.batches import batches_delete
from undersign.core.mail_wire import email_wire
from undersign.core.models import OutboundEmail
from undersign.core.origins import site_origins

log = logging.getLogger(__name__)

# A renderer gets the message and what its kind's preloader read for it (None: read it yourself).
Render = Callable[[OutboundEmail, Any], EmailMessage | None]
Preload = Callable[[list[OutboundEmail]], dict[int, Any]]
# Writes what a batch's messages of one kind will carry (a confirmation link's token) in one
# statement on the connection given, before any of them is sent; gets and returns what the
# renderer will get, keyed by message id.
Issue = Callable[[list[OutboundEmail], dict[int, Any], BaseDatabaseWrapper], dict[int, Any]]


@dataclass(frozen=True)
class Renderer:
    render: Render
    # Reads what a whole delivery run's messages of this kind need in one query, keyed by
    # message id, instead of one query per message.
    preload: Preload | None = None
    # For batches (``outbox_deliver_batch``); without it, a renderer writes what it needs itself.
    issue: Issue | None = None


_renderers: dict[str, Renderer] = {}


def renders(*kinds: str, preload: Preload | None = None, issue: Issue | None = None) -> Callable[[Render], Render]:
    """Register the function that builds the messages of ``kinds``."""

    def register(function: Render) -> Render:
        for kind in kinds:
            if kind in _renderers and _renderers[kind].render is not function:
                raise RuntimeError(f"two renderers for outbox kind {kind!r}")
            _renderers[kind] = Renderer(function, preload, issue)
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


def outbox_deliver_due(*, limit: int | None = None) -> int:
    """Send up to ``limit`` (default ``OUTBOX_DELIVERY_RUN_LIMIT``) unsent messages, oldest
    first, batch after batch while there is a backlog (``outbox_deliver_batch``); returns how
    many went out. A failure ends the run (the mail server or the database is probably down):
    the next run or the sweep tries again. A run that finds nothing to send closes the
    process's SMTP connection, so an idle worker holds none open."""
    limit = limit if limit is not None else settings.OUTBOX_DELIVERY_RUN_LIMIT
    sent = 0
    while limit > 0:
        batch = min(limit, settings.OUTBOX_DELIVERY_BATCH)
        delivered, claimed, failed = outbox_deliver_batch(limit=batch)
        sent += delivered
        limit -= claimed
        if not claimed:
            mailer.close()
        if failed or claimed < batch:
            break
    return sent


class Mailer:
    """One SMTP connection per worker process, kept open across batches and runs: a run per
    beat tick no longer pays a connection (and TLS) set-up. Reopened after any error, and
    once, before giving up, when the server dropped a connection that had been idle; closed
    when a run finds nothing to send and at the process's end (``core.tasks``)."""

    def __init__(self) -> None:
        self.backend: Any = None
        self.config: tuple[object, ...] = ()

    def send(self, email: EmailMessage) -> None:
        config = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER)
        if config != self.config:
            self.close()
        for retry in (True, False):
            reused = self.backend is not None
            if not reused:
                self.backend = get_connection()
                self.config = config
                if hasattr(self.backend, "open"):
                    self.backend.open()
            try:
                self._send(email)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                # Dropped while idle (a server's timeout): nothing of this message was accepted,
                # as the server answers the end of DATA last.
                self.close()
                if not (retry and reused):
                    raise
            except Exception:
                self.close()
                raise

    def _send(self, email: EmailMessage) -> None:
        # Django's SMTP backend builds a MIME tree per message; the same bytes made directly
        # (``core.mail_wire``) cost a fraction of that. Any other backend gets the message.
        wire = email_wire(email) if type(self.backend) is SMTPBackend else None
        if wire is None or self.backend.connection is None:
            email.connection = self.backend
            email.send()
            return
        sender, recipients, content = wire
        self.backend.connection.sendmail(sender, recipients, content)

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None and hasattr(backend, "close"):
            try:
                backend.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass


mailer = Mailer()


class LinksConnection:
    """A second database connection of the worker process, in autocommit, on which a batch's
    links (confirmation tokens) are written and committed before its first mail is sent,
    while the batch's outbox rows stay locked in the delivery transaction on the default
    connection. Only on PostgreSQL and when delivery does not run inside a caller's
    transaction (tests, an eager caller), where the default connection is used instead."""

    def __init__(self) -> None:
        self.wrapper: BaseDatabaseWrapper | None = None

    def get(self) -> BaseDatabaseWrapper:
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return connection
        if self.wrapper is None:
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            with wrapper.cursor() as cursor:
                # The statement waits on a signature row's lock while the batch's outbox rows
                # stay locked on the other connection: a transaction waiting for one of those
                # (a retention job deleting both) would wait for ever, unseen by PostgreSQL's
                # deadlock detector, without this bound.
                cursor.execute("SET lock_timeout = '5s'")
            self.wrapper = wrapper
        return self.wrapper

    def close(self) -> None:
        wrapper, self.wrapper = self.wrapper, None
        if wrapper is not None:
            try:
                wrapper.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass


links_connection = LinksConnection()


def outbox_deliver_batch(*, limit: int, older_than: datetime | None = None) -> tuple[int, int, bool]:
    """Claim up to ``limit`` unsent messages (oldest first, created before ``older_than`` if
    given), send them and mark them sent. Returns (sent, claimed, whether a failure stopped it).

    The batch is claimed with ``FOR UPDATE SKIP LOCKED`` in one statement and stays locked until
    its one mark-sent UPDATE commits, so several workers share a backlog and never send the same
    message. Before any mail of the batch is sent, its links' tokens are written in one
    statement per kind and committed (``LinksConnection``): a mailed link works from the moment
    the mail can be read, whatever fails afterwards. A message is marked sent only after the
    SMTP server accepted it, or when it is no longer wanted (its renderer returns None); so a
    crash or a database outage between the sends and the commit sends that batch's sent
    messages again (at most ``OUTBOX_DELIVERY_BATCH`` per worker process; the repeat carries a
    fresh link, which replaces the first), and loses none. A send failure stops the batch: what
    was sent is marked, the failure is recorded on the message that failed, the rest stays
    unsent for the next run."""
    links = links_connection.get()
    sent: list[int] = []
    handled: list[int] = []
    failed: tuple[int, Exception] | None = None
    try:
        with transaction.atomic():
            unsent = OutboundEmail.objects.filter(sent_at__isnull=True)
            if older_than is not None:
                unsent = unsent.filter(created_at__lte=older_than)
            # Only the outbox rows are locked: never a row of the petition they tell of, which
            # would stall the integrator.
            messages = list(
                unsent.select_for_update(skip_locked=True)
                .order_by("created_at")
                .only("pk", "kind", "signature_id", "petition_id")[:limit]
            )
            if not messages:
                return 0, 0, False
            ready = _batch_prepare(messages, links)
            for message in messages:
                if message.pk not in ready:
                    continue
                email, error = ready[message.pk]
                if error is not None:
                    _log_failure(message.pk, error)
                    OutboundEmail.objects.filter(pk=message.pk).update(
                        attempts=F("attempts") + 1, last_error=type(error).__name__[:200]
                    )
                    continue
                if email is None:
                    handled.append(message.pk)
                    continue
                try:
                    mailer.send(email)
                except Exception as send_error:  # noqa: BLE001 - retried by the next run and by the sweep
                    failed = (message.pk, send_error)
                    break
                sent.append(message.pk)
            outbox_mark_sent_many(message_ids=sent + handled)
            if failed is not None:
                _log_failure(*failed)
                outbox_record_failure(message_id=failed[0], error=failed[1])
    except Exception:
        if links is not connection:
            links_connection.close()
        raise
    return len(sent), len(messages), failed is not None


def _log_failure(message_id: int, error: Exception) -> None:
    # The error class only: SMTP errors may quote the recipient's address.
    log.warning("outbox message %s not delivered: %s", message_id, type(error).__name__)


def _batch_prepare(
    messages: list[OutboundEmail], links: BaseDatabaseWrapper
) -> dict[int, tuple[EmailMessage | None, Exception | None]]:
    """Each message's e-mail (None: not wanted) or the error that kept it from being built.
    Read and written per kind for the whole batch (preload, then issue); a message's own
    failure to render leaves it unsent with the error recorded, the others go on."""
    by_kind: dict[str, list[OutboundEmail]] = {}
    for message in messages:
        by_kind.setdefault(message.kind, []).append(message)
    preloaded: dict[int, Any] = {}
    for kind, group in by_kind.items():
        renderer = _renderers[kind]
        if renderer.preload is not None:
            preloaded.update(renderer.preload(group))
        if renderer.issue is not None:
            preloaded.update(renderer.issue(group, preloaded, links))
    ready: dict[int, tuple[EmailMessage | None, Exception | None]] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for message in messages:
            try:
                ready[message.pk] = (_renderers[message.kind].render(message, preloaded.get(message.pk)), None)
            except DatabaseError:
                raise  # the transaction is broken: the whole batch is retried
            except Exception as error:  # noqa: BLE001 - recorded, the sweep retries it
                ready[message.pk] = (None, error)
    return ready


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


def outbox_mark_sent_many(*, message_ids: list[int]) -> None:
    """``outbox_mark_sent`` for a batch's messages, in one UPDATE. Precondition: their rows are
    locked."""
    if message_ids:
        OutboundEmail.objects.filter(pk__in=message_ids).update(
            sent_at=day_start(timezone.now()),
            created_at=TruncDay("created_at", tzinfo=UTC),
            signature_id=None,
            petition_id=None,
            attempts=F("attempts") + 1,
        )


def outbox_mark_sent(*, message_id: int) -> None:
    """Mark a message sent and forget whom and what it was for. The recipient's mail provider
    knows to the second when it arrived; a sent row that kept its signature and exact times
    would let a dump match that arrival to a petition. What stays — the kind and the day — is
    enough to count mails per day; nothing reads a sent row's links. One plain UPDATE (the row
    is locked): cheaper than Model.save's machinery per e-mail."""
    outbox_mark_sent_many(message_ids=[message_id])


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
    """Deliver what is still unsent after ``older_than`` (default ``OUTBOX_SWEEP_AFTER_SECONDS``),
    in batches (``outbox_deliver_batch``); returns how many went out. A message that cannot be
    built does not stop the others; a send failure ends the sweep (the next one tries again)."""
    age = older_than if older_than is not None else timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - age
    sent = 0
    while limit > 0:
        batch = min(limit, settings.OUTBOX_DELIVERY_BATCH)
        delivered, claimed, failed = outbox_deliver_batch(limit=batch, older_than=cutoff)
        sent += delivered
        limit -= claimed
        if failed or claimed < batch:
            break
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
