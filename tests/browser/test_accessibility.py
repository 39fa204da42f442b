"""Every page of the journeys passes axe-core at WCAG 2.2 AA and fits a phone, in English and
Russian, at a desktop's and a phone's width.

One browser and one live server visit every page: the pages anyone opens (``PUBLIC_PAGES``), the
staff's (``STAFF_PAGES``) and the states only a form reaches (an error summary, the thank-you
and confirmed pages, each creation step), the last as ``Visit``s with what the visitor does
first. A new page is one more line in these lists. Every failure is kept and all of them are
reported together, each axe violation with its rule, its help and the elements it found.

axe-core comes from js/package-lock.json (``scripts/ensure-axe.sh``, which ``make test`` runs).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.test_signing_in_browser import chromium_page
from tests.factories import (
    force_login_verified,
    last_confirm_link,
    make_petition,
    sign_and_confirm,
    signer,
    take_breakdown_snapshot,
)
from tests.journeys.conftest import integrator, poll  # noqa: F401  (the integrator fixture)
from tests.moderation.conftest import make_held
from tests.verification.conftest import claim_and_confirm, make_registry, official_email, restricted_petition
from undersign.petitions.models import PetitionState
from undersign.signatures.data_links import signer_data_link_issue
from undersign.signatures.models import Display
from undersign.signatures.services import signature_create
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, RegistryValidator, SigningPolicy

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

JS = Path(__file__).resolve().parents[2] / "js"
AXE = JS / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA: every level-A and level-AA rule of WCAG 2.0, 2.1 and 2.2 (2.2 added AA rules only).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "ru")

# Pages anyone may open: paths under the language prefix, formatted with the ids the test's
# data gives (``ids`` in the test: {open}, {registry}, {sponsor}, {data}, …). Add new pages here.
PUBLIC_PAGES = [
    "",
    "petitions/?state=open",
    "petitions/?q=tree",
    "petitions/?q=nothing+like+it",
    "petitions/{open}/",
    "petitions/{open}/signers/",
    "petitions/{registry}/",
    "petitions/{registry}/signers/",
    "petitions/{open}/statistics/",
    "petitions/{registry}/statistics/",
    "petitions/{open}/embed/",
    "log/",
    "petitions/{open}/sign/",
    "petitions/{registry}/sign/",
    "petitions/{open}/sign/resend/",
    "petitions/new/",
    "sponsor/{sponsor}/",
    "api/",
    "log/receipt",
    "log/verify",
    "signatures/withdraw/",
    "signatures/my-data/{data}/",
    "signatures/my-data/nope/",
    "signatures/unsubscribe/nope/",
    "signatures/withdraw/nope/nope/",
    "accounts/login/",
    "petitions/999999/",  # the 404 page
]
# Pages of a moderator who validates the registry's claims too.
STAFF_PAGES = [
    "moderation/",
    "moderation/petitions/{queued}/",
    "moderation/petitions/{open}/",
    "moderation/search/?q=bridge",
    "moderation/held/",
    "moderation/petitions/{open}/held/",
    "moderation/petitions/{open}/trending/",
    "moderation/bulk/",
    "moderation/retention/",
    "moderation/signers/",
    "moderation/abuse/lists/",
    "verification/",
    "verification/claims/{claim}/",
]

_emails = itertools.count(1)


def fresh_email() -> str:
    return f"visitor{next(_emails)}@example.org"


def submit(page: Page, selector: str = "main form[method=post] button[type=submit]") -> None:
    page.locator(selector).last.click()
    page.wait_for_load_state()


def fill_signer(page: Page) -> None:
    page.locator("[name=name]").fill("Robin Reader")
    page.locator("[name=email]").fill(fresh_email())
    page.locator("select[name=region]").select_option("E12000007")


@dataclass(frozen=True)
class Visit:
    """A page reached by opening ``path`` (a callable makes it afresh, e.g. with a new token),
    then doing ``then`` (filling and sending a form): the page checked is the one it ends on."""

    path: str | Callable[[], str]
    then: Callable[[Page], None] | None = None
    label: str = ""

    def open(self, page: Page, base: str) -> str:
        path = self.path() if callable(self.path) else self.path
        page.goto(f"{base}{path}")
        if self.then is not None:
            self.then(page)
        return self.label or path


def form_visits(ids: dict[str, object], tick: Callable[[], None]) -> list[Visit]:
    """The pages only a form reaches, in the order a visitor meets them (the creation steps
    keep their draft in the browser's session)."""

    def sign_filled(page: Page) -> None:
        fill_signer(page)
        page.locator("input[name=display][value=named]").check()
        submit(page)

    def new_confirm_link() -> str:
        person = signer(email=fresh_email())
        signature_create(petition=ids["open_petition"], details=person)
        return f"signatures/confirm/{last_confirm_link(person.email)[1]}/"

    receipt: list[str] = []

    def confirm_and_wait_for_the_receipt(page: Page) -> None:
        submit(page, "#confirm-button")
        receipt.append(poll(lambda: page.locator("#receipt-text").input_value(), within=15, tick=tick))

    def check_receipt(page: Page) -> None:
        # The receipt the browser made on the confirmed page just before: the check lists its steps.
        page.locator("#receipt").fill(receipt[-1])
        submit(page)

    def create_text(page: Page) -> None:
        page.locator("[name=action]").fill("Light the towpath between the two bridges")
        page.locator("[name=background]").fill("The towpath is dark from four o'clock in winter.")
        page.locator(f"[name=policy][value={SigningPolicy.ANYONE}]").check()
        submit(page)

    def as_a_signer(page: Page) -> None:
        fill_signer(page)
        submit(page)

    return [
        Visit(f"petitions/{ids['open']}/sign/", submit, "the sign form with its errors"),
        Visit(f"petitions/{ids['open']}/sign/", sign_filled, "check your e-mail"),
        Visit(new_confirm_link, label="the confirm page"),
        Visit(new_confirm_link, confirm_and_wait_for_the_receipt, "confirmed, with the receipt"),
        Visit("log/receipt", lambda page: _fill_and_submit(page, {"petition": "not one", "r": "00"}), "receipt error"),
        Visit("log/verify", lambda page: _fill_and_submit(page, {"receipt": "not a receipt"}), "verify error"),
        Visit("log/verify", check_receipt, "a receipt checked"),
        Visit(f"petitions/{ids['registry']}/sign/", _registry_search, "the registry search's results"),
        Visit("petitions/new/", submit, "create: the errors"),
        Visit("petitions/new/", create_text, "create: the next step"),
        Visit("petitions/new/creator/", label="create: the creator"),
        Visit("petitions/new/creator/", as_a_signer, "create: the check"),
        Visit("petitions/new/check/", submit, "create: thank you"),
        Visit(f"sponsor/{ids['sponsor']}/", as_a_signer, "sponsor: thank you"),
    ]


def _fill_and_submit(page: Page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        page.locator(f"[name={name}]").fill(value)
    submit(page)


def _registry_search(page: Page) -> None:
    page.locator("[name=member_query]").fill("Number4")
    page.locator("button[name=search]").click()
    page.wait_for_load_state()


def staff_form_visits(ids: dict[str, object]) -> list[Visit]:
    def search_signers(page: Page) -> None:
        form = page.locator("form[action$='/moderation/signers/']")
        form.locator("select[name=kind]").select_option("name")
        form.locator("[name=term]").fill("Signer")
        form.locator("[name=petition]").fill(str(ids["open"]))
        form.locator("[name=reason]").fill("Checking a complaint")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()

    def bulk_preview(page: Page) -> None:
        page.locator("[name=petition]").fill(str(ids["open"]))
        page.locator("[name=domain]").fill("flood.example")
        submit(page)

    def decide_without_reason(page: Page) -> None:
        page.locator("select[name=decision]").select_option("reject")
        submit(page)

    return [
        Visit("moderation/signers/", search_signers, "signer search results"),
        Visit("moderation/bulk/", bulk_preview, "bulk preview"),
        Visit(f"verification/claims/{ids['claim']}/", decide_without_reason, "a claim decision's error"),
    ]


def axe_source() -> str:
    if not AXE.is_file():
        reason = f"{AXE} is missing: run `bash scripts/ensure-axe.sh` (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    locked = json.loads((JS / "package-lock.json").read_text())["packages"]["node_modules/axe-core"]["version"]
    installed = json.loads((AXE.parent / "package.json").read_text())["version"]
    assert installed == locked, f"axe-core {installed} installed, {locked} locked: run `bash scripts/ensure-axe.sh`"
    return AXE.read_text(encoding="utf-8")


# Each violation as axe reports it, in a form that reads well in a failure message. Besides the
# WCAG rules, landmark-unique (axe's "best practice"): two search landmarks of the same name
# (the header's and the list page's) leave a screen reader user guessing which is which.
AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, rules: {"landmark-unique": {enabled: true}}});
  return results.violations.map(v => `${v.id} (${v.impact}): ${v.help}\\n` +
    v.nodes.map(n => `      ${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`).join("\\n"));
}"""
# The page is wider than the window when some element reaches past its right edge: name them.
OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= width + 1)
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className ? "." + e.className : ""}` +
      ` reaches ${Math.round(e.getBoundingClientRect().right)}px`);
}"""


def problems(page: Page, axe: str) -> list[str]:
    # page.evaluate, not add_script_tag: Playwright injects a file as an inline <script>, which
    # our CSP (script-src 'self') blocks. DevTools evaluation is not subject to the page's CSP,
    # so the page is checked with its real policy in force (a context with bypass_csp would
    # also let through whatever the CSP blocks for real visitors).
    page.evaluate(axe)
    found = page.evaluate(AXE_RUN, AXE_TAGS)
    overflow = page.evaluate(OVERFLOW)
    if overflow:
        width = page.evaluate("document.documentElement.scrollWidth")
        found.append(f"wider than the window ({width}px): " + "; ".join(overflow))
    return found


@pytest.fixture
def journeys(settings):
    """The data behind every page: an open petition with named signers and a snapshot, a
    registry-only petition with verified signers and a pending claim, a petition awaiting
    moderation, held signatures, a sponsor link and a signer's data link."""
    settings.K_ANONYMITY = 2
    settings.SPONSORS_REQUIRED = 2
    petition = make_petition(action="Plant a tree on every street")
    for name in ("Boris Smith", "Vera Sokolova"):
        sign_and_confirm(petition, signer(name=name, display=Display.NAMED))
    for _ in range(3):
        sign_and_confirm(petition, signer(display=Display.COUNTED))
    data_signature = sign_and_confirm(petition, signer(email="data@example.org"))

    registry = make_registry("spb", members=6)
    restricted = restricted_petition(registry, quorum_verified=3, quorum_territories=1)
    members = list(registry.members.order_by("external_id"))
    for member, display in zip(members[:4], [Display.NAMED] * 3 + [Display.COUNTED], strict=True):
        claim_and_confirm(restricted, member, email=official_email(member), display=display)
    claim_and_confirm(restricted, members[4], display=Display.COUNTED, note="Room 12 of the council")
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    assert take_breakdown_snapshot(restricted) is not None

    queued = make_petition(action="Mend the footbridge", state=PetitionState.SPONSORED)
    for n in range(3):
        make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}")

    # A sponsor link, as the creator of a new petition is given it.
    client = Client()
    text = {
        "action": "Open the school yard at weekends",
        "background": "The yard stands empty every weekend while children play in the street.",
        "policy": SigningPolicy.ANYONE,  # asked once a registry exists
    }
    client.post("/en/petitions/new/", text)
    client.post(
        "/en/petitions/new/creator/",
        {"name": "Karl Creator", "email": "karl@example.org", "region": "E12000008", "display": "named"},
    )
    client.post("/en/petitions/new/check/")
    _, token = last_confirm_link("karl@example.org")
    confirmed = client.post(f"/en/signatures/confirm/{token}/", follow=True).content.decode()
    sponsor = confirmed.split("/sponsor/")[1].split("/")[0]

    claim = Claim.objects.get(petition=restricted, status=ClaimStatus.PENDING)
    return {
        "open": petition.pk,
        "open_petition": petition,
        "registry": restricted.pk,
        "queued": queued.pk,
        "claim": claim.pk,
        "sponsor": sponsor,
        "data": signer_data_link_issue(signature_id=data_signature.pk),
        "registry_object": registry,
    }


@pytest.fixture
def staff_cookie(moderator, journeys, live_server):
    RegistryValidator.objects.create(registry=journeys["registry_object"], user=moderator)
    client = Client()
    force_login_verified(client, moderator)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": live_server.url}


@pytest.fixture
def browser_contexts(monkeypatch) -> Iterator[Callable[[dict], BrowserContext]]:
    """New contexts (a viewport each) of one Chromium."""
    with chromium_page(monkeypatch) as page:
        browser = page.context.browser
        assert browser is not None
        yield lambda viewport: browser.new_context(viewport=viewport)


@pytest.mark.django_db(transaction=True)
def test_every_page_passes_axe_and_fits_a_phone(journeys, staff_cookie, browser_contexts, live_server, integrator):  # noqa: F811
    axe = axe_source()
    failures: list[str] = []
    checked = 0

    def check(page: Page, visit: Visit, base: str, where: str) -> None:
        nonlocal checked
        try:
            label = visit.open(page, base)
            found = problems(page, axe)
        except Exception as error:  # one page's breakage must not hide the others'
            failures.append(f"{where} {visit.label or visit.path}: {type(error).__name__}: {error}")
            return
        checked += 1
        if found:
            failures.append(f"{where} {label}:\n    " + "\n    ".join(found))

    public = [Visit(path.format(**journeys)) for path in PUBLIC_PAGES] + form_visits(journeys, integrator)
    staff = [Visit(path.format(**journeys)) for path in STAFF_PAGES] + staff_form_visits(journeys)
    for width, viewport in WIDTHS.items():
        visitor = browser_contexts(viewport)
        staff_member = browser_contexts(viewport)
        staff_member.add_cookies([staff_cookie])
        for language in LANGUAGES:
            base = f"{live_server.url}/{language}/"
            for visits, context in ((public, visitor), (staff, staff_member)):
                page = context.new_page()
                page.set_default_timeout(15_000)
                for visit in visits:
                    check(page, visit, base, f"[{language} {width}]")
                page.close()
        visitor.close()
        staff_member.close()

    assert not failures, f"{len(failures)} of the pages fail:\n" + "\n".join(failures)
    assert checked == 2 * len(LANGUAGES) * (len(public) + len(staff))
