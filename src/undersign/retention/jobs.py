"""The retention jobs of the apps below this one, registered under the names staff see."""

from __future__ import annotations

from undersign.retention.services import RetentionWork, petitions_personal_data_destroy_due, register_retention_job

# (name staff see, job): filled in by the lifecycle work of each app below this one.
JOBS: list[tuple[str, RetentionWork]] = [
    ("destroy the personal data of petitions past their retention", petitions_personal_data_destroy_due),
]


def register_jobs() -> None:
    for name, work in JOBS:
        register_retention_job(name, work)
