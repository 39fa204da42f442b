from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SignerSearchKind(models.TextChoices):
    EMAIL = "email", _("E-mail address")
    NAME = "name", _("Name")
    NETWORK = "network", _("Network (IP address or range)")


class SearchApproval(models.Model):
    """A moderator's request to search signers by personal data across all petitions, and a
    second moderator's approval of it. The approval covers a kind of search and its stated
    reason, never the terms (they are typed when the search runs and kept nowhere); it can be
    used once, by the moderator who asked, within ``SEARCH_APPROVAL_VALID_MINUTES`` of being
    approved."""

    Kind = SignerSearchKind

    kind = models.CharField(max_length=8, choices=SignerSearchKind.choices)
    reason = models.TextField()
    requested_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SignerSearchKind.values), name="searchapproval_kind_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="searchapproval_has_reason"),
            # The second moderator is a different person.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("requested_by")),
                name="searchapproval_second_moderator",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="searchapproval_approved_by_and_at",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(approved_at__isnull=False),
                name="searchapproval_used_only_once_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"search approval #{self.pk} ({self.kind}) for {self.requested_by}"


class BulkActionKind(models.TextChoices):
    INVALIDATE = "invalidate", _("Invalidate as fraud")
    RELEASE = "release", _("Release for confirmation")
    REINSTATE = "reinstate", _("Reinstate (undo an invalidation)")


class BulkActionState(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("bulk action state", "Awaiting a second moderator")
    RUNNING = "running", pgettext_lazy("bulk action state", "Running")
    DONE = "done", pgettext_lazy("bulk action state", "Done")
    CANCELLED = "cancelled", pgettext_lazy("bulk action state", "Cancelled")


class BulkAction(models.Model):
    """A moderator's action on many signatures at once (``moderation.bulk``): which ones (the
    criteria, and the signatures they selected when it was proposed, as ``BulkActionItem``
    rows), what to do, why, who proposed it and, above ``BULK_ACTION_SECOND_MODERATOR_OVER``
    signatures, which second moderator approved it. The criteria are what staff typed (a
    domain, a network), never a signer's own data. It runs in batches; its state lives here so
    that a run cut short is resumed by the periodic job."""

    Kind = BulkActionKind
    State = BulkActionState

    kind = models.CharField(max_length=12, choices=BulkActionKind.choices)
    state = models.CharField(max_length=12, choices=BulkActionState.choices, default=BulkActionState.PROPOSED)
    reason = models.TextField()
    # The criteria (all that are set must hold). No petition: every petition whose personal
    # data still exists.
    petition = models.ForeignKey(
        "petitions.Petition", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    domain = models.CharField(max_length=253, blank=True)
    network = models.CharField(max_length=50, blank=True)
    created_from = models.DateTimeField(null=True, blank=True)
    created_until = models.DateTimeField(null=True, blank=True)
    held_only = models.BooleanField(default=False)
    # The invalidation a reinstatement undoes.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    # How many signatures the criteria selected when proposed (the number the moderators saw),
    # and how many the run changed (some may have changed state meanwhile).
    selected = models.PositiveIntegerField()
    changed = models.PositiveIntegerField(default=0)
    needs_second_moderator = models.BooleanField()
    proposed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    approved_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=BulkActionKind.values), name="bulkaction_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=BulkActionState.values), name="bulkaction_state_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="bulkaction_has_reason"),
            # The second moderator is a different person.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("proposed_by")),
                name="bulkaction_second_moderator_differs",
            ),
            # An action that needs a second moderator never runs without one.
            models.CheckConstraint(
                condition=Q(needs_second_moderator=False)
                | Q(state__in=["proposed", "cancelled"])
                | Q(approved_by__isnull=False),
                name="bulkaction_runs_only_approved",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["proposed", "cancelled"]) | Q(started_at__isnull=False),
                name="bulkaction_started_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state="done", done_at__isnull=False) | Q(~Q(state="done"), done_at__isnull=True),
                name="bulkaction_done_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state="cancelled", cancelled_at__isnull=False, cancelled_by__isnull=False)
                | Q(~Q(state="cancelled"), cancelled_at__isnull=True),
                name="bulkaction_cancelled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(kind="reinstate", reverses__isnull=False) | Q(~Q(kind="reinstate"), reverses__isnull=True),
                name="bulkaction_reinstate_reverses",
            ),
            # Only held signatures are released.
            models.CheckConstraint(condition=~Q(kind="release") | Q(held_only=True), name="bulkaction_release_held"),
            # Never "every signature everywhere": some criterion narrows it.
            models.CheckConstraint(
                condition=Q(kind="reinstate")
                | ~Q(domain="")
                | ~Q(network="")
                | Q(created_from__isnull=False)
                | Q(created_until__isnull=False)
                | Q(held_only=True),
                name="bulkaction_has_criteria",
            ),
            # One live reversal per invalidation.
            models.UniqueConstraint(
                fields=["reverses"], condition=~Q(state="cancelled"), name="bulkaction_one_reversal"
            ),
        ]
        indexes = [models.Index(fields=["state"], condition=Q(state="running"), name="bulkaction_running")]

    def __str__(self) -> str:
        return f"bulk action #{self.pk} ({self.kind}, {self.state})"


class BulkActionItem(models.Model):
    """One signature a bulk action selected, and what the run did to it: ``previous_status``
    is the status it had when changed (empty: left alone, it had changed meanwhile, or not
    run yet), so that a reinstatement puts back exactly what this action took away."""

    action = models.ForeignKey(BulkAction, on_delete=models.CASCADE, related_name="items")
    signature = models.ForeignKey("signatures.Signature", on_delete=models.CASCADE, related_name="+")
    done = models.BooleanField(default=False)
    previous_status = models.CharField(max_length=12, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "signature"], name="bulkactionitem_once_per_action"),
            models.CheckConstraint(condition=Q(done=True) | Q(previous_status=""), name="bulkactionitem_done_first"),
        ]
        indexes = [models.Index(fields=["action"], condition=Q(done=False), name="bulkactionitem_to_do")]

    def __str__(self) -> str:
        return f"signature #{self.signature_id} in bulk action #{self.action_id}"


class BulkActionEvent(models.Model):
    """One change of a bulk action's state: who (none: the run itself), from, to, when."""

    action = models.ForeignKey(BulkAction, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, choices=BulkActionState.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"bulk action #{self.action_id}: {self.from_state or '-'} → {self.to_state}"


class AbuseAlert(models.Model):
    """Moderators were alerted that a petition's held signatures in one hour reached
    ``ABUSE_ALERT_PER_HOUR``: one row per petition and hour, so each is sent once. Counts
    only; the webhook (``ABUSE_ALERT_WEBHOOK_URL``) is retried from here until it answers."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    held = models.PositiveIntegerField()
    submissions = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "-pk"]
        constraints = [models.UniqueConstraint(fields=["petition", "hour"], name="abusealert_once_per_hour")]

    def __str__(self) -> str:
        return f"abuse alert for petition {self.petition_id} at {self.hour:%Y-%m-%d %H:00}"
