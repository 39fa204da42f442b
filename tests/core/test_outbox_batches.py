"""With a broker, e-mails leave in batches from beat's ``deliver_outbox`` job instead of one
Celery message per e-mail (the sign request publishes nothing)."""

import re
import smtplib

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


class CountingBackend(BaseEmailBackend):
    """A mail server that counts the connections it is opened with and can fail on cue."""

    opened = 0
    accept: int | None = None  # messages accepted before it refuses the rest
    drop_once = False  # drop the connection (as after an idle timeout) before the next message
    sent: list = []

    def open(self):
        CountingBackend.opened += 1
        self.connected = True

    def close(self):
        self.connected = False

    def send_messages(self, messages):
        if CountingBackend.drop_once:
            CountingBackend.drop_once = False
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        if CountingBackend.accept is not None and len(CountingBackend.sent) >= CountingBackend.accept:
            raise smtplib.SMTPDataError(451, "try later")
        CountingBackend.sent.extend(messages)
        return len(messages)


COUNTING = "tests.core.test_outbox_batches.CountingBackend"


@pytest.fixture
def counting():
    """Reset; a test switches to it (``settings.EMAIL_BACKEND = COUNTING``) once its signers
    have confirmed through the in-memory backend."""
    CountingBackend.opened, CountingBackend.accept, CountingBackend.drop_once = 0, None, False
    CountingBackend.sent = []
    return CountingBackend


def test_a_partial_smtp_failure_marks_only_what_was_sent(
    with_broker, django_capture_on_commit_callbacks, counting, settings
):
    queue_three(with_broker, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = COUNTING
    counting.accept = 1
    assert outbox_deliver_due() == 1
    unsent = OutboundEmail.objects.filter(sent_at__isnull=True, kind=K.ALREADY_SIGNED).order_by("created_at", "pk")
    assert unsent.count() == 2
    assert [(m.attempts, m.last_error) for m in unsent] == [(1, "SMTPDataError"), (0, "")]
    counting.accept = None
    assert outbox_deliver_due() == 2
    assert len(counting.sent) == 3


def test_the_smtp_connection_stays_open_across_runs_and_is_reopened_when_dropped(
    with_broker, django_capture_on_commit_callbacks, counting, settings
):
    queue_three(with_broker, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = COUNTING
    assert outbox_deliver_due(limit=1) == 1
    assert outbox_deliver_due(limit=1) == 1
    assert counting.opened == 1  # one connection for both runs
    counting.drop_once = True  # the server closed it while idle
    assert outbox_deliver_due() == 1
    assert counting.opened == 2
    assert len(counting.sent) == 3
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    assert outbox_deliver_due() == 0  # nothing to send: the connection is closed
    assert outbox_mailer_idle()


def outbox_mailer_idle() -> bool:
    from undersign.core.outbox import mailer

    return mailer.backend is None


def test_a_message_no_longer_wanted_is_marked_sent_without_a_mail_in_a_batch(with_broker, counting, settings):
    petition = make_petition()
    signature = sign_and_confirm(petition)  # confirmed: its confirmation message is wanted no more
    settings.EMAIL_BACKEND = COUNTING
    message = outbox_add(kind=K.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=signature.pk)
    outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk)
    assert outbox_deliver_due() == 1
    assert len(counting.sent) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.signature_id is None


def test_a_batch_writes_one_fresh_link_per_pending_signature_in_one_statement(with_broker, counting, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import signer
    from undersign.signatures.services import signature_create, signature_for_link

    petition = make_petition()
    outbox_deliver_due()
    for _ in range(3):
        signature_create(petition=petition, details=signer())
    settings.EMAIL_BACKEND = COUNTING
    with CaptureQueriesContext(connection) as queries:
        assert outbox_deliver_due() == 3
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2  # the batch's tokens, then its marks
    links = {re.search(r"/signatures/confirm/([^/\s]+)/", m.body).group(1) for m in counting.sent}
    assert len({signature_for_link(token=token).pk for token in links}) == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_backlog_and_skip_what_the_other_holds(postgres_only, with_broker, counting, settings):
    import psycopg
    from django.db import connection

    petition = make_petition()
    signature = sign_and_confirm(petition)
    settings.EMAIL_BACKEND = COUNTING
    held, *others = [
        outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk).pk for _ in range(3)
    ]
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        other.execute("SELECT id FROM core_outboundemail WHERE id = %s FOR UPDATE", [held])  # another worker's batch
        assert outbox_deliver_due() == 2
        assert OutboundEmail.objects.get(pk=held).sent_at is None
    assert outbox_deliver_due() == 1
    assert len(counting.sent) == 3


@pytest.mark.django_db(transaction=True)
def test_a_link_is_committed_before_its_mail_leaves(postgres_only, with_broker, settings):
    """Read from another connection at the moment of sending, as the mail's reader would."""
    import psycopg
    from django.db import connection

    from tests.factories import signer
    from undersign.core.crypto import token_digest
    from undersign.signatures.services import signature_create

    petition = make_petition()
    outbox_deliver_due()
    params = connection.get_connection_params()
    seen: list[bool] = []

    class Reader(BaseEmailBackend):
        def send_messages(self, messages):
            for message in messages:
                token = re.search(r"/signatures/confirm/([^/\s]+)/", message.body).group(1)
                with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as reader:
                    row = reader.execute(
                        "SELECT 1 FROM signatures_signature WHERE token_digest = %s", [token_digest(token)]
                    ).fetchone()
                seen.append(row is not None)
            return len(messages)

    settings.EMAIL_BACKEND = f"{__name__}.ReaderBackend"
    globals()["ReaderBackend"] = Reader
    for _ in range(2):
        signature_create(petition=petition, details=signer())
    assert outbox_deliver_due() == 2
    assert seen == [True, True]
