"""The moderators' e-mails to a petition's creator and signers (published, rejected, taken down,
the response), and the abuse alerts to moderators; registered with the outbox by
``ModerationConfig.ready``. A signer's address and the message's frame are the signatures
app's (``signatures.emails``)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from undersign.core.models import OutboundEmail
from undersign.core.outbox import message_text, renders
from undersign.core.reference import rejection_reason
from undersign.moderation.models import AbuseAlert
from undersign.moderation.selectors import moderator_addresses
from undersign.signatures.emails import absolute, recipients_preload, renders_to_signer, signer_message
from undersign.signatures.models import Signature

K = OutboundEmail.Kind


@renders_to_signer(K.PETITION_PUBLISHED)
def petition_published(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    return signer_message("petition_published", signature, {})


@renders_to_signer(K.PETITION_REJECTED, K.PETITION_TAKEN_DOWN)
def petition_rejected(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    reason = rejection_reason(signature.petition.rejection_code)
    template = "petition_taken_down" if message.kind == K.PETITION_TAKEN_DOWN else "petition_rejected"
    return signer_message(template, signature, {"reason": reason})


@renders_to_signer(K.PETITION_RESPONSE, preload=recipients_preload)
def petition_response(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    if not hasattr(signature.petition, "response"):
        return None
    return signer_message("petition_response", signature, {})


@renders(K.ABUSE_ALERT)
def abuse_alert(message: OutboundEmail, preloaded: object) -> EmailMessage | None:
    """To every moderator with an address: the petition's id and counts, and links to the
    pages that show more to whoever signs in. Nothing to send once the petition has gone, or
    when no moderator has an address."""
    if message.petition_id is None:
        return None
    alert = AbuseAlert.objects.filter(petition_id=message.petition_id).order_by("-hour", "-pk").first()
    recipients = moderator_addresses()
    if alert is None or not recipients:
        return None
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "alert": alert,
        "level": settings.ABUSE_ALERT_PER_HOUR,
        "review_url": absolute(reverse("moderation:held_petition", args=[alert.petition_id])),
        "trending_url": absolute(reverse("moderation:trending", args=[alert.petition_id])),
    }
    subject, body = message_text("emails/abuse_alert.txt", context)
    # Bcc: moderators need not learn each other's addresses from an alert.
    return EmailMessage(
        subject=subject,
        body=body,
        bcc=recipients,
        headers={"Auto-Submitted": "auto-generated"},
    )
