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
from undersign.core.outbox import outbox_unsent_forget
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display, Signature, SignatureStatus
from undersign.signatures.services import SignerDetails, signature_create

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


def make_held(petition: Petition, *, email: str, ip: str | None = "198.51.100.7", reason: str = "network") -> Signature:
    """A held signature, as the sign path stores one over a limit: its confirmation e-mail is
    not queued."""
    _, signature_id = signature_create(petition=petition, details=signer(email=email, ip_address=ip))
    outbox_unsent_forget(signature_ids=[signature_id])
    Signature.objects.filter(pk=signature_id).update(status=SignatureStatus.HELD, hold_reason=reason)
    return Signature.objects.get(pk=signature_id)


@pytest.fixture
def second_moderator(db) -> User:
    user = User.objects.create_user("mia", "mia@example.org", "correct horse battery", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user
