"""``deliver_response_emails``, the wake-up task that sends a petition's response to its
signers, batch by batch; called as Celery calls it (``delay``, eager in the tests) against a
response published through the service. Publishing inside the test transaction leaves the
on-commit wake-up unrun, so the e-mails wait in the outbox for the task."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.moderation import services
from undersign.moderation.services import petition_response_publish
from undersign.moderation.tasks import deliver_response_emails
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.links import unsubscribe_token
from undersign.signatures.models import Display
from undersign.signatures.services import signature_unsubscribe

pytestmark = pytest.mark.django_db
RESPONSE = OutboundEmail.Kind.PETITION_RESPONSE


class FlakyBackend(EmailBackend):
    """The locmem backend, with a mail server that goes down after ``allowed`` messages."""

    allowed = 0

    def send_messages(self, messages):
        if FlakyBackend.allowed <= 0:
            raise ConnectionRefusedError("smtp down")
        FlakyBackend.allowed -= len(messages)
        return super().send_messages(messages)


def run(task, *args):
    result = task.delay(*args)
    assert result.successful(), result.traceback
    return result


def unsent(petition: Petition) -> int:
    return OutboundEmail.objects.filter(petition_id=petition.pk, kind=RESPONSE, sent_at__isnull=True).count()


def with_response(moderator, *, action: str, subscribers: list[str]) -> Petition:
    """An open petition whose creator (``creator.<n>@``), ``subscribers`` and two signers who
    should not hear of it (one never asked, one unsubscribed) have signed, and whose response is
    published."""
    creator = signer(display=Display.NAMED, email=creator_email(action))
    petition = make_petition(action=action, creator=creator)
    for address in subscribers:
        sign_and_confirm(petition, signer(email=address, notify_updates=True))
    sign_and_confirm(petition, signer(email=f"quiet.{len(action)}@example.org", notify_updates=False))
    gone = sign_and_confirm(petition, signer(email=f"gone.{len(action)}@example.org", notify_updates=True))
    signature_unsubscribe(token=unsubscribe_token(tag=bytes(gone.dedup_tag)))
    deliver_outbox()  # the signing e-mails
    petition_response_publish(petition=petition, actor=moderator, summary="We will plant them.", details="In spring.")
    return petition


def creator_email(action: str) -> str:
    return f"creator.{len(action)}@example.org"


@pytest.fixture
def petition(moderator):
    petition = with_response(
        moderator, action="Plant a tree on every street", subscribers=[f"sub{n}@example.org" for n in range(4)]
    )
    mail.outbox.clear()
    return petition


def test_sends_the_response_to_the_creator_and_every_subscriber_in_batches(petition, monkeypatch):
    monkeypatch.setattr(services, "RESPONSE_DELIVERY_BATCH", 2)
    batches: list[tuple[int, bool]] = []
    real = services.petition_response_emails_deliver

    def recording(**kwargs):  # passes through: the rows and the sending are real
        batches.append(real(**kwargs))
        return batches[-1]

    monkeypatch.setattr(services, "petition_response_emails_deliver", recording)
    assert unsent(petition) == 5  # the creator and four subscribers
    assert mail.outbox == []

    run(deliver_response_emails, petition.pk)

    assert batches == [(2, True), (2, True), (1, False)]
    assert unsent(petition) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [creator_email(petition.action), *(f"sub{n}@example.org" for n in range(4))]
    )
    assert {m.subject for m in mail.outbox} == {"A petition has received a response"}
    assert not any("We will plant them." in m.body for m in mail.outbox)  # on the page behind the link


def test_sends_only_its_own_petitions_response(petition, moderator):
    other = with_response(moderator, action="Light the towpath at night", subscribers=["towpath@example.org"])
    mail.outbox.clear()
    assert unsent(other) == 2

    run(deliver_response_emails, petition.pk)

    assert unsent(petition) == 0
    assert unsent(other) == 2
    assert "towpath@example.org" not in {m.to[0] for m in mail.outbox}


def test_a_mail_outage_stops_the_task_and_leaves_the_rest_for_a_later_run(petition, settings):
    settings.EMAIL_BACKEND = "tests.moderation.test_tasks.FlakyBackend"
    FlakyBackend.allowed = 2

    run(deliver_response_emails, petition.pk)  # does not fail: the sweep retries the rest

    assert len(mail.outbox) == 2
    assert unsent(petition) == 3
    failed = OutboundEmail.objects.filter(petition_id=petition.pk, kind=RESPONSE, last_error="ConnectionRefusedError")
    assert failed.count() == 1  # stopped at the first failure

    FlakyBackend.allowed = 100
    run(deliver_response_emails, petition.pk)

    assert unsent(petition) == 0
    assert len(mail.outbox) == 5
    assert len({m.to[0] for m in mail.outbox}) == 5  # nobody got it twice


def test_nothing_left_to_send_sends_nothing(petition):
    run(deliver_response_emails, petition.pk)
    mail.outbox.clear()
    run(deliver_response_emails, petition.pk)
    assert mail.outbox == []


def test_as_a_worker_runs_it(petition):
    result = deliver_response_emails.apply(args=[petition.pk])
    assert result.successful(), result.traceback
    assert unsent(petition) == 0
    assert len(mail.outbox) == 5


def test_a_petition_without_a_response_gets_nothing(moderator):
    petition = make_petition(state=PetitionState.OPEN)
    sign_and_confirm(petition, signer(notify_updates=True))
    deliver_outbox()
    mail.outbox.clear()
    run(deliver_response_emails, petition.pk)
    assert mail.outbox == []


def test_the_bulk_action_and_webhook_wake_ups_do_their_work(settings, moderator):
    """``run_bulk_action`` finishes a running action; ``post_abuse_alert`` posts one alert
    (here to nowhere: it counts the attempt, and the periodic job retries it)."""
    from tests.moderation.conftest import make_held
    from undersign.moderation.bulk import bulk_action_propose
    from undersign.moderation.bulk_selectors import Criteria
    from undersign.moderation.models import AbuseAlert
    from undersign.moderation.tasks import post_abuse_alert, run_bulk_action

    petition = make_petition(action="Hold the line")
    make_held(petition, email="bot@flood.example")
    action = bulk_action_propose(
        actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, held_only=True), reason="Burst"
    )
    run_bulk_action.delay(action.pk)
    action.refresh_from_db()
    assert action.state == "done" and action.changed == 1

    settings.ABUSE_ALERT_WEBHOOK_URL = "http://127.0.0.1:9/"
    from django.utils import timezone

    alert = AbuseAlert.objects.create(
        petition=petition, hour=timezone.now(), held=1, submissions=1, created_at=timezone.now()
    )
    post_abuse_alert.delay(alert.pk)
    alert.refresh_from_db()
    assert alert.webhook_attempts == 1 and alert.webhook_sent_at is None
