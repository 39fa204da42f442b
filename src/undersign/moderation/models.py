from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class SignerSearchKind(models.TextChoices):
    EMAIL = "email", "E-mail address"
    NAME = "name", "Name"
    NETWORK = "network", "Network (IP address or range)"


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
