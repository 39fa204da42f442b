"""The periodic jobs of the embedded mode, one per piece of background work; Celery beat wakes
the same work in production (``CELERY_BEAT_SCHEDULE`` in the settings, which a test holds to
this list)."""

from __future__ import annotations

from django.conf import settings

from undersign.core.jobs import PeriodicJob
from undersign.core.outbox import outbox_sweep
from undersign.counting.services import breakdown_snapshots_take_due
from undersign.moderation.alerts import abuse_alerts_raise
from undersign.moderation.bulk import bulk_actions_resume
from undersign.petitions.services import petitions_close_due
from undersign.retention.services import retention_jobs_run_all
from undersign.signatures.attack_mode import petitions_attack_mode_switch_on
from undersign.signatures.services import signatures_times_coarsen
from undersign.site.services import sessions_clear_expired
from undersign.transparency.services import log_integrate_periodic
from undersign.transparency.witnesses import log_witnesses_submit


def periodic_jobs() -> list[PeriodicJob]:
    return [
        # Counting happens here: integrating the log applies the count changes of its entries.
        PeriodicJob("integrate the transparency log", settings.LOG_INTEGRATE_INTERVAL, log_integrate_periodic),
        # On a thread of its own: a slow witness must not hold up counting. Nothing to do
        # without LOG_WITNESSES (the embedded default).
        PeriodicJob(
            "submit checkpoints to the witnesses", settings.LOG_WITNESS_INTERVAL, log_witnesses_submit, own_thread=True
        ),
        PeriodicJob("close due petitions", 60, petitions_close_due),
        PeriodicJob("sweep the e-mail outbox", 30, outbox_sweep),
        # Every retention job, each run recorded (retention.services.retention_jobs_run_all).
        PeriodicJob("apply the retention rules", settings.RETENTION_INTERVAL_SECONDS, retention_jobs_run_all),
        PeriodicJob("delete expired sessions", 24 * 3600, sessions_clear_expired),
        PeriodicJob("round counted signatures' times to the day", 3600, signatures_times_coarsen),
        PeriodicJob("take due breakdown snapshots", 60, breakdown_snapshots_take_due),
        PeriodicJob("switch attack mode on at the held rate", 60, petitions_attack_mode_switch_on),
        # A bulk action whose run was cut short, or whose wake-up was lost, is finished here.
        PeriodicJob("finish running bulk actions", 60, bulk_actions_resume),
        PeriodicJob("alert moderators to held signatures", 60, abuse_alerts_raise),
    ]
