"""A dump taken after the retention job, read by someone who also holds every key (master keys,
dedup key, member-tag key, secret key): nothing of a closed petition's signers opens, and no tag
in it matches their addresses or the members they claimed to be. The same reading of a dump
taken before finds them all, so the test can fail."""

from __future__ import annotations

import json

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import Client

from tests.privacy.dumps import Schema, dump_database, dump_schema, found_in_decoded
from tests.retention.conftest import PEOPLE, build_closed_world, run_job, secrets_of
from undersign.core.crypto import NONCE_BYTES, DecryptionError, sealed_key_id, unwrap_data_key
from undersign.signatures.links import unsubscribe_digest
from undersign.signatures.personal_data import pii_context
from undersign.verification.member_ref import member_context, member_tag
from undersign.verification.models import RegistryMember

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads from another session


def blob(value: str | None) -> bytes | None:
    """A binary column as the dump shows it: hex (SQLite), or ``\\x`` hex (PostgreSQL)."""
    if value is None:
        return None
    return bytes.fromhex(value.removeprefix("\\x"))


def open_with_keys(schema: Schema, sealed: bytes, context: bytes) -> str | None:
    """What the holder of the dump and the master keys reads from a sealed value: the data key
    is unwrapped from the dump's own row (none left: nothing opens)."""
    try:
        key_id = sealed_key_id(sealed)
        row = next(r for r in schema.tables["core_datakey"].rows if r["key_id"] == key_id)
        wrapped = blob(row["wrapped_key"])
        if wrapped is None:
            return None
        key = unwrap_data_key(row["master_key_id"], wrapped)
        start = 2 + sealed[1] + NONCE_BYTES
        return AESGCM(key).decrypt(sealed[start - NONCE_BYTES : start], sealed[start:], context).decode()
    except (DecryptionError, InvalidTag):
        return None


def readable(schema: Schema, petition_id: int) -> set[str]:
    """Every personal value of the petition's signers and claims that opens with the keys."""
    found: set[str] = set()
    tags: dict[str, bytes] = {}
    for row in schema.tables["signatures_signature"].rows:
        if row["petition_id"] != str(petition_id):
            continue
        tag = blob(row["dedup_tag"])
        tags[row["id"]] = tag
        for field in ("name", "email", "ip"):
            sealed = blob(row[f"{field}_sealed"])
            if sealed and (value := open_with_keys(schema, sealed, pii_context(tag, field))):
                found.add(value)
    for row in schema.tables["verification_claim"].rows:
        if row["petition_id"] == str(petition_id):
            text = open_with_keys(schema, blob(row["member_sealed"]), member_context(tags[row["signature_id"]]))
            if text:
                found.add(f"member:{json.loads(text)[1]}")
    return found


def matching_tags(dump: str, world) -> list[str]:
    """The keyed tags of the signers' addresses, their unsubscribe digests and the claimed
    members' tags that the dump holds."""
    petition = world.petition
    needles = {email: tag.hex() for email, tag in world.tags.items()}
    needles |= {f"unsubscribe:{email}": unsubscribe_digest(tag=tag).hex() for email, tag in world.tags.items()}
    for member in RegistryMember.objects.all():
        real = member_tag(petition_uuid=petition.uuid, registry_id=member.registry_id, member_id=member.pk)
        needles[f"member:{member.pk}"] = real.hex()
    haystack = dump.lower()
    return sorted(name for name, needle in needles.items() if needle in haystack)


def test_after_the_job_a_dump_opens_nothing_and_matches_no_one_even_with_every_key():
    world = build_closed_world(Client())
    petition = world.petition

    before = dump_database()
    opened = readable(dump_schema(before), petition.pk)
    assert {details.name for details in PEOPLE} | {details.email for details in PEOPLE} <= opened
    assert {value for value in opened if value.startswith("member:")}  # both claims' members
    assert len(matching_tags(before, world)) >= 2 * len(PEOPLE) + 2

    run_job(world.due)

    after = dump_database()
    assert readable(dump_schema(after), petition.pk) == set()
    assert matching_tags(after, world) == []
    # And without the keys, as ever: no plaintext anywhere, decoded or not (registries are
    # published lists: a member's name stands in them, linked to nothing).
    public = {name.lower() for name in RegistryMember.objects.values_list("name", flat=True)}
    secrets = sorted({v for details in PEOPLE for v in secrets_of(details) if v.lower() not in public})
    assert found_in_decoded(after, secrets) == []
    assert petition.action.lower() in after.lower()  # the dump is whole: the petition is there
