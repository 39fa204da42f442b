"""The confirmation page lets the mailbox's owner set right the name, region and display that
whoever typed the address chose, and confirms with what they set."""

from __future__ import annotations

import pytest

from tests.factories import last_confirm_link, make_petition
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.personal_data import signer_name

pytestmark = pytest.mark.django_db
TYPED = {"name": "Sam Impostor", "email": "suzie@example.org", "region": "S92000003", "display": "named"}


def _signed(client) -> tuple[int, str]:
    petition = make_petition()
    client.post(f"/en/petitions/{petition.pk}/sign/", TYPED)
    return last_confirm_link("suzie@example.org")


def test_the_page_offers_what_was_typed_to_be_corrected(client):
    _, token = _signed(client)
    page = client.get(f"/en/signatures/confirm/{token}/")
    assert page.status_code == 200
    assert b'name="name"' in page.content and b'value="Sam Impostor"' in page.content
    assert b'name="region"' in page.content and b'name="display"' in page.content


def test_confirming_takes_the_corrected_values(client):
    signature_id, token = _signed(client)
    corrected = {"name": "Suzie Owner", "region": "E12000007", "display": "counted"}
    page = client.post(f"/en/signatures/confirm/{token}/", corrected)
    assert page.status_code == 200
    signature = Signature.objects.get(pk=signature_id)
    assert signature.status == SignatureStatus.CONFIRMED
    assert (signer_name(signature), signature.region, signature.display) == ("Suzie Owner", "E12000007", "counted")


def test_bad_corrections_are_shown_again_with_errors_and_nothing_confirmed(client):
    signature_id, token = _signed(client)
    page = client.post(f"/en/signatures/confirm/{token}/", {"name": "  ", "region": "nowhere", "display": "named"})
    assert page.status_code == 400
    assert b"Enter your name." in page.content and b"Choose where you live from the list." in page.content
    signature = Signature.objects.get(pk=signature_id)
    assert signature.status == SignatureStatus.PENDING and signer_name(signature) == "Sam Impostor"
    # The link still works: nothing was lost.
    assert client.get(f"/en/signatures/confirm/{token}/").status_code == 200
