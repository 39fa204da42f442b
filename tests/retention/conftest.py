"""A closed petition with every kind of signer, claims, a kept receipt and a published snapshot,
as the retention job finds it once its personal data is due; and what must survive the job."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from tests.privacy.test_database_dump import CREATOR, SIGNERS
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator
from undersign.core.crypto import dedup_tag
from undersign.counting.models import BreakdownSnapshot
from undersign.petitions.models import HourlyCount, Petition, RegionCount
from undersign.petitions.services import petition_close
from undersign.retention.models import RetentionRun
from undersign.retention.services import petitions_personal_data_destroy_due, retention_job_run
from undersign.signatures.models import Display, Signature
from undersign.signatures.services import SignerDetails, signature_confirm, signature_create
from undersign.transparency.models import LogCheckpoint, LogEntry
from undersign.transparency.selectors import log_checkpoint_latest
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, Registry, SigningPolicy, VerifiedCount
from undersign.verification.services import petition_verification_set
from undersign_verify.entries import commitment, tally
from undersign_verify.receipt import Receipt

JOB = "destroy the personal data of petitions past their retention"

# The signers of the dump test (named, initials, counted only with a receipt kept), and more.
NAMED, INITIALS, KEEPER = SIGNERS
QUIET = [
    signer(name=f"Quietly Counted Person{n}", email=f"quiet.person{n}@example.org", ip_address=f"192.0.2.{40 + n}")
    for n in range(5)
]
# Validates itself: the member's official address on record (tests.verification.conftest).
DEPUTY = signer(name="Deputy Spb Number1", email="deputy1@spb.council.example", display=Display.NAMED)
CLAIMANT = signer(name="Marguerite Osei-Lindqvist", email="m.osei.lindqvist@example.net", ip_address="203.0.113.99")
CLAIM_NOTE = "Mandate certificate Quillmere-4471"
PEOPLE = [CREATOR, NAMED, INITIALS, KEEPER, *QUIET, DEPUTY, CLAIMANT]


def secrets_of(details: SignerDetails) -> list[str]:
    """What no page or dump may show of a signer once their petition's data is destroyed."""
    values = [details.name, details.email, details.email.split("@")[0]]
    if details.ip_address:
        values.append(details.ip_address)
    return sorted(set(values) | {v.lower() for v in values})


@dataclass
class Kept:
    """Everything that must read exactly the same before and after destruction."""

    petition: dict
    regions: list
    hours: list
    verified: list
    snapshots: list
    checkpoint: tuple
    tally: int
    signatures: list

    @classmethod
    def read(cls, petition: Petition) -> Kept:
        fields = ("signature_count", "counted_at_size", "counted_at_root", "state", "closed_at", "last_signed_at")
        checkpoint = log_checkpoint_latest()
        entries = [bytes(e.body) for e in LogEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index")]
        return cls(
            petition=Petition.objects.filter(pk=petition.pk).values(*fields).get(),
            regions=sorted(RegionCount.objects.filter(petition=petition).values_list("region", "signature_count")),
            hours=sorted(HourlyCount.objects.filter(petition=petition).values_list("hour", "signature_count")),
            verified=sorted(
                (bytes(tag), *rest)
                for tag, *rest in VerifiedCount.objects.filter(petition=petition).values_list(
                    "territory_tag", "validated_named", "validated_other", "pending", "rejected"
                )
            ),
            snapshots=list(
                BreakdownSnapshot.objects.filter(petition=petition)
                .order_by("sequence")
                .values("sequence", "taken_at", "log_size", "regions", "parts")
            ),
            checkpoint=(checkpoint.size, bytes(checkpoint.root_hash), LogCheckpoint.objects.count()),
            tally=tally(entries).petitions[petition.uuid].count,
            signatures=sorted(
                Signature.objects.filter(petition=petition).values_list(
                    "pk", "status", "kind", "region", "display", "commitment", "confirmed_at"
                )
            ),
        )


@dataclass
class World:
    petition: Petition
    registry: Registry
    receipt: str
    tags: dict[str, bytes] = field(default_factory=dict)  # e-mail -> dedup tag, before

    @property
    def due(self) -> datetime:
        """The first moment the rule lets the job destroy the petition's personal data."""
        closed = max(self.petition.closed_at, self.petition.closing_date)
        return closed + timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)


def sign_keeping_receipt(petition: Petition, details: SignerDetails, client: Client) -> str:
    """Sign with an r of our own, as the signer's browser does, and build the receipt once the
    log holds the signature."""
    signature_create(petition=petition, details=details)
    _, token = last_confirm_link(details.email)
    r = secrets.token_bytes(32)
    signature_confirm(token=token, commitment=commitment(petition.uuid, r))
    log_integrate_all()
    proof = client.get(f"/log/proof/{commitment(petition.uuid, r).hex()}").json()
    hashes = tuple(base64.b64decode(h) for h in proof["hashes"])
    return Receipt(petition.uuid, r, proof["index"], hashes, proof["checkpoint"]).text()


def build_closed_world(client: Client) -> World:
    registry = make_registry("spb", members=6)
    petition = make_petition(action="Build a footbridge over the Quillmere canal", creator=CREATOR)
    petition_verification_set(petition=petition, policy=SigningPolicy.VERIFIED_SEPARATELY, registries=[registry])
    for details in [NAMED, INITIALS, *QUIET]:
        sign_and_confirm(petition, details)
    receipt = sign_keeping_receipt(petition, KEEPER, client)
    members = list(registry.members.order_by("external_id"))
    deputy = claim_and_confirm(petition, members[0], email=DEPUTY.email, name=DEPUTY.name, display=Display.NAMED)
    assert deputy.claim.status == ClaimStatus.VALIDATED
    claim_and_confirm(
        petition, members[1], email=CLAIMANT.email, name=CLAIMANT.name, ip_address=CLAIMANT.ip_address, note=CLAIM_NOTE
    )
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    # It closed more than the confirmation grace ago: the log has its CLOSED entry.
    Petition.objects.filter(pk=petition.pk).update(
        closing_date=timezone.now() - timedelta(hours=settings.CONFIRMATION_GRACE_HOURS + 1)
    )
    petition.refresh_from_db()
    petition_close(petition=petition)
    log_integrate_all()
    petition.refresh_from_db()
    world = World(petition=petition, registry=registry, receipt=receipt)
    world.tags = {
        details.email: dedup_tag(petition.uuid, details.email, version=petition.dedup_version) for details in PEOPLE
    }
    stored = {bytes(tag) for tag in Signature.objects.filter(petition=petition).values_list("dedup_tag", flat=True)}
    assert set(world.tags.values()) == stored  # every signer, and only they
    assert Claim.objects.filter(petition=petition).count() == 2
    return world


def run_job(now: datetime) -> RetentionRun:
    return retention_job_run(job=JOB, work=petitions_personal_data_destroy_due, now=now)


@pytest.fixture
def closed_world(db, client) -> World:
    return build_closed_world(client)


@pytest.fixture
def validator(closed_world):
    return make_validator("vera", closed_world.registry)
