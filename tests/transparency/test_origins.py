"""The log at each of the site's addresses (SITE_URLS): one log with one name, fetched wherever
the reader is. Its well-known document and its page name the address they were asked at; the
log's name (its origin line) never follows any address (transparency.keys)."""

from __future__ import annotations

import pytest

from tests.origins import CLEARNET, CLEARNET_URL, ONION, ONION_URL
from undersign.transparency.keys import log_origin

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_origins")]


@pytest.mark.parametrize(("host", "url"), [(CLEARNET, CLEARNET_URL), (ONION, ONION_URL)])
def test_where_to_fetch_the_log_follows_the_host_and_its_name_does_not(client, host, url):
    name = log_origin()
    document = client.get("/.well-known/undersign-log.json", HTTP_HOST=host).json()
    assert document["checkpoint"] == f"{url}/log/checkpoint" and document["tiles"] == f"{url}/log/"
    assert document["origin"] == name
    page = client.get("/en/log/", HTTP_HOST=host).content.decode()
    assert f"undersign-verify --site {url}" in page
