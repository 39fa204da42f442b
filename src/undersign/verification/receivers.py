"""What verification does when an app below it tells of a change (connected on import, by
``VerificationConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from undersign.signatures.models import Signature
from undersign.signatures.signals import signature_confirmed
from undersign.verification.services import claim_on_signature_confirmed


@receiver(signature_confirmed, dispatch_uid="undersign-claim-on-confirmed")
def validate_claim_by_official_email(sender: object, *, signature: Signature, **kwargs: Any) -> None:
    claim_on_signature_confirmed(signature=signature)
