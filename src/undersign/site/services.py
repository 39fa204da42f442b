"""Writes that span several apps, each part done by its own app's service."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from undersign.petitions.models import Petition
from undersign.petitions.services import GroupThresholds, PetitionText, petition_create
from undersign.signatures.models import SignatureKind
from undersign.signatures.services import SignerDetails, signature_create
from undersign.verification.services import petition_verification_set


def petition_start(
    *,
    text: PetitionText,
    creator: SignerDetails,
    verification: dict[str, Any] | None,
    group: GroupThresholds | None = None,
) -> Petition:
    """The create wizard's last step: a new petition awaiting its creator's confirmation, who
    may sign it (``verification``: the arguments of ``petition_verification_set``; None:
    anyone), its safety-in-numbers thresholds (``group``; None: the defaults), and the
    creator's pending signature with its confirmation e-mail — all or none."""
    with transaction.atomic():
        petition = petition_create(text=text, group=group)
        if verification is not None:
            petition_verification_set(petition=petition, **verification)
        signature_create(petition=petition, kind=SignatureKind.CREATOR, details=creator)
    return petition


def sessions_clear_expired() -> int:
    """Delete every expired session, returning how many. Django never deletes them itself; a
    session outliving its use would keep a wizard's sealed draft, and a staff login, in every
    later dump. One DELETE (Django's ``clear_expired`` for the database store, counted here)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
