"""Our JSON read by code written for the UK Parliament's petitions site (issue 14).

The shapes below are written from the UK site's published JSON, the keys its open-source
clients read without a default (a KeyError, or nothing found, otherwise). Ours may add keys;
it may not lack one of these, nest it differently or give it another type. The one deliberate
difference: a region's ``signature_count`` is null when suppressed (docs/threat-model.md).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date

from tests.api.conftest import SCOTLAND, WALES, body, get_json
from tests.factories import make_petition, signer
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display

pytestmark = pytest.mark.django_db
S = PetitionState


@dataclass(frozen=True)
class Nullable:
    shape: Any


DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = Nullable(str)

UK_ATTRIBUTES: dict[str, Any] = {
    "action": str,
    "background": str,
    "additional_details": str,
    "committee_note": Nullable(str),
    "state": str,
    "signature_count": int,
    "created_at": str,
    "updated_at": str,
    "rejected_at": TIMESTAMP,
    "opened_at": TIMESTAMP,
    "closed_at": TIMESTAMP,
    "closing_date": Nullable(DAY),
    "moderation_threshold_reached_at": TIMESTAMP,
    "response_threshold_reached_at": TIMESTAMP,
    "government_response_at": TIMESTAMP,
    "debate_threshold_reached_at": TIMESTAMP,
    "debate_scheduled_at": TIMESTAMP,
    "scheduled_debate_date": Nullable(DAY),
    "debate_outcome_at": TIMESTAMP,
    "creator_name": Nullable(str),
    "rejection": Nullable({"code": str, "details": Nullable(str)}),
    "government_response": Nullable(
        {"responded_on": DAY, "summary": str, "details": str, "created_at": str, "updated_at": str}
    ),
    "debate": Nullable(
        {
            "debated_on": DAY,
            "transcript_url": Nullable(str),
            "video_url": Nullable(str),
            "debate_pack_url": Nullable(str),
            "overview": Nullable(str),
        }
    ),
    "departments": [{"acronym": str, "name": str, "url": str}],
    "topics": [str],
}
UK_LIST_ITEM = {"type": str, "id": int, "links": {"self": str}, "attributes": UK_ATTRIBUTES}
UK_LIST = {
    "links": {"self": str, "first": str, "last": str, "next": Nullable(str), "prev": Nullable(str)},
    "data": [UK_LIST_ITEM],
}
UK_PETITION = {
    "links": {"self": str},
    "data": {
        "type": str,
        "id": int,
        "attributes": {
            **UK_ATTRIBUTES,
            "signatures_by_country": [{"name": str, "code": str, "signature_count": int}],
            "signatures_by_constituency": [{"name": str, "ons_code": str, "mp": str, "signature_count": int}],
            "signatures_by_region": [{"name": str, "ons_code": Nullable(str), "signature_count": Nullable(int)}],
            "other_parliamentary_business": [{"subject": str, "body": str, "created_at": str, "updated_at": str}],
        },
    },
}
UK_CONSTITUENCY = {
    "mp": Nullable(str),
    "party": Nullable(str),
    "constituency": str,
    "ons_code": str,
    "start_date": Nullable(DAY),
    "end_date": Nullable(DAY),
}


def conforms(value: Any, shape: Any, path: str = "$") -> list[str]:
    """Where ``value`` is not read as ``shape`` would be: an empty list when it conforms."""
    if isinstance(shape, Nullable):
        return [] if value is None else conforms(value, shape.shape, path)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: an object expected, got {value!r}"]
        problems = [f"{path}.{key}: missing" for key in shape if key not in value]
        for key, inner in shape.items():
            if key in value:
                problems += conforms(value[key], inner, f"{path}.{key}")
        return problems
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: a list expected, got {value!r}"]
        return [problem for i, item in enumerate(value) for problem in conforms(item, shape[0], f"{path}[{i}]")]
    if isinstance(shape, re.Pattern):
        return [] if isinstance(value, str) and shape.match(value) else [f"{path}: {value!r} is not {shape.pattern}"]
    if shape is int and isinstance(value, bool):
        return [f"{path}: an integer expected, got {value!r}"]
    return [] if isinstance(value, shape) else [f"{path}: {shape.__name__} expected, got {value!r}"]


def test_the_checker_catches_a_missing_key_a_type_and_a_list_item():
    assert conforms({"data": [{"type": "petition", "id": 1, "links": {}}]}, UK_LIST) == [
        "$.links: missing",
        "$.data[0].attributes: missing",
        "$.data[0].links.self: missing",
    ]
    assert conforms({"id": True, "n": [1, "x"]}, {"id": int, "n": [int]}) == [
        "$.id: an integer expected, got True",
        "$.n[1]: int expected, got 'x'",
    ]
    assert conforms({"d": "2025-03-01T00:00:00.000Z"}, {"d": DAY}) != []


@pytest.fixture
def closed(db) -> Petition:
    creator = signer(name="Ola Closedwell", display=Display.NAMED)
    petition = make_petition(action="Close the old bridge", creator=creator)
    Petition.objects.filter(pk=petition.pk).update(state=S.CLOSED, closed_at=timezone.now())
    petition.refresh_from_db()
    return petition


def test_every_petition_reads_as_the_uk_sites(client, signed, with_response, hidden, rejected, closed):
    for petition in (signed.petition, with_response, hidden, rejected, closed):
        document = get_json(client, f"/petitions/{petition.pk}.json")
        shape = UK_PETITION
        if petition.state == S.HIDDEN:  # its text is gone: null, not a string
            nulls = {key: Nullable(str) for key in ("action", "background", "additional_details")}
            attributes = {**UK_PETITION["data"]["attributes"], **nulls}
            shape = {**UK_PETITION, "data": {**UK_PETITION["data"], "attributes": attributes}}
        assert conforms(document, shape) == [], petition.state


def test_every_list_item_reads_as_the_uk_sites(client, signed, with_response, rejected, closed):
    for state in ("all", "open", "closed", "rejected", "with_response", "nonsense"):
        document = get_json(client, f"/petitions.json?state={state}")
        assert document["data"], state
        assert conforms(document, UK_LIST) == [], state
    # The UK's clients follow links.next with its page.
    first = get_json(client, "/petitions.json?count=2")
    assert len(first["data"]) == 2 and first["meta"]["per_page"] == 2
    assert first["links"]["next"] == "http://testserver/petitions.json?state=all&count=2&page=2"
    second = get_json(client, first["links"]["next"].removeprefix("http://testserver"))
    assert {item["id"] for item in second["data"]}.isdisjoint(item["id"] for item in first["data"])


def test_government_response_is_built_from_ours(client, with_response):
    attributes = get_json(client, f"/petitions/{with_response.pk}.json")["data"]["attributes"]
    published = attributes["response"]["published_at"]
    assert attributes["government_response"] == {
        "responded_on": published[:10],
        "summary": "We agree.",
        "details": "Libraries for all.",
        "created_at": published,
        "updated_at": published,
    }
    assert attributes["government_response_at"] == published
    listed = get_json(client, "/petitions.json?state=with_response")["data"][0]["attributes"]
    assert listed["government_response"] == attributes["government_response"]


def test_no_debates_departments_or_topics_here(client, signed):
    attributes = get_json(client, f"/petitions/{signed.petition.pk}.json")["data"]["attributes"]
    for key in ("committee_note", "debate", "debate_scheduled_at", "scheduled_debate_date", "debate_outcome_at"):
        assert attributes[key] is None, key
    for key in ("departments", "topics", "signatures_by_constituency", "other_parliamentary_business"):
        assert attributes[key] == [], key


def test_closing_date_is_the_day_and_only_while_open(client, signed, closed):
    attributes = get_json(client, f"/petitions/{signed.petition.pk}.json")["data"]["attributes"]
    closes = signed.petition.closing_date.astimezone(UTC)
    assert attributes["closing_date"] == closes.date().isoformat()
    assert attributes["closes_at"].startswith(closes.strftime("%Y-%m-%dT%H:%M:%S."))
    closed_attributes = get_json(client, f"/petitions/{closed.pk}.json")["data"]["attributes"]
    assert closed_attributes["closing_date"] is None
    assert closed_attributes["closes_at"] is not None


def test_creator_name_only_while_open_and_as_chosen(client, signed, closed, db):
    counted_only = make_petition(action="Keep me anonymous", creator=signer(name="Ann Onymous"))
    for url in (f"/petitions/{signed.petition.pk}.json", "/petitions.json?state=open"):
        text = body(client.get(url)).decode()
        assert "Carla Creator" in text, url
    assert get_json(client, f"/petitions/{closed.pk}.json")["data"]["attributes"]["creator_name"] is None
    assert "Ola Closedwell" not in body(client.get("/petitions.json?state=all")).decode()
    assert get_json(client, f"/petitions/{counted_only.pk}.json")["data"]["attributes"]["creator_name"] is None
    assert "Ann Onymous" not in body(client.get("/petitions.json")).decode()


def test_regions_carry_their_ons_code_and_countries_reveal_nothing(client, signed):
    attributes = get_json(client, f"/petitions/{signed.petition.pk}.json")["data"]["attributes"]
    by_code = {region["code"]: region for region in attributes["signatures_by_region"]}
    assert by_code[WALES]["ons_code"] == WALES and by_code["ZZ"]["ons_code"] is None
    # Wales and Scotland are suppressed: no country figure (which, less the published regions,
    # would give them away) is published at all.
    assert by_code[WALES]["suppressed"] and by_code[SCOTLAND]["suppressed"]
    assert attributes["signatures_by_country"] == []


def test_constituencies_json_is_an_empty_object_with_cors(client, db):
    response = client.get("/constituencies.json")
    assert response.status_code == 200 and response.json() == {}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert conforms(response.json(), {}) == []  # each value would be UK_CONSTITUENCY


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-thing.json",
        "/petitions/abc.json",
        "/petitions/999999.json",
        "/petitions/999999/count.json",
        "/petitions/1/signatures.json",
        "/en/petitions/1/nothing.json",
    ],
)
def test_every_json_404_is_json_with_cors(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_get_the_json_405_before_any_csrf_check(signed, method):
    client = Client(enforce_csrf_checks=True)
    pk = signed.petition.pk
    for url in ("/petitions.json", "/petitions.csv", f"/petitions/{pk}.json", "/constituencies.json"):
        response = getattr(client, method)(url, data="{}", content_type="application/json")
        assert response.status_code == 405, (method, url, response.status_code)
        assert response.json() == {"error": "only GET and HEAD are allowed"}
        assert response["Access-Control-Allow-Origin"] == "*"


def test_last_modified_and_if_modified_since(client, signed):
    pk = signed.petition.pk
    for url in (f"/petitions/{pk}.json", f"/petitions/{pk}/count.json", f"/petitions/{pk}/history.json"):
        first = client.get(url)
        last_modified = first["Last-Modified"]
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304, url
        earlier = http_date((signed.petition.updated_at - timedelta(days=1)).timestamp())
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200, url
    Petition.objects.filter(pk=pk).update(updated_at=timezone.now() + timedelta(seconds=5))
    later = client.get(f"/petitions/{pk}.json", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert later.status_code == 200
    # No validator for what is not public.
    assert "Last-Modified" not in client.get("/petitions/999999.json")


def test_csv_with_the_uk_sites_columns(client, signed, hidden):
    rows = list(csv.reader(io.StringIO(body(client.get("/petitions.csv?columns=uk&state=all")).decode())))
    assert rows[0] == ["Petition", "URL", "State", "Signatures Count"]
    assert rows[1:] == [
        ["Plant a tree on every street", f"http://testserver/petitions/{signed.petition.pk}/", "open", "9"]
    ]
    hidden_rows = list(csv.reader(io.StringIO(body(client.get("/petitions.csv?columns=uk&state=rejected")).decode())))
    assert hidden_rows[1] == ["", f"http://testserver/petitions/{hidden.pk}/", "hidden", "0"]
