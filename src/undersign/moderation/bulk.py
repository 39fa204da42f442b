"""Bulk actions on signatures: invalidate as fraud, release held ones, reinstate an
invalidation (issue 12; docs/abuse.md, "Moderators' tools").

A moderator previews (the count, before anything changes), then proposes with a reason. The
proposal freezes the selected signatures as ``BulkActionItem`` rows, so the second moderator
approves exactly the set whose size was shown, and a reinstatement undoes exactly what ran.
Up to ``BULK_ACTION_SECOND_MODERATOR_OVER`` signatures it runs at once; above, it waits for a
different moderator's approval. Every state change is a guarded UPDATE and a
``BulkActionEvent`` row. The run goes in batches of ``BULK_ACTION_BATCH`` signatures, each
its own short transaction, its progress in the items: a run cut short (a crash, a deploy) is
resumed by the periodic job ``bulk_actions_resume``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from undersign.core.audit import staff_access_record
from undersign.core.errors import Refusal
from undersign.core.models import StaffAccess
from undersign.core.wakeups import wake_on_commit
from undersign.moderation.bulk_selectors import (
    Criteria,
    HeldOverview,
    TrendingHour,
    held_overview,
    signatures_selected,
    statuses_for,
    trending,
)
from undersign.moderation.models import BulkAction, BulkActionEvent, BulkActionItem, BulkActionKind, BulkActionState
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.bulk import signatures_invalidate_fraud, signatures_reinstate_fraud
from undersign.signatures.held import signatures_release
from undersign.signatures.models import Signature, SignatureStatus

K = BulkActionKind
St = BulkActionState
# Signatures per transaction of a run: short enough that signers and the log's integrator
# never wait long on the rows it locks, large enough that a 10,000-signature flood takes
# seconds.
BULK_ACTION_BATCH = 500


class BulkRefused(Refusal):
    """A bulk action that cannot be proposed, approved or cancelled as asked; safe to show."""


def check_criteria(*, kind: str, criteria: Criteria) -> None:
    """Refuse criteria that select everything, or a petition nothing can be done on."""
    if kind not in (K.INVALIDATE, K.RELEASE):
        raise BulkRefused(_("Choose to invalidate or to release."))
    if not criteria.narrows:
        raise BulkRefused(_("Narrow the selection: a domain, a network, a time window or held signatures only."))
    if kind == K.RELEASE and not criteria.held_only:
        raise BulkRefused(_("Only held signatures can be released."))
    petition = criteria.petition
    if petition is not None and petition.state == PetitionState.PENDING:
        raise BulkRefused(_("Petition %(number)s is not confirmed by its creator yet.") % {"number": petition.pk})
    if petition is not None and petition.personal_data_destroyed:
        raise BulkRefused(
            _("Petition %(number)s's personal data was destroyed: nothing can be selected there.")
            % {"number": petition.pk}
        )


def _audit(*, actor: User, criteria: Criteria, action: str, reason: str) -> None:
    """A look that opened e-mail or IP addresses to match a domain or network is recorded."""
    if criteria.reads_personal_data:
        staff_access_record(actor=actor, action=action, subject=criteria.subject, reason=reason)


def bulk_action_preview(*, actor: User, kind: str, criteria: Criteria) -> int:
    """How many signatures the action would change now. Nothing changes but the audit row."""
    check_criteria(kind=kind, criteria=criteria)
    _audit(actor=actor, criteria=criteria, action=StaffAccess.Action.PREVIEW_BULK, reason=f"preview of a bulk {kind}")
    return len(signatures_selected(criteria=criteria, kind=kind))


def _event(action: BulkAction, *, actor: User | None, from_state: str, to_state: str, now: datetime) -> None:
    BulkActionEvent.objects.create(action=action, actor=actor, from_state=from_state, to_state=to_state, created_at=now)


def _needs_second(count: int) -> bool:
    return count > settings.BULK_ACTION_SECOND_MODERATOR_OVER


def _wake_run(action_id: int) -> None:
    wake_on_commit(
        "undersign.moderation.tasks.run_bulk_action", action_id, run_here=lambda: bulk_action_run(action_id=action_id)
    )


def _start(action: BulkAction, *, actor: User | None, approved_by: User | None, now: datetime) -> bool:
    started = BulkAction.objects.filter(pk=action.pk, state=St.PROPOSED).update(
        state=St.RUNNING, approved_by=approved_by, started_at=now
    )
    if started:
        _event(action, actor=actor, from_state=St.PROPOSED, to_state=St.RUNNING, now=now)
        _wake_run(action.pk)
    return bool(started)


def bulk_action_propose(*, actor: User, kind: str, criteria: Criteria, reason: str) -> BulkAction:
    """Record the action and the signatures it selects now; run it at once unless it is over
    the size that needs a second moderator. Raises ``BulkRefused`` for criteria that select
    nothing, or too much (``check_criteria``)."""
    reason = reason.strip()
    if not reason:
        raise BulkRefused(_("Say why: the reason is kept with the action."))
    check_criteria(kind=kind, criteria=criteria)
    _audit(actor=actor, criteria=criteria, action=StaffAccess.Action.PREVIEW_BULK, reason=reason)
    ids = signatures_selected(criteria=criteria, kind=kind)
    if not ids:
        raise BulkRefused(_("These criteria select no signature: nothing to do."))
    now = timezone.now()
    with transaction.atomic():
        action = BulkAction.objects.create(
            kind=kind,
            reason=reason,
            petition=criteria.petition,
            domain=criteria.domain,
            network=criteria.network,
            created_from=criteria.created_from,
            created_until=criteria.created_until,
            held_only=criteria.held_only,
            selected=len(ids),
            needs_second_moderator=_needs_second(len(ids)),
            proposed_by=actor,
            proposed_at=now,
        )
        BulkActionItem.objects.bulk_create(
            [BulkActionItem(action=action, signature_id=pk) for pk in ids], batch_size=BULK_ACTION_BATCH
        )
        _event(action, actor=actor, from_state="", to_state=St.PROPOSED, now=now)
        if not action.needs_second_moderator:
            _start(action, actor=actor, approved_by=None, now=now)
    action.refresh_from_db()
    return action


def bulk_action_reinstate_propose(*, actor: User, action_id: int, reason: str) -> BulkAction:
    """Propose undoing a done invalidation: exactly the signatures it changed, each back to the
    status it had. The same second-moderator rule applies to its size."""
    reason = reason.strip()
    if not reason:
        raise BulkRefused(_("Say why: the reason is kept with the action."))
    now = timezone.now()
    with transaction.atomic():
        original = BulkAction.objects.select_for_update().filter(pk=action_id).first()
        if original is None or original.kind != K.INVALIDATE or original.state != St.DONE:
            raise BulkRefused(_("Only a finished invalidation can be reinstated."))
        changed = list(
            original.items.exclude(previous_status="").order_by("signature_id").values_list("signature_id", flat=True)
        )
        if not changed:
            raise BulkRefused(_("That invalidation changed no signature: nothing to reinstate."))
        try:
            with transaction.atomic():
                action = BulkAction.objects.create(
                    kind=K.REINSTATE,
                    reason=reason,
                    petition=original.petition,
                    reverses=original,
                    selected=len(changed),
                    needs_second_moderator=_needs_second(len(changed)),
                    proposed_by=actor,
                    proposed_at=now,
                )
        except IntegrityError:
            raise BulkRefused(_("Action #%(number)s is already being reinstated.") % {"number": original.pk}) from None
        BulkActionItem.objects.bulk_create(
            [BulkActionItem(action=action, signature_id=pk) for pk in changed], batch_size=BULK_ACTION_BATCH
        )
        _event(action, actor=actor, from_state="", to_state=St.PROPOSED, now=now)
        if not action.needs_second_moderator:
            _start(action, actor=actor, approved_by=None, now=now)
    action.refresh_from_db()
    return action


def bulk_action_approve(*, actor: User, action_id: int) -> BulkAction:
    """A second moderator's approval: the action starts running. The proposer cannot approve
    their own (refused here, and by the database's ``bulkaction_second_moderator_differs``)."""
    now = timezone.now()
    with transaction.atomic():
        action = BulkAction.objects.select_for_update().filter(pk=action_id).first()
        if action is None:
            raise BulkRefused(_("There is no bulk action number %(number)s.") % {"number": action_id})
        if action.proposed_by_id == actor.pk:
            raise BulkRefused(_("Another moderator must approve an action you proposed."))
        if action.state != St.PROPOSED:
            raise BulkRefused(
                _("Action #%(number)s is %(state)s: nothing to approve.")
                % {"number": action.pk, "state": action.get_state_display().lower()}
            )
        _start(action, actor=actor, approved_by=actor, now=now)
    action.refresh_from_db()
    return action


def bulk_action_cancel(*, actor: User, action_id: int) -> BulkAction:
    """Drop a proposal before it runs (any moderator: the proposer changed their mind, or the
    second moderator disagrees)."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = BulkAction.objects.filter(pk=action_id, state=St.PROPOSED).update(
            state=St.CANCELLED, cancelled_by=actor, cancelled_at=now
        )
        action = BulkAction.objects.filter(pk=action_id).first()
        if action is None:
            raise BulkRefused(_("There is no bulk action number %(number)s.") % {"number": action_id})
        if not cancelled:
            raise BulkRefused(
                _("Action #%(number)s is %(state)s: it cannot be cancelled.")
                % {"number": action.pk, "state": action.get_state_display().lower()}
            )
        _event(action, actor=actor, from_state=St.PROPOSED, to_state=St.CANCELLED, now=now)
    return action


def _apply(action: BulkAction, signature_ids: list[int]) -> dict[int, str]:
    """Change one batch; returns the status each changed signature had."""
    if action.kind == K.INVALIDATE:
        # Still what the criteria chose: a held one released or replaced meanwhile is not held.
        statuses = statuses_for(action.kind, held_only=action.held_only)
        return signatures_invalidate_fraud(signature_ids=signature_ids, from_statuses=statuses)
    if action.kind == K.RELEASE:
        held = list(
            Signature.objects.select_for_update()
            .filter(pk__in=signature_ids, status=SignatureStatus.HELD)
            .values_list("pk", flat=True)
        )
        signatures_release(signature_ids=held)
        released = Signature.objects.filter(pk__in=held, status=SignatureStatus.PENDING).values_list("pk", flat=True)
        return dict.fromkeys(released, SignatureStatus.HELD)
    assert action.reverses_id is not None, "constraint bulkaction_reinstate_reverses"
    previous = dict(
        BulkActionItem.objects.filter(action_id=action.reverses_id, signature_id__in=signature_ids)
        .exclude(previous_status="")
        .values_list("signature_id", "previous_status")
    )
    return dict.fromkeys(signatures_reinstate_fraud(previous=previous), SignatureStatus.INVALIDATED)


def _run_batch(action_id: int, size: int) -> bool:
    """One batch in one transaction, under the action's row lock (so two runners, the wake-up
    and the periodic job, take turns). Returns whether the action is finished."""
    now = timezone.now()
    with transaction.atomic():
        action = BulkAction.objects.select_for_update().filter(pk=action_id, state=St.RUNNING).first()
        if action is None:
            return True
        items = list(action.items.filter(done=False).order_by("pk")[:size])
        if not items:
            BulkAction.objects.filter(pk=action.pk, state=St.RUNNING).update(state=St.DONE, done_at=now)
            _event(action, actor=None, from_state=St.RUNNING, to_state=St.DONE, now=now)
            return True
        changed = _apply(action, [item.signature_id for item in items])
        for item in items:
            item.done = True
            item.previous_status = changed.get(item.signature_id, "")
        BulkActionItem.objects.bulk_update(items, ["done", "previous_status"])
        BulkAction.objects.filter(pk=action.pk).update(changed=F("changed") + len(changed))
        return False


def bulk_action_run(*, action_id: int, size: int = BULK_ACTION_BATCH) -> bool:
    """Run a running action to its end, batch by batch; returns whether it is done. Safe to
    call again, from several processes: each batch takes the items not done yet."""
    while not _run_batch(action_id, size):
        pass
    return BulkAction.objects.filter(pk=action_id, state=St.DONE).exists()


def bulk_actions_resume() -> int:
    """The periodic job: finish every action left running (its wake-up lost, its run cut
    short). Returns how many it finished."""
    running = list(BulkAction.objects.filter(state=St.RUNNING).order_by("pk").values_list("pk", flat=True))
    return sum(bulk_action_run(action_id=pk) for pk in running)


# --- looks at networks and domains, each recorded first -----------------------------------------


def held_review_open(*, actor: User, criteria: Criteria) -> HeldOverview:
    """The held signatures grouped by petition, network and domain, for ``actor``: the look is
    recorded (it opens addresses), naming the petition or "all", never what was filtered."""
    staff_access_record(
        actor=actor, action=StaffAccess.Action.VIEW_HELD, subject=criteria.subject, reason="held review"
    )
    return held_overview(criteria=criteria)


def trending_open(*, actor: User, petition: Petition, hours: int) -> list[TrendingHour]:
    """The petition's trending networks and domains, for ``actor``; the look is recorded."""
    staff_access_record(
        actor=actor,
        action=StaffAccess.Action.VIEW_TRENDING,
        subject=f"petition:{petition.pk}",
        reason=f"last {hours} hours",
    )
    return trending(petition=petition, hours=hours)
