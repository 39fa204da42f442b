"""Petitions for the open-data tests, built through the services as the site builds them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from undersign.moderation.services import petition_response_publish
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all

S = PetitionState
LONDON, SCOTLAND, WALES = "E12000007", "S92000003", "W92000004"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get_json(client: Client, url: str, status: int = 200, **headers) -> dict:
    response = client.get(url, **headers)
    assert response.status_code == status, (url, response.status_code, body(response)[:300])
    assert response["Content-Type"] == "application/json"
    return json.loads(body(response))


@dataclass
class Signed:
    """A petition and the people who signed it, with what they chose to show."""

    petition: Petition
    named_name: str
    hidden_names: list[str]
    emails: list[str]


@pytest.fixture
def signed(db, settings) -> Signed:
    """An open petition whose creator is named; six signers in London (one named, one by
    initials, four counted only), two in Scotland and one in Wales; K_ANONYMITY 5. Its five
    counted-only signatures make a breakdown snapshot due, and it is taken."""
    settings.K_ANONYMITY = 5
    creator = signer(name="Carla Creator", email="carla@example.org", display=Display.NAMED, region=LONDON)
    petition = make_petition(action="Plant a tree on every street", creator=creator)
    people = [
        signer(name="Nadia Oakenshaw", email="nadia@example.org", display=Display.NAMED, region=LONDON),
        signer(name="Iris Marrowby", email="iris@example.org", display=Display.INITIALS, region=LONDON),
        *[signer(name=f"Quinn Hollowmere{i}", email=f"quiet{i}@example.org", region=LONDON) for i in range(3)],
        signer(name="Scott Quillfeather", email="scott@example.org", region=SCOTLAND),
        signer(name="Skye Brambleworth", email="skye@example.org", display=Display.NAMED, region=SCOTLAND),
        signer(name="Wyn Thistledown", email="wyn@example.org", region=WALES),
    ]
    for details in people:
        sign_and_confirm(petition, details)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    petition.refresh_from_db()
    return Signed(
        petition=petition,
        named_name="Nadia Oakenshaw",
        hidden_names=[
            "Iris Marrowby",
            "Quinn Hollowmere0",
            "Quinn Hollowmere1",
            "Quinn Hollowmere2",
            "Scott Quillfeather",
            "Wyn Thistledown",
        ],
        emails=["carla@example.org", *(p.email for p in people)],
    )


@pytest.fixture
def with_response(db, moderator) -> Petition:
    petition = make_petition(action="Build a library in every town")
    petition_response_publish(petition=petition, actor=moderator, summary="We agree.", details="Libraries for all.")
    petition.refresh_from_db()
    return petition


@pytest.fixture
def hidden(db) -> Petition:
    petition = make_petition(action="Secret defamatory words", state=S.HIDDEN)
    Petition.objects.filter(pk=petition.pk).update(
        rejection_code="defamatory", rejection_details="It said Secret defamatory words about a neighbour."
    )
    petition.refresh_from_db()
    return petition


@pytest.fixture
def rejected(db) -> Petition:
    petition = make_petition(action="Ban Mondays entirely", state=S.REJECTED)
    Petition.objects.filter(pk=petition.pk).update(rejection_details="See petition 12.")
    petition.refresh_from_db()
    return petition
