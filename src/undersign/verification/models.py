"""Registries of eligible people, the claims signers make to be one of them, and the decisions
validators take on those claims. See docs/architecture.md ("Verified signatories")."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def day_start(moment: datetime | None = None) -> datetime:
    """``moment`` (default: now) rounded down to the day, in UTC. Times stored beside a claim
    need no more: an exact one would let a dump be matched against a mail provider's logs."""
    moment = moment or timezone.now()
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class Registry(models.Model):
    """A published list of people eligible to sign as verified (e.g. the municipal deputies of
    one city). Its members' names, offices, districts and territories are public; their
    official e-mail addresses are not."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    validators_required = models.PositiveSmallIntegerField(
        default=1, help_text="How many distinct validators must agree on a decision (1 or 2)."
    )
    official_domain = models.CharField(
        max_length=253, blank=True, help_text="The e-mail domain of the institution, if any (e.g. council.example)."
    )
    territory_set = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            ("", _("The site's regions")),
            ("uk", _("United Kingdom: ITL1 regions")),
            ("ru", _("Russia: federal subjects")),
            ("ru-cities", _("Russia: cities")),
        ],
        help_text=_(
            "The bundled territory set its members are counted in (e.g. ru-cities); empty: the site's regions."
        ),
    )
    territories = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Its own territories, from a file given at import ([{code, name, time_zone}]); "
            "these win over the set named above."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "registries"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(validators_required__in=[1, 2]), name="registry_one_or_two_validators")
        ]

    def __str__(self) -> str:
        return self.name


class RegistryMember(models.Model):
    """One person on a registry, as its last import listed them. Members a re-import no longer
    lists are deactivated rather than deleted, because claims keep pointing at them. The
    official e-mail is kept only as a keyed digest (``official_email_tag``): enough to recognise
    the address when a signer confirms at it, useless to whoever reads a dump."""

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="members")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    # ``core.text.fold_name(name)``: what the member search matches (case, ё/е and accents
    # folded), kept with the row because SQLite cannot fold beyond ASCII and PostgreSQL has no
    # accent folding without an extension.
    name_folded = models.CharField(max_length=200, default="")
    office = models.CharField(max_length=200)
    district = models.CharField(max_length=200, blank=True)
    territory_code = models.CharField(max_length=32)
    official_email_tag = models.BinaryField(max_length=32, null=True, blank=True)
    official_email_domain = models.CharField(max_length=253, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["registry", "external_id"], name="registrymember_unique_external_id")
        ]
        indexes = [models.Index(fields=["registry", "active", "name"], name="registrymember_by_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.office}, {self.territory_code})"


class RegistryImport(models.Model):
    """One import of a registry's CSV file: who, when, and what it changed."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="imports")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=200, help_text="The file name, and whether admin or command.")
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.registry} import: +{self.added} ~{self.changed} -{self.removed}"


class RegistryValidator(models.Model):
    """The role of validating claims on one registry, held by one staff user."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="validators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_roles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registry", "user"], name="registryvalidator_unique")]

    def __str__(self) -> str:
        return f"{self.user} validates {self.registry}"


class SigningPolicy(models.TextChoices):
    ANYONE = "anyone", _("Anyone may sign")
    REGISTRY_ONLY = "registry_only", _("Only members of the chosen registries")
    VERIFIED_SEPARATELY = "anyone_verified_separately", _("Anyone; verified members counted and shown separately")


class PetitionVerification(models.Model):
    """Who may sign a petition, which registries its signers may claim to be on, and the quorum
    of verified signers it sets itself (both quorum figures optional). A petition without a row
    takes anyone's signature, as before registries existed."""

    petition = models.OneToOneField("petitions.Petition", on_delete=models.CASCADE, related_name="verification")
    policy = models.CharField(max_length=32, choices=SigningPolicy.choices, default=SigningPolicy.ANYONE)
    registries = models.ManyToManyField(Registry, related_name="petitions", blank=True)
    quorum_verified = models.PositiveIntegerField(null=True, blank=True)
    quorum_territories = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(policy__in=SigningPolicy.values), name="verification_policy")]

    def __str__(self) -> str:
        return f"petition {self.petition_id}: {self.policy}"

    @property
    def takes_claims(self) -> bool:
        return self.policy != SigningPolicy.ANYONE


class ClaimStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("claim status", "Awaiting validation")
    VALIDATED = "validated", pgettext_lazy("claim status", "Validated")
    REJECTED = "rejected", pgettext_lazy("claim status", "Rejected")


# Decided claims: validated or rejected (a reversal makes one pending again).
DECIDED_STATUSES = (ClaimStatus.VALIDATED, ClaimStatus.REJECTED)
# Claims that stand for now: validated, or waiting for a validator.
STANDING_STATUSES = (ClaimStatus.VALIDATED, ClaimStatus.PENDING)


class ClaimQuerySet(models.QuerySet["Claim"]):
    def decided(self) -> ClaimQuerySet:
        return self.filter(status__in=DECIDED_STATUSES)

    def standing(self) -> ClaimQuerySet:
        return self.filter(status__in=STANDING_STATUSES)


class ClaimMethod(models.TextChoices):
    NONE = "", _("Not decided")
    OFFICIAL_EMAIL = "official_email", _("Validated by official e-mail")
    VALIDATORS = "validators", _("Decided by validators")


class CountedAs(models.TextChoices):
    """Which public counter a claim is in now (``VerifiedCount``): kept on the claim so that
    every change moves it out of the counter it was in, and into its new one, exactly once."""

    NOTHING = "", _("Not counted")
    VALIDATED_NAMED = "validated_named", _("Verified, named by the signer's choice")
    VALIDATED_OTHER = "validated_other", _("Verified, not named")
    # Named only together with the petition's safety-in-numbers group: published as "others"
    # until a snapshot names the group, as "named" from then on (``GroupReveal``).
    VALIDATED_GROUP = "validated_group", _("Verified, named only with the group")
    PENDING = "pending", pgettext_lazy("claim status", "Awaiting validation")
    REJECTED = "rejected", pgettext_lazy("claim status", "Rejected")


class Claim(models.Model):
    """A signer's claim to be one registry member. ``petition`` repeats the signature's so the
    database itself can hold a member to one validated claim per petition. ``round`` counts the
    reversals: only the decisions of the current round count towards a two-validator rule.

    Which member is claimed is personal data: the registry, member and territory are sealed
    under the petition's data key (``member_sealed``, see ``verification.member_ref``), so a
    keyless dump cannot say which member signed which petition. ``member_tag`` is a keyed digest
    of (petition, registry, member): equal for claims naming the same member on the petition,
    meaningless without its key; the partial unique constraint on it keeps one validated claim
    per member per petition. Times are kept to the day (``day_start``); ordering uses the pk.

    Evidence (the signer's note and document) is sealed under the petition's data key, like the
    signature's personal data, and deleted ``EVIDENCE_RETENTION_DAYS`` after the decision.

    ``logged_status`` is the status the transparency log's DECISION entries (registry-only
    petitions) leave the claim in, held ones included: every move brings it level with
    ``status`` in the move's transaction (``claim_log_sync``), and a claim where they differ is
    one whose decisions are still to be logged (a snapshot does it: ``claim_decisions_release``).
    Elsewhere the log says nothing of claims, and the two are kept level all the same."""

    signature = models.OneToOneField("signatures.Signature", on_delete=models.CASCADE, related_name="claim")
    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="claims")
    member_sealed = models.BinaryField()
    member_tag = models.BinaryField(max_length=32)
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    logged_status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    method = models.CharField(max_length=16, choices=ClaimMethod.choices, blank=True, default=ClaimMethod.NONE)
    round = models.PositiveIntegerField(default=1)
    on_official_domain = models.BooleanField(
        default=False, help_text="The confirmed address is on the member's or registry's official domain (evidence)."
    )
    counted_as = models.CharField(max_length=16, choices=CountedAs.choices, blank=True, default=CountedAs.NOTHING)
    evidence_note_sealed = models.BinaryField(null=True, blank=True)
    evidence_document_sealed = models.BinaryField(null=True, blank=True)
    evidence_content_type = models.CharField(max_length=40, blank=True)
    evidence_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "member_tag"],
                condition=Q(status="validated"),
                name="claim_one_validated_per_member",
            ),
            models.CheckConstraint(condition=Q(counted_as__in=CountedAs.values), name="claim_counted_as_valid"),
            models.CheckConstraint(condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"),
            models.CheckConstraint(condition=Q(logged_status__in=ClaimStatus.values), name="claim_logged_status_valid"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="claim_decided_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status"], name="claim_by_petition_status"),
            models.Index(fields=["status", "created_at"], name="claim_queue"),
            models.Index(fields=["petition", "member_tag"], name="claim_by_member_tag"),
            models.Index(
                fields=["decided_at"], condition=Q(evidence_deleted_at__isnull=True), name="claim_evidence_due"
            ),
        ]

    def __str__(self) -> str:
        return f"claim #{self.pk} on petition {self.petition_id} ({self.status})"

    @property
    def has_evidence_document(self) -> bool:
        return self.evidence_document_sealed is not None


class DecisionKind(models.TextChoices):
    VALIDATE = "validate", pgettext_lazy("claim decision", "Validate")
    REJECT = "reject", pgettext_lazy("claim decision", "Reject")
    REVERSE = "reverse", _("Reverse the decision")
    # The member confirmed another claim from their official address on record: that one wins.
    OVERRIDE = "override", _("Overridden by the member's official address")


# The one table of a claim's moves: decision → (statuses it may start from, status it ends in).
# ``verification.services`` moves a claim only through it (``_claim_move``).
CLAIM_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    DecisionKind.VALIDATE: (frozenset({ClaimStatus.PENDING}), ClaimStatus.VALIDATED),
    DecisionKind.REJECT: (frozenset({ClaimStatus.PENDING}), ClaimStatus.REJECTED),
    DecisionKind.REVERSE: (frozenset(DECIDED_STATUSES), ClaimStatus.PENDING),
    DecisionKind.OVERRIDE: (frozenset(STANDING_STATUSES), ClaimStatus.REJECTED),
}


class ClaimDecision(models.Model):
    """One validator's decision on a claim, a validation by official e-mail (no actor), or the
    reversal of an earlier outcome. Rows are only ever added: together they are the claim's
    audit trail. ``outcome`` is the claim's status after this row. The note is sealed under the
    petition's data key (``verification.evidence.decision_note_open``); the time is the day."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="decisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_official_email = models.BooleanField(default=False)
    kind = models.CharField(max_length=8, choices=DecisionKind.choices)
    round = models.PositiveIntegerField()
    reason_code = models.CharField(max_length=32, blank=True)
    note_sealed = models.BinaryField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=ClaimStatus.choices)
    created_at = models.DateTimeField(default=day_start, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DecisionKind.values), name="claimdecision_kind_valid"),
            models.CheckConstraint(
                condition=Q(actor__isnull=False) | Q(by_official_email=True), name="claimdecision_has_author"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["reject", "override"]) | ~Q(reason_code=""),
                name="claimdecision_reject_has_reason",
            ),
        ]

    def __str__(self) -> str:
        who = "official e-mail" if self.by_official_email else str(self.actor)
        return f"claim {self.claim_id}: {self.kind} by {who}"


class VerifiedCount(models.Model):
    """The verified figures of one territory on one petition, kept by one service
    (``verification.services.claim_counters_sync``) in the transaction of every change that
    moves a claim between counters. Snapshots read these (``verified_breakdown_collect``),
    never the claims: which member a claim names is sealed. Only claims of confirmed signatures
    count (rejected ones: of signatures that were ever confirmed).

    The territory is kept as a keyed tag (``verification.member_ref.territory_tag``), not as
    its code: in a keyless dump a plain code joined to ``RegistryMember.territory_code`` would
    pair a petition with the one or few members of a small territory."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="verified_counts")
    territory_tag = models.BinaryField(max_length=32)
    validated_named = models.PositiveIntegerField(default=0)
    validated_other = models.PositiveIntegerField(default=0)
    validated_group = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "territory_tag"], name="verifiedcount_unique_territory_tag")
        ]

    def __str__(self) -> str:
        return f"petition {self.petition_id}, territory {bytes(self.territory_tag).hex()[:8]}"


class GroupReveal(models.Model):
    """The moment a petition's safety-in-numbers group was named: the breakdown snapshot (by its
    sequence number) that first named every member together, because at it the group's members
    with a validated claim were at least ``Petition.group_min_named``, from at least
    ``group_min_territories`` territories, while the petition was open. Written in that
    snapshot's transaction (``verification.services.group_snapshot_opening``), never changed;
    the counts are those the condition was met with. No row: the group has not been named, and
    once the petition has closed or been taken down it never will be."""

    petition = models.OneToOneField("petitions.Petition", on_delete=models.CASCADE, related_name="group_reveal")
    snapshot_sequence = models.PositiveIntegerField()
    revealed_at = models.DateTimeField()
    verified_members = models.PositiveIntegerField()
    territories = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(snapshot_sequence__gte=1), name="groupreveal_sequence_positive"),
        ]

    def __str__(self) -> str:
        return f"group of petition {self.petition_id} named at snapshot {self.snapshot_sequence}"
