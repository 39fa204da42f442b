"""The moderation services: every allowed and refused move, the audit row each leaves, and
the e-mail it sends to the creator once the transaction commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from tests.moderation.conftest import ALL_STATES, mails_to, petition_with_creator
from undersign.core.models import OutboundEmail
from undersign.moderation import services
from undersign.moderation.services import (
    ModerationRefused,
    TransitionRefused,
    UnknownReason,
    petition_approve,
    petition_flag,
    petition_note_add,
    petition_reject,
    petition_response_emails_deliver,
    petition_response_publish,
    petition_take_down,
)
from undersign.petitions.models import Petition, PetitionEvent, PetitionResponse, PetitionState
from undersign.signatures.links import unsubscribe_token
from undersign.signatures.models import Signature, SignatureKind
from undersign.signatures.services import (
    signature_create,
    signature_invalidate,
    signature_unsubscribe,
)

S = PetitionState
pytestmark = pytest.mark.django_db


def states_except(*allowed: str) -> list[str]:
    return [state for state in ALL_STATES if state not in allowed]


def assert_unchanged(petition: Petition, *, events_before: int, outbox_before: int) -> None:
    state = petition.state
    petition.refresh_from_db()
    assert petition.state == state
    assert PetitionEvent.objects.filter(petition=petition).count() == events_before
    assert OutboundEmail.objects.count() == outbox_before


def last_event(petition: Petition) -> PetitionEvent:
    return PetitionEvent.objects.filter(petition=petition).latest("created_at", "pk")


class TestApprove:
    @pytest.mark.parametrize("state", [S.SPONSORED, S.FLAGGED])
    def test_opens_with_a_closing_date_and_tells_the_creator(
        self, state, moderator, settings, django_capture_on_commit_callbacks
    ):
        settings.PETITION_DURATION_DAYS = 30
        petition, creator = petition_with_creator(state)
        mail.outbox = []
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            petition = petition_approve(petition=petition, actor=moderator)

        assert petition.state == S.OPEN
        assert before <= petition.opened_at <= timezone.now()
        assert petition.closing_date == petition.opened_at + timedelta(days=30)
        event = last_event(petition)
        assert (event.actor, event.from_state, event.to_state) == (moderator, state, S.OPEN)
        [message] = mails_to(creator.email)
        assert message.subject == "Your petition has been published"

    @pytest.mark.parametrize("state", states_except(S.SPONSORED, S.FLAGGED))
    def test_refused_from_any_other_state(self, state, moderator):
        petition = make_petition(state=state)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(TransitionRefused):
            petition_approve(petition=petition, actor=moderator)
        assert_unchanged(petition, events_before=events, outbox_before=outbox)

    def test_a_stale_copy_cannot_approve_twice(self, moderator):
        petition = make_petition(state=S.SPONSORED)
        stale = Petition.objects.get(pk=petition.pk)
        petition_approve(petition=petition, actor=moderator)
        with pytest.raises(TransitionRefused):
            petition_approve(petition=stale, actor=moderator)
        assert petition.events.filter(to_state=S.OPEN).count() == 1

    def test_the_event_names_the_state_really_left_even_from_a_stale_copy(self, moderator):
        petition = make_petition(state=S.SPONSORED)
        stale = Petition.objects.get(pk=petition.pk)
        petition_flag(petition=petition, actor=moderator)
        petition_approve(petition=stale, actor=moderator)
        assert last_event(petition).from_state == S.FLAGGED


class TestReject:
    @pytest.mark.parametrize("state", [S.SPONSORED, S.FLAGGED])
    def test_rejects_with_reason_and_tells_the_creator(self, state, moderator, django_capture_on_commit_callbacks):
        petition, creator = petition_with_creator(state)
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            petition = petition_reject(
                petition=petition, actor=moderator, reason_code="duplicate", details="See petition 12."
            )

        assert petition.state == S.REJECTED
        assert petition.rejected_at is not None
        assert (petition.rejection_code, petition.rejection_details) == ("duplicate", "See petition 12.")
        event = last_event(petition)
        assert (event.actor, event.from_state, event.to_state) == (moderator, state, S.REJECTED)
        assert (event.reason_code, event.note) == ("duplicate", "See petition 12.")
        [message] = mails_to(creator.email)
        assert message.subject == "We could not publish your petition"
        assert "Reason: Duplicate" in message.body
        assert "Duplicate" in message.body
        assert "See petition 12." not in message.body  # free text, on the petition's page only

    def test_a_hiding_reason_hides_the_text(self, moderator):
        petition = make_petition(state=S.SPONSORED)
        petition = petition_reject(petition=petition, actor=moderator, reason_code="offensive")
        assert petition.state == S.HIDDEN
        assert last_event(petition).to_state == S.HIDDEN

    def test_unknown_reason_is_refused_before_anything_changes(self, moderator):
        petition = make_petition(state=S.SPONSORED)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(UnknownReason):
            petition_reject(petition=petition, actor=moderator, reason_code="because")
        assert_unchanged(petition, events_before=events, outbox_before=outbox)

    @pytest.mark.parametrize("state", states_except(S.SPONSORED, S.FLAGGED))
    def test_refused_from_any_other_state(self, state, moderator):
        petition = make_petition(state=state)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(TransitionRefused):
            petition_reject(petition=petition, actor=moderator, reason_code="duplicate")
        assert_unchanged(petition, events_before=events, outbox_before=outbox)


class TestFlag:
    def test_flags_a_sponsored_petition_without_e_mail(self, moderator, django_capture_on_commit_callbacks):
        petition = make_petition(state=S.SPONSORED)
        outbox = OutboundEmail.objects.count()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            petition = petition_flag(petition=petition, actor=moderator, note="Check the figures")
        assert petition.state == S.FLAGGED
        event = last_event(petition)
        assert (event.actor, event.from_state, event.to_state, event.note) == (
            moderator,
            S.SPONSORED,
            S.FLAGGED,
            "Check the figures",
        )
        assert OutboundEmail.objects.count() == outbox
        assert callbacks == []

    @pytest.mark.parametrize("state", states_except(S.SPONSORED))
    def test_refused_from_any_other_state(self, state, moderator):
        petition = make_petition(state=state)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(TransitionRefused):
            petition_flag(petition=petition, actor=moderator)
        assert_unchanged(petition, events_before=events, outbox_before=outbox)


class TestTakeDown:
    @pytest.mark.parametrize(("reason", "state"), [("irrelevant", S.REJECTED), ("defamatory", S.HIDDEN)])
    def test_takes_down_an_open_petition_and_tells_the_creator(
        self, reason, state, moderator, django_capture_on_commit_callbacks
    ):
        petition, creator = petition_with_creator(S.OPEN)
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            petition = petition_take_down(petition=petition, actor=moderator, reason_code=reason)

        assert petition.state == state
        assert petition.rejection_code == reason
        assert petition.rejected_at is not None
        event = last_event(petition)
        assert (event.actor, event.from_state, event.to_state, event.reason_code) == (
            moderator,
            S.OPEN,
            state,
            reason,
        )
        [message] = mails_to(creator.email)
        assert message.subject == "Your petition has been taken down"

    def test_unknown_reason_is_refused(self, moderator):
        petition = make_petition(state=S.OPEN)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(UnknownReason):
            petition_take_down(petition=petition, actor=moderator, reason_code="")
        assert_unchanged(petition, events_before=events, outbox_before=outbox)

    @pytest.mark.parametrize("state", states_except(S.OPEN))
    def test_refused_from_any_other_state(self, state, moderator):
        petition = make_petition(state=state)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(TransitionRefused):
            petition_take_down(petition=petition, actor=moderator, reason_code="duplicate")
        assert_unchanged(petition, events_before=events, outbox_before=outbox)


class TestNote:
    @pytest.mark.parametrize("state", ALL_STATES)
    def test_a_note_in_any_state_changes_nothing_else(self, state, moderator):
        petition = make_petition(state=state)
        outbox = OutboundEmail.objects.count()
        event = petition_note_add(petition=petition, actor=moderator, note="  Called the creator.  ")
        petition.refresh_from_db()
        assert petition.state == state
        assert (event.actor, event.from_state, event.to_state, event.note) == (
            moderator,
            "",
            "",
            "Called the creator.",
        )
        assert OutboundEmail.objects.count() == outbox

    def test_a_blank_note_is_refused(self, moderator):
        petition = make_petition(state=S.OPEN)
        events = petition.events.count()
        with pytest.raises(ModerationRefused):
            petition_note_add(petition=petition, actor=moderator, note="   ")
        assert petition.events.count() == events


class TestResponsePublish:
    def subscribers(self, petition: Petition) -> list[Signature]:
        """Two signers who want updates, plus signatures that must not get the response."""
        wanted = [sign_and_confirm(petition, signer(notify_updates=True)) for _ in range(2)]
        sign_and_confirm(petition, signer(notify_updates=False))
        unsubscribed = sign_and_confirm(petition, signer(notify_updates=True))
        signature_unsubscribe(token=unsubscribe_token(tag=bytes(unsubscribed.dedup_tag)))
        invalidated = sign_and_confirm(petition, signer(notify_updates=True))
        signature_invalidate(signature=invalidated, reason="fraud")
        signature_create(petition=petition, details=signer(notify_updates=True), kind=SignatureKind.SIGNER)
        return wanted

    @pytest.mark.parametrize("state", [S.OPEN, S.CLOSED])
    def test_publishes_and_queues_one_e_mail_per_subscriber_and_the_creator(
        self, state, moderator, monkeypatch, django_capture_on_commit_callbacks
    ):
        petition = make_petition(state=S.OPEN)
        wanted = self.subscribers(petition)
        Petition.objects.filter(pk=petition.pk).update(
            state=state, closed_at=timezone.now() if state == S.CLOSED else None
        )
        monkeypatch.setattr(services, "RESPONSE_EMAIL_CHUNK", 2)  # several INSERTs
        OutboundEmail.objects.filter(petition_id=petition.pk).update(
            sent_at=timezone.now(), petition_id=None, signature_id=None
        )  # as sending does
        mail.outbox = []

        with django_capture_on_commit_callbacks(execute=True):
            response = petition_response_publish(
                petition=petition, actor=moderator, summary="We will plant them.", details="From spring on."
            )

        assert PetitionResponse.objects.get(petition=petition) == response
        assert response.published_by == moderator
        # Sent rows forget whom they were for (core.outbox.outbox_mark_sent): one per recipient, all sent.
        rows = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.PETITION_RESPONSE)
        assert rows.count() == 1 + len(wanted) == 3
        assert not rows.filter(sent_at__isnull=True).exists()
        assert not rows.filter(petition_id__isnull=False).exists()
        assert len(mail.outbox) == 3
        assert {m.subject for m in mail.outbox} == {"A petition has received a response"}
        assert not any("We will plant them." in m.body for m in mail.outbox)  # on the page behind the link
        # The petition is named by no address, only reached through each signer's own token.
        assert all(
            "/en/signatures/petition/" in m.body and f"/en/petitions/{petition.pk}/" not in m.body for m in mail.outbox
        )
        event = last_event(petition)
        assert (event.actor, event.from_state, event.to_state) == (moderator, "", "")
        assert "We will plant them." in event.note

    @pytest.mark.parametrize("state", states_except(S.OPEN, S.CLOSED))
    def test_refused_unless_open_or_closed(self, state, moderator):
        petition = make_petition(state=state)
        events, outbox = petition.events.count(), OutboundEmail.objects.count()
        with pytest.raises(ModerationRefused):
            petition_response_publish(petition=petition, actor=moderator, summary="S", details="D")
        assert not PetitionResponse.objects.filter(petition=petition).exists()
        assert_unchanged(petition, events_before=events, outbox_before=outbox)

    def test_a_second_response_is_refused(self, moderator):
        petition = make_petition(state=S.OPEN)
        petition_response_publish(petition=petition, actor=moderator, summary="First", details="D")
        outbox = OutboundEmail.objects.count()
        with pytest.raises(ModerationRefused, match="already has a response"):
            petition_response_publish(petition=petition, actor=moderator, summary="Second", details="D")
        assert PetitionResponse.objects.get(petition=petition).summary == "First"
        assert OutboundEmail.objects.count() == outbox

    @pytest.mark.parametrize(("summary", "details"), [("", "D"), ("S", "  "), ("", "")])
    def test_blank_text_is_refused(self, summary, details, moderator):
        petition = make_petition(state=S.OPEN)
        with pytest.raises(ModerationRefused):
            petition_response_publish(petition=petition, actor=moderator, summary=summary, details=details)
        assert not PetitionResponse.objects.filter(petition=petition).exists()


class TestResponseDelivery:
    def queue_response(self, moderator, subscribers: int) -> Petition:
        petition = make_petition(state=S.OPEN)
        for _ in range(subscribers):
            sign_and_confirm(petition, signer(notify_updates=True))
        # Not capturing on-commit callbacks: the rows stay unsent for the test to deliver.
        petition_response_publish(petition=petition, actor=moderator, summary="S", details="D")
        mail.outbox = []
        return petition

    def unsent(self, petition: Petition) -> int:
        return OutboundEmail.objects.filter(
            petition_id=petition.pk, kind=OutboundEmail.Kind.PETITION_RESPONSE, sent_at__isnull=True
        ).count()

    def test_delivers_in_batches_and_says_whether_more_remain(self, moderator):
        petition = self.queue_response(moderator, subscribers=2)  # + the creator: 3 rows
        assert petition_response_emails_deliver(petition_id=petition.pk, limit=2) == (2, True)
        assert self.unsent(petition) == 1
        assert petition_response_emails_deliver(petition_id=petition.pk, limit=2) == (1, False)
        assert self.unsent(petition) == 0
        assert len(mail.outbox) == 3

    def test_stops_at_the_first_failure_and_records_it(self, moderator, monkeypatch):
        petition = self.queue_response(moderator, subscribers=2)

        def refuse(*, message_id: int, **kwargs: object) -> bool:
            raise ConnectionRefusedError("mail server down")

        monkeypatch.setattr(services, "outbox_deliver", refuse)
        assert petition_response_emails_deliver(petition_id=petition.pk) == (0, False)
        failed = OutboundEmail.objects.filter(
            petition_id=petition.pk, kind=OutboundEmail.Kind.PETITION_RESPONSE, attempts=1
        )
        assert failed.count() == 1
        assert failed.get().last_error == "ConnectionRefusedError"
        assert self.unsent(petition) == 3

    def test_the_task_delivers_everything(self, moderator, monkeypatch):
        from undersign.moderation.tasks import deliver_response_emails

        petition = self.queue_response(moderator, subscribers=3)
        monkeypatch.setattr(services, "RESPONSE_DELIVERY_BATCH", 1)  # one message per batch
        deliver_response_emails.delay(petition.pk)
        assert self.unsent(petition) == 0
        assert len(mail.outbox) == 4


@pytest.mark.django_db(transaction=True)
def test_response_e_mails_go_out_when_the_transaction_commits(moderator):
    """No test transaction around it: on-commit delivery runs as it does on the site."""
    petition, creator = petition_with_creator(S.OPEN)
    subscriber = signer(notify_updates=True)
    sign_and_confirm(petition, subscriber)
    mail.outbox = []
    petition_response_publish(petition=petition, actor=moderator, summary="Yes.", details="Soon.")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([creator.email, subscriber.email])
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_approval_e_mail_goes_out_when_the_transaction_commits(moderator):
    petition, creator = petition_with_creator(S.SPONSORED)
    mail.outbox = []
    petition_approve(petition=petition, actor=moderator)
    assert [m.subject for m in mails_to(creator.email)] == ["Your petition has been published"]
