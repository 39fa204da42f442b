"""A signer's own data: the one-time links that open it.

Every e-mail to a signer carries a long-lived data-request link (the unsubscribe token and a
keyed check, ``links.data_link_check``) to a page that shows nothing and offers one button: "E-mail
me a one-time link". That mails, to the signature's own address and within the address's mail
limits, a link with a fresh random token valid ``SIGNER_DATA_LINK_MINUTES``; the database keeps
only its keyed digest (``SignerDataLink``). Mail scanners follow links, so opening it spends
nothing: only the POST of its button does, and answers with the data and a fresh one-time proof
(another ``SignerDataLink``, carried in the page's form) for "Withdraw my signature" or "Erase
my data". The page itself lives in the site app, which may read the retention schedule.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from undersign.core.crypto import token_digest
from undersign.core.errors import Refusal
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.signatures.links import data_link_valid
from undersign.signatures.mail_limits import mail_allowed
from undersign.signatures.models import Signature, SignerDataLink
from undersign.signatures.personal_data import DecryptionError, signer_email

MAX_TOKEN = 200


class DataLinkInvalid(Refusal):
    """A one-time data link or proof that is unknown, used or expired: one page for all."""

    title = gettext_lazy("This link is no longer valid")
    status = 404

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "Each link to your data works once, for a short time. Ask for a new one from the link "
                "“See or erase the data we hold about your signature” in any of our e-mails."
            )
        )


def signer_data_link_request(*, token: str, check: str) -> bool:
    """Queue the e-mail with a one-time data link to the address of the signature a
    data-request link names. Returns whether one was queued — for tests only: nothing is sent
    for a bad link, a signature withdrawn or erased, or an address over its mail limits
    (``mail_limits``), and the page is the same whatever happened."""
    if not token or len(token) > MAX_TOKEN or len(check) > MAX_TOKEN or not data_link_valid(token=token, check=check):
        return False
    signature = Signature.objects.select_related("petition").filter(unsubscribe_digest=token_digest(token)).first()
    if signature is None or signature.is_withdrawn:
        return False
    try:
        email = signer_email(signature)
    except DecryptionError:
        return False  # its petition's personal data is destroyed: nothing left to show
    if not mail_allowed(petition_uuid=signature.petition.uuid, email=email):
        return False
    with transaction.atomic():
        outbox_add(
            kind=OutboundEmail.Kind.SIGNER_DATA_LINK, petition_id=signature.petition_id, signature_id=signature.pk
        )
    return True


def signer_data_link_issue(*, signature_id: int, now: datetime | None = None) -> str:
    """A fresh one-time token for the signature's data, valid ``SIGNER_DATA_LINK_MINUTES``: for
    the e-mail about to be sent, or as the proof the data page's buttons carry. Only its digest
    is stored."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    SignerDataLink.objects.create(
        signature_id=signature_id,
        digest=token_digest(token),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.SIGNER_DATA_LINK_MINUTES),
    )
    return token


def signer_data_link_spend(*, token: str) -> Signature:
    """Spend a one-time data link or proof (its row is deleted, whether or not it had expired)
    and return its signature, with its petition. Raises ``DataLinkInvalid`` for a token that is
    unknown, used or expired. Two requests with one token: one DELETE finds the row."""
    if not token or len(token) > MAX_TOKEN:
        raise DataLinkInvalid
    now = timezone.now()
    link = SignerDataLink.objects.filter(digest=token_digest(token)).values("pk", "signature_id", "expires_at").first()
    if link is None:
        raise DataLinkInvalid
    deleted, _ = SignerDataLink.objects.filter(pk=link["pk"]).delete()
    if not deleted or link["expires_at"] <= now:
        raise DataLinkInvalid
    signature = Signature.objects.select_related("petition").filter(pk=link["signature_id"]).first()
    if signature is None:
        raise DataLinkInvalid
    return signature


def signer_data_link_exchange(*, token: str) -> tuple[Signature, str]:
    """The data page's POST: spend the e-mailed one-time link and issue the fresh one-time proof
    its buttons carry. Raises ``DataLinkInvalid``."""
    signature = signer_data_link_spend(token=token)
    return signature, signer_data_link_issue(signature_id=signature.pk)


def signer_data_links_purge_expired(now: datetime) -> int:
    """Delete the one-time links and proofs that expired unused (a retention job); returns how
    many."""
    deleted, _ = SignerDataLink.objects.filter(expires_at__lte=now).delete()
    return deleted
