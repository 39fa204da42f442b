"""Reads of verification: a petition's policy, member search, the public figures, and the
access check every validator view goes through.

Public figures come from the counters (``VerifiedCount``), never from joining claims to
members: which member a claim names is sealed. Three steps, so that figures published from a
scheduled snapshot can take the place of the live ones: ``verified_counts_live`` (exact counts
by territory, private) and ``verified_named_signers`` (opening the sealed references of
validated claims whose signer chose to be named) read; ``verified_public_figures`` (pure) turns
counts into what may be published; ``verification_summary`` composes them for the pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from undersign.core.text import fold_name
from undersign.counting.breakdowns import Publish
from undersign.counting.models import BreakdownSnapshot
from undersign.counting.selectors import breakdown_latest
from undersign.petitions.models import REJECTED_STATES, Petition, PetitionState
from undersign.signatures.links import claim_news_valid, group_leave_valid
from undersign.signatures.models import WITHDRAWN, Display, Signature, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email, signer_name
from undersign.signatures.selectors import group_signers
from undersign.signatures.services import InvalidLink, signature_for_unsubscribe
from undersign.transparency.selectors import log_verified_count
from undersign.verification.evidence import decision_note_open, evidence_document_open, evidence_note_open
from undersign.verification.member_ref import MemberRef, claim_members, claim_refs, territory_codes_by_tag
from undersign.verification.models import (
    Claim,
    ClaimDecision,
    ClaimStatus,
    CountedAs,
    GroupReveal,
    PetitionVerification,
    Registry,
    RegistryMember,
    RegistryValidator,
    SigningPolicy,
    VerifiedCount,
)
from undersign.verification.territories import registries_territory_names

SEARCH_LIMIT = 20
MIN_QUERY = 2
MAX_QUERY = 100


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
    """Active members of the petition's registries whose name holds every word of ``query``,
    each anywhere in the name (a first name finds its bearer), folded alike (``fold_name``:
    `семёнова` and `Семенова` find `Семёнова`). Only what the registries publish is searched
    and returned; an empty or too short query finds nothing rather than listing everyone."""
    words = [fold_name(word) for word in query.split()[:5]]
    if len(query.strip()) < MIN_QUERY or len(query) > MAX_QUERY or "\x00" in query:
        return []
    members = RegistryMember.objects.filter(registry__petitions__petition=petition, active=True)
    for word in words:
        members = members.filter(name_folded__contains=word)
    return list(members.select_related("registry").order_by("name", "pk")[:limit])


def petition_territory_names(*, petition: Petition) -> dict[str, str]:
    """Code → name, in the page's language, of the territories of the petition's registries
    (and the site's regions): what the pages show in place of a member's territory code."""
    return registries_territory_names(Registry.objects.filter(petitions__petition=petition))


def member_for_petition(*, petition: Petition, member_id: int) -> RegistryMember | None:
    """An active member of one of the petition's registries, or None."""
    return (
        RegistryMember.objects.filter(pk=member_id, registry__petitions__petition=petition, active=True)
        .select_related("registry")
        .first()
    )


# --- the public figures --------------------------------------------------------------------------


def claim_counted_as(status: str, signature: Signature) -> str:
    """The public counter a claim in ``status`` on ``signature`` belongs in. Only confirmed
    signatures count, and nothing of a withdrawn one; a rejected claim on a registry-only
    petition invalidates its signature, so it counts as rejected if its signature was ever
    confirmed (the public sees how many claims were turned down)."""
    if signature.is_withdrawn:
        return CountedAs.NOTHING  # its signer took it back: out of every figure, the rejected too
    if status == ClaimStatus.REJECTED:
        return CountedAs.REJECTED if signature.confirmed_at is not None else CountedAs.NOTHING
    if signature.status != SignatureStatus.CONFIRMED:
        return CountedAs.NOTHING
    if status == ClaimStatus.PENDING:
        return CountedAs.PENDING
    if signature.display == Display.NAMED:
        return CountedAs.VALIDATED_NAMED
    return CountedAs.VALIDATED_GROUP if signature.display == Display.GROUP else CountedAs.VALIDATED_OTHER


@dataclass(frozen=True)
class TerritoryCounts:
    """Exact counts of one territory: private (suppression comes after)."""

    validated_named: int = 0
    validated_other: int = 0
    pending: int = 0
    rejected: int = 0
    validated_group: int = 0  # members of the safety-in-numbers group

    @property
    def validated(self) -> int:
        return self.validated_named + self.validated_other + self.validated_group

    def shown(self, *, group_named: bool) -> tuple[int, int]:
        """(named, others) as published: the group's members count as named once the group is
        named, and among the others, who are not, until then."""
        if group_named:
            return self.validated_named + self.validated_group, self.validated_other
        return self.validated_named, self.validated_other + self.validated_group


# Where the counters hold a territory no member of the petition's registries has any more (an
# import moved every member of it): counted, under this code.
FORMER_TERRITORY = ""


def verified_counts_live(*, petition: Petition) -> dict[str, TerritoryCounts]:
    """The petition's exact verified counts by territory code, from the counters, whose keyed
    territory tags are mapped back through the codes of the petition's registries (two
    queries)."""
    codes = territory_codes_by_tag(
        petition_uuid=petition.uuid,
        registry_ids=Registry.objects.filter(petitions__petition=petition).values("pk"),
    )
    sums: dict[str, TerritoryCounts] = {}
    for row in VerifiedCount.objects.filter(petition=petition):
        code = codes.get(bytes(row.territory_tag), FORMER_TERRITORY)
        before = sums.get(code, TerritoryCounts())
        sums[code] = TerritoryCounts(
            before.validated_named + row.validated_named,
            before.validated_other + row.validated_other,
            before.pending + row.pending,
            before.rejected + row.rejected,
            before.validated_group + row.validated_group,
        )
    return sums


def verified_counts_recount(*, petition_id: int) -> tuple[dict[str, TerritoryCounts], dict[int, str]]:
    """The counts recomputed from the claims themselves, opening each sealed member reference
    (for ``verification.services.verified_counts_reconcile``), and each claim's counter."""
    claims = list(Claim.objects.filter(petition_id=petition_id).select_related("signature"))
    refs = claim_refs(claims)
    sums: dict[str, dict[str, int]] = {}
    counted: dict[int, str] = {}
    for claim in claims:
        counted_as = claim_counted_as(claim.status, claim.signature)
        counted[claim.pk] = counted_as
        if counted_as and claim.pk in refs:
            cell = sums.setdefault(refs[claim.pk].territory_code, {})
            cell[counted_as] = cell.get(counted_as, 0) + 1
    return {territory: TerritoryCounts(**cell) for territory, cell in sums.items()}, counted


@dataclass(frozen=True)
class VerifiedSigner:
    name: str
    office: str
    district: str
    territory: str


def _verified_claims_shown(petition: Petition, display: str) -> QuerySet[Claim]:
    """Validated claims of confirmed signatures whose signer chose ``display``."""
    return Claim.objects.filter(
        petition=petition,
        status=ClaimStatus.VALIDATED,
        signature__status=SignatureStatus.CONFIRMED,
        signature__display=display,
    )


def _named_verified_claims(petition: Petition) -> QuerySet[Claim]:
    """Validated claims of confirmed signatures whose signer chose to be named: public by choice."""
    return _verified_claims_shown(petition, Display.NAMED)


def verified_named_signers(
    *, petition: Petition, limit: int = 200, claim_ids: list[int] | None = None
) -> list[VerifiedSigner]:
    """Validated claims of confirmed signatures whose signer chose to be named (of
    ``claim_ids`` only, when given: those a snapshot listed), with the member's public registry
    data, found by opening the sealed references (on page render: the pages are cached) —
    never through a join of claims to members. None once the petition's personal data was
    destroyed: which member a claim named died with the key."""
    if petition.personal_data_destroyed:
        return []
    claims = _named_verified_claims(petition)
    if claim_ids is not None:
        claims = claims.filter(pk__in=claim_ids)
    names = petition_territory_names(petition=petition)
    members = sorted(
        claim_members(claims.select_related("signature").order_by("pk")).values(), key=lambda m: (m.name, m.pk)
    )
    return [
        VerifiedSigner(m.name, m.office, m.district, names.get(m.territory_code, m.territory_code))
        for m in members[:limit]
    ]


@dataclass(frozen=True)
class TerritoryFigure:
    """One territory as published: the named verified signers (public by their choice), the
    other verified ones and those awaiting validation, each None when suppressed."""

    code: str
    name: str
    named: int
    others: int | None  # None: fewer than K_ANONYMITY (or hidden so that no one is singled out)
    pending: int | None

    @property
    def fewer_than(self) -> int:
        return settings.K_ANONYMITY


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
class VerifiedFigures:
    """What may be published of a set of counts (``verified_public_figures``)."""

    verified: int
    pending: int
    rejected: int
    territories: list[TerritoryFigure]
    territories_with_verified: int


def suppressed(counts: Mapping[str, int], k: int) -> dict[str, int | None]:
    """Figures by key, those below ``k`` hidden (None), zeros included (a zero that turns into
    "fewer than k" would tell a watcher that someone arrived). If the hidden figures together
    hold fewer than ``k`` (but some), the smallest shown ones are hidden too until they hold at
    least ``k``: otherwise the total minus the shown figures would give a small group away."""
    hidden = {key for key, count in counts.items() if count < k}
    shown = sorted((count, key) for key, count in counts.items() if key not in hidden)
    while shown and 0 < sum(counts[key] for key in hidden) < k:
        hidden.add(shown.pop(0)[1])
    return {key: None if key in hidden else count for key, count in counts.items()}


def verified_public_figures(
    counts: Mapping[str, TerritoryCounts],
    *,
    k: int,
    names: Mapping[str, str] | None = None,
    group_named: bool = False,
) -> VerifiedFigures:
    """Pure: exact counts by territory in, publishable figures out. Totals are exact; per
    territory "N named + R others", N exact (the signers chose to be named; the group's members
    once ``group_named``), R and the pending figure exact only at ``k`` or more
    (``suppressed``)."""
    names = names or {}
    shown = {code: c.shown(group_named=group_named) for code, c in counts.items()}
    others = suppressed({code: pair[1] for code, pair in shown.items()}, k)
    pending = suppressed({code: c.pending for code, c in counts.items()}, k)
    territories = sorted(
        (
            TerritoryFigure(
                code=code,
                name=names.get(code, code),
                named=shown[code][0],
                others=others[code],
                pending=pending[code],
            )
            for code, c in counts.items()
            if c.validated or c.pending or c.rejected
        ),
        key=lambda t: (-t.named, -(t.others or 0), -(t.pending or 0), t.name),
    )
    return VerifiedFigures(
        verified=sum(c.validated for c in counts.values()),
        pending=sum(c.pending for c in counts.values()),
        rejected=sum(c.rejected for c in counts.values()),
        territories=territories,
        territories_with_verified=sum(1 for c in counts.values() if c.validated > 0),
    )


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
    # On a registry-only petition: the petition's count (live), so the headline says what it
    # counts.
    signature_count: int | None = None
    # The petition's count when the figures were taken (the snapshot's, or live for staff):
    # ``unclaimed`` is computed from it, so that it moves with the figures, not between them.
    signature_count_at_figures: int | None = None
    # When the figures were published (their snapshot); None for live figures, or before the
    # petition's first snapshot (``published``).
    figures_as_of: datetime | None = None
    # False on public pages until a snapshot published the verified figures: then every figure
    # above is 0 and the pages say they come with the next update.
    published: bool = True
    # The safety-in-numbers group: its thresholds, progress and, once named, its members.
    group: GroupSummary | None = None
    # On a registry-only petition's public pages, ``verified`` is the verified-count rule over
    # the log's first ``verified_log_size`` entries (whose root is ``verified_log_root``), which
    # anyone recomputes; the snapshot's own total is ``verified_at_figures``.
    verified_log_size: int | None = None
    verified_log_root: bytes | None = None
    verified_at_figures: int | None = None

    @property
    def registry_only(self) -> bool:
        return self.policy == SigningPolicy.REGISTRY_ONLY

    @property
    def unclaimed(self) -> int | None:
        if self.signature_count_at_figures is None or not self.published:
            return None
        verified = self.verified if self.verified_at_figures is None else self.verified_at_figures
        return max(0, self.signature_count_at_figures - verified - self.pending)


# The name of verification's part of every breakdown snapshot (``counting``).
BREAKDOWN_PART = "verification"
# The name under which the decisions logged with each snapshot are released (``counting``).
DECISIONS_PART = "decisions"


def verified_breakdown_collect(petition: Petition, publish: Publish) -> dict[str, Any]:
    """Verification's part of a breakdown snapshot, taken in the snapshot's transaction: every
    verified figure the public sees, so that none moves between snapshots.

    - ``totals``: verified, pending and rejected, exact, and the petition's count at the same
      moment (for "unclaimed"). Not live: a validation by official e-mail happens inside the
      signer's confirmation, so a live "verified +1" just after a deputy's official mailbox got
      a mail would tell that mailbox's admin which petition the deputy signed.
    - ``territories``: per territory of the petition's registries — every one, so that no row
      appears with its first claim — the named verified signers (exact: public by their
      choice), the other verified ones (R) and those awaiting validation, both by the
      snapshot's noisy rule (``publish``). R is deliberately not "exact at k or more"
      (``suppressed``), though the issue's item 5 asked for that: an exact R shows +1 for one
      validation of a counted-only member whose confirmation time an observer knew, naming the
      member's territory once R is at k; item 4 (never weaken the observer test) wins.
    - ``territories_with_verified``: exact, because the quorum needs it. It reveals when a
      territory gets its first verified signer (or loses its last) between two snapshots, so a
      snapshot in which it moves by one while one validation is known to have happened says
      the validated member is from a territory that had none; the named list and named counts
      already show most of that.
    - ``named_claims``: the claims of the named verified signers, whom the pages list until the
      next snapshot. No name is copied here: the list opens the sealed references when shown.

    Verified members of the safety-in-numbers group are among the "others" until a snapshot
    names the group (``GroupReveal``), among the named from that snapshot on; they are listed
    with their group (``group_breakdown_collect``), not here."""
    verification = petition_verification(petition=petition)
    if verification is None:
        return {}
    counts = dict.fromkeys(
        RegistryMember.objects.filter(registry__in=verification.registries.all(), active=True)
        .values_list("territory_code", flat=True)
        .distinct()
        .order_by(),
        TerritoryCounts(),
    )
    counts.update(verified_counts_live(petition=petition))
    # Read in the snapshot's transaction, after the group opener: the snapshot that names the
    # group moves its members from "others" to "named".
    group_named = group_reveal(petition=petition) is not None
    shown = {code: c.shown(group_named=group_named) for code, c in counts.items()}
    others = publish({f"others/{code}": shown[code][1] for code in counts})
    pending = publish({code: c.pending for code, c in counts.items()})
    named = _named_verified_claims(petition)
    signature_count = Petition.objects.values_list("signature_count", flat=True).get(pk=petition.pk)
    return {
        "totals": {
            "verified": sum(c.validated for c in counts.values()),
            "pending": sum(c.pending for c in counts.values()),
            "rejected": sum(c.rejected for c in counts.values()),
            "signature_count": signature_count,
        },
        "territories": {
            code: {"named": shown[code][0], "others": others[f"others/{code}"], "pending": pending[code]}
            for code, c in counts.items()
        },
        "territories_with_verified": sum(1 for c in counts.values() if c.validated),
        "named_claims": sorted(named.values_list("pk", flat=True)),
    }


def _published_territories(part: Mapping[str, Any], names: Mapping[str, str]) -> list[TerritoryFigure]:
    figures = [
        TerritoryFigure(
            code=code,
            name=names.get(code, code) or "Other territories",
            named=cell["named"],
            others=cell["others"],
            pending=cell["pending"],
        )
        for code, cell in part.get("territories", {}).items()
    ]
    return sorted(figures, key=lambda t: (-t.named, -(t.others or 0), -(t.pending or 0), t.name))


def _quorum(verification: PetitionVerification, verified: int, territories: int) -> Quorum | None:
    if not (verification.quorum_verified or verification.quorum_territories):
        return None
    return Quorum(verification.quorum_verified, verification.quorum_territories, verified, territories)


def verification_summary(
    *, petition: Petition, signers_limit: int = 200, published: bool = True
) -> VerificationSummary | None:
    """What the public sees of a petition's verified signers, every figure as the latest
    breakdown snapshot published it (``verified_breakdown_collect``): the totals, the figures
    per territory ("N named + R others", small or noisy ones as "fewer than k"), the quorum and
    the named verified signers. Before the first snapshot with them, the figures are 0 and
    ``published`` is False. Only validated claims are verified and count toward the quorum.
    ``published=False`` (staff pages) gives the live figures instead.

    On a registry-only petition the verified count (and the quorum's) is the log's: the
    verified-count rule over the entries its signature count was counted at, recomputed by
    ``undersign-verify``. Its decisions enter the log with each snapshot, so it moves with the
    snapshots and, like the signature count, when a verified signature stops counting."""
    verification = petition_verification(petition=petition)
    if verification is None:
        return None
    registries = list(verification.registries.all())
    names = registries_territory_names(registries)
    registry_only = verification.policy == SigningPolicy.REGISTRY_ONLY
    common: dict[str, Any] = {
        "policy": verification.policy,
        "policy_label": str(SigningPolicy(verification.policy).label),
        "registries": registries,
        "signature_count": petition.signature_count if registry_only else None,
    }
    # A petition that offers no group shows none (``petition_offers_group``: the policy is set).
    offers_group = petition.group_min_named > 0
    if not published:
        figures = verified_public_figures(
            verified_counts_live(petition=petition),
            k=settings.K_ANONYMITY,
            names=names,
            group_named=group_reveal(petition=petition) is not None,
        )
        return VerificationSummary(
            **common,
            group=_group_summary_live(petition) if offers_group else None,
            verified=figures.verified,
            pending=figures.pending,
            rejected=figures.rejected,
            territories=figures.territories,
            quorum=_quorum(verification, figures.verified, figures.territories_with_verified),
            signers=verified_named_signers(petition=petition, limit=signers_limit),
            signature_count_at_figures=petition.signature_count if registry_only else None,
        )
    logged: int | None = None
    if registry_only:
        # Read afresh: the count must be the rule at the size it names, whatever copy of the
        # petition the caller holds.
        size, root = Petition.objects.values_list("counted_at_size", "counted_at_root").get(pk=petition.pk)
        logged = log_verified_count(petition_id=petition.pk, size=size)
        common["verified_log_size"], common["verified_log_root"] = size, root
    snapshot = breakdown_latest(petition_id=petition.pk)
    common["group"] = _group_summary_published(petition, snapshot) if offers_group else None
    part = snapshot.parts.get(BREAKDOWN_PART, {}) if snapshot is not None else {}
    totals = part.get("totals")
    if snapshot is None or totals is None:  # none yet, or taken before the totals were in it
        return VerificationSummary(
            **common,
            verified=logged or 0,
            pending=0,
            rejected=0,
            territories=[],
            quorum=_quorum(verification, logged or 0, 0),
            published=False,
        )
    verified = totals["verified"] if logged is None else logged
    return VerificationSummary(
        **common,
        verified=verified,
        pending=totals["pending"],
        rejected=totals["rejected"],
        territories=_published_territories(part, names),
        quorum=_quorum(verification, verified, part.get("territories_with_verified", 0)),
        signers=verified_named_signers(petition=petition, limit=signers_limit, claim_ids=part.get("named_claims", [])),
        signature_count_at_figures=totals["signature_count"] if registry_only else None,
        figures_as_of=snapshot.taken_at,
        verified_at_figures=totals["verified"] if registry_only else None,
    )


# --- safety in numbers: the group ---------------------------------------------------------------
# Signers who chose ``Display.GROUP`` are counted but shown nowhere until a breakdown snapshot
# finds, while the petition is open, at least ``group_min_named`` of them with a validated claim,
# from at least ``group_min_territories`` territories; that snapshot and every later one names
# them all together (``verification.services.group_snapshot_opening`` records the reveal).

# The name of the group's part of every breakdown snapshot (``counting``).
GROUP_PART = "group"


def petition_offers_group(petition: Petition) -> bool:
    """Whether ``petition``'s signers may choose to be named only with its group: where claims
    can be verified, that is where it takes registry claims, unless its registries were too
    small for any group when it was created (``petitions.services.NO_GROUP``)."""
    return petition.group_min_named > 0 and petition_verification(petition=petition) is not None


def petition_group_named(petition: Petition) -> bool:
    """Whether the petition's group has been named (a snapshot recorded its reveal)."""
    return GroupReveal.objects.filter(petition_id=petition.pk).exists()


def group_may_be_named(petition: Petition, now: datetime) -> bool:
    """A group is named only while its petition collects signatures: once it has closed (or
    been taken down) before its condition held at a snapshot, it never is."""
    if petition.state != PetitionState.OPEN:
        return False
    return petition.closing_date is None or now < petition.closing_date


def group_chance_over(petition: Petition, now: datetime) -> bool:
    """Whether the petition has stopped collecting signatures (closed, rejected, taken down, or
    past its closing date): a group not named by then never is."""
    if petition.state == PetitionState.OPEN:
        return not group_may_be_named(petition, now)
    return petition.state in (PetitionState.CLOSED, *REJECTED_STATES)


@dataclass(frozen=True)
class GroupCounts:
    """The group's members with a validated claim of a confirmed signature, and the distinct
    territories they come from: exact, private (the condition is decided on these)."""

    verified: int
    territories: int

    def condition_met(self, petition: Petition) -> bool:
        return self.verified >= petition.group_min_named and self.territories >= petition.group_min_territories


def group_counts_live(*, petition_id: int) -> GroupCounts:
    """From the public counters (``VerifiedCount.validated_group``, one row per territory tag):
    only validated claims are in them, so claims awaiting validation (anyone can file one)
    never bring the group closer to being named."""
    rows = list(
        VerifiedCount.objects.filter(petition_id=petition_id, validated_group__gt=0).values_list(
            "validated_group", flat=True
        )
    )
    return GroupCounts(verified=sum(rows), territories=len(rows))


def group_reveal(*, petition: Petition) -> GroupReveal | None:
    """The row of the snapshot that named the petition's group, or None (not named yet; never,
    once the petition has closed)."""
    return GroupReveal.objects.filter(petition_id=petition.pk).first()


def group_reveals_waiting() -> list[int]:
    """Open petitions whose group is not named yet though its condition holds on the counters:
    a validation moves no log, so ``counting`` is asked for their next snapshot anyway (a
    snapshot trigger), which decides and names them."""
    rows = (
        VerifiedCount.objects.filter(
            Q(petition__closing_date__isnull=True) | Q(petition__closing_date__gt=timezone.now()),
            validated_group__gt=0,
            petition__state=PetitionState.OPEN,
            petition__group_min_named__gt=0,
            petition__group_reveal__isnull=True,
        )
        .values("petition_id", "petition__group_min_named", "petition__group_min_territories")
        .annotate(verified=Sum("validated_group"), territories=Count("pk"))
        .order_by()
    )
    return [
        row["petition_id"]
        for row in rows
        if row["verified"] >= row["petition__group_min_named"]
        and row["territories"] >= row["petition__group_min_territories"]
    ]


def _group_member_claims(petition: Petition) -> QuerySet[Claim]:
    """Validated claims of confirmed signatures whose signer chose to be named with the group."""
    return _verified_claims_shown(petition, Display.GROUP)


def group_breakdown_collect(petition: Petition, publish: Publish) -> dict[str, Any]:
    """The group's part of a breakdown snapshot, in its transaction (after the opener, which
    has recorded the reveal if this snapshot names the group). Nothing on a petition that
    offers no group.

    - ``verified``: the members with a validated claim, by the snapshot's noisy rule (a
      multiple of k, or None below a threshold of k or more): one validation must not show.
    - ``territories``: how many territories they come from, at most the number required, and
      only when ``verified`` is shown: below it, each step would be one member's.
    - ``named``: whether the group has been named (at this snapshot or an earlier one); then
      ``member_claims``, the validated claims among its members, whom the pages list with
      their registry entry until the next snapshot (the others by the name they gave). No name
      is copied here."""
    if not petition_offers_group(petition):
        return {}
    counts = group_counts_live(petition_id=petition.pk)
    verified = publish({"verified": counts.verified})["verified"]
    part: dict[str, Any] = {
        "verified": verified,
        "territories": None if verified is None else min(counts.territories, petition.group_min_territories),
        "named": group_reveal(petition=petition) is not None,
    }
    if part["named"]:
        part["member_claims"] = sorted(_group_member_claims(petition).values_list("pk", flat=True))
    return part


def signature_by_group_link(*, token: str, check: str) -> Signature | None:
    """The signature a leave link names (its unsubscribe token, with the group's own keyed
    check), or None: a link with a wrong check names none, whatever its token."""
    if not group_leave_valid(token=token, check=check):
        return None
    try:
        return signature_for_unsubscribe(token=token)
    except InvalidLink:
        return None


def claim_by_news_link(*, token: str, check: str) -> Claim | None:
    """The claim whose outcome the "news about your signature" mail links to (the unsubscribe
    token with the claim news' own keyed check), with its petition; None for a wrong check, a
    signature without a claim, or one withdrawn (its signer gets no more news of it)."""
    if not claim_news_valid(token=token, check=check):
        return None
    try:
        signature = signature_for_unsubscribe(token=token)
    except InvalidLink:
        return None
    return (
        Claim.objects.select_related("petition")
        .filter(signature_id=signature.pk)
        .exclude(signature__invalidation_reason=WITHDRAWN)
        .first()
    )


def claim_rejection_code(*, claim: Claim) -> str:
    """The reason code of the decision that rejected ``claim`` in its current round ("" if none)."""
    decision = (
        ClaimDecision.objects.filter(claim=claim, round=claim.round, outcome=ClaimStatus.REJECTED)
        .order_by("-created_at", "-id")
        .first()
    )
    return decision.reason_code if decision is not None else ""


def group_named_with(*, signature: Signature | None) -> bool:
    """Whether ``signature`` is a member of a group that has been named (so it can no longer
    leave it)."""
    if signature is None:
        return False
    member = Signature.objects.filter(pk=signature.pk, display=Display.GROUP).exists()
    return member and GroupReveal.objects.filter(petition_id=signature.petition_id).exists()


@dataclass(frozen=True)
class GroupMember:
    """One member of a named group, as listed: a verified one with their registry entry, any
    other by the name they gave (unverified) and their region."""

    name: str
    verified: bool
    office: str = ""
    district: str = ""
    place: str = ""  # the territory of a verified member, the region of another


@dataclass(frozen=True)
class GroupSummary:
    min_named: int
    min_territories: int
    verified: int | None  # members with a validated claim: a multiple of k, or None (fewer)
    territories: int | None  # None: not shown (too few verified members to tell)
    named_at: datetime | None  # when the group was named (its snapshot), or None
    ended: bool  # the petition no longer collects signatures: a group not named by then never is
    members: list[GroupMember] = field(default_factory=list)
    published: bool = True  # False before a snapshot published the group's figures
    rounded: bool = True  # ``verified`` by the snapshot's noisy rule (False: staff's live figure)

    @property
    def never_named(self) -> bool:
        return self.named_at is None and self.ended

    @property
    def fewer_than(self) -> int:
        return settings.K_ANONYMITY


def group_members_named(*, petition: Petition, part: Mapping[str, Any], log_size: int) -> list[GroupMember]:
    """The members of a named group as a snapshot lists them, sorted by name: the verified ones
    (its ``member_claims`` still validated) with their registry entry, opened from the sealed
    references, and every other member whose signature was in the log at the snapshot by the
    name they gave. Empty once the petition's personal data was destroyed (nothing is even
    tried, as for every other list of names)."""
    if petition.personal_data_destroyed:
        return []
    claim_ids = part.get("member_claims", [])
    names = petition_territory_names(petition=petition)
    claims = _group_member_claims(petition).filter(pk__in=claim_ids).select_related("signature")
    members = [
        GroupMember(m.name, True, m.office, m.district, names.get(m.territory_code, m.territory_code))
        for m in claim_members(claims).values()
    ]
    listed_as_verified = Claim.objects.filter(pk__in=claim_ids).values_list("signature_id", flat=True)
    members += [
        GroupMember(signer.shown_name, False, place=signer.region_name)
        for signer in group_signers(petition=petition, appended_before=log_size, excluding=set(listed_as_verified))
    ]
    return sorted(members, key=lambda m: (m.name.casefold(), m.place))


def _group_summary_live(petition: Petition) -> GroupSummary:
    """For staff: the live counts (fewer than k shown as such), and the members if named."""
    counts = group_counts_live(petition_id=petition.pk)
    reveal = group_reveal(petition=petition)
    return GroupSummary(
        min_named=petition.group_min_named,
        min_territories=petition.group_min_territories,
        verified=counts.verified if counts.verified >= settings.K_ANONYMITY else None,
        territories=counts.territories,
        named_at=reveal.revealed_at if reveal else None,
        ended=group_chance_over(petition, timezone.now()),
        rounded=False,
    )


def _group_summary_published(petition: Petition, snapshot: BreakdownSnapshot | None) -> GroupSummary:
    part = snapshot.parts.get(GROUP_PART) if snapshot is not None else None
    reveal = group_reveal(petition=petition) if part and part.get("named") else None
    return GroupSummary(
        min_named=petition.group_min_named,
        min_territories=petition.group_min_territories,
        verified=part.get("verified") if part else None,
        territories=part.get("territories") if part else None,
        named_at=reveal.revealed_at if reveal else None,
        ended=group_chance_over(petition, timezone.now()),
        members=group_members_named(petition=petition, part=part, log_size=snapshot.log_size)
        if reveal is not None and snapshot is not None and part
        else [],
        published=bool(part),
    )


# --- validators -------------------------------------------------------------------------------


def validator_registry_ids(user: User | AnonymousUser) -> list[int]:
    """The registries ``user`` validates: active staff with a role only."""
    if not user.is_authenticated or not user.is_active or not user.is_staff:
        return []
    return list(RegistryValidator.objects.filter(user=user).values_list("registry_id", flat=True))


@dataclass(frozen=True)
class QueueItem:
    """A claim as the queue lists it: no member's name (the claim's page shows it, and records
    that it was seen), only its registry, how many claims name the same member, the votes."""

    claim: Claim
    registry: Registry
    same_member: int
    votes: int


def _claims_of_registries(claims: list[Claim], registry_ids: list[int]) -> list[tuple[Claim, MemberRef]]:
    refs = claim_refs(claims)
    return [
        (claim, refs[claim.pk]) for claim in claims if claim.pk in refs and refs[claim.pk].registry_id in registry_ids
    ]


def claims_queue(*, user: User | AnonymousUser, limit: int = 200) -> list[QueueItem]:
    """Pending claims of confirmed signatures naming members of the registries ``user``
    validates, oldest first. Which registry a claim is on is sealed, so the candidates are the
    pending claims on petitions open to those registries, and their references are opened here."""
    registry_ids = validator_registry_ids(user)
    if not registry_ids:
        return []
    candidates = list(
        Claim.objects.filter(
            petition__verification__registries__in=registry_ids,
            petition__personal_data_destroyed_at__isnull=True,  # nothing left to decide on
            status=ClaimStatus.PENDING,
            signature__status=SignatureStatus.CONFIRMED,
        )
        .distinct()
        .select_related("signature", "petition")
        .order_by("created_at", "pk")
    )
    mine = _claims_of_registries(candidates, registry_ids)[:limit]
    registries = Registry.objects.in_bulk({ref.registry_id for _, ref in mine})
    same: dict[tuple[int, bytes], int] = {}
    for claim, _ in mine:
        key = (claim.petition_id, bytes(claim.member_tag))
        same[key] = same.get(key, 0) + 1
    votes = _current_votes([claim for claim, _ in mine])
    return [
        QueueItem(
            claim=claim,
            registry=registries[ref.registry_id],
            same_member=same[(claim.petition_id, bytes(claim.member_tag))],
            votes=votes.get(claim.pk, 0),
        )
        for claim, ref in mine
    ]


def _current_votes(claims: list[Claim]) -> dict[int, int]:
    rounds = {claim.pk: claim.round for claim in claims}
    votes: dict[int, int] = {}
    for claim_id, round_, kind in ClaimDecision.objects.filter(
        claim_id__in=list(rounds), actor__isnull=False
    ).values_list("claim_id", "round", "kind"):
        if round_ == rounds[claim_id] and kind != "reverse":
            votes[claim_id] = votes.get(claim_id, 0) + 1
    return votes


def claims_decided(*, user: User | AnonymousUser, limit: int = 50) -> list[Claim]:
    """The claims ``user`` decided (voted on, or reversed), latest first, on registries they
    still validate: where reversals start. Not every decided claim of the registry. Claims of
    petitions whose personal data was destroyed stay listed (their record, without anyone's
    data) if the petition was open to one of those registries."""
    registry_ids = validator_registry_ids(user)
    if not registry_ids or not isinstance(user, User):
        return []
    claims = list(
        Claim.objects.filter(decisions__actor=user)
        .distinct()
        .select_related("signature", "petition")
        .order_by("-decided_at", "-pk")
    )
    readable = [claim for claim in claims if not claim.petition.personal_data_destroyed]
    keep = {claim.pk for claim, _ in _claims_of_registries(readable, registry_ids)}
    keep |= _destroyed_claims_decided_by(user, [claim.pk for claim in claims], registry_ids)
    return [claim for claim in claims if claim.pk in keep][:limit]


def _destroyed_claims_decided_by(user: User, claim_ids: list[int], registry_ids: list[int]) -> set[int]:
    """Those of ``claim_ids`` on petitions whose personal data was destroyed that ``user``
    decided, on petitions open to ``registry_ids``. Which registry such a claim named died
    with the key: the petition's registries are the closest check that is left."""
    return set(
        Claim.objects.filter(
            pk__in=claim_ids,
            petition__personal_data_destroyed_at__isnull=False,
            petition__verification__registries__in=registry_ids,
            decisions__actor=user,
        ).values_list("pk", flat=True)
    )


def access_claim_by_id(*, user: User | AnonymousUser, claim_id: int) -> Claim:
    """The claim ``claim_id`` for a validator of its registry, if it awaits their decision (a
    pending claim of a confirmed signature) or they took a decision on it. Not because it names
    the same member as such a claim: a validator could file a throw-away claim "as Deputy X"
    and so open, read and reverse every claim naming X. Other claims naming the member show on
    a claim's page only as summary rows (``claims_naming_same_member``). Raises ``Http404`` for
    anyone else, for any other claim as for one that does not exist, so that no one can probe
    which claims exist."""
    registry_ids = validator_registry_ids(user)
    if not registry_ids or not isinstance(user, User):
        raise Http404("no such claim")
    claim = Claim.objects.filter(pk=claim_id).select_related("signature", "petition").first()
    if claim is None:
        raise Http404("no such claim")
    if claim.petition.personal_data_destroyed:
        # Nothing of it can be read or decided any more: its record, for whoever decided it.
        if not _destroyed_claims_decided_by(user, [claim.pk], registry_ids):
            raise Http404("no such claim")
        return claim
    if not _claims_of_registries([claim], registry_ids):
        raise Http404("no such claim")
    if not _awaits_or_decided_by(user, Claim.objects.filter(pk=claim.pk)):
        raise Http404("no such claim")
    return claim


def _awaits_or_decided_by(user: User, claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Those of ``claims`` (all on ``user``'s registries) ``user`` may open."""
    return claims.filter(
        Q(status=ClaimStatus.PENDING, signature__status=SignatureStatus.CONFIRMED) | Q(decisions__actor=user)
    ).distinct()


def claim_member(*, claim: Claim) -> RegistryMember | None:
    """The member ``claim`` names (None once the petition's key is gone). The caller records
    the staff access (``core.audit.staff_access_record``)."""
    return claim_members([claim]).get(claim.pk)


@dataclass(frozen=True)
class SameMemberRow:
    """Another claim naming the same member, as a claim's page lists it: its status, day and
    official-domain flag only, nothing decrypted; a link only if ``user`` may open it."""

    claim: Claim
    openable: bool


def claims_naming_same_member(*, claim: Claim, user: User) -> list[SameMemberRow]:
    """The other claims on the petition naming the same member (found by the member tag), for
    the validator to weigh side by side. Precondition: ``claim`` passed ``access_claim_by_id``
    for ``user`` (so the others are on the same registry)."""
    others = list(
        Claim.objects.filter(petition_id=claim.petition_id, member_tag=claim.member_tag)
        .exclude(pk=claim.pk)
        .select_related("signature")
        .order_by("pk")
    )
    openable = set(
        _awaits_or_decided_by(user, Claim.objects.filter(pk__in=[other.pk for other in others])).values_list(
            "pk", flat=True
        )
    )
    return [SameMemberRow(other, other.pk in openable) for other in others]


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


@dataclass(frozen=True)
class DecisionRow:
    decision: ClaimDecision
    note: str


def claim_decisions(*, claim: Claim) -> list[DecisionRow]:
    """The claim's decisions, oldest first, their notes decrypted (for its validators)."""
    tag = bytes(claim.signature.dedup_tag)
    rows = []
    for decision in ClaimDecision.objects.filter(claim=claim).select_related("actor").order_by("created_at", "pk"):
        try:
            note = decision_note_open(decision, tag)
        except DecryptionError:
            note = ""
        rows.append(DecisionRow(decision, note))
    return rows


@dataclass(frozen=True)
class OwnClaim:
    """A signer's claim, for their own data page: the registry, the office and the status,
    never the evidence (a validator's business, and deleted on schedule)."""

    registry: str | None  # None: its sealed reference is erased or its key destroyed
    office: str | None
    status: str


def signer_own_claim(*, signature: Signature) -> OwnClaim | None:
    """The claim of ``signature``, opened for its signer; None if it made none."""
    claim = Claim.objects.select_related("signature").filter(signature=signature).first()
    if claim is None:
        return None
    member = claim_members([claim]).get(claim.pk)
    return OwnClaim(
        registry=member.registry.name if member else None,
        office=member.office if member else None,
        status=claim.get_status_display(),
    )
