"""What verification does when an app below it tells of a change (connected on import, by
``VerificationConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from undersign.signatures.models import Signature
from undersign.signatures.signals import (
    signature_confirmed,
    signature_erased,
    signature_tag_replaced,
    signatures_status_changed,
)
from undersign.verification.services import (
    claim_on_signature_confirmed,
    claim_signature_erased,
    claim_signature_tag_replaced,
    claims_counters_sync_for_signatures,
)


@receiver(signature_confirmed, dispatch_uid="undersign-claim-on-confirmed")
def validate_claim_by_official_email(sender: object, *, signature: Signature, **kwargs: Any) -> None:
    claim_on_signature_confirmed(signature=signature)


@receiver(signatures_status_changed, dispatch_uid="undersign-claim-counters-on-status")
def keep_claim_counters_in_step(sender: object, *, signature_ids: list[int], **kwargs: Any) -> None:
    claims_counters_sync_for_signatures(signature_ids=signature_ids)


@receiver(signature_tag_replaced, dispatch_uid="undersign-claim-on-tag-replaced")
def rebind_claim_to_new_tag(
    sender: object, *, signature_id: int, old_tag: bytes, new_tag: bytes, **kwargs: Any
) -> None:
    claim_signature_tag_replaced(signature_id=signature_id, old_tag=old_tag, new_tag=new_tag)


@receiver(signature_erased, dispatch_uid="undersign-claim-on-erased")
def erase_claim(sender: object, *, signature_id: int, **kwargs: Any) -> None:
    claim_signature_erased(signature_id=signature_id)
