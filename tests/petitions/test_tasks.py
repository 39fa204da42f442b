"""``close_due_petitions``, the beat task that closes open petitions whose closing date has
passed, called as Celery calls it (``delay``, eager in the tests) against real petitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, signer
from undersign.core.models import OutboundEmail
from undersign.petitions.models import Petition, PetitionEvent, PetitionState
from undersign.petitions.tasks import close_due_petitions
from undersign.signatures.models import Display

pytestmark = pytest.mark.django_db
S = PetitionState


def run(task, *args):
    result = task.delay(*args)
    assert result.successful(), result.traceback
    return result


def open_petition(*, closes_in: timedelta, creator_email: str | None = None) -> Petition:
    creator = signer(display=Display.NAMED, **({"email": creator_email} if creator_email else {}))
    petition = make_petition(creator=creator)
    Petition.objects.filter(pk=petition.pk).update(closing_date=timezone.now() + closes_in)
    petition.refresh_from_db()
    deliver_outbox()  # what creating it queued (the creator's own e-mails)
    return petition


def closed_emails(petition: Petition) -> int:
    return OutboundEmail.objects.filter(petition_id=petition.pk, kind=OutboundEmail.Kind.PETITION_CLOSED).count()


def test_closes_a_petition_whose_closing_date_has_passed_and_tells_its_creator():
    due = open_petition(closes_in=-timedelta(minutes=1), creator_email="charlie@example.org")
    assert (due.state, due.closed_at, closed_emails(due)) == (S.OPEN, None, 0)
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    mail.outbox.clear()

    run(close_due_petitions)

    due.refresh_from_db()
    assert due.state == S.CLOSED
    assert due.closed_at is not None
    event = PetitionEvent.objects.filter(petition=due).latest("pk")
    assert (event.from_state, event.to_state) == (S.OPEN, S.CLOSED)
    assert closed_emails(due) == 1
    deliver_outbox()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["charlie@example.org"], "Your petition has closed")]


def test_leaves_petitions_that_are_not_due():
    due = open_petition(closes_in=-timedelta(seconds=1))
    running = open_petition(closes_in=timedelta(days=1))
    pending = make_petition(state=S.PENDING)

    run(close_due_petitions)

    assert Petition.objects.get(pk=due.pk).state == S.CLOSED
    assert Petition.objects.get(pk=running.pk).state == S.OPEN
    assert Petition.objects.get(pk=pending.pk).state == S.PENDING
    assert closed_emails(running) == 0


def test_closes_every_due_petition_once():
    due = [open_petition(closes_in=-timedelta(hours=hours)) for hours in (1, 2, 3)]

    run(close_due_petitions)
    closed_at = {p.pk: Petition.objects.get(pk=p.pk).closed_at for p in due}
    run(close_due_petitions)  # the next tick finds nothing left to close

    for petition in due:
        petition.refresh_from_db()
        assert petition.state == S.CLOSED
        assert petition.closed_at == closed_at[petition.pk]
        assert closed_emails(petition) == 1
        assert PetitionEvent.objects.filter(petition=petition, to_state=S.CLOSED).count() == 1


def test_as_a_worker_runs_it():
    due = open_petition(closes_in=-timedelta(minutes=5))
    result = close_due_petitions.apply()
    assert result.successful(), result.traceback
    assert Petition.objects.get(pk=due.pk).state == S.CLOSED
