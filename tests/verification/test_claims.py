"""Claims: made while signing, validated by the official e-mail on record, decided by
validators (one or two), competing, reversed; and what a rejection does to the count."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.signatures.models import SignatureStatus
from undersign.signatures.services import signature_confirm
from undersign.transparency.services import log_integrate_all
from undersign.verification import services
from undersign.verification.models import Claim, ClaimDecision, ClaimMethod, ClaimStatus, DecisionKind, SigningPolicy
from undersign.verification.selectors import claim_member, verification_summary
from undersign.verification.services import (
    ClaimRefused,
    ClaimRequest,
    claim_decide,
    claim_reverse,
    signature_create_with_claim,
)

pytestmark = pytest.mark.django_db


def member(registry, n: int = 1):
    return registry.members.get(external_id=f"{registry.slug}-{n}")


def claimed(claim):
    return claim_member(claim=Claim.objects.select_related("signature").get(pk=claim.pk))


class TestValidationByOfficialEmail:
    def test_confirming_at_the_members_own_address_validates(self, registry):
        petition = restricted_petition(registry)
        deputy = member(registry)
        signature = claim_and_confirm(petition, deputy, email="Deputy1@spb.council.example")
        claim = signature.claim
        assert claim.status == ClaimStatus.VALIDATED and claim.method == ClaimMethod.OFFICIAL_EMAIL
        decision = ClaimDecision.objects.get(claim=claim)
        assert decision.by_official_email and decision.actor is None and decision.outcome == ClaimStatus.VALIDATED

    def test_an_address_on_the_official_domain_is_only_evidence(self, registry):
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, member(registry), email="clerk@spb.council.example")
        claim = signature.claim
        assert claim.status == ClaimStatus.PENDING and claim.on_official_domain
        assert not ClaimDecision.objects.filter(claim=claim).exists()

    def test_an_unconfirmed_signature_leaves_the_claim_pending(self, registry):
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, member(registry), email="deputy1@spb.council.example", confirm=False)
        assert signature.claim.status == ClaimStatus.PENDING

    def test_the_official_address_wins_over_other_claims_naming_the_member(self, registry):
        petition = restricted_petition(registry)
        deputy = member(registry)
        validator = make_validator("vera", registry)
        first = claim_and_confirm(petition, deputy, email="someone@example.org").claim
        claim_decide(claim=first, actor=validator, kind=DecisionKind.VALIDATE)
        fake = claim_and_confirm(petition, deputy, email="impostor@example.org").claim
        # The real deputy confirms at the official address: that claim wins by itself.
        official = claim_and_confirm(petition, deputy, email="deputy1@spb.council.example").claim
        assert official.status == ClaimStatus.VALIDATED and official.method == ClaimMethod.OFFICIAL_EMAIL
        for loser in (first, fake):
            loser.refresh_from_db()
            assert loser.status == ClaimStatus.REJECTED
            decision = ClaimDecision.objects.filter(claim=loser).latest("pk")
            assert decision.kind == DecisionKind.OVERRIDE and decision.reason_code == "member-holds-claim"
            assert decision.by_official_email and decision.actor is None
            # On a registry-only petition, a rejected claim's signature stops counting.
            assert loser.signature.status == SignatureStatus.INVALIDATED
        with pytest.raises(ClaimRefused, match="already rejected"):
            claim_decide(claim=fake, actor=validator, kind=DecisionKind.VALIDATE)

    def test_no_decision_is_recorded_when_a_validator_moved_the_claim_first(self, registry, monkeypatch):
        petition = restricted_petition(registry)
        deputy = member(registry)
        signature = claim_and_confirm(petition, deputy, email="deputy1@spb.council.example", confirm=False)
        claim = signature.claim
        real_move = services._claim_move

        def validator_first(moving, *, decision, **fields):
            # A validator rejects the claim between the read and the guarded UPDATE.
            Claim.objects.filter(pk=moving.pk).update(status=ClaimStatus.REJECTED, decided_at=timezone.now())
            return real_move(moving, decision=decision, **fields)

        monkeypatch.setattr(services, "_claim_move", validator_first)
        sid, token = last_confirm_link("deputy1@spb.council.example")
        signature_confirm(token=token)
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REJECTED
        assert not ClaimDecision.objects.filter(claim=claim, kind=DecisionKind.VALIDATE).exists()


class TestSeveralClaimsForOneMember:
    def test_five_fake_claims_wait_side_by_side_and_do_not_move_the_verified_count(self, registry):
        petition = restricted_petition(registry, quorum_verified=1)
        deputy = member(registry)
        for n in range(5):
            claim_and_confirm(petition, deputy, email=f"fake{n}@example.org")
        claims = Claim.objects.filter(petition=petition)
        assert claims.count() == 5 and {c.status for c in claims} == {ClaimStatus.PENDING}
        assert len({bytes(c.member_tag) for c in claims}) == 1  # the same member, by tag
        summary = verification_summary(petition=petition, published=False)
        assert (summary.verified, summary.pending) == (0, 5)
        assert not summary.quorum.met and summary.quorum.verified == 0


class TestValidators:
    def test_one_validator_decides_on_a_one_validator_registry(self, registry):
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, member(registry)).claim
        claim = claim_decide(claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE)
        assert claim.status == ClaimStatus.VALIDATED and claim.method == ClaimMethod.VALIDATORS

    def test_two_validator_registries_need_two_distinct_validators_agreeing(self, db):
        registry = make_registry("msk", validators_required=2)
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, member(registry)).claim
        vera, viktor, vlad = (make_validator(name, registry) for name in ("vera", "viktor", "vlad"))
        assert claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE).status == ClaimStatus.PENDING
        with pytest.raises(ClaimRefused, match="another validator must decide too"):
            claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        # Disagreement decides nothing.
        assert claim_decide(claim=claim, actor=viktor, kind=DecisionKind.REJECT, reason_code="no-evidence").status == (
            ClaimStatus.PENDING
        )
        assert claim_decide(claim=claim, actor=vlad, kind=DecisionKind.VALIDATE).status == ClaimStatus.VALIDATED
        assert [d.outcome for d in ClaimDecision.objects.filter(claim=claim)] == ["pending", "pending", "validated"]

    def test_votes_before_a_reversal_do_not_count_after_it(self, db):
        registry = make_registry("msk", validators_required=2)
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, member(registry)).claim
        vera, viktor = make_validator("vera", registry), make_validator("viktor", registry)
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        claim_decide(claim=claim, actor=viktor, kind=DecisionKind.VALIDATE)
        claim = claim_reverse(claim=claim, actor=vera, note="Checked again: wrong person.")
        assert claim.status == ClaimStatus.PENDING and claim.round == 2
        assert claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE).status == ClaimStatus.PENDING

    def test_a_rejection_needs_a_reason(self, registry):
        claim = claim_and_confirm(restricted_petition(registry), member(registry)).claim
        with pytest.raises(ClaimRefused, match="reason"):
            claim_decide(claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.REJECT)

    def test_a_decided_claim_cannot_be_decided_again_nor_a_pending_one_reversed(self, registry):
        claim = claim_and_confirm(restricted_petition(registry), member(registry)).claim
        vera = make_validator("vera", registry)
        with pytest.raises(ClaimRefused, match="no decision to reverse"):
            claim_reverse(claim=claim, actor=vera, note="why")
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        with pytest.raises(ClaimRefused, match="already validated"):
            claim_decide(claim=claim, actor=vera, kind=DecisionKind.REJECT, reason_code="no-evidence")

    def test_an_unconfirmed_signatures_claim_cannot_be_decided(self, registry):
        claim = claim_and_confirm(restricted_petition(registry), member(registry), confirm=False).claim
        with pytest.raises(ClaimRefused, match="not confirmed"):
            claim_decide(claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE)


class TestWhatARejectionDoesToTheCount:
    def test_on_a_registry_only_petition_the_signature_stops_counting_and_a_reversal_restores_it(self, registry):
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, member(registry))
        log_integrate_all()
        petition.refresh_from_db()
        before = petition.signature_count
        vera = make_validator("vera", registry)
        claim_decide(claim=signature.claim, actor=vera, kind=DecisionKind.REJECT, reason_code="not-the-member")
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.INVALIDATED and signature.invalidation_reason == "claim_rejected"
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.signature_count == before - 1
        claim_reverse(claim=signature.claim, actor=vera, note="The member called to confirm.")
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.signature_count == before

    def test_elsewhere_a_rejected_claim_leaves_an_ordinary_signature(self, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        signature = claim_and_confirm(petition, member(registry))
        claim_decide(
            claim=signature.claim,
            actor=make_validator("vera", registry),
            kind=DecisionKind.REJECT,
            reason_code="no-evidence",
        )
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED


class TestSigningAgain:
    def test_a_pending_signature_signed_again_takes_the_new_claim_or_loses_it(self, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        person = signer(email="same@example.org")
        _, sid = signature_create_with_claim(
            petition=petition, details=person, claim=ClaimRequest(member=member(registry))
        )
        signature_create_with_claim(petition=petition, details=person, claim=ClaimRequest(member=member(registry, 2)))
        assert claimed(Claim.objects.get(signature_id=sid)) == member(registry, 2)
        signature_create_with_claim(petition=petition, details=person, claim=None)
        assert not Claim.objects.filter(signature_id=sid).exists()

    def test_a_confirmed_signature_keeps_its_claim(self, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        signature = claim_and_confirm(petition, member(registry), email="same@example.org")
        signature_create_with_claim(
            petition=petition, details=signer(email="same@example.org"), claim=ClaimRequest(member=member(registry, 3))
        )
        assert claimed(Claim.objects.get(signature=signature)) == member(registry)


def test_a_petition_without_a_policy_confirms_as_before(db):
    signature = sign_and_confirm(make_petition())
    assert signature.status == SignatureStatus.CONFIRMED and not Claim.objects.exists()
