"""The "Didn't get the e-mail?" pages over HTTP: one answer whatever address, clear errors for
bad input, links from the pages a signer comes from."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.petitions.models import PetitionState
from undersign.signatures.models import SignatureKind
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db


def resend_url(petition) -> str:
    return f"/en/petitions/{petition.pk}/sign/resend/"


class TestOneAnswer:
    def test_the_same_page_for_pending_confirmed_unknown_and_capped_addresses(self, settings):
        settings.MAIL_PER_ADDRESS_PETITION_DAY = 2
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="pending@example.org"))
        sign_and_confirm(petition, signer(email="confirmed@example.org"))
        signature_create(petition=petition, details=signer(email="capped@example.org"))
        deliver_outbox()
        mail.outbox.clear()
        client = Client()
        client.post(resend_url(petition), {"email": "capped@example.org"})  # its second mail today: the cap
        answers = [
            client.post(resend_url(petition), {"email": address})
            for address in ("pending@example.org", "confirmed@example.org", "nobody@example.org", "capped@example.org")
        ]
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        assert b"If a signature awaiting confirmation exists for this address, we have sent its link again" in (
            answers[0].content
        )
        assert b"csrfmiddlewaretoken" not in answers[0].content  # nothing that differs per request
        assert b"pending@example.org" not in answers[0].content
        deliver_outbox()
        asked = {"pending@example.org", "confirmed@example.org", "nobody@example.org", "capped@example.org"}
        mailed = sorted(m.to[0] for m in mail.outbox if m.to[0] in asked)
        assert mailed == ["capped@example.org", "pending@example.org"]

    def test_over_the_networks_cap_the_same_page_and_nothing_sent(self, settings):
        settings.RESEND_PER_NETWORK_HOUR = 1
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="pending@example.org"))
        deliver_outbox()
        mail.outbox.clear()
        first = Client(REMOTE_ADDR="203.0.113.5").post(resend_url(petition), {"email": "nobody@example.org"})
        # Another address in the same /24: the same network, over its cap.
        second = Client(REMOTE_ADDR="203.0.113.77").post(resend_url(petition), {"email": "pending@example.org"})
        assert first.status_code == second.status_code == 200 and first.content == second.content
        deliver_outbox()
        assert mail.outbox == []


class TestForm:
    def test_the_form_page_is_private(self, client):
        petition = make_petition()
        response = client.get(resend_url(petition))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert b"csrfmiddlewaretoken" in response.content and petition.action.encode() in response.content

    @pytest.mark.parametrize(
        ("email", "message"),
        [
            ("", b"Enter your e-mail address."),
            ("not-an-address", b"Enter an e-mail address like name@example.org."),
            ("suzie @example.org", b"Enter an e-mail address like name@example.org."),
            ("a" * 250 + "@example.org", b"An e-mail address is at most 254 characters."),
        ],
    )
    def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(self, client, email, message):
        petition = make_petition()
        before = OutboundEmail.objects.count()
        response = client.post(resend_url(petition), {"email": email})
        assert response.status_code == 400
        assert message in response.content
        assert f'value="{email}"'.encode() in response.content or not email
        assert OutboundEmail.objects.count() == before

    def test_no_page_for_a_petition_not_public_or_no_longer_signable(self, client):
        assert client.get(resend_url(make_petition(state=PetitionState.VALIDATED))).status_code == 404
        closed = client.post(resend_url(make_petition(state=PetitionState.CLOSED)), {"email": "a@example.org"})
        assert closed.status_code == 409

    def test_the_pages_a_signer_comes_from_link_to_it(self, client):
        petition = make_petition()
        link = f'href="{resend_url(petition)}"'.encode()
        assert link in client.get(f"/en/petitions/{petition.pk}/").content
        assert link in client.get(f"/en/petitions/{petition.pk}/sign/").content
        assert link in client.get(f"/en/petitions/{petition.pk}/sign/thank-you/").content


class TestSponsor:
    def test_a_sponsor_gets_the_link_again_from_the_sponsor_page(self, client):
        petition = make_petition(state=PetitionState.VALIDATED)
        signature_create(petition=petition, details=signer(email="sam@example.org"), kind=SignatureKind.SPONSOR)
        deliver_outbox()
        mail.outbox.clear()
        page = f"/en/sponsor/{petition.sponsor_token}/resend/"
        assert f'href="{page}"'.encode() in client.get(f"/en/sponsor/{petition.sponsor_token}/").content
        assert f'href="{page}"'.encode() in client.get(f"/en/sponsor/{petition.sponsor_token}/thank-you/").content
        known = client.post(page, {"email": "sam@example.org"})
        unknown = client.post(page, {"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200 and known.content == unknown.content
        deliver_outbox()
        assert [m.to for m in mail.outbox if "sam@example.org" in m.to] == [["sam@example.org"]]
        assert client.get("/en/sponsor/not-a-token/resend/").status_code == 404
