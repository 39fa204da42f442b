"""One site at several addresses (SITE_URLS, core.origins): which address a request came in on,
the absolute links its page makes from it, and ``Vary: Host`` on those pages when there is more
than one address, so that a shared cache keeps a copy per address."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory

from tests.factories import make_petition
from tests.origins import CLEARNET, CLEARNET_URL, ONION, ONION_URL, OTHER_HOST
from undersign.core.origins import is_onion_origin, other_site_urls, site_url_for

ALTERNATE = re.compile(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">')


def at(host: str):
    return RequestFactory().get("/en/petitions/", HTTP_HOST=host)


class TestWhichAddress:
    def test_a_request_gets_the_address_whose_host_it_names(self, two_origins):
        assert site_url_for(at(CLEARNET)) == CLEARNET_URL
        assert site_url_for(at(ONION)) == ONION_URL
        assert site_url_for(at(f"{ONION.upper()}:80")) == ONION_URL  # case and port aside

    def test_another_allowed_host_gets_the_primarys(self, two_origins):
        assert site_url_for(at(OTHER_HOST)) == CLEARNET_URL
        assert not is_onion_origin(at(OTHER_HOST))

    def test_a_host_not_allowed_gets_the_primarys_rather_than_an_error(self, two_origins):
        # Django answers such a request 400 before any view; a tag rendering an error page
        # must still not raise.
        assert site_url_for(at("evil.example.net")) == CLEARNET_URL

    def test_only_the_onion_address_is_an_onion_origin(self, two_origins):
        assert is_onion_origin(at(ONION))
        assert not is_onion_origin(at(CLEARNET))

    def test_the_others_are_those_besides_the_primary(self, two_origins):
        assert other_site_urls() == [ONION_URL]

    def test_by_default_there_is_one_address_and_every_host_gets_it(self, settings):
        assert settings.SITE_URLS == [settings.SITE_URL]
        assert other_site_urls() == []
        assert site_url_for(at("localhost")) == settings.SITE_URL


@pytest.mark.django_db
class TestPagesLinkToTheirAddress:
    @pytest.mark.parametrize(
        ("host", "url"), [(CLEARNET, CLEARNET_URL), (ONION, ONION_URL), (OTHER_HOST, CLEARNET_URL)]
    )
    def test_language_alternates_follow_the_host(self, client, two_origins, host, url):
        petition = make_petition()
        body = client.get(f"/en/petitions/{petition.pk}/", HTTP_HOST=host).content.decode()
        assert ALTERNATE.findall(body) == [
            ("en", f"{url}/en/petitions/{petition.pk}/"),
            ("ru", f"{url}/ru/petitions/{petition.pk}/"),
        ]

    def test_a_forged_host_never_reaches_a_page(self, client, two_origins):
        assert client.get("/en/petitions/", HTTP_HOST="evil.example.net").status_code == 400


@pytest.mark.django_db
class TestCaches:
    def test_with_several_addresses_a_page_varies_by_host(self, client, two_origins):
        response = client.get("/en/petitions/", HTTP_HOST=ONION)
        assert "Host" in response["Vary"]

    def test_the_count_micro_cache_holds_no_address(self, client, two_origins, settings):
        """count.json's per-process cache is keyed by petition alone: right only while the
        document names no address, which would otherwise reach the other address's readers."""
        settings.COUNT_MICROCACHE_SECONDS = 1.0
        petition = make_petition()
        onion = client.get(f"/petitions/{petition.pk}/count.json", HTTP_HOST=ONION).content
        clearnet = client.get(f"/petitions/{petition.pk}/count.json", HTTP_HOST=CLEARNET, secure=True).content
        assert onion == clearnet
        assert ONION.encode() not in onion and CLEARNET.encode() not in onion

    def test_with_one_address_nothing_varies_by_host(self, client):
        response = client.get("/en/petitions/", HTTP_HOST=OTHER_HOST)
        assert "Host" not in response.get("Vary", "")

    def test_a_response_without_absolute_links_does_not_vary_by_host(self, client, two_origins):
        petition = make_petition()
        response = client.get(f"/petitions/{petition.pk}/count.json", HTTP_HOST=ONION)
        assert response.status_code == 200
        assert "Host" not in response.get("Vary", "")
