"""Ksenia, a municipal deputy of St Petersburg, signs in her browser with her registry entry and
asks to be named only together with at least four verified deputies from at least two cities.
She confirms from the mailed link; the confirmation page tells her how to leave the group.
Three colleagues join the group too, validated by their official addresses. While Ksenia's own
claim waits, the group stays unnamed; Vera, the validator, validates it in her browser, and the
next snapshot names all four at once, in alphabetical order."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_signing_in_browser import page  # noqa: F401  (the browser fixture)
from tests.factories import last_confirm_link, take_breakdown_snapshot
from tests.verification.conftest import (
    claim_and_confirm,
    make_registry,
    make_validator,
    official_email,
    restricted_petition,
)
from undersign.petitions.services import GroupThresholds
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, GroupReveal

pytestmark = pytest.mark.browser
GROUP_CHOICE = "Name me only once at least 4 verified signers from at least 2 territories are named with me"


@pytest.mark.django_db(transaction=True)
def test_ksenia_joins_a_group_and_is_named_with_it(page, live_server, settings):  # noqa: F811
    from playwright.sync_api import expect

    settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
    spb, msk = make_registry("spb", territory="SPB"), make_registry("msk", territory="MSK")
    petition = restricted_petition(spb, msk, group=GroupThresholds(4, 2))
    make_validator("vera", spb)

    # Ksenia finds her entry, chooses the group and continues.
    page.goto(f"{live_server.url}/petitions/{petition.pk}/sign/")
    page.get_by_label("Find yourself in the registry").fill("spb number3")
    page.get_by_role("radio", name="Deputy Spb Number3").check()
    page.get_by_label("Full name").fill("Ksenia Number3")
    page.get_by_label("E-mail address").fill("ksenia@example.org")
    page.get_by_label("Where do you live?").select_option("E12000007")
    page.get_by_label(GROUP_CHOICE).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")

    # The mailed link: the confirm page keeps her choice; the confirmation tells how to leave.
    _, token = last_confirm_link("ksenia@example.org")
    page.goto(f"{live_server.url}/signatures/confirm/{token}/")
    expect(page.get_by_label(GROUP_CHOICE)).to_be_checked()
    page.locator("#confirm-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature has been added")
    expect(page.locator("#group")).to_contain_text("Named only together with others")
    expect(page.locator("#group-leave")).to_have_attribute("href", re.compile(r"/en/signatures/group/[\w-]+/[\w-]+/$"))
    ksenia = Claim.objects.get()
    assert ksenia.status == ClaimStatus.PENDING and ksenia.signature.display == Display.GROUP

    # Three colleagues join the group, validated at their official addresses.
    for deputy in (spb.members.get(external_id="spb-5"), spb.members.get(external_id="spb-1"), msk.members.first()):
        claim_and_confirm(petition, deputy, email=official_email(deputy), display=Display.GROUP)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    page.goto(f"{live_server.url}/petitions/{petition.pk}/")
    expect(page.locator("#group .group-status")).to_contain_text("Not named yet")
    expect(page.locator("ul.group-members")).to_have_count(0)

    # Vera validates Ksenia's claim from her queue.
    page.goto(f"{live_server.url}/accounts/login/?next=/en/verification/")
    page.locator("input[name=username]").fill("vera")
    page.locator("input[name=password]").fill("a long validator password")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.get_by_role("link", name=f"#{ksenia.pk}").click()
    page.get_by_label("Decision").select_option("validate")
    page.get_by_role("button", name="Record my decision").click()
    expect(page.locator("p.notice").first).to_contain_text(f"Claim {ksenia.pk} is validated")

    # Not between snapshots; the next one names the whole group at once, sorted by name. (The
    # page is publicly cacheable for a few seconds: reloading asks the site again.)
    page.goto(f"{live_server.url}/petitions/{petition.pk}/")
    page.reload()
    expect(page.locator("#group .group-status")).to_contain_text("Not named yet")
    expect(page.locator("ul.group-members li")).to_have_count(0)
    assert take_breakdown_snapshot(petition) is not None
    assert GroupReveal.objects.get(petition=petition).verified_members == 4
    page.reload()
    expect(page.locator("#group .group-status")).to_contain_text("Named together")
    expect(page.locator("ul.group-members li")).to_have_count(4)
    names = [text.split(" verified")[0] for text in page.locator("ul.group-members li").all_inner_texts()]
    assert names == ["Deputy Msk Number1", "Deputy Spb Number1", "Deputy Spb Number3", "Deputy Spb Number5"]
