"""Writes of verification: importing registries, setting a petition's signing policy, claims
made while signing, their validation by official e-mail or by validators, reversals, and the
deletion of evidence after its retention period.

Claims state machine (every move leaves a ``ClaimDecision`` row):
``pending`` → ``validated`` (official e-mail on record, or ``validators_required`` distinct
validators agree) · ``pending`` → ``rejected`` (as many validators agree, with a reason) ·
``validated``/``rejected`` → ``pending`` (a reversal, by one validator, with a note; it starts a
new round in which earlier votes no longer count) · ``pending``/``validated`` → ``rejected``
(``override``: the member confirmed another claim from their official address on record, which
wins; reason ``member-holds-claim``, no actor).

Every move, and every change of a claimed signature's status, ends with
``claim_counters_sync``: the one writer of the public counters (``VerifiedCount``). Every move
on a registry-only petition also holds its DECISION entry for the transparency log
(``claim_log_sync``), released with the petition's next breakdown snapshot
(``claim_decisions_release``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from undersign.core.batches import batches_update
from undersign.core.crypto import DEDUP_V1, dedup_tag, normalise_email
from undersign.core.errors import Refusal
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.core.reference import TerritorySet
from undersign.core.text import fold_name
from undersign.counting.breakdowns import Opening
from undersign.petitions.models import Petition
from undersign.petitions.services import petition_touch
from undersign.signatures.mail_limits import mail_allowed
from undersign.signatures.models import WITHDRAWN, Display, Signature, SignatureStatus
from undersign.signatures.personal_data import ERASED, DecryptionError, signer_email
from undersign.signatures.services import (
    SignerDetails,
    SignOutcome,
    signature_create,
    signature_group_leave,
    signature_invalidate,
    signature_reinstate,
)
from undersign.transparency.selectors import log_decisions_held
from undersign.transparency.services import Decision, log_decision_hold, log_decisions_release
from undersign.verification.evidence import decision_note_reseal, decision_note_seal, evidence_reseal, evidence_seal
from undersign.verification.member_ref import (
    log_member_tag,
    member_ref_open,
    member_ref_reseal,
    member_ref_seal,
    member_tag,
    territory_tag,
)
from undersign.verification.models import (
    CLAIM_TRANSITIONS,
    DECIDED_STATUSES,
    STANDING_STATUSES,
    Claim,
    ClaimDecision,
    ClaimMethod,
    ClaimStatus,
    CountedAs,
    DecisionKind,
    GroupReveal,
    PetitionVerification,
    Registry,
    RegistryImport,
    RegistryMember,
    RegistryValidator,
    SigningPolicy,
    VerifiedCount,
    day_start,
)
from undersign.verification.registry_import import MAX_ERRORS, ImportRefused, MemberRow, parse_registry_csv
from undersign.verification.selectors import (
    claim_counted_as,
    group_counts_live,
    group_may_be_named,
    group_named_with,
    group_reveal,
    verified_counts_recount,
)
from undersign.verification.territories import (
    registry_declares_territories,
    registry_territories,
    registry_territory_count,
)
from undersign_verify.entries import DecisionOutcome, registry_digest


class ClaimRefused(Refusal):
    """A decision that cannot be taken now; the message is safe to show to the validator."""


# --- registries -------------------------------------------------------------------------------


def official_email_tag(registry_id: int, email: str) -> bytes:
    """The keyed digest a member's official address is kept as: the same blind-index recipe as
    the dedup tag (``core.crypto.dedup_tag``), keyed per registry so a dump links no address
    to anything and the same address in two registries gives two tags.

    Always the version 1 normalisation: these tags are stored with the registry, and its
    plaintext addresses are not, so they could not be recomputed. An official address on
    record that differs from the signer's only in an IDNA or quoted spelling then just does not
    validate the claim by itself, and a validator decides it: the safe way to fail."""
    address = normalise_email(email, version=DEDUP_V1)
    message = b"registry-email/v1\x00" + registry_id.to_bytes(8, "big") + address.encode("utf-8")
    return hmac.new(settings.KEYS.dedup_key, message, hashlib.sha256).digest()


def _member_values(registry: Registry, row: MemberRow) -> dict[str, object]:
    domain = row.official_email_domain
    if not domain and row.official_email:
        domain = row.official_email.rpartition("@")[2].lower()
    return {
        "name": row.name,
        "name_folded": fold_name(row.name),
        "office": row.office,
        "district": row.district,
        "territory_code": row.territory_code,
        "official_email_tag": official_email_tag(registry.pk, row.official_email) if row.official_email else None,
        "official_email_domain": domain,
        "active": True,
    }


def registry_ensure(*, slug: str, name: str, official_domain: str = "", territory_set: str = "") -> Registry:
    """The registry named ``slug``, created with ``name``, ``official_domain`` and the bundled
    ``territory_set`` its members are counted in if missing (staff create registries in the
    admin; this is for scripts such as the demo data)."""
    registry, _created = Registry.objects.get_or_create(
        slug=slug, defaults={"name": name, "official_domain": official_domain, "territory_set": territory_set}
    )
    return registry


def registry_validator_add(*, registry: Registry, user: User) -> None:
    """Give ``user`` the validator's role on ``registry``. Idempotent."""
    RegistryValidator.objects.get_or_create(registry=registry, user=user)


def _territories_check(registry: Registry, rows: list[MemberRow], territories: TerritorySet | None) -> None:
    """Members of a registry that declares its territories must be in one of them: a code the
    pages could not name would be shown bare."""
    if territories is None and not registry_declares_territories(registry):
        return
    known = (territories or registry_territories(registry)).codes
    errors = [
        f"line {row.line}: territory_code {row.territory_code!r} is not one of the registry's territories"
        for row in rows
        if row.territory_code not in known
    ]
    if errors:
        raise ImportRefused(errors[:MAX_ERRORS])


def registry_import(
    *,
    registry: Registry,
    data: bytes,
    source: str,
    actor: User | None = None,
    territories: TerritorySet | None = None,
) -> RegistryImport:
    """Replace a registry's member list with a CSV file's, matching members by external id:
    new ids are added, listed ones updated, unlisted ones deactivated (claims' sealed references
    still name them). ``territories``: the registry's own territory list, given with the file
    (kept on the registry; every member's code must be one of them). One transaction, after the
    whole file passed its checks: ``ImportRefused`` leaves the registry as it was."""
    rows = parse_registry_csv(data)
    _territories_check(registry, rows, territories)
    added = changed = 0
    with transaction.atomic():
        Registry.objects.select_for_update().filter(pk=registry.pk).first()  # one import at a time
        if territories is not None:
            registry.territories = [
                {"code": r.code, "name": dict(r.names), **({"time_zone": r.time_zone} if r.time_zone else {})}
                for r in territories.regions
            ]
            Registry.objects.filter(pk=registry.pk).update(territories=registry.territories)
        existing = {m.external_id: m for m in RegistryMember.objects.filter(registry=registry)}
        new_members = []
        for row in rows:
            values = _member_values(registry, row)
            member = existing.get(row.external_id)
            if member is None:
                new_members.append(RegistryMember(registry=registry, external_id=row.external_id, **values))
                continue
            current = {
                field: bytes(v) if isinstance(v := getattr(member, field), memoryview) else v for field in values
            }
            if current != values:
                RegistryMember.objects.filter(pk=member.pk).update(**values, updated_at=timezone.now())
                changed += 1
        RegistryMember.objects.bulk_create(new_members, batch_size=500)
        added = len(new_members)
        listed = {row.external_id for row in rows}
        gone = [m.pk for external_id, m in existing.items() if m.active and external_id not in listed]
        removed = RegistryMember.objects.filter(pk__in=gone).update(active=False, updated_at=timezone.now())
        return RegistryImport.objects.create(
            registry=registry, actor=actor, source=source[:200], added=added, changed=changed, removed=removed
        )


# --- a petition's policy ------------------------------------------------------------------------


def petition_verification_set(
    *,
    petition: Petition,
    policy: str,
    registries: list[Registry],
    quorum_verified: int | None = None,
    quorum_territories: int | None = None,
) -> PetitionVerification:
    """Set who may sign ``petition`` and its quorum. Precondition: a policy other than
    ``anyone`` names at least one registry (the creation form checks it)."""
    if policy != SigningPolicy.ANYONE and not registries:
        raise ValueError("a registry policy needs at least one registry")
    verification, _created = PetitionVerification.objects.update_or_create(
        petition=petition,
        defaults={"policy": policy, "quorum_verified": quorum_verified, "quorum_territories": quorum_territories},
    )
    verification.registries.set(registries if policy != SigningPolicy.ANYONE else [])
    return verification


# --- claims made while signing ----------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRequest:
    member: RegistryMember
    note: str = ""
    document: bytes | None = None
    content_type: str = ""


def _sealed_evidence(petition: Petition, tag: bytes, claim: ClaimRequest) -> dict[str, object]:
    note, document = evidence_seal(key_id=petition.data_key_id, tag=tag, note=claim.note, document=claim.document)
    return {
        "evidence_note_sealed": note,
        "evidence_document_sealed": document,
        "evidence_content_type": claim.content_type if document is not None else "",
        "evidence_deleted_at": None,
    }


def signature_create_with_claim(
    *, petition: Petition, details: SignerDetails, claim: ClaimRequest | None, hold_reason: str = ""
) -> tuple[SignOutcome, int]:
    """``signature_create`` plus the signer's claim, in one transaction (held with the
    signature when ``hold_reason`` is given: a pending claim of a held signature is in no
    counter, and a release keeps it). A pending or held signature signed again takes the new
    claim (or loses its claim), as it takes the new name; an already confirmed one keeps its
    claim untouched, and the signer sees the same page.
    Several claims may name one member: each waits, and validators see them side by side.
    Precondition: the claim's member is active and on one of the petition's registries."""
    with transaction.atomic():
        outcome, signature_id = signature_create(petition=petition, details=details, hold_reason=hold_reason)
        if outcome in (SignOutcome.ALREADY_SIGNED, SignOutcome.UNCHANGED):
            # UNCHANGED: over its mail limit, or a held submission against a pending signature:
            # the pending claim stands too.
            return outcome, signature_id
        if claim is None:
            Claim.objects.filter(signature_id=signature_id, status=ClaimStatus.PENDING).delete()
            return outcome, signature_id
        # What signature_create stored: no query.
        tag = dedup_tag(petition.uuid, details.email, version=petition.dedup_version)
        member = claim.member
        Claim.objects.update_or_create(
            signature_id=signature_id,
            defaults={
                "petition": petition,
                "member_sealed": member_ref_seal(key_id=petition.data_key_id, signature_tag=tag, member=member),
                "member_tag": member_tag(
                    petition_uuid=petition.uuid, registry_id=member.registry_id, member_id=member.pk
                ),
                "status": ClaimStatus.PENDING,
                "method": ClaimMethod.NONE,
                "on_official_domain": False,
                # A pending signature's claim is in no counter (only confirmed ones count).
                "counted_as": CountedAs.NOTHING,
                "created_at": day_start(),
                "decided_at": None,
                **_sealed_evidence(petition, tag, claim),
            },
        )
    return outcome, signature_id


# --- the public counters ----------------------------------------------------------------------


def _counter_add(*, petition_id: int, territory: bytes, column: str, delta: int) -> None:
    if delta > 0:
        VerifiedCount.objects.bulk_create(
            [VerifiedCount(petition_id=petition_id, territory_tag=territory)], ignore_conflicts=True
        )
    VerifiedCount.objects.filter(petition_id=petition_id, territory_tag=territory).update(**{column: F(column) + delta})


def claim_counters_sync(*, claim_id: int) -> str:
    """Move the claim ``claim_id`` into the public counter its state calls for now (and out of
    the one it was in): the one writer of ``VerifiedCount``, called in the transaction of every
    claim move and of every change of a claimed signature's status. Idempotent. Returns the
    claim's counter (``CountedAs``).

    Which counter a claim is in depends on its territory, which only its sealed member
    reference holds. Once the petition's personal data is destroyed that reference is gone
    for good, so the counters are final: nothing moves (a signature invalidated or withdrawn
    later still leaves the total through the log; the verified figures keep the claim). By
    then the petition has long closed, no confirmation can arrive and claims can no longer be
    decided (``claim_decide`` refuses). Keeping each claim's territory tag beside it, so that
    it could still move, would outlive the destruction: with the member-tag key, the tag of a
    territory with a single member names that member.

    Locks the claim, then its counters: the order ``verified_counts_reconcile`` keeps too."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("signature", "petition")
            .filter(pk=claim_id)
            .first()
        )
        if claim is None:
            return CountedAs.NOTHING
        if claim.petition.personal_data_destroyed:
            return claim.counted_as
        counted_as = claim_counted_as(claim.status, claim.signature)
        if counted_as == claim.counted_as:
            return counted_as
        territory = territory_tag(
            petition_uuid=claim.petition.uuid, territory_code=member_ref_open(claim).territory_code
        )
        if claim.counted_as:
            _counter_add(petition_id=claim.petition_id, territory=territory, column=claim.counted_as, delta=-1)
        if counted_as:
            _counter_add(petition_id=claim.petition_id, territory=territory, column=counted_as, delta=1)
        Claim.objects.filter(pk=claim.pk).update(counted_as=counted_as)
    return counted_as


def claims_counters_sync_for_signatures(*, signature_ids: list[int]) -> None:
    """``claim_counters_sync`` for the claims of these signatures (their status changed). A
    claim whose petition's data key is destroyed cannot say which territory's counters it is
    in: the verified figures of such a petition stay as they were, and the signature's change
    (a withdrawal with a receipt, say) still goes through."""
    for claim_id in Claim.objects.filter(signature_id__in=signature_ids).values_list("pk", flat=True):
        try:
            claim_counters_sync(claim_id=claim_id)
        except DecryptionError:
            continue


# --- a signer's withdrawal and erasure -------------------------------------------------------------


def claim_signature_tag_replaced(*, signature_id: int, old_tag: bytes, new_tag: bytes) -> None:
    """The signature of a claim was withdrawn and its dedup tag replaced: the member reference,
    evidence and decision notes, all bound to the old tag, are sealed afresh bound to the new
    one, and the member tag is replaced by random bytes — it would still answer "did member M
    claim on this petition?" to whoever holds its key, and would keep the member from being
    validated on a later claim (one validated claim per member tag). Nothing to re-seal once
    the petition's data key is destroyed. Precondition: in the withdrawal's transaction, after
    the counters moved the claim out (``signatures_status_changed``)."""
    claim = Claim.objects.select_for_update().filter(signature_id=signature_id).first()
    if claim is None:
        return
    changes: dict[str, object] = {"member_tag": secrets.token_bytes(32)}
    notes: list[tuple[int, bytes | None]] = []
    try:
        changes["member_sealed"] = member_ref_reseal(claim, old_tag=old_tag, new_tag=new_tag)
        changes.update(evidence_reseal(claim, old_tag=old_tag, new_tag=new_tag))
        for decision in ClaimDecision.objects.filter(claim=claim, note_sealed__isnull=False):
            notes.append((decision.pk, decision_note_reseal(decision, old_tag=old_tag, new_tag=new_tag)))
    except DecryptionError:
        changes, notes = {"member_tag": changes["member_tag"]}, []
    Claim.objects.filter(pk=claim.pk).update(**changes)
    for decision_id, note in notes:
        ClaimDecision.objects.filter(pk=decision_id).update(note_sealed=note)


def claim_signature_erased(*, signature_id: int) -> None:
    """The signer erased their data: the claim's member reference, evidence and decision notes
    are destroyed in the live rows (the claim's status, counters and decisions stay, naming no
    one). Precondition: in the erasure's transaction, the signature withdrawn (so the claim
    counts nowhere and its counters never need its territory again)."""
    claim = Claim.objects.select_for_update().filter(signature_id=signature_id).first()
    if claim is None:
        return
    Claim.objects.filter(pk=claim.pk).update(
        member_sealed=ERASED,
        evidence_note_sealed=None,
        evidence_document_sealed=None,
        evidence_content_type="",
        evidence_deleted_at=claim.evidence_deleted_at or day_start(),
    )
    ClaimDecision.objects.filter(claim=claim).update(note_sealed=None)


def verified_counts_reconcile_all(*, repair: bool = False) -> list[str]:
    """``verified_counts_reconcile`` for every petition that takes claims (``reconcile_counts``),
    but those whose personal data was destroyed: their counters are final, and the sealed
    references a recount opens are gone."""
    petition_ids = (
        PetitionVerification.objects.filter(petition__personal_data_destroyed_at__isnull=True)
        .values_list("petition_id", flat=True)
        .order_by("petition_id")
    )
    return [
        line
        for petition_id in petition_ids
        for line in verified_counts_reconcile(petition_id=petition_id, repair=repair)
    ]


def verified_counts_reconcile(*, petition_id: int, repair: bool = False) -> list[str]:
    """Recount a petition's verified figures from its claims (opening their sealed member
    references) and compare them with ``VerifiedCount``. Returns the differences, one line
    each naming a territory and a counter (never a person); with ``repair``, sets the counters
    and each claim's ``counted_as`` right. For ``counting.services.counts_reconcile``.

    Locks the petition's claims (by pk), then its counters: the order of
    ``claim_counters_sync``, which locks a claim and then writes counters. The other order
    could deadlock with it on PostgreSQL. A petition whose personal data was destroyed has
    nothing to recount from (the references died with its key): its counters are final, and
    no difference is reported."""
    with transaction.atomic():
        list(Claim.objects.select_for_update().filter(petition_id=petition_id).order_by("pk").values_list("pk"))
        petition_uuid, destroyed_at = Petition.objects.values_list("uuid", "personal_data_destroyed_at").get(
            pk=petition_id
        )
        if destroyed_at is not None:
            return []
        rows = {
            bytes(row.territory_tag): row
            for row in VerifiedCount.objects.select_for_update().filter(petition_id=petition_id).order_by("pk")
        }
        recount, counted = verified_counts_recount(petition_id=petition_id)
        names = {territory_tag(petition_uuid=petition_uuid, territory_code=code): code for code in recount}
        expected = {tag: recount[code] for tag, code in names.items()}
        differences = []
        for tag in sorted(set(rows) | set(expected), key=lambda t: (names.get(t, "~"), t)):
            want = expected.get(tag)
            row = rows.get(tag)
            territory = names.get(tag) or f"territory {tag.hex()[:8]}"
            for column in CountedAs.values:
                if not column:
                    continue
                has = getattr(row, column) if row else 0
                should = getattr(want, column) if want else 0
                if has != should:
                    differences.append(f"petition {petition_id}, {territory}: {column} is {has}, recount {should}")
        if repair and differences:
            for tag, want in expected.items():
                VerifiedCount.objects.update_or_create(
                    petition_id=petition_id,
                    territory_tag=tag,
                    defaults={column: getattr(want, column) for column in CountedAs.values if column},
                )
            VerifiedCount.objects.filter(petition_id=petition_id).exclude(territory_tag__in=list(expected)).update(
                **{column: 0 for column in CountedAs.values if column}
            )
        if repair:
            for claim_id, counted_as in counted.items():
                Claim.objects.filter(pk=claim_id).exclude(counted_as=counted_as).update(counted_as=counted_as)
    return differences


# --- validation by official e-mail --------------------------------------------------------------


def _claim_move(claim: Claim, *, decision: str, **fields: object) -> bool:
    """Move ``claim`` as ``decision`` does (``CLAIM_TRANSITIONS``) if, in the database, it is in
    a status that decision may start from: one guarded UPDATE, and the move's DECISION entry
    held for the log (``claim_log_sync``). Returns whether it moved; the caller records the
    ``ClaimDecision`` only then. Raises ``IntegrityError`` when a validation would make a second
    validated claim of the member on the petition. Precondition: the claim locked."""
    allowed, to_status = CLAIM_TRANSITIONS[decision]
    moved = bool(Claim.objects.filter(pk=claim.pk, status__in=allowed).update(status=to_status, **fields))
    if moved:
        claim_log_sync(claim_id=claim.pk)
    return moved


# --- verification decisions in the transparency log ---------------------------------------------

# The DECISION entries that take a claim from the status the log has it in to its status now:
# one per move, two where a reversal and a new decision both wait for the same snapshot.
_V, _P, _R = ClaimStatus.VALIDATED, ClaimStatus.PENDING, ClaimStatus.REJECTED
LOG_MOVES: dict[tuple[str, str], tuple[DecisionOutcome, ...]] = {
    (_P, _V): (DecisionOutcome.VALIDATED,),
    (_P, _R): (DecisionOutcome.REJECTED,),
    (_V, _P): (DecisionOutcome.REVOKED,),
    (_V, _R): (DecisionOutcome.REJECTED,),  # overridden by the member's official address
    (_R, _P): (DecisionOutcome.REINSTATED,),
    (_R, _V): (DecisionOutcome.REINSTATED, DecisionOutcome.VALIDATED),
}

# Signatures that never count again, whatever becomes of their claims: withdrawn by their
# signers, or confirmed after the petition's CLOSED (never in the log).
_GONE_FOR_GOOD = (WITHDRAWN, "confirmed_too_late")


def registry_in_log(registry_id: int) -> bytes:
    """How a validation names its registry in the log: ``registry_digest(slug)`` where the
    registry's members are from at least ``K_ANONYMITY`` territories, else nothing (b""). A
    registry of one city's deputies, named beside the snapshot whose per-territory figures
    moved with it, would say which city the validated member is from."""
    if registry_territory_count(registry_id) < settings.K_ANONYMITY:
        return b""
    return registry_digest(Registry.objects.values_list("slug", flat=True).get(pk=registry_id))


def _decision(claim: Claim, outcome: DecisionOutcome) -> Decision:
    """The entry of one move. Only a validation names its member (and registry): the count
    rule needs no more, and a tag on a rejection would tell whose claims were turned down."""
    petition = claim.petition
    assert claim.signature.commitment is not None, "checked by claim_log_sync"
    decision = Decision(petition.pk, petition.uuid, bytes(claim.signature.commitment), outcome)
    if outcome != DecisionOutcome.VALIDATED:
        return decision
    ref = member_ref_open(claim)
    tag = log_member_tag(
        petition_uuid=petition.uuid,
        data_key_id=petition.data_key_id,
        registry_id=ref.registry_id,
        member_id=ref.member_id,
    )
    return replace(decision, member_tag=tag, registry=registry_in_log(ref.registry_id))


def claim_log_sync(*, claim_id: int) -> int:
    """Bring the log's record of a claim level with its status: hold the DECISION entries that
    take it from ``logged_status`` to ``status`` (``LOG_MOVES``) and record that they are held.
    Only on a registry-only petition, for a signature the log holds that may count again; any
    other claim is set level with nothing held. Returns how many entries it held. Idempotent.

    The entries wait for the petition's next breakdown snapshot (``log_decision_hold``): the
    log dates the snapshot, never the decision. Precondition: the claim locked (its signature
    first, as ``_locked`` says), in the transaction that moved it."""
    claim = Claim.objects.select_related("signature", "petition").get(pk=claim_id)
    if claim.logged_status == claim.status:
        return 0
    signature = claim.signature
    moves: tuple[DecisionOutcome, ...] = ()
    if (
        _registry_only(claim.petition_id)
        and signature.commitment is not None
        and signature.invalidation_reason not in _GONE_FOR_GOOD
    ):
        moves = LOG_MOVES[(claim.logged_status, claim.status)]
    now = timezone.now()
    for outcome in moves:
        log_decision_hold(decision=_decision(claim, outcome), now=now)
    Claim.objects.filter(pk=claim.pk).update(logged_status=claim.status)
    return len(moves)


def claim_decisions_release(*, petition_id: int) -> int:
    """Log the decisions taken on a petition's claims since its last breakdown snapshot: any
    claim whose decision is not held yet first (``claim_log_sync``: decisions taken before the
    log kept them, or any a failure left behind), then every held entry goes to the integrator
    (``log_decisions_release``). Called in the snapshot's transaction, before it reads the
    figures those decisions moved; running it twice releases nothing twice. Returns how many
    entries it released."""
    with transaction.atomic():
        behind = Claim.objects.filter(petition_id=petition_id).exclude(status=F("logged_status"))
        # Signatures first, then claims: the order of every move (``_locked``).
        list(
            Signature.objects.select_for_update()
            .filter(pk__in=behind.values("signature_id"))
            .order_by("pk")
            .values_list("pk")
        )
        for claim_id in behind.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True):
            try:
                claim_log_sync(claim_id=claim_id)
            except DecryptionError:
                # Its member died with the petition's data key before the log kept decisions:
                # nothing can name it now. Left behind, it would ask for a snapshot forever.
                Claim.objects.filter(pk=claim_id).update(logged_status=F("status"))
        return log_decisions_release(petition_id=petition_id)


def claim_decisions_opening(petition: Petition, now: datetime) -> Opening:
    """Verification's second snapshot opener (``counting.breakdowns``): it names no one, and if
    the snapshot is taken, its ``record`` releases the petition's decisions into the log in the
    snapshot's transaction (``claim_decisions_release``)."""

    def record(sequence: int) -> None:
        claim_decisions_release(petition_id=petition.pk)

    return Opening(frozenset(), record)


def claim_decisions_waiting() -> set[int]:
    """A snapshot trigger, and the periodic sweep that recovers what was missed: the petitions
    whose decisions wait for a snapshot (held, or not yet held), so that one is taken on
    schedule even while their log does not move."""
    behind = Claim.objects.exclude(status=F("logged_status")).values_list("petition_id", flat=True).distinct()
    return set(log_decisions_held()) | set(behind.order_by())


def _on_official_domain(email: str, member: RegistryMember) -> bool:
    domain = email.strip().rpartition("@")[2].lower()
    official = {member.official_email_domain.lower(), member.registry.official_domain.lower()} - {""}
    return domain in official


def _registry_only(petition_id: int) -> bool:
    return PetitionVerification.objects.filter(petition_id=petition_id, policy=SigningPolicy.REGISTRY_ONLY).exists()


def _claim_override(rival: Claim, *, today: datetime) -> None:
    """The member confirmed another claim from their official address: ``rival`` (standing,
    naming the same member) is rejected, with a decision row and no actor; on a registry-only
    petition its signature stops counting, as after any rejection."""
    if not _claim_move(rival, decision=DecisionKind.OVERRIDE, method=ClaimMethod.OFFICIAL_EMAIL, decided_at=today):
        return  # a validator moved it first: their decision stands, and left its own row
    ClaimDecision.objects.create(
        claim=rival,
        by_official_email=True,
        kind=DecisionKind.OVERRIDE,
        round=rival.round,
        reason_code=OVERRIDE_REASON,
        outcome=ClaimStatus.REJECTED,
    )
    if _registry_only(rival.petition_id):
        signature_invalidate(signature=rival.signature, reason="claim_rejected")
    claim_counters_sync(claim_id=rival.pk)


# The rejection reason of a claim overridden by the member's official address
# (``CLAIM_REJECTION_REASONS_FILE`` describes it to validators).
OVERRIDE_REASON = "member-holds-claim"


def claim_on_signature_confirmed(*, signature: Signature) -> Claim | None:
    """Called inside ``signature_confirm``'s transaction. Records whether the confirmed address
    is on an official domain (evidence for the validator, never proof), and validates the claim
    by itself when the address is the member's own official e-mail on record. That claim wins:
    the member's other standing claims on the petition (someone else's "as Deputy X", or a
    validators' mistake) are rejected as overridden (``OVERRIDE_REASON``). Otherwise the claim
    waits for a validator. Either way the public counters follow (``claim_counters_sync``)."""
    if Signature.claim.is_cached(signature) and not hasattr(signature, "claim"):
        # ``signature_for_link`` read it with the signature (this app registered the relation
        # in its ready()): it has no claim (a claim is only added by re-signing, which also
        # voids the token the confirming UPDATE was guarded by).
        return None
    claim = Claim.objects.filter(signature_id=signature.pk).first()
    if claim is None:
        return None
    if claim.status == ClaimStatus.PENDING:
        _claim_check_official_email(claim, signature)
    claim_counters_sync(claim_id=claim.pk)
    claim.refresh_from_db()
    return claim


def _claim_check_official_email(claim: Claim, signature: Signature) -> None:
    ref = member_ref_open(claim, bytes(signature.dedup_tag))
    member = RegistryMember.objects.select_related("registry").filter(pk=ref.member_id).first()
    if member is None:
        return
    email = signer_email(signature)
    on_official_domain = _on_official_domain(email, member)
    Claim.objects.filter(pk=claim.pk).update(on_official_domain=on_official_domain)
    tag = member.official_email_tag
    if tag is None or not hmac.compare_digest(bytes(tag), official_email_tag(member.registry_id, email)):
        return
    now = timezone.now()
    today = day_start(now)
    standing = Claim.objects.filter(
        petition_id=claim.petition_id, member_tag=claim.member_tag, status__in=STANDING_STATUSES
    ).exclude(pk=claim.pk)
    # Their signatures first, then the claims: a withdrawal's order (``_locked`` says why).
    list(
        Signature.objects.select_for_update()
        .filter(pk__in=standing.values("signature_id"))
        .order_by("pk")
        .values_list("pk")
    )
    rivals = standing.select_for_update(of=("self",)).select_related("signature").order_by("pk")
    for rival in rivals:
        _claim_override(rival, today=today)
    try:
        with transaction.atomic():  # a savepoint: a concurrent validation wins, this one waits
            moved = _claim_move(
                claim, decision=DecisionKind.VALIDATE, method=ClaimMethod.OFFICIAL_EMAIL, decided_at=today
            )
    except IntegrityError:
        moved = False
    if not moved:
        return  # someone moved it first (or validated another claim of the member just now)
    ClaimDecision.objects.create(
        claim=claim,
        by_official_email=True,
        kind=DecisionKind.VALIDATE,
        round=claim.round,
        outcome=ClaimStatus.VALIDATED,
    )
    petition_touch(petition_id=claim.petition_id, now=now)


# --- validators' decisions --------------------------------------------------------------------


def _locked(claim: Claim) -> Claim:
    """``claim`` read afresh under its lock, taken after its signature's: the order of every
    change that starts from the signature (a withdrawal, an invalidation, a confirmation) and
    reaches the claim through ``signatures_status_changed``. A rejection or a reversal then
    writes the signature (``signature_invalidate``, ``signature_reinstate``); in the other
    order it and a withdrawal at the same moment would deadlock on PostgreSQL."""
    Signature.objects.select_for_update().filter(pk=claim.signature_id).values_list("pk").first()
    return Claim.objects.select_for_update(of=("self",)).select_related("signature", "petition").get(pk=claim.pk)


def _check_not_destroyed(claim: Claim) -> None:
    if claim.petition.personal_data_destroyed:
        raise ClaimRefused(
            _(
                "This petition's personal data was destroyed: which member this claim names can no longer "
                "be read, so it cannot be decided or reversed."
            )
        )


def claim_registry(claim: Claim) -> Registry:
    """The registry of the member ``claim`` names (read with its signature)."""
    return Registry.objects.get(pk=member_ref_open(claim).registry_id)


def _sealed_note(claim: Claim, note: str) -> bytes | None:
    return decision_note_seal(key_id=claim.petition.data_key_id, tag=bytes(claim.signature.dedup_tag), note=note)


def claim_decide(*, claim: Claim, actor: User, kind: str, reason_code: str = "", note: str = "") -> Claim:
    """One validator's vote to validate or reject a pending claim. The claim moves when
    ``validators_required`` distinct validators agree in the current round. A rejection on a
    registry-only petition invalidates the signature; elsewhere it leaves an ordinary one.
    Preconditions: ``actor`` holds the claim's registry's role (``access_claim_by_id``);
    ``reason_code`` is a configured reason for a rejection. Raises ``ClaimRefused``."""
    if kind not in (DecisionKind.VALIDATE, DecisionKind.REJECT):
        raise ValueError(kind)
    if kind == DecisionKind.REJECT and not reason_code:
        raise ClaimRefused(_("Choose a reason for rejecting the claim."))
    with transaction.atomic():
        claim = _locked(claim)
        _check_not_destroyed(claim)
        if claim.status != ClaimStatus.PENDING:
            raise ClaimRefused(
                _("This claim is already validated.")
                if claim.status == ClaimStatus.VALIDATED
                else _("This claim is already rejected.")
            )
        if claim.signature.status != SignatureStatus.CONFIRMED:
            raise ClaimRefused(_("The signature is not confirmed, so the claim cannot be decided."))
        votes = ClaimDecision.objects.filter(claim=claim, round=claim.round, actor__isnull=False).exclude(
            kind=DecisionKind.REVERSE
        )
        if votes.filter(actor=actor).exists():
            raise ClaimRefused(_("You have decided on this claim already; another validator must decide too."))
        held = Claim.objects.filter(
            petition_id=claim.petition_id, member_tag=claim.member_tag, status=ClaimStatus.VALIDATED
        )
        if kind == DecisionKind.VALIDATE and held.exists():
            raise ClaimRefused(
                _(
                    "Another signature on this petition is already validated as this member. "
                    "Reverse that claim first, or reject this one."
                )
            )
        agreeing = votes.filter(kind=kind).values("actor").distinct().count() + 1
        outcome: str = ClaimStatus.PENDING
        if agreeing >= claim_registry(claim).validators_required:
            outcome = CLAIM_TRANSITIONS[kind][1]
        now = timezone.now()
        if outcome != ClaimStatus.PENDING:
            try:
                with transaction.atomic():
                    moved = _claim_move(claim, decision=kind, method=ClaimMethod.VALIDATORS, decided_at=day_start(now))
            except IntegrityError:
                raise ClaimRefused(
                    _("Another signature on this petition was validated as this member just now.")
                ) from None
            if not moved:  # unreachable while the row lock is held; kept as the guard's contract
                raise ClaimRefused(_("This claim was decided by someone else just now."))
        ClaimDecision.objects.create(
            claim=claim,
            actor=actor,
            kind=kind,
            round=claim.round,
            reason_code=reason_code,
            note_sealed=_sealed_note(claim, note),
            outcome=outcome,
        )
        if outcome == ClaimStatus.REJECTED and _registry_only(claim.petition_id):
            signature_invalidate(signature=claim.signature, reason="claim_rejected")
        if outcome != ClaimStatus.PENDING:
            claim_counters_sync(claim_id=claim.pk)
            petition_touch(petition_id=claim.petition_id, now=now)
            _claimant_notify(claim)
    claim.refresh_from_db()
    return claim


def _claimant_notify(claim: Claim) -> None:
    """Queue the content-free "news about your signature" mail (``verification.emails``) to the
    claimant, counted against the same per-address caps as every mail a form can cause: over a
    cap it is not sent, and the outcome waits on the page its link would have opened. Skipped
    once the signer unsubscribed (the mail's renderer checks again at sending).
    Precondition: inside the decision's transaction."""
    signature = claim.signature
    if signature.unsubscribed_at is not None or signature.is_withdrawn:
        return
    if mail_allowed(petition_uuid=claim.petition.uuid, email=signer_email(signature)):
        outbox_add(kind=OutboundEmail.Kind.CLAIM_DECIDED, petition_id=claim.petition_id, signature_id=signature.pk)


def claim_reverse(*, claim: Claim, actor: User, note: str) -> Claim:
    """Take back a claim's outcome: it is pending again, in a new round, for a fresh decision.
    Reversing a rejection on a registry-only petition counts its signature again.
    Preconditions as for ``claim_decide``; ``note`` says why. Raises ``ClaimRefused``."""
    if not note.strip():
        raise ClaimRefused(_("Say why the decision is reversed."))
    with transaction.atomic():
        claim = _locked(claim)
        _check_not_destroyed(claim)
        if claim.status not in DECIDED_STATUSES:
            raise ClaimRefused(_("This claim has no decision to reverse yet."))
        was = claim.status
        now = timezone.now()
        _claim_move(
            claim, decision=DecisionKind.REVERSE, method=ClaimMethod.NONE, decided_at=None, round=claim.round + 1
        )
        ClaimDecision.objects.create(
            claim=claim,
            actor=actor,
            kind=DecisionKind.REVERSE,
            round=claim.round,
            note_sealed=_sealed_note(claim, note),
            outcome=ClaimStatus.PENDING,
        )
        if was == ClaimStatus.REJECTED and claim.signature.invalidation_reason == "claim_rejected":
            signature_reinstate(signature=claim.signature)
        claim_counters_sync(claim_id=claim.pk)
        petition_touch(petition_id=claim.petition_id, now=now)
    claim.refresh_from_db()
    return claim


# --- the data's lifecycle -----------------------------------------------------------------------


def claims_personal_data_destroy(*, petition: Petition) -> int:
    """What a key holder could still learn of the petition's claims once its data key is
    destroyed (the sealed member references, evidence and decision notes die with the key):
    each claim's member tag is replaced by random bytes, since with the member-tag key the real
    one answers "did member M claim on this petition?". Random 32-byte tags are unique, so the
    one-validated-claim-per-member constraint still holds. The claims keep their status,
    decisions and counter (``counted_as``), and ``VerifiedCount`` stays as it is: its territory
    tags name territories, not people, and the verified figures are final
    (``claim_counters_sync``). Returns the rows changed. Precondition: inside the transaction
    that destroys the petition's data key."""
    rows = [
        Claim(pk=pk, member_tag=secrets.token_bytes(32))
        for pk in Claim.objects.filter(petition=petition).order_by("pk").values_list("pk", flat=True)
    ]
    return Claim.objects.bulk_update(rows, ["member_tag"], batch_size=1000)


# --- retention: evidence and decision notes (jobs of the ``retention`` app) ----------------------


def claims_evidence_purge(now: datetime) -> int:
    """A retention job: delete the evidence (note and document) of claims decided more than
    ``EVIDENCE_RETENTION_DAYS`` ago, in batches. The decision stays. Returns how many claims lost
    their evidence."""
    cutoff = now - timedelta(days=settings.EVIDENCE_RETENTION_DAYS)
    return batches_update(
        Claim.objects.decided().filter(decided_at__lte=cutoff, evidence_deleted_at__isnull=True),
        evidence_note_sealed=None,
        evidence_document_sealed=None,
        evidence_content_type="",
        evidence_deleted_at=day_start(now),
    )


def decision_notes_delete(now: datetime) -> int:
    """A retention job: delete validators' sealed notes on decisions taken more than
    ``DECISION_NOTE_RETENTION_DAYS`` ago (by the decision's day), in batches. The decision row
    itself (who, what, reason code, outcome) stays: it is the claim's audit trail. Returns how
    many notes went."""
    cutoff = now - timedelta(days=settings.DECISION_NOTE_RETENTION_DAYS)
    due = ClaimDecision.objects.filter(note_sealed__isnull=False, created_at__lte=cutoff)
    return batches_update(due, note_sealed=None)


# --- safety in numbers: naming the group, leaving it ---------------------------------------------

# The class of the PostgreSQL advisory locks (two-key form, apart from the log's one-key lock)
# that hold a petition's group while it is decided at a snapshot or a member leaves it.
GROUP_LOCK_CLASS = 0x67727570  # "grup"


def _group_lock(petition_id: int) -> None:
    """Hold the petition's group until the transaction ends: a member cannot leave between the
    snapshot's count of the group and its reveal, nor after it. On SQLite the one writer does
    the same. Never waits while holding a row lock another holder of this one may need: the
    snapshot takes it holding only the log's lock, a leaving member before any write."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [GROUP_LOCK_CLASS, petition_id & 0x7FFFFFFF])


def group_snapshot_opening(petition: Petition, now: datetime) -> Opening | None:
    """Verification's snapshot opener (``counting.breakdowns``), called in the snapshot's
    transaction before its due check. A group named at an earlier snapshot: its members are
    public (their arrivals need no company). Otherwise the condition is decided here, once, on
    the validated claims only (``group_counts_live``), and only while the petition is open: if
    it holds, this snapshot names every member together, and ``record`` leaves the reveal's row
    if the snapshot is taken. Returns None while the group stays unnamed."""
    _group_lock(petition.pk)
    if group_reveal(petition=petition) is not None:
        return Opening(frozenset({Display.GROUP}))
    current = Petition.objects.only("state", "closing_date", "group_min_named", "group_min_territories").get(
        pk=petition.pk
    )
    if not current.group_min_named or not group_may_be_named(current, now):
        return None  # it offers no group (``NO_GROUP``), or no longer collects signatures
    counts = group_counts_live(petition_id=petition.pk)
    if not counts.condition_met(current):
        return None

    def record(sequence: int) -> None:
        GroupReveal.objects.create(
            petition_id=petition.pk,
            snapshot_sequence=sequence,
            revealed_at=now,
            verified_members=counts.verified,
            territories=counts.territories,
        )

    return Opening(frozenset({Display.GROUP}), record)


class GroupLeave(enum.Enum):
    # Out of the group, or nothing to leave (no such signature, not a member, withdrawn): the
    # page says the same either way.
    DONE = "done"
    # The group was named already: leaving no longer hides anything; withdrawing still ends
    # the signature.
    NAMED = "named"


def group_leave(*, signature: Signature | None) -> GroupLeave:
    """Take ``signature`` (found through its leave link; None: the link named none) out of its
    group before the group is named: counted only from then on. Under the group's lock, so
    that a snapshot counts it either in (and names it) or out (and does not), never in and then
    not. A member of a named group stays: ``NAMED``."""
    if signature is None:
        return GroupLeave.DONE
    with transaction.atomic():
        _group_lock(signature.petition_id)
        if group_named_with(signature=signature):
            return GroupLeave.NAMED
        if Petition.objects.filter(pk=signature.petition_id, personal_data_destroyed_at__isnull=False).exists():
            return GroupLeave.DONE  # no name is left to show, and no claim to count anew
        signature_group_leave(signature_id=signature.pk)
    return GroupLeave.DONE
