"""The receipt pages in Russian (issue 13): getting a receipt, its absence, and checking one
step by step. Views are called with requests made here, under ``translation.override``."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from tests.factories import last_confirm_link, make_petition, signer
from undersign.signatures import views as signature_views
from undersign.signatures.services import signature_create
from undersign.transparency import views
from undersign.transparency.models import LogEntryKind
from undersign.transparency.services import log_integrate_all
from undersign_verify.entries import commitment

pytestmark = pytest.mark.django_db


def _call(view, method: str, data: dict[str, str] | None = None, language: str = "ru", **kwargs) -> str:
    factory = RequestFactory()
    request = factory.post("/", data or {}) if method == "POST" else factory.get("/")
    request.user = AnonymousUser()
    request._dont_enforce_csrf_checks = True
    with translation.override(language):
        return view(request, **kwargs).content.decode()


def _receipt() -> str:
    petition = make_petition()
    person = signer()
    signature_create(petition=petition, details=person)
    _, token = last_confirm_link(person.email)
    r = bytes(range(32))
    _call(signature_views.confirm, "POST", {"commitment": commitment(petition.uuid, r).hex()}, token=token)
    log_integrate_all()
    return _call(views.receipt, "POST", {"petition": str(petition.uuid), "r": r.hex()})


def test_receipt_form_and_missing_pages():
    form = _call(views.receipt, "GET")
    assert "Получите квитанцию о подписи" in form
    assert "Идентификатор петиции в журнале" in form
    assert "Get your signature receipt" not in form
    malformed = _call(views.receipt, "POST", {"petition": "nope", "r": "zz"})
    assert "Этот код неверен" in malformed
    assert "That code is not right" not in malformed


def test_verify_page_checks_a_receipt_step_by_step_in_russian():
    text = _receipt()
    page = _call(views.verify, "POST", {"receipt": text})
    assert "Квитанция доказывает, что ваша подпись — запись" in page
    assert "Она и сегодня есть в журнале (размер" in page
    assert "Сегодняшний журнал продолжает тот" in page
    assert "<strong>Учтена:</strong>" in page
    assert "Отзовите её с помощью этой квитанции" in page
    for english in ("Check a signature receipt", "Counted:", "It is still in the log today", "Paste the receipt"):
        assert english not in page
    english = _call(views.verify, "POST", {"receipt": text}, language="en")
    assert "It is still in the log today (size " in english
    assert "<strong>Counted:</strong> your signature is in the log and no revocation of it is." in english


def test_verify_page_without_a_receipt():
    page = _call(views.verify, "POST", {"receipt": ""})
    assert "Вставьте квитанцию или выберите её файл (.tlog-proof)." in page


def test_the_receipt_script_gets_its_words_from_the_page():
    with translation.override("ru"):
        page = render_to_string(
            "signatures/confirmed.html",
            {"petition": make_petition(), "signature": None, "public": True, "commitment": "ab" * 32},
        )
    assert 'data-receipt-says-in-log="Ваша подпись есть в публичном журнале (запись %(index)s).' in page
    assert 'data-receipt-says-not-yet="Вашей подписи пока нет в журнале.' in page


def test_log_entry_kinds():
    with translation.override("ru"):
        assert str(LogEntryKind.REVOCATION.label) == "Аннулирование"
