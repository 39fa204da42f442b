"""Typed readers for settings that come from the environment.

Each refuses a value it cannot read instead of guessing: a typo in production must stop the
process at start, not surface as odd behaviour weeks later. Every ``NAME`` may instead be given
as ``NAME_FILE``, the path of a file holding the value (for container secrets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from undersign_verify.cosignature import WitnessKey, parse_witness_vkey
from undersign_verify.note import MAX_SIGNATURES, NoteError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_raw(name: str) -> str | None:
    """The value of ``name``, or of the file named by ``name_FILE``; ``None`` when neither is set."""
    file_var = f"{name}_FILE"
    if os.environ.get(name) not in (None, "") and os.environ.get(file_var):
        raise ImproperlyConfigured(f"set {name} or {file_var}, not both")
    if path := os.environ.get(file_var):
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_var}: cannot read {path}: {exc}") from exc
    value = os.environ.get(name)
    return None if value in (None, "") else value


def env_str(name: str, default: str | None = None) -> str:
    value = env_raw(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = env_raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = env_raw(name)
    if value is None:
        result = default
    else:
        try:
            result = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and result < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {result}")
    if maximum is not None and result > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {result}")
    return result


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = env_raw(name)
    if value is None:
        return default
    try:
        result = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if minimum is not None and result < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {result}")
    return result


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class WitnessSetting:
    """One witness of ``LOG_WITNESSES``: its key (whose name is the witness's name) and its
    submission prefix (``POST <url>/add-checkpoint``, c2sp.org/tlog-witness)."""

    key: WitnessKey
    url: str

    @property
    def name(self) -> str:
        return self.key.name


def env_witnesses(name: str) -> tuple[WitnessSetting, ...]:
    """Witnesses written ``<vkey> <url>``, one per line or separated by commas (lines starting
    with ``#`` are comments, for the ``_FILE`` form): key first, as in the Sigsum policy
    format's ``witness`` lines. The name is the key's own, so it cannot disagree with the
    cosignatures' signature lines."""
    value = env_raw(name)
    if value is None:
        return ()
    entries = [
        entry.strip()
        for line in value.splitlines()
        if not line.strip().startswith("#")
        for entry in line.split(",")
        if entry.strip()
    ]
    witnesses: list[WitnessSetting] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{name}, witness {number}"
        fields = entry.split()
        if len(fields) != 2:
            raise ImproperlyConfigured(f"{where}: write each witness as '<vkey> <url>', not {entry!r}")
        vkey, url = fields
        try:
            key = parse_witness_vkey(vkey)
        except NoteError as exc:  # CosignatureError is one
            raise ImproperlyConfigured(f"{where}: {vkey!r} is not a witness vkey (name+hash+base64): {exc}") from None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                f"{where}: {url!r} is not a witness's submission prefix (an http:// or https:// URL, no query)"
            )
        if any(w.name == key.name for w in witnesses):
            raise ImproperlyConfigured(f"{where}: the witness {key.name!r} is listed twice")
        witnesses.append(WitnessSetting(key, url.rstrip("/")))
    # The served checkpoint carries the log's signature and one cosignature per witness; signed-note
    # readers (ours included) refuse a note with more than MAX_SIGNATURES lines.
    if len(witnesses) >= MAX_SIGNATURES:
        raise ImproperlyConfigured(f"{name} lists {len(witnesses)} witnesses: at most {MAX_SIGNATURES - 1}")
    return tuple(witnesses)


def parse_email_url(url: str) -> dict[str, object]:
    """Django e-mail settings from ``smtp://user:pass@host:port``, ``smtps://…``,
    ``smtp+tls://…``, ``file:///path``, ``console://`` or ``locmem://``."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme in ("smtp", "smtps", "smtp+tls"):
        query = parse_qs(parts.query)
        default_port = {"smtp": 25, "smtps": 465, "smtp+tls": 587}[scheme]
        try:
            port = parts.port or default_port
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {url!r}") from None
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL must name a host")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_USE_TLS": scheme == "smtp+tls" or query.get("tls", ["0"])[0] in _TRUE,
            "EMAIL_TIMEOUT": 10,
        }
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a folder path")
        return {
            "EMAIL_BACKEND": "undersign.core.mail.EmlFileBackend",
            "EMAIL_FILE_PATH": unquote(parts.path),
        }
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    raise ImproperlyConfigured(
        f"EMAIL_URL scheme {scheme!r} is not supported (smtp, smtps, smtp+tls, file, console, locmem)"
    )
