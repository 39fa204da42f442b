"""Suzie signs, keeps a receipt, then changes her mind: she withdraws with the link of her
confirmation e-mail. Over real HTTP, with the log's integrator running as in `undersign run`:
the count drops, `undersign-verify` (the separate program an auditor runs) agrees with the
site's counts and says her receipt's signature was WITHDRAWN, and she may sign again."""

from __future__ import annotations

import base64
import re
import secrets

import pytest

from tests.factories import last_mailed, make_petition
from tests.journeys.conftest import confirm_link_for, poll, run_verifier
from undersign_verify.entries import commitment
from undersign_verify.receipt import Receipt

pytestmark = pytest.mark.django_db(transaction=True)

SUZIE = {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "named"}
WITHDRAW_LINK = re.compile(r"https?://[^/\s]+/[a-z-]+/signatures/withdraw/[\w-]+/[\w-]+/")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def test_suzie_withdraws_and_the_verifier_agrees(visitor, live_server, integrator, tmp_path):
    petition = make_petition(action="Light the towpath at night")
    count_url = f"/petitions/{petition.pk}/count.json"
    suzie = visitor()

    # Suzie signs, confirms from her e-mail (her browser keeps r), and is counted.
    suzie.submit(f"/en/petitions/{petition.pk}/sign/", SUZIE)
    r = secrets.token_bytes(32)
    c = commitment(petition.uuid, r)
    suzie.submit(confirm_link_for(SUZIE["email"]), {"commitment": c.hex()})
    proof = poll(
        lambda: (resp := suzie.get(f"/log/proof/{c.hex()}")).status_code == 200 and resp.json(),
        within=3,
        tick=integrator,
    )
    assert suzie.get(count_url).json()["signature_count"] == 2  # Charlie's and hers
    receipt = tmp_path / "signature.tlog-proof"
    hashes = tuple(base64.b64decode(h) for h in proof["hashes"])
    receipt.write_text(Receipt(petition.uuid, r, proof["index"], hashes, proof["checkpoint"]).text())
    state = tmp_path / "state.json"
    assert run_verifier("receipt", str(receipt), "--site", live_server.url, "--state", str(state)).returncode == 0

    # Her confirmation e-mail carries a withdrawal link. Opening it changes nothing.
    link = last_mailed(WITHDRAW_LINK, SUZIE["email"]).group(0)
    page = suzie.get(link)
    assert page.status_code == 200 and "Withdraw my signature" in page.text
    assert "Light the towpath" not in page.text and "Suzie" not in page.text
    assert suzie.get(count_url).json()["signature_count"] == 2

    # She presses the button; within seconds the count drops.
    done = suzie.submit(link)
    assert done.status_code == 200 and "Withdrawal received" in done.text
    poll(lambda: suzie.get(count_url).json()["signature_count"] == 1, within=3, tick=integrator)
    # Her name is no longer listed, at once (only the total is live; names go with her signature).
    assert "Suzie Signer" not in suzie.get(f"/en/petitions/{petition.pk}/signers/").text

    # An auditor's verifier recomputes every count from the log: it agrees with the site.
    result = run_verifier("--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "count(s) match the count rule" in result.stdout

    # Her receipt now says her signature was withdrawn; the site's receipt page says so too.
    result = run_verifier("receipt", str(receipt), "--site", live_server.url, "--state", str(state))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "REVOKED (WITHDRAWN)" in result.stdout
    checked = suzie.submit("/en/log/verify", {"receipt": receipt.read_text()})
    assert "Withdrawn:" in checked.text

    # The link answers as it did, and a second press changes nothing.
    assert CSRF.sub("", suzie.get(link).text) == CSRF.sub("", page.text)
    suzie.submit(link)
    integrator()
    assert suzie.get(count_url).json()["signature_count"] == 1

    # Later she signs again with the same address: a fresh signature that counts.
    suzie.submit(f"/en/petitions/{petition.pk}/sign/", SUZIE)
    suzie.submit(confirm_link_for(SUZIE["email"]))
    poll(lambda: suzie.get(count_url).json()["signature_count"] == 2, within=3, tick=integrator)
    result = run_verifier("--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
