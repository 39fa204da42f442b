"""``apply_retention_rules``, the hourly beat task that runs every retention job, called as Celery
calls it; the claims' evidence (whose own task it replaced) stands in for the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.retention import registry
from undersign.retention.models import RetentionRun
from undersign.retention.registry import retention_jobs_registered
from undersign.retention.tasks import apply_retention_rules
from undersign.verification.models import Claim, DecisionKind
from undersign.verification.selectors import claim_document, claim_evidence
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def claims(db):
    """Two claims decided (with a note and a document), and one still pending."""
    registry = make_registry()
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


def has_evidence(claim: Claim) -> bool:
    claim.refresh_from_db()
    return claim.evidence_deleted_at is None and claim_document(claim=claim) == PNG


def test_runs_every_job_once_and_records_each(claims):
    result = apply_retention_rules.delay()
    assert result.successful(), result.traceback
    assert sorted(RetentionRun.objects.values_list("job", flat=True)) == sorted(
        job.name for job in retention_jobs_registered()
    )


def test_deletes_evidence_past_its_retention_and_keeps_the_rest(claims, settings):
    settings.EVIDENCE_RETENTION_DAYS = 30
    expired, recent, undecided = claims
    Claim.objects.filter(pk=expired.pk).update(decided_at=timezone.now() - timedelta(days=31))

    result = apply_retention_rules.apply()  # what a worker does with beat's message

    assert result.successful(), result.traceback
    assert not has_evidence(expired)
    assert claim_evidence(claim=expired).deleted
    assert has_evidence(recent) and has_evidence(undecided)
    run = RetentionRun.objects.get(job="delete claim evidence")
    assert (run.items, run.error) == (1, "")


def test_a_failing_job_is_recorded_and_the_others_still_run(claims, settings, monkeypatch, caplog):
    settings.EVIDENCE_RETENTION_DAYS = 0

    def broken(now):
        raise RuntimeError("someone@example.org")  # a message that must not be kept

    first = retention_jobs_registered()[0]
    monkeypatch.setitem(registry._JOBS, first.name, first._replace(work=broken))

    assert apply_retention_rules.apply().successful()

    failed = RetentionRun.objects.get(job=first.name)
    assert failed.error == "RuntimeError" and failed.finished_at is not None
    assert "RuntimeError" in caplog.text and "someone@example.org" not in caplog.text
    assert not has_evidence(claims[0])  # a later job ran all the same
