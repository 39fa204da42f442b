"""The log's name (its origin) is stored the first time the log is signed or published and never
follows a later change of the site's address; a set LOG_ORIGIN that names another log stops the
site's commands; a deliberate rename (a compromised key) adds a name the log never had."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm
from undersign.transparency.checks import log_origin_messages
from undersign.transparency.keys import LogOriginMismatch, log_origin, log_signer
from undersign.transparency.models import LogCheckpoint, LogName
from undersign.transparency.selectors import log_checkpoint_latest
from undersign.transparency.services import LogRenameRefused, log_integrate_all, log_rename
from undersign_verify import note
from undersign_verify.merkle import EMPTY_ROOT

pytestmark = pytest.mark.django_db


def move_site(settings, url: str) -> None:
    """What a restart at another address does to the settings (SITE_URL, the site's one address
    in SITE_URLS, and its default name)."""
    settings.SITE_URL = url
    settings.SITE_URLS = [url]
    settings.LOG_ORIGIN_DEFAULT = url.split("://", 1)[1] + "/log"


def published(client) -> tuple[dict, note.Checkpoint]:
    body = client.get("/.well-known/undersign-log.json").json()
    checkpoint = note.open_checkpoint(client.get("/log/checkpoint").text, note.parse_vkey(body["verifier_key"]))
    return body, checkpoint


class TestFirstName:
    def test_the_first_checkpoint_stores_the_sites_host_and_a_new_address_keeps_it(self, client, settings):
        move_site(settings, "http://127.0.0.1:8000")
        sign_and_confirm(make_petition())
        log_integrate_all()
        assert list(LogName.objects.values_list("generation", "origin")) == [(1, "127.0.0.1:8000/log")]
        first_size = log_checkpoint_latest().size

        move_site(settings, "http://192.0.2.7:8080")  # restarted on another port and address
        sign_and_confirm(make_petition())
        log_integrate_all()
        body, checkpoint = published(client)
        assert body["origin"] == checkpoint.origin == "127.0.0.1:8000/log"
        assert note.parse_vkey(body["verifier_key"]).name == "127.0.0.1:8000/log"
        # Where to fetch it follows the address; what it is called does not.
        assert body["checkpoint"] == "http://192.0.2.7:8080/log/checkpoint"
        assert checkpoint.size == log_checkpoint_latest().size > first_size

    def test_publishing_the_empty_log_names_it_too(self, client, settings):
        settings.LOG_ORIGIN = "petitions.example.org/log"
        assert published(client)[1].origin == "petitions.example.org/log"
        settings.LOG_ORIGIN = ""
        move_site(settings, "http://elsewhere.example")
        assert published(client)[1].origin == "petitions.example.org/log"

    def test_a_log_signed_before_names_were_stored_keeps_the_name_its_checkpoints_carry(self, client, settings):
        signer = note.Signer.from_seed("old.example:8000/log", settings.KEYS.log_signing_key)
        text = signer.sign(note.Checkpoint("old.example:8000/log", 0, EMPTY_ROOT).text())
        LogCheckpoint.objects.create(size=0, root_hash=EMPTY_ROOT, note=text, created_at=timezone.now())
        assert not LogName.objects.exists()  # an upgraded site: the table is new and empty
        assert log_origin_messages() == []  # its first start stores the name
        assert LogName.objects.get().origin == "old.example:8000/log"
        assert published(client)[1].origin == "old.example:8000/log"


class TestASetName:
    def test_the_stored_name_may_be_set(self, settings):
        log_origin()
        settings.LOG_ORIGIN = "testserver/log"
        assert log_origin_messages() == []

    def test_another_name_stops_every_command_that_runs_the_site(self, settings):
        log_origin()
        settings.LOG_ORIGIN = "petitions.example.org/log"
        [error] = log_origin_messages()
        assert error.id == "transparency.E001" and error.is_serious()
        assert "LOG_ORIGIN is 'petitions.example.org/log' but the log is named 'testserver/log'" in error.msg
        with pytest.raises(SystemCheckError, match="transparency.E001"):
            call_command("check", databases=["default"])

    def test_nothing_is_signed_or_published_under_another_name(self, client, settings):
        sign_and_confirm(make_petition())
        log_origin()
        settings.LOG_ORIGIN = "petitions.example.org/log"
        with pytest.raises(LogOriginMismatch):
            log_integrate_all()
        assert not LogCheckpoint.objects.exists()
        with pytest.raises(LogOriginMismatch):
            log_signer()


class TestRename:
    def test_a_rename_signs_the_next_checkpoint_under_a_new_name(self, client):
        sign_and_confirm(make_petition())
        log_integrate_all()
        call_command("log_origin", rename="testserver/log-2")
        sign_and_confirm(make_petition())
        log_integrate_all()
        body, checkpoint = published(client)
        assert body["origin"] == checkpoint.origin == "testserver/log-2"
        assert list(LogName.objects.order_by("generation").values_list("origin", flat=True)) == [
            "testserver/log",
            "testserver/log-2",
        ]

    @pytest.mark.parametrize(
        ("name", "reason"), [("testserver/log", "already been named"), ("a name", r"without spaces or '\+'")]
    )
    def test_an_old_or_malformed_name_is_refused(self, name, reason):
        with pytest.raises(LogRenameRefused, match=reason):
            log_rename(origin=name)
        with pytest.raises(CommandError, match=reason):
            call_command("log_origin", rename=name)

    def test_the_command_lists_the_names(self, capsys):
        call_command("log_origin")
        assert capsys.readouterr().out.strip().endswith("\ttestserver/log")
