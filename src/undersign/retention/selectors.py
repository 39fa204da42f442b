"""When a petition's personal data is destroyed: the one rule, read by staff pages, the
petition page and the retention jobs alike; and what staff see of the jobs and their runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from undersign.petitions.models import REJECTED_STATES, Petition, PetitionState
from undersign.retention.models import RetentionRun
from undersign.retention.registry import retention_jobs_registered
from undersign.signatures.models import WITHDRAWN, Signature, SignatureKind, SignatureStatus

S = PetitionState


def personal_data_destruction_at(petition: Petition) -> datetime | None:
    """When the petition's data key is (or was) destroyed: the moment it happened, or the
    moment the retention jobs will do it (at their first run after it); None while the
    petition's fate is open (collecting, in moderation, open).

    A closed petition's key outlives the confirmation grace too, so that a link still being
    confirmed never meets a destroyed key. A petition whose creator never confirmed is deleted
    outright at its moment."""
    if petition.personal_data_destroyed_at is not None:
        return petition.personal_data_destroyed_at
    if petition.state == S.CLOSED and petition.closed_at is not None:
        after = _closed_retention()
        return max(petition.closed_at, petition.closing_date or petition.closed_at) + after
    if petition.state in (S.REJECTED, S.HIDDEN) and petition.rejected_at is not None:
        return petition.rejected_at + timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
    if petition.state == S.PENDING:
        return petition.created_at + timedelta(days=settings.UNCONFIRMED_PETITION_RETENTION_DAYS)
    return None


def _closed_retention() -> timedelta:
    return max(
        timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS), timedelta(hours=settings.CONFIRMATION_GRACE_HOURS)
    )


def petitions_personal_data_due(*, now: datetime) -> QuerySet[Petition]:
    """Closed, rejected and hidden petitions whose personal data is due for destruction at
    ``now`` and not yet destroyed, oldest first: ``personal_data_destruction_at`` as a query
    (a test holds the two together). Pending petitions are deleted outright by their own job."""
    closed_before = now - _closed_retention()
    rejected_before = now - timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
    closed = Q(state=S.CLOSED, closed_at__lte=closed_before) & (
        Q(closing_date__isnull=True) | Q(closing_date__lte=closed_before)
    )
    rejected = Q(state__in=REJECTED_STATES, rejected_at__lte=rejected_before)
    return Petition.objects.filter(closed | rejected, personal_data_destroyed_at__isnull=True).order_by("pk")


# --- what staff see: a petition's signatures and when retention acts on them; the jobs' runs ---

# How many of each job's latest runs the retention page lists.
RUNS_SHOWN = 5
# A run this much past its due time is reported late to staff.
LATE_AFTER = timedelta(minutes=10)


def retention_interval() -> timedelta:
    return timedelta(seconds=settings.RETENTION_INTERVAL_SECONDS)


def retention_late_before(*, now: datetime | None = None) -> datetime:
    """A next run due before this moment is late: the runs are not happening. The margin lets
    a run that is due, or under way, count as on time."""
    return (now or timezone.now()) - LATE_AFTER


def retention_next_run_at(*, job: str | None = None) -> datetime | None:
    """When the retention jobs (or ``job``) should next run: the latest recorded run's start
    plus the interval both schedulers keep. None before any run is recorded. A time in the past
    means the scheduler (beat, or ``undersign run``'s thread) is not running them."""
    runs = RetentionRun.objects.all() if job is None else RetentionRun.objects.filter(job=job)
    latest = runs.order_by("-started_at", "-pk").values_list("started_at", flat=True).first()
    return None if latest is None else latest + retention_interval()


@dataclass(frozen=True)
class PetitionLifecycle:
    """A petition's signatures by status, and when the retention jobs act on it (each moment
    a due date: a job acts at its first run after it). Held signatures do not exist yet."""

    pending: int
    confirmed: int
    withdrawn: int
    invalidated: int  # for any other reason: fraud, a rejected claim, confirmed too late
    personal_data_destruction_at: datetime | None
    ips_dropped_from: datetime | None  # the oldest IP address still kept goes then; None: none kept
    unconfirmed_expire_from: datetime | None  # the first pending signature's link expires then
    unconfirmed_expire_until: datetime | None  # and the last one's
    next_run_at: datetime | None


def petition_lifecycle(*, petition: Petition) -> PetitionLifecycle:
    """Counts and retention dates of one petition for its moderators, in one query. A pending
    signature expires ``CONFIRMATION_LINK_DAYS`` after its link was mailed, or after it was
    last submitted if none was (``signatures_expired_delete``); the creator's goes with its
    petition instead, so it is not among them."""
    pending = Q(status=SignatureStatus.PENDING)
    withdrawn = Q(status=SignatureStatus.INVALIDATED, invalidation_reason=WITHDRAWN)
    expiring = pending & ~Q(kind=SignatureKind.CREATOR)
    mailed_or_submitted = Coalesce("token_sent_at", "updated_at")
    row = Signature.objects.filter(petition=petition).aggregate(
        pending=Count("pk", filter=pending),
        confirmed=Count("pk", filter=Q(status=SignatureStatus.CONFIRMED)),
        withdrawn=Count("pk", filter=withdrawn),
        invalidated=Count("pk", filter=Q(status=SignatureStatus.INVALIDATED) & ~withdrawn),
        oldest_ip=Min("created_at", filter=Q(ip_sealed__isnull=False)),
        first_expiring=Min(mailed_or_submitted, filter=expiring),
        last_expiring=Max(mailed_or_submitted, filter=expiring),
    )
    link_days = timedelta(days=settings.CONFIRMATION_LINK_DAYS)
    return PetitionLifecycle(
        pending=row["pending"],
        confirmed=row["confirmed"],
        withdrawn=row["withdrawn"],
        invalidated=row["invalidated"],
        personal_data_destruction_at=personal_data_destruction_at(petition),
        ips_dropped_from=_plus(row["oldest_ip"], timedelta(days=settings.IP_RETENTION_DAYS)),
        unconfirmed_expire_from=_plus(row["first_expiring"], link_days),
        unconfirmed_expire_until=_plus(row["last_expiring"], link_days),
        next_run_at=retention_next_run_at(),
    )


def _plus(moment: datetime | None, delta: timedelta) -> datetime | None:
    return None if moment is None else moment + delta


@dataclass(frozen=True)
class RetentionJobSummary:
    """One retention job as the retention page lists it."""

    name: str
    settings: list[tuple[str, object]]  # (name, current value) of what says how long its data is kept
    runs: list[RetentionRun]  # the latest first, at most ``RUNS_SHOWN``
    next_run_at: datetime | None  # None: it has not run yet, and runs with the others next time


def retention_jobs_summary() -> list[RetentionJobSummary]:
    """Every registered retention job, in the order they run, with its latest runs."""
    return [
        RetentionJobSummary(
            name=job.name,
            settings=[(name, getattr(settings, name)) for name in job.setting_names],
            runs=list(RetentionRun.objects.filter(job=job.name).order_by("-started_at", "-pk")[:RUNS_SHOWN]),
            next_run_at=retention_next_run_at(job=job.name),
        )
        for job in retention_jobs_registered()
    ]
