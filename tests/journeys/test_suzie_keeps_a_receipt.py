"""Suzie signs, keeps a receipt, and checks the count herself: over real HTTP, with the log's
integrator running on its own thread as in `undersign run`, and `undersign-verify` run as the
separate program an auditor would run."""

from __future__ import annotations

import base64
import secrets
import time

import pytest

from tests.factories import make_petition
from tests.journeys.conftest import confirm_link_for, poll, run_verifier
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_invalidate
from undersign_verify.entries import commitment
from undersign_verify.receipt import Receipt

pytestmark = pytest.mark.django_db(transaction=True)


def test_suzie_keeps_a_receipt_and_the_verifier_agrees_with_the_count(visitor, live_server, integrator, tmp_path):
    petition = make_petition(action="Light the towpath at night")
    sign = f"/en/petitions/{petition.pk}/sign/"
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
    checked = suzie.submit("/en/log/verify", {"receipt": receipt.text()})
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
