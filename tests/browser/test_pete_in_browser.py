"""Pete sees a burst in his browser: held signatures from one network on a petition. He
reviews them by network, narrows to that network, previews a bulk invalidation, widens it to
the network's confirmed signatures too, and proposes it; Mia, a second moderator, approves it
in her browser. The count drops by exactly the revoked ones and the verifier agrees."""

from __future__ import annotations

import pytest

from tests.browser.test_signing_in_browser import page  # noqa: F401  (the browser fixture)
from tests.journeys.conftest import poll, run_verifier
from tests.journeys.test_pete_stops_a_burst import NETWORK, PASSWORD, burst, moderator_account
from undersign.moderation.models import BulkAction
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.browser


def log_in(browser_page, base: str, username: str, next_page: str) -> None:
    browser_page.goto(f"{base}/accounts/login/?next={next_page}")
    browser_page.locator("input[name=username]").fill(username)
    browser_page.locator("input[name=password]").fill(PASSWORD)
    browser_page.locator("form button[type=submit], form input[type=submit]").last.click()


@pytest.mark.django_db(transaction=True)
def test_pete_sees_a_burst_and_mia_approves_its_invalidation(page, live_server, settings, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    settings.BULK_ACTION_SECOND_MODERATOR_OVER = 5
    petition, held, slipped = burst()
    moderator_account("pete")
    moderator_account("mia")
    base = live_server.url

    # Pete opens the petition's moderation page: 8 held signatures.
    log_in(page, base, "pete", f"/en/moderation/petitions/{petition.pk}/")
    expect(page.locator("#held-count")).to_contain_text("8")
    page.get_by_role("link", name="review held signatures").click()
    expect(page.locator("#held-total")).to_have_text("8")
    networks = page.locator("#held-networks")
    expect(networks).to_contain_text(NETWORK)
    networks.get_by_role("button", name="Only this network").first.click()
    expect(page.locator("#held-total")).to_have_text("8")

    # He previews invalidating them: the count, nothing changed yet.
    action = page.locator("#held-action")
    action.get_by_label("Reason").fill("Burst from one network")
    action.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview-count")).to_have_text("8")
    # The two from that network that got through count too: he widens it and previews again.
    page.get_by_label("Held signatures only").uncheck()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-preview-count")).to_have_text("10")
    page.get_by_role("button", name="Propose").click()
    expect(page.locator("#bulk-state")).to_have_text("Awaiting a second moderator")
    expect(page.locator("#bulk-approve")).to_have_count(0)  # not his to approve
    assert BulkAction.objects.get().state == "proposed"

    # Mia, in her own browser session, approves it from the bulk actions page.
    page.context.clear_cookies()
    log_in(page, base, "mia", "/en/moderation/bulk/")
    action_id = BulkAction.objects.get().pk
    page.locator("#bulk-to-approve").get_by_role("link", name=f"#{action_id}").click()
    page.locator("#bulk-approve").click()
    expect(page.locator("#bulk-state")).to_have_text("Done")
    expect(page.locator("#bulk-changed")).to_have_text("10")

    # The count drops by the two that had counted, and the verifier agrees.
    def counted() -> int:
        log_integrate_all()
        page.goto(f"{base}/petitions/{petition.pk}/count.json")
        return int(page.evaluate("() => JSON.parse(document.body.innerText).signature_count"))

    poll(lambda: counted() == 4, within=10)
    result = run_verifier("--site", base, "--state", str(tmp_path / "state.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "count(s) match the count rule" in result.stdout
