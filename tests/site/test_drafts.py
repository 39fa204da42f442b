"""Charlie's unfinished petition: what the server keeps of a wizard draft, and for how long.

The draft is sealed under a key that only Charlie's browser holds, so a dump of the session
table (or the site's own keys) opens nothing; it expires after DRAFT_MAX_AGE_HOURS; expired
sessions are purged daily.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.petitions.test_create_views import CREATOR, TEXT
from undersign.petitions.models import Petition
from undersign.site import drafts
from undersign.site.jobs import periodic_jobs
from undersign.site.services import sessions_clear_expired

pytestmark = pytest.mark.django_db

SECRETS = [TEXT["action"], TEXT["background"], CREATOR["name"], CREATOR["email"], CREATOR["region"]]


def abandon_wizard(client: Client) -> None:
    """Charlie fills in every step but never submits."""
    assert client.post("/en/petitions/new/", TEXT).status_code == 302
    assert client.post("/en/petitions/new/creator/", CREATOR).status_code == 302
    assert client.get("/en/petitions/new/check/").status_code == 200


def stored_sessions() -> list[str]:
    """Every session row as the server keeps it: decoded, as whoever holds a dump would."""
    rows = list(Session.objects.all())
    assert rows, "the wizard keeps a session"
    return [json.dumps(row.get_decoded()) + row.session_data for row in rows]


class TestAbandonedDraft:
    def test_the_session_table_holds_no_name_address_region_or_text(self, client):
        abandon_wizard(client)
        for stored in stored_sessions():
            for secret in SECRETS:
                assert secret not in stored

    def test_the_server_cannot_open_it_without_the_browsers_key(self, client):
        abandon_wizard(client)
        assert client.cookies[drafts.COOKIE_NAME].value
        del client.cookies[drafts.COOKIE_NAME]  # what the server has: the session, no cookie
        response = client.get("/en/petitions/new/check/")
        assert response.status_code == 410
        assert b"Your draft has expired" in response.content
        for secret in SECRETS:
            assert secret.encode() not in response.content

    def test_the_key_cookie_is_private_to_the_wizard_and_dies_with_the_draft(self, client, settings):
        settings.DRAFT_MAX_AGE_HOURS = 24
        response = client.post("/en/petitions/new/", TEXT)
        cookie = response.cookies[drafts.COOKIE_NAME]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert cookie["path"] == "/en/petitions/new/"
        assert 0 < int(cookie["max-age"]) <= 24 * 3600
        assert not cookie["secure"]
        settings.SESSION_COOKIE_SECURE = True
        assert client.post("/en/petitions/new/", TEXT).cookies[drafts.COOKIE_NAME]["secure"]


class TestRefusedDrafts:
    @pytest.mark.parametrize("step", ["", "similar/", "creator/", "check/"])
    def test_an_expired_draft_is_refused_with_a_clear_message_at_every_step(self, client, settings, monkeypatch, step):
        abandon_wizard(client)
        later = time.time() + settings.DRAFT_MAX_AGE_HOURS * 3600 + 1
        monkeypatch.setattr(drafts.time, "time", lambda: later)
        response = client.get(f"/en/petitions/new/{step}")
        assert response.status_code == 410
        assert b"Your draft has expired" in response.content and b"Start again" in response.content
        assert drafts.SESSION_KEY not in client.session  # discarded: the next visit starts afresh
        assert client.get("/en/petitions/new/").status_code == 200

    def test_submitting_an_expired_draft_creates_nothing(self, client, settings, monkeypatch):
        abandon_wizard(client)
        later = time.time() + settings.DRAFT_MAX_AGE_HOURS * 3600 + 1
        monkeypatch.setattr(drafts.time, "time", lambda: later)
        assert client.post("/en/petitions/new/check/").status_code == 410
        assert not Petition.objects.exists()

    def test_a_draft_stays_as_old_as_its_first_step(self, client, settings, monkeypatch):
        """Saving a step again does not make the draft younger."""
        client.post("/en/petitions/new/", TEXT)
        almost = time.time() + settings.DRAFT_MAX_AGE_HOURS * 3600 - 60
        monkeypatch.setattr(drafts.time, "time", lambda: almost)
        assert client.post("/en/petitions/new/creator/", CREATOR).status_code == 302
        monkeypatch.setattr(drafts.time, "time", lambda: almost + 120)
        assert client.get("/en/petitions/new/check/").status_code == 410

    @pytest.mark.parametrize("garbled", ["x", "!!!not base64!!!", "A" * 43, "é"])
    def test_a_garbled_key_gets_the_same_message(self, client, garbled):
        abandon_wizard(client)
        client.cookies[drafts.COOKIE_NAME] = garbled
        response = client.get("/en/petitions/new/creator/")
        assert response.status_code == 410 and b"Your draft has expired" in response.content

    def test_a_key_without_a_draft_gets_the_same_message_then_a_fresh_start(self, client):
        abandon_wizard(client)
        Session.objects.all().delete()  # the session expired and was purged
        assert client.get("/en/petitions/new/similar/").status_code == 410
        fresh = client.get("/en/petitions/new/")
        assert fresh.status_code == 200 and TEXT["action"].encode() not in fresh.content

    def test_a_garbled_session_draft_gets_the_same_message(self, client):
        abandon_wizard(client)
        session = client.session
        session[drafts.SESSION_KEY] = {"started": "soon", "sealed": 3}
        session.save()
        assert client.get("/en/petitions/new/check/").status_code == 410


class TestSessionPurge:
    def test_expired_sessions_are_deleted_and_live_ones_kept(self, client):
        abandon_wizard(client)
        live = Session.objects.get()
        Session.objects.create(session_key="x" * 32, session_data="old", expire_date=timezone.now() - timedelta(1))
        sessions_clear_expired()
        assert list(Session.objects.all()) == [live]

    def test_the_purge_is_a_daily_job_in_both_modes(self, settings):
        entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith(".clear_expired_sessions")]
        assert [e["schedule"] for e in entries] == [24 * 3600.0]
        assert [job.every_seconds for job in periodic_jobs() if job.run is sessions_clear_expired] == [24 * 3600]

    def test_sessions_last_no_longer_than_a_day_but_a_staff_working_day(self, settings):
        assert 8 * 3600 <= settings.SESSION_COOKIE_AGE <= max(settings.DRAFT_MAX_AGE_HOURS, 24) * 3600
