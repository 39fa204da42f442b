"""What the signatures app does when an app below it tells of a change (connected on import,
by ``SignaturesConfig.ready``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from undersign.signatures.services import signatures_invalidate_too_late
from undersign.transparency.signals import signatures_too_late


@receiver(signatures_too_late, dispatch_uid="undersign-signatures-too-late")
def invalidate_too_late(sender: object, *, signature_ids: list[int], now: datetime, **kwargs: Any) -> None:
    signatures_invalidate_too_late(signature_ids=signature_ids, now=now)
