"""How many e-mails the sign, sponsor and claim forms may cause to one address.

Anyone can type anyone's address into a form; every message we send because of it lands in a
mailbox that others read (the provider, an employer, whoever holds the phone). So per address:
at most ``MAIL_PER_ADDRESS_PETITION_DAY`` messages per petition and ``MAIL_PER_ADDRESS_DAY``
site-wide in 24 hours, and "you have already signed" at most once per
``ALREADY_SIGNED_MAIL_DAYS`` per petition. Counters are the keyed limiter's
(``core.limiter``): named by an HMAC of the normalised address, never the address.
Over a limit nothing is sent and the visitor sees the same page as ever.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from undersign.core.crypto import DEDUP_CURRENT, normalise_email
from undersign.core.limiter import Part, Rule, limit_give_back, limit_take_all, limit_take_counted

DAY = timedelta(days=1)


def _per_address() -> Rule:
    return Rule(scope="mail-address/v1", limit=settings.MAIL_PER_ADDRESS_DAY, window=DAY)


def _per_address_petition() -> Rule:
    return Rule(scope="mail-address-petition/v1", limit=settings.MAIL_PER_ADDRESS_PETITION_DAY, window=DAY)


def _already_signed() -> Rule:
    return Rule(scope="mail-already-signed/v1", limit=1, window=timedelta(days=settings.ALREADY_SIGNED_MAIL_DAYS))


def _takes(petition_uuid: uuid.UUID, email: str, *, already_signed: bool) -> list[tuple[Rule, list[Part]]]:
    # The newest normalisation whatever the petition's dedup version: these counters live a day at
    # most and are stored nowhere, so folding more spellings of one mailbox together only makes
    # its limits tighter. Counters made before the change merge with the new ones for most
    # addresses (the two forms agree but for IDNA and quoted spellings); the scope keeps its
    # label so that a deploy does not reset every address's count.
    address = normalise_email(email, version=DEDUP_CURRENT)
    petition = petition_uuid.bytes  # fixed width: 16 bytes
    takes: list[tuple[Rule, list[Part]]] = [
        (_per_address_petition(), [petition, address]),
        (_per_address(), [address]),
    ]
    if already_signed:
        takes.insert(0, (_already_signed(), [petition, address]))
    return takes


def mail_allowed(*, petition_uuid: uuid.UUID, email: str, already_signed: bool = False) -> bool:
    """Count one message to ``email`` about the petition and say whether it may go.
    The narrowest rule is taken first, so a refused message does not use up the wider ones."""
    return limit_take_all(takes=_takes(petition_uuid, email, already_signed=already_signed))


@dataclass(frozen=True)
class MailTaken:
    """A confirmation mail counted ahead of knowing whether it goes (``mail_taken``)."""

    allowed: bool
    takes: list[tuple[Rule, list[Part]]]  # the counters it was counted against


def mail_taken(*, petition_uuid: uuid.UUID, email: str) -> MailTaken:
    """``mail_allowed`` for a confirmation mail, counted before the signature is written so
    that the write and its outbox row can be one statement; ``mail_give_back`` undoes it if the
    mail turns out not to be that one (the address had signed already)."""
    takes = _takes(petition_uuid, email, already_signed=False)
    allowed, counted = limit_take_counted(takes=takes)
    return MailTaken(allowed=allowed, takes=takes[:counted])


def mail_give_back(taken: MailTaken) -> None:
    limit_give_back(takes=taken.takes)
