"""What the README tells a new user about the demo holds: the deputies it names have not signed
the registry petition yet, and a claim confirmed at their official address is validated by that
confirmation alone, while another address waits for a validator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import last_confirm_link
from undersign.petitions.models import Petition
from undersign.signatures.models import Display
from undersign.signatures.services import SignerDetails, signature_confirm
from undersign.site.management.commands.seed_demo import VERIFIED_DEMO_ACTION
from undersign.verification.models import Claim
from undersign.verification.services import ClaimRequest, signature_create_with_claim

README = Path(__file__).resolve().parents[2] / "README.md"
# "Jon Rivers (Ward 16) at `deputy16@south.council.example`"
NAMED_DEPUTY = re.compile(r"(\w+ \w+) \(Ward (\d+)\) at\s+`(deputy\d+@\w+\.council\.example)`")

pytestmark = pytest.mark.django_db


def claim_status(petition: Petition, member, email: str) -> str:
    details = SignerDetails(name=member.name, email=email, region="", display=Display.NAMED, notify_updates=False)
    signature_create_with_claim(petition=petition, details=details, claim=ClaimRequest(member=member))
    signature_id, token = last_confirm_link(email)
    signature_confirm(token=token)
    return Claim.objects.get(signature_id=signature_id).status


def test_the_deputies_the_readme_names_validate_their_own_claims(capsys):
    named = NAMED_DEPUTY.findall(" ".join(README.read_text(encoding="utf-8").split()))
    assert len(named) == 3
    call_command("seed_demo")
    petition = Petition.objects.get(action=VERIFIED_DEMO_ACTION)
    registry = petition.verification.registries.get()
    for name, ward, email in named:
        member = registry.members.get(district=f"Ward {ward}")
        assert member.name == name
        assert claim_status(petition, member, email) == "validated", email
    # Another address, even on the registry's domain, waits for a validator.
    member = registry.members.get(district="Ward 16")
    assert claim_status(petition, member, "jon.rivers@council.example") == "pending"
