"""The migration that created the log puts what happened before it into the log, so that the
counters, COUNT(*) and the count rule agree as soon as the integrator has run."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from tests.migrations import latest, migrate
from undersign.counting.services import counts_reconcile
from undersign.transparency.models import LogEntry
from undersign.transparency.services import log_integrate_all
from undersign_verify.entries import tally

pytestmark = pytest.mark.django_db(transaction=True)

# core at the migration that took its relations away: a petition then points at its data key.
BEFORE = [
    ("signatures", "0001_initial"),
    ("petitions", "0002_fulltext_index"),
    ("transparency", None),
    ("core", "0002_no_relations_to_other_apps"),
]


@pytest.fixture
def old_schema():
    """The schema from before the log; put back to the latest whatever happens."""
    try:
        yield migrate(BEFORE)
    finally:
        migrate(latest())


def test_existing_signatures_and_queued_counts_enter_the_log(old_schema):
    old = old_schema
    Petition, Signature, CountQueue = (
        old.get_model("petitions", "Petition"),
        old.get_model("signatures", "Signature"),
        old.get_model("signatures", "CountQueue"),
    )
    now = timezone.now()
    # Every petition has its data key (core stays at its latest migration here).
    old.get_model("core", "DataKey").objects.create(key_id="k", master_key_id="m", wrapped_key=b"w")
    petition = Petition.objects.create(
        uuid=uuid.uuid4(), action="Old petition", background="b", state="open", data_key_id="k", sponsor_token="t",
        validated_at=now, opened_at=now, closing_date=now + timezone.timedelta(days=9), signature_count=2,
    )  # fmt: skip

    def signature(n, status, **fields):
        return Signature.objects.create(
            petition=petition, kind="signer", status=status, dedup_tag=bytes([n]) * 32, name_sealed=b"x",
            email_sealed=b"x", region="E12000007", created_at=now, updated_at=now, **fields,
        )  # fmt: skip

    signature(1, "confirmed", confirmed_at=now)  # counted
    signature(2, "confirmed", confirmed_at=now)  # counted
    queued = signature(3, "confirmed", confirmed_at=now)  # its +1 still in the count queue
    revoked = signature(4, "invalidated", confirmed_at=now, invalidated_at=now)  # counted, its -1 queued
    signature(5, "pending")
    CountQueue.objects.create(petition=petition, signature=queued, region="E12000007", delta=1, created_at=now)
    CountQueue.objects.create(petition=petition, signature=revoked, region="E12000007", delta=-1, created_at=now)
    Petition.objects.filter(pk=petition.pk).update(signature_count=3)  # 1, 2 and 4 counted so far
    old.get_model("petitions", "RegionCount").objects.create(petition=petition, region="E12000007", signature_count=3)

    migrate(latest())
    assert LogEntry.objects.filter(petition_id=petition.pk).count() == 6  # OPENED, 4 SIGNATURE, 1 REVOCATION
    assert counts_reconcile(repair=False) == []
    log_integrate_all()
    assert counts_reconcile(repair=False) == []
    from undersign.petitions.models import Petition as Current

    current = Current.objects.get(pk=petition.pk)
    bodies = LogEntry.objects.order_by("leaf_index").values_list("body", flat=True)
    assert current.signature_count == 3 == tally(bytes(b) for b in bodies).petitions[current.uuid].count
