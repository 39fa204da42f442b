"""Evidence is sealed under the petition's data key and deleted after its retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.verification.conftest import claim_and_confirm, make_validator, restricted_petition
from undersign.site.jobs import periodic_jobs
from undersign.verification.models import Claim, DecisionKind, Registry
from undersign.verification.selectors import claim_document, claim_evidence
from undersign.verification.services import claim_decide, claims_evidence_purge

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


def test_the_purge_is_a_periodic_job_and_a_beat_task(settings):
    assert claims_evidence_purge in [job.run for job in periodic_jobs()]
    assert (
        settings.CELERY_BEAT_SCHEDULE["purge-claim-evidence"]["task"]
        == "undersign.verification.tasks.purge_claim_evidence"
    )
