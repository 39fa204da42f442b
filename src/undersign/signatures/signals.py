"""Hooks through which apps above ``signatures`` act on its changes (they connect receivers in
their ``AppConfig.ready``); ``signatures`` itself imports none of them."""

from django.dispatch import Signal

# Sent inside ``signature_confirm``'s transaction, after the guarded UPDATE, with
# ``signature=`` the confirmed signature (its petition cached, and the relations registered
# below). A receiver's exception rolls the confirmation back.
signature_confirmed = Signal()

# Sent inside the transaction that invalidates or reinstates signatures (``signature_invalidate``,
# ``signature_reinstate``, ``signatures_invalidate_too_late``), with ``signature_ids=`` the ids
# whose status changed: verification keeps its public counters of claims in step.
signatures_status_changed = Signal()

# Sent inside a withdrawal's transaction, after the signature's dedup tag was replaced by random
# bytes, with ``signature_id=``, ``old_tag=`` and ``new_tag=``: whatever an app sealed bound to
# the old tag is sealed afresh bound to the new one, and any keyed tag of its own that could
# still say who signed is replaced too (verification: the claim's member reference, evidence,
# decision notes and member tag).
signature_tag_replaced = Signal()

# Sent inside an erasure's transaction with ``signature_id=``: whatever an app sealed for this
# signature is destroyed (verification: the claim's member reference, evidence, decision notes).
signature_erased = Signal()

# Reverse relations of higher apps that ``signature_for_link`` reads with the signature, in its
# one query, so that their receivers of ``signature_confirmed`` need no query of their own on
# the confirm path (verification registers "claim": on a petition without registries it is
# then known to be absent without asking).
_confirmation_related: list[str] = []


def confirmation_related_add(name: str) -> None:
    if name not in _confirmation_related:
        _confirmation_related.append(name)


def confirmation_related() -> tuple[str, ...]:
    return tuple(_confirmation_related)
