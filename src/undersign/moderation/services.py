"""Moderators' writes to petitions: approve, reject, flag, take down, note, respond.

Every change of state goes through the shared guarded transition
(``petitions.services.petition_transition``), so a petition only ever moves from a state the change
allows and every move leaves a ``PetitionEvent`` (who, when, from, to, reason). Each service
locks the petition row first: the event's ``from_state`` is then the state the move really
started from, even when two moderators act on the same petition at once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from undersign.core.audit import staff_access_record
from undersign.core.batches import batches_delete
from undersign.core.errors import Refusal
from undersign.core.models import OutboundEmail, StaffAccess
from undersign.core.outbox import outbox_add_many, outbox_deliver, outbox_preload, outbox_record_failure
from undersign.core.reference import RejectionReason, rejection_reason
from undersign.core.wakeups import wake_on_commit
from undersign.moderation.models import SearchApproval, SignerSearchKind
from undersign.moderation.selectors import SEARCH_APPROVAL_VALID_MINUTES
from undersign.petitions.models import Petition, PetitionEvent, PetitionResponse, PetitionState, Transition
from undersign.petitions.services import (
    TransitionRefused,
    closing_date_for,
    notify_creator,
    petition_note_record,
    petition_response_record,
    petition_transition,
)
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus
from undersign.transparency.services import log_opened_add

log = logging.getLogger(__name__)
S = PetitionState
K = OutboundEmail.Kind

# Rows per INSERT when queueing response e-mails, and messages per delivery task run: large
# petitions have hundreds of thousands of subscribers, and neither one statement nor one task
# should have to hold them all.
RESPONSE_EMAIL_CHUNK = 1000
RESPONSE_DELIVERY_BATCH = 500

__all__ = [
    "ModerationRefused",
    "SearchRefused",
    "TransitionRefused",
    "UnknownReason",
    "petition_approve",
    "petition_creator_name_viewed",
    "petition_flag",
    "petition_note_add",
    "petition_reject",
    "petition_response_emails_deliver",
    "petition_response_publish",
    "petition_take_down",
    "search_approval_approve",
    "search_approval_request",
    "search_approvals_delete_expired",
    "signer_search_record",
]


class ModerationRefused(Refusal):
    """A moderation request that cannot be carried out as asked; the message says why and is
    fit to show to the moderator."""


class UnknownReason(ModerationRefused):
    def __init__(self, code: str) -> None:
        super().__init__(f"{code!r} is not one of the configured rejection reasons.")
        self.code = code


def check_reason(code: str) -> RejectionReason:
    """The configured rejection reason ``code`` names; raises ``UnknownReason``."""
    reason = rejection_reason(code)
    if reason is None:
        raise UnknownReason(code)
    return reason


def _locked(petition: Petition) -> Petition:
    """The petition's current row, locked until the transaction ends (PostgreSQL; SQLite's
    single writer serialises these transactions anyway). Precondition: transaction open."""
    return Petition.objects.select_for_update().get(pk=petition.pk)


def _rejected_state(reason: RejectionReason) -> str:
    # Some reasons (defamation, personal data, abuse) mean the text must not stay public.
    return S.HIDDEN if reason.hidden else S.REJECTED


def petition_approve(*, petition: Petition, actor: User) -> Petition:
    """Publish a petition from the moderation queue: it opens now and closes after
    ``PETITION_DURATION_DAYS``; the creator is told. Raises ``TransitionRefused`` unless the
    petition is awaiting moderation (sponsored or flagged)."""
    with transaction.atomic():
        now = timezone.now()
        petition = petition_transition(
            petition,
            transition=Transition.APPROVE,
            to_state=S.OPEN,
            actor=actor,
            opened_at=now,
            closing_date=closing_date_for(now),
        )
        log_opened_add(petition=petition)
        notify_creator(petition=petition, kind=K.PETITION_PUBLISHED)
        return petition


class BadDuplicate(ModerationRefused):
    def __init__(self) -> None:
        super().__init__(_("The petition it duplicates must be another petition whose text is public."))


def check_duplicate_of(petition: Petition, duplicate_of: int | None) -> Petition | None:
    """The petition ``petition`` is said to repeat (by number), or None; raises ``BadDuplicate``
    unless it is another petition whose page shows its text (where the link could lead)."""
    if duplicate_of is None:
        return None
    other = Petition.objects.text_visible().exclude(pk=petition.pk).filter(pk=duplicate_of).first()
    if other is None:
        raise BadDuplicate
    return other


def _reject(
    petition: Petition,
    *,
    actor: User,
    reason_code: str,
    details: str,
    transition: str,
    email_kind: str,
    duplicate_of: int | None = None,
) -> Petition:
    """Move to ``rejected`` (or ``hidden`` for reasons that hide the text) with the reason
    recorded on the petition and in its event, and tell the creator. ``duplicate_of``: the
    number of the petition this one repeats, which its page then links to."""
    reason = check_reason(reason_code)
    other = check_duplicate_of(petition, duplicate_of)
    with transaction.atomic():
        petition = petition_transition(
            petition,
            transition=transition,
            to_state=_rejected_state(reason),
            actor=actor,
            reason_code=reason.code,
            note=details,
            rejected_at=timezone.now(),
            rejection_code=reason.code,
            rejection_details=details,
            duplicate_of=other,
        )
        notify_creator(petition=petition, kind=email_kind)
        return petition


def petition_reject(
    *, petition: Petition, actor: User, reason_code: str, details: str = "", duplicate_of: int | None = None
) -> Petition:
    """Refuse to publish a petition awaiting moderation, with a configured reason; a reason
    marked ``hidden`` also hides its text. The creator is told. Raises ``UnknownReason``,
    ``BadDuplicate`` or ``TransitionRefused``."""
    return _reject(
        petition,
        actor=actor,
        reason_code=reason_code,
        details=details,
        transition=Transition.REJECT,
        email_kind=K.PETITION_REJECTED,
        duplicate_of=duplicate_of,
    )


def petition_flag(*, petition: Petition, actor: User, note: str = "") -> Petition:
    """Set a sponsored petition aside for a second look (it stays in the queue, marked). No
    e-mail: flagging is the moderators' own business, and the outcome is what the creator
    hears about. Raises ``TransitionRefused`` unless the petition is sponsored."""
    with transaction.atomic():
        return petition_transition(petition, transition=Transition.FLAG, to_state=S.FLAGGED, actor=actor, note=note)


def petition_take_down(
    *, petition: Petition, actor: User, reason_code: str, details: str = "", duplicate_of: int | None = None
) -> Petition:
    """Stop an open petition collecting signatures, with a configured reason (``hidden``
    reasons also hide its text). The creator is told. Only open petitions: a closed one keeps
    its ``closed_at``, which the rejected states may not carry. Raises ``UnknownReason`` or
    ``TransitionRefused``."""
    return _reject(
        petition,
        actor=actor,
        reason_code=reason_code,
        details=details,
        transition=Transition.TAKE_DOWN,
        email_kind=K.PETITION_TAKEN_DOWN,
        duplicate_of=duplicate_of,
    )


def petition_note_add(*, petition: Petition, actor: User, note: str) -> PetitionEvent:
    """A moderator's note in the petition's audit trail. It changes no state, so both states
    stay blank: that is how the trail tells notes from moves. Allowed in any state.
    Precondition: ``note`` is not blank (raises ``ModerationRefused``)."""
    note = note.strip()
    if not note:
        raise ModerationRefused(_("A note needs some text."))
    return petition_note_record(petition=petition, actor=actor, note=note)


def _response_recipients(petition: Petition) -> Q:
    # Signers who asked for updates, and the creator whatever they ticked: the response is the
    # outcome of their petition. Anyone who unsubscribed is left out (the renderer checks this
    # again at sending time, for those who unsubscribe after the rows are written).
    return Q(
        petition=petition,
        status=SignatureStatus.CONFIRMED,
        unsubscribed_at__isnull=True,
    ) & (Q(notify_updates=True) | Q(kind=SignatureKind.CREATOR))


def petition_response_publish(*, petition: Petition, actor: User, summary: str, details: str) -> PetitionResponse:
    """Publish the response to an open or closed petition and queue one e-mail per
    subscribed signer and the creator, written in bulk in the same transaction, so the response exists
    exactly when its e-mails do. Delivery is woken on commit; the outbox sweep sends whatever
    that misses. Raises ``ModerationRefused`` if the petition is not published, already has a
    response, or ``summary``/``details`` is blank."""
    summary, details = summary.strip(), details.strip()
    if not summary or not details:
        raise ModerationRefused(_("A response needs a summary and details."))
    with transaction.atomic():
        petition = _locked(petition)
        if not petition.is_published:
            raise ModerationRefused(
                _("Only open or closed petitions get a response; this one is %(state)s.") % {"state": petition.state}
            )
        if PetitionResponse.objects.filter(petition=petition).exists():
            raise ModerationRefused(_("This petition already has a response."))
        response = petition_response_record(petition=petition, actor=actor, summary=summary, details=details)
        recipients = (
            Signature.objects.filter(_response_recipients(petition)).order_by("pk").values_list("pk", flat=True)
        )
        if petition.personal_data_destroyed:
            recipients = recipients.none()  # no address can be read: nobody to e-mail
        outbox_add_many(
            kind=K.PETITION_RESPONSE,
            petition_id=petition.pk,
            signature_ids=recipients.iterator(chunk_size=RESPONSE_EMAIL_CHUNK),
            chunk=RESPONSE_EMAIL_CHUNK,
        )
        petition_id = petition.pk
        wake_on_commit(
            "undersign.moderation.tasks.deliver_response_emails",
            petition_id,
            run_here=lambda: petition_response_emails_deliver_all(petition_id=petition_id),
        )
    return response


def petition_response_emails_deliver(*, petition_id: int, limit: int | None = None) -> tuple[int, bool]:
    """Send up to ``limit`` (default ``RESPONSE_DELIVERY_BATCH``) unsent response e-mails of
    one petition. Returns (how many went out, whether more remain). Stops at the first
    failure: when the mail server is down, trying the rest only piles up errors; the outbox
    sweep retries them later."""
    limit = limit or RESPONSE_DELIVERY_BATCH
    unsent = OutboundEmail.objects.filter(
        petition_id=petition_id, kind=K.PETITION_RESPONSE, sent_at__isnull=True
    ).order_by("pk")
    ids = list(unsent.values_list("pk", flat=True)[: limit + 1])
    more = len(ids) > limit
    sent = 0
    preloaded = outbox_preload(ids[:limit])  # the batch's signatures in one query, not one per e-mail
    for message_id in ids[:limit]:
        try:
            sent += outbox_deliver(message_id=message_id, preloaded=preloaded.get(message_id))
        except Exception as error:  # noqa: BLE001 - left for the sweep, which retries
            log.warning("response e-mail %s not delivered: %s", message_id, type(error).__name__)
            outbox_record_failure(message_id=message_id, error=error)
            return sent, False
    return sent, more


def petition_response_emails_deliver_all(*, petition_id: int) -> None:
    """Send a petition's response e-mails, one batch of rows in memory at a time. A loop rather
    than a task per batch: eager mode (the embedded default) would nest one call per batch and
    run out of stack."""
    more = True
    while more:
        _sent, more = petition_response_emails_deliver(petition_id=petition_id)


# --- searches by personal data: a stated reason, a record, and across petitions a second moderator


class SearchRefused(ModerationRefused):
    status = 403


class NothingToSearch(SearchRefused):
    """The petition's personal data was destroyed: no search can find anything there."""

    status = 409


SEARCH_ACTIONS = {
    SignerSearchKind.EMAIL: StaffAccess.Action.SEARCH_EMAIL,
    SignerSearchKind.NAME: StaffAccess.Action.SEARCH_NAME,
    SignerSearchKind.NETWORK: StaffAccess.Action.SEARCH_NETWORK,
}
ALL_PETITIONS = "petitions:all"


def search_approval_request(*, actor: User, kind: str, reason: str) -> SearchApproval:
    """Ask a second moderator to approve a search of ``kind`` across all petitions."""
    if not reason.strip():
        raise SearchRefused(_("State why you need this search."))
    return SearchApproval.objects.create(kind=SignerSearchKind(kind), reason=reason.strip(), requested_by=actor)


def search_approval_approve(*, approval_id: int, actor: User) -> None:
    """``actor`` approves another moderator's request. One guarded UPDATE: a request already
    approved, or one's own, is refused (the database refuses one's own too)."""
    approved = (
        SearchApproval.objects.filter(pk=approval_id, approved_by__isnull=True)
        .exclude(requested_by=actor)
        .update(approved_by=actor, approved_at=timezone.now())
    )
    if not approved:
        raise SearchRefused(_("That request is approved already, or is your own: another moderator must approve it."))


def signer_search_record(
    *, actor: User, kind: str, petition: Petition | None, reason: str, approval_id: int | None
) -> StaffAccess:
    """Record a search by personal data before it runs (the terms are never recorded). Within
    one petition it needs a stated ``reason``; across all petitions, an unused approval of this
    ``kind`` that a second moderator gave ``actor`` less than ``SEARCH_APPROVAL_VALID_MINUTES``
    ago, which this spends: its reason and approver go into the record. A petition whose
    personal data was destroyed is refused (nothing is recorded: nothing can be found)."""
    action = SEARCH_ACTIONS[SignerSearchKind(kind)]
    if petition is not None:
        if petition.personal_data_destroyed_at is not None:
            day = petition.personal_data_destroyed_at
            raise NothingToSearch(
                _(
                    "The personal data of petition %(number)s's signers was destroyed on %(day)s: "
                    "there is nothing left to search."
                )
                % {"number": petition.pk, "day": date_format(day, "j E Y")}
            )
        if not reason.strip():
            raise SearchRefused(_("State why you need this search."))
        return staff_access_record(actor=actor, action=action, subject=f"petition:{petition.pk}", reason=reason)
    if approval_id is None:
        raise SearchRefused(_("A search across all petitions needs a second moderator's approval: request one first."))
    now = timezone.now()
    with transaction.atomic():
        spent = SearchApproval.objects.filter(
            pk=approval_id,
            requested_by=actor,
            kind=kind,
            used_at__isnull=True,
            approved_at__gte=now - timedelta(minutes=SEARCH_APPROVAL_VALID_MINUTES),
        ).update(used_at=now)
        if not spent:
            raise SearchRefused(
                _(
                    "That approval cannot be used: it is for another kind of search, used already, not yet approved, "
                    "or older than %(minutes)s minutes. Request a new one."
                )
                % {"minutes": SEARCH_APPROVAL_VALID_MINUTES}
            )
        approval = SearchApproval.objects.select_related("approved_by").get(pk=approval_id)
        return staff_access_record(
            actor=actor, action=action, subject=ALL_PETITIONS, reason=approval.reason, approved_by=approval.approved_by
        )


def search_approvals_delete_expired(now: datetime) -> int:
    """A retention job: delete requests for searches across all petitions (their kind, reason,
    requester and approver) made more than ``STAFF_AUDIT_RETENTION_DAYS`` ago, as the access
    records their searches left are. In batches; returns how many."""
    cutoff = now - timedelta(days=settings.STAFF_AUDIT_RETENTION_DAYS)
    return batches_delete(SearchApproval.objects.filter(requested_at__lte=cutoff))


def petition_creator_name_viewed(*, petition: Petition, actor: User) -> None:
    """The moderation page opens the creator's name (one rejection reason is "not a real
    name"): each showing is recorded. Once its personal data is destroyed no name is shown,
    and nothing is recorded."""
    if petition.personal_data_destroyed:
        return
    staff_access_record(
        actor=actor,
        action=StaffAccess.Action.VIEW_SIGNER,
        subject=f"petition:{petition.pk}",
        reason="moderating the petition: the creator's name",
    )
