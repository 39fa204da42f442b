"""Destroying a petition's personal data (crypto-shredding): after the retention job nothing of
its signers opens or matches, whoever holds the keys, and everything counted stays exactly as
it was: counts, verified figures, the log, receipts and published snapshots."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from tests.factories import (
    last_confirm_link,
    make_petition,
    sign_and_confirm,
    signer,
    wait_until_another_session_waits_for_a_lock,
)
from tests.retention.conftest import CLAIM_NOTE, JOB, NAMED, PEOPLE, Kept, build_closed_world, run_job
from undersign.core.crypto import DecryptionError, data_keys
from undersign.core.models import DataKey
from undersign.petitions.models import Petition, PetitionEvent, PetitionState
from undersign.petitions.services import PERSONAL_DATA_DESTROYED
from undersign.retention.models import RetentionRun
from undersign.retention.services import (
    PersonalDataNotDue,
    RetentionIncomplete,
    petition_personal_data_destroy,
    petitions_personal_data_destroy_due,
)
from undersign.signatures.links import unsubscribe_digest, unsubscribe_token
from undersign.signatures.models import Signature, SignatureStatus, SignerDataLink
from undersign.signatures.personal_data import signer_email, signer_ip, signer_name
from undersign.signatures.services import InvalidLink, signature_confirm, signature_create, signature_for_unsubscribe
from undersign.signatures.withdrawal import signature_withdraw
from undersign.transparency.selectors import receipt_check
from undersign.verification.evidence import evidence_note_open
from undersign.verification.member_ref import member_ref_open, member_tag
from undersign.verification.models import Claim

pytestmark = pytest.mark.django_db
S = PetitionState


def unreadable(signature: Signature) -> bool:
    """Nothing of the signature opens, from a fresh cache (another process, later)."""
    data_keys.forget(signature.petition.data_key_id)
    for read in (signer_name, signer_email, signer_ip):
        try:
            read(signature)
        except DecryptionError:
            continue
        return False
    return True


class TestDestroyingAClosedPetitionsPersonalData:
    def test_nothing_of_its_signers_opens_or_matches_any_more(self, closed_world):
        petition = closed_world.petition
        signatures = list(Signature.objects.filter(petition=petition).select_related("petition"))
        assert not any(unreadable(s) for s in signatures)  # the test can fail: all open before
        claims = list(Claim.objects.filter(petition=petition).select_related("signature"))
        refs = {claim.pk: member_ref_open(claim) for claim in claims}
        noted = next(claim for claim in claims if claim.evidence_note_sealed is not None)
        assert evidence_note_open(noted, bytes(noted.signature.dedup_tag)) == CLAIM_NOTE
        links = {
            s.pk: SignerDataLink.objects.create(
                signature=s, digest=bytes([s.pk % 256]) * 32, created_at=timezone.now(), expires_at=timezone.now()
            )
            for s in signatures[:2]
        }

        run = run_job(closed_world.due)

        assert (run.job, run.error) == (JOB, "")
        assert run.items >= len(signatures) + len(claims) + len(links) + 2
        key = DataKey.objects.get(key_id=petition.data_key_id)
        assert key.wrapped_key is None and key.destroyed_at == closed_world.due
        signatures = list(Signature.objects.filter(petition=petition).select_related("petition"))
        assert all(unreadable(s) for s in signatures)
        stored = {bytes(s.dedup_tag) for s in signatures}
        for email, tag in closed_world.tags.items():
            assert tag not in stored, f"{email} still matches its tag"
            with pytest.raises(InvalidLink):  # the unsubscribe link every mail carried finds nothing
                signature_for_unsubscribe(token=unsubscribe_token(tag=tag))
            assert not Signature.objects.filter(unsubscribe_digest=unsubscribe_digest(tag=tag)).exists()
        assert len(stored) == len(signatures)  # still one distinct tag per row
        assert all(s.unsubscribe_digest is None and s.token_digest is None for s in signatures)
        assert not SignerDataLink.objects.filter(signature__petition=petition).exists()
        for claim in Claim.objects.filter(petition=petition).select_related("signature"):
            ref = refs[claim.pk]
            real = member_tag(petition_uuid=petition.uuid, registry_id=ref.registry_id, member_id=ref.member_id)
            assert bytes(claim.member_tag) != real and len(bytes(claim.member_tag)) == 32
            with pytest.raises(DecryptionError):
                member_ref_open(claim)
            if claim.evidence_note_sealed is not None:
                with pytest.raises(DecryptionError):
                    evidence_note_open(claim, bytes(claim.signature.dedup_tag))

    def test_counts_figures_log_receipts_and_snapshots_stay_exactly_as_they_were(self, closed_world):
        petition = closed_world.petition
        before = Kept.read(petition)
        assert before.tally == before.petition["signature_count"] == len(PEOPLE)
        assert before.verified and before.snapshots

        run_job(closed_world.due)

        assert Kept.read(petition) == before
        check = receipt_check(text=closed_world.receipt)
        assert check.error is None and check.revoked is False

    def test_the_petition_records_when_and_leaves_a_row_in_its_trail(self, closed_world):
        petition = closed_world.petition
        run_job(closed_world.due)
        petition.refresh_from_db()
        assert petition.personal_data_destroyed_at == closed_world.due and petition.personal_data_destroyed
        assert petition.state == S.CLOSED
        event = PetitionEvent.objects.filter(petition=petition).latest("pk")
        assert (event.actor, event.reason_code, event.from_state, event.to_state) == (
            None,
            PERSONAL_DATA_DESTROYED,
            "",
            "",
        )

    def test_each_run_leaves_a_row_and_a_second_run_changes_nothing(self, closed_world):
        run_job(closed_world.due)
        again = run_job(closed_world.due + timedelta(hours=1))
        assert again.items == 0 and again.error == ""
        assert list(RetentionRun.objects.filter(job=JOB).values_list("items", flat=True))[0] == 0
        assert RetentionRun.objects.filter(job=JOB).count() == 2
        assert PetitionEvent.objects.filter(reason_code=PERSONAL_DATA_DESTROYED).count() == 1

    def test_not_before_its_retention_period_ends(self, closed_world):
        run = run_job(closed_world.due - timedelta(seconds=1))
        assert run.items == 0
        closed_world.petition.refresh_from_db()
        assert not closed_world.petition.personal_data_destroyed
        with pytest.raises(PersonalDataNotDue):
            petition_personal_data_destroy(petition=closed_world.petition, now=closed_world.due - timedelta(seconds=1))
        assert DataKey.objects.get(key_id=closed_world.petition.data_key_id).wrapped_key is not None

    def test_other_petitions_keep_their_personal_data(self, closed_world):
        other = make_petition(action="Another petition", state=S.CLOSED)
        suzie = sign_and_confirm(other, signer(name="Suzie Other"))
        run_job(closed_world.due)
        suzie.refresh_from_db()
        assert signer_name(suzie) == "Suzie Other"


class TestTheGraceForLateConfirmations:
    def test_a_closed_petition_inside_its_grace_is_not_destroyed_and_still_takes_confirmations(self, settings):
        settings.PERSONAL_DATA_RETENTION_DAYS = 0  # the grace alone holds destruction back
        petition = make_petition(action="Late lamps")
        late = signer(name="Lately Confirming")
        signature_create(petition=petition, details=late)
        _, token = last_confirm_link(late.email)
        closed = timezone.now() - timedelta(hours=settings.CONFIRMATION_GRACE_HOURS - 1)
        Petition.objects.filter(pk=petition.pk).update(state=S.CLOSED, closing_date=closed, closed_at=closed)

        assert petitions_personal_data_destroy_due(timezone.now()) == 0
        _, confirmed = signature_confirm(token=token)  # an hour of grace left: it still counts
        assert confirmed.status == SignatureStatus.CONFIRMED and signer_name(confirmed) == "Lately Confirming"

        assert petitions_personal_data_destroy_due(closed + timedelta(hours=settings.CONFIRMATION_GRACE_HOURS)) > 0
        petition.refresh_from_db()
        assert petition.personal_data_destroyed


class TestRejectedAndHiddenPetitions:
    @pytest.mark.parametrize("state", [S.REJECTED, S.HIDDEN])
    def test_destroyed_after_their_own_retention(self, state):
        petition = make_petition(action="Taken down petition")
        sign_and_confirm(petition)  # signed while it was open
        rejected_at = timezone.now()
        Petition.objects.filter(pk=petition.pk).update(state=state, rejected_at=rejected_at, rejection_code="duplicate")
        days = timedelta(days=settings.REJECTED_PETITION_RETENTION_DAYS)
        assert petitions_personal_data_destroy_due(rejected_at + days - timedelta(seconds=1)) == 0
        assert petitions_personal_data_destroy_due(rejected_at + days) > 0
        petition.refresh_from_db()
        assert petition.personal_data_destroyed_at == rejected_at + days
        assert all(unreadable(s) for s in Signature.objects.filter(petition=petition).select_related("petition"))

    @pytest.mark.parametrize("state", [S.OPEN, S.VALIDATED, S.SPONSORED, S.FLAGGED, S.PENDING])
    def test_never_while_the_petitions_fate_is_open_nor_a_pending_one(self, state):
        petition = make_petition(action="Still going", state=state)
        far = timezone.now() + timedelta(days=3650)
        assert petitions_personal_data_destroy_due(far) == 0
        with pytest.raises(PersonalDataNotDue):
            petition_personal_data_destroy(petition=petition, now=far)
        petition.refresh_from_db()
        assert not petition.personal_data_destroyed


class TestAFailingPetition:
    def test_the_others_are_still_destroyed_and_the_run_says_it_failed(self, monkeypatch):
        first, second = (make_petition(action=f"Closed {n}", state=S.CLOSED) for n in range(2))
        from undersign.retention import services

        real = services.claims_personal_data_destroy

        def broken(*, petition):
            if petition.pk == first.pk:
                raise RuntimeError("disk on fire")
            return real(petition=petition)

        monkeypatch.setattr(services, "claims_personal_data_destroy", broken)
        later = timezone.now() + timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS + 1)
        with pytest.raises(RetentionIncomplete, match=str(first.pk)):
            run_job(later)
        first.refresh_from_db()
        second.refresh_from_db()
        assert not first.personal_data_destroyed  # its transaction rolled back whole
        assert DataKey.objects.get(key_id=first.data_key_id).wrapped_key is not None
        assert signer_name(Signature.objects.filter(petition=first).select_related("petition").first())
        assert second.personal_data_destroyed
        run = RetentionRun.objects.get(job=JOB)
        assert run.error == "RetentionIncomplete" and run.finished_at is not None

        monkeypatch.setattr(services, "claims_personal_data_destroy", real)
        assert run_job(later).error == ""  # the next run takes it
        first.refresh_from_db()
        assert first.personal_data_destroyed


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_under_way_and_the_destruction_wait_for_each_other_without_a_deadlock(client, postgres_only):
    """A withdrawal holds its signature's row and then appends its revocation, whose foreign key
    takes a share lock on the petition's row; the destruction locks the petition's row and then
    every signature. Had the destruction locked the petition for a key change (``FOR UPDATE``),
    the two would wait for each other until PostgreSQL broke the deadlock by failing one: the
    signer's page, or the job. It changes no key, so the withdrawal goes first, then the job."""
    world = build_closed_world(client)
    keeper = Signature.objects.get(petition=world.petition, dedup_tag=world.tags[NAMED.email])
    holding, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def run(work) -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - the test reports it
            failures.append(error)
        finally:
            connections.close_all()

    def withdraw() -> None:
        with transaction.atomic():
            Signature.objects.select_for_update().get(pk=keeper.pk)  # as signature_withdraw's first step
            holding.set()
            release.wait(30)
            signature_withdraw(signature_id=keeper.pk)

    signer_thread = threading.Thread(target=run, args=(withdraw,))
    signer_thread.start()
    assert holding.wait(30)
    job = threading.Thread(
        target=run, args=(lambda: petition_personal_data_destroy(petition=world.petition, now=world.due),)
    )
    job.start()
    wait_until_another_session_waits_for_a_lock()  # the job waits for the signature's row
    release.set()
    signer_thread.join(30)
    job.join(30)

    assert failures == []
    keeper.refresh_from_db()
    world.petition.refresh_from_db()
    assert keeper.is_withdrawn and world.petition.personal_data_destroyed
