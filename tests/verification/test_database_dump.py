"""A dump of the database holds no member's official e-mail address, no claimant's evidence,
no claimant's name or address, and no link from a member to a petition: the verification
tables keep digests, keyed tags and sealed values."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import signer
from tests.privacy.test_database_dump import dump_database, found_in, secrets_of
from tests.verification.conftest import claim_and_confirm, make_validator, registry_csv, restricted_petition
from undersign.signatures.models import Display
from undersign.verification.models import (
    Claim,
    ClaimDecision,
    ClaimStatus,
    DecisionKind,
    Registry,
    RegistryMember,
    SigningPolicy,
)
from undersign.verification.services import claim_decide, registry_import

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


DECISION_NOTE = "Phoned Ksenia's office, Tarnowska-Ubeki confirmed"


def _columns(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return [(column.name, column.type_code) for column in description]


def _tables_pointing_at(table: str) -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        return sorted(
            name
            for name in names
            if any(target == table for _, target in connection.introspection.get_relations(cursor, name).values())
        )


@pytest.mark.django_db(transaction=True)
def test_no_claim_or_decision_row_links_a_member_to_a_petition():
    """Named, initials and counted-only claimants; verified by official e-mail, by a validator
    with a note, and pending: the dump keeps which claim names which member only sealed."""
    registry = Registry.objects.create(name="Municipal deputies of St Petersburg", slug="spb-deputies")
    rows = [
        (f"Deputy Number{n}", "Municipal deputy", f"MO {n}", "SPBX", f"d{n}@mo.spb.example", "", f"spb-{n}")
        for n in range(1, 5)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    petition = restricted_petition(registry, policy=SigningPolicy.REGISTRY_ONLY)
    members = list(registry.members.order_by("pk"))
    official = claim_and_confirm(petition, members[0], email="d1@mo.spb.example", display=Display.COUNTED)
    assert official.claim.status == ClaimStatus.VALIDATED
    decided = claim_and_confirm(petition, members[1], display=Display.NAMED).claim
    claim_decide(claim=decided, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE, note=DECISION_NOTE)
    claim_and_confirm(petition, members[2], display=Display.INITIALS)  # pending
    claim_and_confirm(petition, members[2], email="rival@example.org", display=Display.COUNTED)  # a rival

    dump = dump_database()

    # Nothing points at a member: no claim, decision or other row names one by key.
    assert _tables_pointing_at(RegistryMember._meta.db_table) == []
    for model in (Claim, ClaimDecision):
        columns = dict(_columns(model._meta.db_table))
        assert [name for name in columns if "member" in name] == (
            ["member_sealed", "member_tag"] if model is Claim else []
        )
    # No plaintext territory, office, district or member id beside a claim or a decision.
    with connection.cursor() as cursor:
        for model in (Claim, ClaimDecision):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 (a model's own table)
            for row in cursor.fetchall():
                text_values = [str(v) for v in row if isinstance(v, str)]
                assert not {"SPBX", "Municipal deputy", *(m.external_id for m in members)} & set(text_values)
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        assert b"SPBX" not in raw and b"Deputy Number" not in raw
    assert found_in(dump, [DECISION_NOTE, "Tarnowska-Ubeki"]) == []
    # The tags of two claims on the same member are equal, but name no member without the key.
    claims = Claim.objects.filter(petition=petition).order_by("pk")
    tags = [bytes(c.member_tag) for c in claims]
    assert tags[2] == tags[3] and len(set(tags)) == 3
