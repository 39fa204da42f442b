"""Core's part of the data's lifecycle: sent e-mails' records and staff access records deleted
after their retention, unsent e-mails about deleted rows forgotten, a deleted petition's data
key deleted, and the batches every retention job works in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from undersign.core.audit import staff_access_delete_expired, staff_access_record
from undersign.core.batches import batches_run
from undersign.core.crypto import DecryptionError, data_key_create, data_key_delete, open_sealed, seal
from undersign.core.models import DataKey, OutboundEmail, StaffAccess
from undersign.core.outbox import day_start, outbox_add, outbox_mark_sent, outbox_sent_delete, outbox_unsent_forget

pytestmark = pytest.mark.django_db
K = OutboundEmail.Kind


def sent_on(day_offset: int) -> OutboundEmail:
    """A sent message's row, sent ``day_offset`` days from today (negative: ago)."""
    message = outbox_add(kind=K.SPONSOR_SIGNED, petition_id=1, signature_id=None)
    outbox_mark_sent(message_id=message.pk)
    sent_at = day_start(timezone.now()) + timedelta(days=day_offset)
    OutboundEmail.objects.filter(pk=message.pk).update(sent_at=sent_at, created_at=sent_at)
    return message


class TestSentMail:
    def test_a_sent_messages_row_goes_retention_days_after_its_day(self, settings):
        settings.SENT_MAIL_RETENTION_DAYS = 30
        old, recent = sent_on(-30), sent_on(-29)
        unsent = outbox_add(kind=K.SPONSOR_SIGNED, petition_id=1, signature_id=None)
        OutboundEmail.objects.filter(pk=unsent.pk).update(created_at=timezone.now() - timedelta(days=400))

        assert outbox_sent_delete(day_start(timezone.now())) == 1
        assert set(OutboundEmail.objects.values_list("pk", flat=True)) == {recent.pk, unsent.pk}
        assert not OutboundEmail.objects.filter(pk=old.pk).exists()

    def test_unsent_messages_about_deleted_rows_are_forgotten_and_no_other(self):
        about_signature = outbox_add(kind=K.SIGNATURE_CONFIRM, petition_id=1, signature_id=10)
        about_petition = outbox_add(kind=K.PETITION_VALIDATED, petition_id=2, signature_id=None)
        other = outbox_add(kind=K.SIGNATURE_CONFIRM, petition_id=1, signature_id=11)
        sent = sent_on(0)

        assert outbox_unsent_forget(signature_ids=[10], petition_ids=[2]) == 2
        assert set(OutboundEmail.objects.values_list("pk", flat=True)) == {other.pk, sent.pk}
        assert not OutboundEmail.objects.filter(pk__in=[about_signature.pk, about_petition.pk]).exists()


class TestStaffAccess:
    def test_records_go_after_the_staff_audit_retention(self, settings):
        settings.STAFF_AUDIT_RETENTION_DAYS = 730
        actor = User.objects.create_user("mod")
        now = timezone.now()
        old = staff_access_record(actor=actor, action=StaffAccess.Action.VIEW_SIGNER, subject="petition:1")
        recent = staff_access_record(actor=actor, action=StaffAccess.Action.VIEW_SIGNER, subject="petition:2")
        StaffAccess.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=730))
        StaffAccess.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=729))

        assert staff_access_delete_expired(now) == 1
        assert list(StaffAccess.objects.values_list("pk", flat=True)) == [recent.pk]


class TestDataKeyDelete:
    def test_the_row_goes_and_the_process_stops_opening_what_it_sealed(self):
        key = data_key_create()
        sealed = seal(key.key_id, "Ksenia", context=b"ctx")
        assert open_sealed(sealed, context=b"ctx") == "Ksenia"  # and the key is cached now

        data_key_delete(key_id=key.key_id)

        assert not DataKey.objects.filter(key_id=key.key_id).exists()
        with pytest.raises(DecryptionError):
            open_sealed(sealed, context=b"ctx")


class TestBatches:
    def test_steps_run_until_one_comes_back_short(self):
        left = [7]

        def step(size: int) -> int:
            done = min(size, left[0])
            left[0] -= done
            return done

        assert batches_run(step, size=3) == 7
        assert left == [0]

    def test_a_run_stops_after_its_most_batches_and_the_rest_waits(self):
        calls: list[int] = []

        def step(size: int) -> int:
            calls.append(size)
            return size

        assert batches_run(step, size=2, most=4) == 8
        assert calls == [2, 2, 2, 2]

    def test_the_size_defaults_to_the_setting(self, settings):
        settings.RETENTION_BATCH_SIZE = 5
        seen: list[int] = []
        batches_run(lambda size: seen.append(size) or 0)
        assert seen == [5]
