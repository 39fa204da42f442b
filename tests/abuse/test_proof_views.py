"""Attack mode on the sign pages: the proof's fields and script only while it is on, the
WebAssembly policy on those pages only, the renewal of a challenge, and what the sign path's
``proven`` helper (``signatures.views._proven``) makes of a POST."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from tests.factories import make_petition
from tests.verification.conftest import make_registry, restricted_petition
from undersign.abuse.proof import proof_challenge_issue, proof_solve
from undersign.abuse.proof_views import PROOF_CONTENT_SECURITY_POLICY
from undersign.core.middleware import CONTENT_SECURITY_POLICY
from undersign.petitions.models import PetitionState
from undersign.petitions.services import petition_attack_mode_set
from undersign.signatures.views import _proven

pytestmark = pytest.mark.django_db
CHALLENGE = re.compile(r'data-proof-challenge="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def under_attack(petition):
    petition_attack_mode_set(petition=petition, on=True, actor=None, reason="test")
    return petition


def test_policy_differs_only_by_wasm():
    assert PROOF_CONTENT_SECURITY_POLICY == CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'"
    )
    assert "wasm-unsafe-eval" not in CONTENT_SECURITY_POLICY


class TestSignPages:
    def test_outside_attack_mode_nothing_is_asked(self, client):
        petition = make_petition()
        response = client.get(f"/en/petitions/{petition.pk}/sign/")
        body = response.content.decode()
        assert response.status_code == 200
        assert "proof_challenge" not in body and "hash-wasm" not in body
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    def test_in_attack_mode_the_sign_page_asks_for_a_proof(self, client):
        petition = under_attack(make_petition())
        response = client.get(f"/en/petitions/{petition.pk}/sign/")
        body = response.content.decode()
        assert CHALLENGE.search(body)
        assert 'name="proof_challenge"' in body and 'name="proof_counter"' in body
        assert "/static/abuse/proof.js" in body and "/static/abuse/hash-wasm.js" in body
        assert "Signing takes a few seconds right now" in body
        assert response["Content-Security-Policy"] == PROOF_CONTENT_SECURITY_POLICY

    def test_the_claim_sign_page_asks_too(self, client):
        petition = under_attack(restricted_petition(make_registry()))
        response = client.get(f"/en/petitions/{petition.pk}/sign/")
        assert CHALLENGE.search(response.content.decode())
        assert response["Content-Security-Policy"] == PROOF_CONTENT_SECURITY_POLICY

    def test_the_sponsor_page_asks_too(self, client):
        petition = under_attack(make_petition(state=PetitionState.VALIDATED))
        response = client.get(f"/en/sponsor/{petition.sponsor_token}/")
        assert response.status_code == 200
        assert CHALLENGE.search(response.content.decode())
        assert response["Content-Security-Policy"] == PROOF_CONTENT_SECURITY_POLICY

    def test_other_pages_keep_the_static_policy_in_attack_mode(self, client):
        petition = under_attack(make_petition())
        for path in (f"/en/petitions/{petition.pk}/", "/", f"/en/petitions/{petition.pk}/sign/resend/"):
            response = client.get(path)
            assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path

    def test_the_public_page_says_only_that_signing_takes_longer(self, client):
        petition = make_petition()
        before = client.get(f"/en/petitions/{petition.pk}/")
        under_attack(petition)
        after = client.get(f"/en/petitions/{petition.pk}/")
        assert "Signing takes a little longer right now." in after.content.decode()
        assert "Signing takes a little longer" not in before.content.decode()
        assert before["ETag"] != after["ETag"]
        assert "attack" not in after.content.decode().lower()


class TestProven:
    """The sign path's ``proven``: part A's verdict takes it (held without it in attack mode)."""

    def post(self, petition, data):
        return RequestFactory().post(f"/en/petitions/{petition.pk}/sign/", data)

    def test_a_posted_solution_is_proven_once(self):
        petition = under_attack(make_petition())
        challenge = proof_challenge_issue(petition=petition)
        counter = proof_solve(challenge=challenge, email="suzie@example.org")
        data = {"proof_challenge": challenge, "proof_counter": str(counter)}
        assert _proven(self.post(petition, data), petition, "suzie@example.org")
        assert not _proven(self.post(petition, data), petition, "suzie@example.org")

    def test_a_form_without_javascript_is_not_proven(self):
        petition = under_attack(make_petition())
        assert not _proven(self.post(petition, {"proof_challenge": "", "proof_counter": ""}), petition, "s@example.org")
        assert not _proven(self.post(petition, {}), petition, "s@example.org")

    def test_signing_without_a_proof_still_answers_check_your_email(self, client):
        petition = under_attack(make_petition())
        response = client.post(
            f"/en/petitions/{petition.pk}/sign/",
            {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"},
        )
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200


class TestRenew:
    def test_a_challenge_of_the_petition_is_renewed(self, client):
        petition = under_attack(make_petition())
        old = proof_challenge_issue(petition=petition, now=0)
        response = client.get(f"/proof/{petition.pk}/renew", {"challenge": old})
        assert response.status_code == 200
        fresh = response.json()["challenge"]
        assert fresh.startswith(f"v1.{petition.pk}.") and fresh != old
        assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize("challenge", ["", "v1.1.2.3.4", "garbage"])
    def test_anything_else_gets_one_answer(self, client, challenge):
        petition = make_petition()
        assert client.get(f"/proof/{petition.pk}/renew", {"challenge": challenge}).status_code == 400
        assert client.get("/proof/987654/renew", {"challenge": challenge}).status_code == 400
