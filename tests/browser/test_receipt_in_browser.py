"""Suzie confirms in her browser, which makes r with Web Crypto, sends only the commitment and
builds her receipt itself once the log has her signature; the receipt then checks out."""

from __future__ import annotations

import pytest

from tests.browser.test_signing_in_browser import page  # noqa: F401 - the Chromium fixture
from tests.factories import last_confirm_link, make_petition, signer
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_create
from undersign.transparency.selectors import receipt_check
from undersign_verify.receipt import parse_receipt

pytestmark = pytest.mark.browser


from tests.journeys.conftest import integrator, poll  # noqa: E402,F401


@pytest.mark.django_db(transaction=True)
def test_suzie_saves_a_receipt_made_in_her_browser(page, live_server, integrator):  # noqa: F811
    from playwright.sync_api import expect

    petition = make_petition(action="Keep the lido open in September")
    person = signer(name="Suzie Sharpe", email="suzie.receipt@example.org")
    signature_create(petition=petition, details=person)
    signature_id, token = last_confirm_link(person.email)
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.post_data or "") if request.method == "POST" else None)

    page.goto(f"{live_server.url}/signatures/confirm/{token}/")
    page.locator("#confirm-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature has been added")

    # The receipt appears once the integrator has appended her signature, with the warning.
    download_link = page.locator("#receipt-download")
    poll(lambda: page.locator("#receipt-text").input_value(), within=10, tick=integrator)
    expect(download_link).to_be_visible()
    expect(page.locator("#receipt")).to_contain_text("anyone who finds it on your device can prove that you signed")
    with page.expect_download() as download:
        download_link.click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text == page.locator("#receipt-text").input_value()

    receipt = parse_receipt(text)
    stored = Signature.objects.get(pk=signature_id)
    assert bytes(stored.commitment) == receipt.commitment  # the browser's C was stored...
    assert not any(receipt.r.hex() in body for body in posted)  # ...and its r never sent
    assert [p for p in posted if receipt.commitment.hex() in p]
    assert page.evaluate("Object.keys(sessionStorage).length") == 0  # r left the tab's storage

    # The receipt checks out against today's log, counted.
    check = receipt_check(text=text)
    assert check.error is None and check.revoked is False

    # And the site's own page says so, from the uploaded file.
    page.goto(f"{live_server.url}/log/verify")
    page.locator("#receipt-file").set_input_files(download.value.path())
    page.get_by_role("button", name="Check the receipt").click()
    expect(page.locator("#receipt-status")).to_contain_text("Counted")
