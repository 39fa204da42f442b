"""All the periodic work runs, whichever way it is woken.

Production: Celery beat wakes the tasks of ``settings.CELERY_BEAT_SCHEDULE``. Embedded mode
(no broker): ``undersign run`` runs the jobs of ``periodic_jobs()`` on a thread
(``run_jobs_forever``). Here every beat entry names a task a worker discovers and that does
its work when a worker runs it; every embedded job does its work; the two lists cover the
same work, judged by what each one changes in the database (``WORK``), so a job added to one
and not to the other fails; and the runner keeps running due jobs through a job that raises.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import transaction
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from tests.moderation.conftest import make_held
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.celery import app
from undersign.core.audit import staff_access_record
from undersign.core.env import WitnessSetting
from undersign.core.jobs import PeriodicJob, run_jobs_forever, start_in_process_jobs
from undersign.core.models import OutboundEmail, StaffAccess
from undersign.core.outbox import day_start, outbox_add
from undersign.counting.models import BreakdownSnapshot
from undersign.moderation.bulk import bulk_action_propose
from undersign.moderation.bulk_selectors import Criteria
from undersign.moderation.models import AbuseAlert, BulkAction, SearchApproval
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import PetitionText, petition_create
from undersign.retention.models import RetentionRun
from undersign.signatures.models import Display, Signature, SignatureKind, SignatureStatus, SignerDataLink
from undersign.signatures.services import signature_create
from undersign.site.jobs import periodic_jobs
from undersign.transparency.models import LogEntry, LogWitness
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimDecision, DecisionKind
from undersign.verification.services import claim_decide
from undersign_verify.cosignature import Cosigner

ROOT = Path(__file__).resolve().parents[2]
BEAT = settings.CELERY_BEAT_SCHEDULE
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# Tasks no schedule names: wake-ups published after a commit (the periodic sweeps find their
# work too), each run in the test file given.
WAKE_UPS = {
    "undersign.moderation.tasks.deliver_response_emails": "tests/moderation/test_tasks.py",
    "undersign.moderation.tasks.run_bulk_action": "tests/moderation/test_tasks.py",
    "undersign.moderation.tasks.post_abuse_alert": "tests/moderation/test_tasks.py",
}


# --- a database with one piece of every periodic work waiting -------------------------------


@dataclass(frozen=True)
class World:
    counted: Petition  # confirmed signatures whose log entries are pending, counted 0
    expected_count: int
    pending_entries: list[int]
    due: Petition  # open, its closing date passed
    stale: OutboundEmail  # unsent, older than the sweep's age
    stale_to: str
    claim: Claim  # decided longer ago than the evidence retention
    expired_session: str  # a session past its expiry date
    coarse: Signature  # counted, its times still exact
    breakdown_due: Petition  # K_ANONYMITY counted-only signatures counted, no snapshot yet
    # The retention jobs' (each past its retention):
    unconfirmed: Petition  # its creator never confirmed
    expired: Signature  # pending, its link expired
    held: Signature  # held (over a sign limit), nobody released it within HELD_RETENTION_DAYS
    old_ip: Signature  # confirmed, its IP address kept longer than IP_RETENTION_DAYS
    noted: ClaimDecision  # a validator's sealed note
    old_mail: OutboundEmail  # sent
    old_access: StaffAccess
    old_approval: SearchApproval
    old_run: RetentionRun
    shredded: Petition  # closed longer ago than PERSONAL_DATA_RETENTION_DAYS, its data key alive
    old_data_link: SignerDataLink  # a signer's one-time data link, expired unused
    under_attack: Petition  # ATTACK_MODE_HELD_PER_HOUR held signatures in the last hour, not in attack mode
    bulk_running: BulkAction  # started, its run cut short before any batch
    flooded: Petition  # open, ABUSE_ALERT_PER_HOUR held signatures this hour, no alert yet


def closed_port_url() -> str:
    """Where nothing listens: the world's witness is down, and a try is all there is to see."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def build_world() -> World:
    # Counted before the rest is built, so its times are the only exact ones left to round.
    coarse = sign_and_confirm(make_petition(action="Round the times"), signer(email="coarse@example.org"))
    breakdown_due = make_petition(action="Map the signers", creator=signer(display=Display.NAMED))
    for n in range(settings.K_ANONYMITY):
        sign_and_confirm(breakdown_due, signer(email=f"private{n}@example.org"))
    log_integrate_all()  # before the pending entries below are made

    counted = make_petition(action="Count the trees")
    signatures = [sign_and_confirm(counted, signer(email=f"counted{n}@example.org")) for n in range(2)]

    due = make_petition(action="Close the consultation")
    Petition.objects.filter(pk=due.pk).update(closing_date=timezone.now() - timedelta(minutes=1))

    registry = make_registry("jobs")
    claimed = claim_and_confirm(
        restricted_petition(registry), registry.members.first(), note="Mandate", document=PNG, content_type="image/png"
    )
    validator = make_validator("vera", registry)
    claim_decide(claim=claimed.claim, actor=validator, kind=DecisionKind.VALIDATE, note="Checked the mandate")
    retention = timedelta(days=settings.EVIDENCE_RETENTION_DAYS + 1)
    Claim.objects.filter(pk=claimed.claim.pk).update(decided_at=timezone.now() - retention)
    noted = ClaimDecision.objects.get(claim=claimed.claim)
    ClaimDecision.objects.filter(pk=noted.pk).update(created_at=days_ago(settings.DECISION_NOTE_RETENTION_DAYS))

    unconfirmed = petition_create(text=PetitionText(action="Never confirmed", background="-", additional_details=""))
    signature_create(petition=unconfirmed, details=signer(), kind=SignatureKind.CREATOR)
    Petition.objects.filter(pk=unconfirmed.pk).update(created_at=days_ago(settings.UNCONFIRMED_PETITION_RETENTION_DAYS))
    _, expired_id = signature_create(petition=counted, details=signer(email="expired@example.org"))
    _, held_id = signature_create(petition=counted, details=signer(email="held@example.org"), hold_reason="network")
    Signature.objects.filter(pk=held_id).update(updated_at=days_ago(settings.HELD_RETENTION_DAYS))
    old_ip = sign_and_confirm(make_petition(action="Keep addresses short"), signer(email="old-ip@example.org"))
    Signature.objects.filter(pk=old_ip.pk).update(created_at=days_ago(settings.IP_RETENTION_DAYS))

    under_attack = make_petition(action="Keep the flood out")
    for n in range(settings.ATTACK_MODE_HELD_PER_HOUR):
        _, flood_id = signature_create(petition=under_attack, details=signer(email=f"flood{n}@example.org"))
        Signature.objects.filter(pk=flood_id).update(status=SignatureStatus.HELD, hold_reason="network")
    flooded = make_petition(action="Count the flood")
    for n in range(settings.ABUSE_ALERT_PER_HOUR):
        make_held(flooded, email=f"flood{n}@flood.example")
    bulk_target = make_petition(action="Invalidate the bots")
    make_held(bulk_target, email="bot@bots.example")
    bulk_running = bulk_action_propose(
        actor=validator, kind="invalidate", criteria=Criteria(petition=bulk_target, held_only=True), reason="Bots"
    )

    deliver_outbox()  # everything building queued: only the stale message below is left unsent
    link_days = days_ago(settings.CONFIRMATION_LINK_DAYS)
    Signature.objects.filter(pk=expired_id).update(token_sent_at=link_days, updated_at=link_days)
    old_mail = OutboundEmail.objects.filter(sent_at__isnull=False).latest("pk")
    OutboundEmail.objects.filter(pk=old_mail.pk).update(sent_at=days_ago(settings.SENT_MAIL_RETENTION_DAYS))
    audited = days_ago(settings.STAFF_AUDIT_RETENTION_DAYS)
    old_access = staff_access_record(actor=validator, action=StaffAccess.Action.VIEW_CLAIM, subject="claim:1")
    StaffAccess.objects.filter(pk=old_access.pk).update(created_at=audited)
    old_approval = SearchApproval.objects.create(
        kind="name", reason="Case 9", requested_by=validator, requested_at=audited
    )
    old_run = RetentionRun.objects.create(job="an old run", started_at=audited)
    shredded = make_petition(action="Forget the signers", state=PetitionState.CLOSED)
    closed_long_ago = days_ago(settings.PERSONAL_DATA_RETENTION_DAYS + 1)
    Petition.objects.filter(pk=shredded.pk).update(closed_at=closed_long_ago, closing_date=closed_long_ago)
    old_data_link = SignerDataLink.objects.create(
        signature=old_ip, digest=b"d" * 32, created_at=days_ago(1), expires_at=timezone.now() - timedelta(minutes=1)
    )
    stale = outbox_add(kind=OutboundEmail.Kind.ALREADY_SIGNED, petition_id=counted.pk, signature_id=signatures[0].pk)
    waited = timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 60)
    OutboundEmail.objects.filter(pk=stale.pk).update(created_at=timezone.now() - waited)

    expired_session = Session.objects.create(
        session_key="expired".ljust(32, "x"), session_data="", expire_date=timezone.now() - timedelta(minutes=1)
    ).session_key

    return World(
        expired_session=expired_session,
        counted=counted,
        expected_count=Signature.objects.filter(petition=counted, status=SignatureStatus.CONFIRMED).count(),
        pending_entries=list(LogEntry.objects.filter(leaf_index__isnull=True).values_list("pk", flat=True)),
        due=due,
        stale=stale,
        stale_to="counted0@example.org",
        claim=Claim.objects.get(pk=claimed.claim.pk),
        coarse=coarse,
        breakdown_due=breakdown_due,
        unconfirmed=unconfirmed,
        expired=Signature.objects.get(pk=expired_id),
        held=Signature.objects.get(pk=held_id),
        old_ip=old_ip,
        noted=noted,
        old_mail=old_mail,
        old_access=old_access,
        old_approval=old_approval,
        old_run=old_run,
        shredded=shredded,
        old_data_link=old_data_link,
        under_attack=under_attack,
        bulk_running=bulk_running,
        flooded=flooded,
    )


def days_ago(days: int) -> datetime:
    """A moment just past a retention of ``days``."""
    return timezone.now() - timedelta(days=days, hours=1)


def _log_integrated(world: World) -> bool:
    appended = not LogEntry.objects.filter(pk__in=world.pending_entries, leaf_index__isnull=True).exists()
    return appended and Petition.objects.get(pk=world.counted.pk).signature_count == world.expected_count


def _due_closed(world: World) -> bool:
    return Petition.objects.get(pk=world.due.pk).state == PetitionState.CLOSED


def _stale_email_sent(world: World) -> bool:
    sent = OutboundEmail.objects.get(pk=world.stale.pk).sent_at is not None
    return sent and any(world.stale_to in message.to for message in mail.outbox)


def _evidence_deleted(world: World) -> bool:
    return Claim.objects.get(pk=world.claim.pk).evidence_deleted_at is not None


def _expired_session_deleted(world: World) -> bool:
    return not Session.objects.filter(session_key=world.expired_session).exists()


def _times_coarsened(world: World) -> bool:
    confirmed_at = Signature.objects.get(pk=world.coarse.pk).confirmed_at
    return confirmed_at is not None and confirmed_at == day_start(confirmed_at)


def _breakdown_taken(world: World) -> bool:
    return BreakdownSnapshot.objects.filter(petition=world.breakdown_due).exists()


def _unconfirmed_petition_deleted(world: World) -> bool:
    return not Petition.objects.filter(pk=world.unconfirmed.pk).exists()


def _expired_signature_deleted(world: World) -> bool:
    return not Signature.objects.filter(pk=world.expired.pk).exists()


def _held_signature_deleted(world: World) -> bool:
    return not Signature.objects.filter(pk=world.held.pk).exists()


def _old_ip_dropped(world: World) -> bool:
    return Signature.objects.filter(pk=world.old_ip.pk, ip_sealed__isnull=True).exists()


def _decision_note_deleted(world: World) -> bool:
    return ClaimDecision.objects.filter(pk=world.noted.pk, note_sealed__isnull=True).exists()


def _sent_mail_record_deleted(world: World) -> bool:
    return not OutboundEmail.objects.filter(pk=world.old_mail.pk).exists()


def _staff_access_deleted(world: World) -> bool:
    return not StaffAccess.objects.filter(pk=world.old_access.pk).exists()


def _search_approval_deleted(world: World) -> bool:
    return not SearchApproval.objects.filter(pk=world.old_approval.pk).exists()


def _retention_run_deleted(world: World) -> bool:
    return not RetentionRun.objects.filter(pk=world.old_run.pk).exists()


def _personal_data_destroyed(world: World) -> bool:
    return Petition.objects.filter(pk=world.shredded.pk, personal_data_destroyed_at__isnull=False).exists()


def _data_link_deleted(world: World) -> bool:
    return not SignerDataLink.objects.filter(pk=world.old_data_link.pk).exists()


def _attack_mode_on(world: World) -> bool:
    return Petition.objects.filter(pk=world.under_attack.pk, attack_mode_since__isnull=False).exists()


def _bulk_action_finished(world: World) -> bool:
    return BulkAction.objects.filter(pk=world.bulk_running.pk, state="done").exists()


def _abuse_alert_raised(world: World) -> bool:
    return AbuseAlert.objects.filter(petition=world.flooded).exists()


def _witnesses_tried(world: World) -> bool:
    return LogWitness.objects.filter(last_attempt_at__isnull=False).exists()


# The periodic work, each piece told by what it changes in the world. A new job or beat task
# that does something else fails below until its work is added here and to ``build_world``.
WORK: dict[str, Callable[[World], bool]] = {
    "append the log's pending entries, moving the counts": _log_integrated,
    "close the petitions past their closing date": _due_closed,
    "send the e-mail left unsent": _stale_email_sent,
    "delete claim evidence past its retention": _evidence_deleted,
    "delete expired sessions": _expired_session_deleted,
    "round counted signatures' times to the day": _times_coarsened,
    "take the breakdown snapshots that are due": _breakdown_taken,
    "switch attack mode on where the held rate crossed its threshold": _attack_mode_on,
    # The retention jobs, one piece each (they all run in "apply the retention rules").
    "delete petitions their creators never confirmed": _unconfirmed_petition_deleted,
    "delete signatures whose confirmation link expired": _expired_signature_deleted,
    "delete held signatures nobody released": _held_signature_deleted,
    "drop IP addresses past their retention": _old_ip_dropped,
    "delete decision notes past their retention": _decision_note_deleted,
    "delete sent e-mails' records past their retention": _sent_mail_record_deleted,
    "delete staff access records past their retention": _staff_access_deleted,
    "delete search approvals past their retention": _search_approval_deleted,
    "delete retention run records past their retention": _retention_run_deleted,
    "destroy the personal data of petitions past their retention": _personal_data_destroyed,
    "delete expired one-time data links": _data_link_deleted,
    "finish a bulk action left running": _bulk_action_finished,
    "alert moderators to a petition's held signatures": _abuse_alert_raised,
    "submit the checkpoint to the configured witnesses": _witnesses_tried,
}


def work_done(world: World) -> set[str]:
    return {name for name, done in WORK.items() if done(world)}


@pytest.fixture
def world(db, settings) -> World:
    settings.ABUSE_ALERT_PER_HOUR = 2  # a flood of two: enough to tell the job did its work
    settings.LOG_WITNESSES = (WitnessSetting(Cosigner.generate("witness.test/jobs").key, closed_port_url()),)
    world = build_world()
    mail.outbox.clear()
    assert work_done(world) == set(), "the world must start with all its work waiting"
    return world


@pytest.fixture(scope="module")
def worker_tasks():
    """The tasks registered as a worker registers them (it imports the apps' task modules)."""
    app.loader.import_default_modules()
    return app.tasks


@pytest.fixture(scope="module")
def discovered() -> set[str]:
    """The task names a fresh worker process discovers, with nothing imported beforehand (in
    this process other tests have imported the task modules already)."""
    code = (
        "import django, json; django.setup(); from undersign.celery import app; "
        "app.loader.import_default_modules(); print(json.dumps(sorted(app.tasks)))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def beat_task(entry: str, tasks) -> Callable[[], None]:
    task = tasks[BEAT[entry]["task"]]

    def run() -> None:
        result = task.apply()  # what a worker does with beat's message
        assert result.successful(), f"beat entry {entry!r} failed:\n{result.traceback}"

    return run


def job_named(name: str) -> PeriodicJob:
    return {job.name: job for job in periodic_jobs()}[name]


# --- (a) Celery beat -------------------------------------------------------------------------


def test_every_beat_entry_names_a_task_a_worker_discovers(discovered):
    assert BEAT
    missing = {entry: spec["task"] for entry, spec in BEAT.items() if spec["task"] not in discovered}
    assert missing == {}


def test_every_beat_entry_has_a_positive_interval():
    for entry, spec in BEAT.items():
        assert float(spec["schedule"]) > 0, entry


def test_every_task_is_on_the_beat_schedule_or_a_wake_up_run_in_its_apps_tests(discovered):
    ours = {name for name in discovered if name.startswith("undersign.")}
    scheduled = {spec["task"] for spec in BEAT.values()}
    assert ours - scheduled == set(WAKE_UPS)
    for name, test_file in WAKE_UPS.items():
        assert f"{name.rpartition('.')[2]}" in (ROOT / test_file).read_text(), (name, test_file)


@pytest.mark.parametrize("entry", sorted(BEAT))
def test_every_beat_task_runs_and_does_its_work(entry, world, worker_tasks):
    beat_task(entry, worker_tasks)()
    assert work_done(world), f"beat entry {entry!r} did none of the work in WORK"


# --- (b) the embedded mode's jobs -----------------------------------------------------------


@pytest.mark.parametrize("name", [job.name for job in periodic_jobs()])
def test_every_embedded_job_runs_once_and_does_its_work(name, world):
    job_named(name).run()
    assert work_done(world), f"embedded job {name!r} did none of the work in WORK"


def test_embedded_jobs_have_distinct_names_and_positive_intervals():
    jobs = periodic_jobs()
    assert jobs
    assert len({job.name for job in jobs}) == len(jobs)  # the runner keeps each job's due time by name
    assert all(job.every_seconds > 0 for job in jobs)


# --- (c) the same work both ways ------------------------------------------------------------


def test_beat_and_the_embedded_jobs_cover_the_same_work(world, worker_tasks):
    def work_of(run: Callable[[], object]) -> set[str]:
        """What ``run`` does to the world, undone afterwards for the next one."""
        mail.outbox.clear()
        with transaction.atomic():
            run()
            done = work_done(world)
            transaction.set_rollback(True)
        mail.outbox.clear()
        assert work_done(world) == set()
        return done

    beat = {entry: work_of(beat_task(entry, worker_tasks)) for entry in sorted(BEAT)}
    embedded = {job.name: work_of(job.run) for job in periodic_jobs()}

    idle = [f"beat {entry!r}" for entry, done in beat.items() if not done]
    idle += [f"job {name!r}" for name, done in embedded.items() if not done]
    assert idle == [], "these do none of the work in WORK: add theirs"
    by_beat, by_embedded = set().union(*beat.values()), set().union(*embedded.values())
    assert by_beat - by_embedded == set(), f"only Celery beat does this: {beat}"
    assert by_embedded - by_beat == set(), f"only the embedded jobs do this: {embedded}"
    assert by_beat == set(WORK), "WORK names work neither list does"


# --- (d) the embedded runner ----------------------------------------------------------------


def test_the_runner_runs_due_jobs_and_survives_a_job_that_raises(caplog):
    stop = threading.Event()
    failed_again, healthy_again = threading.Event(), threading.Event()
    calls: Counter[str] = Counter()

    def failing() -> None:
        calls["failing"] += 1
        if calls["failing"] >= 2:
            failed_again.set()
        raise RuntimeError("the mail server is down")

    def healthy() -> None:
        calls["healthy"] += 1
        if calls["healthy"] >= 2:
            healthy_again.set()

    def hourly() -> None:
        calls["hourly"] += 1

    jobs = [
        PeriodicJob("failing", 0.01, failing),  # first: the others of its tick still run
        PeriodicJob("healthy", 0.01, healthy),
        PeriodicJob("hourly", 3600, hourly),
    ]
    runner = threading.Thread(target=run_jobs_forever, args=(stop, jobs), daemon=True)
    runner.start()
    try:
        assert failed_again.wait(timeout=30), "the failing job was not retried on a later tick"
        assert healthy_again.wait(timeout=30), "the healthy job stopped running after a failure"
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive(), "the runner did not stop"
    assert calls["hourly"] == 1  # due at the start, then not again for an hour
    failures = [r for r in caplog.records if r.name == "undersign.core.jobs"]
    assert len(failures) == calls["failing"]
    assert all("'failing' failed" in r.getMessage() and r.exc_info[0] is RuntimeError for r in failures)


def test_a_runner_stopped_before_it_starts_runs_nothing():
    stop = threading.Event()
    stop.set()
    ran = threading.Event()
    run_jobs_forever(stop, [PeriodicJob("never", 0.01, ran.set)])
    assert not ran.is_set()


def test_a_job_on_its_own_thread_never_holds_up_the_others():
    """The witnesses' job waits on other servers: counting must not wait with it."""
    release, counted_meanwhile, blocked = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        blocked.set()
        release.wait(timeout=30)

    def counting() -> None:
        if blocked.is_set():
            counted_meanwhile.set()

    before = set(threading.enumerate())
    stop = start_in_process_jobs(
        [PeriodicJob("slow", 0.01, slow, own_thread=True), PeriodicJob("counting", 0.01, counting)]
    )
    started = [t for t in threading.enumerate() if t not in before and t.name.startswith("undersign-jobs")]
    try:
        assert counted_meanwhile.wait(timeout=30), "counting waited for the slow job"
        assert not release.is_set()
    finally:
        stop.set()
        release.set()
        for thread in started:
            thread.join(timeout=30)
    assert sorted(t.name for t in started) == ["undersign-jobs", "undersign-jobs: slow"]
    assert not any(thread.is_alive() for thread in started)


def test_the_witness_job_runs_on_its_own_thread():
    assert [job.name for job in periodic_jobs() if job.own_thread] == ["submit checkpoints to the witnesses"]


def test_start_in_process_jobs_runs_the_jobs_it_is_given_until_stopped():
    ran = threading.Event()
    before = set(threading.enumerate())
    stop = start_in_process_jobs([PeriodicJob("tick", 0.01, ran.set)])
    started = [t for t in threading.enumerate() if t not in before and t.name == "undersign-jobs"]
    try:
        assert ran.wait(timeout=30)
    finally:
        stop.set()
        for thread in started:
            thread.join(timeout=30)
    assert started and not any(thread.is_alive() for thread in started)
    assert all(thread.daemon for thread in started)  # never holds the server's exit
