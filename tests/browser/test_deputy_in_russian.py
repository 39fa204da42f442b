"""Ksenia, a municipal deputy in Samara whose browser asks for Russian, opens the site: she is
sent to the Russian pages, signs the deputies' petition with a claim to her registry entry,
gets the confirmation e-mail in Russian and confirms. Vera, the registry's validator, works in
Russian too and validates the claim. The count reads with the right Russian plural, and no page
on the way shows English interface text."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from tests.browser.test_signing_in_browser import chromium_page
from tests.factories import CONFIRM_LINK, last_mailed, make_petition, signer, take_breakdown_snapshot
from tests.i18n_scan import english_leftovers
from tests.verification.conftest import claim_and_confirm, make_validator, registry_csv
from undersign.petitions.models import Petition
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, SigningPolicy
from undersign.verification.services import petition_verification_set, registry_ensure, registry_import

pytestmark = pytest.mark.browser

DEPUTIES = [
    ("Ксения Семёнова", "SAMARA"),
    ("Олег Петров", "MOSCOW"),
    ("Анна Иванова", "SAINT-PETERSBURG"),
    ("Дмитрий Николаев", "YAKUTSK"),
    ("Мария Кузнецова", "SAMARA"),
    ("Сергей Смирнов", "MOSCOW"),
    ("Елена Попова", "SAINT-PETERSBURG"),
]


def russian_plural(n: int, one: str, few: str, many: str) -> str:
    """Russian's three counting forms, written out here rather than read from our catalogue, so
    that a wrong Plural-Forms line there shows."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def counted(petition: Petition) -> str:
    count = Petition.objects.get(pk=petition.pk).signature_count
    return f"{count} {russian_plural(count, 'подпись', 'подписи', 'подписей')}"


def assert_all_russian(page) -> None:
    html = page.content()
    assert '<html lang="ru"' in html, page.url
    leftovers = english_leftovers(html)
    where = {text: html[max(0, html.find(text) - 120) : html.find(text) + 60] for text in leftovers}
    assert leftovers == [], (page.url, where)


@pytest.mark.django_db(transaction=True)
def test_ksenia_signs_in_russian_and_vera_validates_in_russian(monkeypatch, live_server):
    from playwright.sync_api import expect

    registry = registry_ensure(slug="deputies", name="Муниципальные депутаты", territory_set="ru-cities")
    rows = [
        (name, "Муниципальный депутат", f"Округ {n}", city, "", "", f"{city}-{n}")
        for n, (name, city) in enumerate(DEPUTIES, start=1)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    petition = make_petition(
        action="Опубликовать городской бюджет построчно",
        background="Депутаты просят открыть все статьи бюджета.",
        language="ru",
        creator=signer(name="Дарья Морозова", display=Display.NAMED),
    )
    petition_verification_set(petition=petition, policy=SigningPolicy.REGISTRY_ONLY, registries=[registry])
    make_validator("vera", registry)

    with chromium_page(monkeypatch, locale="ru-RU") as page:
        # The bare address sends her to the Russian pages: her browser's Accept-Language decides.
        page.goto(f"{live_server.url}/")
        expect(page).to_have_url(f"{live_server.url}/ru/")
        assert_all_russian(page)

        page.goto(f"{live_server.url}/petitions/{petition.pk}/sign/")
        expect(page).to_have_url(f"{live_server.url}/ru/petitions/{petition.pk}/sign/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Подписать петицию")
        assert_all_russian(page)
        # Her name typed without ё and in lower case finds her entry as she types.
        page.get_by_label("Найдите себя в реестре").fill("семенова")
        entry = page.get_by_role("radio", name="Ксения Семёнова")
        expect(entry).to_be_visible()
        expect(page.locator("fieldset.claim")).to_contain_text("Самара")  # the city by its name
        entry.check()
        page.get_by_label("Примечание для проверяющего (необязательно)").fill("Мой кабинет — 12")
        page.get_by_label("Полное имя").fill("Ксения Семёнова")
        page.get_by_label("Адрес электронной почты").fill("ksenia@example.org")
        page.get_by_label("Где вы живёте?").select_option(index=1)
        page.get_by_label("Показывать моё имя и регион").check()
        page.get_by_role("button", name="Продолжить").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Проверьте почту")
        assert_all_russian(page)

        # The mail is Russian, and its link leads to the Russian page.
        link = last_mailed(CONFIRM_LINK, "ksenia@example.org").group(0)
        message = next(m for m in reversed(mail.outbox) if "ksenia@example.org" in m.to)
        assert message.subject == "Подтвердите вашу подпись"
        assert "Опубликовать городской бюджет" not in message.subject  # no petition title
        assert "/ru/signatures/confirm/" in link
        assert english_leftovers(re.sub(r"https?://\S+", "", message.body)) == []  # its words, not its links
        page.goto(live_server.url + urlsplit(link).path)  # the mail names the site's own address
        assert_all_russian(page)
        page.locator("#confirm-button").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Ваша подпись добавлена")
        assert_all_russian(page)
        claim = Claim.objects.get()
        assert claim.status == ClaimStatus.PENDING  # a personal address proves nothing

        # Vera, the validator: the login, her queue, the claim and her decision, all Russian.
        page.goto(f"{live_server.url}/accounts/login/?next=/ru/verification/")
        expect(page).to_have_url(re.compile(r"/ru/accounts/login/"))
        assert_all_russian(page)
        page.locator("input[name=username]").fill("vera")
        page.locator("input[name=password]").fill("a long validator password")
        page.locator("form button[type=submit], form input[type=submit]").last.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Заявки на проверку")
        assert_all_russian(page)
        page.get_by_role("link", name=f"#{claim.pk}").click()
        expect(page.locator("dl.summary")).to_contain_text("Мой кабинет — 12")
        assert_all_russian(page)
        page.get_by_label("Решение").select_option("validate")
        page.get_by_role("button", name="Записать моё решение").click()
        expect(page.locator("p.notice").first).to_contain_text(f"Заявка {claim.pk} подтверждена.")
        assert_all_russian(page)

        # The count says "2 подписи" (the "few" form), and later "8 подписей" (the "many" form).
        log_integrate_all()
        page.goto(f"{live_server.url}/ru/petitions/{petition.pk}/")
        expect(page.locator("body")).to_contain_text(counted(petition))

        # Her colleagues sign, counted only; the next snapshot publishes the verified signers.
        for member in registry.members.exclude(name="Ксения Семёнова"):
            claim_and_confirm(petition, member)
        log_integrate_all()
        assert take_breakdown_snapshot(petition) is not None
        page.reload()  # the page may be cached for a while, as public pages are
        expect(page.locator("body")).to_contain_text(counted(petition))
        expect(page.locator("ul.verified-signers li", has_text="Ксения Семёнова")).to_contain_text("Самара")
        assert_all_russian(page)
