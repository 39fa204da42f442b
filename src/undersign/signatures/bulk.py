"""Signatures invalidated and reinstated many at a time (the moderators' bulk actions,
``moderation.bulk``). Each function changes one batch in the caller's transaction and returns
what it did per signature, so the caller records it and can undo exactly that."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from undersign.signatures.models import WITHDRAWN, Signature, SignatureStatus
from undersign.signatures.signals import signatures_status_changed
from undersign.transparency.services import LoggedSignature, log_reinstate_add, log_revocation_add

FRAUD = "fraud"
# What a bulk invalidation may take a signature from, and so what its reversal returns it to.
INVALIDATABLE = (SignatureStatus.HELD, SignatureStatus.PENDING, SignatureStatus.CONFIRMED)


def _logged(signature: Signature) -> LoggedSignature:
    return LoggedSignature(
        petition_id=signature.petition_id,
        petition_uuid=signature.petition.uuid,
        signature_id=signature.pk,
        region=signature.region,
    )


def signatures_invalidate_fraud(
    *, signature_ids: list[int], from_statuses: tuple[str, ...] = INVALIDATABLE
) -> dict[int, str]:
    """Invalidate these signatures as fraud: a confirmed one gets a REVOCATION ("fraud") in
    the log, a held or pending one is just invalidated (it never counted). One no longer in
    ``from_statuses`` (already invalidated, released from held, gone) is left alone. Returns
    the status each changed one had.
    Precondition: transaction open (the rows are locked until it commits)."""
    now = timezone.now()
    rows = list(
        Signature.objects.select_for_update()
        .filter(pk__in=signature_ids, status__in=[s for s in from_statuses if s in INVALIDATABLE])
        .select_related("petition")
        .order_by("pk")
    )
    if not rows:
        return {}
    Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=SignatureStatus.INVALIDATED, invalidated_at=now, invalidation_reason=FRAUD, updated_at=now
    )
    for row in rows:
        if row.status == SignatureStatus.CONFIRMED:
            assert row.commitment is not None, "constraint signature_confirmed_has_commitment"
            log_revocation_add(signature=_logged(row), commitment=bytes(row.commitment), reason=FRAUD, now=now)
    changed = [row.pk for row in rows]
    signatures_status_changed.send(sender=Signature, signature_ids=changed)
    return {row.pk: row.status for row in rows}


def signatures_reinstate_fraud(*, previous: dict[int, str]) -> list[int]:
    """Undo ``signatures_invalidate_fraud``: each signature still invalidated as fraud goes
    back to the status it had (``previous``). A confirmed one counts again through a REINSTATE
    in the log; a held or pending one is held or pending again. One its signer withdrew
    meanwhile, or invalidated for another reason, is left alone. Returns the ids reinstated.
    Precondition: transaction open."""
    now = timezone.now()
    rows = list(
        Signature.objects.select_for_update()
        .filter(pk__in=list(previous), status=SignatureStatus.INVALIDATED, invalidation_reason=FRAUD)
        .exclude(Q(invalidation_reason=WITHDRAWN))
        .select_related("petition")
        .order_by("pk")
    )
    done: list[int] = []
    for row in rows:
        status = previous[row.pk]
        if status not in INVALIDATABLE:
            continue
        Signature.objects.filter(pk=row.pk).update(
            status=status, invalidated_at=None, invalidation_reason="", updated_at=now
        )
        if status == SignatureStatus.CONFIRMED:
            assert row.commitment is not None, "kept from its confirmation"
            log_reinstate_add(signature=_logged(row), commitment=bytes(row.commitment), now=now)
        done.append(row.pk)
    if done:
        signatures_status_changed.send(sender=Signature, signature_ids=done)
    return done
