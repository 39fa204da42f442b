"""Builders for test data. They go through the services, as the site does, so tests see the
same rows real use makes."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from undersign.core.crypto import token_digest
from undersign.core.outbox import outbox_sweep
from undersign.counting.models import BreakdownSnapshot
from undersign.counting.selectors import breakdown_latest
from undersign.counting.services import breakdown_snapshot_take
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import GroupThresholds, PetitionText, petition_create
from undersign.signatures.models import Display, Signature, SignatureKind
from undersign.signatures.services import SignerDetails, signature_confirm, signature_create
from undersign.transparency.services import log_integrate_all, log_opened_add

_seq = itertools.count(1)
CONFIRM_LINK = re.compile(r"https?://[^/\s]+/[a-z-]+/signatures/confirm/([\w-]+)/")


def signer(**overrides) -> SignerDetails:
    n = next(_seq)
    values = {
        "name": f"Signer Number{n}",
        "email": f"signer{n}@example.org",
        "region": "E12000007",
        "display": Display.COUNTED,
        "notify_updates": False,
        "ip_address": "192.0.2.10",
    }
    values.update(overrides)
    return SignerDetails(**values)


def deliver_outbox() -> int:
    """Send what the outbox holds now. Tests inside a transaction never reach on-commit
    delivery; in transactional tests this finds nothing left to send."""
    return outbox_sweep(older_than=timedelta(0))


def last_mailed(pattern: re.Pattern[str], to: str) -> re.Match[str]:
    """The match of ``pattern`` in the newest message e-mailed to ``to`` that holds one,
    delivering the outbox first."""
    deliver_outbox()
    for message in reversed(mail.outbox):
        if to in message.to and (match := pattern.search(message.body)):
            return match
    raise AssertionError(f"no message to {to} holds {pattern.pattern}")


def last_confirm_link(to: str | None = None) -> tuple[int, str]:
    """The (signature id, token) of the newest confirmation link e-mailed (to ``to``),
    delivering the outbox first. The link names no signature: its id is found, as the site
    finds it, by the token's digest."""
    deliver_outbox()
    for message in reversed(mail.outbox):
        if to is not None and to not in message.to:
            continue
        if match := CONFIRM_LINK.search(message.body):
            token = match.group(1)
            signature = Signature.objects.filter(token_digest=token_digest(token)).only("pk").first()
            return (signature.pk if signature is not None else 0), token
    raise AssertionError("no confirmation link was e-mailed")


def make_petition(
    *,
    action: str = "Plant a tree on every street",
    state: str = PetitionState.OPEN,
    creator: SignerDetails | None = None,
    group: GroupThresholds | None = None,
    background: str = "Trees cool streets and clean the air.",
    language: str = "",
) -> Petition:
    """A petition in ``state`` with a confirmed creator; open ones have opening dates."""
    petition = petition_create(
        text=PetitionText(action=action, background=background, additional_details="", language=language),
        group=group,
    )
    creator = creator or signer(display=Display.NAMED)
    _, _ = signature_create(petition=petition, details=creator, kind=SignatureKind.CREATOR)
    signature_id, token = last_confirm_link(creator.email)
    signature_confirm(token=token)
    now = timezone.now()
    fields: dict[str, object] = {"state": state}
    if state not in (PetitionState.PENDING, PetitionState.VALIDATED):
        fields["moderation_threshold_reached_at"] = now
    if state in (PetitionState.OPEN, PetitionState.CLOSED):
        fields.update(opened_at=now, closing_date=now + timedelta(days=180))
    if state == PetitionState.CLOSED:
        fields.update(closed_at=now, closing_date=now)
    if state in (PetitionState.REJECTED, PetitionState.HIDDEN):
        fields.update(rejected_at=now, rejection_code="duplicate")
    Petition.objects.filter(pk=petition.pk).update(**fields)
    petition.refresh_from_db()
    if state in (PetitionState.OPEN, PetitionState.CLOSED):
        log_opened_add(petition=petition)  # what moderation's approval queues
    return petition


def sign_and_confirm(
    petition: Petition, details: SignerDetails | None = None, kind: str = SignatureKind.SIGNER
) -> Signature:
    details = details or signer()
    signature_create(petition=petition, details=details, kind=kind)
    signature_id, token = last_confirm_link(details.email)
    _, signature = signature_confirm(token=token)
    return signature


@pytest.fixture
def moderator(db) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "correct horse battery", is_staff=True)
    group, _ = Group.objects.get_or_create(name="moderators")
    user.groups.add(group)
    return user


def take_breakdown_snapshot(petition: Petition) -> BreakdownSnapshot | None:
    """The petition's next breakdown snapshot, taken as the periodic job takes it once its time
    has come (None while fewer than K_ANONYMITY counted-only signatures have arrived since the
    last one). Its time may lie ahead of the clock: the schedule is what matters here. The log's
    integrator then appends the verification decisions the snapshot released, as it does within
    a second (``LOG_INTEGRATE_INTERVAL``)."""
    last = breakdown_latest(petition_id=petition.pk)
    now = timezone.now()
    if last is not None:
        now = max(now, last.taken_at + timedelta(minutes=settings.BREAKDOWN_SNAPSHOT_MINUTES))
    snapshot = breakdown_snapshot_take(petition_id=petition.pk, now=now)
    if snapshot is not None:
        log_integrate_all()
    return snapshot


def wait_until_another_session_waits_for_a_lock() -> None:
    """Return once another session of this test waits for a lock (a condition, not a guess);
    PostgreSQL only."""
    deadline = timezone.now() + timedelta(seconds=30)
    while timezone.now() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        threading.Event().wait(0.05)
    raise AssertionError("no other session waited for a lock")


def force_login_verified(client, user: User) -> None:
    """``client.force_login`` for a staff member whose session has passed its second step, as
    staff pages need when ``STAFF_OTP_REQUIRED`` is on (plain ``force_login`` does when it is off)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
