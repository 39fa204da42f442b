from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition
from undersign.core.models import DataKey
from undersign.petitions.models import Petition, PetitionEvent, PetitionState
from undersign.petitions.services import (
    PetitionText,
    TransitionRefused,
    petition_close,
    petition_create,
    petitions_close_due,
)

pytestmark = pytest.mark.django_db


def test_create_makes_a_pending_petition_with_its_own_data_key():
    petition = petition_create(text=PetitionText(action="A", background="B", additional_details=""))
    assert petition.state == PetitionState.PENDING
    assert petition.data_key == DataKey.objects.get(key_id=petition.data_key_id)
    assert PetitionEvent.objects.get(petition=petition).to_state == "pending"


@pytest.mark.parametrize("brk", ["\n", "\r", "\v", "\f", "\x1e", "\x85", "\u2028", "\u2029"])
def test_create_refuses_an_action_with_a_line_break(brk):
    with pytest.raises(ValueError, match="on one line"):
        petition_create(text=PetitionText(action=f"Save{brk}the park", background="B", additional_details=""))
    assert not Petition.objects.exists() and not DataKey.objects.exists()


def test_line_breaks_stay_allowed_in_the_background_and_details():
    petition = petition_create(text=PetitionText(action="A", background="B\nC", additional_details="D\r\nE"))
    assert petition.background == "B\nC"


class TestClosing:
    def test_due_petitions_close_and_leave_a_row(self):
        due = make_petition()
        later = make_petition()
        Petition.objects.filter(pk=due.pk).update(closing_date=timezone.now() - timedelta(minutes=1))
        assert petitions_close_due() == [due.pk]
        due.refresh_from_db()
        later.refresh_from_db()
        assert due.state == PetitionState.CLOSED and due.closed_at is not None
        assert later.state == PetitionState.OPEN
        event = due.events.last()
        assert (event.from_state, event.to_state, event.actor) == ("open", "closed", None)

    def test_closing_twice_is_refused(self):
        petition = make_petition()
        petition_close(petition=petition)
        with pytest.raises(TransitionRefused):
            petition_close(petition=petition)

    def test_the_creator_is_told(self):
        petition = make_petition()
        mail.outbox.clear()
        petition_close(petition=petition)
        deliver_outbox()
        assert mail.outbox[-1].subject == "Your petition has closed"

    def test_command(self, capsys):
        petition = make_petition()
        Petition.objects.filter(pk=petition.pk).update(closing_date=timezone.now())
        call_command("close_due_petitions")
        assert f"closed 1 petition(s): {petition.pk}" in capsys.readouterr().out

    def test_database_refuses_a_closed_petition_without_closing_time(self):
        from django.db import IntegrityError

        petition = make_petition()
        with pytest.raises(IntegrityError):
            Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED)
