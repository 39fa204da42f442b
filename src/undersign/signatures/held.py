"""Held signatures released for confirmation (a moderator's decision).

Part A of issue 12 owns this module; this version has the same name and signature so the
moderators' tools can be written and tested against it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.signatures.mail_limits import mail_allowed
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email


def signatures_release(*, signature_ids: list[int]) -> int:
    """Move these held signatures to pending and queue each one's confirmation e-mail (within
    its address's mail caps: over them it is released without a mail, and a resend sends one
    later). A signature no longer held (replaced, released or invalidated meanwhile) is left
    alone. Returns how many were released."""
    released = 0
    now = timezone.now()
    with transaction.atomic():
        rows = (
            Signature.objects.select_for_update()
            .filter(pk__in=signature_ids, status=SignatureStatus.HELD)
            .select_related("petition")
            .order_by("pk")
        )
        for signature in rows:
            Signature.objects.filter(pk=signature.pk, status=SignatureStatus.HELD).update(
                status=SignatureStatus.PENDING, updated_at=now
            )
            released += 1
            try:
                email = signer_email(signature)
            except DecryptionError:
                continue  # the petition's key is gone: no address to write to
            if mail_allowed(petition_uuid=signature.petition.uuid, email=email):
                outbox_add(
                    kind=OutboundEmail.Kind.SIGNATURE_CONFIRM,
                    petition_id=signature.petition_id,
                    signature_id=signature.pk,
                )
    return released
