"""Every page of the journeys, rendered in Russian, shows no English interface text.

The apps' ``test_russian`` files check chosen sentences; this file walks the pages a visitor, a
signer, a creator, a sponsor, a moderator and a validator see, under ``/ru/``, and asks the
scanner (tests/i18n_scan.py) for any msgid of the catalogues still in English. The data is
Russian (petition texts, names, the registry and its members), so whatever English the scanner
finds comes from the interface; the scanner looks for catalogue strings only, so data such as
the site's name or an e-mail address cannot trip it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import (
    force_login_verified,
    last_confirm_link,
    make_petition,
    sign_and_confirm,
    signer,
    take_breakdown_snapshot,
)
from tests.i18n_scan import english_leftovers
from tests.moderation.conftest import make_held
from tests.verification.conftest import claim_and_confirm, make_validator, official_email, registry_csv
from undersign.moderation.services import petition_take_down
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import petition_response_record
from undersign.signatures.data_links import signer_data_link_issue
from undersign.signatures.links import claim_news_args, petition_link_check, unsubscribe_token
from undersign.signatures.models import Display, Signature, SignatureKind
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, DecisionKind, Registry, SigningPolicy
from undersign.verification.services import claim_decide, petition_verification_set, registry_import

pytestmark = pytest.mark.django_db

BACKGROUND = "Деревья охлаждают улицы и очищают воздух."


def russian_petition(action: str = "Посадить дерево на каждой улице", **kwargs):
    creator = signer(name="Анна Петрова", display=Display.NAMED)
    return make_petition(action=action, background=BACKGROUND, language="ru", creator=creator, **kwargs)


def russian_registry() -> Registry:
    """Deputies with Russian names, in cities the bundled territory set names in Russian; their
    addresses and ids as ``make_registry`` makes them, so ``official_email`` finds them."""
    registry = Registry.objects.create(
        name="Муниципальные депутаты", slug="spb", official_domain="council.example", territory_set="ru-cities"
    )
    surnames = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов"]
    rows = [
        (
            f"Депутат {surname}",
            "Муниципальный депутат",
            f"Округ {n}",
            "SAINT-PETERSBURG" if n % 2 else "MOSCOW",
            f"deputy{n}@spb.council.example",
            "spb.council.example",
            f"spb-{n}",
        )
        for n, surname in enumerate(surnames, start=1)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    return registry


class Tour:
    """One person's visit. Every page is scanned and what it shows in English is kept, then
    reported at the end all together: one page's failure does not hide another's."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()
        self.failures: list[str] = []

    def _scan(self, label: str, response, status: int) -> str:
        # The status first: an error page in good Russian is not the page under test.
        assert response.status_code == status, f"{label}: status {response.status_code}, expected {status}"
        page = response.content.decode()
        found = english_leftovers(page)
        if found:
            self.failures.append(f"{label}: {found}")
        return page

    def get(self, path: str, status: int = 200, **query) -> str:
        return self._scan(f"GET {path}", self.client.get(path, query), status)

    def post(self, path: str, data: dict | None = None, status: int = 200) -> str:
        # Followed: a form that redirects is read on the page it leads to.
        return self._scan(f"POST {path}", self.client.post(path, data or {}, follow=True), status)

    def assert_russian(self) -> None:
        assert not self.failures, "English interface text on Russian pages:\n" + "\n".join(self.failures)


@pytest.fixture
def open_petition(settings):
    # Small enough for these few signers to make a breakdown snapshot, which is what shows the
    # named signers and the table of regions.
    settings.K_ANONYMITY = 2
    petition = russian_petition()
    for name in ("Борис Смирнов", "Вера Соколова"):
        sign_and_confirm(petition, signer(name=name, display=Display.NAMED))
    for _ in range(3):
        sign_and_confirm(petition, signer(name="Без Имени", display=Display.COUNTED))
    log_integrate_all()  # what counts the signatures
    assert take_breakdown_snapshot(petition) is not None
    return petition


@pytest.fixture
def registry(db):
    return russian_registry()


@pytest.fixture
def registry_petition(registry, settings):
    """Open to the registry's members only, with a quorum: four verified signers (confirmed at
    their official address), one claim awaiting validation, and a snapshot that shows them."""
    settings.K_ANONYMITY = 2
    petition = russian_petition("Опубликовать бюджет города")
    petition_verification_set(
        petition=petition,
        policy=SigningPolicy.REGISTRY_ONLY,
        registries=[registry],
        quorum_verified=3,
        quorum_territories=2,
    )
    members = list(registry.members.order_by("external_id"))
    displays = [Display.NAMED, Display.NAMED, Display.NAMED, Display.COUNTED]  # a snapshot needs K counted-only
    for member, display in zip(members[:4], displays, strict=True):
        claim_and_confirm(petition, member, email=official_email(member), display=display)
    claim_and_confirm(petition, members[4], display=Display.COUNTED)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None  # the verified figures come with it
    return petition


def test_a_visitor_reads_the_public_pages_in_russian(open_petition, registry_petition):
    tour = Tour()
    tour.get("/ru/")
    tour.get("/ru/petitions/", state="open")
    tour.get("/ru/petitions/", q="дерево")
    tour.get("/ru/petitions/", q="ничего похожего")
    tour.get(f"/ru/petitions/{open_petition.pk}/")
    tour.get(f"/ru/petitions/{open_petition.pk}/signers/")
    tour.get(f"/ru/petitions/{open_petition.pk}/statistics/")
    tour.get(f"/ru/petitions/{open_petition.pk}/embed/")
    tour.get(f"/ru/petitions/{registry_petition.pk}/")
    tour.get(f"/ru/petitions/{registry_petition.pk}/statistics/")
    tour.get(f"/ru/petitions/{registry_petition.pk}/signers/")
    tour.get("/ru/petitions/999999/", status=404)
    tour.get("/ru/api/")
    tour.get("/ru/log/")
    tour.get("/ru/log/receipt")
    tour.post("/ru/log/receipt", {"petition": "не то", "r": "00"}, status=400)
    tour.get("/ru/log/verify")
    tour.post("/ru/log/verify", {"receipt": "не квитанция"}, status=400)
    tour.get("/ru/accounts/login/")
    tour.post("/ru/accounts/login/", {"username": "никто", "password": "неверный пароль"})
    tour.assert_russian()


def test_a_signer_reads_the_sign_confirm_and_data_pages_in_russian(open_petition):
    tour = Tour()
    sign = f"/ru/petitions/{open_petition.pk}/sign/"
    tour.get(sign)
    tour.post(sign, {"name": "", "email": "не адрес"}, status=400)
    details = {"name": "Ксения Семёнова", "email": "ksenia@example.org", "region": "E12000007", "display": "named"}
    tour.post(sign, {**details, "email": "ksenia@yandex.ri"}, status=400)  # the mistyped-address guard
    tour.post(sign, details)  # lands on the thank-you page
    tour.get(f"/ru/petitions/{open_petition.pk}/sign/thank-you/")
    tour.get(f"/ru/petitions/{open_petition.pk}/sign/resend/")
    tour.post(f"/ru/petitions/{open_petition.pk}/sign/resend/", {"email": "ksenia@example.org"})

    signature_id, token = last_confirm_link("ksenia@example.org")
    tour.get(f"/ru/signatures/confirm/{token}/")
    tour.post(f"/ru/signatures/confirm/{token}/")  # the button alone confirms what is stored
    tour.get("/ru/signatures/confirm/nope/", status=404)

    data_token = signer_data_link_issue(signature_id=signature_id)
    tour.get(f"/ru/signatures/my-data/{data_token}/")
    tour.post(f"/ru/signatures/my-data/{data_token}/")
    tour.get("/ru/signatures/my-data/nope/")

    # Unknown tokens: these pages answer alike whatever stands behind a link.
    for path in (
        "/ru/signatures/unsubscribe/nope/",
        "/ru/signatures/withdraw/nope/nope/",
        "/ru/signatures/data/nope/nope/",
    ):
        tour.get(path)
        tour.post(path)
    tour.get("/ru/signatures/withdraw/")
    tour.post("/ru/signatures/withdraw/", {"petition": "не то", "code": "00"}, status=400)
    tour.assert_russian()


def test_a_registry_member_reads_the_sign_form_and_its_search_in_russian(registry_petition):
    tour = Tour()
    sign = f"/ru/petitions/{registry_petition.pk}/sign/"
    tour.get(sign)
    page = tour.post(sign, {"member_query": "Васильев", "search": "1"})
    assert "Депутат Васильев" in page  # the search found the member: the results are on the page
    tour.post(sign, {"member_query": "Никто", "search": "1"})
    page = tour.post(sign, {"name": "Не депутат", "email": "nad@example.org", "region": "E12000007"}, status=400)
    assert 'href="#id_member">Ваша запись в реестре:' in page  # the error summary names the field
    tour.assert_russian()


def test_a_creator_and_a_sponsor_read_the_creation_pages_in_russian(settings):
    settings.SPONSORS_REQUIRED = 2
    creator = Tour()
    creator.get("/ru/petitions/new/")
    creator.post("/ru/petitions/new/", {"action": "", "background": ""})  # the form again, with its errors
    creator.post("/ru/petitions/new/", {"action": "Открыть школьный двор по выходным", "background": BACKGROUND})
    creator.get("/ru/petitions/new/similar/")
    creator.get("/ru/petitions/new/creator/")
    creator.post("/ru/petitions/new/creator/", {"name": "", "email": ""})
    creator.post(
        "/ru/petitions/new/creator/",
        {"name": "Карл Создатель", "email": "karl@example.org", "region": "E12000008", "display": "named"},
    )
    page = creator.get("/ru/petitions/new/check/")
    assert "Открыть школьный двор по выходным" in page  # the draft made it through the steps
    creator.post("/ru/petitions/new/check/")  # lands on the thank-you page

    _, token = last_confirm_link("karl@example.org")
    creator.get(f"/ru/signatures/confirm/{token}/")
    confirmed = creator.post(f"/ru/signatures/confirm/{token}/")
    sponsor_token = confirmed.split("/sponsor/")[1].split("/")[0]
    creator.assert_russian()

    sponsor = Tour()
    sponsor.get(f"/ru/sponsor/{sponsor_token}/")
    details = {"name": "Лаура Спонсорова", "email": "laura@example.org", "region": "E12000007", "display": "counted"}
    sponsor.post(f"/ru/sponsor/{sponsor_token}/", details)  # lands on the thank-you page
    sponsor.get(f"/ru/sponsor/{sponsor_token}/resend/")
    _, token = last_confirm_link("laura@example.org")
    sponsor.get(f"/ru/signatures/confirm/{token}/")
    sponsor.post(f"/ru/signatures/confirm/{token}/")
    sponsor.get("/ru/sponsor/nope/", status=404)
    sponsor.assert_russian()

    # Behind the creator's own link: collecting supporters, then being checked.
    petition = Petition.objects.get(sponsor_token=sponsor_token)
    creator_signature = Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR)
    link_token = unsubscribe_token(tag=bytes(creator_signature.dedup_tag))
    status_page = f"/ru/signatures/petition/{link_token}/{petition_link_check(token=link_token)}/"
    assert "/sponsor/" in creator.get(status_page)
    Petition.objects.filter(pk=petition.pk).update(state=PetitionState.SPONSORED)
    creator.get(status_page)
    creator.assert_russian()


def test_taken_down_duplicate_and_answered_petitions_read_in_russian(moderator, open_petition):
    taken_down = russian_petition("Закрыть парк на ночь")
    petition_take_down(petition=taken_down, actor=moderator, reason_code="duplicate", duplicate_of=open_petition.pk)
    answered = russian_petition("Починить фонтан", state=PetitionState.CLOSED)
    petition_response_record(petition=answered, actor=moderator, summary="Починим.", details="Весной.")
    tour = Tour()
    assert f"/ru/petitions/{open_petition.pk}/" in tour.get(f"/ru/petitions/{taken_down.pk}/")
    tour.get(f"/ru/petitions/{answered.pk}/")
    tour.assert_russian()


def test_a_claimant_reads_the_news_of_the_decision_in_russian(registry, registry_petition):
    claim = Claim.objects.select_related("signature").get(petition=registry_petition, status=ClaimStatus.PENDING)
    link = "/ru/signatures/claim/{}/{}/".format(*claim_news_args(tag=bytes(claim.signature.dedup_tag)))
    claim_decide(
        claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.REJECT, reason_code="no-evidence"
    )
    tour = Tour()
    tour.get(link)
    tour.assert_russian()


def test_a_moderator_reads_the_staff_pages_in_russian(moderator, open_petition):
    queued = russian_petition("Отремонтировать мост", state=PetitionState.SPONSORED)
    for n in range(3):
        make_held(open_petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}")
    client = Client()
    force_login_verified(client, moderator)
    tour = Tour(client)
    tour.get("/ru/moderation/")
    tour.get(f"/ru/moderation/petitions/{queued.pk}/")
    tour.get(f"/ru/moderation/petitions/{open_petition.pk}/")
    tour.get("/ru/moderation/search/", q="мост")
    tour.get("/ru/moderation/held/")
    tour.get(f"/ru/moderation/petitions/{open_petition.pk}/held/")
    tour.get(f"/ru/moderation/petitions/{open_petition.pk}/trending/")
    tour.get("/ru/moderation/bulk/")
    preview = {"petition": open_petition.pk, "domain": "flood.example", "kind": "invalidate", "step": "preview"}
    tour.post("/ru/moderation/bulk/", preview)
    tour.get("/ru/moderation/retention/")
    tour.get("/ru/moderation/signers/")
    search = {"kind": "name", "term": "Борис", "petition": open_petition.pk, "reason": "Проверка жалобы"}
    tour.post("/ru/moderation/signers/", search)
    tour.get("/ru/moderation/abuse/lists/")
    tour.assert_russian()


def test_a_validator_reads_the_queue_and_the_claims_in_russian(registry, registry_petition):
    claim = Claim.objects.get(petition=registry_petition, status=ClaimStatus.PENDING)
    client = Client()
    force_login_verified(client, make_validator("vera", registry))
    tour = Tour(client)
    tour.get("/ru/verification/")
    tour.get(f"/ru/verification/claims/{claim.pk}/")
    decision = {"decision": "reject", "reason": "", "note": ""}  # a rejection without its reason
    tour.post(f"/ru/verification/claims/{claim.pk}/decide/", decision, status=400)
    decision = {"decision": "validate", "reason": "", "note": "Проверено в совете"}
    tour.post(f"/ru/verification/claims/{claim.pk}/decide/", decision)  # lands on the queue, with its message
    page = tour.get(f"/ru/verification/claims/{claim.pk}/")
    assert f"/ru/verification/claims/{claim.pk}/reverse/" in page  # decided: its reverse form shows
    tour.assert_russian()


def test_the_scanner_finds_the_english_of_the_same_pages(open_petition):
    """The English pages are full of msgids: a scanner that found nothing there would let every
    Russian page above pass without looking."""
    client = Client()
    for page in ("", f"petitions/{open_petition.pk}/", f"petitions/{open_petition.pk}/sign/"):
        english = english_leftovers(client.get(f"/en/{page}").content.decode())
        assert "Search petitions" in english and len(english) > 5, (page, english)
        assert english_leftovers(client.get(f"/ru/{page}").content.decode()) == [], page
    sign_form = english_leftovers(client.get(f"/en/petitions/{open_petition.pk}/sign/").content.decode())
    assert "Sign this petition" in sign_form and "Full name" in sign_form


def test_the_scanner_reads_what_a_visitor_reads():
    page = """<!doctype html><html lang="ru"><head><title>Поиск</title><style>.x{}</style></head><body>
    <h1 lang="en">Sign this petition</h1><script>var s = "Search petitions";</script>
    <input type="search" placeholder="Search petitions"><input type="submit" value="Continue">
    <input type="hidden" name="q" value="Continue"><a href="/ru/" title="Open data">Данные</a>
    <fieldset data-no-match="No entry matches that search." data-count-url="/petitions/1/count.json"></fieldset>
    <p>Research · подписи · Not allowed</p></body></html>"""
    # Another language's element, scripts, hidden fields' values and addresses are not read;
    # "Search" is not in "Research"; the rest is English the scanner must name.
    assert english_leftovers(page) == [
        "Search petitions",
        "Continue",
        "Open data",
        "No entry matches that search.",
        "Not allowed",
    ]
