from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SignatureStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("signature status", "Awaiting e-mail confirmation")
    CONFIRMED = "confirmed", pgettext_lazy("signature status", "Confirmed")
    INVALIDATED = "invalidated", pgettext_lazy("signature status", "Invalidated")
    # Over a limit of the sign path (``abuse.limits``): stored, not counted, not in the log, no
    # e-mail sent until a moderator releases it or its signer completes the proof of work.
    # Counts as pending for dedup: a later submission by the same address replaces it.
    HELD = "held", pgettext_lazy("signature status", "Held for review")


# ``Signature.invalidation_reason`` of a signature its signer withdrew (``signatures.withdrawal``):
# it never counts again, is never reinstated, and no more mail goes to its signer.
WITHDRAWN = "withdrawn"


class SignatureKind(models.TextChoices):
    CREATOR = "creator", pgettext_lazy("signature kind", "Creator")
    SPONSOR = "sponsor", pgettext_lazy("signature kind", "Sponsor")
    SIGNER = "signer", pgettext_lazy("signature kind", "Signer")


class Display(models.TextChoices):
    NAMED = "named", _("Show my name and region")
    INITIALS = "initials", _("Show my initials and region")
    COUNTED = "counted", _("Count me only; show nothing about me")
    GROUP = "group", _("Name me only together with my group")


class Signature(models.Model):
    """One person's signature on one petition. Name, e-mail, IP address and language are sealed
    under the petition's data key; ``dedup_tag`` is the per-petition blind index of the e-mail address
    that lets the database refuse a second signature by the same person."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.PROTECT, related_name="signatures", verbose_name=_("petition")
    )
    kind = models.CharField(
        max_length=8, choices=SignatureKind.choices, default=SignatureKind.SIGNER, verbose_name=_("kind")
    )
    status = models.CharField(
        max_length=12, choices=SignatureStatus.choices, default=SignatureStatus.PENDING, verbose_name=_("status")
    )
    dedup_tag = models.BinaryField(max_length=32)
    name_sealed = models.BinaryField()
    email_sealed = models.BinaryField()
    ip_sealed = models.BinaryField(null=True)
    # The language the signer used (``personal_data.signer_language``), for every later mail;
    # sealed like the name, as a plain "ru" beside a region is one more clue in a dump. Null on
    # rows signed before it was kept, and once erased: mail then goes in the site's language.
    language_sealed = models.BinaryField(null=True)
    region = models.CharField(max_length=16, verbose_name=_("region"))
    display = models.CharField(
        max_length=8, choices=Display.choices, default=Display.COUNTED, verbose_name=_("display")
    )
    notify_updates = models.BooleanField(default=False)
    # Keyed digests of the e-mailed links' tokens (``core.crypto.token_digest``): a link names
    # its signature only through them, never by id, and a dump holds no working link nor a way
    # to match a link seen in a mailbox to its row.
    token_digest = models.BinaryField(max_length=32, null=True)
    unsubscribe_digest = models.BinaryField(max_length=32, null=True)
    token_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    invalidated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("invalidated at"))
    invalidation_reason = models.CharField(max_length=32, blank=True)
    # Which rule held it (``abuse.limits.HoldReason``), while held and after: a code, never
    # the address or network that tripped it.
    hold_reason = models.CharField(max_length=16, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unsubscribed at"))
    # C of the signature's log entry, set when it is confirmed: public anyway, kept so that a
    # revocation can name it. The r behind it never reaches this table.
    commitment = models.BinaryField(max_length=32, null=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(fields=["petition", "dedup_tag"], name="signature_one_per_person"),
            models.UniqueConstraint(fields=["petition"], condition=Q(kind="creator"), name="signature_one_creator"),
            models.UniqueConstraint(fields=["petition", "commitment"], name="signature_one_commitment"),
            models.UniqueConstraint(fields=["token_digest"], name="signature_token_digest_unique"),
            models.UniqueConstraint(fields=["unsubscribe_digest"], name="signature_unsubscribe_digest_unique"),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(commitment__isnull=False),
                name="signature_confirmed_has_commitment",
            ),
            models.CheckConstraint(condition=Q(status__in=SignatureStatus.values), name="signature_status_valid"),
            models.CheckConstraint(condition=Q(display__in=Display.values), name="signature_display_valid"),
            models.CheckConstraint(condition=Q(kind__in=SignatureKind.values), name="signature_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="signature_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="invalidated") | Q(invalidated_at__isnull=False),
                name="signature_invalidated_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["petition", "-confirmed_at"],
                condition=Q(status="confirmed") & ~Q(display="counted"),
                name="signature_public_names",
            ),
            models.Index(fields=["petition", "kind", "status"], name="signature_by_kind"),
            # The retention jobs' finds (``signatures_ips_drop``, ``signatures_expired_delete``):
            # a few rows among many, looked for every hour.
            models.Index(fields=["created_at"], condition=Q(ip_sealed__isnull=False), name="signature_ip_kept"),
            models.Index(fields=["updated_at"], condition=Q(status="pending"), name="signature_pending_age"),
            # Moderators' review of held signatures, by petition and time window.
            models.Index(fields=["petition", "created_at"], condition=Q(status="held"), name="signature_held"),
        ]

    def __str__(self) -> str:
        return f"signature #{self.pk} on petition {self.petition_id} ({self.status})"

    @property
    def is_withdrawn(self) -> bool:
        return self.status == SignatureStatus.INVALIDATED and self.invalidation_reason == WITHDRAWN


class SignerDataLink(models.Model):
    """A one-time link, mailed to a signer's own address on request, to the page that shows
    what we hold about their signature and offers erasure. The database keeps only the
    token's keyed digest; the row is deleted when the link is used or has expired."""

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    digest = models.BinaryField(max_length=32, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"data link of signature #{self.signature_id}"
