"""Mila moderates petitions whose signers risk prosecution. In production her account needs a
second factor: she sets up an authenticator, logs out, logs back in with her password and a code,
gets in once with a recovery code (and not twice with the same one), and a wrong code or a staff
page opened before the second step gets her nowhere. Real HTTP against the live server."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"  # the ``moderator`` fixture's
SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
RECOVERY_CODES = re.compile(r"<li><code>([a-z2-7]{8})</code></li>")


def path_of(response) -> str:
    """Where the visitor ended up, after the redirects: path and query."""
    return "/" + response.url.split("/", 3)[3]


def log_out(visitor) -> None:
    visitor.submit("/en/accounts/logout/", form_page="/en/accounts/second-factor/recovery-codes/")


def test_mila_guards_her_staff_account(settings, visitor, moderator):
    settings.STAFF_OTP_REQUIRED = True
    mila = visitor()

    # Her password alone leads to enrolment, and so does any staff page.
    page = mila.submit("/en/accounts/login/", {"username": "mod", "password": PASSWORD})
    assert path_of(page) == "/en/accounts/second-factor/setup/?next=%2Fen%2Faccounts%2F"
    page = mila.get("/en/moderation/")
    assert path_of(page) == "/en/accounts/second-factor/setup/?next=%2Fen%2Fmoderation%2F"
    assert "<svg" in page.text and "Content-Security-Policy" in page.headers

    # She types the secret into her app and confirms with its code: recovery codes, shown once.
    key = b32decode(SECRET.search(page.text).group(1).replace(" ", ""))
    page = mila.submit(path_of(page), {"code": f"{totp(key):06d}", "next": "/en/moderation/"}, form_page=path_of(page))
    codes = RECOVERY_CODES.findall(page.text)
    assert len(codes) == 10
    assert path_of(mila.get("/en/moderation/")) == "/en/moderation/"

    log_out(mila)
    assert path_of(mila.get("/en/moderation/")).startswith("/en/accounts/login/")

    # Password, then a wrong code, then the right one (the next period's: each code works once).
    page = mila.submit(
        "/en/accounts/login/?next=/en/moderation/", {"username": "mod", "password": PASSWORD, "next": "/en/moderation/"}
    )
    step = path_of(page)
    assert step == "/en/accounts/second-factor/?next=%2Fen%2Fmoderation%2F"
    assert path_of(mila.get("/en/moderation/retention/")).startswith("/en/accounts/second-factor/")
    wrong = f"{(totp(key) + 500_000) % 1_000_000:06d}"
    page = mila.submit(step, {"code": wrong, "next": "/en/moderation/"})
    assert page.status_code == 200 and "That code is not right" in page.text
    page = mila.submit(step, {"code": f"{totp(key, drift=1):06d}", "next": "/en/moderation/"})
    assert path_of(page) == "/en/moderation/" and page.status_code == 200

    # A recovery code gets her in once.
    for attempt in ("first", "second"):
        log_out(mila)
        page = mila.submit("/en/accounts/login/", {"username": "mod", "password": PASSWORD})
        page = mila.submit(path_of(page), {"code": codes[0]}, form_page=path_of(page))
        if attempt == "first":
            assert path_of(page) == "/en/moderation/"
        else:
            assert "That code is not right" in page.text
            assert path_of(mila.get("/en/accounts/")).startswith("/en/accounts/second-factor/")
