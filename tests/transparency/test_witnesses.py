"""The site's side of witnessing (c2sp.org/tlog-witness): the periodic task submits checkpoints
to real ``undersign-witness`` servers on 127.0.0.1, stores their cosignatures once they verify,
serves them on ``/log/checkpoint``, and ``/healthz`` names the witnesses that are behind. The
witness's clock is the test's (``Clock``), so a refresh needs no sleeping."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connections

from tests.factories import make_petition, sign_and_confirm
from undersign.core.env import WitnessSetting
from undersign.petitions.models import Petition
from undersign.transparency import witnesses
from undersign.transparency.keys import log_signer
from undersign.transparency.models import LogCheckpoint, LogCosignature, LogWitness, WitnessProblem
from undersign.transparency.selectors import log_checkpoint_latest, log_witnesses_behind
from undersign.transparency.services import log_integrate_all
from undersign.transparency.tasks import integrate_log, submit_to_witnesses
from undersign.transparency.witnesses import log_witnesses_submit
from undersign_verify import merkle, note
from undersign_verify.cosignature import Cosigner, cosignature_times
from undersign_verify.witness import Witness, make_server, parse_submission, submission_body

pytestmark = pytest.mark.django_db
P = WitnessProblem


class Clock:
    """The witness's clock, in UNIX seconds, moved by the test."""

    def __init__(self) -> None:
        self.now = int(time.time())

    def site_time(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=UTC)


class RecordingWitness(Witness):
    """undersign-witness as shipped, on the test's clock, keeping each submission and answer."""

    def __init__(self, *args, clock: Clock, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.exchanges: list[tuple[int, int]] = []  # (old size, status)
        self.bodies: list[bytes] = []

    def add_checkpoint(self, body, now=None):
        response = super().add_checkpoint(body, self.clock.now if now is None else now)
        self.bodies.append(body)
        self.exchanges.append((parse_submission(body).old_size, response.status))
        return response


class Running:
    def __init__(self, witness: RecordingWitness, url: str) -> None:
        self.witness = witness
        self.url = url
        self.cosigner = witness.cosigner

    @property
    def setting(self) -> WitnessSetting:
        return WitnessSetting(self.cosigner.key, self.url)

    def state(self) -> tuple[int, bytes] | None:
        return self.witness.latest(log_signer().name)

    def seed(self, size: int, root: bytes) -> None:
        """Make the witness hold a checkpoint of our log signed with its real key: the view a
        forked or rolled-back log would have shown it."""
        signer = log_signer()
        signed = signer.sign(note.Checkpoint(signer.name, size, root).text())
        assert self.witness.add_checkpoint(submission_body(0, [], signed)).status == 200
        self.witness.exchanges.clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def start_witness(tmp_path, clock):
    """Start undersign-witness's HTTP server on a free 127.0.0.1 port, on a thread, with its own
    SQLite file; every one started is shut down at the end of the test."""
    servers = []

    def start(name: str = "witness.test/w1", logs=None, cosigner: Cosigner | None = None, db: Path | None = None):
        cosigner = cosigner or Cosigner.generate(name)
        db = db or tmp_path / f"{name.replace('/', '_')}-{len(servers)}.sqlite3"
        witness = RecordingWitness(cosigner, db, logs or [log_signer().verifier], clock=clock)
        server = make_server(witness, ("127.0.0.1", 0), prefix="/witness")
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Running(witness, f"http://127.0.0.1:{server.server_address[1]}/witness")

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: a witness that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/witness"


def grow(signatures: int = 2) -> Petition:
    petition = make_petition()
    for _ in range(signatures):
        sign_and_confirm(petition)
    log_integrate_all()
    return petition


def submit(clock: Clock):
    return log_witnesses_submit(now=clock.site_time())


def served(client) -> str:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    return response.content.decode()


def row(running: Running) -> LogWitness:
    return LogWitness.objects.get(name=running.cosigner.name)


class TestCosigning:
    def test_the_task_stores_verified_cosignatures_and_the_checkpoint_carries_them(
        self, client, settings, start_witness, clock
    ):
        grow()
        w1, w2 = start_witness("witness.test/w1"), start_witness("witness.test/w2")
        settings.LOG_WITNESSES = (w2.setting, w1.setting)
        size = log_checkpoint_latest().size

        submit_to_witnesses.delay()

        assert w1.state() == w2.state() == (size, log_checkpoint_latest().root_hash)
        assert LogCosignature.objects.filter(checkpoint_size=size).count() == 2
        text = served(client)
        signer = log_signer()
        checkpoint = note.open_checkpoint(text, signer.verifier)  # the log's own signature still verifies
        assert checkpoint.size == size
        times = cosignature_times(text, [w1.cosigner.key, w2.cosigner.key])
        assert times == {w1.cosigner.key: clock.now, w2.cosigner.key: clock.now}
        lines = text.rstrip("\n").rpartition("\n\n")[2].split("\n")
        assert [line.split(" ")[1] for line in lines] == [signer.name, "witness.test/w1", "witness.test/w2"]
        assert "max-age=2" in client.get("/log/checkpoint")["Cache-Control"]
        assert row(w1).cosigned_size == size and row(w1).last_error == P.NONE

    def test_without_witnesses_nothing_is_sent_nor_stored(self, client, settings):
        grow()
        settings.LOG_WITNESSES = ()
        assert log_witnesses_submit() == []
        assert not LogWitness.objects.exists()
        assert served(client) == log_checkpoint_latest().note

    def test_a_grown_log_is_submitted_with_a_consistency_proof_from_the_witness_size(
        self, client, settings, start_witness, clock
    ):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        submit(clock)
        before = log_checkpoint_latest().size
        cosigned_before = served(client)

        grow(3)
        clock.now += 5
        after = log_checkpoint_latest()
        w1.witness.exchanges.clear()
        assert [outcome.submitted for outcome in submit(clock)] == [True]

        assert w1.witness.exchanges == [(before, 200)]  # from its size, accepted at once
        sent = parse_submission(w1.witness.bodies[-1])
        merkle.verify_consistency(
            before, after.size, sent.proof, LogCheckpoint.objects.get(size=before).root_hash, after.root_hash
        )
        assert sent.proof  # a real proof, not the empty one from size 0
        assert w1.state() == (after.size, after.root_hash)
        assert cosignature_times(served(client), [w1.cosigner.key]) == {w1.cosigner.key: clock.now}
        # The older checkpoint keeps its own cosignature.
        line = LogCosignature.objects.get(checkpoint_size=before).line
        assert cosigned_before.endswith(line + "\n")

    def test_a_run_that_read_an_older_checkpoint_than_one_already_cosigned_sends_nothing(
        self, settings, start_witness, clock, monkeypatch, caplog
    ):
        """Two runs overlap (a slow witness, several hosts): the later one had the newer
        checkpoint cosigned before the earlier one reached this witness with the older one."""
        grow()
        older = log_checkpoint_latest()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        grow(3)
        clock.now += 5
        submit(clock)
        w1.witness.exchanges.clear()
        monkeypatch.setattr(witnesses, "log_checkpoint_latest", lambda: older)
        assert [o.submitted for o in log_witnesses_submit(now=clock.site_time())] == [False]
        assert w1.witness.exchanges == []
        assert LogWitness.objects.get().last_error == P.NONE
        assert "conflict" not in caplog.text

    def test_an_idle_log_is_submitted_again_once_its_cosignature_is_refresh_old(
        self, client, settings, start_witness, clock
    ):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        settings.LOG_WITNESS_REFRESH = 60
        submit(clock)
        first = served(client)
        assert len(w1.witness.exchanges) == 1

        clock.now += 59
        assert [outcome.submitted for outcome in submit(clock)] == [False]  # still fresh: nothing sent
        assert len(w1.witness.exchanges) == 1 and served(client) == first

        clock.now += 2
        assert [outcome.submitted for outcome in submit(clock)] == [True]
        size = log_checkpoint_latest().size
        assert w1.witness.exchanges[-1] == (size, 200)  # the same checkpoint, empty proof
        assert cosignature_times(served(client), [w1.cosigner.key]) == {w1.cosigner.key: clock.now}
        assert LogCosignature.objects.filter(checkpoint_size=size).count() == 1  # replaced, not added
        assert row(w1).cosigned_at == clock.site_time()

    def test_a_witness_that_lost_its_state_is_brought_up_from_its_own_size(
        self, settings, start_witness, clock, tmp_path, caplog
    ):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        submit(clock)
        grow()
        # The same key, a fresh database: it answers 409 with size 0.
        again = start_witness(cosigner=w1.cosigner, db=tmp_path / "fresh.sqlite3")
        settings.LOG_WITNESSES = (again.setting,)
        clock.now += 1

        with caplog.at_level(logging.WARNING, logger="undersign.transparency.witnesses"):
            submit(clock)

        assert [status for _, status in again.witness.exchanges] == [409, 200]
        assert again.state()[0] == log_checkpoint_latest().size
        assert "lost its state" in caplog.text

    def test_a_witness_given_a_new_key_starts_afresh(self, client, settings, start_witness, clock):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        submit(clock)
        rekeyed = start_witness(cosigner=Cosigner.generate(w1.cosigner.name))
        settings.LOG_WITNESSES = (rekeyed.setting,)
        # Served before the task runs again: the old key's line is left out.
        assert served(client) == log_checkpoint_latest().note

        submit(clock)

        assert row(rekeyed).vkey == rekeyed.cosigner.key.vkey
        assert rekeyed.witness.exchanges == [(0, 200)]  # what the old key cosigned counts no more
        assert list(cosignature_times(served(client), [rekeyed.cosigner.key])) == [rekeyed.cosigner.key]


class TestRefusals:
    def test_a_cosignature_that_does_not_verify_under_the_configured_key_is_not_stored(
        self, client, settings, start_witness, clock
    ):
        grow()
        w1 = start_witness()
        impostor = Cosigner.generate(w1.cosigner.name).key  # the name configured, another key
        settings.LOG_WITNESSES = (WitnessSetting(impostor, w1.url),)

        assert [outcome.problem for outcome in submit(clock)] == [P.BAD_COSIGNATURE]
        assert not LogCosignature.objects.exists()
        assert row(w1).cosigned_size is None
        assert served(client) == log_checkpoint_latest().note

    def test_a_cosignature_dated_beyond_any_calendar_is_refused(self, settings, start_witness, clock):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        site_now = clock.site_time()
        clock.now = 2**62  # valid for cosignature/v1 (below 2**63), not a date the site can keep

        assert [outcome.problem for outcome in log_witnesses_submit(now=site_now)] == [P.BAD_COSIGNATURE]
        assert not LogCosignature.objects.exists()
        assert LogWitness.objects.get().lease_until is None

    def test_a_witness_that_does_not_follow_the_log(self, settings, start_witness, clock):
        grow()
        stranger = start_witness(logs=[note.Signer.from_seed("example.com/other", b"\x05" * 32).verifier])
        settings.LOG_WITNESSES = (stranger.setting,)
        assert [outcome.problem for outcome in submit(clock)] == [P.UNKNOWN_LOG]

    @pytest.mark.parametrize(
        ("case", "problem", "statuses"),
        [
            ("ahead", P.AHEAD, [409]),  # it cosigned a larger tree than ours
            ("fork at our size", P.FORK, [409, 409]),  # another root at the size we have
            ("fork below our size", P.FORK, [409, 422]),  # another root at a smaller size
        ],
    )
    def test_a_witness_holding_another_view_of_the_log_is_a_conflict_logged_once(
        self, case, problem, statuses, client, settings, start_witness, clock, caplog
    ):
        grow(4)
        latest = log_checkpoint_latest()
        w1 = start_witness()
        size = {"ahead": latest.size + 5, "fork at our size": latest.size, "fork below our size": 2}[case]
        w1.seed(size, b"\x07" * 32)
        settings.LOG_WITNESSES = (w1.setting,)

        with caplog.at_level(logging.INFO, logger="undersign.transparency.witnesses"):
            assert [outcome.problem for outcome in submit(clock)] == [problem]
            clock.now += 61
            submit(clock)  # still in conflict: tried again, not logged again

        assert [status for _, status in w1.witness.exchanges] == statuses * 2
        assert w1.state() == (size, b"\x07" * 32)  # it kept its view; nothing of ours was cosigned
        assert row(w1).last_error == problem and row(w1).cosigned_size is None
        assert not LogCosignature.objects.exists()
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "in conflict" in errors[0].getMessage()
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["witnesses_behind"] == {w1.cosigner.name: problem}
        assert health.json()["status"] == "degraded"


class TestWitnessDown:
    def test_the_site_keeps_counting_with_a_witness_down(self, client, settings, start_witness, clock, caplog):
        petition = make_petition()
        sign_and_confirm(petition)
        up = start_witness("witness.test/up")
        down = WitnessSetting(Cosigner.generate("witness.test/down").key, closed_port_url())
        settings.LOG_WITNESSES = (down, up.setting)

        with caplog.at_level(logging.WARNING, logger="undersign.transparency.witnesses"):
            integrate_log.delay()
            submit_to_witnesses.delay()
        counted = Petition.objects.get(pk=petition.pk).signature_count
        assert counted == 2  # the creator and the signer

        size = log_checkpoint_latest().size
        sign_and_confirm(petition)
        integrate_log.delay()
        assert Petition.objects.get(pk=petition.pk).signature_count == counted + 1
        assert log_checkpoint_latest().size == size + 1

        down_row = LogWitness.objects.get(name="witness.test/down")
        assert down_row.last_error == P.UNREACHABLE and down_row.last_attempt_at is not None
        assert down_row.last_success_at is None
        assert "witness.test/down did not cosign (unreachable)" in caplog.text
        health = client.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["witnesses_behind"] == {"witness.test/down": "never cosigned"}
        assert body["status"] == "ok"  # one witness down of two: its operator's business

        # Every witness behind: no verifier demanding cosignatures accepts today's checkpoint.
        settings.LOG_WITNESSES = (down,)
        body = client.get("/healthz").json()
        assert body["witnesses_behind"] == {"witness.test/down": "never cosigned"}
        assert body["status"] == "degraded"

    def test_a_witness_that_never_answers_times_out(self, settings, clock):
        grow()
        with socket.socket() as silent:  # listens, never accepts: the request waits until the timeout
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            key = Cosigner.generate("witness.test/silent").key
            settings.LOG_WITNESSES = (WitnessSetting(key, f"http://127.0.0.1:{silent.getsockname()[1]}"),)
            settings.LOG_WITNESS_TIMEOUT = 0.5
            assert [outcome.problem for outcome in submit(clock)] == [P.UNREACHABLE]
        assert LogWitness.objects.get().lease_until is None  # the lease was given back

    def test_a_witness_held_by_another_worker_is_left_alone_until_its_lease_ends(self, settings, start_witness, clock):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        until = clock.site_time() + timedelta(seconds=30)
        LogWitness.objects.create(name=w1.cosigner.name, vkey=w1.cosigner.key.vkey, lease_until=until, lease_token="x")

        assert [outcome.submitted for outcome in submit(clock)] == [False]
        assert w1.witness.exchanges == []

        clock.now += 31  # the other worker died holding it
        assert [outcome.submitted for outcome in submit(clock)] == [True]
        assert w1.witness.exchanges == [(0, 200)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_submit_once(postgres_only, settings, start_witness, clock):
    grow()
    w1 = start_witness()
    settings.LOG_WITNESSES = (w1.setting,)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            submit(clock)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # Whichever came second found the witness leased, or already cosigned: one submission.
    assert w1.witness.exchanges == [(0, 200)]
    assert LogCosignature.objects.count() == 1


class TestBehind:
    def test_lagging_and_stale_witnesses(self, settings, start_witness, clock):
        grow()
        w1 = start_witness()
        settings.LOG_WITNESSES = (w1.setting,)
        settings.LOG_WITNESS_INTERVAL, settings.LOG_WITNESS_TIMEOUT, settings.LOG_WITNESS_REFRESH = 10, 5, 60
        submit(clock)
        assert log_witnesses_behind(now=clock.site_time()) == {}

        grow()  # a checkpoint the witness has not seen yet, signed just now
        signed_at = LogCheckpoint.objects.order_by("-size").first().created_at
        assert log_witnesses_behind(now=signed_at + timedelta(seconds=5)) == {}
        # 2 × (interval + 2 × timeout) later it should have been submitted a few times over.
        lagging = signed_at + timedelta(seconds=41)
        assert log_witnesses_behind(now=lagging) == {w1.cosigner.name: "lagging"}
        # No new cosignature for three refresh periods.
        stale = clock.site_time() + timedelta(seconds=181)
        assert log_witnesses_behind(now=stale) == {w1.cosigner.name: "stale"}

    def test_healthz_says_nothing_of_witnesses_without_them(self, client, settings):
        settings.LOG_WITNESSES = ()
        body = client.get("/healthz").json()
        assert "witnesses_behind" not in body and body["status"] == "ok"


def test_the_shipped_console_script_cosigns_for_the_site(client, settings, tmp_path, clock):
    """The same, with ``undersign-witness`` started as its operator starts it (its own process)."""
    grow()
    cosigner = Cosigner.generate("witness.test/process")
    key = tmp_path / "witness.skey"
    key.write_text(cosigner.skey + "\n")
    key.chmod(0o600)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("undersign-witness")
    argv = [str(script), "--key", str(key), "--db", str(tmp_path / "w.sqlite3"), "--listen", f"127.0.0.1:{port}"]
    argv += ["--log", log_signer().verifier.vkey, "--prefix", "/witness"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while True:  # until it listens (bounded), not a fixed sleep
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "undersign-witness did not start"
                time.sleep(0.05)
        settings.LOG_WITNESSES = (WitnessSetting(cosigner.key, f"http://127.0.0.1:{port}/witness"),)
        assert [outcome.problem for outcome in log_witnesses_submit()] == [P.NONE]
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = served(client)
    assert list(cosignature_times(text, [cosigner.key])) == [cosigner.key]
    assert note.open_checkpoint(text, log_signer().verifier).size == log_checkpoint_latest().size


class TestLogPage:
    def test_it_gives_the_verifier_command_with_the_witnesses_keys(self, client, settings, start_witness):
        witness = start_witness()
        settings.LOG_WITNESSES = [witness.setting]
        page = client.get("/en/log/").content.decode()
        assert f"--witness '{witness.cosigner.key.vkey}'" in page
        page = client.get("/ru/log/").content.decode()
        assert "Свидетели" in page and witness.cosigner.key.vkey in page

    def test_without_witnesses_it_names_none(self, client, settings):
        settings.LOG_WITNESSES = []
        assert "--witness" not in client.get("/en/log/").content.decode()
