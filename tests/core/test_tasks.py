"""The outbox's Celery tasks, called the way Celery calls them: ``delay`` runs the task in this
process under the tests' eager mode, and ``apply`` is what a worker does with a message. The
rows are real; inside a test transaction the on-commit delivery never runs, so a queued e-mail
stays unsent until a task sends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.core.tasks import deliver_outbox, sweep_outbox

pytestmark = pytest.mark.django_db
K = OutboundEmail.Kind
SUZIE = "suzie@example.org"


class DownBackend(BaseEmailBackend):
    """A mail server that refuses every connection."""

    def open(self):
        raise ConnectionRefusedError("smtp down")

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def run(task, *args):
    """``task.delay(*args)``, failing the test if the task raised (eager mode keeps a task's
    exception in its result instead of raising it)."""
    result = task.delay(*args)
    assert result.successful(), result.traceback
    return result


@pytest.fixture
def signature():
    petition = make_petition()
    signature = sign_and_confirm(petition, signer(email=SUZIE))
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()  # the factories sent theirs
    mail.outbox.clear()
    return signature


def queue(signature, *, age: timedelta = timedelta(0)) -> OutboundEmail:
    """An e-mail to the signer, queued ``age`` ago and not sent yet."""
    message = outbox_add(kind=K.ALREADY_SIGNED, petition_id=signature.petition_id, signature_id=signature.pk)
    if age:
        OutboundEmail.objects.filter(pk=message.pk).update(created_at=timezone.now() - age)
    message.refresh_from_db()
    assert message.sent_at is None
    return message


def past_the_sweep_age() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 60)


def sent(message: OutboundEmail) -> bool:
    message.refresh_from_db()
    return message.sent_at is not None


class TestSweepOutbox:
    def test_sends_what_waited_past_the_sweep_age_and_leaves_young_messages(self, signature):
        old = queue(signature, age=past_the_sweep_age())
        young = queue(signature)

        run(sweep_outbox)

        assert sent(old)
        assert not sent(young)  # still its own wake-up's to send
        assert [m.to for m in mail.outbox] == [[SUZIE]]

    def test_a_mail_outage_is_recorded_and_the_next_sweep_sends_it(self, signature, settings):
        old = queue(signature, age=past_the_sweep_age())
        settings.EMAIL_BACKEND = "tests.core.test_tasks.DownBackend"

        run(sweep_outbox)  # the task itself does not fail: the next sweep retries

        assert not sent(old)
        assert (old.attempts, old.last_error) == (1, "ConnectionRefusedError")
        assert mail.outbox == []

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        run(sweep_outbox)

        assert sent(old)
        assert old.attempts == 2
        assert [m.to for m in mail.outbox] == [[SUZIE]]

    def test_with_nothing_due_it_sends_nothing(self, signature):
        young = queue(signature)
        run(sweep_outbox)
        assert not sent(young)
        assert mail.outbox == []


class TestDeliverOutbox:
    def test_sends_every_unsent_message_young_or_old(self, signature):
        messages = [queue(signature), queue(signature), queue(signature, age=past_the_sweep_age())]

        run(deliver_outbox)

        assert all(sent(message) for message in messages)
        assert len(mail.outbox) == 3
        assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()

    def test_with_a_broker_the_queued_messages_wait_for_it(
        self, signature, settings, django_capture_on_commit_callbacks
    ):
        """With a broker, queuing publishes nothing and sends nothing on commit: beat's
        ``deliver_outbox``, run by a worker (``apply``), is what sends."""
        settings.CELERY_TASK_ALWAYS_EAGER = False
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            messages = [queue(signature), queue(signature)]
        assert callbacks == []
        assert mail.outbox == []

        result = deliver_outbox.apply()

        assert result.successful(), result.traceback
        assert all(sent(message) for message in messages)
        assert len(mail.outbox) == 2

    def test_a_mail_outage_leaves_the_messages_for_the_next_run(self, signature, settings):
        messages = [queue(signature), queue(signature)]
        settings.EMAIL_BACKEND = "tests.core.test_tasks.DownBackend"

        run(deliver_outbox)

        assert not any(sent(message) for message in messages)
        # The run stops at the first failure, recorded on the message it was sending.
        assert [m.last_error for m in messages].count("ConnectionRefusedError") == 1

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        run(deliver_outbox)

        assert all(sent(message) for message in messages)
        assert len(mail.outbox) == 2
