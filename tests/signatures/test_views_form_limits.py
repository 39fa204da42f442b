"""The signer's other forms, limited per client network (``core.form_limits``): over a limit the
"try again later" page (429, ``Retry-After``), nothing is changed or spent, and the answer is
the same whatever link or receipt was posted."""

from __future__ import annotations

import secrets

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from tests.signatures.test_views_withdrawal import confirmed_with_r, data_path, withdraw_path
from undersign.core.models import OutboundEmail
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db


def from_network(last: int) -> Client:
    """A browser at 203.0.113.<last>: every such browser is one /24 network."""
    return Client(REMOTE_ADDR=f"203.0.113.{last}")


def assert_try_again_later(response, seconds: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(seconds)
    assert "no-store" in response["Cache-Control"]


class TestConfirm:
    def test_over_the_limit_the_link_stays_good(self, settings):
        settings.CONFIRM_PER_NETWORK_HOUR = 2
        petition = make_petition()
        for n in (1, 2):
            signature_create(petition=petition, details=signer(email=f"early{n}@example.org"))
            _, token = last_confirm_link(f"early{n}@example.org")
            assert from_network(n).post(f"/en/signatures/confirm/{token}/").status_code == 200
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        signature_id, token = last_confirm_link("suzie@example.org")
        response = from_network(3).post(f"/en/signatures/confirm/{token}/")
        assert_try_again_later(response, 3600)
        assert b"too many confirmations from your network" in response.content
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.PENDING
        # Another network is not held back; and once the window has passed the same link works.
        assert Client(REMOTE_ADDR="198.51.100.1").get(f"/en/signatures/confirm/{token}/").status_code == 200
        cache.clear()
        assert from_network(3).post(f"/en/signatures/confirm/{token}/").status_code == 200
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.CONFIRMED

    def test_opening_the_link_is_not_counted(self, settings):
        settings.CONFIRM_PER_NETWORK_HOUR = 1
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        _, token = last_confirm_link("suzie@example.org")
        for _ in range(3):
            assert from_network(1).get(f"/en/signatures/confirm/{token}/").status_code == 200
        assert from_network(1).post(f"/en/signatures/confirm/{token}/").status_code == 200


class TestSignerRequests:
    """Withdrawal links, withdrawal by receipt and data-link requests share one hourly limit."""

    def test_over_the_limit_a_withdrawal_changes_nothing(self, settings):
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 2
        petition = make_petition()
        signature, r = confirmed_with_r(petition)
        client = from_network(7)
        assert (
            client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": "ab" * 32}).status_code
            == 200
        )
        assert client.post("/en/signatures/withdraw/", {"petition": "not-a-petition"}).status_code == 400
        by_link = client.post(withdraw_path(signature))
        by_receipt = client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": r.hex()})
        for response in (by_link, by_receipt):
            assert_try_again_later(response, 3600)
        signature.refresh_from_db()
        assert not signature.is_withdrawn

    def test_the_answer_is_the_same_whatever_link_is_posted(self, settings):
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 1
        signature = sign_and_confirm(make_petition())
        client = from_network(8)
        client.post(data_path(signature))
        good = client.post(data_path(signature))
        unknown = client.post("/en/signatures/data/" + "A" * 43 + "/" + "B" * 22 + "/")
        bad_withdrawal = client.post("/en/signatures/withdraw/" + "A" * 43 + "/" + "B" * 22 + "/")
        good_withdrawal = client.post(withdraw_path(signature))
        answers = [good, unknown, bad_withdrawal, good_withdrawal]
        assert {a.status_code for a in answers} == {429}
        assert len({a.content for a in answers}) == 1

    def test_over_the_limit_no_data_link_is_mailed(self, settings):
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 1
        signature = sign_and_confirm(make_petition())
        before = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SIGNER_DATA_LINK).count()
        assert from_network(9).post(data_path(signature)).status_code == 200
        assert_try_again_later(from_network(10).post(data_path(signature)), 3600)
        after = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SIGNER_DATA_LINK).count()
        assert after == before + 1

    def test_pages_are_not_counted(self, settings):
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 1
        signature = sign_and_confirm(make_petition())
        client = from_network(11)
        for _ in range(3):
            assert client.get(withdraw_path(signature)).status_code == 200
            assert client.get("/en/signatures/withdraw/").status_code == 200
            assert client.get(data_path(signature)).status_code == 200
        assert client.post(withdraw_path(signature)).status_code == 200
        signature.refresh_from_db()
        assert signature.is_withdrawn

    def test_a_token_not_in_any_key(self, settings):
        """The counter is named by the network's keyed hash: neither the network nor anything
        posted is in the cache's keys."""
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 5
        token = secrets.token_urlsafe(16)
        from_network(12).post(f"/en/signatures/withdraw/{token}/x/")
        keys = list(getattr(cache, "_cache", {}).keys())
        assert keys and not any("203.0.113" in str(k) or token in str(k) for k in keys)
