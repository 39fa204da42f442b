"""The log's high-water file: a database restored from an older backup cannot make the
integrator sign a checkpoint smaller than one already published, nor another history at a size
already signed; the integrator refuses, loudly, and the site keeps serving pages."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets

import pytest
from django.core import serializers
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import make_petition, sign_and_confirm
from undersign.petitions.models import Petition
from undersign.transparency import high_water, services
from undersign.transparency.high_water import IntegrationRefused, high_water_read
from undersign.transparency.models import LogCheckpoint, LogEntry, LogTile
from undersign.transparency.selectors import log_checkpoint_latest
from undersign.transparency.services import log_integrate_all, log_integrate_batch, log_integrate_periodic
from undersign_verify.merkle import EMPTY_ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def mark_file(settings, tmp_path, monkeypatch):
    """The guard on, with its file in a fresh folder, and this "process" having logged nothing."""
    path = tmp_path / "log-high-water.json"
    settings.LOG_HIGH_WATER_FILE = str(path)
    monkeypatch.setattr(high_water, "_logged", None)
    return path


def backup() -> str:
    """The log's tables as a backup holds them."""
    rows = [*LogEntry.objects.all(), *LogTile.objects.all(), *LogCheckpoint.objects.all()]
    return serializers.serialize("json", rows)


def restore(dump: str) -> None:
    LogCheckpoint.objects.all().delete()
    LogTile.objects.all().delete()
    LogEntry.objects.all().delete()
    for obj in serializers.deserialize("json", dump):
        obj.save()


def write_mark(path, **fields) -> None:
    latest = log_checkpoint_latest()
    data = {
        "version": 1,
        "size": latest.size,
        "root": base64.b64encode(latest.root_hash).decode(),
        "previous_size": 0,
        "previous_root": base64.b64encode(EMPTY_ROOT).decode(),
    }
    data.update(fields)
    path.write_text(json.dumps(data))


def refusal_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == high_water.__name__ and r.levelno == logging.ERROR]


class TestRecording:
    def test_a_first_start_without_a_file_signs_and_records_each_checkpoint(self, mark_file):
        petition = make_petition()
        sign_and_confirm(petition)
        log_integrate_all()
        first = log_checkpoint_latest()
        assert high_water_read() == high_water.HighWater(first.size, first.root_hash, 0, EMPTY_ROOT)
        sign_and_confirm(petition)
        log_integrate_all()
        second = log_checkpoint_latest()
        assert high_water_read() == high_water.HighWater(second.size, second.root_hash, first.size, first.root_hash)
        assert [p.name for p in mark_file.parent.iterdir()] == [mark_file.name]  # no temporary file left

    def test_a_mark_that_cannot_be_written_signs_nothing(self, mark_file, monkeypatch):
        def full_disk(*args):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(high_water.os, "replace", full_disk)
        sign_and_confirm(make_petition())
        with pytest.raises(IntegrationRefused, match="cannot be written"):
            log_integrate_batch()
        assert not LogCheckpoint.objects.exists()
        assert not LogEntry.objects.filter(leaf_index__isnull=False).exists()

    def test_a_file_that_cannot_be_read_signs_nothing(self, mark_file, settings):
        blocker = mark_file.parent / "not-a-folder"
        blocker.write_text("")
        settings.LOG_HIGH_WATER_FILE = str(blocker / "log-high-water.json")
        sign_and_confirm(make_petition())
        with pytest.raises(IntegrationRefused, match="cannot be read"):
            log_integrate_batch()
        assert not LogCheckpoint.objects.exists()

    def test_its_folder_is_made_when_missing(self, mark_file, settings):
        settings.LOG_HIGH_WATER_FILE = str(mark_file.parent / "log" / "log-high-water.json")
        sign_and_confirm(make_petition())
        log_integrate_all()
        assert high_water_read().size == log_checkpoint_latest().size

    def test_an_empty_setting_switches_the_guard_off(self, mark_file, settings):
        settings.LOG_HIGH_WATER_FILE = ""
        sign_and_confirm(make_petition())
        assert log_integrate_all() > 0
        assert not mark_file.parent.exists() or not any(mark_file.parent.iterdir())

    def test_the_file_is_written_before_the_commit_so_a_crash_leaves_it_ahead_never_behind(
        self, mark_file, monkeypatch
    ):
        petition = make_petition()
        log_integrate_all()
        committed = log_checkpoint_latest()
        sign_and_confirm(petition)
        record = services.high_water_record

        def record_then_crash(**kwargs):
            record(**kwargs)
            raise RuntimeError("the worker died before the commit")

        monkeypatch.setattr(services, "high_water_record", record_then_crash)
        with pytest.raises(RuntimeError):
            log_integrate_batch()
        assert log_checkpoint_latest().size == committed.size  # rolled back: never served
        assert high_water_read().size > committed.size  # the file is ahead
        monkeypatch.setattr(services, "high_water_record", record)
        with pytest.raises(IntegrationRefused, match="ends exactly at the checkpoint signed before that one"):
            log_integrate_batch()


class TestARestoredBackup:
    def test_a_restored_older_backup_cannot_roll_the_log_back(self, mark_file, client, caplog):
        petition = make_petition()
        for _ in range(3):
            sign_and_confirm(petition)
        log_integrate_all()
        older = backup()
        for _ in range(2):
            sign_and_confirm(petition)
        log_integrate_all()
        newer, published = backup(), log_checkpoint_latest()

        restore(older)  # the database comes back from the older backup
        sign_and_confirm(petition)  # and people go on signing
        checkpoints, pending = LogCheckpoint.objects.count(), LogEntry.objects.filter(leaf_index__isnull=True).count()
        with pytest.raises(IntegrationRefused) as refused:
            log_integrate_batch()
        message = str(refused.value)
        assert f"is smaller than the largest checkpoint already signed (size {published.size})" in message
        assert "Backups and restore" in message and str(mark_file) in message
        # Nothing signed, nothing appended, nothing counted.
        assert LogCheckpoint.objects.count() == checkpoints
        assert LogEntry.objects.filter(leaf_index__isnull=True).count() == pending
        assert high_water_read().size == published.size
        # The periodic job does not raise (or log) again each tick; the error was logged once.
        assert log_integrate_periodic() == 0
        assert len(refusal_errors(caplog)) == 1
        # Pages are served; the health endpoint says why the log stands still.
        assert client.get(f"/en/petitions/{petition.pk}/").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["log_integration"] == "refused"
        assert f"(size {published.size})" in health.json()["log_integration_reason"]

        restore(newer)  # the newest database back: the integrator goes on
        sign_and_confirm(petition)
        assert log_integrate_all() == 1
        assert log_checkpoint_latest().size == published.size + 1
        assert high_water_read().size == published.size + 1
        assert client.get("/healthz").json()["status"] == "ok"

    def test_the_same_size_with_another_root_is_refused(self, mark_file):
        sign_and_confirm(make_petition())
        log_integrate_all()
        write_mark(mark_file, root=base64.b64encode(secrets.token_bytes(32)).decode())
        with pytest.raises(IntegrationRefused, match="another history"):
            log_integrate_batch()

    def test_a_larger_log_without_the_recorded_checkpoint_is_refused(self, mark_file):
        petition = make_petition()
        log_integrate_all()
        first = log_checkpoint_latest()
        sign_and_confirm(petition)
        sign_and_confirm(petition)
        log_integrate_all()  # one checkpoint, two entries larger: none at first.size + 1
        write_mark(mark_file, size=first.size, root=base64.b64encode(secrets.token_bytes(32)).decode())
        with pytest.raises(IntegrationRefused, match=f"has root .* at size {first.size}, where root"):
            log_integrate_batch()
        write_mark(mark_file, size=first.size + 1, root=base64.b64encode(first.root_hash).decode())
        with pytest.raises(IntegrationRefused, match=f"has no checkpoint at size {first.size + 1}"):
            log_integrate_batch()

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "not json",
            "[]",
            '{"version": 2, "size": 1, "root": "", "previous_size": 0, "previous_root": ""}',
            json.dumps({"version": 1, "size": -1}),
            json.dumps({"version": 1, "size": True, "root": "x"}),
            json.dumps(
                {"version": 1, "size": 3, "root": "AAAA", "previous_size": 0, "previous_root": "AAAA"}
            ),  # roots not 32 bytes
            json.dumps(
                {
                    "version": 1,
                    "size": 3,
                    "root": base64.b64encode(bytes(32)).decode(),
                    "previous_size": 3,
                    "previous_root": base64.b64encode(bytes(32)).decode(),
                }
            ),
        ],
    )
    def test_a_damaged_file_is_refused(self, mark_file, text):
        mark_file.write_text(text)
        sign_and_confirm(make_petition())
        with pytest.raises(IntegrationRefused, match="damaged"):
            log_integrate_batch()
        assert not LogCheckpoint.objects.exists()


class TestSayingIt:
    def test_the_start_up_check_warns_before_the_integrator_runs(self, mark_file):
        sign_and_confirm(make_petition())
        log_integrate_all()
        assert not [m for m in run_checks(databases=["default"]) if m.id == "transparency.W001"]
        write_mark(mark_file, size=log_checkpoint_latest().size + 5)
        (warning,) = [m for m in run_checks(databases=["default"]) if m.id == "transparency.W001"]
        assert "refuses to sign" in warning.msg

    def test_count_signatures_fails_with_the_reason(self, mark_file):
        sign_and_confirm(make_petition())
        log_integrate_all()
        write_mark(mark_file, size=log_checkpoint_latest().size + 5)
        with pytest.raises(CommandError, match="smaller than the largest checkpoint"):
            call_command("count_signatures", stdout=io.StringIO())

    def test_a_new_reason_is_logged_again(self, mark_file, caplog):
        sign_and_confirm(make_petition())
        log_integrate_all()
        size = log_checkpoint_latest().size
        for bump in (5, 5, 6):
            write_mark(mark_file, size=size + bump)
            log_integrate_periodic()
        assert len(refusal_errors(caplog)) == 2
        assert Petition.objects.exists()


@pytest.fixture
def mark_in_redis(settings, monkeypatch, worker_id):
    """The mark in Redis (``LOG_HIGH_WATER_URL``), in a database of this test process's own: the
    key is fixed, so parallel test processes must not share one."""
    import redis

    number = 13 + (int(worker_id[2:]) % 3 if worker_id.startswith("gw") else 0)
    url = f"redis://127.0.0.1:6379/{number}"
    client = redis.Redis.from_url(url)
    try:
        client.delete(high_water.REDIS_KEY)
    except redis.RedisError:
        pytest.skip(f"needs Redis at {url}")
    settings.LOG_HIGH_WATER_URL = url
    settings.LOG_HIGH_WATER_FILE = ""
    monkeypatch.setattr(high_water, "_logged", None)
    yield client
    client.delete(high_water.REDIS_KEY)


class TestTheMarkInRedis:
    """Several app hosts share only PostgreSQL and Redis: the mark every integrator reads and
    writes is one Redis key, and guards as the file does."""

    def test_each_checkpoint_is_recorded_in_the_key(self, mark_in_redis):
        petition = make_petition()
        sign_and_confirm(petition)
        log_integrate_all()
        first = log_checkpoint_latest()
        assert high_water_read() == high_water.HighWater(first.size, first.root_hash, 0, EMPTY_ROOT)
        stored = json.loads(mark_in_redis.get(high_water.REDIS_KEY))
        assert (stored["size"], stored["root"]) == (first.size, base64.b64encode(first.root_hash).decode())

    def test_a_restored_older_backup_is_refused(self, mark_in_redis):
        petition = make_petition()
        sign_and_confirm(petition)
        log_integrate_all()
        dump = backup()
        sign_and_confirm(petition)
        log_integrate_all()
        restore(dump)
        sign_and_confirm(petition)
        refused = r"smaller than the largest checkpoint.*key undersign:log:high-water"
        with pytest.raises(IntegrationRefused, match=refused):
            log_integrate_batch()

    def test_redis_unreachable_signs_nothing(self, mark_in_redis, settings):
        settings.LOG_HIGH_WATER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        sign_and_confirm(make_petition())
        with pytest.raises(IntegrationRefused, match="cannot be read"):
            log_integrate_batch()
        assert not LogCheckpoint.objects.exists()

    def test_the_password_is_not_in_the_refusal(self, mark_in_redis, settings):
        settings.LOG_HIGH_WATER_URL = "redis://:sekrit@127.0.0.1:1/0"
        sign_and_confirm(make_petition())
        with pytest.raises(IntegrationRefused) as refusal:
            log_integrate_batch()
        assert "sekrit" not in str(refusal.value)
        assert "redis://127.0.0.1:1/0" in str(refusal.value)
