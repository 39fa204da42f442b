"""Withdrawal and erasure: a signer takes their signature back, and may have what we hold about it
destroyed at once.

A signature is withdrawn through the link of its confirmation e-mail (the unsubscribe token and
a keyed check, ``signatures.links``), through the secret of its receipt (the petition and r,
from which its commitment follows), or from the signer's own data page (a one-time proof,
``signatures.data_links``). In one transaction:

- it is invalidated with the reason ``withdrawn``: a confirmed one gets a ``REVOCATION``
  (``WITHDRAWN``) in the log, and its petition's count drops when the integrator appends it;
  one already invalidated (fraud, a rejected claim) stays uncounted, now for good — no reversal
  counts a withdrawn signature again. A pending one (never confirmed, so never counted nor
  logged) is deleted at once, with its claim, data links and unsent e-mails, as the expiry job
  would delete it: kept as withdrawn, its sealed name and address would outlive the link it
  came with. A creator's pending one stays, withdrawn: its petition, never confirmed, is
  deleted with it (``retention``);
- its dedup tag is replaced by random bytes, so the same person may sign again, and the tag no
  longer answers "did this address sign?" to whoever holds the dedup key. The sealed name,
  e-mail and IP address are bound to the tag (``personal_data.pii_context``), so they are sealed
  afresh under the new one; apps above re-seal what they bound to it
  (``signals.signature_tag_replaced``). The unsubscribe digest, derived from the old tag and
  unique, is cleared: the same person signing again would need it, and every long-lived link in
  the old e-mails stops finding the signature;
- a sponsor's withdrawal takes a petition in the moderation queue back to collecting sponsors
  when too few confirmed sponsors remain; a creator's leaves the petition as it is, without a
  creator's name, and records it in the petition's audit trail.

Erasure is a withdrawal plus the destruction, in the live row, of the sealed name, e-mail and IP
address (``personal_data.ERASED``) and of what apps above sealed for the signature
(``signals.signature_erased``). Backups keep the old values, sealed, until the petition's data
key is destroyed and the master key that wrapped it retired.

Every finder here answers ``None`` for anything it cannot use — a bad check, an unknown token, a
signature already withdrawn — and the pages answer the same whatever happened: a link or a
receipt tells no one whether a signature stands behind it.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from undersign.core.crypto import token_digest
from undersign.petitions.models import Transition
from undersign.petitions.services import petition_creator_withdrew, petition_sponsors_fell_short
from undersign.signatures.data_links import signer_data_link_spend
from undersign.signatures.links import withdraw_link_valid
from undersign.signatures.models import WITHDRAWN, Signature, SignatureKind, SignatureStatus, SignerDataLink
from undersign.signatures.personal_data import DecryptionError, signer_fields_erased, signer_fields_reseal
from undersign.signatures.services import signature_invalidate, signatures_delete, sponsors_confirmed_locked
from undersign.signatures.signals import signature_erased, signature_tag_replaced, signatures_status_changed
from undersign_verify.entries import commitment as make_commitment

MAX_TOKEN = 200


def signature_for_withdraw_link(*, token: str, check: str) -> int | None:
    """The id of the signature a withdrawal link (``/signatures/withdraw/<token>/<check>/``)
    names, or None: a bad check, a token of no signature, or one already withdrawn (its
    unsubscribe digest is gone)."""
    if not token or len(token) > MAX_TOKEN or len(check) > MAX_TOKEN:
        return None
    if not withdraw_link_valid(token=token, check=check):
        return None
    return Signature.objects.filter(unsubscribe_digest=token_digest(token)).values_list("pk", flat=True).first()


def signature_for_receipt(*, petition_uuid: uuid.UUID, r: bytes) -> int | None:
    """The id of the signature whose receipt carries ``petition_uuid`` and ``r``, or None. Only
    the signer knows r; the commitment it makes is public in the log, and finds the row."""
    if len(r) != 32:
        return None
    return (
        Signature.objects.filter(petition__uuid=petition_uuid, commitment=make_commitment(petition_uuid, r))
        .values_list("pk", flat=True)
        .first()
    )


def _locked(signature_id: int) -> Signature | None:
    return Signature.objects.select_for_update(of=("self",)).select_related("petition").filter(pk=signature_id).first()


def signature_withdraw(*, signature_id: int) -> bool:
    """Withdraw the signature ``signature_id`` (the module's docstring says what that does).
    Returns whether anything changed: False for no such signature, or one withdrawn already.
    The caller shows the same page either way."""
    with transaction.atomic():
        signature = _locked(signature_id)
        if signature is None or signature.is_withdrawn:
            return False
        _withdraw(signature)
    return True


def signature_withdraw_by_link(*, token: str, check: str) -> bool:
    signature_id = signature_for_withdraw_link(token=token, check=check)
    return signature_id is not None and signature_withdraw(signature_id=signature_id)


def signature_withdraw_by_receipt(*, petition_uuid: uuid.UUID, r: bytes) -> bool:
    signature_id = signature_for_receipt(petition_uuid=petition_uuid, r=r)
    return signature_id is not None and signature_withdraw(signature_id=signature_id)


def signature_withdraw_by_data_proof(*, proof: str, erase: bool) -> Signature:
    """The buttons of the signer's data page: spend their one-time proof, then withdraw the
    signature, or erase it (``erase``). Returns the signature as it is now. Raises
    ``DataLinkInvalid`` for a proof that is unknown, used or expired."""
    signature = signer_data_link_spend(token=proof)
    if erase:
        signature_erase(signature_id=signature.pk)
    else:
        signature_withdraw(signature_id=signature.pk)
    # A pending one is gone: what the page needs (its petition) was read with it.
    return Signature.objects.select_related("petition").filter(pk=signature.pk).first() or signature


def signature_erase(*, signature_id: int) -> bool:
    """Withdraw the signature (if it is not withdrawn already) and destroy its sealed fields in
    the live row, and what apps above sealed for it, in one transaction; its one-time data
    links go too. After this nothing can mail its signer: no address is left to send to.
    Returns whether the signature exists (erasing twice changes nothing more)."""
    with transaction.atomic():
        signature = _locked(signature_id)
        if signature is None:
            return False
        if not signature.is_withdrawn and not _withdraw(signature):
            return True  # it was pending: deleted whole, with its links and its claim
        Signature.objects.filter(pk=signature.pk).update(**signer_fields_erased(), updated_at=timezone.now())
        SignerDataLink.objects.filter(signature_id=signature.pk).delete()
        signature_erased.send(sender=Signature, signature_id=signature.pk)
    return True


def _withdraw(signature: Signature) -> bool:
    """Returns whether the row is kept (False: a pending one, deleted). Precondition: inside a
    transaction, ``signature`` locked (read with its petition) and not withdrawn yet."""
    now = timezone.now()
    if signature.status == SignatureStatus.PENDING and signature.kind != SignatureKind.CREATOR:
        signatures_delete(signature_ids=[signature.pk])
        return False
    if signature.status == SignatureStatus.INVALIDATED:
        # It no longer counted (fraud, a rejected claim, too late), and has no log entry to
        # add; its reason changes so that no reversal can count it again against its signer's
        # will. Its claim leaves the public figures (verification's counters follow).
        Signature.objects.filter(pk=signature.pk).update(invalidation_reason=WITHDRAWN, updated_at=now)
        signatures_status_changed.send(sender=Signature, signature_ids=[signature.pk])
    else:
        signature_invalidate(signature=signature, reason=WITHDRAWN)
    old_tag = bytes(signature.dedup_tag)
    new_tag = secrets.token_bytes(32)
    try:
        sealed = signer_fields_reseal(signature, new_tag=new_tag)
    except DecryptionError:
        sealed = {}  # its petition's key is destroyed: nothing readable is left to bind
    Signature.objects.filter(pk=signature.pk).update(
        dedup_tag=new_tag,
        unsubscribe_digest=None,
        token_digest=None,
        notify_updates=False,
        updated_at=now,
        **sealed,
    )
    signature_tag_replaced.send(sender=Signature, signature_id=signature.pk, old_tag=old_tag, new_tag=new_tag)
    if signature.kind == SignatureKind.SPONSOR:
        _sponsor_withdrew(signature)
    elif signature.kind == SignatureKind.CREATOR:
        petition_creator_withdrew(petition=signature.petition)
    return True


def _sponsor_withdrew(signature: Signature) -> None:
    """A petition in the moderation queue goes back to collecting sponsors when fewer than
    ``SPONSORS_REQUIRED`` confirmed sponsors remain; an open one is not touched."""
    petition = signature.petition
    if not petition.can(Transition.SPONSORS_FELL_SHORT):
        return  # as read with the signature; an open petition is never locked here
    # Counted under the petition's lock, which reads its state afresh: a moderator may have
    # approved it meanwhile, and another sponsor's change must be seen (``sponsors_confirmed_locked``).
    sponsors = sponsors_confirmed_locked(petition=petition)
    if sponsors < settings.SPONSORS_REQUIRED and petition.can(Transition.SPONSORS_FELL_SHORT):
        petition_sponsors_fell_short(petition=petition)
