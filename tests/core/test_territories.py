"""Territory sets: the bundled ones (the UK's regions, Russia's 83 federal subjects, Russian
cities), a site's own file, names in the page's language and times that say their zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.utils import translation

from tests.factories import make_petition
from undersign.core.reference import region_names, regions, site_territories, territories_load, territory_set
from undersign.signatures.forms import SignerForm

# ISO 3166-2:RU: 21 republics, 9 krais, 46 oblasts, 2 cities of federal importance,
# 1 autonomous oblast and 4 autonomous okrugs.
ISO_3166_2_RU = set(
    "AD AL BA BU CE CU DA IN KB KL KC KR KK KO ME MO SA SE TA TY UD "
    "ALT KAM KHA KDA KYA PER PRI STA ZAB "
    "AMU ARK AST BEL BRY CHE IRK IVA KGD KLU KEM KIR KOS KGN KRS LEN LIP MAG MOS MUR NIZ NGR NVS OMS ORE ORL "
    "PNZ PSK ROS RYA SAK SAM SAR SMO SVE TAM TOM TUL TVE TYU ULY VLA VGG VLG VOR YAR "
    "MOW SPE YEV CHU KHM NEN YAN".split()
)


class TestRussia:
    def test_the_set_is_iso_3166_2_ru_exactly(self):
        assert len(ISO_3166_2_RU) == 83
        assert {r.code.removeprefix("RU-") for r in territory_set("ru").regions} == ISO_3166_2_RU
        assert all(r.code.startswith("RU-") for r in territory_set("ru").regions)

    def test_every_subject_has_a_russian_and_an_english_name_and_a_time_zone(self):
        for region in territory_set("ru").regions:
            names = dict(region.names)
            assert set(names) == {"ru", "en"} and all(names.values()), region
            ZoneInfo(region.time_zone)  # a real IANA zone
        subjects = {r.code: r for r in territory_set("ru").regions}
        assert subjects["RU-SA"].name_in("ru") == "Республика Саха (Якутия)"
        assert subjects["RU-SA"].time_zone == "Asia/Yakutsk"
        assert subjects["RU-SAM"].time_zone == "Europe/Samara"
        assert subjects["RU-MOW"].name_in("en") == "Moscow" and subjects["RU-MOW"].time_zone == "Europe/Moscow"
        assert subjects["RU-SPE"].name_in("ru") == "Санкт-Петербург"

    def test_it_spans_zones_and_the_uk_does_not(self):
        assert territory_set("ru").spans_zones
        assert territory_set("ru-cities").spans_zones
        assert not territory_set("uk").spans_zones

    def test_the_cities_set_names_the_four_cities(self):
        cities = territory_set("ru-cities")
        assert cities.names("ru") == {
            "MOSCOW": "Москва",
            "SAINT-PETERSBURG": "Санкт-Петербург",
            "SAMARA": "Самара",
            "YAKUTSK": "Якутск",
        }
        assert cities.names("en")["YAKUTSK"] == "Yakutsk"


class TestTheSitesSet:
    def test_the_default_is_the_uk_named_in_the_pages_language(self, settings):
        assert settings.REGION_SET == "uk" and not settings.REGIONS_FILE
        assert len(regions()) == 13
        assert region_names()["E12000007"] == "London"
        with translation.override("ru"):
            assert region_names()["E12000007"] == "Лондон"
        assert region_names("en")["ZZ"] == "Outside the UK"

    def test_region_set_chooses_a_bundled_set(self, settings):
        settings.REGION_SET = "ru"
        assert len(regions()) == 83 and site_territories().label == "ru"
        with translation.override("ru"):
            assert region_names()["RU-SAM"] == "Самарская область"
        assert region_names("en")["RU-SAM"] == "Samara Oblast"

    def test_a_sites_own_file_wins_and_may_name_in_one_language(self, settings, tmp_path):
        path = tmp_path / "regions.json"
        path.write_text(
            json.dumps(
                {"regions": [{"code": "N", "name": "North"}, {"code": "S", "name": {"en": "South", "ru": "Юг"}}]}
            )
        )
        settings.REGION_SET = "ru"
        settings.REGIONS_FILE = str(path)
        assert [r.code for r in regions()] == ["N", "S"]
        with translation.override("ru"):
            assert region_names() == {"N": "North", "S": "Юг"}

    @pytest.mark.parametrize(
        "item",
        [
            {"code": "X", "name": ""},
            {"code": "X", "name": {"en": 1}},
            {"code": "X", "name": {}},
            {"code": "X", "name": "X", "time_zone": "Mars/Olympus"},
            {"code": "", "name": "X"},
            "X",
        ],
    )
    def test_a_bad_file_stops_the_process(self, tmp_path, item):
        path = tmp_path / "regions.json"
        path.write_text(json.dumps({"regions": [item]}))
        with pytest.raises(ImproperlyConfigured, match="bad region"):
            territories_load(str(path))

    def test_an_unknown_bundled_set_is_refused(self):
        with pytest.raises(ImproperlyConfigured, match="no bundled territory set"):
            territory_set("atlantis")

    def test_the_sign_form_offers_names_in_the_pages_language(self, settings):
        settings.REGION_SET = "ru"
        with translation.override("ru"):
            choices = dict(SignerForm().fields["region"].choices)
        assert choices["RU-SA"] == "Республика Саха (Якутия)"
        assert "RU-SA" not in choices.values()


class TestZones:
    MOMENT = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)
    TEMPLATE = '{% load zones %}{{ moment|date:"H:i" }}{{ moment|zone_suffix }}|{{ moment|zone_name }}'

    def render(self) -> str:
        return Template(self.TEMPLATE).render(Context({"moment": self.MOMENT}))

    def test_a_site_in_one_zone_shows_bare_times(self, settings):
        assert self.render() == "09:05|UTC"

    def test_a_site_whose_territories_span_zones_says_the_zone(self, settings):
        settings.REGION_SET = "ru"
        settings.TIME_ZONE = "Europe/Moscow"
        assert self.render() == "12:05 MSK|MSK"

    def test_a_zone_without_letters_is_shown_by_its_offset(self, settings):
        settings.REGION_SET = "ru"
        settings.TIME_ZONE = "Asia/Yakutsk"
        assert self.render() == "18:05 UTC+9|UTC+9"

    def test_the_petition_page_says_the_zone_of_its_closing_time(self, client, settings, db):
        petition = make_petition()
        assert " UTC." in client.get(f"/en/petitions/{petition.pk}/").content.decode()  # as before
        settings.REGION_SET = "ru"
        settings.TIME_ZONE = "Asia/Yakutsk"
        assert " UTC+9." in client.get(f"/en/petitions/{petition.pk}/").content.decode()
