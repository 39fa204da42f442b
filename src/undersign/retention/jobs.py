"""The retention jobs of the apps below this one, registered under the names staff see."""

from __future__ import annotations

from undersign.retention.services import register_retention_job


def register_jobs() -> None:
    for name, work in ():
        register_retention_job(name, work)
