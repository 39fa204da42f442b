"""What queues a pending log entry, in the transaction of the change that causes it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import last_confirm_link, make_petition, moderator, sign_and_confirm, signer  # noqa: F401
from undersign.counting.services import counts_reconcile
from undersign.moderation.services import petition_approve
from undersign.petitions.models import PetitionState
from undersign.signatures.services import (
    CommitmentTaken,
    signature_confirm,
    signature_create,
    signature_invalidate,
    signature_reinstate,
)
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import log_integrate_all
from undersign_verify.entries import EntryType, decode_entry, petition_text_digest

pytestmark = pytest.mark.django_db
K = LogEntryKind


def pending_kinds(petition) -> list[int]:
    return list(
        LogEntry.objects.filter(petition=petition, leaf_index__isnull=True)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_approval_queues_opened_with_the_text_digest(moderator):  # noqa: F811
    petition = make_petition(state=PetitionState.SPONSORED)
    petition_approve(petition=petition, actor=moderator)
    entry = LogEntry.objects.get(petition=petition, kind=K.OPENED)
    decoded = decode_entry(bytes(entry.body))
    assert decoded.type == EntryType.OPENED and decoded.petition == petition.uuid
    assert decoded.digest == petition_text_digest(petition.action, petition.background, petition.additional_details)


def test_confirming_is_one_update_and_one_insert():
    """The confirm path's budget (docs/design.md): everything else is the integrator's."""
    petition = make_petition()
    person = signer()
    signature_create(petition=petition, details=person)
    signature_id, token = last_confirm_link(person.email)
    with CaptureQueriesContext(connection) as queries:
        signature_confirm(token=token, commitment=bytes(32))
    writes = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    writes = [w for w in writes if w in ("INSERT", "UPDATE", "DELETE")]
    assert writes == ["UPDATE", "INSERT"]


def test_a_commitment_cannot_serve_two_signatures():
    petition = make_petition()
    first, second = signer(), signer()
    for person in (first, second):
        signature_create(petition=petition, details=person)
    one = last_confirm_link(first.email)
    two = last_confirm_link(second.email)
    signature_confirm(token=one[1], commitment=bytes(range(32)))
    with pytest.raises(CommitmentTaken):
        signature_confirm(token=two[1], commitment=bytes(range(32)))
    assert pending_kinds(petition).count(K.SIGNATURE) == 2  # the creator's and the first


def test_invalidating_and_reinstating_queue_status_entries_only_for_counted_signatures():
    petition = make_petition()
    counted = sign_and_confirm(petition)
    from undersign.signatures.models import Signature

    never_confirmed = Signature.objects.get(pk=signature_create(petition=petition, details=signer())[1])
    log_integrate_all()
    assert signature_invalidate(signature=never_confirmed, reason="fraud")  # never counted: no entry
    assert signature_invalidate(signature=counted, reason="claim_rejected")
    assert signature_reinstate(signature=counted)
    assert pending_kinds(petition) == [K.REVOCATION, K.REINSTATE]
    rows = LogEntry.objects.filter(petition=petition, leaf_index__isnull=True).order_by("pk")
    assert [r.delta for r in rows] == [-1, 1]
    assert all(bytes(r.commitment) == bytes(counted.commitment) for r in rows)


def test_reconcile_reports_a_log_that_disagrees_and_never_repairs_it():
    petition = make_petition()
    signature = sign_and_confirm(petition)
    log_integrate_all()
    # Suppose a REVOCATION got into the log without the signature being invalidated.
    from undersign.transparency.services import LoggedSignature, log_revocation_add

    logged = LoggedSignature(
        petition_id=petition.pk, petition_uuid=petition.uuid, signature_id=signature.pk, region=signature.region
    )
    log_revocation_add(
        signature=logged, commitment=bytes(signature.commitment), reason="fraud", now=signature.confirmed_at
    )
    LogEntry.objects.filter(petition=petition, leaf_index__isnull=True).update(delta=0, leaf_index=10_000)
    found = counts_reconcile(repair=True)
    assert [(d.petition_id, d.logged, d.confirmed) for d in found if d.log_disagrees] == [(petition.pk, 1, 2)]
