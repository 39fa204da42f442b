"""The one mail of this app: "there is news about your signature", to a claimant once a
validator decided their claim. It names no petition and no outcome (the mail provider reads
it, docs/threat-model.md adversary 5): its link, the unsubscribe token with a keyed check of
its own (``signatures.links.claim_news_check``), opens the page that says both."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.urls import reverse

from undersign.core.models import OutboundEmail
from undersign.signatures.emails import absolute, recipients_preload, renders_to_signer, signer_message
from undersign.signatures.links import claim_news_args
from undersign.signatures.models import Signature


@renders_to_signer(OutboundEmail.Kind.CLAIM_DECIDED, preload=recipients_preload)
def claim_decided(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    link = absolute(reverse("verification:claim_news", args=claim_news_args(tag=bytes(signature.dedup_tag))))
    return signer_message("claim_decided", signature, {"link": link})
