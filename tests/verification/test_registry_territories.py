"""A registry counted in territories of its own (municipal deputies per city): the bundled
cities, or a file given at import; every page names them in its language, open data keeps the
code and the English name, and a member outside the registry's territories is refused."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.factories import take_breakdown_snapshot
from tests.verification.conftest import claim_and_confirm, registry_csv, restricted_petition
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Registry
from undersign.verification.registry_import import ImportRefused
from undersign.verification.services import registry_ensure, registry_import
from undersign.verification.territories import registries_territory_names

pytestmark = pytest.mark.django_db

CITIES = ("MOSCOW", "SAINT-PETERSBURG", "SAMARA", "YAKUTSK")


def cities_registry(per_city: int = 3) -> Registry:
    registry = registry_ensure(slug="deputies", name="Municipal deputies", territory_set="ru-cities")
    rows = [
        (
            f"Deputy {city.title()} {n}",
            "Municipal deputy",
            f"District {n}",
            city,
            f"{city.lower()}{n}@council.example",
            "",
            f"{city}-{n}",
        )
        for city in CITIES
        for n in range(1, per_city + 1)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    return registry


class TestImport:
    def test_a_code_outside_the_registrys_territories_is_refused_by_line(self):
        registry = registry_ensure(slug="deputies", name="Municipal deputies", territory_set="ru-cities")
        rows = [("Anna", "Deputy", "", "MOSCOW", "", "", "a"), ("Boris", "Deputy", "", "KAZAN", "", "", "b")]
        with pytest.raises(ImportRefused) as refused:
            registry_import(registry=registry, data=registry_csv(rows), source="test")
        assert refused.value.errors == ["line 3: territory_code 'KAZAN' is not one of the registry's territories"]
        assert not registry.members.exists()

    def test_a_registry_without_its_own_territories_takes_any_code_as_before(self):
        registry = registry_ensure(slug="deputies", name="Municipal deputies")
        registry_import(registry=registry, data=registry_csv([("A", "D", "", "KAZAN", "", "", "a")]), source="t")
        assert registry.members.get().territory_code == "KAZAN"

    def test_the_command_takes_the_registrys_own_territories_from_a_file(self, tmp_path):
        registry = registry_ensure(slug="deputies", name="Municipal deputies")
        territories = tmp_path / "cities.json"
        territories.write_text(
            json.dumps(
                {"regions": [{"code": "KZN", "name": {"en": "Kazan", "ru": "Казань"}, "time_zone": "Europe/Moscow"}]}
            )
        )
        members = tmp_path / "members.csv"
        members.write_bytes(registry_csv([("Anna", "Deputy", "", "KZN", "", "", "a")]))
        call_command("import_registry", "deputies", str(members), territories=str(territories))
        registry.refresh_from_db()
        with translation.override("ru"):
            assert registries_territory_names([registry])["KZN"] == "Казань"
        members.write_bytes(registry_csv([("Anna", "Deputy", "", "SPB", "", "", "a")]))
        with pytest.raises(CommandError, match="'SPB' is not one of the registry's territories"):
            call_command("import_registry", "deputies", str(members))

    def test_a_bad_territories_file_is_refused(self, tmp_path):
        registry_ensure(slug="deputies", name="Municipal deputies")
        territories = tmp_path / "cities.json"
        territories.write_text(json.dumps({"regions": [{"code": "KZN"}]}))
        members = tmp_path / "members.csv"
        members.write_bytes(registry_csv([("Anna", "Deputy", "", "KZN", "", "", "a")]))
        with pytest.raises(CommandError, match="bad region"):
            call_command("import_registry", "deputies", str(members), territories=str(territories))


class TestPages:
    def test_the_figures_per_city_are_named_in_the_pages_language(self, client, settings):
        settings.K_ANONYMITY = 2
        registry = cities_registry()
        petition = restricted_petition(registry)
        for member in registry.members.order_by("pk"):  # the first of each city confirms at their official address
            official = member.external_id.endswith("-1")
            email = f"{member.territory_code.lower()}1@council.example" if official else None
            claim_and_confirm(petition, member, email=email, display=Display.NAMED)
        log_integrate_all()
        assert take_breakdown_snapshot(petition) is not None
        page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
        assert "<td>Yakutsk</td>" in page and "<td>Saint Petersburg</td>" in page
        assert "<td>YAKUTSK</td>" not in page
        with translation.override("ru"):
            page = client.get(f"/ru/petitions/{petition.pk}/").content.decode()
            data = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]
        assert "<td>Якутск</td>" in page and "<td>Санкт-Петербург</td>" in page
        assert "Municipal deputy, District 1 · Самара" in page  # the named verified signers
        # Open data stays locale-neutral: the code and the English name.
        assert {t["code"]: t["name"] for t in data["by_territory"]} == {
            "MOSCOW": "Moscow",
            "SAINT-PETERSBURG": "Saint Petersburg",
            "SAMARA": "Samara",
            "YAKUTSK": "Yakutsk",
        }

    def test_the_member_search_and_the_claim_page_name_the_city(self, client):
        registry = cities_registry(per_city=1)
        petition = restricted_petition(registry)
        with translation.override("ru"):
            body = client.get(f"/ru/petitions/{petition.pk}/registry-members.json", {"q": "yakutsk"}).json()
        assert [m["territory"] for m in body["data"]] == ["Якутск"]
        response = client.get(f"/en/petitions/{petition.pk}/sign/", {"member_query": "Deputy Samara"})
        assert response.status_code == 200
        assert "· Samara</span>" in response.content.decode()
