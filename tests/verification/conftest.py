"""Builders for verification tests: registries imported from CSV text, petitions restricted to
them, claims made and confirmed through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.factories import last_confirm_link, make_petition, signer
from undersign.petitions.services import GroupThresholds
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_confirm
from undersign.verification.models import Registry, RegistryMember, RegistryValidator, SigningPolicy
from undersign.verification.services import (
    ClaimRequest,
    petition_verification_set,
    registry_import,
    signature_create_with_claim,
)

HEADER = "name,office,district,territory_code,official_email,official_email_domain,external_id\n"


def registry_csv(rows: list[tuple[str, ...]]) -> bytes:
    return (HEADER + "".join(",".join(row) + "\n" for row in rows)).encode()


def make_registry(
    slug: str = "spb",
    *,
    members: int = 6,
    territory: str = "SPB",
    validators_required: int = 1,
    domain: str = "council.example",
) -> Registry:
    registry = Registry.objects.create(
        name=f"Municipal deputies — {slug}", slug=slug, validators_required=validators_required, official_domain=domain
    )
    rows = [
        (
            f"Deputy {slug.title()} Number{n}",
            "Municipal deputy",
            f"District {n}",
            territory,
            f"deputy{n}@{slug}.{domain}",
            f"{slug}.{domain}",
            f"{slug}-{n}",
        )
        for n in range(1, members + 1)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    return registry


def restricted_petition(
    *registries: Registry, policy: str = SigningPolicy.REGISTRY_ONLY, group: GroupThresholds | None = None, **quorum
):
    petition = make_petition(group=group)
    petition_verification_set(petition=petition, policy=policy, registries=list(registries), **quorum)
    return petition


def claim_and_confirm(
    petition,
    member: RegistryMember,
    *,
    email: str | None = None,
    note: str = "",
    document: bytes | None = None,
    content_type: str = "",
    confirm: bool = True,
    **details,
):
    details.setdefault("name", member.name)
    person = signer(email=email or f"someone{member.pk}.{petition.pk}@example.org", **details)
    _, signature_id = signature_create_with_claim(
        petition=petition,
        details=person,
        claim=ClaimRequest(member=member, note=note, document=document, content_type=content_type),
    )
    if confirm:
        sid, token = last_confirm_link(person.email)
        signature_confirm(token=token)
    return Signature.objects.get(pk=signature_id)


def make_validator(username: str, *registries: Registry) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "a long validator password", is_staff=True)
    for registry in registries:
        RegistryValidator.objects.create(registry=registry, user=user)
    return user


@pytest.fixture
def registry(db) -> Registry:
    return make_registry()


def official_email(member: RegistryMember) -> str:
    """The member's official address on record (``make_registry``): confirming there validates
    a claim by itself."""
    number = member.external_id.rpartition("-")[2]
    return f"deputy{number}@{member.registry.slug}.{member.registry.official_domain}"
