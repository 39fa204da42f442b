"""Attack mode's words and the lists' refusals and labels in Russian (issue 13). The proof's
script shows what the page hands it in data attributes, so the page's language is its own."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import translation

from tests.factories import make_petition
from tests.origins import ONION
from undersign.abuse.limits import HoldReason
from undersign.abuse.models import ListKind, ListTarget
from undersign.abuse.services import ListEntryInvalid, list_value_normalise
from undersign.petitions.services import petition_attack_mode_set
from undersign.signatures.views import sign_without_claim

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _sign_page(petition, language: str) -> str:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with translation.override(language):
        return sign_without_claim(request, petition).content.decode()


def test_the_proof_box_speaks_russian_and_hands_its_words_to_the_script():
    petition = make_petition()
    petition_attack_mode_set(petition=petition, on=True, actor=None, reason="test")
    page = _sign_page(petition, "ru")
    assert "Сейчас подписание занимает несколько секунд." in page
    assert 'data-proof-says-working="Идёт вычисление… Ваш браузер выполняет расчёт' in page
    assert 'data-proof-says-attempts="Идёт вычисление… (попыток: %(attempts)s).' in page
    assert 'data-proof-says-done="Готово. Отправляем вашу подпись…"' in page
    assert "В вашем браузере не работает JavaScript" in page
    assert "Signing takes a few seconds" not in page
    english = _sign_page(petition, "en")
    assert 'data-proof-says-attempts="Working… (%(attempts)s attempts so far). Please keep this page open."' in english


def test_list_refusals_and_labels():
    with translation.override("ru"):
        with pytest.raises(ListEntryInvalid) as invalid:
            list_value_normalise(target=ListTarget.NETWORK, value="10.0.0.0/1")
        assert invalid.value.message.startswith("Эта сеть слишком широкая: для этого типа — не шире /")
        assert str(invalid.value.title) == "Эту запись нельзя добавить"
        assert str(ListKind.BLOCK.label) == "Блокировать: задерживать каждую отправку"
        assert str(HoldReason.PROOF.label) == "Режим защиты от атаки, и нет доказательства работы"


def test_on_the_onion_the_proof_box_says_why_in_russian(client, two_origins):
    page = client.get(f"/ru/petitions/{make_petition().pk}/sign/", HTTP_HOST=ONION).content.decode()
    assert "На этом onion-адресе подпись занимает несколько секунд." in page
    assert "«Safer» и «Safest»" in page
    assert "Signing takes a few seconds" not in page and "Someone is sending" not in page
