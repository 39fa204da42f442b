"""With a broker, e-mails leave in batches from beat's ``deliver_outbox`` job instead of one
Celery message per e-mail (the sign request publishes nothing)."""

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from tests.factories import make_petition, sign_and_confirm
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add, outbox_deliver_due

pytestmark = pytest.mark.django_db


class DownBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def open(self):
        raise ConnectionRefusedError("smtp down")

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


K = OutboundEmail.Kind


@pytest.fixture
def with_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def queue_three(with_broker, django_capture_on_commit_callbacks):
    petition = make_petition()
    signature = sign_and_confirm(petition)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk)
    return callbacks


def test_with_a_broker_queuing_publishes_nothing_and_the_batch_sends_each_once(
    with_broker, django_capture_on_commit_callbacks
):
    callbacks = queue_three(with_broker, django_capture_on_commit_callbacks)
    assert callbacks == []
    assert mail.outbox == []
    assert outbox_deliver_due(limit=2) == 2
    assert outbox_deliver_due() == 1
    assert len(mail.outbox) == 3
    assert outbox_deliver_due() == 0
    assert len(mail.outbox) == 3
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()


def test_a_mail_server_outage_leaves_the_batch_unsent_with_the_failure_recorded(
    with_broker, django_capture_on_commit_callbacks, settings
):
    queue_three(with_broker, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.core.test_outbox_batches.DownBackend"
    assert outbox_deliver_due() == 0
    unsent = OutboundEmail.objects.filter(sent_at__isnull=True, kind=K.ALREADY_SIGNED)
    assert unsent.count() == 3
    assert [m.last_error for m in unsent.order_by("created_at", "pk")][0] == "ConnectionRefusedError"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_deliver_due() == 3
    assert len(mail.outbox) == 3
