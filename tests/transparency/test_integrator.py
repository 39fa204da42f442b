"""The integrator: pending entries become leaves, tiles and a signed checkpoint, and the count
changes apply in the same transaction."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_invalidate, signature_reinstate
from undersign.transparency.models import LogCheckpoint, LogEntry, LogTile
from undersign.transparency.selectors import log_checkpoint_latest, log_inclusion_proof
from undersign.transparency.services import log_integrate_all, log_integrate_batch
from undersign_verify import merkle, note
from undersign_verify.entries import EntryType, RevocationReason, decode_entry, tally
from undersign_verify.tiles import ENTRIES, decode_bundle, split_hashes

pytestmark = pytest.mark.django_db


def log_entries() -> list[bytes]:
    return [
        bytes(b)
        for b in LogEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index").values_list("body", flat=True)
    ]


def stored_entries() -> list[bytes]:
    out: list[bytes] = []
    for data in LogTile.objects.filter(level=ENTRIES).order_by("index").values_list("data", flat=True):
        out += decode_bundle(bytes(data))
    return out


class TestAppending:
    def test_entries_become_leaves_tiles_and_a_signed_checkpoint(self):
        from undersign.transparency.keys import log_signer

        petition = make_petition()
        for _ in range(3):
            sign_and_confirm(petition)
        assert log_integrate_batch() == 5
        checkpoint = log_checkpoint_latest()
        opened = note.open_checkpoint(checkpoint.note, log_signer().verifier)
        assert (opened.size, opened.root) == (5, checkpoint.root_hash)
        assert stored_entries() == log_entries()
        level0 = split_hashes(bytes(LogTile.objects.get(level=0, index=0).data))
        assert level0 == [merkle.leaf_hash(e) for e in log_entries()]
        assert merkle.root(level0) == checkpoint.root_hash
        petition.refresh_from_db()
        assert (petition.counted_at_size, bytes(petition.counted_at_root)) == (5, checkpoint.root_hash)

    def test_nothing_pending_signs_nothing(self):
        assert log_integrate_batch() == 0
        assert not LogCheckpoint.objects.exists()
        assert log_checkpoint_latest().size == 0  # the empty tree's, signed on the fly

    def test_status_changes_follow_their_signature_within_one_batch(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        signature_invalidate(signature=signature, reason="fraud")
        signature_reinstate(signature=signature)
        signature_invalidate(signature=signature, reason="withdrawn")
        log_integrate_all()
        kinds = [decode_entry(e) for e in log_entries() if decode_entry(e).digest == bytes(signature.commitment)]
        assert [e.type for e in kinds] == [
            EntryType.SIGNATURE,
            EntryType.REVOCATION,
            EntryType.REINSTATE,
            EntryType.REVOCATION,
        ]
        assert kinds[-1].reason == RevocationReason.WITHDRAWN
        result = tally(log_entries())
        assert not result.problems
        petition.refresh_from_db()
        assert result.petitions[petition.uuid].count == petition.signature_count == 1

    def test_a_rejected_claim_is_logged_with_its_own_reason_code(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        log_integrate_all()
        signature_invalidate(signature=signature, reason="claim_rejected")
        log_integrate_all()
        assert decode_entry(log_entries()[-1]).reason == RevocationReason.CLAIM_REJECTED

    def test_batches_are_shuffled(self):
        """Leaf order must not replay confirmation order (a timing side channel)."""
        petition = make_petition()
        signatures = [sign_and_confirm(petition) for _ in range(40)]
        log_integrate_all()
        order = [decode_entry(e).digest for e in log_entries() if decode_entry(e).type == EntryType.SIGNATURE]
        assert order[1:] != [bytes(s.commitment) for s in signatures]

    def test_entries_name_no_signer(self):
        """An entry is the petition's id and a commitment: no name, address, region or row id."""
        make_petition(creator=signer(name="Zelda Unique", email="zelda@example.org", region="E12000007"))
        log_integrate_all()
        for entry in log_entries():
            assert b"Zelda" not in entry and b"zelda" not in entry and b"E12000007" not in entry
            assert len(entry) in (18, 50, 51)

    def test_many_batches_give_one_consistent_tree(self):
        petition = make_petition()
        sizes = []
        for _ in range(6):
            for _ in range(50):
                sign_and_confirm(petition)
            log_integrate_batch(limit=97)
            sizes.append(log_checkpoint_latest())
        log_integrate_all()
        final = log_checkpoint_latest()
        tree = merkle.MemoryTree()
        for e in stored_entries():
            tree.append(merkle.leaf_hash(e))
        assert tree.size == final.size == 302 and tree.root() == final.root_hash
        for earlier in sizes:
            assert tree.root(earlier.size) == earlier.root_hash
        for level, index, data in LogTile.objects.filter(level__gte=0).values_list("level", "index", "data"):
            hashes = split_hashes(bytes(data))
            assert hashes == [tree.node(8 * level, index * 256 + i) for i in range(len(hashes))]


class TestCheckpoints:
    def test_the_database_refuses_a_second_root_for_a_signed_size(self):
        make_petition()
        log_integrate_all()
        signed = LogCheckpoint.objects.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            LogCheckpoint.objects.create(
                size=signed.size, root_hash=bytes(32), note="forged", created_at=timezone.now()
            )


class TestClosing:
    def test_closed_is_appended_once_the_grace_ends_after_every_signature(self, settings):
        settings.CONFIRMATION_GRACE_HOURS = 1
        petition = make_petition()
        sign_and_confirm(petition)
        log_integrate_all()
        past = timezone.now() - timedelta(hours=2)
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=past, closing_date=past)
        log_integrate_all()
        log_integrate_all()
        types = [decode_entry(e).type for e in log_entries()]
        assert types.count(EntryType.CLOSED) == 1 and types[-1] == EntryType.CLOSED
        assert not tally(log_entries()).problems

    def test_closed_waits_for_signatures_still_pending(self, settings):
        settings.CONFIRMATION_GRACE_HOURS = 0
        petition = make_petition()
        for _ in range(5):
            sign_and_confirm(petition)
        past = timezone.now() - timedelta(minutes=1)
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=past, closing_date=past)
        log_integrate_batch(limit=3)  # some signatures are left pending: no CLOSED yet
        assert EntryType.CLOSED not in [decode_entry(e).type for e in log_entries()]
        log_integrate_all()
        types = [decode_entry(e).type for e in log_entries()]
        assert types[-1] == EntryType.CLOSED and types.count(EntryType.SIGNATURE) == 6

    def test_a_confirmation_committed_after_closed_is_not_appended(self, settings):
        settings.CONFIRMATION_GRACE_HOURS = 0
        petition = make_petition()
        past = timezone.now() - timedelta(minutes=1)
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=past, closing_date=past)
        log_integrate_all()
        # A confirmation that passed its check just before the end commits just after CLOSED.
        late = sign_and_confirm(make_petition())  # confirm on an open one, then move its entry
        LogEntry.objects.filter(signature_id=late.pk, leaf_index__isnull=True).update(petition=petition)
        Signature.objects.filter(pk=late.pk).update(petition=petition)
        log_integrate_all()
        assert Signature.objects.get(pk=late.pk).status == SignatureStatus.INVALIDATED
        assert not signature_reinstate(signature=late)  # it was never in the log
        assert not tally(log_entries()).problems

    def test_a_late_confirmation_withdrawn_before_integration_leaves_no_revocation(self, settings):
        """Its signer withdrew it (a REVOCATION, pending behind its SIGNATURE) before the
        integrator dropped the SIGNATURE as too late: the REVOCATION must go with it, or the
        log revokes a signature it never held and the counter drops one below the log's."""
        from undersign.signatures.withdrawal import signature_withdraw

        settings.CONFIRMATION_GRACE_HOURS = 0
        petition = make_petition()
        past = timezone.now() - timedelta(minutes=1)
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=past, closing_date=past)
        log_integrate_all()
        late = sign_and_confirm(make_petition())
        LogEntry.objects.filter(signature_id=late.pk, leaf_index__isnull=True).update(petition=petition)
        Signature.objects.filter(pk=late.pk).update(petition=petition)
        assert signature_withdraw(signature_id=late.pk)
        log_integrate_all()
        assert not LogEntry.objects.filter(signature_id=late.pk).exists()
        assert Signature.objects.get(pk=late.pk).is_withdrawn  # its signer's choice stands
        assert not tally(log_entries()).problems
        petition.refresh_from_db()
        assert petition.signature_count == tally(log_entries()).petitions[petition.uuid].count == 1


class TestProofs:
    def test_an_integrated_signature_has_an_inclusion_proof(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        assert log_inclusion_proof(commitment_hash=bytes(signature.commitment)) is None  # still pending
        log_integrate_all()
        proof = log_inclusion_proof(commitment_hash=bytes(signature.commitment))
        entry = [e for e in log_entries() if decode_entry(e).digest == bytes(signature.commitment)][0]
        merkle.verify_inclusion(
            merkle.leaf_hash(entry), proof.index, proof.checkpoint.size, proof.hashes, proof.checkpoint.root_hash
        )
        assert not proof.revoked
        signature_invalidate(signature=signature, reason="fraud")
        log_integrate_all()
        assert log_inclusion_proof(commitment_hash=bytes(signature.commitment)).revoked


class TestCost:
    def test_a_batch_costs_the_same_however_long_the_log(self):
        """Work per batch is the batch plus the tree's height, never the log's size: appending
        one entry takes the same statements, reading the same few tiles, at any size."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        petition = make_petition()
        costs = []
        for _ in range(2):
            for _ in range(300):
                sign_and_confirm(petition)
            log_integrate_all()
            sign_and_confirm(petition)
            with CaptureQueriesContext(connection) as queries:
                assert log_integrate_batch() == 1
            costs.append(len(queries))
        assert costs[0] == costs[1] <= 20


def test_integrating_a_thousand_entries_is_quick(capsys):
    petition = make_petition()
    for _ in range(1000):
        sign_and_confirm(petition)
    started = time.perf_counter()
    assert log_integrate_batch() == 1002
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nintegrated 1002 entries in {elapsed:.3f}s")
    assert elapsed < 5
    assert Petition.objects.get(pk=petition.pk).signature_count == 1001
