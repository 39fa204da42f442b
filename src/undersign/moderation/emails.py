"""The moderators' e-mails to a petition's creator and signers (published, rejected, taken down,
the response), registered with the outbox by ``ModerationConfig.ready``. The recipient and the
message's frame are the signatures app's (``signatures.emails``)."""

from __future__ import annotations

from django.core.mail import EmailMessage

from undersign.core.models import OutboundEmail
from undersign.core.outbox import renders
from undersign.core.reference import rejection_reason
from undersign.signatures.emails import message_recipient, recipients_preload, signer_message
from undersign.signatures.models import Signature

K = OutboundEmail.Kind


@renders(K.PETITION_PUBLISHED)
def petition_published(message: OutboundEmail, preloaded: Signature | None) -> EmailMessage | None:
    signature = message_recipient(message, preloaded)
    return None if signature is None else signer_message("petition_published", signature, {})


@renders(K.PETITION_REJECTED, K.PETITION_TAKEN_DOWN)
def petition_rejected(message: OutboundEmail, preloaded: Signature | None) -> EmailMessage | None:
    signature = message_recipient(message, preloaded)
    if signature is None:
        return None
    reason = rejection_reason(signature.petition.rejection_code)
    template = "petition_taken_down" if message.kind == K.PETITION_TAKEN_DOWN else "petition_rejected"
    return signer_message(template, signature, {"reason": reason})


@renders(K.PETITION_RESPONSE, preload=recipients_preload)
def petition_response(message: OutboundEmail, preloaded: Signature | None) -> EmailMessage | None:
    signature = message_recipient(message, preloaded)
    if signature is None or not hasattr(signature.petition, "response"):
        return None
    return signer_message("petition_response", signature, {})
