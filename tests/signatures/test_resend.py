"""Sending a confirmation link again (``signatures.resend``): only to a pending signature of
that petition, a fresh link that replaces the old one, within the network's and the address's
limits."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.petitions.models import PetitionState
from undersign.signatures.models import SignatureKind
from undersign.signatures.resend import signature_confirmation_resend
from undersign.signatures.services import InvalidLink, signature_confirm, signature_create, signature_for_link
from undersign.signatures.withdrawal import signature_withdraw

pytestmark = pytest.mark.django_db
NET = "192.0.2.0/24"


def resend(petition, email: str, network: str = NET) -> bool:
    return signature_confirmation_resend(petition=petition, email=email, network=network)


def mailed_to(address: str) -> int:
    deliver_outbox()
    return sum(address in message.to for message in mail.outbox)


def queued() -> int:
    return OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SIGNATURE_CONFIRM, sent_at__isnull=True).count()


class TestWhatIsSent:
    def test_a_pending_signature_gets_a_fresh_link_and_the_old_one_dies(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        signature_id, old = last_confirm_link("suzie@example.org")
        mail.outbox.clear()
        assert resend(petition, "Suzie@Example.org")  # the dedup tag's normalisation finds her
        new_id, new = last_confirm_link("suzie@example.org")
        assert new_id == signature_id and new != old
        with pytest.raises(InvalidLink):
            signature_for_link(token=old)
        signature_confirm(token=new)

    def test_a_sponsors_pending_signature_too(self):
        petition = make_petition(state=PetitionState.VALIDATED)
        signature_create(petition=petition, details=signer(email="sam@example.org"), kind=SignatureKind.SPONSOR)
        deliver_outbox()
        mail.outbox.clear()
        assert resend(petition, "sam@example.org")
        assert mailed_to("sam@example.org") == 1

    def test_nothing_for_an_unknown_confirmed_or_withdrawn_address_or_another_petition(self):
        petition, other = make_petition(), make_petition()
        confirmed = sign_and_confirm(petition, signer(email="conf@example.org"))
        withdrawn = sign_and_confirm(petition, signer(email="gone@example.org"))
        signature_withdraw(signature_id=withdrawn.pk)
        signature_create(petition=other, details=signer(email="elsewhere@example.org"))
        deliver_outbox()
        mail.outbox.clear()
        for address in ("nobody@example.org", "conf@example.org", "gone@example.org", "elsewhere@example.org"):
            assert not resend(petition, address)
        assert confirmed.pk and queued() == 0

    def test_the_request_never_sends_the_mail_itself(self, django_capture_on_commit_callbacks):
        """The mail waits for the outbox run even without a broker, so the request's duration is
        the same whether or not it queued one (signatures.resend)."""
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        deliver_outbox()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert resend(petition, "suzie@example.org")
        assert callbacks == [] and queued() == 1


class TestLimits:
    def test_the_address_mail_limits_count_every_request(self, settings):
        settings.MAIL_PER_ADDRESS_PETITION_DAY = 3  # signing took one
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        assert [resend(petition, "suzie@example.org") for _ in range(3)] == [True, True, False]
        assert mailed_to("suzie@example.org") == 3  # at signing, then twice again

    def test_requests_for_an_unknown_address_count_as_well(self, settings):
        """Asking about an unknown address uses its allowance just as for a known one, so a
        run of requests behaves the same whoever stands behind it."""
        settings.MAIL_PER_ADDRESS_PETITION_DAY = 2
        petition = make_petition()
        assert not resend(petition, "later@example.org")
        assert not resend(petition, "later@example.org")
        signature_create(petition=petition, details=signer(email="later@example.org"))  # over the cap: no mail
        assert not resend(petition, "later@example.org")
        assert queued() == 0

    def test_one_network_has_a_cap_whatever_addresses_it_names(self, settings):
        settings.RESEND_PER_NETWORK_HOUR = 2
        petition = make_petition()
        for address in ("a@example.org", "b@example.org", "c@example.org"):
            signature_create(petition=petition, details=signer(email=address))
        deliver_outbox()
        assert resend(petition, "a@example.org")
        assert resend(petition, "nobody@example.org") is False
        assert not resend(petition, "b@example.org")  # the network's third request: nothing sent
        assert resend(petition, "c@example.org", network="198.51.100.0/24")  # another network
        assert queued() == 2
