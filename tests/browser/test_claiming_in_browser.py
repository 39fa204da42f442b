"""Anna, a deputy, signs a registry-only petition in her browser: she finds her entry by typing
her name (the search runs as she types), claims it and confirms. Vera, the registry's validator,
validates the claim from her queue, and the petition shows Anna as a verified signer."""

from __future__ import annotations

import pytest

from tests.browser.test_signing_in_browser import page  # noqa: F401  (the browser fixture)
from tests.factories import last_confirm_link, take_breakdown_snapshot
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_anna_claims_her_entry_and_vera_validates_it(page, live_server):  # noqa: F811
    from playwright.sync_api import expect

    registry = make_registry("spb", members=8)
    petition = restricted_petition(registry)
    make_validator("vera", registry)

    # Anna opens the sign form and types part of her name: matching entries appear.
    page.goto(f"{live_server.url}/petitions/{petition.pk}/sign/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign this petition")
    page.get_by_label("Find yourself in the registry").fill("number3")
    entry = page.get_by_role("radio", name="Deputy Spb Number3")
    expect(entry).to_be_visible()
    expect(page.get_by_role("radio", name="Deputy Spb Number4")).to_have_count(0)
    entry.check()
    page.get_by_label("A note for the validator (optional)").fill("My office is in room 12 of the council")
    page.get_by_label("Full name").fill("Anna Number3")
    page.get_by_label("E-mail address").fill("anna@example.org")
    page.get_by_label("Where do you live?").select_option("E12000007")
    page.get_by_label("Show my name and region").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    signature_id, token = last_confirm_link("anna@example.org")
    page.goto(f"{live_server.url}/signatures/confirm/{token}/")
    page.locator("#confirm-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature has been added")
    claim = Claim.objects.get()
    assert claim.status == ClaimStatus.PENDING  # a personal address proves nothing

    # Vera logs in, finds the claim in her queue with Anna's note, and validates it.
    page.goto(f"{live_server.url}/accounts/login/?next=/en/verification/")
    page.locator("input[name=username]").fill("vera")
    page.locator("input[name=password]").fill("a long validator password")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Claims to validate")
    page.get_by_role("link", name=f"#{claim.pk}").click()
    expect(page.locator("dl.summary")).to_contain_text("My office is in room 12 of the council")
    page.get_by_label("Decision").select_option("validate")
    page.get_by_role("button", name="Record my decision").click()
    expect(page.locator("p.notice").first).to_contain_text(f"Claim {claim.pk} is validated")

    # Five colleagues sign counted only (k region-private signatures): the next
    # breakdown snapshot, which the periodic job takes, publishes the verified signers.
    for member in registry.members.exclude(name="Deputy Spb Number3")[:5]:
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None

    # The petition page lists Anna among the verified signers, with her office.
    page.goto(f"{live_server.url}/petitions/{petition.pk}/")
    expect(page.locator(".verified-count")).to_contain_text("1 verified")
    expect(page.locator("ul.verified-signers li", has_text="Deputy Spb Number3")).to_contain_text("Municipal deputy")
