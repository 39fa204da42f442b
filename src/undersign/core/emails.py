"""How each kind of outbox message is built. Addresses are decrypted only here, at sending."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from undersign.core.crypto import open_sealed, token_digest
from undersign.core.models import OutboundEmail
from undersign.core.outbox import renders
from undersign.core.reference import region_names, rejection_reason
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus

K = OutboundEmail.Kind
UNSUBSCRIBE_SALT = "undersign.unsubscribe"
# Messages a signer asked not to get once they unsubscribed (the others answer their own acts).
_UPDATES = {K.SPONSOR_SIGNED, K.PETITION_CLOSED, K.PETITION_RESPONSE}


def unsubscribe_token(signature_id: int) -> str:
    return signing.dumps(signature_id, salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_signature_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def signer_name(signature: Signature) -> str:
    from undersign.signatures.services import pii_context

    return open_sealed(signature.name_sealed, context=pii_context(bytes(signature.dedup_tag), "name"))


def signer_email(signature: Signature) -> str:
    from undersign.signatures.services import pii_context

    return open_sealed(signature.email_sealed, context=pii_context(bytes(signature.dedup_tag), "email"))


def _message(template: str, signature: Signature, context: dict[str, object]) -> EmailMessage:
    unsubscribe = absolute(reverse("signatures:unsubscribe", args=[signature.pk, unsubscribe_token(signature.pk)]))
    context = {
        **context,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "name": signer_name(signature),
        "petition": signature.petition,
        "petition_url": absolute(reverse("petitions:detail", args=[signature.petition_id])),
        "unsubscribe_url": unsubscribe,
    }
    subject, _, body = render_to_string(f"emails/{template}.txt", context).strip().partition("\n")
    return EmailMessage(
        subject=subject.strip(),
        body=body.strip() + "\n",
        to=[signer_email(signature)],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def _signature(message: OutboundEmail) -> Signature | None:
    if OutboundEmail.signature.is_cached(message):  # fetched with the locked outbox row
        signature = message.signature
    else:
        signature = Signature.objects.select_related("petition").filter(pk=message.signature_id).first()
    if signature is None:
        return None
    if message.kind in _UPDATES and signature.unsubscribed_at is not None:
        return None
    return signature


@renders(K.SIGNATURE_CONFIRM)
def signature_confirm(message: OutboundEmail) -> EmailMessage | None:
    """A fresh token per message: only the latest link works, and the database holds only its
    digest. Nothing to send if the signature was confirmed, invalidated or replaced (which
    queues its own message) since it was read: the UPDATE is guarded by status and
    ``updated_at``, as the signature may have been read before the outbox row was locked."""
    signature = _signature(message)
    if signature is None or signature.status != SignatureStatus.PENDING:
        return None
    token = secrets.token_urlsafe(32)
    updated = Signature.objects.filter(
        pk=signature.pk, status=SignatureStatus.PENDING, updated_at=signature.updated_at
    ).update(token_digest=token_digest(token), token_sent_at=timezone.now())
    if not updated:
        return None
    link = absolute(reverse("signatures:confirm", args=[signature.pk, token]))
    template = {
        SignatureKind.CREATOR: "confirm_creator",
        SignatureKind.SPONSOR: "confirm_sponsor",
    }.get(signature.kind, "confirm_signature")
    return _message(
        template,
        signature,
        {"link": link, "link_days": settings.CONFIRMATION_LINK_DAYS, "region": region_names().get(signature.region)},
    )


@renders(K.ALREADY_SIGNED)
def already_signed(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    return None if signature is None else _message("already_signed", signature, {})


@renders(K.SPONSOR_SIGNED)
def sponsor_signed(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    if signature is None:
        return None
    sponsors = Signature.objects.filter(
        petition_id=signature.petition_id, kind=SignatureKind.SPONSOR, status=SignatureStatus.CONFIRMED
    ).count()
    return _message(
        "sponsor_signed",
        signature,
        {"sponsors": sponsors, "required": settings.SPONSORS_REQUIRED, "sponsor_url": _sponsor_url(signature)},
    )


def _sponsor_url(signature: Signature) -> str:
    petition = signature.petition
    return absolute(reverse("signatures:sponsor", args=[petition.pk, petition.sponsor_token]))


@renders(K.PETITION_VALIDATED)
def petition_validated(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    if signature is None:
        return None
    return _message(
        "petition_validated",
        signature,
        {"sponsor_url": _sponsor_url(signature), "required": settings.SPONSORS_REQUIRED},
    )


@renders(K.PETITION_SPONSORED)
def petition_sponsored(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    return None if signature is None else _message("petition_sponsored", signature, {})


@renders(K.PETITION_PUBLISHED)
def petition_published(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    return None if signature is None else _message("petition_published", signature, {})


@renders(K.PETITION_REJECTED)
@renders(K.PETITION_TAKEN_DOWN)
def petition_rejected(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    if signature is None:
        return None
    reason = rejection_reason(signature.petition.rejection_code)
    template = "petition_taken_down" if message.kind == K.PETITION_TAKEN_DOWN else "petition_rejected"
    return _message(template, signature, {"reason": reason, "details": signature.petition.rejection_details})


@renders(K.PETITION_CLOSED)
def petition_closed(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    return None if signature is None else _message("petition_closed", signature, {})


@renders(K.PETITION_RESPONSE)
def petition_response(message: OutboundEmail) -> EmailMessage | None:
    signature = _signature(message)
    if signature is None or not hasattr(signature.petition, "response"):
        return None
    return _message("petition_response", signature, {"response": signature.petition.response})
