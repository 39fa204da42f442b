"""The log's signing key and name, from settings (core/keys.py makes or requires the key)."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from undersign_verify.note import Signer


@cache
def _signer(origin: str, seed: bytes) -> Signer:
    return Signer.from_seed(origin, seed)


def log_signer() -> Signer:
    """The signer of checkpoints; its key name is the log's origin (c2sp.org/tlog-checkpoint)."""
    return _signer(settings.LOG_ORIGIN, settings.KEYS.log_signing_key)
