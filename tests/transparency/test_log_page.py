"""The log for people (/<lang>/log/): its latest checkpoint, what it proves and how to check
it, linked from the petition pages and the open data page instead of a raw JSON address."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm
from undersign.transparency.keys import log_origin
from undersign.transparency.selectors import log_checkpoint_latest
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_latest_checkpoint_and_how_to_check_it(settings):
    petition = make_petition()
    for _ in range(3):
        sign_and_confirm(petition)
    log_integrate_all()
    checkpoint = log_checkpoint_latest()
    assert checkpoint.size >= 4  # the opening, the creator's signature and three more

    response = Client().get("/en/log/")
    page = response.content.decode()
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    assert f'<span class="big-count">{checkpoint.size}</span> entries' in page
    assert base64.b64encode(checkpoint.root_hash).decode() in page
    assert log_origin() in page
    wellknown = Client().get("/.well-known/undersign-log.json").json()
    assert wellknown["verifier_key"] in page
    assert "undersign-verify --site http://testserver" in page
    assert 'href="/log/checkpoint"' in page and 'href="/.well-known/undersign-log.json"' in page
    assert "does not prove" in page and 'href="/en/log/verify"' in page


def test_an_empty_log_has_a_page_too():
    page = Client().get("/en/log/").content.decode()
    assert '<span class="big-count">0</span> entries' in page


def test_in_russian_the_size_takes_its_plural():
    page = Client().get("/ru/log/").content.decode()
    assert "Публичный журнал" in page and "0</span> записей" in page


@pytest.mark.parametrize("path", ["/en/api/", "/ru/api/"])
def test_the_open_data_page_links_to_it(path):
    language = path.split("/")[1]
    assert f'href="/{language}/log/"' in Client().get(path).content.decode()
