"""Nadia lives where the site's clearnet name is blocked; she signs at its onion address with
Tor Browser. The site is served at both at once (SITE_URLS), HTTPS-only on the clearnet, and
both reach the app on 127.0.0.1, told apart by the Host they name, over real HTTP against the
live server (no tor is started: it cannot bootstrap here).

The clearnet's plain HTTP is redirected to https:// and its answers would carry HSTS; the onion
is served over plain HTTP with neither, its cookies work without ``Secure``, and its pages link
to the onion. Signing there always asks for a proof of work. Her e-mail links to the primary
address, which she cannot open, and its foot tells her the onion address: the same path there
confirms her signature, and she is counted."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
import requests
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core import mail
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.factories import make_petition
from tests.journeys.conftest import confirm_link_for
from tests.origins import CLEARNET, CLEARNET_URL, ONION, ONION_URL, serve_at_both
from undersign.abuse.proof import proof_solve
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus
from undersign_verify.entries import commitment

pytestmark = pytest.mark.django_db(transaction=True)

NADIA = {"name": "Nadia Reader", "email": "nadia@example.org", "region": "E12000007", "display": "counted"}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE = re.compile(r'data-proof-challenge="([^"]+)"')
ALTERNATE = re.compile(r'<link rel="alternate" hreflang="en" href="([^"]+)">')


class TorBrowser:
    """A browser whose every request names the onion address, as Tor Browser's do when the
    local tor daemon hands them to the app on 127.0.0.1."""

    def __init__(self, base: str, host: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Host"] = host

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, allow_redirects=False)

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.session.post(self.base + path, data=data, timeout=30, allow_redirects=False)


@pytest.fixture
def https_site(settings) -> Iterator[str]:
    """Both addresses, HTTPS-only as in production, and a live server on 127.0.0.1 of this
    test's own, started after those settings: the security middleware reads them once, when
    the server builds its handler (the shared ``live_server`` is built before any test). The
    server is stopped when the test ends; on SQLite it shares the test's in-memory database."""
    serve_at_both(settings)
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared, port=0)
    server.daemon = True
    server.start()
    try:
        assert server.is_ready.wait(timeout=30), "the live server did not start"
        if server.error:
            raise server.error
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


def test_nadia_signs_and_confirms_at_the_onion_address(https_site):
    live_url = https_site
    petition = make_petition(action="Keep the river clean")
    page_path = f"/en/petitions/{petition.pk}/"

    # The clearnet name, over plain HTTP, is sent to https://.
    clearnet = TorBrowser(live_url, CLEARNET).get(page_path)
    assert clearnet.status_code == 301 and clearnet.headers["Location"] == f"{CLEARNET_URL}{page_path}"

    # The onion answers over plain HTTP, without HSTS, and its page links to the onion.
    nadia = TorBrowser(live_url, ONION)
    page = nadia.get(page_path)
    assert page.status_code == 200 and "Strict-Transport-Security" not in page.headers
    assert ALTERNATE.search(page.text).group(1) == f"{ONION_URL}{page_path}"
    assert CLEARNET not in page.text and "Host" in page.headers["Vary"]

    # Signing there asks her browser for a proof of work; its CSRF cookie is not Secure, so
    # a browser keeps it over plain HTTP and the form goes through.
    sign_path = f"/en/petitions/{petition.pk}/sign/"
    form = nadia.get(sign_path)
    assert "at this onion address" in form.text
    assert "csrftoken" in nadia.session.cookies
    challenge = CHALLENGE.search(form.text).group(1)
    fields = {**NADIA, "csrfmiddlewaretoken": CSRF.search(form.text).group(1), "proof_challenge": challenge}
    fields["proof_counter"] = str(proof_solve(challenge=challenge, email=NADIA["email"]))
    signed = nadia.post(sign_path, fields)
    assert signed.status_code == 302 and signed.headers["Location"] == f"/en/petitions/{petition.pk}/sign/thank-you/"

    # Her e-mail links to the primary, and tells her where else the site is.
    link = confirm_link_for(NADIA["email"])
    assert link.startswith(f"{CLEARNET_URL}/en/signatures/confirm/")
    body = next(m.body for m in reversed(mail.outbox) if NADIA["email"] in m.to)
    assert f"Also reachable with Tor Browser at: {ONION_URL}" in body

    # She opens the same path at the onion address and confirms.
    confirm_path = link.removeprefix(CLEARNET_URL)
    confirm_page = nadia.get(confirm_path)
    assert confirm_page.status_code == 200 and "Strict-Transport-Security" not in confirm_page.headers
    c = commitment(petition.uuid, secrets.token_bytes(32))
    token = CSRF.search(confirm_page.text).group(1)
    confirmed = nadia.post(confirm_path, {"csrfmiddlewaretoken": token, "commitment": c.hex()})
    assert confirmed.status_code == 200 and "Strict-Transport-Security" not in confirmed.headers
    signature = Signature.objects.get(petition=petition, kind=SignatureKind.SIGNER)
    assert signature.status == SignatureStatus.CONFIRMED
    assert signature.ip_sealed is not None  # the daemon's, sealed as any: no mark of the onion in a dump
