"""Suzie signs a petition under attack in her browser: the real proof.js and hash-wasm compute
the proof of work (the test settings' small Argon2 parameters) under the sign page's policy,
and she ends on the usual "check your e-mail" page with a pending signature, not a held one."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from django.core.cache import cache

from tests.browser.test_signing_in_browser import page  # noqa: F401 - the Chromium fixture
from tests.factories import make_petition
from undersign.abuse.proof import proof_verify
from undersign.petitions.services import petition_attack_mode_set
from undersign.signatures.models import Signature, SignatureStatus

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_suzie_signs_a_petition_under_attack(page, live_server):  # noqa: F811
    from playwright.sync_api import expect

    cache.clear()
    petition = make_petition(action="Keep the night buses running")
    petition_attack_mode_set(petition=petition, on=True, actor=None, reason="test")
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    posted: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda request: (
            posted.append(parse_qs(request.post_data or "", keep_blank_values=True))
            if request.method == "POST" and request.url.endswith(f"/en/petitions/{petition.pk}/sign/")
            else None
        ),
    )

    page.goto(f"{live_server.url}/petitions/{petition.pk}/")
    expect(page.locator("#signing-slower")).to_have_text("Signing takes a little longer right now.")
    page.get_by_role("link", name="Sign this petition").click()
    expect(page.locator("#proof")).to_contain_text("Signing takes a few seconds right now")

    page.get_by_label("Full name").fill("Suzie Sharpe")
    page.get_by_label("E-mail address").fill(" Suzie.Sharpe@example.org")
    page.get_by_label("Where do you live?").select_option("E12000007")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    assert problems == []  # no policy refused the WebAssembly, no script failed
    assert len(posted) == 1
    challenge, counter = posted[0]["proof_challenge"][0], posted[0]["proof_counter"][0]
    assert challenge and counter, "the form went without a proof"
    # The sign path checked the proof (pending, not held: attack mode holds what is not proven)
    # and spent its challenge: the same proof does not serve twice.
    signature = Signature.objects.get(petition=petition, kind="signer")
    assert signature.status == SignatureStatus.PENDING
    assert not proof_verify(petition=petition, email="suzie.sharpe@example.org", challenge=challenge, counter=counter)
