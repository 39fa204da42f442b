from __future__ import annotations

from django.db import models


class DataKey(models.Model):
    """A per-petition data key, stored only wrapped by a master key that lives outside the
    database. A row whose ``destroyed_at`` is set has had its wrapped key erased: the personal
    data sealed under it is gone for good."""

    key_id = models.CharField(max_length=40, unique=True)
    petition = models.ForeignKey("petitions.Petition", on_delete=models.PROTECT, related_name="data_keys")
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


class OutboundEmail(models.Model):
    """An e-mail that must go out. The row is written in the same transaction as the change
    that calls for it; a queue message only hurries delivery along, and the outbox sweep sends
    whatever a lost message or a mail-server outage left behind. Addresses are never stored
    here: they are read (and decrypted) from the signature or user at sending time."""

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

    kind = models.CharField(max_length=32, choices=Kind.choices)
    signature = models.ForeignKey(
        "signatures.Signature", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
