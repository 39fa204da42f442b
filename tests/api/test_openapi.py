"""The OpenAPI document is valid, every path in it answers, and it describes every field the
endpoints emit (its schemas forbid additional properties, so validating real answers checks
that both ways)."""

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.api.conftest import body, get_json
from tests.factories import make_petition
from undersign.petitions.models import PetitionState

pytestmark = pytest.mark.django_db
S = PetitionState


@pytest.fixture
def spec(client, db) -> dict:
    return get_json(client, "/api/openapi.json")


def validator(spec: dict, name: str) -> Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(schema)


def properties(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_documented_path_answers(client, spec, signed):
    assert set(spec["paths"]) == {
        "/petitions.json",
        "/petitions.csv",
        "/petitions/{petition_id}.json",
        "/petitions/{petition_id}/count.json",
        "/petitions/{petition_id}/history.json",
        "/constituencies.json",
        "/api/openapi.json",
        "/{language}/api/",
    }
    for path, item in spec["paths"].items():
        response = client.get(path.replace("{petition_id}", str(signed.petition.pk)).replace("{language}", "en"))
        assert response.status_code == 200, path
        content_type = response["Content-Type"].split(";")[0]
        assert content_type in item["get"]["responses"]["200"]["content"], path


def test_every_list_parameter_value_is_accepted(client, spec, db):
    state = spec["components"]["parameters"]["state"]["schema"]
    for value in state["enum"]:
        assert client.get(f"/petitions.json?state={value}").status_code == 200
    assert client.get("/petitions.json?state=not-documented").json()["links"]["self"].count("state=all") == 1
    page = spec["components"]["parameters"]["page"]["schema"]
    assert client.get(f"/petitions.json?page={page['maximum']}").json()["meta"]["page"] == page["maximum"]
    assert client.get(f"/petitions.json?page={page['maximum'] + 1}").json()["meta"]["page"] == 1
    count = spec["components"]["parameters"]["count"]["schema"]
    assert client.get(f"/petitions.json?count={count['maximum']}").json()["meta"]["per_page"] == count["maximum"]
    too_many = client.get(f"/petitions.json?count={count['maximum'] + 1}").json()["meta"]["per_page"]
    assert too_many == count["default"]


@pytest.fixture
def varied(db, signed, with_response, hidden, rejected):
    """Petitions between them emitting every optional part: suppressed regions, a response,
    a rejection, hidden text, a closed date."""
    make_petition(state=S.CLOSED)
    return [signed.petition, with_response, hidden, rejected]


def test_answers_match_their_schemas(client, spec, varied):
    for petition in varied:
        validator(spec, "PetitionDocument").validate(get_json(client, f"/petitions/{petition.pk}.json"))
        validator(spec, "Count").validate(get_json(client, f"/petitions/{petition.pk}/count.json"))
        validator(spec, "SignatureHistory").validate(get_json(client, f"/petitions/{petition.pk}/history.json"))
    for state in spec["components"]["parameters"]["state"]["schema"]["enum"]:
        validator(spec, "PetitionList").validate(get_json(client, f"/petitions.json?state={state}"))
    validator(spec, "PetitionList").validate(get_json(client, "/petitions.json?count=1"))
    validator(spec, "Constituencies").validate(get_json(client, "/constituencies.json"))
    for error_url in ("/no-such-thing.json", "/petitions/999999.json", "/petitions/999999/count.json"):
        validator(spec, "Error").validate(json.loads(body(client.get(error_url))))


def test_every_emitted_key_is_documented_and_every_documented_key_emitted(client, spec, varied):
    emitted: dict[str, set[str]] = {
        "attributes": set(),
        "list_attributes": set(),
        "region": set(),
        "rejection": set(),
        "response": set(),
        "links": set(),
    }
    for petition in varied:
        data = get_json(client, f"/petitions/{petition.pk}.json")["data"]
        emitted["attributes"] |= set(data["attributes"])
        emitted["links"] |= set(data["links"])
        for region in data["attributes"]["signatures_by_region"]:
            emitted["region"] |= set(region)
        for part in ("rejection", "response"):
            if data["attributes"][part]:
                emitted[part] |= set(data["attributes"][part])
    for item in (
        get_json(client, "/petitions.json?state=rejected")["data"] + get_json(client, "/petitions.json")["data"]
    ):
        emitted["list_attributes"] |= set(item["attributes"])
    assert emitted["attributes"] == properties(spec, "PetitionAttributes")
    assert emitted["list_attributes"] == properties(spec, "PetitionListAttributes")
    assert emitted["region"] == properties(spec, "RegionFigure")
    assert emitted["rejection"] == properties(spec, "Rejection")
    assert emitted["response"] == properties(spec, "Response")
    assert emitted["links"] == properties(spec, "PetitionLinks")
    csv_header = body(client.get("/petitions.csv")).decode().splitlines()[0]
    description = spec["paths"]["/petitions.csv"]["get"]["responses"]["200"]["description"]
    assert all(column in description for column in csv_header.split(","))


def test_every_field_has_a_description(spec):
    for name in ("PetitionAttributes", "RegionFigure", "Breakdown", "Rejection"):
        for field, schema in spec["components"]["schemas"][name]["properties"].items():
            assert schema.get("description") or "$ref" in schema, (name, field)


def test_docs_page_links_the_endpoints(client, db):
    response = client.get("/en/api/")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    html = response.content.decode()
    for href in ("/petitions.json", "/petitions.csv", "/api/openapi.json"):
        assert f'href="{href}"' in html
    assert re.search(r"multiple\s+of\s+\d+", html) and "suppressed" in html and "snapshot" in html


def test_a_safety_in_numbers_group_matches_its_schema_before_and_after_it_is_named(client, settings):
    from tests.factories import take_breakdown_snapshot
    from tests.verification.conftest import claim_and_confirm, make_registry, official_email, restricted_petition
    from undersign.petitions.services import GroupThresholds
    from undersign.signatures.models import Display
    from undersign.transparency.services import log_integrate_all

    settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
    spec = get_json(client, "/api/openapi.json")  # k is in it
    registry = make_registry("spb", members=7)
    petition = restricted_petition(registry, group=GroupThresholds(3, 1))
    document = validator(spec, "PetitionDocument")
    url = f"/petitions/{petition.pk}.json"
    document.validate(get_json(client, url))  # nothing published yet
    members = list(registry.members.order_by("pk"))
    for member in members[:2]:
        claim_and_confirm(petition, member, email=official_email(member), display=Display.GROUP)
    claim_and_confirm(petition, members[2], display=Display.GROUP)  # awaiting validation
    log_integrate_all()
    take_breakdown_snapshot(petition)
    waiting = get_json(client, url)
    document.validate(waiting)
    assert waiting["data"]["attributes"]["verification"]["group"]["named_at"] is None
    claim_and_confirm(petition, members[3], email=official_email(members[3]), display=Display.GROUP)
    for member in members[4:]:  # k counted-only: the snapshot is due
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    named = get_json(client, url)
    document.validate(named)
    group = named["data"]["attributes"]["verification"]["group"]
    assert set(group) | set(waiting["data"]["attributes"]["verification"]["group"]) == properties(spec, "Group")
    assert [m["verified"] for m in group["members"]] == [True, True, False, True]  # by name: Number1, 2, 3, 4
