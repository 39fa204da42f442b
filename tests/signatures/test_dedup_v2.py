"""Dedup normalisation version 2 over HTTP, through the sign, sponsor, claim and create forms:
IDNA spellings and quoted local parts of one mailbox give one signature on a v2 petition,
IP-literal domains are refused with a clear message, and a v1 petition keeps its old tags."""

from __future__ import annotations

import pytest

from tests.factories import make_petition
from tests.verification.conftest import make_registry, restricted_petition
from undersign.core.crypto import DEDUP_V1, DEDUP_V2, dedup_tag
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Signature, SignatureKind
from undersign.verification.models import SigningPolicy

pytestmark = pytest.mark.django_db

UNICODE = "user@bücher.example"
ASCII_FORM = "user@xn--bcher-kva.example"
IP_LITERALS = ["user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", "user@192.0.2.1"]
IP_MESSAGE = b"an address at an IP address cannot be used"
INVALID_MESSAGE = b"Enter an e-mail address like"


def signing(email: str) -> dict[str, str]:
    return {"name": "Suzie Signer", "email": email, "region": "E12000007", "display": "counted"}


def signers(petition: Petition) -> int:
    return Signature.objects.filter(petition=petition, kind=SignatureKind.SIGNER).count()


def sign(client, petition: Petition, email: str) -> int:
    return client.post(f"/en/petitions/{petition.pk}/sign/", signing(email)).status_code


class TestOneMailboxOneSignature:
    def test_new_petitions_use_version_2(self):
        assert make_petition().dedup_version == DEDUP_V2

    def test_unicode_then_ascii_domain_is_one_signature(self, client):
        petition = make_petition()
        assert sign(client, petition, UNICODE) == 302
        assert sign(client, petition, ASCII_FORM) == 302
        assert signers(petition) == 1
        stored = Signature.objects.get(petition=petition, kind=SignatureKind.SIGNER)
        assert bytes(stored.dedup_tag) == dedup_tag(petition.uuid, ASCII_FORM, version=DEDUP_V2)

    @pytest.mark.parametrize(
        ("first", "second"),
        [('"john"@example.org', "john@example.org"), ('"John.Smith"@example.org', "john.smith@example.org")],
    )
    def test_a_needlessly_quoted_local_part_is_the_same_mailbox(self, client, first, second):
        petition = make_petition()
        assert sign(client, petition, first) == 302
        assert sign(client, petition, second) == 302
        assert signers(petition) == 1

    def test_a_quoted_local_part_with_specials_stays_distinct(self, client):
        petition = make_petition()
        assert sign(client, petition, '"a..b"@example.org') == 302
        assert sign(client, petition, '"a.b"@example.org') == 302
        assert signers(petition) == 2

    def test_a_version_1_petition_keeps_its_tags(self, client):
        petition = make_petition()
        Petition.objects.filter(pk=petition.pk).update(dedup_version=DEDUP_V1)
        petition.refresh_from_db()
        assert sign(client, petition, UNICODE) == 302
        assert sign(client, petition, ASCII_FORM) == 302
        tags = {
            bytes(t)
            for t in Signature.objects.filter(petition=petition, kind="signer").values_list("dedup_tag", flat=True)
        }
        assert tags == {dedup_tag(petition.uuid, e, version=DEDUP_V1) for e in (UNICODE, ASCII_FORM)}


class TestIpLiteralsRefused:
    @pytest.mark.parametrize("email", IP_LITERALS)
    def test_sign_form(self, client, email):
        petition = make_petition()
        response = client.post(f"/en/petitions/{petition.pk}/sign/", signing(email))
        assert response.status_code == 400
        # Django's validator takes only the bracketed IPv4 literal; we refuse it, saying why.
        assert (IP_MESSAGE if email == IP_LITERALS[0] else INVALID_MESSAGE) in response.content
        assert signers(petition) == 0

    def test_sponsor_form(self, client):
        petition = make_petition(state=PetitionState.VALIDATED)
        response = client.post(f"/en/sponsor/{petition.sponsor_token}/", signing(IP_LITERALS[0]))
        assert response.status_code == 400
        assert IP_MESSAGE in response.content
        assert not Signature.objects.filter(petition=petition, kind=SignatureKind.SPONSOR).exists()

    def test_claim_form(self, client):
        petition = restricted_petition(make_registry(), policy=SigningPolicy.VERIFIED_SEPARATELY)
        response = client.post(f"/en/petitions/{petition.pk}/sign/", signing(IP_LITERALS[0]))
        assert response.status_code == 400
        assert IP_MESSAGE in response.content
        assert signers(petition) == 0

    def test_create_wizard_creator_step(self, client):
        client.post(
            "/en/petitions/new/", {"action": "Plant more trees", "background": "Shade.", "additional_details": ""}
        )
        data = {**signing(IP_LITERALS[0]), "display": "named"}
        response = client.post("/en/petitions/new/creator/", data)
        assert response.status_code == 200
        assert IP_MESSAGE in response.content
