"""DECISION entries in the log's storage: held until released, released once, appended shuffled
among the batch's status entries, dropped with a signature confirmed too late, and counted by
the verifier's own rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Signature
from undersign.transparency import services
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.selectors import log_decisions_held, log_verified_count
from undersign.transparency.services import Decision, log_decision_hold, log_decisions_release, log_integrate_all
from undersign_verify.entries import DecisionOutcome, EntryType, decode_entry, tally

pytestmark = pytest.mark.django_db
O = DecisionOutcome  # noqa: E741 - the outcomes read as O.VALIDATED, O.REJECTED


def hold(petition: Petition, signature, outcome: DecisionOutcome, tag: bytes = b"") -> None:
    decision = Decision(petition.pk, petition.uuid, bytes(signature.commitment), outcome, tag)
    log_decision_hold(decision=decision, now=timezone.now())


def appended_decisions(petition: Petition) -> list[tuple[bytes, DecisionOutcome]]:
    rows = LogEntry.objects.filter(petition=petition, kind=LogEntryKind.DECISION, leaf_index__isnull=False)
    entries = [decode_entry(bytes(body)) for body in rows.order_by("leaf_index").values_list("body", flat=True)]
    return [(e.digest, e.outcome) for e in entries]


def test_a_decision_waits_for_its_release(client):
    petition = make_petition()
    signature = sign_and_confirm(petition)
    log_integrate_all()
    hold(petition, signature, O.VALIDATED, bytes([7]) * 32)
    row = LogEntry.objects.get(kind=LogEntryKind.DECISION)
    assert row.held and row.leaf_index is None and row.signature_id is None
    assert row.created_at == row.created_at.replace(hour=0, minute=0, second=0, microsecond=0)  # the day

    assert log_integrate_all() == 0  # held: the integrator leaves it alone
    assert log_decisions_held() == [petition.pk]
    assert client.get("/healthz").json()["backlog"]["log_pending"] == 0  # waiting, not a backlog

    assert log_decisions_release(petition_id=petition.pk) == 1
    assert log_decisions_release(petition_id=petition.pk) == 0  # released once, however often asked
    assert log_decisions_held() == []
    assert log_integrate_all() == 1
    assert appended_decisions(petition) == [(bytes(signature.commitment), O.VALIDATED)]


def test_only_the_petitions_own_decisions_are_released():
    first, second = make_petition(), make_petition(action="Fix the bridge")
    a, b = sign_and_confirm(first), sign_and_confirm(second)
    hold(first, a, O.REJECTED)
    hold(second, b, O.REJECTED)
    assert log_decisions_release(petition_id=first.pk) == 1
    log_integrate_all()
    assert LogEntry.objects.get(petition=second, kind=LogEntryKind.DECISION).held


def test_released_decisions_are_shuffled_each_claims_kept_in_order(monkeypatch):
    """The integrator shuffles them with the batch's other status entries (here: reversed, to
    see that the order is the shuffle's, not the decisions'), while one claim's decisions keep
    the order they were taken in: a reversal never precedes what it reverses."""
    petition = make_petition()
    signatures = [sign_and_confirm(petition) for _ in range(4)]
    log_integrate_all()
    for n, signature in enumerate(signatures):
        hold(petition, signature, O.VALIDATED, bytes([n + 1]) * 32)
    hold(petition, signatures[0], O.REVOKED)
    log_decisions_release(petition_id=petition.pk)
    monkeypatch.setattr(services._random, "shuffle", lambda items: items.reverse())
    log_integrate_all()
    order = appended_decisions(petition)
    commitments = [bytes(s.commitment) for s in signatures]
    # One slot per decision, grouped by claim in taking order (c0, c0, c1, c2, c3); reversed:
    assert [c for c, _ in order] == [commitments[i] for i in (3, 2, 1, 0, 0)]
    assert [o for c, o in order if c == commitments[0]] == [O.VALIDATED, O.REVOKED]


def test_a_decision_never_precedes_its_signature():
    petition = make_petition()
    signature = sign_and_confirm(petition)  # its SIGNATURE entry still pending
    hold(petition, signature, O.VALIDATED, bytes([1]) * 32)
    log_decisions_release(petition_id=petition.pk)
    log_integrate_all()
    entries = [decode_entry(bytes(b)) for b in LogEntry.objects.order_by("leaf_index").values_list("body", flat=True)]
    assert not tally(e.encode() for e in entries).problems
    kinds = [e.type for e in entries if e.digest == bytes(signature.commitment)]
    assert kinds == [EntryType.SIGNATURE, EntryType.DECISION]


def test_the_decisions_of_a_signature_confirmed_too_late_go_with_it(settings):
    """A confirmation that committed after its petition's CLOSED never enters the log, and
    neither do the decisions on its claim (a validation by official e-mail made in it), held
    or released."""
    settings.CONFIRMATION_GRACE_HOURS = 0
    petition = make_petition()
    past = timezone.now() - timedelta(minutes=1)
    Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=past, closing_date=past)
    log_integrate_all()
    late = sign_and_confirm(make_petition())  # confirmed on an open one, then moved (as in test_integrator)
    LogEntry.objects.filter(signature_id=late.pk, leaf_index__isnull=True).update(petition=petition)
    Signature.objects.filter(pk=late.pk).update(petition=petition)
    hold(petition, late, O.VALIDATED, bytes([1]) * 32)
    log_decisions_release(petition_id=petition.pk)  # released with a snapshot, before the integrator ran
    hold(petition, late, O.REVOKED)  # and one still held
    log_integrate_all()
    assert not LogEntry.objects.filter(kind=LogEntryKind.DECISION).exists()
    assert not tally(bytes(b) for b in LogEntry.objects.order_by("leaf_index").values_list("body", flat=True)).problems


def test_the_site_counts_verified_signatures_with_the_verifiers_rule():
    petition = make_petition()
    a, b, c = (sign_and_confirm(petition) for _ in range(3))
    log_integrate_all()
    hold(petition, a, O.VALIDATED, bytes([1]) * 32)
    hold(petition, b, O.VALIDATED, bytes([2]) * 32)
    hold(petition, c, O.REJECTED)
    log_decisions_release(petition_id=petition.pk)
    log_integrate_all()
    size = Petition.objects.get(pk=petition.pk).counted_at_size
    assert log_verified_count(petition_id=petition.pk, size=size) == 2
    assert log_verified_count(petition_id=petition.pk, size=size - 3) == 0  # before the decisions
    assert log_verified_count(petition_id=petition.pk, size=None) == 0
