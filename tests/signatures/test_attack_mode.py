"""The periodic job that switches attack mode on when a petition's held signatures in the last
hour reach ATTACK_MODE_HELD_PER_HOUR (3 in tests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.petitions.models import Petition, PetitionEvent
from undersign.signatures.attack_mode import HELD_RATE, petitions_attack_mode_switch_on
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db


def held(petition, n: int, *, ago: timedelta = timedelta(minutes=5), prefix: str = "flood") -> None:
    for i in range(n):
        _, signature_id = signature_create(petition=petition, details=signer(email=f"{prefix}{i}@example.org"))
        Signature.objects.filter(pk=signature_id).update(
            status=SignatureStatus.HELD, hold_reason="network", created_at=timezone.now() - ago
        )


def test_the_held_rate_switches_attack_mode_on():
    flooded, quiet, stale = make_petition(action="A"), make_petition(action="B"), make_petition(action="C")
    held(flooded, settings.ATTACK_MODE_HELD_PER_HOUR)
    held(quiet, settings.ATTACK_MODE_HELD_PER_HOUR - 1)
    held(stale, settings.ATTACK_MODE_HELD_PER_HOUR, ago=timedelta(minutes=61))
    assert petitions_attack_mode_switch_on() == [flooded.pk]
    assert set(Petition.objects.filter(attack_mode_since__isnull=False).values_list("pk", flat=True)) == {flooded.pk}
    event = PetitionEvent.objects.get(petition=flooded, reason_code="attack_mode_on")
    assert event.actor is None and event.note == HELD_RATE
    assert petitions_attack_mode_switch_on() == []  # already on: no second row


def test_pending_signatures_do_not_count():
    petition = make_petition()
    for i in range(settings.ATTACK_MODE_HELD_PER_HOUR + 2):
        signature_create(petition=petition, details=signer(email=f"genuine{i}@example.org"))
    assert petitions_attack_mode_switch_on() == []
