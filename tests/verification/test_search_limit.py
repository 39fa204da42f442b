"""The registry member search, limited per client network (``CLAIM_SEARCH_PER_NETWORK_MINUTE``,
``core.form_limits``): the JSON search and the no-JavaScript search answer 429 over the limit,
and the sign form comes back as it was typed."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.verification.conftest import restricted_petition

pytestmark = pytest.mark.django_db


def from_network(last: int) -> Client:
    return Client(REMOTE_ADDR=f"203.0.113.{last}")


def search_json(client: Client, petition, q: str = "number2"):
    return client.get(f"/en/petitions/{petition.pk}/registry-members.json", {"q": q})


def test_the_json_search_over_the_limit(settings, registry):
    settings.CLAIM_SEARCH_PER_NETWORK_MINUTE = 2
    petition = restricted_petition(registry)
    assert [search_json(from_network(n), petition).status_code for n in (1, 2)] == [200, 200]
    refused = search_json(from_network(3), petition)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "too many registry searches" in refused.json()["error"]
    assert "public" not in refused.get("Cache-Control", "")
    assert search_json(Client(REMOTE_ADDR="198.51.100.9"), petition).status_code == 200  # another network
    cache.clear()  # a minute later
    assert search_json(from_network(3), petition).json()["data"]


def test_an_empty_query_is_not_counted(settings, registry):
    settings.CLAIM_SEARCH_PER_NETWORK_MINUTE = 1
    petition = restricted_petition(registry)
    client = from_network(4)
    for _ in range(3):
        assert search_json(client, petition, q=" ").status_code == 200
        assert client.get(f"/en/petitions/{petition.pk}/sign/").status_code == 200
    assert search_json(client, petition).status_code == 200


def test_the_no_javascript_search_keeps_the_form(settings, registry):
    settings.CLAIM_SEARCH_PER_NETWORK_MINUTE = 1
    petition = restricted_petition(registry)
    client = from_network(5)
    typed = {"name": "Anna Deputy", "email": "anna@example.org", "member_query": "number3", "search": "1"}
    found = client.post(f"/en/petitions/{petition.pk}/sign/", typed)
    assert found.status_code == 200 and b"Number3" in found.content
    refused = client.post(f"/en/petitions/{petition.pk}/sign/", typed)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert b"too many registry searches from your network" in refused.content
    assert b"Number3" not in refused.content
    assert b'value="Anna Deputy"' in refused.content and b'value="anna@example.org"' in refused.content
