"""Sharing at each of the site's addresses (SITE_URLS): a reader on the onion shares the
onion's address, its share image and its embed and badge snippets; a reader on the clearnet,
or at any other Host, the primary's."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.factories import make_petition
from tests.origins import CLEARNET, CLEARNET_URL, ONION, ONION_URL, OTHER_HOST
from tests.sharing.test_sharing import meta

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_origins")]
ABSOLUTE = re.compile(r"https?://[a-z0-9.-]+")


@pytest.mark.parametrize(("host", "url"), [(CLEARNET, CLEARNET_URL), (ONION, ONION_URL), (OTHER_HOST, CLEARNET_URL)])
def test_every_link_a_reader_shares_names_the_address_they_read_at(client, host, url):
    petition = make_petition()
    page = client.get(f"/en/petitions/{petition.pk}/", HTTP_HOST=host).content.decode()
    assert meta(page, "og:url") == f"{url}/en/petitions/{petition.pk}/"
    assert meta(page, "og:image").startswith(f"{url}/petitions/{petition.pk}/share/")
    assert meta(page, "twitter:image") == meta(page, "og:image")
    assert f'id="share-link" type="text" readonly value="{url}/petitions/{petition.pk}/"' in page
    snippets = unescape(unescape(" ".join(re.findall(r"<textarea id=\"embed-\w+\"[^>]*>(.*?)</textarea>", page))))
    assert f'src="{url}/en/petitions/{petition.pk}/embed/"' in snippets
    assert (
        f'<a href="{url}/petitions/{petition.pk}/"><img src="{url}/petitions/{petition.pk}/badge.svg?lang=en"'
        in snippets
    )
    others = {CLEARNET_URL, ONION_URL} - {url}
    assert not any(other in unescape(page) for other in others)
