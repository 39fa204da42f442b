"""Verification decisions in the transparency log: each move of a registry-only petition's claim
holds a DECISION entry; the petition's next breakdown snapshot releases them (never the
decision itself); the member tag is deterministic per (petition, registry, member), differs
across petitions and dies with the petition's data key; the registry is named only where it
spans at least k territories; a missed decision is recovered by the next snapshot."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import take_breakdown_snapshot
from tests.verification.conftest import (
    claim_and_confirm,
    make_validator,
    official_email,
    registry_csv,
    restricted_petition,
)
from undersign.core.crypto import DecryptionError, data_key_destroy
from undersign.counting.services import breakdown_snapshot_take, breakdown_snapshots_take_due
from undersign.petitions.models import Petition
from undersign.signatures.models import SignatureStatus
from undersign.signatures.withdrawal import signature_withdraw
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import log_integrate_all
from undersign.verification.member_ref import log_member_tag, member_ref_open
from undersign.verification.models import Claim, ClaimStatus, DecisionKind, Registry, SigningPolicy
from undersign.verification.selectors import verification_summary
from undersign.verification.services import (
    claim_decide,
    claim_decisions_release,
    claim_decisions_waiting,
    claim_reverse,
    registry_import,
)
from undersign_verify.entries import DecisionOutcome, decode_entry, registry_digest

pytestmark = pytest.mark.django_db
O = DecisionOutcome  # noqa: E741 - the outcomes read as O.VALIDATED, O.REJECTED


def decisions(petition, *, held: bool | None = None) -> list:
    rows = LogEntry.objects.filter(petition=petition, kind=LogEntryKind.DECISION)
    if held is not None:
        rows = rows.filter(held=held)
    return [decode_entry(bytes(body)) for body in rows.order_by("pk").values_list("body", flat=True)]


def appended(petition) -> list:
    rows = LogEntry.objects.filter(petition=petition, kind=LogEntryKind.DECISION, leaf_index__isnull=False)
    return [decode_entry(bytes(body)) for body in rows.order_by("leaf_index").values_list("body", flat=True)]


def snapshot_and_integrate(petition) -> None:
    assert take_breakdown_snapshot(petition) is not None  # integrates the log after it


@pytest.fixture(autouse=True)
def every_arrival_makes_a_snapshot_due(settings):
    """k = 1: a snapshot is due whenever its time has come (the tests of the due rule are in
    tests/counting); the registry-naming tests set their own k."""
    settings.K_ANONYMITY = 1


@pytest.fixture
def vera(registry):
    return make_validator("vera", registry)


class TestQueuedNotAppended:
    def test_a_validation_waits_for_the_snapshot(self, registry, vera):
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, registry.members.first())
        log_integrate_all()
        claim_decide(claim=signature.claim, actor=vera, kind=DecisionKind.VALIDATE)
        log_integrate_all()
        assert appended(petition) == []  # decided, integrated, and still not in the log
        [held] = decisions(petition, held=True)
        assert held.outcome == O.VALIDATED and held.digest == bytes(signature.commitment)
        assert Claim.objects.get(pk=signature.claim.pk).logged_status == ClaimStatus.VALIDATED

        snapshot_and_integrate(petition)
        assert [(e.digest, e.outcome) for e in appended(petition)] == [(bytes(signature.commitment), O.VALIDATED)]
        assert decisions(petition, held=True) == []

    def test_an_official_email_validation_waits_too(self, registry):
        """Validated inside the confirmation: an entry appended then would date it to the
        second, beside the deputy's official mailbox receiving the mail."""
        petition = restricted_petition(registry)
        deputy = registry.members.first()
        claim_and_confirm(petition, deputy, email=official_email(deputy))
        log_integrate_all()
        assert appended(petition) == [] and [e.outcome for e in decisions(petition, held=True)] == [O.VALIDATED]

    def test_every_move_leaves_its_entry(self, registry, vera):
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, registry.members.first()).claim
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        claim_reverse(claim=claim, actor=vera, note="The mandate had ended")
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.REJECT, reason_code="no-evidence")
        claim_reverse(claim=claim, actor=vera, note="The mandate was renewed")
        assert [e.outcome for e in decisions(petition)] == [O.VALIDATED, O.REVOKED, O.REJECTED, O.REINSTATED]
        # Only a validation names its member: the rule needs no more.
        assert [bool(e.member_tag) for e in decisions(petition)] == [True, False, False, False]

    def test_an_override_is_a_rejection(self, registry, vera):
        petition = restricted_petition(registry)
        deputy = registry.members.first()
        impostor = claim_and_confirm(petition, deputy, email="someone@example.org").claim
        claim_decide(claim=impostor, actor=vera, kind=DecisionKind.VALIDATE)
        claim_and_confirm(petition, deputy, email=official_email(deputy))
        by_claim = {}
        for entry in decisions(petition):
            by_claim.setdefault(entry.digest, []).append(entry.outcome)
        assert sorted(by_claim.values()) == [[O.VALIDATED], [O.VALIDATED, O.REJECTED]]

    def test_petitions_open_to_anyone_log_no_decisions(self, registry, vera):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        claim = claim_and_confirm(petition, registry.members.first()).claim
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        assert decisions(petition) == []
        assert Claim.objects.get(pk=claim.pk).logged_status == ClaimStatus.VALIDATED  # level: nothing to log
        assert not claim_decisions_waiting()


class TestReleasedWithTheSnapshot:
    def test_a_snapshot_not_due_releases_nothing_and_one_taken_twice_releases_once(self, registry, vera, settings):
        settings.K_ANONYMITY = 2
        petition = restricted_petition(registry)
        first = claim_and_confirm(petition, registry.members.all()[0]).claim
        log_integrate_all()
        claim_decide(claim=first, actor=vera, kind=DecisionKind.VALIDATE)
        # One region-private arrival, fewer than k: the snapshot waits for company, and so do
        # the decisions.
        now = timezone.now()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=now) is None
        assert len(decisions(petition, held=True)) == 1
        claim_and_confirm(petition, registry.members.all()[1])
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=now) is not None
        assert breakdown_snapshot_take(petition_id=petition.pk, now=now) is None  # not due again
        assert claim_decisions_release(petition_id=petition.pk) == 0  # nothing left to release
        log_integrate_all()
        assert len(appended(petition)) == 1

    def test_decisions_alone_make_a_snapshot_due(self, registry, vera):
        """A validation moves no log: the petition still gets its snapshot on schedule, and the
        decision its release."""
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, registry.members.first()).claim
        log_integrate_all()
        snapshot_and_integrate(petition)
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        assert claim_decisions_waiting() == {petition.pk}
        later = timezone.now() + timezone.timedelta(hours=2)
        assert breakdown_snapshots_take_due(now=later) == 1
        log_integrate_all()
        assert [e.outcome for e in appended(petition)] == [O.VALIDATED]
        assert claim_decisions_waiting() == set()

    def test_a_missed_decision_is_recovered_by_the_next_snapshot(self, registry, vera):
        """A decision taken before the log kept them (or any a failure left behind): the claim
        is behind its log, the sweep asks for a snapshot, and the snapshot logs it first."""
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, registry.members.first()).claim
        log_integrate_all()
        Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.VALIDATED, decided_at=timezone.now())
        assert claim_decisions_waiting() == {petition.pk}
        snapshot_and_integrate(petition)
        assert [e.outcome for e in appended(petition)] == [O.VALIDATED]
        assert Claim.objects.get(pk=claim.pk).logged_status == ClaimStatus.VALIDATED
        assert claim_decisions_waiting() == set()

    def test_a_withdrawn_signatures_claim_is_not_logged_after_it_left(self, registry, vera):
        petition = restricted_petition(registry)
        signature = claim_and_confirm(petition, registry.members.first())
        Claim.objects.filter(pk=signature.claim.pk).update(status=ClaimStatus.VALIDATED, decided_at=timezone.now())
        assert signature_withdraw(signature_id=signature.pk)
        snapshot_and_integrate(petition)
        assert appended(petition) == [] and claim_decisions_waiting() == set()


class TestMemberTag:
    def test_deterministic_per_petition_registry_and_member_and_different_across_petitions(self, registry, vera):
        first, second = restricted_petition(registry), restricted_petition(registry)
        deputy, other = registry.members.all()[:2]
        claims = [claim_and_confirm(p, deputy).claim for p in (first, second)]
        for claim in claims:
            claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
        # The same member again on the first petition, after the first claim is taken back.
        claim_reverse(claim=claims[0], actor=vera, note="Wrong signature")
        again = claim_and_confirm(first, deputy, email="deputy-again@example.org").claim
        claim_decide(claim=again, actor=vera, kind=DecisionKind.VALIDATE)
        third = claim_and_confirm(first, other).claim
        claim_decide(claim=third, actor=vera, kind=DecisionKind.VALIDATE)

        tags_first = [e.member_tag for e in decisions(first) if e.outcome == O.VALIDATED]
        [tag_second] = [e.member_tag for e in decisions(second) if e.outcome == O.VALIDATED]
        assert tags_first[0] == tags_first[1] != tags_first[2]  # same member, same tag; another, another
        assert tag_second != tags_first[0]  # the same member on another petition: unlinkable
        ref = member_ref_open(Claim.objects.select_related("signature").get(pk=again.pk))
        assert tags_first[0] == log_member_tag(
            petition_uuid=first.uuid,
            data_key_id=first.data_key_id,
            registry_id=ref.registry_id,
            member_id=ref.member_id,
        )
        assert tags_first[0] != bytes(Claim.objects.get(pk=again.pk).member_tag)  # not the member-tag key's

    def test_it_dies_with_the_petitions_data_key(self, registry):
        petition = restricted_petition(registry)
        deputy = registry.members.first()
        args = {"petition_uuid": petition.uuid, "registry_id": registry.pk, "member_id": deputy.pk}
        assert log_member_tag(data_key_id=petition.data_key_id, **args)
        data_key_destroy(key_id=petition.data_key_id, now=timezone.now())
        with pytest.raises(DecryptionError):
            log_member_tag(data_key_id=petition.data_key_id, **args)


class TestRegistryNamed:
    def registry_over(self, territories: int, slug: str) -> Registry:
        registry = Registry.objects.create(name=f"Deputies {slug}", slug=slug, official_domain="council.example")
        rows = [
            (f"Deputy {slug} {n}", "Deputy", "", f"T{n % territories}", "", "", f"{slug}-{n}")
            for n in range(max(territories, 3))
        ]
        registry_import(registry=registry, data=registry_csv(rows), source="test")
        return registry

    @pytest.mark.parametrize(("territories", "named"), [(1, False), (4, False), (5, True), (9, True)])
    def test_only_where_it_spans_at_least_k_territories(self, territories, named, settings):
        settings.K_ANONYMITY = 5
        registry = self.registry_over(territories, f"r{territories}")
        petition = restricted_petition(registry)
        claim = claim_and_confirm(petition, registry.members.first()).claim
        claim_decide(claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE)
        [entry] = decisions(petition)
        assert entry.registry == (registry_digest(registry.slug) if named else b"")


def test_the_public_verified_count_is_the_logs(registry, vera):
    """On a registry-only petition the pages' verified count is the log's rule at the checkpoint
    the petition names, so it moves when the snapshot's decisions are appended, and when a
    verified signature stops counting."""
    petition = restricted_petition(registry)
    signatures = [claim_and_confirm(petition, m) for m in registry.members.all()[:3]]
    for signature in signatures:
        claim_decide(claim=signature.claim, actor=vera, kind=DecisionKind.VALIDATE)
    log_integrate_all()
    snapshot_and_integrate(petition)
    summary = verification_summary(petition=petition)
    size = Petition.objects.get(pk=petition.pk).counted_at_size
    assert (summary.verified, summary.verified_log_size, summary.verified_at_figures) == (3, size, 3)
    assert summary.quorum is None and summary.unclaimed == 1  # the creator's signature, unclaimed

    assert signature_withdraw(signature_id=signatures[0].pk)
    log_integrate_all()
    assert verification_summary(petition=petition).verified == 2  # the log moved; the snapshot not yet
    assert Claim.objects.get(pk=signatures[0].claim.pk).signature.status == SignatureStatus.INVALIDATED
