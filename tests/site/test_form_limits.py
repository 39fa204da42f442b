"""The site's forms limited per client network (``core.form_limits``): creating a petition, and
the signer's data page. Over a limit the "try again later" page (429, ``Retry-After``), and
nothing typed or held is lost: the draft stays, the one-time link or proof stays good."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import make_petition, sign_and_confirm
from tests.petitions.test_create_views import through_to_check
from tests.site.test_signer_data_views import proof_of
from undersign.petitions.models import Petition
from undersign.signatures.data_links import signer_data_link_issue

pytestmark = pytest.mark.django_db


def from_network(last: int) -> Client:
    return Client(REMOTE_ADDR=f"203.0.113.{last}")


class TestCreatingAPetition:
    def test_over_the_days_limit_a_clear_page_and_the_draft_is_kept(self, settings):
        settings.PETITIONS_PER_NETWORK_DAY = 1
        first, second = from_network(1), from_network(2)
        for client in (first, second):
            assert through_to_check(client).status_code == 200
        assert first.post("/en/petitions/new/check/").status_code == 302
        refused = second.post("/en/petitions/new/check/")
        assert refused.status_code == 429 and refused["Retry-After"] == str(24 * 3600)
        assert b"Your draft is kept" in refused.content
        assert Petition.objects.count() == 1
        check = second.get("/en/petitions/new/check/")
        assert check.status_code == 200 and b"Build a cycle lane" in check.content
        cache.clear()  # a day later
        assert second.post("/en/petitions/new/check/").status_code == 302
        assert Petition.objects.count() == 2

    def test_only_the_final_submit_is_counted(self, settings):
        settings.PETITIONS_PER_NETWORK_DAY = 1
        client = from_network(3)
        for _ in range(3):
            through_to_check(client)
        assert client.post("/en/petitions/new/check/").status_code == 302


class TestTheDataPage:
    def test_over_the_limit_the_link_and_the_proof_stay_good(self, settings):
        settings.SIGNER_REQUESTS_PER_NETWORK_HOUR = 1
        signature = sign_and_confirm(make_petition())
        token = signer_data_link_issue(signature_id=signature.pk)
        client = from_network(4)
        shown = client.post(f"/en/signatures/my-data/{token}/")
        assert shown.status_code == 200
        proof = proof_of(shown)
        refused = client.post("/en/signatures/my-data/", {"proof": proof, "action": "withdraw"})
        assert refused.status_code == 429 and refused["Retry-After"] == "3600"
        other = signer_data_link_issue(signature_id=signature.pk)
        assert client.post(f"/en/signatures/my-data/{other}/").status_code == 429
        signature.refresh_from_db()
        assert not signature.is_withdrawn
        cache.clear()  # an hour later
        assert client.post("/en/signatures/my-data/", {"proof": proof, "action": "withdraw"}).status_code == 200
        signature.refresh_from_db()
        assert signature.is_withdrawn
