"""The registry member search (issue 13, item 4): case, ё/е and accents folded, any word of the
name, on the selector and on the sign page's JSON search."""

from __future__ import annotations

import pytest

from tests.verification.conftest import registry_csv, restricted_petition
from undersign.verification.models import Registry
from undersign.verification.selectors import members_search
from undersign.verification.services import registry_import

pytestmark = pytest.mark.django_db

ROWS = [
    ("Семёнова Ирина Петровна", "Муниципальный депутат", "Округ 1", "SPB", "", "", "m-1"),
    ("Иванов Пётр", "Муниципальный депутат", "Округ 2", "SPB", "", "", "m-2"),
    ("Zoë Martin", "Municipal deputy", "District 3", "SPB", "", "", "m-3"),
]


@pytest.fixture
def petition():
    registry = Registry.objects.create(name="Депутаты", slug="deputies")
    registry_import(registry=registry, data=registry_csv(ROWS), source="test")
    return restricted_petition(registry)


def names(petition, query: str) -> list[str]:
    return [member.name for member in members_search(petition=petition, query=query)]


@pytest.mark.parametrize(
    "query", ["Семёнова", "семёнова", "Семенова", "СЕМЕНОВА", "ирина", "ирина семенова", "петровна"]
)
def test_every_form_of_her_name_finds_her(petition, query):
    assert names(petition, query) == ["Семёнова Ирина Петровна"]


def test_accents_are_folded_both_ways(petition):
    assert names(petition, "zoe") == ["Zoë Martin"]
    assert names(petition, "ZOË martin") == ["Zoë Martin"]
    assert names(petition, "петр иванов") == ["Иванов Пётр"]


def test_every_word_must_match(petition):
    assert names(petition, "ирина иванов") == []


def test_a_reimport_refolds_a_changed_name(petition):
    registry = Registry.objects.get(slug="deputies")
    renamed = [("Семёнова-Орлова Ирина", *ROWS[0][1:]), *ROWS[1:]]
    registry_import(registry=registry, data=registry_csv(renamed), source="test")
    assert names(petition, "орлова") == ["Семёнова-Орлова Ирина"]


def test_the_sign_pages_search_folds_too(client, petition):
    found = client.get(f"/en/petitions/{petition.pk}/registry-members.json", {"q": "семенова"}).json()["data"]
    assert [member["name"] for member in found] == ["Семёнова Ирина Петровна"]
