"""Held signatures (``SignatureStatus.HELD``): submissions over a limit of the sign path
(``abuse.limits``), stored but not counted, not in the log and not mailed. A moderator releases
them (they become pending and get their confirmation e-mail) or invalidates them; the ones
nobody released are deleted after ``HELD_RETENTION_DAYS``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from undersign.core.batches import batches_run
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.signatures.mail_limits import mail_allowed
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email
from undersign.signatures.services import signatures_delete


def signatures_release(*, signature_ids: list[int]) -> int:
    """Release these held signatures: each becomes pending and its confirmation e-mail is
    queued, counted against its address's mail limits as when signing (over them it is
    pending without a link, as a signature signed over them is; the resend page or signing
    again sends one). Ids that are not held (released, replaced by a later submission,
    invalidated or deleted meanwhile) are skipped. Returns how many were released.

    One transaction: the held rows are locked and released by one UPDATE guarded by status,
    so two moderators releasing the same rows mail each signer once."""
    now = timezone.now()
    with transaction.atomic():
        held = list(
            Signature.objects.select_for_update()
            .filter(pk__in=signature_ids, status=SignatureStatus.HELD)
            .select_related("petition")
            .order_by("pk")
        )
        if not held:
            return 0
        released = Signature.objects.filter(pk__in=[s.pk for s in held], status=SignatureStatus.HELD).update(
            status=SignatureStatus.PENDING, hold_reason="", token_digest=None, token_sent_at=None, updated_at=now
        )
        for signature in held:
            try:
                email = signer_email(signature)
            except DecryptionError:
                continue  # its petition's key is destroyed: nobody to write to
            if mail_allowed(petition_uuid=signature.petition.uuid, email=email):
                outbox_add(
                    kind=OutboundEmail.Kind.SIGNATURE_CONFIRM,
                    petition_id=signature.petition_id,
                    signature_id=signature.pk,
                )
    return released


def signatures_held_delete(now: datetime) -> int:
    """A retention job: delete the held signatures nobody released within ``HELD_RETENTION_DAYS``
    of their last submission (``updated_at``: a held row submitted again is renewed), with what
    hangs off them (``signatures_delete``). Never confirmed, so in no count and no log. In
    batches; returns how many."""
    cutoff = now - timedelta(days=settings.HELD_RETENTION_DAYS)
    stale = Signature.objects.filter(status=SignatureStatus.HELD, updated_at__lt=cutoff)

    def step(size: int) -> int:
        # Locked, and checked again under the lock: a release or a new submission meanwhile
        # waits, then finds no row (and signs afresh) or the row is no longer held.
        ids = list(stale.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:size])
        signatures_delete(signature_ids=ids)
        return len(ids)

    return batches_run(step)
