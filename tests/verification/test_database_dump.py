"""A dump of the database holds no member's official e-mail address, no claimant's evidence,
and no claimant's name or address: the verification tables keep digests and sealed values."""

from __future__ import annotations

import pytest

from tests.factories import signer
from tests.privacy.test_database_dump import dump_database, found_in, secrets_of
from tests.verification.conftest import claim_and_confirm, registry_csv, restricted_petition
from undersign.signatures.models import Display
from undersign.verification.models import Registry, SigningPolicy
from undersign.verification.services import registry_import

OFFICIAL = "ksenia.vorontsova-delacroix@mo42.spb.example"
NOTE = "Mandate certificate Quillmere-7731, ring the clerk"
DOCUMENT = b"%PDF-1.4 Zinovia Hartmann-Oyelaran mandate"


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_shows_no_official_email_evidence_or_claimant():
    registry = Registry.objects.create(name="Municipal deputies of St Petersburg", slug="spb-deputies")
    rows = [("Ksenia Vorontsova", "Municipal deputy", "MO 42", "SPB", OFFICIAL, "", "spb-42")]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    petition = restricted_petition(registry, policy=SigningPolicy.REGISTRY_ONLY)
    claimant = signer(name="Zinovia Hartmann-Oyelaran", email="zinovia.ho@example.net", display=Display.NAMED)
    signature = claim_and_confirm(
        petition,
        registry.members.get(),
        email=claimant.email,
        name=claimant.name,
        note=NOTE,
        document=DOCUMENT,
        content_type="application/pdf",
    )
    assert signature.claim.evidence_document_sealed is not None

    dump = dump_database()

    assert "ksenia vorontsova" in dump.lower()  # the registry's public list is in the dump
    assert found_in(dump, [OFFICIAL, OFFICIAL.split("@")[0], NOTE, "Quillmere-7731", "%PDF-1.4 Zinovia"]) == []
    assert found_in(dump, secrets_of(claimant)) == []
