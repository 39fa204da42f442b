"""Petitions from before dedup version 2 keep version 1: their signatures' stored tags were made
with it, and a newer normalisation must not split one signer's old and new tags."""

from __future__ import annotations

import uuid

import pytest

from tests.migrations import latest, migrate
from undersign.core.crypto import DEDUP_V1, DEDUP_V2
from undersign.petitions.models import Petition
from undersign.petitions.services import PetitionText, petition_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    try:
        yield migrate([("petitions", "0006_attack_mode")])
    finally:
        migrate(latest())


def test_existing_petitions_keep_version_1_and_new_ones_take_version_2(old_schema):
    old = old_schema
    old.get_model("core", "DataKey").objects.create(key_id="k", master_key_id="m", wrapped_key=b"w")
    old.get_model("petitions", "Petition").objects.create(
        uuid=uuid.uuid4(), action="Old petition", background="b", data_key_id="k", sponsor_token="t"
    )
    migrate(latest())
    assert list(Petition.objects.values_list("dedup_version", flat=True)) == [DEDUP_V1]
    text = PetitionText(action="New petition", background="b", additional_details="")
    assert petition_create(text=text).dedup_version == DEDUP_V2
