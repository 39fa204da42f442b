"""Evidence is sealed under the petition's data key and deleted after its retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.verification.conftest import claim_and_confirm, make_validator, restricted_petition
from undersign.retention.registry import retention_jobs
from undersign.site.jobs import periodic_jobs
from undersign.verification.models import Claim, ClaimDecision, DecisionKind, Registry
from undersign.verification.selectors import claim_decisions, claim_document, claim_evidence
from undersign.verification.services import claim_decide, claims_evidence_purge, decision_notes_delete

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def claim(registry):
    petition = restricted_petition(registry)
    return claim_and_confirm(
        petition, registry.members.first(), note="Mandate no. 4471", document=PNG, content_type="image/png"
    ).claim


def test_evidence_is_sealed_and_opens_only_for_its_claim(claim):
    assert b"4471" not in bytes(claim.evidence_note_sealed)
    assert claim_evidence(claim=claim).note == "Mandate no. 4471"
    assert claim_document(claim=claim) == PNG
    # Bound to its signature: moved to another claim's row, it no longer opens.
    other = claim_and_confirm(claim.petition, Registry.objects.get().members.last()).claim
    Claim.objects.filter(pk=other.pk).update(evidence_document_sealed=claim.evidence_document_sealed)
    other.refresh_from_db()
    assert claim_document(claim=other) is None


def test_evidence_is_deleted_retention_days_after_the_decision(claim, settings):
    settings.EVIDENCE_RETENTION_DAYS = 30
    claim_decide(claim=claim, actor=make_validator("vera", Registry.objects.get()), kind=DecisionKind.VALIDATE)
    claim.refresh_from_db()
    assert claims_evidence_purge(now=claim.decided_at + timedelta(days=29)) == 0
    assert claims_evidence_purge(now=claim.decided_at + timedelta(days=30)) == 1
    claim.refresh_from_db()
    assert claim.evidence_note_sealed is None and claim.evidence_document_sealed is None
    assert claim.evidence_deleted_at is not None and claim_evidence(claim=claim).deleted


def test_pending_claims_keep_their_evidence(claim):
    assert claims_evidence_purge(now=timezone.now() + timedelta(days=3650)) == 0


def test_the_purge_is_a_retention_job_with_no_schedule_of_its_own(settings):
    """It runs with the other retention jobs (the hourly ``apply-retention-rules``), each run
    recorded; its own periodic job and beat entry are gone."""
    assert retention_jobs()["delete claim evidence"] is claims_evidence_purge
    assert claims_evidence_purge not in [job.run for job in periodic_jobs()]
    assert "purge-claim-evidence" not in settings.CELERY_BEAT_SCHEDULE


class TestDecisionNotes:
    def test_a_note_goes_retention_days_after_its_decision_and_the_decision_stays(self, claim, settings):
        settings.DECISION_NOTE_RETENTION_DAYS = 365
        validator = make_validator("vera", Registry.objects.get())
        claim_decide(claim=claim, actor=validator, kind=DecisionKind.VALIDATE, note="Called the council: 555-0100")
        decision = ClaimDecision.objects.get(claim=claim)
        assert [row.note for row in claim_decisions(claim=claim)] == ["Called the council: 555-0100"]

        assert decision_notes_delete(decision.created_at + timedelta(days=364)) == 0
        assert decision_notes_delete(decision.created_at + timedelta(days=365)) == 1

        decision.refresh_from_db()
        assert decision.note_sealed is None
        assert (decision.kind, decision.actor, decision.outcome) == (DecisionKind.VALIDATE, validator, "validated")
        assert [row.note for row in claim_decisions(claim=claim)] == [""]  # the claim's page still opens

    def test_notes_outlive_the_evidence_until_their_own_retention(self, claim, settings):
        """The evidence purge leaves the notes to their own job: neither outlives its retention."""
        settings.EVIDENCE_RETENTION_DAYS, settings.DECISION_NOTE_RETENTION_DAYS = 30, 365
        claim_decide(
            claim=claim, actor=make_validator("vera", Registry.objects.get()), kind=DecisionKind.VALIDATE, note="n"
        )
        decided = ClaimDecision.objects.get(claim=claim).created_at
        claims_evidence_purge(decided + timedelta(days=30))
        assert ClaimDecision.objects.get(claim=claim).note_sealed is not None
        decision_notes_delete(decided + timedelta(days=365))
        assert ClaimDecision.objects.get(claim=claim).note_sealed is None

    def test_decisions_without_a_note_are_not_counted(self, claim, settings):
        settings.DECISION_NOTE_RETENTION_DAYS = 0
        claim_decide(claim=claim, actor=make_validator("vera", Registry.objects.get()), kind=DecisionKind.VALIDATE)
        assert decision_notes_delete(timezone.now() + timedelta(days=1)) == 0
