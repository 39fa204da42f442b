from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ListKind(models.TextChoices):
    # Never limited by the sign path's rules (a university's own domain, a newsroom's network).
    ALLOW = "allow", _("Allow: never held by the limits")
    # Every submission held for review, whatever the limits say.
    BLOCK = "block", _("Block: every submission held")


class ListTarget(models.TextChoices):
    DOMAIN = "domain", _("E-mail domain")
    NETWORK = "network", _("Network")


class ListEntry(models.Model):
    """A domain or network that staff put on the allow-list or the block-list of the sign
    path's limits (``abuse.limits``). An operator's entry, never a signer's data: a network is
    typed in by staff (``192.0.2.0/24``), not taken from anyone's request."""

    kind = models.CharField(max_length=8, choices=ListKind.choices)
    target = models.CharField(max_length=8, choices=ListTarget.choices)
    # A lower-case IDNA domain (``xn--bcher-kva.example``), or a network in CIDR form.
    value = models.CharField(max_length=253)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["target", "value"]
        constraints = [
            models.UniqueConstraint(fields=["target", "value"], name="abuse_list_one_entry_per_value"),
            models.CheckConstraint(condition=Q(kind__in=ListKind.values), name="abuse_list_kind_valid"),
            models.CheckConstraint(condition=Q(target__in=ListTarget.values), name="abuse_list_target_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} {self.value}"


class ListChange(models.Model):
    """One edit of the allow- or block-lists: who added or removed which entry, when, and why.
    Rows are only ever added: the lists' history, for a second moderator or an auditor (an
    entry's own row goes when it is removed; this one stays)."""

    class Action(models.TextChoices):
        ADD = "add", _("Added")
        REMOVE = "remove", _("Removed")

    action = models.CharField(max_length=8, choices=Action.choices)
    kind = models.CharField(max_length=8, choices=ListKind.choices)
    target = models.CharField(max_length=8, choices=ListTarget.choices)
    value = models.CharField(max_length=253)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=["add", "remove"]), name="abuse_list_change_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.kind} {self.target} {self.value}"
