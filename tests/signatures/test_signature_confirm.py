from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.petitions.models import Petition, PetitionEvent, PetitionState
from undersign.petitions.services import PetitionText, petition_create
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus
from undersign.signatures.services import (
    ConfirmOutcome,
    InvalidLink,
    SigningRefused,
    signature_confirm,
    signature_create,
)
from undersign.transparency.models import LogEntry, LogEntryKind

pytestmark = pytest.mark.django_db


def pending(petition, **details):
    person = signer(**details)
    signature_create(petition=petition, details=person)
    return last_confirm_link(person.email)


class TestConfirm:
    def test_confirms_once_and_queues_one_log_entry(self):
        petition = make_petition()
        signature_id, token = pending(petition)
        assert signature_confirm(token=token)[0] == ConfirmOutcome.CONFIRMED
        with pytest.raises(InvalidLink):  # the link is spent: confirming twice changes nothing
            signature_confirm(token=token)
        entries = LogEntry.objects.filter(signature_id=signature_id)
        assert [(e.kind, e.delta, e.leaf_index) for e in entries] == [(LogEntryKind.SIGNATURE, 1, None)]
        assert bytes(entries[0].commitment) == bytes(Signature.objects.get(pk=signature_id).commitment)
        assert Signature.objects.get(pk=signature_id).confirmed_at is not None
        # The spent link's digest is gone: a dump and a mailbox copy of the link find no row.
        assert Signature.objects.get(pk=signature_id).token_digest is None

    @pytest.mark.parametrize(
        "mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "", lambda t: t + "x"]
    )
    def test_tampered_token_is_refused(self, mangle):
        petition = make_petition()
        signature_id, token = pending(petition)
        with pytest.raises(InvalidLink):
            signature_confirm(token=mangle(token))
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.PENDING

    def test_unknown_signature_is_refused(self):
        with pytest.raises(InvalidLink):
            signature_confirm(token="x")

    def test_expired_link_is_refused(self, settings):
        petition = make_petition()
        signature_id, token = pending(petition)
        Signature.objects.filter(pk=signature_id).update(
            token_sent_at=timezone.now() - timedelta(days=settings.CONFIRMATION_LINK_DAYS, seconds=1)
        )
        with pytest.raises(InvalidLink):
            signature_confirm(token=token)

    def test_confirmation_works_in_the_grace_after_closing_then_stops(self, settings):
        petition = make_petition()
        first, second = pending(petition), pending(petition)
        now = timezone.now()
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=now, closing_date=now)
        assert signature_confirm(token=first[1])[0] == ConfirmOutcome.CONFIRMED
        late = now - timedelta(hours=settings.CONFIRMATION_GRACE_HOURS, seconds=1)
        Petition.objects.filter(pk=petition.pk).update(closing_date=late)
        with pytest.raises(SigningRefused, match="time to confirm"):
            signature_confirm(token=second[1])

    def test_rejected_petition_takes_no_confirmations(self):
        petition = make_petition()
        signature_id, token = pending(petition)
        Petition.objects.filter(pk=petition.pk).update(
            state=PetitionState.REJECTED, rejected_at=timezone.now(), rejection_code="duplicate"
        )
        with pytest.raises(SigningRefused):
            signature_confirm(token=token)


class TestCreatorAndSponsors:
    def test_creator_confirming_starts_sponsoring_and_mails_the_sponsor_link(self):
        petition = petition_create(
            text=PetitionText(action="Fix the bridge", background="It is broken.", additional_details="")
        )
        creator = signer(email="charlie@example.org")
        signature_create(petition=petition, details=creator, kind=SignatureKind.CREATOR)
        signature_id, token = last_confirm_link(creator.email)
        signature_confirm(token=token)
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED
        deliver_outbox()
        assert f"/en/sponsor/{petition.sponsor_token}/" in mail.outbox[-1].body
        assert list(PetitionEvent.objects.filter(petition=petition).values_list("to_state", flat=True)) == [
            "pending",
            "validated",
        ]

    def test_enough_confirmed_sponsors_send_it_to_moderation(self, settings):
        settings.SPONSORS_REQUIRED = 3
        petition = make_petition(state=PetitionState.VALIDATED)
        for _ in range(2):
            sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED
        assert petition.moderation_threshold_reached_at is not None
        # A late sponsor is still welcome and still counts; the state does not move again.
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED

    def test_unconfirmed_sponsors_do_not_count_toward_moderation(self, settings):
        settings.SPONSORS_REQUIRED = 1
        petition = make_petition(state=PetitionState.VALIDATED)
        signature_create(petition=petition, details=signer(), kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED
