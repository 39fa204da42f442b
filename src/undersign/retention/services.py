"""The data's lifecycle: the jobs that destroy personal data on schedule, each run recorded.

Every job is a function of ``now`` returning how many rows it destroyed or rewrote;
``retention_job_run`` runs one and leaves a ``RetentionRun`` row whatever happens, so staff can
see that retention is kept (and when it last failed)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from undersign.core.batches import batches_delete, batches_run
from undersign.core.crypto import data_key_destroy
from undersign.core.errors import Refusal
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import petition_personal_data_destroyed, petitions_delete_unconfirmed
from undersign.retention.models import RetentionRun
from undersign.retention.registry import RetentionWork, register_retention_job, retention_jobs
from undersign.retention.selectors import personal_data_destruction_at, petitions_personal_data_due
from undersign.signatures.models import Signature
from undersign.signatures.services import signatures_delete, signatures_personal_data_destroy
from undersign.verification.services import claims_personal_data_destroy

log = logging.getLogger(__name__)

# The registry lives in its own module (``selectors`` lists it for staff, and ``services``
# reads ``selectors``); registering stays reachable from here.
__all__ = [
    "PersonalDataNotDue",
    "RetentionIncomplete",
    "RetentionWork",
    "petition_personal_data_destroy",
    "petitions_personal_data_destroy_due",
    "petitions_unconfirmed_delete",
    "register_retention_job",
    "retention_job_run",
    "retention_jobs_run_all",
    "retention_runs_delete_expired",
]


def retention_job_run(
    *, job: str, work: RetentionWork, now: datetime | None = None, reraise: bool = True
) -> RetentionRun:
    """Run one retention job and record it. A failure is recorded by the exception's class
    (never its message, which could carry personal data) and re-raised for the scheduler,
    unless ``reraise`` is False (then its run, which says so, is returned)."""
    now = now or timezone.now()
    run = RetentionRun.objects.create(job=job, started_at=timezone.now())
    try:
        run.items = work(now)
    except Exception as exc:
        run.error = type(exc).__name__[:100]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        log.error("retention job %s failed: %s; it runs again at the next tick", job, run.error)
        if reraise:
            raise
        return run
    run.finished_at = timezone.now()
    run.save(update_fields=["items", "finished_at"])
    return run


def retention_jobs_run_all(*, now: datetime | None = None) -> list[RetentionRun]:
    """Run every retention job once, each recorded; one that fails does not stop the others
    (its row says it failed, and the next run tries again). Returns their runs, in order."""
    return [retention_job_run(job=name, work=work, now=now, reraise=False) for name, work in retention_jobs().items()]


# --- this app's own jobs: they span several apps, each part done by its own app's service ------


def petitions_unconfirmed_delete(now: datetime) -> int:
    """Delete the petitions whose creators never confirmed, at the moment
    ``personal_data_destruction_at`` gives (``UNCONFIRMED_PETITION_RETENTION_DAYS`` after
    creation): the creator's pending signature (with any claim), the petition with its events,
    and its data key. Nothing of it was ever public. In batches; returns how many petitions.

    The locks follow a confirmation's order, the creator's signature and then the petition
    (``signature_confirm`` updates the one, then validates the other), so a creator confirming
    at this moment either wins (the petition is no longer pending and stays) or finds the link
    gone; neither waits on the other in a cycle."""
    cutoff = now - timedelta(days=settings.UNCONFIRMED_PETITION_RETENTION_DAYS)
    # The SQL form of the rule, so the index finds the candidates; the selector, the rule
    # itself, has the last word, so a change to one that the other misses deletes nothing early.
    candidates = Petition.objects.filter(state=PetitionState.PENDING, created_at__lte=cutoff).order_by("pk")

    def step(size: int) -> int:
        due = [p.pk for p in candidates[:size] if _due(personal_data_destruction_at(p), now)]
        locked = Signature.objects.select_for_update().filter(petition_id__in=due).order_by("pk")
        signatures = list(locked.values_list("pk", "petition"))
        still = set(
            Petition.objects.select_for_update()
            .filter(pk__in=due, state=PetitionState.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        signatures_delete(signature_ids=[pk for pk, petition_id in signatures if petition_id in still])
        return petitions_delete_unconfirmed(petition_ids=sorted(still))

    return batches_run(step)


def _due(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def retention_runs_delete_expired(now: datetime) -> int:
    """Delete the records of retention runs older than ``STAFF_AUDIT_RETENTION_DAYS``, in
    batches: staff need the recent ones to see that retention is kept, not years of them.
    Returns how many."""
    cutoff = now - timedelta(days=settings.STAFF_AUDIT_RETENTION_DAYS)
    return batches_delete(RetentionRun.objects.filter(started_at__lte=cutoff))


# --- a petition's personal data (crypto-shredding) ----------------------------------------------


class PersonalDataNotDue(Refusal):
    """The petition's personal data is not due for destruction (still open, still in its
    confirmation grace, or within its retention period)."""


class RetentionIncomplete(RuntimeError):
    """Some of a job's items failed; the others were done. The message names ids, never data."""


def check_personal_data_due(petition: Petition, now: datetime) -> None:
    """Raise ``PersonalDataNotDue`` unless the one rule (``personal_data_destruction_at``) says
    the petition's personal data is due at ``now``. Pending petitions are not: they are
    deleted outright by their own job."""
    due = personal_data_destruction_at(petition)
    if petition.state == PetitionState.PENDING or due is None or due > now:
        raise PersonalDataNotDue(
            gettext("The personal data of petition %(number)s is not due for destruction.") % {"number": petition.pk}
        )


def petition_personal_data_destroy(*, petition: Petition, now: datetime) -> int:
    """Destroy the personal data of a closed, rejected or hidden petition past its retention,
    in one transaction: its signatures' tags and link digests (``signatures``), its claims'
    member tags (``verification``), the record on the petition and its audit row
    (``petitions``), and its data key (``core``), without which no name, address, IP address,
    claim, evidence or note of its signers opens again. Counts, verified figures, the log,
    receipts and published snapshots are not touched. Returns the rows changed (0: destroyed
    already). Raises ``PersonalDataNotDue`` before the rule's moment: a closed petition keeps
    its key through the confirmation grace, so a late confirmation never meets a shredded
    row."""
    with transaction.atomic():
        # ``no_key``: a withdrawal holding one of its signatures appends a revocation, whose
        # foreign key share-locks this row; a full lock would make the two wait for each other.
        locked = Petition.objects.select_for_update(no_key=True).filter(pk=petition.pk).first()
        if locked is None or locked.personal_data_destroyed:
            return 0
        check_personal_data_due(locked, now)
        changed = signatures_personal_data_destroy(petition=locked)
        changed += claims_personal_data_destroy(petition=locked)
        changed += petition_personal_data_destroyed(petition=locked, now=now)
        changed += data_key_destroy(key_id=locked.data_key_id, now=now)
    petition.personal_data_destroyed_at = locked.personal_data_destroyed_at
    return changed


# Petitions read per query by the job; each is destroyed in its own transaction.
DESTROY_BATCH = 50


def petitions_personal_data_destroy_due(now: datetime) -> int:
    """The retention job: destroy the personal data of every petition due at ``now``
    (``petitions_personal_data_due``), in batches of ``DESTROY_BATCH``, each petition in its
    own transaction. One that fails is logged by id and left for the next run, and the others
    still go; the run then fails (``RetentionIncomplete``), so its row says so. Returns the
    rows changed."""
    changed = 0
    failed: list[int] = []
    while True:
        due = petitions_personal_data_due(now=now).exclude(pk__in=failed)
        batch = list(due[:DESTROY_BATCH])
        if not batch:
            break
        for petition in batch:
            try:
                changed += petition_personal_data_destroy(petition=petition, now=now)
            except Exception as exc:  # noqa: BLE001 - recorded; the next run tries again
                log.error("personal data of petition %s not destroyed: %s", petition.pk, type(exc).__name__)
                failed.append(petition.pk)
    if failed:
        raise RetentionIncomplete(f"petitions not destroyed: {', '.join(map(str, failed))}")
    return changed
