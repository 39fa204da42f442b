"""The retention app's own jobs and its registry: petitions whose creators never confirmed are
deleted whole, old run records go, and every job of every app is registered and recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, signer
from tests.verification.conftest import make_registry
from undersign.core.crypto import DecryptionError
from undersign.core.models import DataKey, OutboundEmail
from undersign.petitions.models import Petition, PetitionEvent, PetitionState
from undersign.petitions.services import PetitionText
from undersign.retention.jobs import JOBS
from undersign.retention.models import RetentionRun
from undersign.retention.registry import register_retention_job, retention_jobs_registered
from undersign.retention.selectors import personal_data_destruction_at
from undersign.retention.services import (
    petitions_unconfirmed_delete,
    retention_jobs_run_all,
    retention_runs_delete_expired,
)
from undersign.signatures.models import Signature
from undersign.signatures.personal_data import signer_name
from undersign.signatures.services import signature_confirm
from undersign.site.services import petition_start
from undersign.verification.models import PetitionVerification, SigningPolicy

pytestmark = pytest.mark.django_db
TICK = timedelta(microseconds=1)


def unconfirmed_petition(email: str = "charlie@example.org", **verification) -> Petition:
    """A petition as the create wizard leaves it: pending, its creator's link mailed."""
    petition = petition_start(
        text=PetitionText(action="Light the underpass", background="It is dark at night.", additional_details=""),
        creator=signer(email=email),
        verification=verification or None,
    )
    deliver_outbox()
    return Petition.objects.get(pk=petition.pk)


class TestUnconfirmedPetitions:
    def test_deleted_whole_at_the_moment_the_rule_gives_and_not_before(self):
        registry = make_registry()
        petition = unconfirmed_petition(policy=SigningPolicy.REGISTRY_ONLY, registries=[registry])
        creator = Signature.objects.get(petition=petition)
        key_id = petition.data_key_id
        assert signer_name(creator)  # opens while the key exists
        due = personal_data_destruction_at(petition)
        assert due == petition.created_at + timedelta(days=settings.UNCONFIRMED_PETITION_RETENTION_DAYS)

        assert petitions_unconfirmed_delete(due - TICK) == 0
        assert Petition.objects.filter(pk=petition.pk).exists()

        assert petitions_unconfirmed_delete(due) == 1
        assert not Petition.objects.filter(pk=petition.pk).exists()
        assert not Signature.objects.filter(pk=creator.pk).exists()
        assert not PetitionEvent.objects.filter(petition_id=petition.pk).exists()
        assert not PetitionVerification.objects.filter(petition_id=petition.pk).exists()
        assert not OutboundEmail.objects.filter(petition_id=petition.pk).exists()
        assert not OutboundEmail.objects.filter(signature_id=creator.pk).exists()
        # The data key is gone too (and from this process's cache): a copy of the row opens no more.
        assert not DataKey.objects.filter(key_id=key_id).exists()
        with pytest.raises(DecryptionError):
            signer_name(creator)

    def test_the_creators_link_then_shows_the_page_for_spent_links(self):
        petition = unconfirmed_petition(email="charlie@example.org")
        _, token = last_confirm_link("charlie@example.org")
        petitions_unconfirmed_delete(personal_data_destruction_at(petition))

        response = Client().get(f"/en/signatures/confirm/{token}/")
        assert response.status_code == 404
        assert b"This link is no longer valid" in response.content

    def test_an_unsent_confirmation_email_goes_with_it(self):
        petition = petition_start(
            text=PetitionText(action="Paint the fence", background="It peels.", additional_details=""),
            creator=signer(),
            verification=None,
        )
        assert OutboundEmail.objects.filter(petition_id=petition.pk, sent_at__isnull=True).exists()
        petitions_unconfirmed_delete(personal_data_destruction_at(petition))
        assert not OutboundEmail.objects.filter(petition_id=petition.pk).exists()
        assert deliver_outbox() == 0

    def test_a_petition_whose_creator_confirmed_stays_whatever_its_age(self):
        petition = unconfirmed_petition(email="charlie@example.org")
        _, token = last_confirm_link("charlie@example.org")
        signature_confirm(token=token)
        petition.refresh_from_db()
        assert petition.state != PetitionState.PENDING

        assert petitions_unconfirmed_delete(timezone.now() + timedelta(days=3650)) == 0
        assert Petition.objects.filter(pk=petition.pk).exists()
        assert DataKey.objects.filter(key_id=petition.data_key_id, destroyed_at__isnull=True).exists()

    def test_other_petitions_and_their_keys_are_untouched(self):
        kept = make_petition()
        young = unconfirmed_petition()
        old = unconfirmed_petition()
        Petition.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=365))

        assert petitions_unconfirmed_delete(timezone.now()) == 1
        assert set(Petition.objects.values_list("pk", flat=True)) == {kept.pk, young.pk}
        assert DataKey.objects.count() == 2

    def test_many_go_in_batches_within_one_run(self, settings):
        settings.RETENTION_BATCH_SIZE = 2
        petitions = [unconfirmed_petition(email=f"c{n}@example.org") for n in range(5)]
        latest = max(personal_data_destruction_at(p) for p in petitions)
        assert petitions_unconfirmed_delete(latest) == 5
        assert not Petition.objects.exists()


class TestRunRecords:
    def test_deleted_after_the_staff_audit_retention(self, settings):
        settings.STAFF_AUDIT_RETENTION_DAYS = 730
        now = timezone.now()
        old = RetentionRun.objects.create(job="x", started_at=now - timedelta(days=730))
        recent = RetentionRun.objects.create(job="x", started_at=now - timedelta(days=729))

        assert retention_runs_delete_expired(now) == 1
        assert list(RetentionRun.objects.values_list("pk", flat=True)) == [recent.pk]
        assert not RetentionRun.objects.filter(pk=old.pk).exists()


class TestRegistry:
    def test_every_job_of_every_app_is_registered_with_settings_that_exist(self):
        registered = {job.name: job for job in retention_jobs_registered()}
        assert {job.name for job in JOBS} <= set(registered)
        assert "delete cross-petition search approvals" in registered  # moderation's, from its ready()
        for job in registered.values():
            assert job.setting_names, job.name
            for name in job.setting_names:
                assert isinstance(getattr(settings, name), int), (job.name, name)

    def test_a_name_is_taken_once_and_fits_the_run_record(self):
        with pytest.raises(ValueError, match="already registered"):
            register_retention_job(JOBS[0].name, lambda now: 0)
        with pytest.raises(ValueError, match="longer than"):
            register_retention_job("x" * 65, lambda now: 0)

    def test_a_run_of_all_records_each_job_once(self):
        retention_jobs_run_all()
        ran = list(RetentionRun.objects.values_list("job", "error"))
        assert sorted(ran) == sorted((job.name, "") for job in retention_jobs_registered())
        assert not RetentionRun.objects.filter(finished_at__isnull=True).exists()
