"""What any client may send, and what no answer may ever hold."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.api.conftest import body

pytestmark = pytest.mark.django_db

LIST_URLS = ["/petitions.json", "/petitions.csv"]
# Answered as the UK site does, with the defaults: all petitions, page 1.
MALFORMED = [
    "state=bogus",
    "state=",
    "state=ALL",
    "state=open%00",
    "state=pending",
    "state=hidden",
    "page=0",
    "page=-1",
    "page=1.5",
    "page=abc",
    "page=",
    "page=100001",
    "page=99999999999999999999999",
    "page=%C2%B2",
    "page=%D9%A1",
    "page=1e3",
    "page=+1",
    "page=%201",
    "page=0x10",
    "page=1%00",
    "count=0",
    "count=abc",
    "count=101",
    "count=-5",
]
# Cut to 200 characters, NUL bytes dropped.
LONG_OR_NUL_QUERIES = ["q=" + "a" * 201, "q=" + "%C3%A9" * 201, "q=a%00b", "q=%00"]
ODD_BUT_VALID = [
    "",
    "state=open",
    "state=all&state=closed",
    "q=",
    "q=%20%20",
    "q=" + "a" * 200,
    "q=%27%22%3B--",
    "q=%25%25",
    "q=%5C",
    "q=a%20OR%20b",
    "q=-tree",
    "q=%22unclosed",
    "q=!%26%7C()",
    "q=%F0%9F%8C%B3",
    "q=%ED%A0%80",
    "q=%FF%FE",
    "q=%E2%80%AE",
    "q=%01%02%7F",
    "q=%0D%0A",
    "q=tree&q=" + "a" * 300,
    "page=100000",
    "page=1&page=2",
    "unknown=1",
    "q[]=1",
    "&&&",
    "=",
    "q",
    "state=open&q=tree&page=2",
    "%ZZ",
    "q=%",
    "q=%E2%82",
    "page=007",
    "count=1",
    "count=100",
]


def test_malformed_parameters_fall_back_to_the_defaults_like_the_uk_site(client, signed, rejected):
    default_json = json.loads(body(client.get("/petitions.json")))
    default_csv = body(client.get("/petitions.csv"))
    assert len(default_json["data"]) == 2  # state=all: the open and the rejected one
    for query in MALFORMED:
        document = json.loads(body(client.get(f"/petitions.json?{query}")))
        assert document["data"] == default_json["data"], query
        assert document["meta"] == default_json["meta"], query
        assert document["links"]["first"] == default_json["links"]["first"], query
        response = client.get(f"/petitions.csv?{query}")
        assert response.status_code == 200
        assert body(response) == default_csv, query


def test_long_or_nul_queries_are_cut_and_cleaned(client, signed):
    for url in LIST_URLS:
        for query in LONG_OR_NUL_QUERIES:
            response = client.get(f"{url}?{query}")
            assert response.status_code == 200, (url, query)
    document = json.loads(body(client.get("/petitions.json?q=tr%00ee")))
    assert [item["id"] for item in document["data"]] == [signed.petition.pk]
    assert "%00" not in document["links"]["self"]
    long = json.loads(body(client.get("/petitions.json?q=" + "b" * 300)))
    assert "q=" + "b" * 200 + "&" in long["links"]["self"]


def test_odd_queries_never_fail_on_the_server(client, signed):
    for url in LIST_URLS:
        for query in ODD_BUT_VALID + MALFORMED + LONG_OR_NUL_QUERIES:
            response = client.get(f"{url}?{query}")
            body(response)  # the CSV streams: consume it, where its queries run
            assert response.status_code == 200, (url, query, response.status_code)


def test_odd_paths_never_fail_on_the_server(client, signed):
    pk = signed.petition.pk
    for path in [
        f"/petitions/{pk}.json?x=%00",
        f"/petitions/{pk}/count.json?page=abc",
        "/petitions/-1.json",
        "/petitions/1e3.json",
        "/petitions/%00.json",
        "/petitions/.json",
        f"/petitions/{pk}.json/",
        "/petitions/" + "9" * 400 + ".json",
        "/petitions/" + "9" * 400 + "/count.json",
        "/petitions/" + "9" * 40 + "/history.json",
        "/api/openapi.json?x=1",
        "/en/api/?q=%00",
    ]:
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_only_get_and_head(client, signed, method):
    pk = signed.petition.pk
    for url in [
        *LIST_URLS,
        f"/petitions/{pk}.json",
        f"/petitions/{pk}/count.json",
        f"/petitions/{pk}/history.json",
        "/api/openapi.json",
        "/en/api/",
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 405, (method, url)
        assert response["Allow"] == "GET, HEAD"
        assert "public" not in response.get("Cache-Control", "")
        assert response.json() == {"error": "only GET and HEAD are allowed"}


def test_head_is_allowed_and_has_no_body(client, signed):
    pk = signed.petition.pk
    for url in [*LIST_URLS, f"/petitions/{pk}.json", f"/petitions/{pk}/count.json", "/en/api/"]:
        response = client.head(url)
        assert response.status_code == 200 and body(response) == b""


def test_host_header_does_not_reach_the_links(client, signed, settings):
    settings.ALLOWED_HOSTS = ["*"]  # as behind a proxy that passes any Host on
    for url in (f"/petitions/{signed.petition.pk}.json", "/petitions.json", "/petitions.csv", "/api/openapi.json"):
        response = client.get(url, HTTP_HOST="evil.example")
        assert response.status_code == 200
        assert b"evil.example" not in body(response)


def test_no_email_and_no_unchosen_name_anywhere(client, signed, settings):
    pk = signed.petition.pk
    outputs = b""
    for url in [
        *LIST_URLS,
        f"/petitions/{pk}.json",
        f"/petitions/{pk}/count.json",
        f"/petitions/{pk}/history.json",
        "/api/openapi.json",
        "/en/api/",
        "/petitions.json?state=open&q=tree",
        "/petitions.csv?state=open&q=tree",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        outputs += body(response)
    text = outputs.decode()
    assert "Carla Creator" in text  # the creator chose to be named: the test can see names
    for email in signed.emails:
        assert email not in text
    assert "@example.org" not in text
    for name in [*signed.hidden_names, signed.named_name, "Skye Brambleworth"]:
        for part in name.split():
            assert part not in text, part  # signers are never listed here, named or not


@given(query=st.dictionaries(st.sampled_from(["state", "q", "page", "x"]), st.text(max_size=250), max_size=3))
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_is_answered(client, db, query):
    response = client.get("/petitions.json", query)
    assert response.status_code == 200, query
    assert response["Content-Type"] == "application/json"
