"""The e-mail outbox: rows written with the change that calls for them, delivered on commit
and swept up later if that delivery was lost (broker down, mail server down, process killed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from undersign.core.models import OutboundEmail
from undersign.signatures.models import Signature

log = logging.getLogger(__name__)

Renderer = Callable[[OutboundEmail], EmailMessage | None]
_renderers: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that builds the message of one outbox kind; it returns ``None``
    when the message is no longer wanted (the signer unsubscribed, the signature was replaced)."""

    def register(function: Renderer) -> Renderer:
        _renderers[kind] = function
        return function

    return register


def outbox_add(*, kind: str, petition_id: int, signature_id: int | None) -> OutboundEmail:
    """Queue an e-mail. Precondition: called inside the transaction making the change it tells
    of, so the message exists exactly when the change does.

    With a broker (production) nothing is published here: beat's ``deliver_outbox`` job sends
    whatever is unsent every ``OUTBOX_DELIVERY_INTERVAL`` seconds, many messages per SMTP
    connection. A Celery publish per message cost the sign request more Python time than its
    two INSERTs (docs/performance.md), and a broker outage now cannot touch the request at all.
    Without a broker (embedded mode, tests) the message is delivered right after commit."""
    message = OutboundEmail.objects.create(kind=kind, petition_id=petition_id, signature_id=signature_id)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from undersign.core.tasks import deliver_email

        # robust: a failure to send must not turn a stored change into an error page; the
        # sweep delivers the message later.
        transaction.on_commit(lambda: deliver_email.delay(message.pk), robust=True)
    return message


def outbox_deliver_due(*, limit: int = 500) -> int:
    """Send up to ``limit`` unsent messages, oldest first, over one SMTP connection; returns how
    many went out. Each message is still locked, sent and marked sent in its own transaction
    (``outbox_deliver``): a confirmation link's token must be committed the moment its e-mail
    can be read, and a database failure between send and commit repeats one message, not a
    batch. Several workers share a backlog (``SKIP LOCKED``). A failure stops the run (the mail
    server is probably down): the next run or the sweep tries again."""
    from django.core.mail import get_connection

    ids = list(
        OutboundEmail.objects.filter(sent_at__isnull=True).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    sent = 0
    signatures = _confirm_signatures(ids)
    smtp = get_connection()
    try:
        smtp.open()
        for message_id in ids:
            sent += outbox_deliver(message_id=message_id, connection=smtp, signature=signatures.get(message_id))
    except Exception as error:  # noqa: BLE001 - retried by the next run and by the sweep
        log.warning("outbox delivery stopped after %d: %s", sent, type(error).__name__)
        if sent < len(ids):
            outbox_record_failure(message_id=ids[sent], error=error)
    finally:
        smtp.close()
    return sent


def _confirm_signatures(ids: list[int]) -> dict[int, Signature]:
    """The signatures (with their petitions) of the confirmation e-mails among ``ids``, read in
    one query for a whole run instead of one join per message. Read without a lock: the
    renderer's token UPDATE is guarded by the signature's status and ``updated_at``, so a
    signature confirmed, invalidated or replaced since (a replacement queues its own fresh
    message) gets no e-mail from this stale copy."""
    rows = (
        OutboundEmail.objects.filter(pk__in=ids, kind=OutboundEmail.Kind.SIGNATURE_CONFIRM)
        .select_related("signature", "signature__petition")
        .only("pk", "signature")
    )
    return {row.pk: row.signature for row in rows if row.signature is not None}


def outbox_deliver(
    *, message_id: int, connection: BaseEmailBackend | None = None, signature: Signature | None = None
) -> bool:
    """Render and send one message unless another worker holds it or it went out already.
    The row stays locked while sending so two workers never send the same message.
    ``connection``: an open mail connection to reuse (``outbox_deliver_due``); ``signature``:
    the message's signature read beforehand for a batch (``_confirm_signatures``)."""
    from undersign.core import emails  # noqa: F401  (registers the renderers)

    with transaction.atomic():
        # Only the outbox row is locked: locking the petition row would stall the integrator.
        locked = OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
        if signature is None:  # the signature and its petition in the same query
            locked = locked.select_related("signature", "signature__petition")
        message = locked.filter(pk=message_id, sent_at__isnull=True).first()
        if message is None:
            return False
        if signature is not None and message.signature_id == signature.pk:
            OutboundEmail.signature.field.set_cached_value(message, signature)
        email = _renderers[message.kind](message)
        if email is not None:
            email.connection = connection
            email.send()
        # One plain UPDATE (the row is locked): cheaper than Model.save's machinery per e-mail.
        OutboundEmail.objects.filter(pk=message.pk).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    return email is not None


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
    for message_id in ids:
        try:
            sent += outbox_deliver(message_id=message_id)
        except Exception as error:  # noqa: BLE001 - any failure is retried by the next sweep
            log.warning("outbox message %s not delivered: %s", message_id, type(error).__name__)
            outbox_record_failure(message_id=message_id, error=error)
    return sent
