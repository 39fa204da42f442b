"""Petitions from before languages were written for the English site: the migration makes them
"en", they are found in their words' other forms, and registry members' names are folded."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.migrations import latest, migrate
from undersign.petitions.models import Petition
from undersign.petitions.selectors import petition_list

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def old_schema():
    try:
        yield migrate([("petitions", "0007_dedup_version"), ("verification", "0004_groups")])
    finally:
        migrate(latest())


def test_existing_rows_become_english_and_stay_searchable(old_schema):
    old, now = old_schema, timezone.now()
    old.get_model("core", "DataKey").objects.create(key_id="k", master_key_id="m", wrapped_key=b"w")
    old.get_model("petitions", "Petition").objects.create(
        uuid=uuid.uuid4(),
        action="Repair the BRIDGES",
        background="b",
        data_key_id="k",
        sponsor_token="t",
        state="open",
        validated_at=now,
        opened_at=now,
        closing_date=now + timedelta(days=30),
    )
    registry = old.get_model("verification", "Registry").objects.create(name="Deputies", slug="d")
    old.get_model("verification", "RegistryMember").objects.create(
        registry=registry, external_id="1", name="Семёнова Zoë", office="deputy", territory_code="SPB"
    )
    migrate(latest())
    assert list(Petition.objects.values_list("language", flat=True)) == ["en"]
    assert [p.action for p in petition_list(state="all", query="bridge")] == ["Repair the BRIDGES"]
    from undersign.verification.models import RegistryMember

    assert list(RegistryMember.objects.values_list("name_folded", flat=True)) == ["семенова zoe"]
