"""Hooks through which apps above ``signatures`` act on its changes (they connect receivers in
their ``AppConfig.ready``); ``signatures`` itself imports none of them."""

from collections.abc import Callable

from django.dispatch import Signal

from undersign.petitions.models import Petition

# Sent inside ``signature_confirm``'s transaction, after the guarded UPDATE, with
# ``signature=`` the confirmed signature (its petition cached, and the relations registered
# below). A receiver's exception rolls the confirmation back.
signature_confirmed = Signal()

# Sent inside the transaction that invalidates or reinstates signatures (``signature_invalidate``,
# ``signature_reinstate``, ``signatures_invalidate_too_late``) or takes them out of their group
# (``signature_group_leave``), with ``signature_ids=`` the ids whose status or display changed:
# verification keeps its public counters of claims in step.
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


# Whether a petition offers "name me only together with my group" (``Display.GROUP``): only
# verification can tell (a group is named once enough of its members are verified, so only a
# petition that takes registry claims offers it); it registers the answer. Without one, none does.
_group_offered: list[Callable[[Petition], bool]] = []


def group_offered_register(offered: Callable[[Petition], bool]) -> None:
    if offered not in _group_offered:
        _group_offered.append(offered)


def group_offered(petition: Petition) -> bool:
    return any(offered(petition) for offered in _group_offered)


# Whether a petition's group has been named already (verification registers the answer): a
# signer who chooses it then is named at the next snapshot, a newcomer to a published list,
# and is told so before choosing; there is nothing left to leave.
_group_named: list[Callable[[Petition], bool]] = []


def group_named_register(named: Callable[[Petition], bool]) -> None:
    if named not in _group_named:
        _group_named.append(named)


def group_named(petition: Petition) -> bool:
    return any(named(petition) for named in _group_named)
