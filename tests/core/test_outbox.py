from datetime import timedelta

import pytest
from django.core import mail

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add, outbox_deliver, outbox_sweep
from undersign.petitions.models import PetitionResponse
from undersign.signatures.models import Signature
from undersign.signatures.personal_data import signer_name
from undersign.signatures.services import signature_for_link

pytestmark = pytest.mark.django_db

K = OutboundEmail.Kind


class FailingBackend:
    """An SMTP server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down for suzie@example.org")


def test_every_kind_of_email_has_an_unsubscribe_link_and_one_click_headers(moderator):
    petition = make_petition(state="rejected")
    PetitionResponse.objects.create(petition=petition, summary="S", details="D", published_by=moderator)
    creator = Signature.objects.get(petition=petition, kind="creator")
    outbox_sweep(older_than=timedelta(0))
    mail.outbox.clear()
    for kind in K.values:
        if kind == K.SIGNATURE_CONFIRM:
            continue  # needs a pending signature: covered in test_signature_create
        if kind == K.ABUSE_ALERT:
            continue  # to moderators, not a signer: tests/moderation/test_alerts.py
        outbox_add(kind=kind, petition_id=petition.pk, signature_id=creator.pk)
    assert outbox_sweep(older_than=timedelta(0)) == len(K.values) - 2
    for message in mail.outbox:
        unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe in message.body, message.subject
        assert message.to == [creator_address(creator)]


def creator_address(signature):
    from undersign.signatures.personal_data import signer_email

    return signer_email(Signature.objects.select_related("petition").get(pk=signature.pk))


def test_a_failed_send_stays_unsent_and_the_sweep_sends_it_later(settings, caplog):
    petition = make_petition()
    person = signer(email="suzie@example.org", name="Suzie Private")
    signature = sign_and_confirm(petition, person)
    message = outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk)
    settings.EMAIL_BACKEND = "tests.core.test_outbox.FailingBackend"
    assert outbox_sweep(older_than=timedelta(0)) == 0
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1
    assert message.last_error == "ConnectionRefusedError"  # never the error text: it may hold the address
    assert "suzie@example.org" not in caplog.text and "Suzie Private" not in caplog.text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_sweep(older_than=timedelta(0)) == 1
    message.refresh_from_db()
    assert message.sent_at is not None


def test_a_message_goes_out_once():
    petition = make_petition()
    signature = sign_and_confirm(petition)
    message = outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk)
    mail.outbox.clear()
    assert outbox_deliver(message_id=message.pk)
    assert not outbox_deliver(message_id=message.pk)
    assert outbox_sweep(older_than=timedelta(0)) == 0
    assert len(mail.outbox) == 1


def test_the_sweep_leaves_young_messages_to_their_wake_up():
    petition = make_petition()
    signature = sign_and_confirm(petition)
    outbox_add(kind=K.ALREADY_SIGNED, petition_id=petition.pk, signature_id=signature.pk)
    assert outbox_sweep() == 0  # younger than OUTBOX_SWEEP_AFTER_SECONDS
    assert outbox_sweep(older_than=timedelta(0)) == 1


def test_a_confirmation_for_a_signature_confirmed_meanwhile_is_dropped():
    petition = make_petition()
    signature = sign_and_confirm(petition)
    message = outbox_add(kind=K.SIGNATURE_CONFIRM, petition_id=petition.pk, signature_id=signature.pk)
    mail.outbox.clear()
    assert not outbox_deliver(message_id=message.pk)
    assert mail.outbox == []
    message.refresh_from_db()
    assert message.sent_at is not None  # handled: the sweep will not try again


def test_a_batch_read_signature_replaced_before_sending_gets_no_stale_email():
    from datetime import timedelta as td

    from undersign.core.outbox import outbox_deliver_due, outbox_preload
    from undersign.signatures.services import signature_create

    petition = make_petition()
    outbox_deliver_due()
    details = signer(name="First Name")
    signature_create(petition=petition, details=details)
    first = OutboundEmail.objects.get(sent_at__isnull=True, kind=K.SIGNATURE_CONFIRM)
    stale = outbox_preload([first.pk])[first.pk]
    assert stale.petition.pk == petition.pk  # read with its petition
    # Signed again with another name after the batch was read: its own message is queued.
    Signature.objects.filter(pk=stale.pk).update(updated_at=stale.updated_at - td(seconds=1))
    stale.refresh_from_db()
    signature_create(petition=petition, details=signer(name="Second Name", email=details.email))
    mail.outbox.clear()
    assert not outbox_deliver(message_id=first.pk, preloaded=stale)
    assert mail.outbox == []
    assert outbox_deliver_due() == 1
    assert len(mail.outbox) == 1
    _, token = last_confirm_link(details.email)
    assert signer_name(signature_for_link(token=token)) == "Second Name"  # the link sent is the new data's


def test_every_kind_of_message_has_its_renderer():
    """Each app registers its renderers in its ready(); a kind nobody renders would fail at
    sending time, in a worker, long after the change that queued it."""
    from undersign.core.outbox import renderer_kinds

    assert renderer_kinds() == set(OutboundEmail.Kind.values)
