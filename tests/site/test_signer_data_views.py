"""A signer's own data page over HTTP (``site.signer_data_views``): the one-time link's GET
spends nothing, its POST shows what we hold, and the page's buttons withdraw or erase, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from tests.verification.conftest import claim_and_confirm, make_registry, restricted_petition
from undersign.petitions.models import Petition, PetitionState
from undersign.retention.selectors import personal_data_destruction_at
from undersign.signatures.data_links import signer_data_link_issue
from undersign.signatures.models import Signature, SignerDataLink
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db
ACTION = "Rename Zanzibar Quay"
PROOF = re.compile(rb'name="proof" value="([\w-]+)"')


def shown(client, signature: Signature):
    """The data page, through a fresh one-time link."""
    token = signer_data_link_issue(signature_id=signature.pk)
    return client.post(f"/en/signatures/my-data/{token}/")


def proof_of(response) -> str:
    return PROOF.search(response.content).group(1).decode()


class TestTheOneTimeLink:
    def test_get_shows_only_a_button_and_spends_nothing(self, client):
        signature = sign_and_confirm(make_petition(action=ACTION), signer(name="Suzie Signer"))
        token = signer_data_link_issue(signature_id=signature.pk)
        for method in (client.get, client.head):
            response = method(f"/en/signatures/my-data/{token}/")
            assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        body = client.get(f"/en/signatures/my-data/{token}/").content
        assert b"Show my data" in body and ACTION.encode() not in body and b"Suzie" not in body
        unknown = client.get("/en/signatures/my-data/" + "A" * 43 + "/").content
        strip = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
        assert strip.sub(b"", unknown) == strip.sub(b"", body)  # says nothing of the link either
        assert SignerDataLink.objects.count() == 1

    def test_post_shows_what_we_hold_and_spends_the_link(self, client):
        petition = make_petition(action=ACTION)
        signature = sign_and_confirm(
            petition, signer(name="Suzie Signer", email="suzie@example.org", display="initials", notify_updates=True)
        )
        token = signer_data_link_issue(signature_id=signature.pk)
        response = client.post(f"/en/signatures/my-data/{token}/")
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        body = response.content.decode()
        for shown_value in (ACTION, "Suzie Signer", "suzie@example.org", "London", "Show my initials and region"):
            assert shown_value in body, shown_value
        assert "Confirmed on" in body and "it counts" in body
        assert "Kept, sealed" in body and "192.0.2.10" not in body  # kept, but not shown
        assert "Withdraw my signature" in body and "Erase my data" in body
        again = client.post(f"/en/signatures/my-data/{token}/")
        assert again.status_code == 404 and b"This link is no longer valid" in again.content

    def test_an_expired_link_shows_nothing(self, client, settings):
        signature = sign_and_confirm(make_petition())
        then = timezone.now() - timedelta(minutes=settings.SIGNER_DATA_LINK_MINUTES + 1)
        token = signer_data_link_issue(signature_id=signature.pk, now=then)
        response = client.post(f"/en/signatures/my-data/{token}/")
        assert response.status_code == 404 and b"Signer" not in response.content

    def test_it_says_when_the_data_is_destroyed(self, client):
        petition = make_petition(state=PetitionState.CLOSED)
        signature = sign_and_confirm(make_petition())
        assert b"days after the petition closes" in shown(client, signature).content
        Signature.objects.filter(pk=signature.pk).update(petition=petition)
        signature.refresh_from_db()
        when = personal_data_destruction_at(petition)
        assert f"On {when:%-d %B %Y}".encode() in shown(client, signature).content

    def test_a_claim_shows_its_registry_office_and_status_never_its_evidence(self, client):
        registry = make_registry()
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, registry.members.first(), note="My mandate, page 3")
        body = shown(client, signature).content.decode()
        assert registry.name in body and "Municipal deputy" in body and "awaiting validation" in body
        assert "My mandate" not in body


class TestTheButtons:
    def test_withdraw_with_the_pages_proof_once(self, client):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        proof = proof_of(shown(client, signature))
        response = client.post("/en/signatures/my-data/", {"proof": proof, "action": "withdraw"})
        assert response.status_code == 200 and b"Your signature is withdrawn" in response.content
        signature.refresh_from_db()
        assert signature.is_withdrawn and bytes(signature.name_sealed) != b""
        again = client.post("/en/signatures/my-data/", {"proof": proof, "action": "erase"})
        assert again.status_code == 404
        signature.refresh_from_db()
        assert bytes(signature.name_sealed) != b""

    def test_erase_says_what_backups_keep_and_until_when(self, client):
        petition = make_petition(state=PetitionState.CLOSED)
        signature = sign_and_confirm(make_petition())
        Signature.objects.filter(pk=signature.pk).update(petition=petition)
        proof = proof_of(shown(client, Signature.objects.get(pk=signature.pk)))
        response = client.post("/en/signatures/my-data/", {"proof": proof, "action": "erase"})
        assert response.status_code == 200 and b"Your data is erased" in response.content
        when = personal_data_destruction_at(Petition.objects.get(pk=petition.pk))
        assert b"Backups" in response.content and f"{when:%-d %B %Y}".encode() in response.content
        signature.refresh_from_db()
        assert signature.is_withdrawn and bytes(signature.email_sealed) == b""

    @pytest.mark.parametrize(
        ("data", "status"),
        [({"proof": "nope", "action": "withdraw"}, 404), ({"action": "erase"}, 404), ({"proof": "x"}, 400)],
    )
    def test_a_bad_proof_or_button_changes_nothing(self, client, data, status):
        signature = sign_and_confirm(make_petition())
        assert client.post("/en/signatures/my-data/", data).status_code == status
        signature.refresh_from_db()
        assert not signature.is_withdrawn

    def test_the_buttons_take_no_get(self, client):
        assert client.get("/en/signatures/my-data/").status_code == 405

    @pytest.mark.parametrize("action", ["withdraw", "erase"])
    def test_a_pending_signature_is_deleted_and_the_page_says_done(self, client, action):
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="pending@example.org"))
        signature = Signature.objects.get(petition=petition, kind="signer")
        proof = proof_of(shown(client, signature))
        response = client.post("/en/signatures/my-data/", {"proof": proof, "action": action})
        assert response.status_code == 200 and b"signer-data-done" in response.content
        assert not Signature.objects.filter(pk=signature.pk).exists()
