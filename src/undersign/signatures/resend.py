""" "Didn't get the e-mail?": the confirmation link sent again to a pending signature.

Anyone can type any address into the resend form, so it must tell nobody whether that address
signed: the page is the same whatever happened, and the request does the same work up to the
one INSERT into the outbox. Its message goes out with the next outbox run, never during the
request (``outbox_add(deliver_after_commit=False)``), so the request's duration does not show
whether a message was sent; the renderer issues a fresh token as it sends
(``signature_confirmation_token_issue``), so only the newest link works.

Limits, in this order, every one counted by keyed hash only (``core.limiter``):
``RESEND_PER_NETWORK_HOUR`` per client network, then the address's mail limits
(``mail_limits``), taken for every request whether or not a signature stands behind the
address, so that repeating a request for an unknown address behaves as for a known one.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from undersign.core.crypto import dedup_tag
from undersign.core.limiter import Rule, limit_take
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.petitions.models import Petition
from undersign.signatures.mail_limits import mail_allowed
from undersign.signatures.models import Signature, SignatureStatus


def _per_network() -> Rule:
    return Rule(scope="resend-network/v1", limit=settings.RESEND_PER_NETWORK_HOUR, window=timedelta(hours=1))


def signature_confirmation_resend(*, petition: Petition, email: str, network: str) -> bool:
    """Queue the confirmation e-mail again for the pending signature ``email`` made on
    ``petition`` (any kind: signer, sponsor or creator). Returns whether one was queued — for
    tests only: nothing is queued over the network's or the address's limits, nor for an
    address with no pending signature (none, confirmed, withdrawn, invalidated), and the page
    is the same whatever happened. ``network``: ``core.http.client_network``."""
    if not limit_take(rule=_per_network(), parts=[network]):
        return False
    if not mail_allowed(petition_uuid=petition.uuid, email=email):
        return False
    tag = dedup_tag(petition.uuid, email, version=petition.dedup_version)
    signature_id = (
        Signature.objects.filter(petition=petition, dedup_tag=tag, status=SignatureStatus.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
    if signature_id is None:
        return False
    with transaction.atomic():
        outbox_add(
            kind=OutboundEmail.Kind.SIGNATURE_CONFIRM,
            petition_id=petition.pk,
            signature_id=signature_id,
            deliver_after_commit=False,
        )
    return True
