"""Writes to petitions. Every change of state goes through ``petition_transition``: a guarded
UPDATE that only moves a petition from an allowed state, and an event row recording the move.
The counters are written here too (``petition_counters_apply``), by the log's integrator."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from undersign.core.crypto import data_key_create, data_key_delete
from undersign.core.errors import Refusal
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add, outbox_unsent_forget
from undersign.petitions.models import (
    TRANSITIONS,
    HourlyCount,
    Petition,
    PetitionEvent,
    PetitionResponse,
    PetitionState,
    RegionCount,
    Transition,
)
from undersign.petitions.search import language_active, language_known

S = PetitionState


class TransitionRefused(Refusal):
    """The petition is not in a state this change may start from."""

    def __init__(self, petition: Petition, to_state: str) -> None:
        message = _("Petition %(number)s cannot go from %(old)s to %(new)s.")
        super().__init__(message % {"number": petition.pk, "old": petition.state, "new": to_state})
        self.petition = petition
        self.to_state = to_state


# Every character Python's str.splitlines() breaks a line at: CR, LF, vertical tab, form feed,
# the file, group and record separators, NEL and the Unicode line and paragraph separators.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def has_line_break(text: str) -> bool:
    return not LINE_BREAKS.isdisjoint(text)


@dataclass(frozen=True)
class PetitionText:
    action: str
    background: str
    additional_details: str
    # ISO 639-1 code (``petitions.search.petition_languages``); "" for the language of the page
    # being served (``language_active``).
    language: str = ""


@dataclass(frozen=True)
class GroupThresholds:
    """Safety in numbers: a petition's group is named once at least ``named`` of its members are
    verified, from at least ``territories`` territories. Set by the creator, fixed from then on
    (no service changes them), so no one can move the bar while members wait behind it."""

    named: int
    territories: int


# A petition that offers no group (``Petition.group_min_named`` 0): its registries list fewer
# members than the smallest group allowed, so its group could never be named.
NO_GROUP = GroupThresholds(named=0, territories=0)


def group_named_range() -> tuple[int, int]:
    """The group sizes a creator may ask for: never below k, nor ``GROUP_MIN_NAMED``."""
    return max(settings.K_ANONYMITY, settings.GROUP_MIN_NAMED), settings.GROUP_MAX_NAMED


def group_territories_range() -> tuple[int, int]:
    return 1, settings.GROUP_MAX_TERRITORIES


def group_thresholds_default() -> GroupThresholds:
    low, high = group_named_range()
    return GroupThresholds(
        named=min(max(settings.GROUP_DEFAULT_NAMED, low), high),
        territories=min(max(settings.GROUP_DEFAULT_TERRITORIES, 1), settings.GROUP_MAX_TERRITORIES),
    )


def petition_transition(
    petition: Petition,
    *,
    transition: str,
    to_state: str,
    actor: User | None = None,
    reason_code: str = "",
    note: str = "",
    **fields: object,
) -> Petition:
    """Make ``transition`` (``TRANSITIONS``), to ``to_state``, if in the database the petition is
    in a state it may start from. Raises ``TransitionRefused`` otherwise. Precondition: inside a
    transaction (the event row and the move commit together)."""
    allowed, targets = TRANSITIONS[transition]
    if to_state not in targets:
        raise ValueError(f"{transition} does not lead to {to_state}")
    now = timezone.now()
    # Read the state under a row lock: the event must name the state really left, not that of
    # a stale copy in memory (a petition flagged meanwhile is approved from "flagged").
    current = Petition.objects.select_for_update().filter(pk=petition.pk).values_list("state", flat=True).first()
    if current not in allowed:
        petition.refresh_from_db()
        raise TransitionRefused(petition, to_state)
    Petition.objects.filter(pk=petition.pk, state=current).update(state=to_state, updated_at=now, **fields)
    PetitionEvent.objects.create(
        petition=petition,
        actor=actor,
        from_state=current,
        to_state=to_state,
        reason_code=reason_code,
        note=note,
    )
    petition.refresh_from_db()
    return petition


@transaction.atomic
def petition_create(*, text: PetitionText, group: GroupThresholds | None = None) -> Petition:
    """A new petition awaiting its creator's confirmation, with its own data key. The creator's
    signature is made by ``signatures.services.signature_create`` in the same transaction.
    ``group``: its safety-in-numbers thresholds (default ``group_thresholds_default``; ``NO_GROUP``:
    it offers none); raises ``ValueError`` outside ``group_named_range`` or
    ``group_territories_range`` (the creation form says so first), and if the action holds a
    line break (``has_line_break``): it is one sentence, shown on one line in lists, e-mail
    subjects and the log; and if its language is not one of ``petition_languages``."""
    if has_line_break(text.action):
        raise ValueError("a petition's action must be on one line")
    language = text.language or language_active()
    if not language_known(language):
        raise ValueError(f"{language!r} is not a language a petition may be written in")
    group = group or group_thresholds_default()
    low, high = group_named_range()
    if group != NO_GROUP and not low <= group.named <= high:
        raise ValueError(f"a group must name from {low} to {high} verified signers")
    low, high = group_territories_range()
    if group != NO_GROUP and not low <= group.territories <= high:
        raise ValueError(f"a group must span from {low} to {high} territories")
    data_key = data_key_create()
    petition = Petition.objects.create(
        action=text.action,
        background=text.background,
        additional_details=text.additional_details,
        language=language,
        data_key=data_key,
        sponsor_token=secrets.token_urlsafe(24),
        group_min_named=group.named,
        group_min_territories=group.territories,
    )
    PetitionEvent.objects.create(petition=petition, to_state=S.PENDING)
    return petition


def petitions_delete_unconfirmed(*, petition_ids: list[int]) -> int:
    """Delete petitions whose creators never confirmed, with everything of theirs this app and
    the apps above keep by cascade (events, counters, verification settings, claims), their
    unsent e-mails, and their data keys (nothing sealed under them is left). Returns how many.
    Preconditions: transaction open; the rows locked and still ``PENDING``; their signatures
    deleted already (``Signature.petition`` protects the row). A pending petition was never
    published, so it has no log entry (``LogEntry.petition`` would protect it too)."""
    key_ids = list(Petition.objects.filter(pk__in=petition_ids).values_list("data_key_id", flat=True))
    outbox_unsent_forget(petition_ids=petition_ids)
    Petition.objects.filter(pk__in=petition_ids).delete()
    for key_id in key_ids:
        data_key_delete(key_id=str(key_id))  # the column holds the key id (to_field), not a number
    return len(key_ids)


def petition_validate(*, petition: Petition) -> Petition:
    """The creator confirmed their address: the petition starts collecting sponsors (or goes
    straight to moderation when no sponsors are required). Precondition: transaction open."""
    petition = petition_transition(
        petition, transition=Transition.VALIDATE, to_state=S.VALIDATED, validated_at=timezone.now()
    )
    notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_VALIDATED)
    if settings.SPONSORS_REQUIRED == 0:
        petition = petition_mark_sponsored(petition=petition)
    return petition


def petition_mark_sponsored(*, petition: Petition) -> Petition:
    """Enough sponsors confirmed: into the moderation queue. Precondition: transaction open."""
    petition = petition_transition(
        petition,
        transition=Transition.MARK_SPONSORED,
        to_state=S.SPONSORED,
        moderation_threshold_reached_at=timezone.now(),
    )
    notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_SPONSORED)
    return petition


# Reason codes of the events a signer's withdrawal leaves on their petition (no actor: the
# signer is not staff, and naming their signature would say who withdrew).
SPONSOR_WITHDREW = "sponsor_withdrew"
CREATOR_WITHDREW = "creator_withdrew"


def petition_sponsors_fell_short(*, petition: Petition) -> Petition:
    """A sponsor withdrew and fewer than ``SPONSORS_REQUIRED`` confirmed sponsors remain: out of
    the moderation queue, back to collecting sponsors (the next sponsor to confirm brings it
    back). Precondition: transaction open. Raises ``TransitionRefused`` unless it is in the
    queue; the caller checks ``petition.can(Transition.SPONSORS_FELL_SHORT)`` first."""
    return petition_transition(
        petition,
        transition=Transition.SPONSORS_FELL_SHORT,
        to_state=S.VALIDATED,
        reason_code=SPONSOR_WITHDREW,
        moderation_threshold_reached_at=None,
    )


def petition_creator_withdrew(*, petition: Petition) -> PetitionEvent:
    """Record in the audit trail that the creator withdrew their signature: the petition stays as
    it is, and no creator's name is shown any more. No state changes, no actor."""
    return PetitionEvent.objects.create(petition=petition, reason_code=CREATOR_WITHDREW)


def closing_date_for(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.PETITION_DURATION_DAYS)


def petition_close(*, petition: Petition, now: datetime | None = None) -> Petition:
    now = now or timezone.now()
    with transaction.atomic():
        petition = petition_transition(petition, transition=Transition.CLOSE, to_state=S.CLOSED, closed_at=now)
        notify_creator(petition=petition, kind=OutboundEmail.Kind.PETITION_CLOSED)
        return petition


def notify_creator(*, petition: Petition, kind: str) -> None:
    """Queue an e-mail to the petition's creator. Precondition: transaction open. The creator
    is a signature (an app above this one): the signatures app's renderer finds them at
    sending time from the petition alone."""
    outbox_add(kind=kind, petition_id=petition.pk, signature_id=None)


def petition_note_record(*, petition: Petition, actor: User | None, note: str) -> PetitionEvent:
    """A note in the petition's audit trail. It changes no state, so both states stay blank:
    that is how the trail tells notes from moves."""
    return PetitionEvent.objects.create(petition=petition, actor=actor, note=note)


# The reason codes of the audit rows left when attack mode is switched (``abuse.proof``).
ATTACK_MODE_ON = "attack_mode_on"
ATTACK_MODE_OFF = "attack_mode_off"


def petition_attack_mode_set(*, petition: Petition, on: bool, actor: User | None, reason: str) -> bool:
    """Switch attack mode on (signing asks for a proof of work) or off, with a row in the audit
    trail naming who (None: the held-rate job) and why. The state does not change, so both
    states stay as they are in a note. Returns False, writing nothing, if it already was so: a
    guarded UPDATE, so two moderators (or a moderator and the job) switching at once leave one
    row. ``updated_at`` moves too: the public page says while signing takes longer."""
    now = timezone.now()
    with transaction.atomic():
        rows = Petition.objects.filter(pk=petition.pk, attack_mode_since__isnull=on)
        if not rows.update(attack_mode_since=now if on else None, updated_at=now):
            petition.refresh_from_db(fields=["attack_mode_since", "updated_at"])
            return False
        PetitionEvent.objects.create(
            petition=petition,
            actor=actor,
            reason_code=ATTACK_MODE_ON if on else ATTACK_MODE_OFF,
            note=reason,
        )
    petition.attack_mode_since = now if on else None
    petition.updated_at = now
    return True


def petition_response_record(*, petition: Petition, actor: User, summary: str, details: str) -> PetitionResponse:
    """Record the published response, and the fact in the audit trail. Precondition: the
    petition's row locked, and no response yet (the one-to-one column refuses a second)."""
    response = PetitionResponse.objects.create(petition=petition, summary=summary, details=details, published_by=actor)
    petition_note_record(petition=petition, actor=actor, note=f"Response published: {summary}")
    return response


# The reason code of the audit row left when a petition's personal data is destroyed.
PERSONAL_DATA_DESTROYED = "personal_data_destroyed"


def petition_personal_data_destroyed(*, petition: Petition, now: datetime) -> bool:
    """Record that the petition's personal data was destroyed at ``now`` (its pages then show
    no names and say when), with a row in its audit trail (no actor: the retention job did
    it). The state does not change. Returns False if it was recorded already. Precondition:
    inside the transaction that destroys the data (``retention.services``), the row locked."""
    if not Petition.objects.filter(pk=petition.pk, personal_data_destroyed_at__isnull=True).update(
        personal_data_destroyed_at=now, updated_at=now
    ):
        return False
    PetitionEvent.objects.create(
        petition=petition,
        reason_code=PERSONAL_DATA_DESTROYED,
        note="Signers' personal data destroyed: the petition's data key was erased.",
    )
    petition.personal_data_destroyed_at = now
    return True


def petition_touch(*, petition_id: int, now: datetime) -> None:
    """Move the petition's ``updated_at``, which its public page's ETag follows, when something
    shown on that page but kept elsewhere changed (verified figures)."""
    Petition.objects.filter(pk=petition_id).update(updated_at=now)


def petitions_close_due(*, now: datetime | None = None) -> list[int]:
    """Close every open petition whose closing date has passed; returns their ids. Safe to run
    concurrently: the guarded transition closes each petition once."""
    now = now or timezone.now()
    closed = []
    for petition in Petition.objects.filter(state=S.OPEN, closing_date__lte=now).order_by("closing_date"):
        try:
            petition_close(petition=petition, now=now)
        except TransitionRefused:
            continue
        closed.append(petition.pk)
    return closed


# --- counters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountChange:
    petition_id: int
    region: str
    delta: int
    at: datetime


def _upsert_increments(table: str, key_column: str, rows: list[tuple[int, str | datetime, int]]) -> None:
    table_q = connection.ops.quote_name(table)
    key_q = connection.ops.quote_name(key_column)
    sql = (
        f'INSERT INTO {table_q} ("petition_id", {key_q}, "signature_count") VALUES (%s, %s, %s) '  # noqa: S608
        f'ON CONFLICT ("petition_id", {key_q}) DO UPDATE '
        f'SET "signature_count" = {table_q}."signature_count" + EXCLUDED."signature_count"'
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def petition_counters_apply(
    *, changes: list[CountChange], petition_ids: set[int], size: int, root_hash: bytes, now: datetime
) -> None:
    """Apply ``changes`` and record, on every petition in ``petition_ids`` (each one with an
    entry in the batch), the checkpoint its count now stands at: each petition's total, its
    per-region and per-hour counts, and its threshold timestamps — one UPDATE per petition, one
    upsert per (petition, region) and per (petition, hour), never a +1 per signature on the
    petition row that every reader needs (docs/architecture.md). Precondition: the log's
    integrator's transaction is open and it holds the log lock: counts move only when the log
    does."""
    per_petition: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    per_region: dict[tuple[int, str], int] = defaultdict(int)
    per_hour: dict[tuple[int, datetime], int] = defaultdict(int)
    for change in changes:
        if not change.delta:
            continue
        per_petition[change.petition_id] += change.delta
        per_region[(change.petition_id, change.region)] += change.delta
        per_hour[(change.petition_id, change.at.replace(minute=0, second=0, microsecond=0))] += change.delta
        if change.delta > 0 and (change.petition_id not in latest or change.at > latest[change.petition_id]):
            latest[change.petition_id] = change.at
    checkpoint = {"counted_at_size": size, "counted_at_root": root_hash, "updated_at": now}
    for petition_id, delta in per_petition.items():
        fields: dict[str, object] = {"signature_count": F("signature_count") + delta, **checkpoint}
        if petition_id in latest:
            fields["last_signed_at"] = Greatest(Coalesce("last_signed_at", latest[petition_id]), latest[petition_id])
        Petition.objects.filter(pk=petition_id).update(**fields)
    # Entries that changed no count (an opening, a closing, changes that cancel out) still
    # move the petition's count to this checkpoint.
    Petition.objects.filter(pk__in=petition_ids - set(per_petition)).update(**checkpoint)
    # A check constraint judges the row proposed for INSERT before ON CONFLICT turns it into an
    # UPDATE, so decrements (whose rows exist already) go through a plain UPDATE.
    _upsert_increments(RegionCount._meta.db_table, "region", [(p, r, d) for (p, r), d in per_region.items() if d > 0])
    for (petition_id, region), delta in per_region.items():
        if delta < 0:
            RegionCount.objects.filter(petition_id=petition_id, region=region).update(
                signature_count=F("signature_count") + delta
            )
    _upsert_increments(HourlyCount._meta.db_table, "hour", [(p, h, d) for (p, h), d in per_hour.items()])
    touched = list(per_petition)
    Petition.objects.filter(
        pk__in=touched, response_threshold_reached_at__isnull=True, signature_count__gte=settings.RESPONSE_THRESHOLD
    ).update(response_threshold_reached_at=now)
    Petition.objects.filter(
        pk__in=touched, debate_threshold_reached_at__isnull=True, signature_count__gte=settings.DEBATE_THRESHOLD
    ).update(debate_threshold_reached_at=now)


def petition_counters_set(*, petition_id: int, region: str | None, count: int) -> None:
    """Set one counter to ``count`` (``region`` None: the petition's total): the repair of
    ``counting.services.counts_reconcile``, under the log lock."""
    if region is None:
        Petition.objects.filter(pk=petition_id).update(signature_count=count)
    else:
        RegionCount.objects.update_or_create(
            petition_id=petition_id, region=region, defaults={"signature_count": count}
        )
