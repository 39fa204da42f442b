import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.counting.services import counts_reconcile
from undersign.petitions.models import HourlyCount, Petition, RegionCount
from undersign.signatures.models import Signature
from undersign.signatures.services import (
    signature_create,
    signature_invalidate,
    signature_reinstate,
)
from undersign.transparency.models import LogEntry
from undersign.transparency.services import LOG_LOCK_KEY, log_integrate_all, log_integrate_batch

pytestmark = pytest.mark.django_db


def counts(petition):
    petition.refresh_from_db()
    regions = dict(RegionCount.objects.filter(petition=petition).values_list("region", "signature_count"))
    return petition.signature_count, regions


class TestCountingByTheIntegrator:
    def test_applies_queued_confirmations_per_petition_and_region(self):
        petition = make_petition(creator=signer(region="E12000007"))
        for region in ["E12000007", "E12000007", "S92000003"]:
            sign_and_confirm(petition, signer(region=region))
        assert counts(petition)[0] == 0  # nothing counted before the integrator runs
        assert log_integrate_batch() == 5  # OPENED and four SIGNATURE entries
        assert counts(petition) == (4, {"E12000007": 3, "S92000003": 1})
        assert not LogEntry.objects.filter(leaf_index__isnull=True).exists()
        assert petition.counted_at_size == 5
        assert sum(HourlyCount.objects.filter(petition=petition).values_list("signature_count", flat=True)) == 4
        assert petition.last_signed_at is not None

    def test_pending_signatures_are_not_counted(self):
        from undersign.signatures.services import signature_create

        petition = make_petition()
        signature_create(petition=petition, details=signer())
        log_integrate_all()
        assert counts(petition)[0] == 1  # the creator only

    def test_running_again_changes_nothing(self):
        petition = make_petition()
        sign_and_confirm(petition)
        log_integrate_all()
        assert log_integrate_batch() == 0
        assert counts(petition)[0] == 2

    def test_batches_respect_the_limit_and_lose_nothing(self):
        petition = make_petition()
        for _ in range(5):
            sign_and_confirm(petition)
        assert log_integrate_batch(limit=2) == 2
        assert log_integrate_batch(limit=2) == 2
        assert log_integrate_batch(limit=2) == 2
        assert log_integrate_batch(limit=2) == 1
        assert counts(petition)[0] == 6

    def test_invalidation_takes_a_counted_signature_off(self):
        petition = make_petition(creator=signer(region="W92000004"))
        signature = sign_and_confirm(petition, signer(region="W92000004"))
        log_integrate_all()
        assert signature_invalidate(signature=signature, reason="fraud")
        assert not signature_invalidate(signature=signature, reason="fraud")  # idempotent
        log_integrate_all()
        assert counts(petition) == (1, {"W92000004": 1})

    def test_reinstating_counts_a_confirmed_signature_again(self):
        petition = make_petition(creator=signer(region="W92000004"))
        signature = sign_and_confirm(petition, signer(region="W92000004"))
        signature_invalidate(signature=signature, reason="fraud")
        log_integrate_all()
        assert counts(petition) == (1, {"W92000004": 1})
        assert signature_reinstate(signature=signature)
        assert not signature_reinstate(signature=signature)  # idempotent
        log_integrate_all()
        assert counts(petition) == (2, {"W92000004": 2})

    def test_a_never_confirmed_signature_is_not_reinstated(self):
        petition = make_petition()
        signature = Signature.objects.get(pk=signature_create(petition=petition, details=signer())[1])
        signature_invalidate(signature=signature, reason="fraud")
        assert not signature_reinstate(signature=signature)

    def test_thresholds_are_recorded_with_their_time(self, settings):
        settings.RESPONSE_THRESHOLD, settings.DEBATE_THRESHOLD = 2, 3
        petition = make_petition()
        sign_and_confirm(petition)
        before = timezone.now()
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.response_threshold_reached_at >= before
        assert petition.debate_threshold_reached_at is None
        reached = petition.response_threshold_reached_at
        sign_and_confirm(petition)
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.response_threshold_reached_at == reached  # recorded once
        assert petition.debate_threshold_reached_at is not None


@pytest.mark.django_db(transaction=True)
class TestOneIntegratorAtATime:
    def test_a_second_job_backs_off_while_the_first_holds_the_lock(self, postgres_only):
        petition = make_petition()
        sign_and_confirm(petition)
        holder = connections.create_connection("default")
        try:
            with holder.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK_KEY])
                assert log_integrate_batch() == 0
                cursor.execute("ROLLBACK")
        finally:
            holder.close()
        assert log_integrate_batch() == 3  # OPENED, the creator's and the signer's SIGNATURE

    def test_concurrent_jobs_never_double_count(self, postgres_only):
        petition = make_petition()
        for _ in range(30):
            sign_and_confirm(petition)
        errors = []

        def job():
            try:
                log_integrate_all()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=job) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log_integrate_all()
        assert not errors
        assert counts(petition)[0] == 31


class TestReconcile:
    def test_agrees_when_counters_are_right(self):
        petition = make_petition()
        sign_and_confirm(petition)
        assert counts_reconcile(repair=False) == []  # one queued, not yet counted: consistent
        log_integrate_all()
        assert counts_reconcile(repair=False) == []

    def test_finds_and_repairs_wrong_counters(self):
        petition = make_petition(creator=signer(region="E12000001"))
        sign_and_confirm(petition, signer(region="E12000001"))
        log_integrate_all()
        Petition.objects.filter(pk=petition.pk).update(signature_count=99)
        RegionCount.objects.filter(petition=petition).update(signature_count=7)
        found = counts_reconcile(repair=True)
        assert {(d.region, d.counter, d.confirmed) for d in found} == {(None, 99, 2), ("E12000001", 7, 2)}
        assert counts(petition) == (2, {"E12000001": 2})
        assert counts_reconcile(repair=False) == []

    def test_missing_region_row_is_found(self):
        petition = make_petition(creator=signer(region="E12000002"))
        log_integrate_all()
        RegionCount.objects.filter(petition=petition).delete()
        found = counts_reconcile(repair=True)
        assert [(d.region, d.counter, d.confirmed) for d in found] == [("E12000002", 0, 1)]
        assert counts(petition)[1] == {"E12000002": 1}

    def test_command_exits_non_zero_on_mismatch(self):
        from django.core.management import call_command

        petition = make_petition()
        log_integrate_all()
        Petition.objects.filter(pk=petition.pk).update(signature_count=5)
        with pytest.raises(SystemExit):
            call_command("reconcile_counts")
        call_command("reconcile_counts", "--repair")
        call_command("reconcile_counts")
        assert Signature.objects.filter(petition=petition).count() == counts(petition)[0]

    def test_command_checks_the_verified_counters_too(self):
        """Verification registers its counters' check: a wrong verified figure fails the command
        until it is repaired from the sealed claims."""
        from django.core.management import call_command

        from tests.verification.conftest import claim_and_confirm, make_registry, restricted_petition
        from undersign.verification.models import VerifiedCount

        registry = make_registry("rec")
        petition = restricted_petition(registry)
        claim_and_confirm(petition, registry.members.first())
        log_integrate_all()
        call_command("reconcile_counts")
        VerifiedCount.objects.filter(petition=petition).update(pending=9)
        with pytest.raises(SystemExit):
            call_command("reconcile_counts")
        call_command("reconcile_counts", "--repair")
        call_command("reconcile_counts")
        assert VerifiedCount.objects.get(petition=petition).pending == 1
