"""The open data in Russian (issue 13): its documentation page reads in Russian; the JSON itself,
errors included, stays locale-neutral whatever the browser asks."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def docs_url() -> str:
    return reverse("api_docs")


def test_the_documentation_page_in_russian(client):
    with translation.override("ru"):
        body = client.get(docs_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for russian in ("Открытые данные", "Полезно знать", "Только <code>id</code>", "документ OpenAPI 3.1"):
        assert russian in body, russian
    for english in ("Good to know", "Every public petition", "cheap to poll", "Names are not verified"):
        assert english not in body, english


def test_json_errors_stay_english_for_a_russian_browser(client):
    with translation.override("ru"):
        missing = client.get(reverse("api:petition_json", args=[999_999]), HTTP_ACCEPT_LANGUAGE="ru")
        unknown = client.get("/petitions/999999/nothing.json", HTTP_ACCEPT_LANGUAGE="ru")
        wrong_method = client.post(reverse("api:list_json"), HTTP_ACCEPT_LANGUAGE="ru")
    assert missing.status_code == 404 and json.loads(missing.content) == {"error": "no such petition"}
    assert unknown.status_code == 404 and json.loads(unknown.content) == {"error": "no such document"}
    assert wrong_method.status_code == 405 and json.loads(wrong_method.content) == {
        "error": "only GET and HEAD are allowed"
    }
