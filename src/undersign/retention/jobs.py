"""The retention jobs of the apps below this one, registered under the names staff see."""

from __future__ import annotations

from undersign.core.rotation import data_keys_rewrap_work
from undersign.retention.services import RetentionWork, register_retention_job

# (name staff see, job): filled in by the lifecycle work of each app below this one.
JOBS: list[tuple[str, RetentionWork]] = [
    # Once a new master key is first in UNDERSIGN_PII_KEYS, every data key moves to it within
    # the hour, so the old key can be retired (and old backups' wrapped copies with it).
    ("re-wrap data keys under the active master key", data_keys_rewrap_work),
]


def register_jobs() -> None:
    for name, work in JOBS:
        register_retention_job(name, work)
