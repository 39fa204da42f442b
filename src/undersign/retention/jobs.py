"""The retention jobs of the apps below this one, registered under the names staff see."""

from __future__ import annotations

from undersign.retention.services import RetentionWork, register_retention_job
from undersign.signatures.data_links import signer_data_links_purge_expired

# (name staff see, job): filled in by the lifecycle work of each app below this one.
JOBS: list[tuple[str, RetentionWork]] = [
    ("expired signer data links", signer_data_links_purge_expired),
]


def register_jobs() -> None:
    for name, work in JOBS:
        register_retention_job(name, work)
