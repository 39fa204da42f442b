"""core.languages: a page's language comes from its URL; Accept-Language only redirects a bare
URL; no cookie, no session; data paths stay unprefixed and the same in every language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import make_petition

pytestmark = pytest.mark.django_db

RUSSIAN_BROWSER = "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"


def test_the_site_speaks_english_and_russian_with_english_first():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "ru"]
    assert settings.LANGUAGE_CODE == "en"
    assert dict(settings.LANGUAGES)["ru"] == "Русский"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (RUSSIAN_BROWSER, "/ru/"),
        ("ru", "/ru/"),
        ("en-GB,en;q=0.9", "/en/"),
        ("de-DE,de;q=0.9,ru;q=0.5", "/ru/"),  # the first language we have
        ("de, fr;q=0.5", "/en/"),  # none: the site's own
        ("*", "/en/"),
        ("", "/en/"),
        ("garbage;;q=x,,", "/en/"),
    ],
)
def test_a_bare_page_url_redirects_by_accept_language(client, accept, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response["Location"] == expected
    assert "Accept-Language" in response["Vary"]
    assert not response.cookies


def test_the_redirect_keeps_the_path_and_the_query(client):
    response = client.get("/petitions/?state=open&q=%D0%B1%D1%8E%D0%B4%D0%B6%D0%B5%D1%82", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302
    assert response["Location"] == "/ru/petitions/?state=open&q=%D0%B1%D1%8E%D0%B4%D0%B6%D0%B5%D1%82"


def test_a_form_posted_to_a_bare_url_is_sent_on_with_its_body(client):
    petition = make_petition()
    response = client.post(f"/petitions/{petition.pk}/sign/", {"name": "x"}, HTTP_ACCEPT_LANGUAGE="ru")
    # 307: the browser repeats the POST, body and all, at the prefixed address.
    assert response.status_code == 307
    assert response["Location"] == f"/ru/petitions/{petition.pk}/sign/"


def test_a_bare_url_that_is_no_page_stays_a_404(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 404


def test_an_old_mailed_link_without_a_prefix_still_reaches_its_page(client):
    response = client.get("/signatures/confirm/" + "A" * 43 + "/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302
    assert response["Location"] == "/ru/signatures/confirm/" + "A" * 43 + "/"


def test_the_prefix_decides_whatever_the_browser_asks(client):
    english = client.get("/en/", HTTP_ACCEPT_LANGUAGE=RUSSIAN_BROWSER)
    russian = client.get("/ru/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == russian.status_code == 200
    assert '<html lang="en" dir="ltr">' in english.content.decode()
    assert '<html lang="ru" dir="ltr">' in russian.content.decode()
    assert english["Content-Language"] == "en" and russian["Content-Language"] == "ru"


def test_public_pages_vary_by_neither_cookie_nor_language_and_set_no_cookie(client):
    petition = make_petition()
    for path in ("/ru/", f"/ru/petitions/{petition.pk}/", "/ru/petitions/", "/en/api/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        vary = response.get("Vary", "")
        assert "Accept-Language" not in vary, path
        assert "Cookie" not in vary, path
        assert not response.cookies, path
        assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_data_paths_have_no_prefix_and_answer_the_same_in_any_language(client):
    petition = make_petition()
    for path in (
        "/petitions.json",
        "/petitions.csv",
        f"/petitions/{petition.pk}.json",
        f"/petitions/{petition.pk}/count.json",
        "/api/openapi.json",
        "/log/checkpoint",
        "/.well-known/undersign-log.json",
        "/healthz",
    ):
        english = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        russian = client.get(path, HTTP_ACCEPT_LANGUAGE="ru")
        assert english.status_code == 200, path
        assert english.getvalue() == russian.getvalue(), path
        assert "Accept-Language" not in english.get("Vary", ""), path
        assert client.get("/ru" + path).status_code == 404, path


def test_reverse_gives_the_active_languages_pages_and_bare_data():
    petition = make_petition()
    with translation.override("ru"):
        assert reverse("petitions:detail", args=[petition.pk]) == f"/ru/petitions/{petition.pk}/"
        assert reverse("api:petition_json", args=[petition.pk]) == f"/petitions/{petition.pk}.json"
        assert reverse("verification:members_json", args=[petition.pk]).startswith("/ru/petitions/")
        assert reverse("log:verify") == "/ru/log/verify"
        assert reverse("transparency:checkpoint") == "/log/checkpoint"


def test_the_switcher_links_to_this_page_in_the_other_language(client):
    petition = make_petition()
    body = client.get(f"/ru/petitions/{petition.pk}/?utm=1").content.decode()
    switcher = re.search(r'<nav class="languages".*?</nav>', body, re.S).group(0)
    assert f'href="/en/petitions/{petition.pk}/?utm=1"' in switcher
    assert 'lang="en"' in switcher and "English" in switcher
    assert "/ru/" not in switcher  # the current language is not offered
    assert "<script" not in switcher
    alternates = re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">', body)
    assert alternates == [
        ("en", f"{settings.SITE_URL}/en/petitions/{petition.pk}/?utm=1"),
        ("ru", f"{settings.SITE_URL}/ru/petitions/{petition.pk}/?utm=1"),
    ]


def test_a_request_leaves_its_threads_language_as_it_found_it(client):
    client.get("/ru/")
    assert translation.get_language() == settings.LANGUAGE_CODE
    with translation.override("ru"):
        client.get("/en/")
        assert translation.get_language() == "ru"


def test_english_dates_stay_british(client):
    import datetime

    from django.utils.formats import date_format

    with translation.override("en"):
        assert date_format(datetime.date(2026, 12, 7)) == "7 Dec 2026"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xx", "SITE_LANGUAGES must list language codes Django knows"),
        (" , ", "SITE_LANGUAGES must list language codes Django knows"),
        ("de,en", "SITE_LANGUAGES names languages Undersign has no catalogue for: de"),
    ],
)
def test_site_languages_must_be_languages_we_can_speak(tmp_path, value, message):
    from tests.core.test_settings_production import load_settings

    refused = load_settings(tmp_path, UNDERSIGN_MODE="embedded", SITE_LANGUAGES=value)
    assert refused.returncode != 0 and message in refused.stderr


def test_a_russian_only_site_defaults_to_russian(tmp_path):
    from tests.core.test_settings_production import run

    result = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(s.LANGUAGE_CODE, s.LANGUAGES)",
        ],
        tmp_path,
        UNDERSIGN_MODE="embedded",
        SITE_LANGUAGES="ru",
        DJANGO_SETTINGS_MODULE="undersign.settings",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ru [('ru', 'Русский')]"
