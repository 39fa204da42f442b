from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataKey(models.Model):
    """A data key (one per petition), stored only wrapped by a master key that lives outside the
    database. A row whose ``destroyed_at`` is set has had its wrapped key erased: the personal
    data sealed under it is gone for good. The petition points here (``Petition.data_key``), not
    the other way round: ``core`` knows no app above it."""

    key_id = models.CharField(max_length=40, unique=True)
    master_key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(destroyed_at__isnull=True, wrapped_key__isnull=False)
                | models.Q(destroyed_at__isnull=False, wrapped_key__isnull=True),
                name="datakey_wrapped_unless_destroyed",
            )
        ]

    def __str__(self) -> str:
        return self.key_id


class MasterKey(models.Model):
    """A PII master key id as the site has seen it: when it was first seen active (first in
    ``UNDERSIGN_PII_KEYS``, wrapping new data keys) and when no live data key was wrapped under
    it any more (retired: it may then be removed from every environment). The key itself never
    lives here, only its id. Written by the re-wrap job (``core.rotation``); rotation is due
    ``MASTER_KEY_ROTATION_DAYS`` after the active key's ``first_active_at``."""

    key_id = models.CharField(max_length=32, unique=True)
    first_active_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retired_at__isnull=True) | models.Q(retired_at__gte=models.F("first_active_at")),
                name="masterkey_retired_after_first_active",
            )
        ]

    def __str__(self) -> str:
        return self.key_id


class OutboundEmail(models.Model):
    """An e-mail that must go out. The row is written in the same transaction as the change
    that calls for it; a queue message only hurries delivery along, and the outbox sweep sends
    whatever a lost message or a mail-server outage left behind. Addresses are never stored
    here: the renderer registered for ``kind`` by the app that owns the recipient reads (and
    decrypts) them at sending time. ``signature_id`` and ``petition_id`` name rows of higher
    apps by id, without a foreign key (``core`` knows no app above it): a renderer whose row has
    gone sends nothing.

    Once sent, a row keeps only its kind, its attempts and the day it was queued and sent:
    ``signature_id`` and ``petition_id`` are cleared and both times rounded to the UTC day
    (``outbox_mark_sent``), so that a dump matched against a mail provider's delivery times
    links no mailbox to a petition. Until then the row names what it is for, exactly."""

    class Kind(models.TextChoices):
        SIGNATURE_CONFIRM = "signature_confirm"
        ALREADY_SIGNED = "already_signed"
        SPONSOR_SIGNED = "sponsor_signed"
        PETITION_VALIDATED = "petition_validated"
        PETITION_SPONSORED = "petition_sponsored"
        PETITION_PUBLISHED = "petition_published"
        PETITION_REJECTED = "petition_rejected"
        PETITION_TAKEN_DOWN = "petition_taken_down"
        PETITION_CLOSED = "petition_closed"
        PETITION_RESPONSE = "petition_response"
        SIGNER_DATA_LINK = "signer_data_link"
        # To a claimant: a validator decided their claim (the mail says only that there is news).
        CLAIM_DECIDED = "claim_decided"
        # To the moderators, not a signer: a petition's held signatures crossed the alert level.
        ABUSE_ALERT = "abuse_alert"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    signature_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    petition_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # None once sent
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"),
        ]
        constraints = [
            # A sent row links to nothing; an unsent one names its petition.
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True, petition_id__isnull=False)
                | models.Q(sent_at__isnull=False, petition_id__isnull=True, signature_id__isnull=True),
                name="outbox_sent_links_nothing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class StaffAccessAction(models.TextChoices):
    VIEW_SIGNER = "view_signer", _("Viewed a signer's details")
    VIEW_CLAIM = "view_claim", _("Viewed a claim")
    VIEW_EVIDENCE = "view_evidence", _("Viewed claim evidence")
    SEARCH_EMAIL = "search_email", _("Searched by e-mail")
    SEARCH_NAME = "search_name", _("Searched by name")
    SEARCH_NETWORK = "search_network", _("Searched by network")
    # The moderators' tools against floods (moderation.bulk): held signatures grouped by
    # network and domain, a bulk action's preview, the trending networks and domains.
    VIEW_HELD = "view_held", _("Viewed held signatures by network and domain")
    PREVIEW_BULK = "preview_bulk", _("Previewed a bulk action")
    VIEW_TRENDING = "view_trending", _("Viewed trending networks and domains")


class StaffAccess(models.Model):
    """One look by a staff member at decrypted personal data (a signer's details, a claim's
    evidence), or one search by personal data (e-mail, name, network): who, what, when and why.
    ``subject`` names what was opened (``petition:12``, ``claim:5``), never the personal data
    itself: a search's terms are not kept. Rows are only ever added; together they are the
    record a second moderator or an auditor reads."""

    Action = StaffAccessAction

    actor = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("actor"))
    action = models.CharField(max_length=20, choices=StaffAccessAction.choices, verbose_name=_("action"))
    subject = models.CharField(max_length=100, verbose_name=_("subject"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    # The second moderator who approved a search across all petitions, when one was needed.
    approved_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("approved by")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("staff access")
        verbose_name_plural = _("staff accesses")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=StaffAccessAction.values),
                name="staffaccess_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.subject}"
