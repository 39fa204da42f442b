"""The signing pages over HTTP: what a signer sees, and what bad input gets."""

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.petitions.models import PetitionState
from undersign.signatures.links import petition_link_check, unsubscribe_token
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_create
from undersign.signatures.withdrawal import signature_withdraw

pytestmark = pytest.mark.django_db

GOOD = {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"}


class TestSignForm:
    def test_form_page_is_private_and_holds_a_csrf_token(self, client):
        petition = make_petition()
        response = client.get(f"/en/petitions/{petition.pk}/sign/")
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert b"csrfmiddlewaretoken" in response.content

    def test_petition_page_holds_no_csrf_token_and_is_public(self, client):
        petition = make_petition()
        response = client.get(f"/en/petitions/{petition.pk}/")
        assert b"csrfmiddlewaretoken" not in response.content
        assert "public" in response["Cache-Control"]
        assert response.has_header("ETag")
        again = client.get(f"/en/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304

    def test_same_page_whether_or_not_the_address_signed(self, client):
        petition = make_petition()
        sign_and_confirm(petition, signer(email="suzie@example.org"))
        first = client.post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        second = client.post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, "email": "new@example.org"})
        assert first.status_code == second.status_code == 302
        assert first["Location"] == second["Location"]
        assert client.get(first["Location"]).content == client.get(second["Location"]).content

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"name": ""}, b"Enter your name."),
            ({"name": "x" * 101}, b"100 characters or fewer"),
            ({"email": "not-an-address"}, b"Enter an e-mail address like"),
            ({"email": ""}, b"Enter your e-mail address."),
            ({"region": "XX-NOWHERE"}, b"Choose where you live from the list."),
            ({"display": "everything"}, b"Choose what we may show about you."),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_nothing_is_stored(self, client, change, message):
        petition = make_petition()
        before = Signature.objects.count()
        response = client.post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, **change})
        assert response.status_code == 400
        assert message in response.content
        assert Signature.objects.count() == before

    @pytest.mark.parametrize("state", [PetitionState.CLOSED, PetitionState.REJECTED])
    def test_closed_or_rejected_petitions_say_why(self, client, state):
        petition = make_petition(state=state)
        response = client.post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        assert response.status_code == 409
        assert b"You cannot sign this petition" in response.content

    def test_unpublished_petitions_are_not_found(self, client):
        petition = make_petition(state=PetitionState.SPONSORED)
        assert client.get(f"/en/petitions/{petition.pk}/sign/").status_code == 404
        assert client.get(f"/en/petitions/{petition.pk}/").status_code == 404

    @pytest.mark.parametrize("path", ["/en/petitions/999999/sign/", "/en/petitions/99999999999999999999/sign/"])
    def test_unknown_petitions_are_not_found(self, client, path):
        assert client.get(path).status_code == 404

    def test_wrong_method_is_refused(self, client):
        petition = make_petition()
        assert client.put(f"/en/petitions/{petition.pk}/sign/").status_code == 405
        assert client.delete(f"/en/petitions/{petition.pk}/").status_code == 405

    def test_csrf_failure_is_a_clear_403(self):
        petition = make_petition()
        response = Client(enforce_csrf_checks=True).post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        assert response.status_code == 403
        assert b"Your form expired" in response.content


class TestConfirmPage:
    def test_get_shows_what_is_confirmed_and_never_confirms(self, client):
        petition = make_petition()
        client.post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, "display": "initials"})
        signature_id, token = last_confirm_link("suzie@example.org")
        for _ in range(3):
            response = client.get(f"/en/signatures/confirm/{token}/")
            assert response.status_code == 200
        assert b"Suzie Signer" in response.content and b"London" in response.content
        assert b"Show my initials and region" in response.content
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.PENDING
        assert client.head(f"/en/signatures/confirm/{token}/").status_code == 200
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.PENDING

    def test_post_confirms_and_twice_changes_nothing(self, client):
        petition = make_petition()
        client.post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        signature_id, token = last_confirm_link("suzie@example.org")
        first = client.post(f"/en/signatures/confirm/{token}/")
        assert b"Your signature has been added" in first.content
        second = client.post(f"/en/signatures/confirm/{token}/")
        assert second.status_code == 404 and b"This link is no longer valid" in second.content
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.CONFIRMED

    @pytest.mark.parametrize("suffix", ["tampered", "AAAA", "x" * 300])
    def test_tampered_links_are_refused(self, client, suffix):
        petition = make_petition()
        client.post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        signature_id, _ = last_confirm_link("suzie@example.org")
        for method in (client.get, client.post):
            response = method(f"/en/signatures/confirm/{suffix}/")
            assert response.status_code == 404
            assert b"This link is no longer valid" in response.content

    def test_unknown_signature_link(self, client):
        assert client.post("/en/signatures/123456789/confirm/abc/").status_code == 404  # the old form


class TestUnsubscribe:
    def test_one_click_post_unsubscribes(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(notify_updates=True))
        url = f"/en/signatures/unsubscribe/{unsubscribe_token(tag=bytes(signature.dedup_tag))}/"
        response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        signature.refresh_from_db()
        assert signature.unsubscribed_at is not None and not signature.notify_updates

    def test_get_only_asks(self, client):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        url = f"/en/signatures/unsubscribe/{unsubscribe_token(tag=bytes(signature.dedup_tag))}/"
        assert b"Stop e-mails" in client.get(url).content
        signature.refresh_from_db()
        assert signature.unsubscribed_at is None

    def test_a_token_naming_no_signature_changes_nothing(self, client):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(notify_updates=True))
        response = client.post(f"/en/signatures/unsubscribe/{unsubscribe_token(tag=bytes(32))}/")
        assert response.status_code == 200
        signature.refresh_from_db()
        assert signature.unsubscribed_at is None

    def test_every_token_answers_the_same_pages(self, client):
        """The token is in every mail's ``List-Unsubscribe`` header: its page must not tell
        whoever reads the mailbox what the withdrawal page keeps to itself — whether the
        signature still stands, or was withdrawn, erased or deleted."""
        petition = make_petition()
        standing, withdrawn = sign_and_confirm(petition), sign_and_confirm(petition)
        paths = {
            name: f"/en/signatures/unsubscribe/{token}/"
            for name, token in [
                ("standing", unsubscribe_token(tag=bytes(standing.dedup_tag))),
                ("withdrawn", unsubscribe_token(tag=bytes(withdrawn.dedup_tag))),
                ("unknown", "A" * 43),
                ("too long", "A" * 300),
            ]
        }
        signature_withdraw(signature_id=withdrawn.pk)
        for method in (client.get, client.post):
            shown = {name: (r.status_code, r.content) for name, r in ((n, method(p)) for n, p in paths.items())}
            assert len(set(shown.values())) == 1, {name: status for name, (status, _) in shown.items()}
            assert shown["standing"][0] == 200
        standing.refresh_from_db()
        assert standing.unsubscribed_at is not None

    def test_unsubscribed_signers_get_no_update_emails(self):
        from undersign.core.models import OutboundEmail
        from undersign.core.outbox import outbox_add
        from undersign.signatures.services import signature_unsubscribe

        petition = make_petition()
        signature = sign_and_confirm(petition, signer(notify_updates=True))
        signature_unsubscribe(token=unsubscribe_token(tag=bytes(signature.dedup_tag)))
        mail.outbox.clear()
        outbox_add(kind=OutboundEmail.Kind.PETITION_CLOSED, petition_id=petition.pk, signature_id=signature.pk)
        deliver_outbox()
        assert mail.outbox == []


class TestPetitionPageValidators:
    def test_a_published_response_changes_the_page_etag(self, client, moderator):
        from undersign.petitions.models import PetitionResponse

        petition = make_petition()
        before = client.get(f"/en/petitions/{petition.pk}/")["ETag"]
        PetitionResponse.objects.create(petition=petition, summary="Yes", details="We will.", published_by=moderator)
        after = client.get(f"/en/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=before)
        assert after.status_code == 200 and b"We will." in after.content

    def test_ids_beyond_the_bigint_range_are_not_found(self, client):
        for path in ["/en/petitions/99999999999999999999/", "/en/signatures/9223372036854775808/confirm/x/"]:
            assert client.get(path).status_code == 404


class TestPetitionLink:
    def _path(self, signature) -> str:
        token = unsubscribe_token(tag=bytes(signature.dedup_tag))
        return f"/en/signatures/petition/{token}/{petition_link_check(token=token)}/"

    def test_a_confirmed_signatures_link_opens_its_petition(self, client):
        petition = make_petition()
        response = client.get(self._path(sign_and_confirm(petition)))
        assert response.status_code == 302 and response["Location"] == f"/en/petitions/{petition.pk}/"

    def test_an_unconfirmed_or_invalidated_signatures_link_is_no_longer_valid(self, client):
        petition = make_petition()
        invalidated = sign_and_confirm(petition)
        Signature.objects.filter(pk=invalidated.pk).update(
            status=SignatureStatus.INVALIDATED, invalidated_at=timezone.now(), invalidation_reason="fraud"
        )
        # One never confirmed: whoever typed the address may not be its owner.
        signature_create(petition=petition, details=signer())
        pending = Signature.objects.get(petition=petition, status=SignatureStatus.PENDING)
        for signature in (invalidated, pending):
            response = client.get(self._path(signature))
            assert response.status_code == 404 and b"This link is no longer valid" in response.content
