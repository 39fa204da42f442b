"""Submitting the log's checkpoints to its witnesses (c2sp.org/tlog-witness) and keeping their
cosignatures (c2sp.org/tlog-cosignature).

A periodic job calls ``log_witnesses_submit``; the integrator never does, so counting never
waits on a witness. For each witness of ``LOG_WITNESSES`` it sends the newest checkpoint with
a consistency proof from the size the witness last cosigned (computed from the stored tiles),
or sends the current one again once its cosignature is ``LOG_WITNESS_REFRESH`` old, so that
an idle log still shows fresh cosignatures. Every returned line is checked against the
witness's configured key before it is stored.

State lives in the database only (``LogWitness``, ``LogCosignature``): several hosts share it.
One worker at a time talks to a given witness, holding a lease on its row rather than a
transaction, because a transaction held across the network would hold SQLite's only write
lock, and with it the integrator, for as long as a witness takes to answer.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from undersign.core.env import WitnessSetting
from undersign.transparency.keys import log_signer
from undersign.transparency.models import CONFLICTS, LogCosignature, LogWitness, WitnessProblem
from undersign.transparency.selectors import SignedCheckpoint, log_checkpoint_latest, log_consistency_proof
from undersign_verify import note
from undersign_verify.cosignature import CosignatureError
from undersign_verify.witness import WitnessConflict, WitnessError, witness_submit

log = logging.getLogger(__name__)

P = WitnessProblem
# A lease outlives the two requests a submission may make; a worker that died holding one
# delays that witness by this much at most.
LEASE_MARGIN = timedelta(seconds=10)
# What an HTTP refusal says about the witness (tlog-witness): 404 it does not follow this log,
# 403 it does not accept the log's key, 422 the proof from the size it holds fails, so the tree
# it cosigned at that size is not ours.
REFUSALS = {404: P.UNKNOWN_LOG, 403: P.BAD_SIGNATURE, 422: P.FORK}


@dataclass(frozen=True)
class WitnessOutcome:
    """What one run did with one witness: ``submitted`` whether it was sent anything (not when
    its cosignature was fresh, nor when another worker held it), ``problem`` why it failed."""

    name: str
    submitted: bool
    problem: str = P.NONE


@dataclass(frozen=True)
class _Cosigned:
    line: str
    cosigned_at: datetime


@dataclass(frozen=True)
class _Failed:
    problem: WitnessProblem
    detail: str


def log_witnesses_submit(*, now: datetime | None = None) -> list[WitnessOutcome]:
    """Submit the newest checkpoint to every configured witness that needs it, one after the
    other, each request bounded by ``LOG_WITNESS_TIMEOUT``. Nothing at all without witnesses
    (the embedded default). ``now`` fixes the clock (tests); otherwise each witness is judged
    at the moment its turn comes."""
    if not settings.LOG_WITNESSES:
        return []
    checkpoint = log_checkpoint_latest()
    text = note.open_note(checkpoint.note, log_signer().verifier)
    return [_witness_submit_one(witness, checkpoint, text, now or timezone.now()) for witness in settings.LOG_WITNESSES]


def _witness_submit_one(
    witness: WitnessSetting, checkpoint: SignedCheckpoint, text: str, now: datetime
) -> WitnessOutcome:
    row, _ = LogWitness.objects.get_or_create(name=witness.name, defaults={"vkey": witness.key.vkey})
    token = _lease_take(row.pk, now)
    if token is None:
        return WitnessOutcome(witness.name, submitted=False)  # another worker is at it
    try:
        row.refresh_from_db()
        if row.vkey != witness.key.vkey:
            _witness_rekey(row, witness)
        if not _due(row, checkpoint, now):
            _lease_release(row.pk, token)
            return WitnessOutcome(witness.name, submitted=False)
        result = _exchange(witness, row, checkpoint, text)
    except BaseException:
        _lease_release(row.pk, token)
        raise
    if isinstance(result, _Cosigned):
        _record_cosignature(row, token, checkpoint, result, now)
        return WitnessOutcome(witness.name, submitted=True)
    _record_failure(row, token, result, checkpoint, now)
    return WitnessOutcome(witness.name, submitted=True, problem=result.problem)


def _lease_take(pk: int, now: datetime) -> str | None:
    """The lease on a witness's row, or None if another worker holds one that has not expired.
    One guarded UPDATE: PostgreSQL re-checks the condition on the row it locks, SQLite's single
    writer serialises it, so two workers cannot both take it."""
    token = secrets.token_hex(16)
    until = now + timedelta(seconds=2 * settings.LOG_WITNESS_TIMEOUT) + LEASE_MARGIN
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    taken = LogWitness.objects.filter(free, pk=pk).update(lease_until=until, lease_token=token)
    return token if taken else None


def _lease_release(pk: int, token: str) -> None:
    LogWitness.objects.filter(pk=pk, lease_token=token).update(lease_until=None, lease_token="")


def _witness_rekey(row: LogWitness, witness: WitnessSetting) -> None:
    """The witness has a new key: what we knew under the old one no longer counts, and its old
    cosignatures would only confuse verifiers configured with the new key."""
    with transaction.atomic():
        LogCosignature.objects.filter(witness=row).delete()
        LogWitness.objects.filter(pk=row.pk).update(
            vkey=witness.key.vkey, cosigned_size=None, cosigned_root=None, cosigned_at=None, last_error=P.NONE
        )
    row.refresh_from_db()


def _due(row: LogWitness, checkpoint: SignedCheckpoint, now: datetime) -> bool:
    """Whether to submit: the witness has not cosigned this checkpoint, or its cosignature of
    it is ``LOG_WITNESS_REFRESH`` old. Not when we had it cosign a larger one already: this run
    read the newest checkpoint before a later run, on another worker or host, got the next one
    cosigned, and submitting the older one would only earn a 409 mistaken for a conflict."""
    if row.cosigned_size is not None and row.cosigned_size > checkpoint.size:
        return False
    current = (
        row.cosigned_size == checkpoint.size
        and row.cosigned_root is not None
        and bytes(row.cosigned_root) == checkpoint.root_hash
    )
    refresh = timedelta(seconds=settings.LOG_WITNESS_REFRESH)
    return not (current and row.cosigned_at is not None and row.cosigned_at > now - refresh)


def _post(witness: WitnessSetting, old_size: int, checkpoint: SignedCheckpoint) -> list[str] | WitnessConflict:
    proof = log_consistency_proof(old_size=old_size, new_size=checkpoint.size)
    return witness_submit(witness.url, old_size, proof, checkpoint.note, timeout=settings.LOG_WITNESS_TIMEOUT)


def _exchange(witness: WitnessSetting, row: LogWitness, checkpoint: SignedCheckpoint, text: str) -> _Cosigned | _Failed:
    """One submission, and one more from the witness's own size if it says ours was wrong."""
    known = row.cosigned_size
    old = known if known is not None and known <= checkpoint.size else 0
    try:
        answer = _post(witness, old, checkpoint)
        if isinstance(answer, WitnessConflict):
            if answer.size > checkpoint.size:
                return _Failed(P.AHEAD, f"it is at size {answer.size}, the log at {checkpoint.size}")
            if known is not None and answer.size < known:
                log.warning(
                    "witness %s says it is at size %s, but it cosigned size %s: it has lost its state",
                    witness.name,
                    answer.size,
                    known,
                )
            retried_from = answer.size
            answer = _post(witness, retried_from, checkpoint)
            if isinstance(answer, WitnessConflict):
                if answer.size > checkpoint.size:
                    return _Failed(P.AHEAD, f"it is at size {answer.size}, the log at {checkpoint.size}")
                if answer.size == retried_from:
                    # Only a different root at an equal size makes the witness refuse its own size.
                    return _Failed(P.FORK, f"it holds another tree at size {answer.size}")
                return _Failed(P.REFUSED, f"its size moved from {retried_from} to {answer.size} meanwhile")
    except WitnessError as exc:
        problem = P.UNREACHABLE if exc.status is None else REFUSALS.get(exc.status, P.REFUSED)
        return _Failed(problem, str(exc))
    return _verified(witness, answer, text)


def _verified(witness: WitnessSetting, lines: list[str], text: str) -> _Cosigned | _Failed:
    """The newest returned line that is a valid cosignature of this checkpoint by the configured
    key. Lines by other keys (a witness may sign with several) are passed over."""
    valid: list[_Cosigned] = []
    for line in lines:
        try:
            timestamp = witness.key.verify(line, text)
        except CosignatureError:
            continue
        try:
            cosigned_at = datetime.fromtimestamp(timestamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            # Valid for cosignature/v1 (up to 2**63 - 1), beyond any date: no verifier can use it.
            return _Failed(P.BAD_COSIGNATURE, f"the cosignature is dated {timestamp}, beyond any calendar")
        valid.append(_Cosigned(line.rstrip("\n"), cosigned_at))
    if not valid:
        return _Failed(P.BAD_COSIGNATURE, "no returned line is a valid cosignature by the configured key")
    return max(valid, key=lambda cosigned: cosigned.cosigned_at)


def _record_cosignature(
    row: LogWitness, token: str, checkpoint: SignedCheckpoint, cosigned: _Cosigned, now: datetime
) -> None:
    """Store the cosignature and what it tells of the witness, releasing the lease; nothing if
    the lease was lost meanwhile (a newer worker's result stands)."""
    cosigned_at = cosigned.cosigned_at
    with transaction.atomic():
        updated = LogWitness.objects.filter(pk=row.pk, lease_token=token).update(
            cosigned_size=checkpoint.size,
            cosigned_root=checkpoint.root_hash,
            cosigned_at=cosigned_at,
            last_attempt_at=now,
            last_success_at=now,
            last_error=P.NONE,
            lease_until=None,
            lease_token="",
        )
        if not updated:
            return
        LogCosignature.objects.update_or_create(
            witness=row, checkpoint_size=checkpoint.size, defaults={"line": cosigned.line, "cosigned_at": cosigned_at}
        )
    if row.last_error:
        log.info("witness %s cosigns the log again (size %s)", row.name, checkpoint.size)


def _record_failure(row: LogWitness, token: str, failed: _Failed, checkpoint: SignedCheckpoint, now: datetime) -> None:
    """Record why, releasing the lease. Logged when the reason changes, not every tick (``/healthz``
    names the witness meanwhile); a conflict as an error, since it may show that the log was
    forked or rolled back, and no retry mends it."""
    LogWitness.objects.filter(pk=row.pk, lease_token=token).update(
        last_attempt_at=now, last_error=failed.problem, lease_until=None, lease_token=""
    )
    if failed.problem == row.last_error:
        log.debug("witness %s still fails (%s): %s", row.name, failed.problem, failed.detail)
    elif failed.problem in CONFLICTS:
        log.error(
            "witness %s is in conflict with the log (%s) at the log's size %s: %s. Its view of the log is "
            "not one ours extends: compare checkpoints with its operator (docs/transparency.md, 'Witnesses').",
            row.name,
            failed.problem,
            checkpoint.size,
            failed.detail,
        )
    else:
        log.warning("witness %s did not cosign (%s): %s", row.name, failed.problem, failed.detail)
