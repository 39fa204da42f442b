"""The open data at each of the site's addresses (SITE_URLS): every absolute URL in a document
names the address it was fetched at, the primary for any other Host, and the documents say that
they vary by Host, so a shared cache keeps the onion's and the clearnet's apart."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import make_petition
from tests.origins import CLEARNET, CLEARNET_URL, ONION, ONION_URL, OTHER_HOST

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_origins")]
HOSTS = [(CLEARNET, CLEARNET_URL), (ONION, ONION_URL), (OTHER_HOST, CLEARNET_URL)]


def urls_in(value: object) -> list[str]:
    """Every string in a JSON document that looks like an absolute URL."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in urls_in(item)]
    if isinstance(value, list):
        return [url for item in value for url in urls_in(item)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) else []


@pytest.mark.parametrize(("host", "url"), HOSTS)
def test_a_petitions_document_links_to_the_address_it_was_fetched_at(client, host, url):
    petition = make_petition()
    response = client.get(f"/petitions/{petition.pk}.json", HTTP_HOST=host)
    document = response.json()
    assert document["data"]["links"]["html_url"] == f"{url}/petitions/{petition.pk}/"
    links = urls_in(document)
    assert len(links) == 5 and all(link.startswith(f"{url}/") for link in links)
    assert "Host" in response["Vary"]


@pytest.mark.parametrize(("host", "url"), HOSTS)
def test_the_list_its_pages_and_the_history_follow_the_host(client, host, url):
    petition = make_petition()
    listed = client.get("/petitions.json", HTTP_HOST=host).json()
    history = client.get(f"/petitions/{petition.pk}/history.json", HTTP_HOST=host).json()
    links = urls_in(listed) + urls_in(history)
    assert links and all(link.startswith(f"{url}/") for link in links)


@pytest.mark.parametrize(("host", "url"), HOSTS)
def test_the_csv_rows_follow_the_host(client, host, url):
    petition = make_petition()
    for columns, column in (("", "url"), ("&columns=uk", "URL")):
        body = b"".join(client.get(f"/petitions.csv?state=open{columns}", HTTP_HOST=host).streaming_content)
        (row,) = csv.DictReader(io.StringIO(body.decode()))
        assert row[column] == f"{url}/petitions/{petition.pk}/"


def test_the_openapi_documents_server_is_the_address_it_was_fetched_at(client):
    assert client.get("/api/openapi.json", HTTP_HOST=ONION).json()["servers"] == [{"url": ONION_URL}]
    assert client.get("/api/openapi.json", HTTP_HOST=CLEARNET).json()["servers"] == [{"url": CLEARNET_URL}]
