"""Writes of the abuse app: staff's allow- and block-lists. Each edit leaves a ``ListChange``
row and, once committed, makes every process read the lists again (``abuse.lists``)."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from undersign.abuse.lists import lists_changed
from undersign.abuse.models import ListChange, ListEntry, ListKind, ListTarget
from undersign.core.errors import Refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The broadest networks an entry may name: an allow-list entry for 0.0.0.0/0 would switch the
# limits off for everyone, a block-list one hold every signature on the site.
MIN_PREFIX = {4: 8, 6: 16}
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class ListEntryInvalid(Refusal):
    """A domain or network staff typed that cannot be listed; ``message`` says why."""

    title = gettext_lazy("This entry cannot be added")
    status = 400


def list_value_normalise(*, target: str, value: str) -> str:
    """What is stored for ``value``: a domain lower-cased and IDNA-encoded (``Bücher.example``
    becomes ``xn--bcher-kva.example``), or a network in CIDR form (an address alone is its own
    /32 or /128; host bits are dropped: ``192.0.2.7/24`` is ``192.0.2.0/24``). Raises
    ``ListEntryInvalid`` with a sentence for the form."""
    value = value.strip()
    if target == ListTarget.NETWORK:
        return _network(value)
    if target == ListTarget.DOMAIN:
        return _domain(value)
    raise ListEntryInvalid(gettext("Choose a domain or a network."))


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ListEntryInvalid(
            gettext("Enter a network such as 192.0.2.0/24 or 2001:db8::/48, or one address.")
        ) from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise ListEntryInvalid(
            gettext("That network is too broad: at most /%(prefix)s for this kind.")
            % {"prefix": MIN_PREFIX[network.version]}
        )
    return str(network)


def _domain(value: str) -> str:
    domain = value.lower().removeprefix("@").rstrip(".")
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        pass
    else:
        raise ListEntryInvalid(gettext("Enter a domain name, not an IP address: list networks as networks."))
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ListEntryInvalid(gettext("Enter a domain such as example.org.")) from None
    labels = encoded.split(".")
    if len(labels) < 2 or len(encoded) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ListEntryInvalid(gettext("Enter a domain such as example.org."))
    return encoded


def list_entry_add(*, actor: User, kind: str, target: str, value: str, note: str = "") -> ListEntry:
    """Put a domain or network on the allow- or block-list. Raises ``ListEntryInvalid`` for a
    value that cannot be listed or is listed already (on either list: remove it first)."""
    if kind not in ListKind.values:
        raise ListEntryInvalid(gettext("Choose the allow-list or the block-list."))
    normalised = list_value_normalise(target=target, value=value)
    note = note.strip()[:200]
    now = timezone.now()
    try:
        with transaction.atomic():
            entry = ListEntry.objects.create(
                kind=kind, target=target, value=normalised, note=note, created_by=actor, created_at=now
            )
            ListChange.objects.create(
                action=ListChange.Action.ADD, kind=kind, target=target, value=normalised, note=note, actor=actor,
                created_at=now,
            )  # fmt: skip
            transaction.on_commit(lists_changed)
    except IntegrityError:  # the unique constraint: listed already, perhaps a moment ago by someone else
        raise ListEntryInvalid(f"{normalised} is already listed: remove it first to change its list.") from None
    return entry


def list_entry_remove(*, actor: User, entry_id: int) -> bool:
    """Take an entry off its list; returns whether there was one (two moderators removing it at
    once record one removal)."""
    with transaction.atomic():
        entry = ListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            return False
        ListChange.objects.create(
            action=ListChange.Action.REMOVE, kind=entry.kind, target=entry.target, value=entry.value, actor=actor,
            created_at=timezone.now(),
        )  # fmt: skip
        entry.delete()
        transaction.on_commit(lists_changed)
    return True
