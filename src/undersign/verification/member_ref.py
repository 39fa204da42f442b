"""Which member a claim names: the one place where that is sealed, tagged and opened.

A claim keeps its member only as personal data: ``member_sealed`` holds the registry id, the
member id and the member's territory at the time of the claim, sealed under the petition's data
key and bound (as associated data) to the claim's signature by its dedup tag, so it cannot be
moved to another claim and dies with the petition's key. ``member_tag`` is
``HMAC-SHA256(member_tag_key, "member/v1" 0x00 petition_uuid(16) registry_id(8) member_id(8))``:
equal for two claims naming the same member on one petition (the database holds a member to one
validated claim per petition with it), useless to a dump reader without its key, and different
on every petition, so it links no one across petitions. The territory is sealed with the member
so that the public counters (``VerifiedCount``) take a claim out of the territory they put it in,
even if a later import moves the member.

The transparency log names the member of a validated claim on a registry-only petition by
``log_member_tag``: ``HMAC-SHA256(K_P, "log-member/v1" 0x00 petition_uuid(16) registry_id(8)
member_id(8))`` with ``K_P`` derived from the petition's data key (``core.crypto.data_key_derive``),
not from the member-tag key. It is published for good, so it must stop answering "did member M
sign?" when the petition's personal data is destroyed, as the claims' own tags do; and no key
held by every host opens it meanwhile, only the petition's data key.

The counters (``VerifiedCount``) name their territory by ``territory_tag``:
``HMAC-SHA256(member_tag_key, "territory/v1" 0x00 petition_uuid(16) len(code)(2) code)``, so a
keyless dump cannot join a petition's counters to the members of a territory; readers map tags
back through the territory codes of the petition's registries (``territory_codes_by_tag``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from undersign.core.crypto import DecryptionError, data_key_derive, open_sealed, reseal, seal
from undersign.verification.models import Claim, RegistryMember

__all__ = [
    "DecryptionError",
    "MemberRef",
    "claim_members",
    "log_member_tag",
    "member_ref_open",
    "member_ref_reseal",
    "member_ref_seal",
    "member_tag",
    "territory_codes_by_tag",
    "territory_tag",
]


@dataclass(frozen=True)
class MemberRef:
    registry_id: int
    member_id: int
    territory_code: str


def member_tag(*, petition_uuid: uuid.UUID, registry_id: int, member_id: int) -> bytes:
    """The keyed tag of (petition, member): fixed-width parts, so no two triples run together."""
    message = b"member/v1\x00" + petition_uuid.bytes + registry_id.to_bytes(8, "big") + member_id.to_bytes(8, "big")
    return hmac.new(settings.KEYS.member_tag_key, message, hashlib.sha256).digest()


LOG_MEMBER_KEY_LABEL = b"undersign/log-member-key/v1"


def log_member_tag(*, petition_uuid: uuid.UUID, data_key_id: str, registry_id: int, member_id: int) -> bytes:
    """The member tag a DECISION entry carries: deterministic per (petition, registry, member),
    so the verifier can tell that no member counts twice; keyed, so the 500 names of a
    registry cannot be tried against it; under a key that dies with the petition's data key.
    Raises ``DecryptionError`` once that key is destroyed."""
    key = data_key_derive(data_key_id, label=LOG_MEMBER_KEY_LABEL)
    message = b"log-member/v1\x00" + petition_uuid.bytes + registry_id.to_bytes(8, "big") + member_id.to_bytes(8, "big")
    return hmac.new(key, message, hashlib.sha256).digest()


def territory_tag(*, petition_uuid: uuid.UUID, territory_code: str) -> bytes:
    """The keyed tag of (petition, territory) the counters are kept under: length-prefixed, so
    no two pairs run together; different on every petition."""
    code = territory_code.encode("utf-8")
    message = b"territory/v1\x00" + petition_uuid.bytes + len(code).to_bytes(2, "big") + code
    return hmac.new(settings.KEYS.member_tag_key, message, hashlib.sha256).digest()


def territory_codes_by_tag(
    *, petition_uuid: uuid.UUID, registry_ids: Iterable[int] | QuerySet[Any]
) -> dict[bytes, str]:
    """The territory codes of the members of ``registry_ids`` (ids, or a query of them; active
    members or not: a sealed claim keeps the territory of its time) by their tag on the
    petition. One query; registries are small."""
    codes = (
        RegistryMember.objects.filter(registry_id__in=registry_ids)
        .values_list("territory_code", flat=True)
        .distinct()
        .order_by()
    )
    return {territory_tag(petition_uuid=petition_uuid, territory_code=code): code for code in codes}


def member_context(signature_tag: bytes) -> bytes:
    return b"undersign/claim-member/v1\x00" + signature_tag


def member_ref_seal(*, key_id: str, signature_tag: bytes, member: RegistryMember) -> bytes:
    text = json.dumps([member.registry_id, member.pk, member.territory_code], separators=(",", ":"))
    return seal(key_id, text, context=member_context(signature_tag))


def member_ref_reseal(claim: Claim, *, old_tag: bytes, new_tag: bytes) -> bytes:
    """``member_sealed`` bound to the signature's new dedup tag (a withdrawal replaced it).
    Raises ``DecryptionError`` once the petition's data key is destroyed."""
    return reseal(claim.member_sealed, context=member_context(old_tag), new_context=member_context(new_tag))


def member_ref_open(claim: Claim, signature_tag: bytes | None = None) -> MemberRef:
    """The claim's member reference. ``signature_tag``: the signature's dedup tag, if known;
    otherwise read from ``claim.signature`` (select it with the claim). Raises
    ``DecryptionError`` once the petition's data key is destroyed."""
    if signature_tag is None:
        signature_tag = bytes(claim.signature.dedup_tag)
    registry_id, member_id, territory = json.loads(
        open_sealed(claim.member_sealed, context=member_context(signature_tag))
    )
    return MemberRef(int(registry_id), int(member_id), str(territory))


def claim_refs(claims: Iterable[Claim]) -> dict[int, MemberRef]:
    """The member references of ``claims`` (read with their signatures) by claim pk; claims
    whose data key is gone are left out."""
    refs: dict[int, MemberRef] = {}
    for claim in claims:
        try:
            refs[claim.pk] = member_ref_open(claim)
        except DecryptionError:
            continue
    return refs


def claim_members(claims: Iterable[Claim]) -> dict[int, RegistryMember]:
    """The registry members ``claims`` name, by claim pk, in one query (members with their
    registries). For pages that show a decrypted claim, not for public figures."""
    refs = claim_refs(claims)
    members = RegistryMember.objects.select_related("registry").in_bulk({ref.member_id for ref in refs.values()})
    return {pk: members[ref.member_id] for pk, ref in refs.items() if ref.member_id in members}
