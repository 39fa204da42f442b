"""``signatures.bulk`` and held signatures' times: a held signature keeps its exact time (the
moderators' hourly review needs it), and a fraud invalidation is undone exactly."""

from __future__ import annotations

import pytest

from tests.factories import make_petition, sign_and_confirm
from tests.moderation.conftest import make_held
from undersign.signatures.bulk import signatures_invalidate_fraud, signatures_reinstate_fraud
from undersign.signatures.models import Signature
from undersign.signatures.services import signatures_times_coarsen
from undersign.transparency.models import LogEntry, LogEntryKind

pytestmark = pytest.mark.django_db


def test_held_signatures_keep_their_exact_times():
    held = make_held(make_petition(), email="bot@flood.example")
    signatures_times_coarsen()
    assert Signature.objects.get(pk=held.pk).created_at == held.created_at


def test_invalidate_then_reinstate_round_trip():
    petition = make_petition()
    confirmed = sign_and_confirm(petition)
    held = make_held(petition, email="bot@flood.example")
    previous = signatures_invalidate_fraud(signature_ids=[confirmed.pk, held.pk])
    assert previous == {confirmed.pk: "confirmed", held.pk: "held"}
    assert signatures_invalidate_fraud(signature_ids=[confirmed.pk]) == {}  # once only
    assert LogEntry.objects.filter(signature_id=confirmed.pk, kind=LogEntryKind.REVOCATION).count() == 1
    assert sorted(signatures_reinstate_fraud(previous=previous)) == sorted(previous)
    assert dict(Signature.objects.filter(pk__in=previous).values_list("pk", "status")) == previous
    assert LogEntry.objects.filter(signature_id=confirmed.pk, kind=LogEntryKind.REINSTATE).count() == 1
