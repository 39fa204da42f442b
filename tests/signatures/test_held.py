"""Held signatures (``abuse.limits`` held them): stored without a mail, replaced like pending
ones, released by moderators (``signatures.held``), deleted when nobody releases them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.abuse.limits import HoldReason
from undersign.core.models import OutboundEmail
from undersign.petitions.models import Petition
from undersign.signatures.held import signatures_held_delete, signatures_release
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.personal_data import signer_name
from undersign.signatures.selectors import held_counts
from undersign.signatures.services import SignOutcome, signature_confirm, signature_create, signature_invalidate
from undersign.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


def held(petition, email="suzie@example.org", reason=HoldReason.NETWORK, **details):
    return signature_create(petition=petition, details=signer(email=email, **details), hold_reason=reason)


def mails_to(address: str) -> list:
    deliver_outbox()
    return [message for message in mail.outbox if address in message.to]


class TestCreatingHeld:
    def test_is_stored_held_with_its_reason_and_nothing_is_queued(self):
        petition = make_petition()
        mail.outbox.clear()
        outcome, signature_id = held(petition)
        assert outcome == SignOutcome.CREATED
        signature = Signature.objects.get(pk=signature_id)
        assert (signature.status, signature.hold_reason) == (SignatureStatus.HELD, "network")
        assert not OutboundEmail.objects.filter(signature_id=signature_id).exists()
        assert mails_to("suzie@example.org") == []

    def test_does_at_most_two_inserts_and_in_fact_one(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer())  # warms the data-key cache
        with CaptureQueriesContext(connection) as queries:
            held(petition)
        statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        assert [s for s in statements if s in ("INSERT", "UPDATE", "DELETE")] == ["INSERT"]
        assert "SELECT" not in statements

    def test_is_not_counted_nor_logged(self):
        petition = make_petition()
        _, signature_id = held(petition)
        assert not LogEntry.objects.filter(signature_id=signature_id).exists()
        assert Petition.objects.get(pk=petition.pk).signature_count == petition.signature_count


class TestDedup:
    def test_a_held_signature_signed_again_and_accepted_becomes_pending_with_its_link(self):
        petition = make_petition()
        _, held_id = held(petition, name="Sam Impostor")
        outcome, signature_id = signature_create(
            petition=petition, details=signer(email="suzie@example.org", name="Suzie Owner")
        )
        assert (outcome, signature_id) == (SignOutcome.REPLACED, held_id)
        signature = Signature.objects.select_related("petition").get(pk=held_id)
        assert (signature.status, signature.hold_reason) == (SignatureStatus.PENDING, "")
        assert signer_name(signature) == "Suzie Owner"
        _, token = last_confirm_link("suzie@example.org")
        assert signature_confirm(token=token)[1].status == SignatureStatus.CONFIRMED

    def test_a_held_signature_held_again_takes_the_new_data_and_stays_held(self):
        petition = make_petition()
        _, held_id = held(petition, name="First")
        outcome, _ = held(petition, name="Second", reason=HoldReason.DOMAIN)
        signature = Signature.objects.select_related("petition").get(pk=held_id)
        assert outcome == SignOutcome.REPLACED
        assert (signature.status, signature.hold_reason, signer_name(signature)) == ("held", "domain", "Second")
        assert mails_to("suzie@example.org") == []

    def test_a_held_submission_leaves_a_pending_signature_and_its_link_alone(self):
        petition = make_petition()
        _, pending_id = signature_create(petition=petition, details=signer(email="suzie@example.org", name="Suzie"))
        _, token = last_confirm_link("suzie@example.org")
        outcome, _ = held(petition, name="Flood")
        assert outcome == SignOutcome.UNCHANGED
        _, signature = signature_confirm(token=token)
        assert signature.pk == pending_id and signer_name(signature) == "Suzie"

    def test_a_held_submission_for_a_confirmed_signature_sends_nothing(self):
        petition = make_petition()
        sign_and_confirm(petition, signer(email="suzie@example.org"))
        mail.outbox.clear()
        outcome, _ = held(petition)
        assert outcome == SignOutcome.ALREADY_SIGNED
        assert mails_to("suzie@example.org") == []

    def test_a_fraud_invalidated_signature_signed_again_stays_invalidated(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(email="suzie@example.org"))
        signature_invalidate(signature=signature, reason="fraud")
        mail.outbox.clear()
        outcome, _ = signature_create(petition=petition, details=signer(email="suzie@example.org"))
        assert outcome == SignOutcome.ALREADY_SIGNED
        assert Signature.objects.get(pk=signature.pk).status == SignatureStatus.INVALIDATED
        assert len(mails_to("suzie@example.org")) == 1  # the usual "already signed": nothing tells it apart


class TestRelease:
    def test_release_makes_held_pending_and_mails_each_once(self):
        petition = make_petition()
        ids = [held(petition, email=f"h{n}@example.org")[1] for n in range(3)]
        mail.outbox.clear()
        assert signatures_release(signature_ids=ids) == 3
        assert signatures_release(signature_ids=ids) == 0  # already released: nothing again
        assert set(Signature.objects.filter(pk__in=ids).values_list("status", "hold_reason")) == {("pending", "")}
        for n in range(3):
            assert len(mails_to(f"h{n}@example.org")) == 1
        _, token = last_confirm_link("h0@example.org")
        assert signature_confirm(token=token)[1].status == SignatureStatus.CONFIRMED

    def test_release_skips_what_is_not_held(self):
        petition = make_petition()
        confirmed = sign_and_confirm(petition, signer())
        _, pending_id = signature_create(petition=petition, details=signer())
        assert signatures_release(signature_ids=[confirmed.pk, pending_id, 10**9]) == 0
        assert Signature.objects.get(pk=confirmed.pk).status == SignatureStatus.CONFIRMED

    def test_release_counts_against_the_mail_limits(self, settings):
        settings.MAIL_PER_ADDRESS_PETITION_DAY = 1
        petition = make_petition()
        _, held_id = held(petition)
        for _ in range(3):
            Signature.objects.filter(pk=held_id).update(status=SignatureStatus.HELD)
            signatures_release(signature_ids=[held_id])
        assert len(mails_to("suzie@example.org")) == 1


class TestRetentionAndCounts:
    def test_held_signatures_nobody_released_are_deleted_after_the_retention(self, settings):
        petition = make_petition()
        _, old_id = held(petition, email="old@example.org")
        _, new_id = held(petition, email="new@example.org")
        past = timezone.now() - timedelta(days=settings.HELD_RETENTION_DAYS, hours=1)
        Signature.objects.filter(pk=old_id).update(updated_at=past)
        assert signatures_held_delete(timezone.now()) == 1
        assert list(Signature.objects.filter(pk__in=[old_id, new_id]).values_list("pk", flat=True)) == [new_id]

    def test_held_counts_per_petition_and_reason(self):
        petition, other = make_petition(), make_petition(action="Other")
        held(petition, email="a@example.org")
        held(petition, email="b@example.org")
        held(petition, email="c@example.org", reason=HoldReason.PROOF)
        held(other, email="a@example.org", reason=HoldReason.HOST)
        assert held_counts() == {petition.pk: {"network": 2, "proof": 1}, other.pk: {"host": 1}}
        assert held_counts(petition_ids=[other.pk]) == {other.pk: {"host": 1}}
