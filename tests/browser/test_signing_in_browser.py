"""Suzie signs a petition in her browser: the main journey, over real HTTP, in Debian's
Chromium driven by Playwright (a browser Playwright downloads itself cannot be fetched here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections

from tests.factories import last_confirm_link, make_petition, signer, take_breakdown_snapshot
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@contextmanager
def chromium_page(monkeypatch: pytest.MonkeyPatch, **context_options: object) -> Iterator[Page]:
    """A page in a fresh Chromium context (``context_options``: Playwright's, e.g. a locale)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (scripts/ensure-chromium.sh does)")
    # Playwright's sync API keeps an event loop in this thread; Django would otherwise refuse
    # the test's own database calls as "async unsafe".
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**context_options)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's connections in
            # context-local storage that its teardown cannot see: close them here, or the
            # open session stops PostgreSQL from dropping the test database.
            connections.close_all()


@pytest.fixture
def page(monkeypatch):
    with chromium_page(monkeypatch) as page:
        yield page


@pytest.mark.django_db(transaction=True)
def test_suzie_signs_a_petition_in_her_browser(page, live_server):
    from playwright.sync_api import expect

    petition = make_petition(
        action="Open the Riverside library on Sundays",
        creator=signer(name="Charlie Creator", email="charlie@example.org", display=Display.NAMED),
    )
    log_integrate_all()  # the creator's signature
    petition_url = f"{live_server.url}/petitions/{petition.pk}/"

    # Suzie finds the petition and decides to sign it.
    page.goto(petition_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Open the Riverside library on Sundays")
    expect(page.locator(".big-count")).to_have_text("1")
    page.get_by_role("link", name="Sign this petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign this petition")

    # She presses Continue too early and is told what is missing.
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()  # a screen reader reads it out first
    expect(summary).to_contain_text("Full name: Enter your name.")
    expect(summary).to_contain_text("Where do you live?: Choose where you live.")
    # Each error links to its field, which takes the focus.
    summary.get_by_role("link", name="E-mail address: Enter your e-mail address.").click()
    expect(page.get_by_label("E-mail address")).to_be_focused()

    # She fills in the form and chooses to be named.
    page.get_by_label("Full name").fill("Suzie Sharpe")
    # A slip of the finger is caught as she leaves the field, and set right with one press.
    email = page.get_by_label("E-mail address")
    email.fill("suzie.sharpe@gmial.com")
    email.blur()
    page.locator(".address-hint").get_by_role("button", name="suzie.sharpe@gmail.com").click()
    expect(email).to_have_value("suzie.sharpe@gmail.com")
    email.fill("suzie.sharpe@example.org")
    page.get_by_label("Where do you live?").select_option("E12000007")
    page.get_by_label("Show my name and region").check()
    page.get_by_label("E-mail me updates about this petition").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    # She opens the link from her e-mail; the page shows what she is confirming, which she (the
    # mailbox's owner, whoever typed the address) may still set right.
    signature_id, token = last_confirm_link("suzie.sharpe@example.org")
    page.goto(f"{live_server.url}/signatures/confirm/{token}/")
    expect(page.get_by_label("Full name")).to_have_value("Suzie Sharpe")
    expect(page.get_by_label("Show my name and region")).to_be_checked()
    page.locator("#confirm-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature has been added")

    # Once the batch has counted her and the next breakdown snapshot (the periodic job's) has
    # listed her, the petition shows her, marked as an unverified name.
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    page.get_by_role("link", name="See the petition").click()
    page.reload()  # the petition page is publicly cacheable: revalidate, as a reader would
    expect(page.locator(".big-count")).to_have_text("2")
    expect(page.locator("ul.signers li", has_text="Suzie Sharpe")).to_contain_text("unverified name")

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "signing.png"
    screenshot.unlink(missing_ok=True)  # a file left by an earlier run proves nothing
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.is_file()
    assert screenshot.stat().st_size > 0
