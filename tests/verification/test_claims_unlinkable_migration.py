"""The migration that sealed claims' member references (verification 0002) meets a petition
whose data key was destroyed: nothing can be sealed under that key, and its members must not
stay readable. Its claims are migrated without a readable reference, still counted; going back
is refused with a clear error instead of failing half-way."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.migrations import latest, migrate
from undersign.core.crypto import DecryptionError, data_key_create
from undersign.core.models import DataKey
from undersign.verification.member_ref import member_ref_open, member_tag, territory_tag
from undersign.verification.models import Claim, ClaimDecision, VerifiedCount

pytestmark = pytest.mark.django_db(transaction=True)


def before():
    """Verification before its claims were sealed, every other app at its latest."""
    return [node for node in latest() if node[0] != "verification"] + [("verification", "0001_initial")]


@pytest.fixture
def old_schema():
    """Verification before its claims were sealed; put back to the latest whatever happens."""
    try:
        yield migrate(before())
    finally:
        migrate(latest())


def test_claims_of_a_petition_whose_key_was_destroyed_migrate_without_it(old_schema):
    old = old_schema
    Petition, Signature = old.get_model("petitions", "Petition"), old.get_model("signatures", "Signature")
    Registry, Member = old.get_model("verification", "Registry"), old.get_model("verification", "RegistryMember")
    OldClaim, OldDecision = old.get_model("verification", "Claim"), old.get_model("verification", "ClaimDecision")
    now = timezone.now()
    kept = data_key_create()
    shredded = DataKey.objects.create(key_id="dk-shredded", master_key_id="k1", wrapped_key=None, destroyed_at=now)
    registry = Registry.objects.create(name="Deputies", slug="deputies")
    members = [
        Member.objects.create(registry=registry, external_id=f"d{n}", name=f"D{n}", office="D", territory_code=code)
        for n, code in enumerate(["SPB", "SPB", "KZN"])
    ]

    def petition(key):
        return Petition.objects.create(
            uuid=uuid.uuid4(), action="Old", background="b", state="closed", data_key_id=key.key_id,
            sponsor_token=secrets.token_hex(8), validated_at=now, opened_at=now - timedelta(days=9),
            closing_date=now, closed_at=now,
        )  # fmt: skip

    def claim(on, member, status, display="named", note=""):
        signature = Signature.objects.create(
            petition=on, kind="signer", status="confirmed", dedup_tag=secrets.token_bytes(32), name_sealed=b"x",
            email_sealed=b"x", region="E12000007", display=display, created_at=now, updated_at=now,
            confirmed_at=now, commitment=secrets.token_bytes(32),
        )  # fmt: skip
        made = OldClaim.objects.create(
            petition=on, signature=signature, member=member, status=status, created_at=now,
            decided_at=now if status != "pending" else None,
        )  # fmt: skip
        if note:
            OldDecision.objects.create(
                claim=made, by_official_email=True, kind="validate", round=1, note=note, outcome=status
            )
        return made.pk

    alive, gone = petition(kept), petition(shredded)
    readable = claim(alive, members[0], "validated")
    shredded_ids = [
        claim(gone, members[0], "validated", note="Checked the mandate of Deputy 0"),
        claim(gone, members[1], "validated", display="counted"),
        claim(gone, members[2], "pending", display="counted"),
    ]

    migrate(latest())

    assert member_ref_open(Claim.objects.select_related("signature").get(pk=readable)).member_id == members[0].pk
    for claim_id, member in zip(shredded_ids, members, strict=True):
        migrated = Claim.objects.select_related("signature").get(pk=claim_id)
        with pytest.raises(DecryptionError):
            member_ref_open(migrated)  # no readable reference, with every key
        real = member_tag(petition_uuid=gone.uuid, registry_id=registry.pk, member_id=member.pk)
        assert len(bytes(migrated.member_tag)) == 32 and bytes(migrated.member_tag) != real
    assert not ClaimDecision.objects.filter(claim_id__in=shredded_ids, note_sealed__isnull=False).exists()
    # Still counted, in the territories the members had: the figures do not change.
    counts = {
        bytes(row.territory_tag): (row.validated_named, row.validated_other, row.pending)
        for row in VerifiedCount.objects.filter(petition_id=gone.pk)
    }
    assert counts == {
        territory_tag(petition_uuid=gone.uuid, territory_code="SPB"): (1, 1, 0),
        territory_tag(petition_uuid=gone.uuid, territory_code="KZN"): (0, 0, 1),
    }

    with pytest.raises(RuntimeError, match="cannot be restored"):
        migrate(before())
    assert Claim.objects.filter(pk__in=shredded_ids).count() == 3  # nothing was lost on the way
