"""The signatures app's retention jobs: a signature never confirmed is deleted once its link has
expired (with everything that hangs off it), and IP addresses are dropped after
``IP_RETENTION_DAYS``."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from tests.verification.conftest import claim_and_confirm, make_registry, restricted_petition
from undersign.core.models import OutboundEmail
from undersign.moderation.models import SignerSearchKind
from undersign.moderation.selectors import signers_matching
from undersign.petitions.models import PetitionState
from undersign.petitions.services import PetitionText, petition_create
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus, SignerDataLink
from undersign.signatures.personal_data import signer_email, signer_ip, signer_name
from undersign.signatures.services import (
    SignOutcome,
    signature_create,
    signature_invalidate,
    signatures_expired_delete,
    signatures_ips_drop,
)
from undersign.verification.models import Claim, ClaimDecision, VerifiedCount

pytestmark = pytest.mark.django_db
LINK = timedelta(days=settings.CONFIRMATION_LINK_DAYS)
TICK = timedelta(microseconds=1)
GOOD = {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"}


def pending(petition, details=None, kind: str = SignatureKind.SIGNER, *, mailed: bool = True) -> Signature:
    """A pending signature; ``mailed``: its confirmation e-mail sent (so its link's clock runs)."""
    details = details or signer()
    _, signature_id = signature_create(petition=petition, details=details, kind=kind)
    if mailed:
        deliver_outbox()
    return Signature.objects.get(pk=signature_id)


def exists(signature: Signature) -> bool:
    return Signature.objects.filter(pk=signature.pk).exists()


class TestUnconfirmedSignatures:
    def test_a_mailed_signature_goes_once_its_link_has_expired_and_not_a_moment_before(self):
        signature = pending(make_petition())
        expiry = signature.token_sent_at + LINK
        assert signatures_expired_delete(expiry) == 0  # its link still confirms at this moment
        assert exists(signature)
        assert signatures_expired_delete(expiry + TICK) == 1
        assert not exists(signature)

    def test_its_link_then_shows_the_page_for_spent_links_and_the_signer_may_sign_again(self, client):
        """Suzie signed, never clicked her link, and comes back after it expired."""
        petition = make_petition()
        client.post(f"/en/petitions/{petition.pk}/sign/", GOOD)
        signature_id, token = last_confirm_link("suzie@example.org")
        sent_at = Signature.objects.get(pk=signature_id).token_sent_at
        signatures_expired_delete(sent_at + LINK + TICK)

        response = client.get(f"/en/signatures/confirm/{token}/")
        assert response.status_code == 404
        assert b"This link is no longer valid" in response.content
        assert client.post(f"/en/signatures/confirm/{token}/", {"commitment": ""}).status_code == 404

        assert client.post(f"/en/petitions/{petition.pk}/sign/", GOOD).status_code == 302
        new_id, new_token = last_confirm_link("suzie@example.org")
        assert new_id not in (0, signature_id)
        assert Client().get(f"/en/signatures/confirm/{new_token}/").status_code == 200

    def test_a_signature_never_mailed_expires_from_when_it_was_submitted(self):
        signature = pending(make_petition(), mailed=False)
        assert signature.token_sent_at is None
        assert signatures_expired_delete(signature.updated_at + LINK) == 0
        assert signatures_expired_delete(signature.updated_at + LINK + TICK) == 1
        assert not exists(signature)

    def test_a_replaced_signature_counts_from_its_replacement_not_its_first_submission(self):
        petition = make_petition()
        details = signer()
        first = pending(petition, details)
        long_ago = timezone.now() - LINK - timedelta(days=5)
        Signature.objects.filter(pk=first.pk).update(created_at=long_ago, updated_at=long_ago, token_sent_at=long_ago)
        outcome, signature_id = signature_create(petition=petition, details=details)  # typed again, mail not sent yet
        assert (outcome, signature_id) == (SignOutcome.REPLACED, first.pk)

        assert signatures_expired_delete(timezone.now()) == 0
        assert exists(first)

    def test_its_unsent_emails_claim_evidence_decisions_and_data_links_go_with_it(self):
        registry = make_registry()
        petition = restricted_petition(registry)
        signature = claim_and_confirm(
            petition, registry.members.first(), note="Mandate no. 7", document=b"%PDF-1", confirm=False
        )
        claim = Claim.objects.get(signature=signature)
        now = timezone.now()
        SignerDataLink.objects.create(
            signature=signature, digest=secrets.token_bytes(32), created_at=now, expires_at=now + timedelta(minutes=30)
        )
        assert OutboundEmail.objects.filter(signature_id=signature.pk, sent_at__isnull=True).exists()
        counters = list(VerifiedCount.objects.values())

        assert signatures_expired_delete(signature.updated_at + LINK + TICK) == 1

        assert not exists(signature)
        assert not Claim.objects.filter(pk=claim.pk).exists()
        assert not ClaimDecision.objects.filter(claim_id=claim.pk).exists()
        assert not SignerDataLink.objects.exists()
        assert not OutboundEmail.objects.filter(signature_id=signature.pk).exists()
        assert list(VerifiedCount.objects.values()) == counters  # a pending signature's claim counted nowhere

    def test_confirmed_and_invalidated_signatures_stay_whatever_their_age(self):
        petition = make_petition()
        confirmed = sign_and_confirm(petition)
        invalidated = sign_and_confirm(petition)
        signature_invalidate(signature=invalidated, reason="fraud")
        never_confirmed_then_invalidated = pending(petition)
        signature_invalidate(signature=never_confirmed_then_invalidated, reason="fraud")

        assert signatures_expired_delete(timezone.now() + timedelta(days=3650)) == 0
        assert all(exists(s) for s in (confirmed, invalidated, never_confirmed_then_invalidated))

    def test_a_creators_pending_signature_is_left_to_its_petitions_deletion(self):
        petition = petition_create(
            text=PetitionText(action="Fix the bridge", background="It sways.", additional_details="")
        )
        creator = pending(petition, kind=SignatureKind.CREATOR)
        assert petition.state == PetitionState.PENDING

        assert signatures_expired_delete(timezone.now() + timedelta(days=3650)) == 0
        assert exists(creator)

    def test_an_expired_sponsor_signature_goes_and_the_sponsor_may_sign_again(self):
        petition = make_petition(state=PetitionState.VALIDATED)
        details = signer()
        sponsor = pending(petition, details, kind=SignatureKind.SPONSOR)

        assert signatures_expired_delete(sponsor.token_sent_at + LINK + TICK) == 1
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED  # only confirmed sponsors ever counted
        outcome, _ = signature_create(petition=petition, details=details, kind=SignatureKind.SPONSOR)
        assert outcome == SignOutcome.CREATED

    def test_many_go_in_batches_within_one_run(self, settings):
        settings.RETENTION_BATCH_SIZE = 2
        petition = make_petition()
        signatures = [pending(petition) for _ in range(5)]
        latest = max(s.token_sent_at for s in signatures)

        assert signatures_expired_delete(latest + LINK + TICK) == 5
        assert not Signature.objects.filter(status=SignatureStatus.PENDING).exists()


class TestIpAddresses:
    def test_dropped_retention_days_after_signing_and_kept_until_then(self, settings):
        settings.IP_RETENTION_DAYS = 7
        petition = make_petition()
        Signature.objects.update(ip_sealed=None)  # the creator's: only the signature below has one
        signature = sign_and_confirm(petition, signer(ip_address="192.0.2.44"))
        due = signature.created_at + timedelta(days=7)

        assert signatures_ips_drop(due - TICK) == 0
        signature.refresh_from_db()
        assert signer_ip(signature) == "192.0.2.44"

        assert signatures_ips_drop(due) == 1
        signature.refresh_from_db()
        assert signature.ip_sealed is None and signer_ip(signature) is None
        # Only the address: the signature, its name and e-mail stay.
        assert signature.status == SignatureStatus.CONFIRMED
        assert signer_name(signature) and signer_email(signature)
        assert signatures_ips_drop(due + timedelta(days=1)) == 0  # nothing left to drop

    def test_a_moderators_search_by_network_then_finds_nothing(self, settings):
        settings.IP_RETENTION_DAYS = 7
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(ip_address="198.51.100.7"))
        search = {"kind": SignerSearchKind.NETWORK, "term": "198.51.100.0/24", "petition": petition}
        assert [m.signature_id for m in signers_matching(**search)] == [signature.pk]

        signatures_ips_drop(signature.created_at + timedelta(days=7))

        assert signers_matching(**search) == []

    def test_every_kind_of_signature_loses_its_address(self, settings):
        settings.IP_RETENTION_DAYS = 0
        petition = make_petition()
        kept = [sign_and_confirm(petition), pending(petition), pending(petition, mailed=False)]
        assert signatures_ips_drop(timezone.now()) >= len(kept)
        assert not Signature.objects.filter(ip_sealed__isnull=False).exists()
