"""Reads of verification: a petition's policy, member search, the public figures, and the
access check every validator view goes through.

Public figures come from aggregate queries over the petition's claims (index
``claim_by_petition_status``): registries are small, so this touches the claims and their
signatures, never the rest of a large petition's signatures."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from undersign.core.reference import region_names
from undersign.petitions.models import Petition
from undersign.petitions.selectors import k_anonymous
from undersign.signatures.models import Display, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email, signer_name
from undersign.verification.evidence import evidence_document_open, evidence_note_open
from undersign.verification.models import (
    Claim,
    ClaimDecision,
    ClaimStatus,
    PetitionVerification,
    Registry,
    RegistryMember,
    RegistryValidator,
    SigningPolicy,
)

SEARCH_LIMIT = 20
MIN_QUERY = 2
MAX_QUERY = 100

COUNTED = Q(signature__status=SignatureStatus.CONFIRMED)
VERIFIED = Q(status=ClaimStatus.VALIDATED) & COUNTED
PENDING = Q(status=ClaimStatus.PENDING) & COUNTED
# A rejected claim on a registry-only petition invalidates its signature: count it if it was
# ever confirmed, so the public sees how many claims were turned down.
REJECTED = Q(status=ClaimStatus.REJECTED, signature__confirmed_at__isnull=False)


def petition_verification(*, petition: Petition) -> PetitionVerification | None:
    """The petition's signing policy, or None when anyone may sign and nothing is verified.
    No query when the petition was read with ``select_related("verification")``."""
    if Petition.verification.is_cached(petition):
        verification = getattr(petition, "verification", None)
    else:
        verification = PetitionVerification.objects.filter(petition=petition).first()
    if verification is None or verification.policy == SigningPolicy.ANYONE:
        return None
    return verification


def members_search(*, petition: Petition, query: str, limit: int = SEARCH_LIMIT) -> list[RegistryMember]:
    """Active members of the petition's registries whose name holds every word of ``query``.
    Only what the registries publish is searched and returned; an empty or too short query
    finds nothing rather than listing everyone."""
    words = query.split()[:5]
    if len(query.strip()) < MIN_QUERY or len(query) > MAX_QUERY or "\x00" in query:
        return []
    members = RegistryMember.objects.filter(registry__petitions__petition=petition, active=True)
    for word in words:
        members = members.filter(name__icontains=word)
    return list(members.select_related("registry").order_by("name", "pk")[:limit])


def member_for_petition(*, petition: Petition, member_id: int) -> RegistryMember | None:
    """An active member of one of the petition's registries, or None."""
    return (
        RegistryMember.objects.filter(pk=member_id, registry__petitions__petition=petition, active=True)
        .select_related("registry")
        .first()
    )


@dataclass(frozen=True)
class TerritoryFigure:
    code: str
    name: str
    verified: int | None  # None: fewer than K_ANONYMITY
    pending: int | None

    @property
    def fewer_than(self) -> int:
        return settings.K_ANONYMITY


@dataclass(frozen=True)
class VerifiedSigner:
    name: str
    office: str
    district: str
    territory: str


@dataclass(frozen=True)
class Quorum:
    verified_required: int | None
    territories_required: int | None
    verified: int
    territories: int

    @property
    def met(self) -> bool:
        return (self.verified_required is None or self.verified >= self.verified_required) and (
            self.territories_required is None or self.territories >= self.territories_required
        )

    @property
    def percent(self) -> int:
        if not self.verified_required:
            return 100 if self.met else 0
        return min(100, self.verified * 100 // self.verified_required)


@dataclass(frozen=True)
class VerificationSummary:
    policy: str
    policy_label: str
    registries: list[Registry]
    verified: int
    pending: int
    rejected: int
    territories: list[TerritoryFigure]
    quorum: Quorum | None
    signers: list[VerifiedSigner] = field(default_factory=list)


def verification_summary(*, petition: Petition, signers_limit: int = 200) -> VerificationSummary | None:
    """What the public sees of a petition's verified signers: counts, per-territory figures
    with small ones shown as "fewer than k", the named verified signers and the quorum."""
    verification = petition_verification(petition=petition)
    if verification is None:
        return None
    claims = Claim.objects.filter(petition=petition)
    totals = claims.aggregate(
        verified=Count("pk", filter=VERIFIED),
        pending=Count("pk", filter=PENDING),
        rejected=Count("pk", filter=REJECTED),
    )
    rows = list(
        claims.standing()
        .filter(signature__status=SignatureStatus.CONFIRMED)
        .values("member__territory_code")
        .annotate(
            verified=Count("pk", filter=Q(status=ClaimStatus.VALIDATED)),
            pending=Count("pk", filter=Q(status=ClaimStatus.PENDING)),
        )
    )
    names = region_names()
    verified = k_anonymous({row["member__territory_code"]: row["verified"] for row in rows})
    pending = k_anonymous({row["member__territory_code"]: row["pending"] for row in rows})
    territories = sorted(
        (
            TerritoryFigure(code=code, name=names.get(code, code), verified=verified[code], pending=pending[code])
            for code in verified
        ),
        key=lambda t: (-(t.verified or 0), -(t.pending or 0), t.name),
    )
    quorum = None
    if verification.quorum_verified or verification.quorum_territories:
        quorum = Quorum(
            verification.quorum_verified,
            verification.quorum_territories,
            totals["verified"],
            sum(1 for row in rows if row["verified"] > 0),
        )
    signers = [
        VerifiedSigner(
            claim.member.name,
            claim.member.office,
            claim.member.district,
            names.get(t := claim.member.territory_code, t),
        )
        for claim in claims.filter(VERIFIED, signature__display=Display.NAMED)
        .select_related("member")
        .order_by("member__name", "pk")[:signers_limit]
    ]
    return VerificationSummary(
        policy=verification.policy,
        policy_label=SigningPolicy(verification.policy).label,
        registries=list(verification.registries.all()),
        verified=totals["verified"],
        pending=totals["pending"],
        rejected=totals["rejected"],
        territories=territories,
        quorum=quorum,
        signers=signers,
    )


# --- validators -------------------------------------------------------------------------------


def validator_registry_ids(user: User | AnonymousUser) -> list[int]:
    """The registries ``user`` validates: active staff with a role only."""
    if not user.is_authenticated or not user.is_active or not user.is_staff:
        return []
    return list(RegistryValidator.objects.filter(user=user).values_list("registry_id", flat=True))


def claims_queue(*, user: User | AnonymousUser) -> QuerySet[Claim]:
    """Pending claims of confirmed signatures on the registries ``user`` validates, oldest first."""
    return (
        Claim.objects.filter(
            member__registry_id__in=validator_registry_ids(user),
            status=ClaimStatus.PENDING,
            signature__status=SignatureStatus.CONFIRMED,
        )
        .select_related("member__registry", "petition")
        .annotate(votes=Count("decisions", filter=Q(decisions__round=F("round")) & ~Q(decisions__kind="reverse")))
        .order_by("created_at", "pk")
    )


def claims_decided(*, user: User | AnonymousUser, limit: int = 50) -> list[Claim]:
    """The latest decided claims on the validator's registries: where reversals start."""
    return list(
        Claim.objects.decided()
        .filter(member__registry_id__in=validator_registry_ids(user))
        .select_related("member__registry", "petition")
        .order_by("-decided_at", "-pk")[:limit]
    )


def access_claim_by_id(*, user: User | AnonymousUser, claim_id: int) -> Claim:
    """The claim ``claim_id`` for a validator of its registry. Raises ``Http404`` for anyone
    else, for a claim of another registry as for one that does not exist, so that no one can
    probe which claims exist."""
    registries = validator_registry_ids(user)
    if not registries:
        raise Http404("no such claim")
    claim = (
        Claim.objects.filter(pk=claim_id, member__registry_id__in=registries)
        .select_related("member__registry", "petition", "signature")
        .first()
    )
    if claim is None:
        raise Http404("no such claim")
    return claim


@dataclass(frozen=True)
class ClaimEvidence:
    signer_name: str | None
    email_domain: str | None
    note: str | None
    has_document: bool
    deleted: bool


def claim_evidence(*, claim: Claim) -> ClaimEvidence:
    """What a validator weighs: the name the signer typed, the domain (only) of the address
    they confirmed at, their note, and whether a document was given. Decrypted on the fly."""
    signature = claim.signature
    tag = bytes(signature.dedup_tag)
    try:
        name = signer_name(signature)
        email = signer_email(signature)
        note = evidence_note_open(claim, tag)
    except DecryptionError:
        return ClaimEvidence(None, None, None, False, True)
    return ClaimEvidence(
        signer_name=name,
        email_domain=email.rpartition("@")[2].lower(),
        note=note,
        has_document=claim.evidence_document_sealed is not None,
        deleted=claim.evidence_deleted_at is not None,
    )


def claim_document(*, claim: Claim) -> bytes | None:
    """The evidence document, decrypted, or None when there is none (any more)."""
    try:
        return evidence_document_open(claim, bytes(claim.signature.dedup_tag))
    except DecryptionError:
        return None


def claim_decisions(*, claim: Claim) -> list[ClaimDecision]:
    return list(ClaimDecision.objects.filter(claim=claim).select_related("actor").order_by("created_at", "pk"))
