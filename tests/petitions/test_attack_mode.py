"""Switching attack mode: a guarded UPDATE and one audit row per real switch."""

from __future__ import annotations

import pytest

from tests.factories import make_petition
from undersign.petitions.models import PetitionEvent
from undersign.petitions.services import ATTACK_MODE_OFF, ATTACK_MODE_ON, petition_attack_mode_set

pytestmark = pytest.mark.django_db


def test_on_then_off_leaves_a_row_each(moderator):
    petition = make_petition()
    state = petition.state
    assert petition_attack_mode_set(petition=petition, on=True, actor=None, reason="held_rate")
    petition.refresh_from_db()
    assert petition.attack_mode_since is not None and petition.state == state
    assert petition_attack_mode_set(petition=petition, on=False, actor=moderator, reason="The flood stopped")
    petition.refresh_from_db()
    assert petition.attack_mode_since is None
    events = list(PetitionEvent.objects.filter(petition=petition, reason_code__startswith="attack_mode"))
    assert [(e.reason_code, e.actor, e.note, e.from_state, e.to_state) for e in events] == [
        (ATTACK_MODE_ON, None, "held_rate", "", ""),
        (ATTACK_MODE_OFF, moderator, "The flood stopped", "", ""),
    ]


def test_switching_to_what_it_is_writes_nothing(moderator):
    petition = make_petition()
    assert not petition_attack_mode_set(petition=petition, on=False, actor=moderator, reason="x")
    assert petition_attack_mode_set(petition=petition, on=True, actor=moderator, reason="x")
    since = petition.attack_mode_since
    assert not petition_attack_mode_set(petition=petition, on=True, actor=None, reason="held_rate")
    petition.refresh_from_db()
    assert petition.attack_mode_since == since
    assert PetitionEvent.objects.filter(petition=petition, reason_code=ATTACK_MODE_ON).count() == 1
