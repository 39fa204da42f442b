"""The log's system check: whether the integrator would refuse to sign on this database
(``transparency.high_water``), said at the start of the commands that run the site."""

from __future__ import annotations

from django.core.checks import CheckMessage, Warning

from undersign.transparency.high_water import IntegrationRefused, high_water_check
from undersign.transparency.selectors import log_checkpoint_latest


def log_high_water_messages() -> list[CheckMessage]:
    latest = log_checkpoint_latest()
    try:
        high_water_check(size=latest.size, root_hash=latest.root_hash)
    except IntegrationRefused as refusal:
        return [Warning(str(refusal), id="transparency.W001")]
    return []
