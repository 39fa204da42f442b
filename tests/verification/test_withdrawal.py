"""A claimant withdraws or erases their signature (``verification.receivers`` on the signatures
app's hooks): the claim stops counting in every figure, what was sealed bound to the old tag
follows the new one (or is destroyed with an erasure), and the member may claim again."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.locks import assert_waits_for_row
from tests.verification.conftest import claim_and_confirm, make_validator, official_email, restricted_petition
from undersign.core.crypto import DecryptionError, data_keys
from undersign.core.models import DataKey
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_invalidate
from undersign.signatures.withdrawal import signature_erase, signature_withdraw
from undersign.verification.evidence import decision_note_open, evidence_document_open, evidence_note_open
from undersign.verification.member_ref import member_ref_open
from undersign.verification.models import Claim, ClaimDecision, ClaimStatus, CountedAs, DecisionKind, SigningPolicy
from undersign.verification.selectors import TerritoryCounts, claim_member, verified_counts_live
from undersign.verification.services import (
    claim_decide,
    claim_on_signature_confirmed,
    claim_reverse,
    verified_counts_reconcile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(registry):
    """A validated claim on a petition counting verified signers apart, with evidence and a
    validator's note."""
    petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
    signature = claim_and_confirm(
        petition, registry.members.first(), note="Mandate, page 3", document=b"%PDF-1.4", content_type="application/pdf"
    )
    claim_decide(claim=signature.claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE, note="ok")
    return petition, signature


def counts(petition) -> TerritoryCounts:
    return verified_counts_live(petition=petition).get("SPB", TerritoryCounts())


def fresh(claim: Claim) -> Claim:
    return Claim.objects.select_related("signature").get(pk=claim.pk)


def test_a_withdrawn_claim_stops_counting_as_verified(decided):
    petition, signature = decided
    assert counts(petition) == TerritoryCounts(validated_other=1)
    signature_withdraw(signature_id=signature.pk)
    assert counts(petition) == TerritoryCounts()
    assert fresh(signature.claim).counted_as == CountedAs.NOTHING
    assert verified_counts_reconcile(petition_id=petition.pk) == []


def test_a_rejected_claim_leaves_the_rejected_figure_when_withdrawn(registry):
    petition = restricted_petition(registry)
    signature = claim_and_confirm(petition, registry.members.first())
    claim_decide(
        claim=signature.claim, actor=make_validator("vera", registry), kind=DecisionKind.REJECT, reason_code="x"
    )
    assert counts(petition) == TerritoryCounts(rejected=1)
    signature_withdraw(signature_id=signature.pk)
    assert counts(petition) == TerritoryCounts()
    assert verified_counts_reconcile(petition_id=petition.pk) == []


def test_what_was_sealed_bound_to_the_old_tag_follows_the_new_one(decided, registry):
    petition, signature = decided
    old_member_tag = bytes(fresh(signature.claim).member_tag)
    signature_withdraw(signature_id=signature.pk)
    claim = fresh(signature.claim)
    tag = bytes(claim.signature.dedup_tag)
    assert member_ref_open(claim).member_id == registry.members.first().pk
    assert claim_member(claim=claim) == registry.members.first()
    assert evidence_note_open(claim, tag) == "Mandate, page 3"
    assert evidence_document_open(claim, tag) == b"%PDF-1.4"
    [decision] = ClaimDecision.objects.filter(claim=claim)
    assert decision_note_open(decision, tag) == "ok"
    # The member tag would still say "member M claimed here" to its key's holder: replaced.
    assert bytes(claim.member_tag) != old_member_tag


def test_the_member_may_claim_again_and_be_validated(decided, registry):
    petition, signature = decided
    signature_withdraw(signature_id=signature.pk)
    again = claim_and_confirm(petition, registry.members.first(), email="deputy.again@example.org")
    claim = claim_decide(claim=again.claim, actor=make_validator("viktor", registry), kind=DecisionKind.VALIDATE)
    assert claim.status == ClaimStatus.VALIDATED
    assert counts(petition) == TerritoryCounts(validated_other=1)


def test_a_withdrawn_claims_rejection_reversed_does_not_count_it_again(registry):
    petition = restricted_petition(registry)
    signature = claim_and_confirm(petition, registry.members.first())
    vera = make_validator("vera", registry)
    claim_decide(claim=signature.claim, actor=vera, kind=DecisionKind.REJECT, reason_code="not-the-member")
    signature_withdraw(signature_id=signature.pk)
    claim_reverse(claim=signature.claim, actor=vera, note="The member called.")
    assert Signature.objects.get(pk=signature.pk).is_withdrawn
    assert counts(petition) == TerritoryCounts()


def test_erasure_destroys_the_claims_sealed_values(decided):
    petition, signature = decided
    signature_erase(signature_id=signature.pk)
    claim = fresh(signature.claim)
    assert bytes(claim.member_sealed) == b""
    with pytest.raises(DecryptionError):
        member_ref_open(claim)
    assert claim.evidence_note_sealed is None and claim.evidence_document_sealed is None
    assert claim.evidence_deleted_at is not None
    assert not ClaimDecision.objects.filter(claim=claim, note_sealed__isnull=False).exists()
    assert counts(petition) == TerritoryCounts()
    assert verified_counts_reconcile(petition_id=petition.pk) == []


def test_withdrawal_goes_through_when_the_petitions_key_is_gone(decided):
    """After the data key is destroyed no sealed value opens: a withdrawal (by receipt, say)
    still withdraws; the frozen verified figures stay as they were."""
    petition, signature = decided
    DataKey.objects.filter(key_id=petition.data_key_id).update(destroyed_at=petition.created_at, wrapped_key=None)
    data_keys.forget(petition.data_key_id)
    assert signature_withdraw(signature_id=signature.pk)
    assert Signature.objects.get(pk=signature.pk).is_withdrawn


def test_a_fraud_finding_then_withdrawal(decided):
    petition, signature = decided
    signature_invalidate(signature=signature, reason="fraud")
    signature_withdraw(signature_id=signature.pk)
    assert counts(petition) == TerritoryCounts()
    assert verified_counts_reconcile(petition_id=petition.pk) == []


@pytest.mark.django_db(transaction=True)
def test_a_decision_locks_the_signature_before_the_claim(registry, postgres_only):
    """A withdrawal (or any invalidation) locks the signature, then reaches its claim through
    the counters; a rejection on a registry-only petition locked the claim, then invalidated
    the signature. At the same moment each waited for the other: PostgreSQL aborted one with a
    deadlock, a server error for the signer or the validator. A decision now takes the
    signature's lock first, so it waits for the withdrawal (held here by another session)."""
    petition = restricted_petition(registry)
    signature = claim_and_confirm(petition, registry.members.first())
    validator = make_validator("vera", registry)
    assert_waits_for_row(signature, lambda: claim_decide(claim=signature.claim, actor=validator, kind="validate"))
    assert claim_decide(claim=signature.claim, actor=validator, kind=DecisionKind.VALIDATE).status == "validated"


@pytest.mark.django_db(transaction=True)
def test_an_official_confirmation_locks_its_rivals_signatures_before_their_claims(registry, postgres_only):
    """Confirming from the member's official address rejects the other claims naming the
    member, invalidating their signatures on a registry-only petition: it locks those
    signatures before their claims, in a withdrawal's order (held here by another session)."""
    member = registry.members.first()
    petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
    rival = claim_and_confirm(petition, member)
    own = claim_and_confirm(petition, member, email=official_email(member), confirm=False)

    def confirmed() -> None:
        with transaction.atomic():  # as signature_confirm calls it
            claim_on_signature_confirmed(signature=own)

    assert_waits_for_row(rival, confirmed)
