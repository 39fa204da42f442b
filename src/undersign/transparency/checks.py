"""The log's system checks, said at the start of the commands that run the site: whether the
integrator would refuse to sign on this database (``transparency.high_water``), and whether
``LOG_ORIGIN`` names another log than the stored one (an error: the site does not start)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from undersign.transparency.high_water import IntegrationRefused, high_water_check
from undersign.transparency.keys import LogOriginMismatch, log_origin
from undersign.transparency.selectors import log_checkpoint_latest


def log_high_water_messages() -> list[CheckMessage]:
    try:
        latest = log_checkpoint_latest()
    except LogOriginMismatch:
        return []  # said by log_origin_messages
    try:
        high_water_check(size=latest.size, root_hash=latest.root_hash)
    except IntegrationRefused as refusal:
        return [Warning(str(refusal), id="transparency.W001")]
    return []


def log_origin_messages() -> list[CheckMessage]:
    """The first start names the log (``log_origin``), so every later start compares with that."""
    try:
        log_origin()
    except LogOriginMismatch as mismatch:
        return [Error(str(mismatch), id="transparency.E001")]
    return []
