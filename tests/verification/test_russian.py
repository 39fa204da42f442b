"""Verification in Russian: the sign form's claim, the public figures (with Russian plural
forms), the group's leave page, the validators' pages, their messages and refusals, and the
registry import in the admin. English stays as it was (the rest of the suite asserts on it)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.utils import translation

from tests.verification.conftest import claim_and_confirm, make_validator, restricted_petition
from tests.verification.test_views import leave_link, signing
from undersign import verification
from undersign.verification.forms import claim_rejection_title
from undersign.verification.reasons import BUNDLED_TITLES

pytestmark = pytest.mark.django_db


def test_the_bundled_reasons_titles_are_all_in_the_catalogue():
    bundled = Path(verification.__file__).parent / "data" / "claim_rejection_reasons.json"
    titles = tuple(reason["title"] for reason in json.loads(bundled.read_text(encoding="utf-8"))["reasons"])
    assert titles == BUNDLED_TITLES
    with translation.override("ru"):
        assert claim_rejection_title("not-the-member") == "Подписант не является этим членом реестра"
        assert claim_rejection_title("unknown-code") == "unknown-code"


def figures(n: int, *, registries: int = 1) -> SimpleNamespace:
    """What ``verification_summary`` gives a published registry-only petition, every count ``n``."""
    return SimpleNamespace(
        published=True,
        registry_only=True,
        signature_count=n,
        signature_count_at_figures=n,
        verified=n,
        pending=n,
        unclaimed=n,
        rejected=n,
        figures_as_of=None,
        policy_label="Only members of the chosen registries",
        registries=[SimpleNamespace(name=f"Registry {i}") for i in range(registries)],
        quorum=SimpleNamespace(verified_required=30, territories_required=3, verified=n, territories=n, met=False),
        group=None,
        territories=[SimpleNamespace(name="Якутия", named=n, others=n, pending=None)],
        signers=[],
    )


def summary(n: int, **kwargs) -> str:
    context = {"verification": figures(n, **kwargs), "K_ANONYMITY": 5}
    return " ".join(render_to_string("verification/_petition_summary.html", context).split())


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, ["1 подпись:", "1 подтверждённый", "1 ожидает проверки", "из 1 территории:", "1 названный + 1 другой"]),
        (2, ["2 подписи:", "2 подтверждённых", "2 ожидают проверки", "из 2 территорий:", "2 названных + 2 других"]),
        (5, ["5 подписей:", "5 подтверждённых", "5 ожидают проверки", "из 5 территорий:", "5 названных + 5 других"]),
        (21, ["21 подпись:", "21 подтверждённый", "21 ожидает проверки", "из 21 территории:", "21 названный + 21"]),
    ],
)
def test_the_public_figures_read_in_russian_with_plural_forms(n, expected):
    with translation.override("ru"):
        page = summary(n)
    for text in expected:
        assert text in page
    assert "Подтверждённые подписанты" in page and "Кворум: подтверждённых подписантов — не менее 30" in page
    for english in ("Verified signatories", "awaiting validation", "Quorum", "Territory", "signature"):
        assert english not in page


def test_the_public_figures_stay_english_by_default():
    page = summary(1, registries=2)
    assert "1 signature: <strong>1 verified</strong> · 1 awaiting validation · 1 unclaimed · 1 rejected" in page
    assert "Registries: Registry 0, Registry 1." in page
    assert "1 verified from 1 territory:" in page and "1 named + 1 other" in page


def test_the_sign_form_of_a_registry_petition_in_russian(client, registry):
    petition = restricted_petition(registry)
    with translation.override("ru"):
        page = client.get(f"/ru/petitions/{petition.pk}/sign/").content.decode()
        refused = client.post(f"/ru/petitions/{petition.pk}/sign/", signing()).content.decode()
        searched = client.post(f"/ru/petitions/{petition.pk}/sign/", {"member_query": "nobody", "search": "1"})
    assert "Найдите себя в реестре" in page and "Примечание для проверяющего (необязательно)" in page
    assert "Эту петицию подписывают члены реестра «Municipal deputies — spb»" in page
    assert 'data-no-match="По этому запросу записей не найдено."' in page
    for english in ("Find yourself in the registry", "A note for the validator", "Search for your name"):
        assert english not in page
    assert "Эту петицию подписывают только лица, внесённые в реестр." in refused
    assert "По этому запросу записей не найдено." in searched.content.decode()


def test_leaving_the_group_in_russian(client, registry):
    member = claim_and_confirm(restricted_petition(registry), registry.members.first(), display="group")
    with translation.override("ru"):
        page = client.get(leave_link(member)).content.decode()
        left = client.post(leave_link(member)).content.decode()
    assert "Выйти из группы?" in page and "Leave the group" not in page
    assert "Вы не в группе" in left and "You are not in the group" not in left


def test_the_validators_pages_messages_and_refusals_in_russian(client, registry):
    claim = claim_and_confirm(restricted_petition(registry), registry.members.first()).claim
    client.force_login(make_validator("vera", registry))
    with translation.override("ru"):
        queue = client.get("/ru/verification/").content.decode()
        page = client.get(f"/ru/verification/claims/{claim.pk}/").content.decode()
        unreasoned = client.post(f"/ru/verification/claims/{claim.pk}/decide/", {"decision": "reject"})
        decided = client.post(f"/ru/verification/claims/{claim.pk}/decide/", {"decision": "validate"}, follow=True)
        again = client.post(f"/ru/verification/claims/{claim.pk}/decide/", {"decision": "validate"})
        reversed_ = client.post(f"/ru/verification/claims/{claim.pk}/reverse/", {"note": "ошибка"}, follow=True)
        decided_page = client.get(f"/ru/verification/claims/{claim.pk}/").content.decode()
    assert "Заявки на проверку" in queue and "Голоса" in queue and "0 из 1" in queue
    assert "Claims to validate" not in queue and "Votes" not in queue
    assert f"Заявка {claim.pk} по петиции {claim.petition_id}" in page and "Записать моё решение" in page
    assert "Ожидает проверки" in page and "Подписант не является этим членом реестра" in page
    for english in ("Record my decision", "Audit trail", "Name the signer gave", "Awaiting validation"):
        assert english not in page
    assert unreasoned.status_code == 400 and "Выберите причину отклонения заявки." in unreasoned.content.decode()
    assert f"Заявка {claim.pk} подтверждена." in decided.content.decode()
    assert again.status_code == 409 and "Эта заявка уже подтверждена." in again.content.decode()
    assert f"Решение по заявке {claim.pk} отменено; она снова ожидает проверки." in reversed_.content.decode()
    assert "Отменить решение" in decided_page and "Журнал решений" in decided_page


def test_the_registry_import_in_the_admin_in_russian(client, registry):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin password"))
    upload = SimpleUploadedFile("members.csv", b"name,office\nAnna,Deputy\n", content_type="text/csv")
    with translation.override("ru"):
        page = client.post(f"/ru/admin/verification/registry/{registry.pk}/import/", {"file": upload})
    text = page.content.decode()
    assert page.status_code == 400
    assert "Импорт членов реестра «Municipal deputies — spb»" in text and "Файл не импортирован:" in text
    assert "строка 1: нет столбцов: district, territory_code, external_id" in text
