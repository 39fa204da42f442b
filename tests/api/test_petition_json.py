"""/petitions/<id>.json, /count.json and /history.json: shapes, what is hidden, validators."""

import re
import time
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import LONDON, SCOTLAND, WALES, get_json
from tests.api.test_lists import LIST_ATTRIBUTES
from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from undersign.core.reference import region_names
from undersign.counting.selectors import breakdown_latest
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db
S = PetitionState
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ATTRIBUTES = LIST_ATTRIBUTES | {
    "signatures_by_region",
    "signatures_by_country",
    "signatures_by_constituency",
    "other_parliamentary_business",
    "breakdown",
    "verification",
    "personal_data_destruction_at",
    "personal_data_destroyed_at",
}


class TestPetitionDocument:
    def test_shape_follows_the_uk_site(self, client, signed):
        pk = signed.petition.pk
        document = get_json(client, f"/petitions/{pk}.json")
        assert document["links"] == {"self": f"http://testserver/petitions/{pk}.json"}
        data = document["data"]
        assert (data["type"], data["id"]) == ("petition", pk)
        assert data["links"] == {
            "self": f"http://testserver/petitions/{pk}.json",
            "html_url": f"http://testserver/petitions/{pk}/",
            "count_url": f"http://testserver/petitions/{pk}/count.json",
            "signature_history_url": f"http://testserver/petitions/{pk}/history.json",
        }
        attributes = data["attributes"]
        assert set(attributes) == ATTRIBUTES
        assert attributes["action"] == "Plant a tree on every street"
        assert attributes["background"] == "Trees cool streets and clean the air."
        assert attributes["state"] == "open"
        assert attributes["signature_count"] == 9
        assert attributes["creator_name"] == "Carla Creator"
        assert attributes["rejection"] is None and attributes["response"] is None

    def test_timestamps_are_utc_with_z_and_nulls_stay_null(self, client, signed):
        attributes = get_json(client, f"/petitions/{signed.petition.pk}.json")["data"]["attributes"]
        for name in ("created_at", "updated_at", "opened_at", "closes_at"):
            assert TIMESTAMP.match(attributes[name]), (name, attributes[name])
        for name in ("closed_at", "rejected_at", "debate_threshold_reached_at"):
            assert attributes[name] is None
        opened = signed.petition.opened_at.astimezone(UTC)
        assert attributes["opened_at"] == opened.strftime("%Y-%m-%dT%H:%M:%S.") + f"{opened.microsecond // 1000:03d}Z"

    def test_regions_come_from_the_snapshot_every_region_listed(self, client, signed):
        attributes = get_json(client, f"/petitions/{signed.petition.pk}.json")["data"]["attributes"]
        snapshot = breakdown_latest(petition_id=signed.petition.pk)
        regions = attributes["signatures_by_region"]
        assert {region["code"] for region in regions} == set(region_names())  # zeros too
        for region in regions:
            assert set(region) == {"name", "code", "ons_code", "signature_count", "suppressed"}
            assert region["ons_code"] == (None if region["code"] == "ZZ" else region["code"])
            assert region["suppressed"] is (region["signature_count"] is None)
            assert snapshot.regions[region["code"]] == region["signature_count"]
            if not region["suppressed"]:
                assert region["signature_count"] >= 5 and region["signature_count"] % 5 == 0
        by_code = {region["code"]: region for region in regions}
        # Scotland 2 and Wales 1 are below k; so is every region without a signer.
        assert by_code[SCOTLAND]["suppressed"] and by_code[WALES]["suppressed"]
        assert attributes["breakdown"] == {
            "taken_at": attributes["breakdown"]["taken_at"],
            "rounded_to_multiple_of": 5,
        }
        assert TIMESTAMP.match(attributes["breakdown"]["taken_at"])

    def test_before_the_first_snapshot_every_region_is_suppressed(self, client, settings):
        settings.K_ANONYMITY = 5
        petition = make_petition(creator=signer(region=LONDON, display=Display.NAMED))
        for _ in range(4):  # counted only, but fewer than k: no snapshot is due
            sign_and_confirm(petition, signer(region=LONDON))
        log_integrate_all()
        assert take_breakdown_snapshot(petition) is None
        attributes = get_json(client, f"/petitions/{petition.pk}.json")["data"]["attributes"]
        assert attributes["signature_count"] == 5  # the total is live
        assert attributes["breakdown"]["taken_at"] is None
        assert all(region["suppressed"] for region in attributes["signatures_by_region"])
        assert len(attributes["signatures_by_region"]) == len(region_names())

    def test_one_confirmation_moves_only_the_live_fields(self, client, signed):
        url = f"/petitions/{signed.petition.pk}.json"
        before = get_json(client, url)["data"]["attributes"]
        sign_and_confirm(signed.petition, signer(region=WALES, display=Display.NAMED, name="Late Lark"))
        log_integrate_all()
        after = get_json(client, url)["data"]["attributes"]
        assert after["signature_count"] == before["signature_count"] + 1
        live = {"signature_count", "updated_at", "log"}
        assert {key: value for key, value in after.items() if key not in live} == {
            key: value for key, value in before.items() if key not in live
        }
        page = client.get(f"/en/petitions/{signed.petition.pk}/signers/").content.decode()
        assert "Late Lark" not in page  # named signers are listed with the next snapshot

    def test_creator_counted_only_has_no_name(self, client):
        petition = make_petition(creator=signer(name="Private Creator", display=Display.COUNTED))
        response = client.get(f"/petitions/{petition.pk}.json")
        assert response.json()["data"]["attributes"]["creator_name"] is None
        assert b"Private" not in response.content

    def test_creator_by_initials_shows_initials_only(self, client):
        petition = make_petition(creator=signer(name="Ida Initial", display=Display.INITIALS))
        response = client.get(f"/petitions/{petition.pk}.json")
        assert response.json()["data"]["attributes"]["creator_name"] == "I. I."
        assert b"Ida" not in response.content and b"Initial" not in response.content

    def test_response_is_published(self, client, with_response):
        attributes = get_json(client, f"/petitions/{with_response.pk}.json")["data"]["attributes"]
        assert attributes["response"]["summary"] == "We agree."
        assert attributes["response"]["details"] == "Libraries for all."
        assert TIMESTAMP.match(attributes["response"]["published_at"])

    def test_closed_petition(self, client):
        petition = make_petition(state=S.CLOSED)
        attributes = get_json(client, f"/petitions/{petition.pk}.json")["data"]["attributes"]
        assert attributes["state"] == "closed"
        assert TIMESTAMP.match(attributes["closed_at"])


class TestRejectedAndHidden:
    def test_rejected_shows_text_and_reason(self, client, rejected):
        attributes = get_json(client, f"/petitions/{rejected.pk}.json")["data"]["attributes"]
        assert attributes["state"] == "rejected"
        assert attributes["action"] == "Ban Mondays entirely"
        assert attributes["rejection"] == {
            "code": "duplicate",
            "title": "Duplicate",
            "description": attributes["rejection"]["description"],
            "details": "See petition 12.",
        }
        assert attributes["rejection"]["description"].startswith("There's already a petition")
        assert TIMESTAMP.match(attributes["rejected_at"])

    def test_hidden_text_never_leaves(self, client, hidden):
        response = client.get(f"/petitions/{hidden.pk}.json")
        assert response.status_code == 200
        attributes = response.json()["data"]["attributes"]
        assert attributes["state"] == "hidden"
        assert attributes["action"] is attributes["background"] is attributes["additional_details"] is None
        assert attributes["rejection"]["code"] == "defamatory"
        assert attributes["rejection"]["title"] == "Potentially defamatory"
        assert attributes["rejection"]["details"] is None  # the moderators' words may quote it
        assert attributes["creator_name"] is None
        assert attributes["signatures_by_region"] == []
        assert b"Secret" not in response.content and b"Trees cool" not in response.content

    @pytest.mark.parametrize("state", [S.PENDING, S.VALIDATED, S.SPONSORED, S.FLAGGED])
    def test_unpublished_petitions_do_not_exist(self, client, state):
        petition = make_petition(state=state)
        for url in (
            f"/petitions/{petition.pk}.json",
            f"/petitions/{petition.pk}/count.json",
            f"/petitions/{petition.pk}/history.json",
        ):
            response = client.get(url)
            assert response.status_code == 404
            assert response.json() == {"error": "no such petition"}
            assert not response.has_header("ETag")
            assert "public" not in response.get("Cache-Control", "")
            # No validator either: a guessed ETag must not reveal that the petition exists.
            assert client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 404

    @pytest.mark.parametrize(
        "pk", ["0", "999999", "9223372036854775807", "9223372036854775808", "99999999999999999999999"]
    )
    def test_unknown_ids_are_404(self, client, db, pk):
        for url in (f"/petitions/{pk}.json", f"/petitions/{pk}/count.json", f"/petitions/{pk}/history.json"):
            assert client.get(url).status_code == 404


class TestCount:
    def test_shape(self, client, signed):
        pk = signed.petition.pk
        document = get_json(client, f"/petitions/{pk}/count.json")
        assert set(document) == {"id", "signature_count", "log", "updated_at"}
        assert document["id"] == pk and document["signature_count"] == 9
        assert document["log"]["petition_uuid"] == str(signed.petition.uuid)
        assert document["log"]["checkpoint_size"] >= 9
        assert TIMESTAMP.match(document["updated_at"])

    def test_one_query_and_a_304_for_the_same_count(self, client, signed):
        url = f"/petitions/{signed.petition.pk}/count.json"
        with CaptureQueriesContext(connection) as queries:
            first = client.get(url)
        assert len(queries) == 1
        assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
        with CaptureQueriesContext(connection) as queries:
            again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and len(queries) == 1
        assert again["ETag"] == first["ETag"]
        assert "public" in again["Cache-Control"]

    def test_a_new_signature_changes_the_etag(self, client, signed):
        url = f"/petitions/{signed.petition.pk}/count.json"
        etag = client.get(url)["ETag"]
        sign_and_confirm(signed.petition)
        log_integrate_all()
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200 and response.json()["signature_count"] == 10

    def test_micro_cache_answers_without_a_query_for_at_most_a_second(self, client, signed, settings, monkeypatch):
        from undersign.api import views

        settings.COUNT_MICROCACHE_SECONDS = 5  # capped at 1 s
        monkeypatch.setattr(views, "_count_cache", {})
        url = f"/petitions/{signed.petition.pk}/count.json"
        first = client.get(url)
        with CaptureQueriesContext(connection) as queries:
            again = client.get(url)
            not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert len(queries) == 0
        assert again.content == first.content and again["ETag"] == first["ETag"]
        assert again["Content-Type"] == first["Content-Type"] == "application/json"
        assert again["Cache-Control"] == first["Cache-Control"]
        assert again["Access-Control-Allow-Origin"] == "*"
        assert not_modified.status_code == 304
        expiry, _etag, _modified, _body = views._count_cache[signed.petition.pk]
        assert expiry - time.monotonic() <= 1.0
        sign_and_confirm(signed.petition)
        log_integrate_all()
        monkeypatch.setattr(time, "monotonic", lambda: expiry + 0.001)
        assert client.get(url).json()["signature_count"] == 10
        assert client.get("/petitions/999999/count.json").status_code == 404


class TestHistory:
    def test_hourly_counts(self, client, signed):
        document = get_json(client, f"/petitions/{signed.petition.pk}/history.json")
        assert document["id"] == signed.petition.pk
        assert document["links"]["petition"] == f"http://testserver/petitions/{signed.petition.pk}.json"
        assert sum(hour["signature_count"] for hour in document["data"]) == 9  # the creator's too
        for hour in document["data"]:
            assert set(hour) == {"hour", "signature_count"}
            assert TIMESTAMP.match(hour["hour"]) and hour["hour"].endswith(":00:00.000Z")

    def test_hidden_petition_keeps_its_history(self, client, hidden):
        log_integrate_all()
        data = get_json(client, f"/petitions/{hidden.pk}/history.json")["data"]
        assert [hour["signature_count"] for hour in data] == [1]  # the creator


class TestValidators:
    @pytest.mark.parametrize("suffix", [".json", "/history.json"])
    def test_conditional_get(self, client, signed, suffix):
        url = f"/petitions/{signed.petition.pk}{suffix}"
        first = client.get(url)
        assert first["ETag"].startswith('W/"')
        assert "public" in first["Cache-Control"]
        assert "stale-while-revalidate" in first["Cache-Control"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        assert "public" in again["Cache-Control"]

    def test_etag_follows_counts_state_and_response(self, client, signed, moderator):
        from undersign.moderation.services import petition_response_publish

        url = f"/petitions/{signed.petition.pk}.json"
        seen = {client.get(url)["ETag"]}
        sign_and_confirm(signed.petition)
        log_integrate_all()
        seen.add(client.get(url)["ETag"])
        petition_response_publish(petition=signed.petition, actor=moderator, summary="Yes.", details="Done.")
        seen.add(client.get(url)["ETag"])
        Petition.objects.filter(pk=signed.petition.pk).update(state=S.CLOSED, closed_at=signed.petition.opened_at)
        seen.add(client.get(url)["ETag"])
        assert len(seen) == 4
