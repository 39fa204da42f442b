"""/petitions.json and /petitions.csv: filters, search, pagination and the CSV's safety."""

import csv
import io

import pytest

from tests.api.conftest import body, get_json
from tests.factories import make_petition
from undersign.api.presenters import PAGE_SIZE
from undersign.petitions.models import Petition, PetitionState
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db
S = PetitionState
LIST_ATTRIBUTES = {
    "action",
    "background",
    "additional_details",
    "language",
    "state",
    "log",
    "signature_count",
    "created_at",
    "updated_at",
    "opened_at",
    "closing_date",
    "closed_at",
    "rejected_at",
    "moderation_threshold_reached_at",
    "response_threshold_reached_at",
    "debate_threshold_reached_at",
    "rejection",
    "response",
    # The UK site's, null or empty where there is no such thing here (tests/api/test_uk_shape.py).
    "committee_note",
    "closes_at",
    "government_response_at",
    "debate_scheduled_at",
    "scheduled_debate_date",
    "debate_outcome_at",
    "creator_name",
    "government_response",
    "debate",
    "departments",
    "topics",
}


def ids(document: dict) -> set[int]:
    return {item["id"] for item in document["data"]}


def csv_rows(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, body(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    return list(csv.DictReader(io.StringIO(body(response).decode())))


@pytest.fixture
def every_state(db, with_response, hidden, rejected) -> dict[str, Petition]:
    petitions = {state: make_petition(action=f"A {state} petition", state=state) for state in S.values}
    petitions.update(with_response=with_response, hidden_fixture=hidden, rejected_fixture=rejected)
    awaiting = make_petition(action="An awaiting petition")
    Petition.objects.filter(pk=awaiting.pk).update(response_threshold_reached_at=awaiting.opened_at)
    petitions["awaiting"] = awaiting
    return petitions


class TestListJson:
    def test_shape(self, client, every_state):
        document = get_json(client, "/petitions.json")
        assert set(document) == {"links", "meta", "data"}
        assert document["links"] == {
            "self": "http://testserver/petitions.json?state=all&page=1",
            "first": "http://testserver/petitions.json?state=all&page=1",
            "last": "http://testserver/petitions.json?state=all&page=1",
            "next": None,
            "prev": None,
        }
        item = next(i for i in document["data"] if i["id"] == every_state["with_response"].pk)
        assert set(item) == {"type", "id", "links", "attributes"}
        assert item["type"] == "petition"
        assert set(item["attributes"]) == LIST_ATTRIBUTES
        assert item["attributes"]["response"]["summary"] == "We agree."

    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            ("all", {"open", "closed", "rejected", "with_response", "awaiting", "rejected_fixture"}),
            ("open", {"open", "with_response", "awaiting"}),
            ("closed", {"closed"}),
            ("rejected", {"rejected", "hidden", "hidden_fixture", "rejected_fixture"}),
            ("awaiting_response", {"awaiting"}),
            ("with_response", {"with_response"}),
        ],
    )
    def test_filters_show_only_public_petitions(self, client, every_state, state, expected):
        by_pk = {petition.pk: name for name, petition in every_state.items()}
        got = {by_pk[pk] for pk in ids(get_json(client, f"/petitions.json?state={state}"))}
        assert got == expected
        assert every_state["pending"].pk not in ids(get_json(client, f"/petitions.json?state={state}"))

    def test_hidden_in_a_list_has_no_text(self, client, hidden):
        document = get_json(client, "/petitions.json?state=rejected")
        item = next(i for i in document["data"] if i["id"] == hidden.pk)
        assert item["attributes"]["action"] is None and item["attributes"]["state"] == "hidden"

    def test_search(self, client, every_state):
        found = get_json(client, "/petitions.json?q=library")
        assert ids(found) == {every_state["with_response"].pk}
        assert found["links"]["self"] == "http://testserver/petitions.json?state=all&q=library&page=1"
        assert get_json(client, "/petitions.json?q=zzzyx")["data"] == []

    def test_search_never_matches_hidden_text(self, client, hidden):
        for state in ("all", "rejected"):
            assert get_json(client, f"/petitions.json?state={state}&q=defamatory")["data"] == []
            assert csv_rows(client, f"/petitions.csv?state={state}&q=defamatory") == []

    def test_pagination_links(self, client, db):
        for n in range(PAGE_SIZE + 3):
            make_petition(action=f"Petition number {n}")
        first = get_json(client, "/petitions.json?state=open")
        assert len(first["data"]) == PAGE_SIZE
        assert first["meta"] == {"total": PAGE_SIZE + 3, "page": 1, "per_page": PAGE_SIZE}
        assert first["links"]["next"] == "http://testserver/petitions.json?state=open&page=2"
        assert first["links"]["last"] == "http://testserver/petitions.json?state=open&page=2"
        assert first["links"]["prev"] is None
        second = get_json(client, "/petitions.json?state=open&page=2")
        assert len(second["data"]) == 3 and second["links"]["next"] is None
        assert second["links"]["prev"] == "http://testserver/petitions.json?state=open&page=1"
        assert not ids(first) & ids(second)
        beyond = get_json(client, "/petitions.json?state=open&page=7")
        assert beyond["data"] == [] and beyond["links"]["prev"].endswith("page=2")

    def test_empty_list(self, client, db):
        document = get_json(client, "/petitions.json")
        assert document["data"] == [] and document["links"]["last"].endswith("page=1")

    def test_list_is_a_fixed_number_of_queries(self, client, db, django_assert_max_num_queries):
        for n in range(5):
            make_petition(action=f"Petition number {n}")
        # The count, the page, and the page's creators' names.
        with django_assert_max_num_queries(3):
            client.get("/petitions.json")


class TestCsv:
    def test_rows(self, client, every_state):
        log_integrate_all()
        rows = csv_rows(client, "/petitions.csv?state=open")
        assert list(rows[0]) == [
            "id",
            "action",
            "state",
            "signature_count",
            "opened_at",
            "closes_at",
            "closed_at",
            "url",
        ]
        by_id = {int(row["id"]): row for row in rows}
        assert set(by_id) == {every_state[n].pk for n in ("open", "with_response", "awaiting")}
        row = by_id[every_state["open"].pk]
        assert row["action"] == "A open petition" and row["state"] == "open" and row["signature_count"] == "1"
        assert row["opened_at"].endswith("Z") and row["closed_at"] == ""
        assert row["url"] == f"http://testserver/petitions/{every_state['open'].pk}/"

    def test_every_row_not_one_page(self, client, db):
        for n in range(PAGE_SIZE + 2):
            make_petition(action=f"Petition number {n}")
        assert len(csv_rows(client, "/petitions.csv?page=1")) == PAGE_SIZE + 2

    def test_hidden_rows_have_no_text(self, client, hidden):
        rows = csv_rows(client, "/petitions.csv?state=rejected")
        assert [(row["id"], row["action"], row["state"]) for row in rows] == [(str(hidden.pk), "", "hidden")]

    @pytest.mark.parametrize("action", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
    def test_formula_injection_is_defused(self, client, db, action):
        petition = make_petition()
        Petition.objects.filter(pk=petition.pk).update(action=action)  # not all pass the form
        (row,) = csv_rows(client, "/petitions.csv")
        assert row["action"] == "'" + action

    def test_ordinary_text_is_untouched(self, client, db):
        make_petition(action='Say "hello", neighbours = friends')
        (row,) = csv_rows(client, "/petitions.csv")
        assert row["action"] == 'Say "hello", neighbours = friends'

    def test_cacheable(self, client, db):
        response = client.get("/petitions.csv")
        assert "public" in response["Cache-Control"]
        assert response["Access-Control-Allow-Origin"] == "*"
