"""A signer's one-time data links (``signatures.data_links``): asked for through the long-lived
link of any e-mail, mailed to the signature's own address within the mail limits, spent once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import deliver_outbox, last_mailed, make_petition, sign_and_confirm, signer
from undersign.core.crypto import token_digest
from undersign.core.models import OutboundEmail
from undersign.signatures.data_links import (
    DataLinkInvalid,
    signer_data_link_exchange,
    signer_data_link_issue,
    signer_data_link_request,
    signer_data_link_spend,
    signer_data_links_purge_expired,
)
from undersign.signatures.links import data_link_check, unsubscribe_token, withdraw_link_check
from undersign.signatures.models import Signature, SignerDataLink
from undersign.signatures.withdrawal import signature_withdraw

pytestmark = pytest.mark.django_db
ONE_TIME = re.compile(r"https?://[^/\s]+/[a-z-]+/signatures/my-data/([\w-]+)/")


def request_link(signature: Signature, check=data_link_check) -> bool:
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))
    return signer_data_link_request(token=token, check=check(token=token))


class TestAskingForALink:
    def test_a_one_time_link_goes_to_the_signatures_own_address(self, settings):
        petition = make_petition(action="Rename Zanzibar Quay")
        signature = sign_and_confirm(petition, signer(email="suzie@example.org"))
        mail.outbox.clear()
        assert request_link(signature)
        token = last_mailed(ONE_TIME, "suzie@example.org").group(1)
        [message] = mail.outbox
        assert "Zanzibar" not in message.subject and "Zanzibar" not in message.body
        assert f"{settings.SIGNER_DATA_LINK_MINUTES} minutes" in message.body
        link = SignerDataLink.objects.get(digest=token_digest(token))
        assert link.signature_id == signature.pk
        assert link.expires_at - link.created_at == timedelta(minutes=settings.SIGNER_DATA_LINK_MINUTES)
        assert token not in str(list(OutboundEmail.objects.values_list()))  # the outbox keeps no token

    @pytest.mark.parametrize("check", [withdraw_link_check, lambda token: "", lambda token: "A" * 22])
    def test_another_links_check_or_none_asks_for_nothing(self, check):
        signature = sign_and_confirm(make_petition())
        mail.outbox.clear()
        assert not request_link(signature, check=check)
        deliver_outbox()
        assert mail.outbox == [] and not SignerDataLink.objects.exists()

    @pytest.mark.parametrize(("token", "check"), [("", ""), ("nope", "nope"), ("x" * 400, "y" * 400)])
    def test_a_link_to_nothing_asks_for_nothing(self, token, check):
        assert not signer_data_link_request(token=token, check=check)
        assert not OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SIGNER_DATA_LINK).exists()

    def test_a_withdrawn_signature_has_no_data_link_any_more(self):
        signature = sign_and_confirm(make_petition())
        token = unsubscribe_token(tag=bytes(signature.dedup_tag))
        signature_withdraw(signature_id=signature.pk)
        assert not signer_data_link_request(token=token, check=data_link_check(token=token))

    def test_the_mail_limits_count_these_links_too(self, settings):
        settings.MAIL_PER_ADDRESS_PETITION_DAY = 3  # the confirmation took one
        signature = sign_and_confirm(make_petition(), signer(email="suzie@example.org"))
        mail.outbox.clear()
        assert [request_link(signature) for _ in range(4)] == [True, True, False, False]
        deliver_outbox()
        assert len(mail.outbox) == 2


class TestSpendingALink:
    def test_a_link_works_once(self):
        signature = sign_and_confirm(make_petition())
        token = signer_data_link_issue(signature_id=signature.pk)
        assert signer_data_link_spend(token=token).pk == signature.pk
        assert not SignerDataLink.objects.exists()
        with pytest.raises(DataLinkInvalid):
            signer_data_link_spend(token=token)

    def test_an_expired_link_is_refused_and_gone(self, settings):
        signature = sign_and_confirm(make_petition())
        then = timezone.now() - timedelta(minutes=settings.SIGNER_DATA_LINK_MINUTES, seconds=1)
        token = signer_data_link_issue(signature_id=signature.pk, now=then)
        with pytest.raises(DataLinkInvalid):
            signer_data_link_spend(token=token)
        assert not SignerDataLink.objects.exists()

    @pytest.mark.parametrize("token", ["", "nope", "x" * 500])
    def test_an_unknown_link_is_refused(self, token):
        with pytest.raises(DataLinkInvalid):
            signer_data_link_spend(token=token)

    def test_the_page_trades_the_mailed_link_for_a_fresh_proof(self):
        signature = sign_and_confirm(make_petition())
        token = signer_data_link_issue(signature_id=signature.pk)
        shown, proof = signer_data_link_exchange(token=token)
        assert shown.pk == signature.pk and proof != token
        assert list(SignerDataLink.objects.values_list("digest", flat=True)) == [token_digest(proof)]


def test_links_that_expired_unused_are_purged():
    signature = sign_and_confirm(make_petition())
    now = timezone.now()
    signer_data_link_issue(signature_id=signature.pk, now=now - timedelta(days=1))
    fresh = signer_data_link_issue(signature_id=signature.pk, now=now)
    assert signer_data_links_purge_expired(now) == 1
    assert list(SignerDataLink.objects.values_list("digest", flat=True)) == [token_digest(fresh)]
