"""The site's frame, error pages and staff-facing labels of ``core`` in Russian (issue 13)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from undersign.core.errors import Refusal
from undersign.core.form_limits import CONFIRM, SIGNER_REQUESTS, form_limit_page
from undersign.core.http import refusal_page
from undersign.core.models import StaffAccessAction

pytestmark = pytest.mark.django_db


def _request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    return request


class TestFrameAndErrorPagesInRussian:
    def test_the_error_page_in_its_frame(self):
        with translation.override("ru"):
            page = refusal_page(_request(), Refusal("Сообщение.")).content.decode()
        for russian in (
            "Это невозможно сделать",
            "Перейти к содержанию",
            "Создать петицию",
            "Поиск петиций",
            "Открытые данные",
            "Модераторам",
            "На главную страницу",
            "хранит имена и адреса",
        ):
            assert russian in page
        for english in (
            "This cannot be done",
            "Skip to content",
            "Start a petition",
            "Search petitions",
            "Open data",
            "Go to the home page",
            "keeps signers",
        ):
            assert english not in page

    def test_english_frame_is_unchanged(self):
        with translation.override("en"):
            page = refusal_page(_request(), Refusal("Message.")).content.decode()
        assert "<title>This cannot be done · " in page
        assert '<input id="site-q" type="search" name="q" placeholder="Search petitions" maxlength="200">' in page

    @pytest.mark.parametrize(
        ("limit", "title"),
        [
            (CONFIRM, "Слишком много подтверждений за короткое время"),
            (SIGNER_REQUESTS, "Слишком много запросов за короткое время"),
        ],
    )
    def test_try_again_later_pages(self, limit, title):
        with translation.override("ru"):
            response = form_limit_page(_request(), limit)
        assert response.status_code == 429
        page = response.content.decode()
        assert title in page
        assert "ваша ссылка по-прежнему действует" in page.lower()

    def test_the_database_unavailable_page(self):
        with translation.override("ru"):
            page = render_to_string("unavailable.html")
        assert "Попробуйте чуть позже" in page
        assert "Try again shortly" not in page


def test_staff_access_labels():
    with translation.override("ru"):
        assert str(StaffAccessAction.SEARCH_EMAIL.label) == "Поиск по адресу электронной почты"
    assert str(StaffAccessAction.SEARCH_EMAIL.label) == "Searched by e-mail"


@pytest.mark.parametrize(("minutes", "phrase"), [(1, "1 минуты"), (2, "2 минут"), (5, "5 минут"), (21, "21 минуты")])
def test_idle_logout_message_plurals(minutes, phrase):
    from django.utils.translation import ngettext

    with translation.override("ru"):
        text = ngettext(
            "You were logged out after %(minutes)s minute without activity.",
            "You were logged out after %(minutes)s minutes without activity.",
            minutes,
        ) % {"minutes": minutes}
    assert f"после {phrase} бездействия" in text


def test_staff_access_admin_labels():
    from undersign.core.models import StaffAccess

    with translation.override("ru"):
        assert str(StaffAccess._meta.get_field("approved_by").verbose_name) == "одобрил"
    assert str(StaffAccess._meta.get_field("approved_by").verbose_name) == "approved by"
