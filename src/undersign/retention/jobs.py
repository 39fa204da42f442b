"""The retention jobs of the apps below this one, registered under the names staff see, in the
order they run. Apps above this one register theirs in their own ``ready()``."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from undersign.core.audit import staff_access_delete_expired
from undersign.core.outbox import outbox_sent_delete
from undersign.core.rotation import data_keys_rewrap_work
from undersign.retention.registry import RetentionJob, register_retention_job
from undersign.retention.services import (
    petitions_personal_data_destroy_due,
    petitions_unconfirmed_delete,
    retention_runs_delete_expired,
)
from undersign.signatures.data_links import signer_data_links_purge_expired
from undersign.signatures.held import signatures_held_delete
from undersign.signatures.services import signatures_expired_delete, signatures_ips_drop
from undersign.verification.services import claims_evidence_purge, decision_notes_delete

# (name staff see, job, the settings that say how long its data is kept). A name is also the
# key its runs are recorded under, so it stays English here; pages show it translated
# (``{% translate job.name %}``), from this app's catalogue.
JOBS: list[RetentionJob] = [
    # First: a pending petition's creator signature is left to this job by the next one.
    RetentionJob(
        gettext_noop("delete petitions their creators never confirmed"),
        petitions_unconfirmed_delete,
        ("UNCONFIRMED_PETITION_RETENTION_DAYS",),
    ),
    RetentionJob(
        gettext_noop("destroy the personal data of petitions past their retention"),
        petitions_personal_data_destroy_due,
        ("PERSONAL_DATA_RETENTION_DAYS", "REJECTED_PETITION_RETENTION_DAYS"),
    ),
    RetentionJob(
        gettext_noop("delete signatures whose confirmation link expired"),
        signatures_expired_delete,
        ("CONFIRMATION_LINK_DAYS",),
    ),
    RetentionJob(
        gettext_noop("delete held signatures nobody released"), signatures_held_delete, ("HELD_RETENTION_DAYS",)
    ),
    RetentionJob(
        gettext_noop("delete expired signer data links"), signer_data_links_purge_expired, ("SIGNER_DATA_LINK_MINUTES",)
    ),
    RetentionJob(gettext_noop("drop signers' IP addresses"), signatures_ips_drop, ("IP_RETENTION_DAYS",)),
    RetentionJob(gettext_noop("delete claim evidence"), claims_evidence_purge, ("EVIDENCE_RETENTION_DAYS",)),
    RetentionJob(
        gettext_noop("delete validators' decision notes"), decision_notes_delete, ("DECISION_NOTE_RETENTION_DAYS",)
    ),
    RetentionJob(gettext_noop("delete sent e-mails' records"), outbox_sent_delete, ("SENT_MAIL_RETENTION_DAYS",)),
    RetentionJob(
        gettext_noop("delete staff access records"), staff_access_delete_expired, ("STAFF_AUDIT_RETENTION_DAYS",)
    ),
    RetentionJob(
        gettext_noop("delete retention run records"), retention_runs_delete_expired, ("STAFF_AUDIT_RETENTION_DAYS",)
    ),
    # Once a new master key is first in UNDERSIGN_PII_KEYS, every data key moves to it within
    # the hour, so the old key can be retired (and old backups' wrapped copies with it).
    RetentionJob(
        gettext_noop("re-wrap data keys under the active master key"),
        data_keys_rewrap_work,
        ("MASTER_KEY_ROTATION_DAYS",),
    ),
]


def register_jobs() -> None:
    for name, work, setting_names in JOBS:
        register_retention_job(name, work, setting_names=setting_names)
