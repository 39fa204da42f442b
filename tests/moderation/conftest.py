"""Helpers for the moderation tests: users in each role, petitions waiting in the queue, and
the e-mails a petition's creator received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display
from undersign.signatures.services import SignerDetails

ALL_STATES = list(PetitionState.values)


def petition_with_creator(
    state: str, *, action: str = "Plant a tree on every street"
) -> tuple[Petition, SignerDetails]:
    creator = signer(display=Display.NAMED)
    return make_petition(state=state, action=action, creator=creator), creator


def queued_petition(*, waiting_days: float, state: str = PetitionState.SPONSORED, **kwargs) -> Petition:
    """A petition that reached the moderation threshold ``waiting_days`` ago."""
    petition = make_petition(state=state, **kwargs)
    reached = timezone.now() - timedelta(days=waiting_days)
    Petition.objects.filter(pk=petition.pk).update(moderation_threshold_reached_at=reached)
    petition.refresh_from_db()
    return petition


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


@pytest.fixture
def staff_user(db) -> User:
    """Staff, but not a moderator."""
    return User.objects.create_user("clerk", "clerk@example.org", "correct horse battery", is_staff=True)


@pytest.fixture
def group_member_not_staff(db) -> User:
    user = User.objects.create_user("volunteer", "vol@example.org", "correct horse battery")
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "correct horse battery")


@pytest.fixture
def moderator_client(moderator) -> Client:
    client = Client()
    client.force_login(moderator)
    return client
