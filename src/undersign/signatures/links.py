"""The secrets in the links we e-mail to signers, and how a link finds its signature.

A link carries a random or keyed token and nothing else: not the signature's id (which would
tie a mailbox to a row of a dump), not the petition's. The database keeps only keyed digests
of tokens (``core.crypto.token_digest``) under unique indexes, and finds a link's signature by
that digest.

- Confirmation: a fresh random token per e-mail (only the latest works); its digest is
  ``Signature.token_digest``.
- Petition: news of a petition (published, closed, a response) links to it through the
  unsubscribe token plus a keyed check (``petition_link_check``), so that the unsubscribe token
  alone — in every message's ``List-Unsubscribe`` header, "already signed" included, which
  whoever typed the address can cause — does not open the petition.
- Withdrawal and data request: the unsubscribe token plus a keyed check of their own
  (``withdraw_link_check``, ``data_link_check``), made as the petition link's is, each with its
  own purpose, so that neither the ``List-Unsubscribe`` token alone nor one link's check opens
  another's page.
- Signer data: a one-time random token per e-mail, asked for from the data-request page and
  valid ``SIGNER_DATA_LINK_MINUTES``; its digest is ``SignerDataLink.digest``.
- Leaving a safety-in-numbers group: the unsubscribe token plus its own keyed check
  (``group_leave_check``), given only to a group member (on the confirmation page and in their
  mails), so that the token alone, which every mail carries, does not open the leave page.
- Claim news: the unsubscribe token plus its own keyed check (``claim_news_check``), in the
  content-free "news about your signature" mail a claimant gets once a validator decided; its
  page shows the outcome.
- Unsubscribe: one token per signature that stays the same in every message (mail clients keep
  the ``List-Unsubscribe`` address), derived from the signature's dedup tag under the secret
  key, so it can be rebuilt at sending without being stored; its digest is
  ``Signature.unsubscribe_digest``, written with the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import constant_time_compare

from undersign.core.crypto import token_digest


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=16)
def _purpose_key(purpose: str, secret: str) -> bytes:
    # Django's salted_hmac derives this key anew on every call; every mail makes four or five
    # such links.
    return hashlib.sha256(purpose.encode() + secret.encode()).digest()


def _keyed(purpose: str, value: bytes | str) -> bytes:
    """``salted_hmac(purpose, value, algorithm="sha256").digest()``, its key derived once."""
    message = value.encode() if isinstance(value, str) else bytes(value)
    return hmac.digest(_purpose_key(purpose, settings.SECRET_KEY), message, "sha256")


def unsubscribe_token(*, tag: bytes) -> str:
    """The unsubscribe token of the signature whose dedup tag is ``tag``."""
    return _b64(_keyed("undersign.unsubscribe-token/v1", tag))


def unsubscribe_digest(*, tag: bytes) -> bytes:
    """What ``Signature.unsubscribe_digest`` holds for the signature whose dedup tag is ``tag``."""
    return token_digest(unsubscribe_token(tag=tag))


def _check(purpose: str, token: str) -> str:
    return _b64(_keyed(purpose, token)[:16])


def petition_link_check(*, token: str) -> str:
    """The keyed check that makes an unsubscribe token a link to its petition."""
    return _check("undersign.petition-link/v1", token)


def petition_link_valid(*, token: str, check: str) -> bool:
    return constant_time_compare(petition_link_check(token=token), check)


def withdraw_link_check(*, token: str) -> str:
    """The keyed check that makes an unsubscribe token a link that withdraws its signature."""
    return _check("undersign.withdraw-link/v1", token)


def withdraw_link_valid(*, token: str, check: str) -> bool:
    return constant_time_compare(withdraw_link_check(token=token), check)


def data_link_check(*, token: str) -> str:
    """The keyed check that makes an unsubscribe token a link to ask for one's data."""
    return _check("undersign.data-request-link/v1", token)


def data_link_valid(*, token: str, check: str) -> bool:
    return constant_time_compare(data_link_check(token=token), check)


def group_leave_check(*, token: str) -> str:
    """The keyed check that makes an unsubscribe token a link to leave the signer's group."""
    return _check("undersign.group-leave-link/v1", token)


def group_leave_args(*, tag: bytes) -> tuple[str, str]:
    """The (token, check) of the leave link of the group member whose dedup tag is ``tag``."""
    token = unsubscribe_token(tag=tag)
    return token, group_leave_check(token=token)


def group_leave_valid(*, token: str, check: str) -> bool:
    return constant_time_compare(group_leave_check(token=token), check)


def claim_news_check(*, token: str) -> str:
    """The keyed check that makes an unsubscribe token a link to the outcome of its claim."""
    return _check("undersign.claim-news-link/v1", token)


def claim_news_args(*, tag: bytes) -> tuple[str, str]:
    """The (token, check) of the claim-news link of the signature whose dedup tag is ``tag``."""
    token = unsubscribe_token(tag=tag)
    return token, claim_news_check(token=token)


def claim_news_valid(*, token: str, check: str) -> bool:
    return constant_time_compare(claim_news_check(token=token), check)


__all__ = [
    "claim_news_args",
    "claim_news_check",
    "claim_news_valid",
    "data_link_check",
    "data_link_valid",
    "group_leave_args",
    "group_leave_check",
    "group_leave_valid",
    "petition_link_check",
    "petition_link_valid",
    "token_digest",
    "unsubscribe_digest",
    "unsubscribe_token",
    "withdraw_link_check",
    "withdraw_link_valid",
]
