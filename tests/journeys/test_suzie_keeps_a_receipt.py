"""Suzie signs, keeps a receipt, and checks the count herself: over real HTTP, with the log's
integrator running on its own thread as in `undersign run`, and `undersign-verify` run as the
separate program an auditor would run."""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_petition
from tests.journeys.conftest import confirm_link_for
from undersign.core.jobs import PeriodicJob, run_jobs_forever
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_invalidate
from undersign.transparency.services import log_integrate_all
from undersign_verify.entries import commitment
from undersign_verify.receipt import Receipt

pytestmark = pytest.mark.django_db(transaction=True)

VERIFY = shutil.which("undersign-verify", path=str(Path(sys.executable).parent)) or ""


def poll(check, *, within: float, tick=lambda: None, every: float = 0.05):
    """Poll until ``check`` returns something truthy; fail past the deadline (no sleeps as
    synchronisation: the deadline is the assertion)."""
    deadline = time.monotonic() + within
    while True:
        tick()
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {within}s"
        time.sleep(every)


@pytest.fixture
def integrator(settings):
    """The integrator every second. On PostgreSQL on its own thread, as `undersign run` does; on
    SQLite the live server shares the test's in-memory database connection, which a third
    thread cannot share safely, so the test's polling drives it (``tick``) at the same pace."""
    settings.LOG_INTEGRATE_INTERVAL = 1.0
    if connection.vendor != "postgresql":
        last = [0.0]

        def tick() -> None:
            if time.monotonic() - last[0] >= settings.LOG_INTEGRATE_INTERVAL:
                last[0] = time.monotonic()
                log_integrate_all()

        yield tick
        return
    stop = threading.Event()
    job = PeriodicJob("integrate", settings.LOG_INTEGRATE_INTERVAL, log_integrate_all)
    thread = threading.Thread(target=run_jobs_forever, args=(stop, [job]), daemon=True)
    thread.start()
    yield lambda: None
    stop.set()
    thread.join(timeout=30)


def run_verifier(*args: str) -> subprocess.CompletedProcess:
    assert VERIFY, "undersign-verify is not installed beside this Python (pip install -e .)"
    return subprocess.run([VERIFY, *args], capture_output=True, text=True, timeout=120, check=False)


def test_suzie_keeps_a_receipt_and_the_verifier_agrees_with_the_count(visitor, live_server, integrator, tmp_path):
    petition = make_petition(action="Light the towpath at night")
    sign = f"/petitions/{petition.pk}/sign/"
    suzie = visitor()

    # Suzie signs and opens the link in her e-mail.
    suzie.submit(
        sign, {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"}
    )
    link = confirm_link_for("suzie@example.org")

    # Her browser makes r and sends only the commitment C with the confirm button.
    r = secrets.token_bytes(32)
    c = commitment(petition.uuid, r)
    confirmed_at = time.monotonic()
    page = suzie.submit(link, {"commitment": c.hex()})
    assert page.status_code == 200 and c.hex() in page.text
    assert r.hex() not in page.text

    # Within two seconds her signature is in the public log, with a proof.
    proof = poll(
        lambda: (resp := suzie.get(f"/log/proof/{c.hex()}")).status_code == 200 and resp.json(),
        within=2,
        tick=integrator,
    )
    assert time.monotonic() - confirmed_at < 2
    count = suzie.get(f"/petitions/{petition.pk}/count.json").json()
    assert count["signature_count"] == 2  # Charlie's and hers
    assert count["log"]["checkpoint_size"] >= proof["index"] + 1

    # Her browser builds the receipt; the command-line verifier confirms it, as counted.
    hashes = tuple(base64.b64decode(h) for h in proof["hashes"])
    receipt = Receipt(petition.uuid, r, proof["index"], hashes, proof["checkpoint"])
    path = tmp_path / "signature.tlog-proof"
    path.write_text(receipt.text())
    state = tmp_path / "state.json"
    result = run_verifier("receipt", str(path), "--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "counted" in result.stdout

    # The receipt page says the same.
    checked = suzie.submit("/log/verify", {"receipt": receipt.text()})
    assert "Counted:" in checked.text

    # Pete the moderator finds her signature was fraud (say): a revocation goes into the log.
    signature_invalidate(signature=Signature.objects.get(petition=petition, kind="signer"), reason="fraud")
    poll(
        lambda: suzie.get(f"/petitions/{petition.pk}/count.json").json()["signature_count"] == 1,
        within=3,
        tick=integrator,
    )

    # An auditor's verifier, a separate program, recomputes every count from the log: it agrees.
    result = run_verifier("--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "count(s) match the count rule" in result.stdout

    # And Suzie's receipt now says her signature no longer counts.
    result = run_verifier("receipt", str(path), "--site", live_server.url, "--state", str(state))
    assert result.returncode == 2 and "REVOKED" in result.stdout
