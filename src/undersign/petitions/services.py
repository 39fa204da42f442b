"""Writes to petitions. Every change of state goes through ``_transition``: a guarded UPDATE
that only moves a petition from an allowed state, and an event row recording the move."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from undersign.core.crypto import new_data_key_id, wrap_data_key
from undersign.core.models import DataKey, OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.petitions.models import Petition, PetitionEvent, PetitionState

S = PetitionState


class TransitionRefused(Exception):
    """The petition is not in a state this change may start from."""

    def __init__(self, petition: Petition, to_state: str) -> None:
        super().__init__(f"petition {petition.pk} cannot go from {petition.state} to {to_state}")
        self.petition = petition
        self.to_state = to_state


@dataclass(frozen=True)
class PetitionText:
    action: str
    background: str
    additional_details: str


def _transition(
    petition: Petition,
    *,
    to_state: str,
    allowed_from: Iterable[str],
    actor: AbstractBaseUser | None = None,
    reason_code: str = "",
    note: str = "",
    **fields: object,
) -> Petition:
    """Move ``petition`` to ``to_state`` if, in the database, it is in ``allowed_from``.
    Precondition: inside a transaction (the event row and the move commit together)."""
    allowed = tuple(allowed_from)
    now = timezone.now()
    # Read the state under a row lock: the event must name the state really left, not that of
    # a stale copy in memory (a petition flagged meanwhile is approved from "flagged").
    current = Petition.objects.select_for_update().filter(pk=petition.pk).values_list("state", flat=True).first()
    if current not in allowed:
        petition.refresh_from_db()
        raise TransitionRefused(petition, to_state)
    Petition.objects.filter(pk=petition.pk, state=current).update(state=to_state, updated_at=now, **fields)
    PetitionEvent.objects.create(
        petition=petition,
        actor=actor,
        from_state=current,
        to_state=to_state,
        reason_code=reason_code,
        note=note,
    )
    petition.refresh_from_db()
    return petition


@transaction.atomic
def petition_create(*, text: PetitionText) -> Petition:
    """A new petition awaiting its creator's confirmation, with its own data key. The creator's
    signature is made by ``signatures.services.signature_create`` in the same transaction."""
    key_id = new_data_key_id()
    petition = Petition.objects.create(
        action=text.action,
        background=text.background,
        additional_details=text.additional_details,
        data_key_id=key_id,
        sponsor_token=secrets.token_urlsafe(24),
    )
    dek = secrets.token_bytes(32)
    master_key_id, wrapped = wrap_data_key(dek)
    DataKey.objects.create(key_id=key_id, petition=petition, master_key_id=master_key_id, wrapped_key=wrapped)
    PetitionEvent.objects.create(petition=petition, to_state=S.PENDING)
    return petition


def petition_validate(*, petition: Petition) -> Petition:
    """The creator confirmed their address: the petition starts collecting sponsors (or goes
    straight to moderation when no sponsors are required). Precondition: transaction open."""
    petition = _transition(petition, to_state=S.VALIDATED, allowed_from=[S.PENDING], validated_at=timezone.now())
    notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_VALIDATED)
    if settings.SPONSORS_REQUIRED == 0:
        petition = petition_mark_sponsored(petition=petition)
    return petition


def petition_mark_sponsored(*, petition: Petition) -> Petition:
    """Enough sponsors confirmed: into the moderation queue. Precondition: transaction open."""
    petition = _transition(
        petition,
        to_state=S.SPONSORED,
        allowed_from=[S.VALIDATED],
        moderation_threshold_reached_at=timezone.now(),
    )
    notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_SPONSORED)
    return petition


def closing_date_for(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.PETITION_DURATION_DAYS)


def petition_close(*, petition: Petition, now: datetime | None = None) -> Petition:
    now = now or timezone.now()
    with transaction.atomic():
        petition = _transition(petition, to_state=S.CLOSED, allowed_from=[S.OPEN], closed_at=now)
        notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_CLOSED)
        return petition


def notify_creator(*, petition: Petition, kind: str) -> None:
    """Queue an e-mail to the petition's creator. Precondition: transaction open."""
    from undersign.signatures.models import Signature, SignatureKind

    creator_id = (
        Signature.objects.filter(petition=petition, kind=SignatureKind.CREATOR).values_list("pk", flat=True).first()
    )
    if creator_id is not None:
        outbox_add(kind=kind, petition_id=petition.pk, signature_id=creator_id)


def petitions_close_due(*, now: datetime | None = None) -> list[int]:
    """Close every open petition whose closing date has passed; returns their ids. Safe to run
    concurrently: the guarded transition closes each petition once."""
    now = now or timezone.now()
    closed = []
    for petition in Petition.objects.filter(state=S.OPEN, closing_date__lte=now).order_by("closing_date"):
        try:
            petition_close(petition=petition, now=now)
        except TransitionRefused:
            continue
        closed.append(petition.pk)
    return closed
