"""A claimant is told a validator decided their claim by a mail that names nothing (no petition,
no outcome); its link shows the outcome on the site."""

import re

import pytest

from tests.factories import deliver_outbox
from tests.verification.conftest import claim_and_confirm, make_validator, restricted_petition
from undersign.verification.models import Claim, DecisionKind, SigningPolicy
from undersign.verification.services import claim_decide, claim_reverse

pytestmark = pytest.mark.django_db

NEWS_LINK = re.compile(r"https?://\S+/signatures/claim/\S+/\S+/")


def decided(registry, kind, mailoutbox, *, policy=SigningPolicy.REGISTRY_ONLY, **vote):
    petition = restricted_petition(registry, policy=policy)
    signature = claim_and_confirm(petition, registry.members.get(external_id="spb-1"), email="ksenia@example.org")
    deliver_outbox()
    mailoutbox.clear()
    claim = Claim.objects.get(signature=signature)
    claim_decide(claim=claim, actor=make_validator("vera", registry), kind=kind, **vote)
    deliver_outbox()
    return petition, claim


def test_the_mail_names_neither_the_petition_nor_the_outcome(registry, mailoutbox):
    petition, _ = decided(registry, DecisionKind.REJECT, mailoutbox, reason_code="no-evidence")
    (message,) = [m for m in mailoutbox if "ksenia@example.org" in m.to]
    assert message.subject == "News about your signature"
    for word in (petition.action, "reject", "valid", "evidence", registry.name):
        assert word.lower() not in (message.subject + message.body).lower()
    assert NEWS_LINK.search(message.body)


def test_the_link_shows_a_validation(client, registry, mailoutbox):
    petition, _ = decided(registry, DecisionKind.VALIDATE, mailoutbox)
    link = NEWS_LINK.search(mailoutbox[-1].body).group(0)
    response = client.get(link)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "Your claim is validated" in response.content.decode() and petition.action in response.content.decode()


def test_the_link_shows_a_rejection_with_its_reason_and_what_it_did_to_the_signature(client, registry, mailoutbox):
    decided(registry, DecisionKind.REJECT, mailoutbox, reason_code="no-evidence")
    text = client.get(NEWS_LINK.search(mailoutbox[-1].body).group(0)).content.decode()
    assert "Your claim was rejected" in text and "Not enough evidence" in text
    assert "your signature no longer counts" in text


def test_a_reversal_shows_the_claim_pending_again(client, registry, mailoutbox):
    _, claim = decided(registry, DecisionKind.VALIDATE, mailoutbox)
    link = NEWS_LINK.search(mailoutbox[-1].body).group(0)
    claim_reverse(claim=claim, actor=make_validator("viktor", registry), note="wrong member")
    assert "awaiting a validator again" in client.get(link).content.decode()


def test_a_tampered_link_shows_nothing(client, registry, mailoutbox):
    petition, _ = decided(registry, DecisionKind.VALIDATE, mailoutbox)
    link = NEWS_LINK.search(mailoutbox[-1].body).group(0)
    response = client.get(link[:-3] + "AAA/")
    assert response.status_code == 404 and petition.action not in response.content.decode()


def test_no_notice_over_the_mail_limits(registry, mailoutbox, settings):
    settings.MAIL_PER_ADDRESS_PETITION_DAY = 1  # the confirmation used it up
    decided(registry, DecisionKind.VALIDATE, mailoutbox)
    assert not [m for m in mailoutbox if m.subject == "News about your signature"]
