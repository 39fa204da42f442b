"""Moderation in Russian: the e-mails to creators and signers (published, rejected, taken down,
the response) and the moderators' abuse alert, with Russian plural forms; the staff pages.
English stays as it was (the rest of the suite asserts on it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests.moderation.conftest import queued_petition
from undersign import moderation
from undersign.core.reference import RejectionReason
from undersign.moderation.reasons import BUNDLED_TEXTS

LINKS = {
    "SITE_NAME": "Undersign",
    "petition_url": "https://example.org/p/x/",
    "data_url": "https://example.org/d/x/",
    "unsubscribe_url": "https://example.org/u/x/",
    "group_leave_url": "https://example.org/g/x/",
}
DUPLICATE = RejectionReason(
    code="duplicate",
    title="Duplicate",
    description="There's already a petition about this issue. We cannot accept a new petition when we already "
    "have one about a very similar issue.",
    hidden=False,
)


def test_the_bundled_reasons_texts_are_all_in_the_catalogue():
    bundled = Path(moderation.__file__).parent / "data" / "rejection_reasons.json"
    reasons = json.loads(bundled.read_text(encoding="utf-8"))["reasons"]
    assert tuple(text for reason in reasons for text in (reason["title"], reason["description"])) == BUNDLED_TEXTS


@pytest.mark.parametrize(
    ("template", "russian", "english"),
    [
        ("petition_published", "Ваша петиция опубликована", "Your petition has been published"),
        ("petition_rejected", "Мы не смогли опубликовать вашу петицию", "We could not publish your petition"),
        ("petition_taken_down", "Ваша петиция снята", "Your petition has been taken down"),
        ("petition_response", "На петицию получен ответ", "A petition has received a response"),
    ],
)
def test_the_mails_to_creators_and_signers_read_in_russian(template, russian, english):
    context = {**LINKS, "reason": DUPLICATE}
    with translation.override("ru"):
        mail = render_to_string(f"emails/{template}.txt", context)
    subject, _, body = mail.strip().partition("\n")
    assert subject == russian
    assert body.startswith("Здравствуйте!")
    assert "Посмотреть или удалить данные, которые мы храним о вашей подписи: https://example.org/d/x/" in body
    for text in ("Hello", "See or erase", "Reason:", "e-mails", "Unsubscribe"):
        assert text not in mail
    if template in ("petition_rejected", "petition_taken_down"):
        assert "Причина: Дубликат\nПетиция по этому вопросу уже есть." in body
    assert render_to_string(f"emails/{template}.txt", context).startswith(english + "\nHello,\n")


def alert_mail(held: int, submissions: int) -> str:
    hour = datetime(2026, 12, 7, 14, tzinfo=UTC)
    alert = SimpleNamespace(petition_id=7, held=held, submissions=submissions, hour=hour)
    return render_to_string(
        "emails/abuse_alert.txt", {**LINKS, "alert": alert, "level": 50, "review_url": "r", "trending_url": "t"}
    )


@pytest.mark.parametrize(
    ("n", "held", "submissions"),
    [
        (1, "1 задержанная подпись", "из 1 отправленной"),
        (2, "2 задержанные подписи", "из 2 отправленных"),
        (5, "5 задержанных подписей", "из 5 отправленных"),
        (21, "21 задержанная подпись", "из 21 отправленной"),
    ],
)
def test_the_abuse_alert_counts_with_russian_plurals(n, held, submissions):
    with translation.override("ru"):
        mail = alert_mail(n, n)
    assert mail.startswith("Undersign: задержанные подписи превысили порог оповещения\n")
    assert f"{held} {submissions} (порог" in mail and "held" not in mail


def test_the_abuse_alert_stays_english_by_default():
    assert "Petition 7 had 1 held signature out of 2 submissions in the hour starting 2026-12-07 14:00 UTC" in (
        alert_mail(1, 2)
    )


@pytest.mark.django_db
def test_the_moderators_pages_read_in_russian(moderator_client):
    queued = queued_petition(waiting_days=30)
    pages = {}
    with translation.override("ru"):
        for path in (
            "/ru/moderation/",
            f"/ru/moderation/petitions/{queued.pk}/",
            "/ru/moderation/search/?q=tree",
            "/ru/moderation/held/",
            "/ru/moderation/bulk/",
            "/ru/moderation/retention/",
            "/ru/moderation/signers/",
            "/ru/moderation/abuse/lists/",
            f"/ru/moderation/petitions/{queued.pk}/trending/",
        ):
            response = moderator_client.get(path)
            assert response.status_code == 200, path
            pages[path] = response.content.decode()
    queue = pages["/ru/moderation/"]
    assert "Очередь модерации" in queue and "Ожидают модерации (1)" in queue and "Просрочена" in queue
    assert "Сначала самые старые. Просрочены: ждут дольше" in queue
    petition = pages[f"/ru/moderation/petitions/{queued.pk}/"]
    assert f"Модерация петиции {queued.pk}" in petition and "Отметить для повторной проверки" in petition
    assert "Режим атаки" in petition and "Подписи и хранение данных" in petition
    for english in ("Moderation queue", "Awaiting moderation (", "Oldest first", "Signed in as", "Log out"):
        assert english not in queue
    for english in ("Flag for a second look", "Attack mode", "Add a note", "History", "Take down"):
        assert english not in petition
    assert "Задержанные подписи" in pages["/ru/moderation/held/"]
    assert "Массовые действия с подписями" in pages["/ru/moderation/bulk/"]
    assert "Хранение данных" in pages["/ru/moderation/retention/"]
    assert "Найти подписанта" in pages["/ru/moderation/signers/"]
    assert "Белый и чёрный списки" in pages["/ru/moderation/abuse/lists/"]
    assert "Самые активные сети и домены" in pages[f"/ru/moderation/petitions/{queued.pk}/trending/"]


@pytest.mark.parametrize(
    ("n", "expected"), [(1, "1 результат"), (2, "2 результата"), (5, "5 результатов"), (21, "21 результат")]
)
def test_search_results_count_with_russian_plurals(n, expected):
    with translation.override("ru"):
        found = [SimpleNamespace(pk=7, action="Plant a tree", state="open", created_at=None)] * n
        page = render_to_string("moderation/search.html", {"results": found, "search_form": None})
    assert f"<h2>{expected}</h2>" in page


@pytest.mark.django_db
def test_the_moderators_messages_errors_and_refusals_in_russian(moderator_client):
    queued = queued_petition(waiting_days=1)
    other = queued_petition(waiting_days=1)
    base = f"/ru/moderation/petitions/{queued.pk}/"
    with translation.override("ru"):
        unreasoned = moderator_client.post(base + "reject/", {"reject-reason": ""})
        approved = moderator_client.post(base + "approve/", follow=True)
        again = moderator_client.post(base + "approve/")
        attack = moderator_client.post(
            base + "attack-mode/", {"attack-on": "1", "attack-reason": "наплыв"}, follow=True
        )
        bad_filter = moderator_client.post("/ru/moderation/held/", {"network": "не сеть"})
        missing = moderator_client.get("/ru/moderation/petitions/999999/")
        flagged = moderator_client.post(f"/ru/moderation/petitions/{other.pk}/flag/", {"flag-note": ""}, follow=True)
    assert unreasoned.status_code == 400 and "Выберите причину." in unreasoned.content.decode()
    assert f"Петиция {queued.pk} открыта до " in approved.content.decode()
    assert again.status_code == 409 and "поэтому одобрить её нельзя" in again.content.decode()
    assert f"Режим атаки для петиции {queued.pk} включён." in attack.content.decode()
    assert bad_filter.status_code == 400 and "Введите сеть, например 192.0.2.0/24" in bad_filter.content.decode()
    assert missing.status_code == 404 and "Петиции с номером 999999 нет." in missing.content.decode()
    assert f"Петиция {other.pk} отмечена для повторной проверки." in flagged.content.decode()
