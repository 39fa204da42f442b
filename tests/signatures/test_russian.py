"""The signer's pages and e-mails in Russian (issue 13): every string of the signatures app is
in its Russian catalogue, counts take Russian plural forms, and English stays as it was.

Pages are rendered by calling the views with a request made here, and e-mails by rendering
their templates, under ``translation.override("ru")``: what is proved is the catalogue and the
marking, whatever decides a request's language."""

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.petitions.models import PetitionState
from undersign.signatures import views
from undersign.signatures.forms import SignerForm, WithdrawWithReceiptForm, group_choice_label
from undersign.signatures.models import Display, SignatureStatus
from undersign.signatures.services import InvalidLink, SigningRefused, check_can_sign, signature_create

pytestmark = pytest.mark.django_db


def _get(view, path: str, **kwargs) -> str:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    with translation.override("ru"):
        response = view(request, **kwargs)
    return response.content.decode()


def _post(view, path: str, data: dict[str, object], **kwargs) -> str:
    request = RequestFactory().post(path, data)
    request.user = AnonymousUser()
    request._dont_enforce_csrf_checks = True
    with translation.override("ru"):
        response = view(request, **kwargs)
    return response.content.decode()


class TestPagesInRussian:
    def test_check_email_page(self):
        petition = make_petition()
        page = _get(views.sign_done, "/", petition_id=petition.pk)
        assert "Проверьте почту" in page
        assert "чтобы ваша подпись была учтена" in page
        assert "получите письмо ещё раз" in page
        assert "Check your e-mail" not in page
        assert "get the e-mail again" not in page

    def test_sponsor_page_and_its_form_errors(self):
        petition = make_petition(state=PetitionState.VALIDATED)
        page = _post(views.sponsor, "/", {"name": "", "email": "bad", "region": "XX"}, token=petition.sponsor_token)
        assert "Поддержать эту петицию" in page
        assert "Введите ваше имя." in page
        assert "Введите адрес электронной почты вида name@example.org." in page
        assert "Выберите место жительства из списка." in page
        assert "Полное имя" in page
        assert "Только учитывать мою подпись; ничего обо мне не показывать" in page
        for english in ("Support this petition", "Enter your name.", "Full name", "Where do you live?"):
            assert english not in page

    def test_resend_page(self):
        petition = make_petition()
        page = _get(views.resend, "/", petition_id=petition.pk)
        assert "Получить письмо с подтверждением ещё раз" in page
        assert "Отправить ссылку ещё раз" in page
        assert "Send the link again" not in page

    def test_unsubscribe_withdraw_and_data_request_pages(self):
        assert "Больше не получать писем об этой петиции?" in _get(views.unsubscribe, "/", token="x")
        withdraw = _get(views.withdraw, "/", token="x", check="y")
        assert "Что происходит при отзыве" in withdraw
        assert "Отозвать мою подпись" in withdraw
        assert "What withdrawing does" not in withdraw
        receipt = _post(views.withdraw_with_receipt, "/", {"petition": "nope", "code": "00"})
        assert "Идентификатор петиции в журнале выглядит так" in receipt
        assert "Вставьте квитанцию" in receipt
        data = _get(views.data_request, "/", token="x", check="y")
        assert "Отправить мне одноразовую ссылку" in data
        assert "E-mail me a one-time link" not in data

    def test_confirm_page_and_the_spent_link_page(self):
        petition = make_petition()
        details = signer()
        signature_create(petition=petition, details=details)
        _, token = last_confirm_link(details.email)
        page = _get(views.confirm, "/", token=token)
        assert "Подтвердите вашу подпись" in page
        assert "Подтвердить мою подпись" in page
        assert "Confirm my signature" not in page
        spent = _get(views.confirm, "/", token="no-such-token")
        assert "Эта ссылка больше не действует" in spent
        assert "подпишите её снова" in spent

    @pytest.mark.parametrize(
        ("count", "words"),
        [(1, "подпись."), (2, "подписи."), (5, "подписей."), (21, "подпись.")],
    )
    def test_the_count_after_confirming_takes_russian_plurals(self, count, words):
        petition = make_petition()
        petition.signature_count = count
        signature = sign_and_confirm(petition)
        request = RequestFactory().get("/")
        with translation.override("ru"):
            page = render_to_string(
                "signatures/confirmed.html",
                {"petition": petition, "signature": signature, "public": True, "receipt_code": "ab" * 32},
                request=request,
            )
        assert f"</span> {words.rstrip('.')}" in page
        assert "Ваша подпись добавлена" in page
        assert "Код вашей квитанции" in page
        assert "signatures so far" not in page

    def test_english_is_unchanged(self):
        petition = make_petition()
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        with translation.override("en"):
            page = views.sign_done(request, petition_id=petition.pk).content.decode()
        assert "Open the link in it and press the button on that page to make your signature count." in page


class TestRefusalsAndLabelsInRussian:
    def test_refusals(self):
        petition = make_petition(state=PetitionState.CLOSED)
        with translation.override("ru"):
            with pytest.raises(SigningRefused) as refused:
                check_can_sign(petition, "signer")
            assert str(refused.value.title) == "Вы не можете подписать эту петицию"
            assert refused.value.reason == "Эта петиция закрыта. Сбор подписей завершён."
            assert str(InvalidLink.title) == "Эта ссылка больше не действует"

    def test_status_and_display_labels(self):
        with translation.override("ru"):
            assert str(SignatureStatus.CONFIRMED.label) == "Подтверждена"
            assert str(Display.NAMED.label) == "Показывать моё имя и регион"
            assert str(SignerForm().fields["region"].choices[0][1]) == "Выберите…"
            assert str(WithdrawWithReceiptForm().fields["code"].label) == "Код квитанции"

    @pytest.mark.parametrize(
        ("territories", "word"), [(1, "территории"), (2, "территорий"), (5, "территорий"), (21, "территории")]
    )
    def test_group_choice_label_plurals(self, territories, word):
        petition = make_petition()
        petition.group_min_named, petition.group_min_territories = 30, territories
        with translation.override("ru"):
            assert group_choice_label(petition).endswith(f"из {territories} {word}")
        with translation.override("en"):
            english = group_choice_label(petition)
        assert english.endswith("territory are named with me" if territories == 1 else "territories are named with me")


def _mail(template: str, **context: object) -> str:
    base = {
        "SITE_NAME": settings.SITE_NAME,
        "link": "https://x/l",
        "link_days": 7,
        "withdraw_url": "https://x/w",
        "data_url": "https://x/d",
        "unsubscribe_url": "https://x/u",
        "petition_url": "https://x/p",
        "sponsor_url": "https://x/s",
        "minutes": 30,
        "group_leave_url": "https://x/g",
    }
    with translation.override("ru"):
        return render_to_string(f"emails/{template}.txt", {**base, **context})


EMAILS = {
    "already_signed": "О вашей подписи",
    "confirm_creator": "Подтвердите вашу петицию",
    "confirm_signature": "Подтвердите вашу подпись",
    "confirm_sponsor": "Подтвердите вашу поддержку",
    "petition_closed": "Ваша петиция закрыта",
    "petition_sponsored": "Ваша петиция проходит проверку",
    "petition_validated": "Ваша петиция подтверждена",
    "signer_data_link": "Ваша ссылка на данные, которые мы храним",
    "sponsor_signed": "Сторонник подтвердил поддержку вашей петиции",
}


class TestEmailsInRussian:
    @pytest.mark.parametrize(("template", "subject"), EMAILS.items())
    def test_every_mail_is_russian_from_subject_to_footer(self, template, subject):
        text = _mail(template, sponsors=1, required=5)
        first_line, _, body = text.strip().partition("\n")
        assert first_line == subject
        assert body.startswith("Здравствуйте!")
        assert "Посмотреть или удалить данные, которые мы храним о вашей подписи: https://x/d" in body
        for english in ("Hello,", "See or erase", "Stop e-mails", "Someone, probably you", "The link works"):
            assert english not in text

    @pytest.mark.parametrize(
        ("sponsors", "phrase"),
        [
            (1, "1 подтверждённый сторонник."),
            (2, "2 подтверждённых сторонника."),
            (5, "5 подтверждённых сторонников."),
            (21, "21 подтверждённый сторонник."),
        ],
    )
    def test_supporters_count_takes_russian_plurals(self, sponsors, phrase):
        assert phrase in _mail("sponsor_signed", sponsors=sponsors, required=100)

    @pytest.mark.parametrize(("required", "phrase"), [(1, "1 человек."), (3, "3 человека."), (5, "5 человек.")])
    def test_required_supporters_take_russian_plurals(self, required, phrase):
        assert phrase.rstrip(".") in _mail("petition_validated", required=required).replace("\n", " ")


def test_admin_labels():
    from undersign.signatures.models import Signature

    with translation.override("ru"):
        assert str(Signature._meta.verbose_name_plural) == "подписи"
        assert str(Signature._meta.get_field("status").verbose_name) == "состояние"
        assert str(Signature._meta.get_field("confirmed_at").verbose_name) == "подтверждена"
    assert str(Signature._meta.get_field("confirmed_at").verbose_name) == "confirmed at"
