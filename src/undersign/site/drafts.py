"""The create wizard's draft: sealed under a key that only the creator's browser holds.

What the creator types (name, e-mail, region, the petition's text) waits between the wizard's
steps. The server keeps it only as AES-256-GCM ciphertext in the session; the 256-bit key is
random per draft and lives only in an HttpOnly cookie limited to the wizard's path. So neither
a dump of the session table nor the site's own keys open an abandoned draft: once the cookie
is gone (browser closed for good, ``DRAFT_MAX_AGE_HOURS`` passed), the ciphertext is noise, and
the daily session purge (``sessions_clear_expired``) deletes even that.

The draft's start time is sealed with it (as associated data), so it cannot be made younger;
a draft older than ``DRAFT_MAX_AGE_HOURS``, or one whose key is lost or garbled, is refused
with one clear "start again" message.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

SESSION_KEY = "petition_draft"
COOKIE_NAME = "undersign_draft_key"
NONCE_BYTES = 12
KEY_BYTES = 32
AAD_PREFIX = b"undersign/draft/v1\x00"


class DraftUnreadable(Exception):
    """A draft exists but cannot be used: it is too old, or its key is missing or wrong."""


def _max_age_seconds() -> int:
    return int(settings.DRAFT_MAX_AGE_HOURS) * 3600


def _cookie_path() -> str:
    return reverse("petitions:create")  # every step lives under it (/petitions/new/…)


def _aad(started: int) -> bytes:
    return AAD_PREFIX + started.to_bytes(8, "big")


def _key_from_cookie(request: HttpRequest) -> bytes | None:
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return None
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def draft_read(request: HttpRequest) -> dict[str, Any]:
    """The draft's steps so far; ``{}`` when none was started. Raises ``DraftUnreadable``
    when a draft (or its key) exists but is expired, lost or garbled."""
    stored = request.session.get(SESSION_KEY)
    if stored is None:
        if request.COOKIES.get(COOKIE_NAME):  # a deleted cookie may still come back empty
            raise DraftUnreadable("the key outlived its draft (session expired)")
        return {}
    try:
        started = int(stored["started"])
        blob = base64.b64decode(stored["sealed"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise DraftUnreadable("malformed draft") from None
    if time.time() - started > _max_age_seconds():
        raise DraftUnreadable("expired")
    key = _key_from_cookie(request)
    if key is None:
        raise DraftUnreadable("no key")
    try:
        plaintext = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(started))
        data = json.loads(plaintext)
    except (InvalidTag, ValueError):
        raise DraftUnreadable("does not open") from None
    if not isinstance(data, dict):
        raise DraftUnreadable("not a draft")
    return data


def draft_write(request: HttpRequest, response: HttpResponse, data: dict[str, Any]) -> None:
    """Seal ``data`` into the session under the browser's draft key, made (and set on
    ``response``) with the draft's first step. The first step's time stays the draft's age."""
    key = _key_from_cookie(request)
    stored = request.session.get(SESSION_KEY)
    if key is not None and isinstance(stored, dict):
        started = int(stored["started"])  # the caller read the draft first, so key and draft match
    else:
        key, started = secrets.token_bytes(KEY_BYTES), int(time.time())
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(data).encode("utf-8"), _aad(started))
    request.session[SESSION_KEY] = {"started": started, "sealed": base64.b64encode(sealed).decode("ascii")}
    response.set_cookie(
        COOKIE_NAME,
        base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii"),
        # Counted from the draft's start: the key dies with the draft, not later.
        max_age=max(_max_age_seconds() - (int(time.time()) - started), 1),
        path=_cookie_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def draft_discard(request: HttpRequest, response: HttpResponse) -> None:
    """Forget the draft: its ciphertext from the session, its key from the browser."""
    request.session.pop(SESSION_KEY, None)
    response.delete_cookie(COOKIE_NAME, path=_cookie_path(), samesite="Lax")
