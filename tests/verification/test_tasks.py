"""``purge_claim_evidence``, the beat task that deletes a claim's evidence once its retention
after the decision has passed; called as Celery calls it (``delay``, eager in the tests)
against claims made, confirmed and decided through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.verification.conftest import claim_and_confirm, make_validator, restricted_petition
from undersign.verification.models import Claim, ClaimStatus, DecisionKind
from undersign.verification.selectors import claim_document, claim_evidence
from undersign.verification.services import claim_decide
from undersign.verification.tasks import purge_claim_evidence

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def run(task, *args):
    result = task.delay(*args)
    assert result.successful(), result.traceback
    return result


@pytest.fixture
def claims(registry):
    """Three claims with a note and a document: one decided past its retention, one decided
    today, one still pending."""
    petition = restricted_petition(registry)
    members = list(registry.members.order_by("pk")[:3])
    made = [
        claim_and_confirm(petition, member, note=f"Mandate no. {n}", document=PNG, content_type="image/png").claim
        for n, member in enumerate(members, start=1)
    ]
    validator = make_validator("vera", registry)
    for claim in made[:2]:
        claim_decide(claim=claim, actor=validator, kind=DecisionKind.VALIDATE)
    return [Claim.objects.get(pk=claim.pk) for claim in made]


def age_decision(claim: Claim, days: int) -> None:
    Claim.objects.filter(pk=claim.pk).update(decided_at=timezone.now() - timedelta(days=days))


def has_evidence(claim: Claim) -> bool:
    claim.refresh_from_db()
    return claim.evidence_deleted_at is None and claim_document(claim=claim) == PNG


def test_deletes_the_evidence_of_a_claim_decided_past_its_retention(claims, settings):
    settings.EVIDENCE_RETENTION_DAYS = 30
    expired, recent, undecided = claims
    age_decision(expired, days=31)
    assert [c.status for c in (expired, recent, undecided)] == [
        ClaimStatus.VALIDATED,
        ClaimStatus.VALIDATED,
        ClaimStatus.PENDING,
    ]
    assert all(has_evidence(claim) for claim in claims)

    run(purge_claim_evidence)

    expired.refresh_from_db()
    assert expired.evidence_note_sealed is None
    assert expired.evidence_document_sealed is None
    assert expired.evidence_content_type == ""
    assert expired.evidence_deleted_at is not None
    assert claim_evidence(claim=expired).deleted
    assert expired.status == ClaimStatus.VALIDATED  # the decision stays; only the evidence goes
    assert has_evidence(recent)
    assert claim_evidence(claim=recent).note == "Mandate no. 2"
    assert has_evidence(undecided)


def test_a_claim_decided_within_its_retention_keeps_its_evidence(claims, settings):
    settings.EVIDENCE_RETENTION_DAYS = 30
    age_decision(claims[0], days=29)
    run(purge_claim_evidence)
    assert all(has_evidence(claim) for claim in claims)


def test_a_second_run_leaves_the_deletion_time_alone(claims, settings):
    settings.EVIDENCE_RETENTION_DAYS = 30
    age_decision(claims[0], days=40)
    run(purge_claim_evidence)
    deleted_at = Claim.objects.get(pk=claims[0].pk).evidence_deleted_at

    run(purge_claim_evidence)

    assert Claim.objects.get(pk=claims[0].pk).evidence_deleted_at == deleted_at


def test_as_a_worker_runs_it(claims, settings):
    settings.EVIDENCE_RETENTION_DAYS = 0  # every decided claim is past its retention
    result = purge_claim_evidence.apply()
    assert result.successful(), result.traceback
    assert [has_evidence(claim) for claim in claims] == [False, False, True]
