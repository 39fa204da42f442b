"""The site's pages in Russian (issue 13): the signer's and creator's pages, the signer's data
pages, the staff's second step and the error pages, read in Russian with the right plural forms,
and no English sentence of them left over. English stays as it was (the rest of the suite)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from tests.factories import force_login_verified, make_petition, sign_and_confirm, signer
from tests.site.test_second_factor import code_of, enrolled
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.data_links import signer_data_link_issue
from undersign.site.login import too_many_attempts

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # the ``moderator`` fixture's
GENITIVE_MONTH = re.compile(
    r"\d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) \d{4}"
)


COUNTS = [(1, "1 подпись"), (2, "2 подписи"), (5, "5 подписей"), (21, "21 подпись")]


def page(client: Client, name: str, *args, language: str = "ru", method: str = "get", data=None):
    """A page as a browser in ``language`` gets it: its address reversed in that language (so
    prefixed once pages carry their language in the URL), and that language's Accept-Language."""
    with translation.override(language):
        url = reverse(name, args=args)
        return getattr(client, method)(url, data or {}, HTTP_ACCEPT_LANGUAGE=language)


def text_of(response) -> str:
    assert response.status_code < 500
    return response.content.decode()


def assert_no_english(body: str, *sentences: str) -> None:
    for sentence in sentences:
        assert sentence not in body, sentence


def set_count(petition: Petition, count: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(
        signature_count=count
    )  # test data: a count as the integrator leaves it


class TestPublicPages:
    def test_home_page(self, client):
        body = text_of(page(client, "home"))
        assert "Петиции, которым можно доверять" in body and "Создать петицию" in body
        assert "Популярные открытые петиции" in body and "Все открытые петиции" in body
        assert_no_english(body, "Petitions you can trust", "Browse open petitions", "Popular open petitions")

    @pytest.mark.parametrize(
        ("count", "words"), [(1, "1 подпись"), (2, "2 подписи"), (5, "5 подписей"), (21, "21 подпись")]
    )
    def test_counts_take_the_russian_plural(self, client, count, words):
        petition = make_petition(action=f"Petition with {count}")
        set_count(petition, count)
        listed = text_of(page(client, "petitions:list"))
        assert words in listed and "Открыта" in listed
        assert re.search(r">\s*1 петиция\s*·", listed)
        detail = text_of(page(client, "petitions:detail", petition.pk))
        assert re.search(rf'class="big-count"[^>]*>{count}</span> {words.split()[1]}</p>', detail)

    def test_petition_page(self, client):
        petition = make_petition(action="Plant a tree on every street")
        body = text_of(page(client, "petitions:detail", petition.pk))
        for russian in ("Подписать петицию", f"Петиция {petition.pk}", "Открыта до ", "Не получили письмо?", "ответа"):
            assert russian in body, russian
        assert GENITIVE_MONTH.search(body)  # "7 июня 2027", not "7 Июнь 2027"
        assert_no_english(body, "Sign this petition", "Open until", "Didn't get the e-mail?", "signatures needed for")

    def test_a_closed_petition_and_its_signers(self, client):
        petition = make_petition(state=PetitionState.CLOSED)
        body = text_of(page(client, "petitions:detail", petition.pk))
        assert "Петиция закрыта" in body and "больше не принимает подписи" in body
        assert "Персональные данные подписантов будут уничтожены" in body and GENITIVE_MONTH.search(body)
        assert_no_english(body, "This petition closed on", "personal data will be destroyed")
        signers = text_of(page(client, "petitions:signers", petition.pk))
        assert "Подписанты, пожелавшие быть названными" in signers
        assert_no_english(signers, "Signers who chose to be named", "Most signers choose")

    def test_a_removed_petition(self, client):
        petition = make_petition(state=PetitionState.HIDDEN)
        body = text_of(page(client, "petitions:detail", petition.pk))
        assert "Эта петиция удалена" in body and "Она отклонена по причине" in body
        assert_no_english(body, "This petition was removed", "It was rejected because")

    def test_search_and_its_errors(self, client):
        body = text_of(page(client, "petitions:list", data={"q": "деревья", "state": "open"}))
        assert "Петиции по запросу «деревья»" in body and "0 петиций" in body and "Открытые" in body
        assert_no_english(body, "Petitions matching", "Awaiting a response")
        bad = page(client, "petitions:list", data={"state": "nonsense"})
        assert bad.status_code == 400 and "Неверный запрос" in bad.content.decode()


class TestTheCreateWizard:
    def test_each_step_in_russian(self, client):
        body = text_of(page(client, "petitions:create"))
        assert "Шаг 1 из 4" in body and "Что вы предлагаете сделать?" in body and "не более 80 символов" in body
        assert_no_english(body, "What do you want us to do?", "characters at most", "Step 1 of 4")
        # The live counter's words, one per plural category, for forms.js.
        assert 'data-left-one="остался # символ"' in body and 'data-left-few="осталось # символа"' in body
        assert 'data-left-many="осталось # символов"' in body and 'data-over-few="на # символа больше' in body
        english = text_of(page(client, "petitions:create", language="en"))
        assert 'data-left-other="# characters left"' in english and "80 characters at most" in english
        refused = text_of(page(client, "petitions:create", method="post", data={"action": "", "background": ""}))
        assert "Есть ошибки" in refused and "Укажите, что вы предлагаете сделать." in refused
        assert_no_english(refused, "Please correct the errors below.", "Tell us what you want us to do.")
        text = {"action": "Посадить деревья", "background": "Деревья дают тень.", "additional_details": ""}
        assert page(client, "petitions:create", method="post", data=text).status_code == 302
        similar = text_of(page(client, "petitions:create_similar"))
        assert "Мы поискали похожие петиции" in similar and "Моя петиция о другом: продолжить" in similar
        creator = text_of(page(client, "petitions:create_creator"))
        assert "О вас" in creator and "Назад к тексту петиции" in creator
        assert_no_english(creator, "About you", "As the creator you sign the petition first.")

    def test_an_expired_draft(self, client, settings):
        client.cookies["undersign_draft_key"] = "garbled"  # a key without its draft
        response = page(client, "petitions:create")
        assert response.status_code == 410
        body = text_of(response)
        hours = settings.DRAFT_MAX_AGE_HOURS
        assert "Срок действия черновика истёк" in body and f"хранится только {hours} час" in body
        assert_no_english(body, "Your draft has expired", "Start again")


class TestTheSignersDataPages:
    def test_open_show_and_withdraw(self, client):
        signature = sign_and_confirm(make_petition(), signer(name="Ксения Семёнова", display="named"))
        token = signer_data_link_issue(signature_id=signature.pk)
        opened = text_of(page(client, "signer_data:show", token))
        assert "Показать мои данные" in opened and "Эта ссылка действует один раз." in opened
        assert_no_english(opened, "Show my data", "This link works once.")
        shown = text_of(page(client, "signer_data:show", token, method="post"))
        assert "Данные, которые мы храним о вашей подписи" in shown and "Подтверждена " in shown
        assert "Отозвать мою подпись" in shown and "Стереть мои данные" in shown and GENITIVE_MONTH.search(shown)
        assert_no_english(shown, "Withdraw my signature", "Erase my data", "Confirmed on", "Updates by e-mail")
        proof = re.search(r'name="proof" value="([\w-]+)"', shown).group(1)
        done = text_of(page(client, "signer_data:act", method="post", data={"proof": proof, "action": "withdraw"}))
        assert "Ваша подпись отозвана" in done and "Пока петиция открыта, вы можете подписать её снова." in done
        assert_no_english(done, "Your signature is withdrawn", "You may sign the petition again")


class TestStaffPages:
    @pytest.fixture
    def required(self, settings):
        settings.STAFF_OTP_REQUIRED = True

    def log_in(self, client):
        return page(client, "login", method="post", data={"username": "mod", "password": PASSWORD})

    def test_enrolment(self, required, client, moderator):
        self.log_in(client)
        body = text_of(page(client, "second_factor_setup"))
        assert "Настройте приложение-аутентификатор" in body and "Выйти" in body
        assert_no_english(body, "Set up your authenticator", "Log out", "The code your app shows now")

    def test_second_step_and_a_wrong_code(self, required, client, moderator):
        device, _ = enrolled(moderator)
        self.log_in(client)
        body = text_of(page(client, "second_factor_verify"))
        assert "Второй шаг: ваш код" in body and "Код" in body
        wrong = f"{(int(code_of(device)) + 500_000) % 1_000_000:06d}"
        refused = text_of(page(client, "second_factor_verify", method="post", data={"code": wrong}))
        assert "Код неверен." in refused
        assert_no_english(refused, "That code is not right", "Second step: your code")

    def test_recovery_codes_left(self, client, moderator):
        enrolled(moderator)
        force_login_verified(client, moderator)
        body = text_of(page(client, "second_factor_recovery_codes"))
        assert "У вас осталось 10 неиспользованных резервных кодов." in body
        assert "Создать новый набор резервных кодов" in body

    def test_an_account_without_a_role(self, client, django_user_model):
        user = django_user_model.objects.create_user("nobody", "nobody@example.org", PASSWORD)
        client.force_login(user)
        response = page(client, "staff_home")
        assert response.status_code == 403 and "Здесь нечего делать" in text_of(response)


@pytest.mark.parametrize(("wait", "words"), [(1, "1 секунду"), (2, "2 секунды"), (5, "5 секунд"), (21, "21 секунду")])
def test_the_login_delay_in_russian(wait, words):
    with translation.override("ru"):
        response = too_many_attempts(RequestFactory().get("/"), wait)
    body = response.content.decode()
    assert f"Слишком много попыток; попробуйте снова через {words}." in body and "Too many" not in body


@pytest.mark.parametrize(("wait", "words"), [(1, "1 second."), (2, "2 seconds.")])
def test_the_login_delay_in_english_is_unchanged(wait, words):
    with translation.override("en"):
        response = too_many_attempts(RequestFactory().get("/"), wait)
    assert f"Too many attempts; try again in {words}" in response.content.decode()


def test_a_missing_page_in_russian(client):
    response = page(client, "petitions:detail", 999_999)
    assert response.status_code == 404 and "Страница не найдена" in response.content.decode()


def test_english_counts_are_unchanged(client):
    for count in (1, 21):
        set_count(make_petition(action=f"English count {count}"), count)
    body = text_of(page(client, "home", language="en"))
    assert "1 signature\n" in body or "1 signature<" in body
    assert "21 signatures" in body and "Petitions you can trust" in body
