from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from undersign.core.crypto import DEDUP_CURRENT, DEDUP_VERSIONS
from undersign.petitions.search import LANGUAGE_MAX_LENGTH


class PetitionState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("petition state", "Awaiting the creator's confirmation")
    VALIDATED = "validated", pgettext_lazy("petition state", "Collecting sponsors")
    SPONSORED = "sponsored", pgettext_lazy("petition state", "Awaiting moderation")
    FLAGGED = "flagged", pgettext_lazy("petition state", "Flagged for review")
    OPEN = "open", pgettext_lazy("petition state", "Open")
    CLOSED = "closed", pgettext_lazy("petition state", "Closed")
    REJECTED = "rejected", pgettext_lazy("petition state", "Rejected")
    HIDDEN = "hidden", pgettext_lazy("petition state", "Rejected and hidden")


S = PetitionState
# The state groups, defined here once: QuerySet methods and Petition properties below name them,
# and nothing else spells a list of states out again.
SPONSORABLE_STATES = (S.VALIDATED, S.SPONSORED, S.FLAGGED)
MODERATABLE_STATES = (S.SPONSORED, S.FLAGGED)
PUBLISHED_STATES = (S.OPEN, S.CLOSED)
PUBLIC_STATES = (S.OPEN, S.CLOSED, S.REJECTED, S.HIDDEN)  # their pages exist (hidden: no text)
REJECTED_STATES = (S.REJECTED, S.HIDDEN)
TEXT_VISIBLE_STATES = (S.OPEN, S.CLOSED, S.REJECTED)


class Transition(models.TextChoices):
    """The moves a petition can make, each named once; ``TRANSITIONS`` says from where to where."""

    VALIDATE = "validate", pgettext_lazy("petition transition", "The creator confirmed")
    MARK_SPONSORED = "mark_sponsored", pgettext_lazy("petition transition", "Enough sponsors confirmed")
    SPONSORS_FELL_SHORT = (
        "sponsors_fell_short",
        pgettext_lazy("petition transition", "A sponsor withdrew: too few sponsors again"),
    )
    FLAG = "flag", pgettext_lazy("petition transition", "Flagged for a second look")
    APPROVE = "approve", pgettext_lazy("petition transition", "Approved and opened")
    REJECT = "reject", pgettext_lazy("petition transition", "Rejected in moderation")
    TAKE_DOWN = "take_down", pgettext_lazy("petition transition", "Taken down while open")
    CLOSE = "close", pgettext_lazy("petition transition", "Closed")


# The one table of allowed moves: transition → (states it may start from, states it may end in).
# ``petitions.services.petition_transition`` refuses anything else.
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    Transition.VALIDATE: (frozenset({S.PENDING}), frozenset({S.VALIDATED})),
    Transition.MARK_SPONSORED: (frozenset({S.VALIDATED}), frozenset({S.SPONSORED})),
    # Out of the moderation queue, back to collecting sponsors; an open petition stays open.
    Transition.SPONSORS_FELL_SHORT: (frozenset(MODERATABLE_STATES), frozenset({S.VALIDATED})),
    Transition.FLAG: (frozenset({S.SPONSORED}), frozenset({S.FLAGGED})),
    Transition.APPROVE: (frozenset(MODERATABLE_STATES), frozenset({S.OPEN})),
    Transition.REJECT: (frozenset(MODERATABLE_STATES), frozenset(REJECTED_STATES)),
    # Only open petitions: a closed one keeps its ``closed_at``, which the rejected states may not carry.
    Transition.TAKE_DOWN: (frozenset({S.OPEN}), frozenset(REJECTED_STATES)),
    Transition.CLOSE: (frozenset({S.OPEN}), frozenset({S.CLOSED})),
}


class PetitionQuerySet(models.QuerySet["Petition"]):
    """The state groups, named once (``Petition.objects.public()``, …)."""

    def sponsorable(self) -> PetitionQuerySet:
        return self.filter(state__in=SPONSORABLE_STATES)

    def moderatable(self) -> PetitionQuerySet:
        return self.filter(state__in=MODERATABLE_STATES)

    def published(self) -> PetitionQuerySet:
        return self.filter(state__in=PUBLISHED_STATES)

    def public(self) -> PetitionQuerySet:
        return self.filter(state__in=PUBLIC_STATES)

    def rejected(self) -> PetitionQuerySet:
        return self.filter(state__in=REJECTED_STATES)

    def text_visible(self) -> PetitionQuerySet:
        return self.filter(state__in=TEXT_VISIBLE_STATES)


class Petition(models.Model):
    """A petition, from the creator's first submission to its closing. Counters are kept by the
    log's integrator (``transparency.services.log_integrate_batch``, through
    ``petitions.services.petition_counters_apply``), never by a +1 per signature:
    ``signature_count`` is what the count rule gives at the checkpoint of ``counted_at_size``
    entries with root ``counted_at_root``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    action = models.CharField(max_length=500)
    background = models.TextField()
    additional_details = models.TextField(blank=True)
    # The language the text is written in (ISO 639-1; public, like the text): its full-text
    # search stems in that language's configuration (``petitions.search``).
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH, default="en")
    state = models.CharField(max_length=16, choices=PetitionState.choices, default=S.PENDING)
    data_key = models.ForeignKey(
        "core.DataKey",
        to_field="key_id",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="data key new personal data is sealed under",
    )
    sponsor_token = models.CharField(max_length=64, unique=True)

    signature_count = models.PositiveIntegerField(default=0)
    last_signed_at = models.DateTimeField(null=True, blank=True)
    counted_at_size = models.BigIntegerField(null=True, blank=True)
    counted_at_root = models.BinaryField(max_length=32, null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    moderation_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closing_date = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_code = models.CharField(max_length=32, blank=True)
    rejection_details = models.TextField(blank=True)
    # The petition this one repeats, when a moderator rejected or took it down as a duplicate:
    # its page links there, so its would-be signers find where to sign.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="petition it repeats"
    )
    response_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    debate_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    # Set when the petition's data key was destroyed (crypto-shredding): from then on no name,
    # address or claim of its signers can be read, by anyone.
    personal_data_destroyed_at = models.DateTimeField(null=True, blank=True)
    # Attack mode (``abuse``): while set, signing asks for a proof of work computed in the
    # browser; switched on by a moderator or by the held rate, each switch a PetitionEvent.
    attack_mode_since = models.DateTimeField(null=True, blank=True)
    # Which recipe its signatures' dedup tags were made with (``core.crypto.dedup_tag``): kept for
    # the petition's life, so a newer normalisation never splits one signer's old and new tags.
    # Petitions from before version 2 stay at 1 until their data is destroyed.
    dedup_version = models.PositiveSmallIntegerField(default=DEDUP_CURRENT)
    # Safety in numbers: signers who chose to be named with their group are named only once at
    # least ``group_min_named`` verified signers from ``group_min_territories`` territories are
    # in it (the creator sets both, within the settings' limits). Both 0: the petition offers no
    # group (its registries list fewer members than the smallest group allowed).
    group_min_named = models.PositiveIntegerField(default=10)
    group_min_territories = models.PositiveIntegerField(default=3)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["state", "-opened_at"], name="petition_state_opened"),
            models.Index(fields=["state", "closing_date"], name="petition_state_closing"),
            models.Index(fields=["-signature_count"], name="petition_by_count"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=PetitionState.values), name="petition_state_valid"),
            models.CheckConstraint(
                condition=~Q(state__in=PUBLISHED_STATES) | Q(opened_at__isnull=False, closing_date__isnull=False),
                name="petition_published_has_dates",
            ),
            models.CheckConstraint(
                condition=Q(state=S.CLOSED, closed_at__isnull=False) | (~Q(state=S.CLOSED) & Q(closed_at__isnull=True)),
                name="petition_closed_iff_closed_at",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=REJECTED_STATES) | (Q(rejected_at__isnull=False) & ~Q(rejection_code="")),
                name="petition_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state=S.PENDING) | Q(validated_at__isnull=False),
                name="petition_confirmed_by_creator",
            ),
            models.CheckConstraint(condition=Q(dedup_version__in=DEDUP_VERSIONS), name="petition_dedup_version_known"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    @property
    def text_visible(self) -> bool:
        return self.state in TEXT_VISIBLE_STATES

    def can(self, transition: str) -> bool:
        """Whether ``transition`` may start from this petition's state (``TRANSITIONS``); the
        service that makes it checks again in the database, under the row's lock."""
        return self.state in TRANSITIONS[transition][0]

    @property
    def is_public(self) -> bool:
        """Its page exists (a hidden one's without its text)."""
        return self.state in PUBLIC_STATES

    @property
    def was_taken_down(self) -> bool:
        """Rejected after it had opened (and collected signatures), not refused before."""
        return self.state in REJECTED_STATES and self.opened_at is not None

    @property
    def is_published(self) -> bool:
        return self.state in PUBLISHED_STATES

    @property
    def is_moderatable(self) -> bool:
        return self.state in MODERATABLE_STATES

    @property
    def is_sponsorable(self) -> bool:
        return self.state in SPONSORABLE_STATES

    @property
    def is_rejected(self) -> bool:
        return self.state in REJECTED_STATES

    @property
    def personal_data_destroyed(self) -> bool:
        """Its data key is gone: no name, address or claim of its signers can be read, and
        pages show none (``retention.services.petition_personal_data_destroy``)."""
        return self.personal_data_destroyed_at is not None


class PetitionEvent(models.Model):
    """One change of a petition's state, or a moderator's note on it: who, when, from, to, why.
    Rows are only ever added; together they are the petition's audit trail."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.from_state or '-'} → {self.to_state or '(note)'}"


class PetitionResponse(models.Model):
    """The response the moderators published for a petition that reached its threshold."""

    petition = models.OneToOneField(Petition, on_delete=models.CASCADE, related_name="response")
    summary = models.CharField(max_length=500)
    details = models.TextField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Response to #{self.petition_id}"


class RegionCount(models.Model):
    """Confirmed signatures of a petition from one region, kept by the log's integrator
    (``petition_counters_apply``)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="region_counts")
    region = models.CharField(max_length=16)
    signature_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "region"], name="regioncount_unique"),
            models.CheckConstraint(condition=Q(signature_count__gte=0), name="regioncount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.region}: {self.signature_count}"


class HourlyCount(models.Model):
    """Signatures a petition gained (net of invalidations) in one hour: the signature history
    of the open data, and what trending is ranked by."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hourly_counts")
    hour = models.DateTimeField()
    signature_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["petition", "hour"], name="hourlycount_unique")]
        indexes = [models.Index(fields=["hour"], name="hourlycount_hour")]

    def __str__(self) -> str:
        return f"{self.petition_id}@{self.hour:%Y-%m-%d %H}: {self.signature_count}"
