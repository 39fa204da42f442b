"""Search in the petition's own language (issue 13, item 4): case folded in every script, ё as
е, Russian stems on PostgreSQL, the index still used; and a petition's language itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import translation

from tests.factories import make_petition
from undersign.petitions.models import Petition
from undersign.petitions.search import SearchDocument, search_query
from undersign.petitions.selectors import petition_list, petitions_similar
from undersign.petitions.services import PetitionText, petition_create

pytestmark = pytest.mark.django_db

DEPUTIES = "Депутаты требуют опубликовать Бюджет города"
BUDGET_BACKGROUND = "Горожане должны видеть, на что тратятся их деньги."


def found(query: str, language: str = "en") -> list[Petition]:
    with translation.override(language):
        return list(petition_list(state="all", query=query))


@pytest.fixture
def deputies() -> Petition:
    return make_petition(action=DEPUTIES, background=BUDGET_BACKGROUND, language="ru")


class TestOnBothDatabases:
    def test_cyrillic_case_is_folded(self, deputies):
        make_petition(action="Repair the bridge")
        assert found("бюджет") == [deputies]
        assert found("БЮДЖЕТ") == [deputies]
        assert found("Горожане ДЕНЬГИ") == [deputies]
        assert found("бюджет", language="ru") == [deputies]

    def test_yo_is_e_both_ways(self):
        tree = make_petition(action="Поставить ёлку на площади", language="ru")
        hedgehogs = make_petition(action="Спасти ежей в парке", background="Ежи живут здесь.", language="ru")
        assert found("елку") == [tree]
        assert found("ЁЛКУ") == [tree]
        assert found("ёжей", language="ru") == [hedgehogs]

    def test_a_russian_word_is_found_from_the_english_pages(self, deputies):
        # The language-neutral match: the word as written, whatever the page's language.
        assert found("депутаты", language="en") == [deputies]

    def test_english_search_is_unchanged(self):
        park = make_petition(action="Save the old park")
        make_petition(action="Repair the bridge")
        assert found("PARK") == [park]
        assert found("nothing-like-this") == []

    def test_similar_petitions_fold_too(self, deputies):
        assert petitions_similar(text="бюджет ГОРОДА", language="ru") == [deputies]


class TestOnPostgreSQL:
    def test_russian_stems_match(self, postgres_only, deputies):
        assert found("депутат", language="ru") == [deputies]
        assert found("депутатов бюджета", language="ru") == [deputies]
        # From the English pages the query is stemmed in English: only the word as written matches.
        assert found("депутатов", language="en") == []

    def test_websearch_syntax_holds_in_russian(self, postgres_only, deputies):
        assert found('"опубликовать бюджет"', language="ru") == [deputies]
        assert found("бюджет -города", language="ru") == []
        assert found("мост or депутатов", language="ru") == [deputies]

    def test_the_action_ranks_above_the_background(self, postgres_only):
        in_background = make_petition(action="Отремонтировать мост", background="Бюджет позволяет.", language="ru")
        in_action = make_petition(action="Бюджет на ремонт моста", language="ru")
        assert found("бюджет", language="ru") == [in_action, in_background]

    def test_english_stems_still_match(self, postgres_only):
        trees = make_petition(action="Plant trees on every street")
        assert found("tree planting") == [trees]

    def test_a_language_without_a_configuration_is_searched_as_written(self, postgres_only, settings):
        settings.LANGUAGES = [("en", "English"), ("ru", "Русский"), ("uk", "Українська")]
        petition = make_petition(action="Зберегти парк", language="uk")
        assert found("ПАРК", language="uk") == [petition]

    def test_the_search_uses_the_index(self, postgres_only, deputies):
        # The selector's expression must equal the migration's, or the planner cannot use the
        # index: with sequential scans off, a search by the document alone must go through it.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        document = Petition.objects.alias(document=SearchDocument())
        plan = document.filter(document=search_query("депутатов", language="ru")).explain()
        assert "Bitmap Index Scan on petition_fulltext" in plan


class TestLanguage:
    def test_the_page_language_is_the_default(self):
        with translation.override("ru"):
            petition = petition_create(
                text=PetitionText(action="Починить мост", background="Он старый.", additional_details="")
            )
        assert petition.language == "ru"
        with translation.override("en-gb"):
            petition = petition_create(text=PetitionText(action="Mend it", background="Old.", additional_details=""))
        assert petition.language == "en"

    def test_an_unknown_language_is_refused(self):
        with pytest.raises(ValueError, match="not a language"):
            petition_create(text=PetitionText(action="A", background="B", additional_details="", language="xx"))

    def test_the_petition_json_names_it(self, client, deputies):
        attributes = client.get(f"/petitions/{deputies.pk}.json").json()["data"]["attributes"]
        assert attributes["language"] == "ru"

    def test_the_create_form_keeps_the_chosen_language(self, client):
        text = {"action": "Опубликовать бюджет", "background": "Это важно.", "additional_details": ""}
        assert client.post("/en/petitions/new/", {**text, "language": "ru"}).status_code == 302
        page = client.get("/en/petitions/new/")
        assert b'<option value="ru" selected>' in page.content
        refused = client.post("/en/petitions/new/", {**text, "language": "xx"})
        assert refused.status_code == 200
        assert b"Choose the language the petition is written in." in refused.content
