"""Where key material comes from.

Production mode takes every key from the environment (or ``*_FILE`` secrets) and refuses to
start without them: a key made up per host would leave rows unreadable on the other hosts and
dedup tags that no longer match. Embedded mode (``make run``, tests) makes the keys once into
the data folder, readable by the owner only, and reuses them on every later start.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from undersign.core.env import env_raw

KEY_BYTES = 32


@dataclass(frozen=True)
class KeyMaterial:
    secret_key: str
    pii_keys: dict[str, bytes]  # key id -> AES-256 key; the first is the one new data keys use
    pii_active_key_id: str
    dedup_key: bytes
    log_signing_key: bytes  # Ed25519 seed that signs the transparency log's checkpoints
    # Each blind index has its own key, so that whoever holds one (say, the limiter's, which
    # every app host needs) cannot test another ("did this address sign P?").
    limiter_key: bytes  # HMAC key of the rate limiter's counters (mail per address, …)
    member_tag_key: bytes  # HMAC key of a claim's member tag (one validated claim per member)


def _b64key(name: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} must be base64") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def parse_pii_keys(text: str) -> dict[str, bytes]:
    """``kid:base64,kid:base64`` -> ordered mapping; the first entry is the active key."""
    keys: dict[str, bytes] = {}
    for item in text.split(","):
        kid, sep, b64 = item.strip().partition(":")
        if not sep or not kid or not kid.isascii() or len(kid) > 32 or not kid.replace("-", "").isalnum():
            raise ImproperlyConfigured(
                "UNDERSIGN_PII_KEYS must be 'keyid:base64key[,keyid:base64key…]' with short alphanumeric key ids"
            )
        if kid in keys:
            raise ImproperlyConfigured(f"UNDERSIGN_PII_KEYS names key id {kid!r} twice")
        keys[kid] = _b64key(f"UNDERSIGN_PII_KEYS[{kid}]", b64)
    return keys


def _from_environment() -> dict[str, str | None]:
    return {
        "SECRET_KEY": env_raw("SECRET_KEY"),
        "UNDERSIGN_PII_KEYS": env_raw("UNDERSIGN_PII_KEYS"),
        "UNDERSIGN_DEDUP_KEY": env_raw("UNDERSIGN_DEDUP_KEY"),
        "UNDERSIGN_LOG_SIGNING_KEY": env_raw("UNDERSIGN_LOG_SIGNING_KEY"),
        "UNDERSIGN_LIMITER_KEY": env_raw("UNDERSIGN_LIMITER_KEY"),
        "UNDERSIGN_MEMBER_TAG_KEY": env_raw("UNDERSIGN_MEMBER_TAG_KEY"),
    }


def _generate() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "UNDERSIGN_PII_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
        "UNDERSIGN_DEDUP_KEY": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
        "UNDERSIGN_LOG_SIGNING_KEY": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
        "UNDERSIGN_LIMITER_KEY": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
        "UNDERSIGN_MEMBER_TAG_KEY": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
    }


def _embedded_keys(data_dir: Path) -> dict[str, str]:
    path = data_dir / "keys.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"cannot read {path}: {exc}") from exc
        stored = {str(k): str(v) for k, v in stored.items()}
        added = {name: value for name, value in _generate().items() if name not in stored}
        if added:
            # A data folder from before a key existed (the log signing key came later): add only
            # the missing key; the others must stay, or the data under them is lost.
            stored.update(added)
            temporary = path.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(stored, handle, indent=2)
            os.replace(temporary, path)
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    generated = _generate()
    # O_EXCL: two processes starting at once must not each write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _embedded_keys(data_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(generated, handle, indent=2)
    return generated


def load_key_material(*, production: bool, data_dir: Path) -> KeyMaterial:
    given = _from_environment()
    missing = [name for name, value in given.items() if value is None]
    if missing and production:
        raise ImproperlyConfigured(
            "production mode needs supplied keys; missing: "
            + ", ".join(missing)
            + " (see docs/settings.md; generate with `undersign generate_keys`)"
        )
    if missing:
        stored = _embedded_keys(data_dir)
        for name in missing:
            given[name] = stored.get(name)
    if any(value is None for value in given.values()):
        raise ImproperlyConfigured(f"{data_dir / 'keys.json'} lacks some keys; remove it to remake")
    pii_keys = parse_pii_keys(given["UNDERSIGN_PII_KEYS"] or "")
    return KeyMaterial(
        secret_key=given["SECRET_KEY"] or "",
        pii_keys=pii_keys,
        pii_active_key_id=next(iter(pii_keys)),
        dedup_key=_b64key("UNDERSIGN_DEDUP_KEY", given["UNDERSIGN_DEDUP_KEY"] or ""),
        log_signing_key=_b64key("UNDERSIGN_LOG_SIGNING_KEY", given["UNDERSIGN_LOG_SIGNING_KEY"] or ""),
        limiter_key=_b64key("UNDERSIGN_LIMITER_KEY", given["UNDERSIGN_LIMITER_KEY"] or ""),
        member_tag_key=_b64key("UNDERSIGN_MEMBER_TAG_KEY", given["UNDERSIGN_MEMBER_TAG_KEY"] or ""),
    )


def generate_environment_lines() -> list[str]:
    """Fresh keys as ``NAME=value`` lines, for an operator to store as secrets."""
    return [f"{name}={value}" for name, value in _generate().items()]
