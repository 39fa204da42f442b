"""``integrate_log``, the beat task that appends the log's pending entries and, with them, moves
the counts; called as Celery calls it (``delay``, eager in the tests) against real entries."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from tests.factories import make_petition, sign_and_confirm
from undersign.petitions.models import Petition
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_invalidate
from undersign.transparency.models import LogCheckpoint, LogEntry, LogEntryKind
from undersign.transparency.tasks import integrate_log

pytestmark = pytest.mark.django_db


def run(task, *args):
    result = task.delay(*args)
    assert result.successful(), result.traceback
    return result


def pending() -> list[int]:
    return list(LogEntry.objects.filter(leaf_index__isnull=True).order_by("pk").values_list("pk", flat=True))


def log_size() -> int:
    return LogCheckpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0


def count(petition: Petition) -> int:
    return Petition.objects.get(pk=petition.pk).signature_count


def test_appends_the_pending_entries_and_moves_the_count():
    petition = make_petition()
    for _ in range(3):
        sign_and_confirm(petition)
    waiting = pending()
    confirmed = Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED).count()
    assert confirmed == 4  # the creator and three signers
    assert LogEntry.objects.filter(pk__in=waiting).aggregate(n=Sum("delta"))["n"] == confirmed
    assert (count(petition), log_size()) == (0, 0)

    run(integrate_log)

    assert pending() == []
    appended = LogEntry.objects.filter(pk__in=waiting)
    assert not appended.filter(leaf_index__isnull=True).exists()
    assert sorted(appended.values_list("leaf_index", flat=True)) == list(range(len(waiting)))
    assert log_size() == len(waiting)
    petition.refresh_from_db()
    assert petition.signature_count == confirmed
    assert petition.counted_at_size == len(waiting)
    assert bytes(petition.counted_at_root) == bytes(LogCheckpoint.objects.get(size=len(waiting)).root_hash)


def test_a_revocation_takes_the_signature_off_the_count_when_appended():
    petition = make_petition()
    signatures = [sign_and_confirm(petition) for _ in range(2)]
    run(integrate_log)
    before, size = count(petition), log_size()

    assert signature_invalidate(signature=signatures[0], reason="fraud")
    assert count(petition) == before  # pending: the count moves only with the log
    assert LogEntry.objects.filter(leaf_index__isnull=True, kind=LogEntryKind.REVOCATION).count() == 1

    run(integrate_log)

    assert pending() == []
    assert count(petition) == before - 1
    assert log_size() == size + 1


def test_with_nothing_pending_it_signs_no_new_checkpoint():
    petition = make_petition()
    sign_and_confirm(petition)
    run(integrate_log)
    checkpoints, counted = LogCheckpoint.objects.count(), count(petition)

    run(integrate_log)

    assert LogCheckpoint.objects.count() == checkpoints
    assert count(petition) == counted


def test_as_a_worker_runs_it():
    petition = make_petition()
    sign_and_confirm(petition)
    assert pending()
    result = integrate_log.apply()
    assert result.successful(), result.traceback
    assert pending() == []
    assert count(petition) >= 1
