"""What staff read about retention: a petition's signatures by status and the moments the jobs
act on it, and each job with its settings and runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from undersign.petitions.models import Petition, PetitionState
from undersign.retention.models import RetentionRun
from undersign.retention.registry import retention_jobs_registered
from undersign.retention.selectors import (
    RUNS_SHOWN,
    personal_data_destruction_at,
    petition_lifecycle,
    retention_jobs_summary,
    retention_next_run_at,
)
from undersign.retention.services import retention_jobs_run_all
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_create, signature_invalidate

pytestmark = pytest.mark.django_db
HOUR = timedelta(seconds=settings.RETENTION_INTERVAL_SECONDS)


class TestPetitionLifecycle:
    def test_counts_signatures_by_status_withdrawn_apart(self):
        petition = make_petition()  # its creator: confirmed
        confirmed = [sign_and_confirm(petition) for _ in range(4)]
        signature_invalidate(signature=confirmed[0], reason="withdrawn")
        signature_invalidate(signature=confirmed[1], reason="fraud")
        signature_create(petition=petition, details=signer())
        signature_create(petition=petition, details=signer())

        lifecycle = petition_lifecycle(petition=petition)

        assert (lifecycle.pending, lifecycle.confirmed, lifecycle.withdrawn, lifecycle.invalidated) == (2, 3, 1, 1)

    def test_gives_the_moments_the_jobs_act(self, settings):
        settings.IP_RETENTION_DAYS = 7
        petition = make_petition()
        creator = Signature.objects.get(petition=petition)
        _, early = signature_create(petition=petition, details=signer())
        _, late = signature_create(petition=petition, details=signer())
        deliver_outbox()
        sent = dict(Signature.objects.filter(pk__in=[early, late]).values_list("pk", "token_sent_at"))
        link = timedelta(days=settings.CONFIRMATION_LINK_DAYS)

        lifecycle = petition_lifecycle(petition=petition)

        assert lifecycle.ips_dropped_from == creator.created_at + timedelta(days=7)
        assert lifecycle.unconfirmed_expire_from == sent[early] + link
        assert lifecycle.unconfirmed_expire_until == sent[late] + link
        assert lifecycle.personal_data_destruction_at is None  # open: no date yet

    def test_a_closed_petition_has_its_destruction_date(self):
        petition = make_petition(state=PetitionState.CLOSED)
        assert petition_lifecycle(petition=petition).personal_data_destruction_at == personal_data_destruction_at(
            petition
        )
        assert petition_lifecycle(petition=petition).personal_data_destruction_at is not None

    def test_nothing_to_expire_when_nothing_is_pending_or_kept(self):
        petition = make_petition()
        Signature.objects.filter(petition=petition).update(ip_sealed=None)
        lifecycle = petition_lifecycle(petition=petition)
        assert lifecycle.ips_dropped_from is None
        assert lifecycle.unconfirmed_expire_from is None and lifecycle.unconfirmed_expire_until is None

    def test_a_pending_petitions_creator_is_not_among_the_expiring(self):
        petition = make_petition()
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.PENDING)
        Signature.objects.filter(petition=petition).update(status="pending", confirmed_at=None, commitment=None)
        lifecycle = petition_lifecycle(petition=Petition.objects.get(pk=petition.pk))
        assert lifecycle.pending == 1
        assert lifecycle.unconfirmed_expire_from is None


class TestRuns:
    def test_the_next_run_follows_the_latest_by_the_interval(self):
        assert retention_next_run_at() is None
        retention_jobs_run_all()
        latest = RetentionRun.objects.order_by("-started_at").first()
        assert retention_next_run_at() == latest.started_at + HOUR
        assert petition_lifecycle(petition=make_petition()).next_run_at == latest.started_at + HOUR

    def test_every_job_is_listed_in_order_with_its_settings_and_latest_runs(self, settings):
        settings.IP_RETENTION_DAYS = 3
        now = timezone.now()
        for n in range(RUNS_SHOWN + 2):
            RetentionRun.objects.create(job="drop signers' IP addresses", started_at=now - timedelta(hours=n), items=n)

        summary = retention_jobs_summary()

        assert [job.name for job in summary] == [job.name for job in retention_jobs_registered()]
        ips = next(job for job in summary if job.name == "drop signers' IP addresses")
        assert ips.settings == [("IP_RETENTION_DAYS", 3)]
        assert [run.items for run in ips.runs] == list(range(RUNS_SHOWN))  # the latest first
        assert ips.next_run_at == now + HOUR
        assert all(job.runs == [] and job.next_run_at is None for job in summary if job is not ips)
