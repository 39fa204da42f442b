"""Charlie creates a petition; five people sponsor it; Maria, a moderator, approves it; Suzie
signs and confirms; the count goes up; the petition closes. All over real HTTP."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail

from tests.journeys.conftest import confirm_link_for
from undersign.counting.services import breakdown_snapshots_take_due
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.services import petitions_close_due
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db(transaction=True)

ACTION = "Open the school playground to families at weekends"


def test_charlie_creates_sponsors_sign_maria_approves_suzie_signs_and_it_closes(visitor, settings):
    settings.SPONSORS_REQUIRED = 5

    # Charlie writes his petition in three steps and checks it.
    charlie = visitor()
    step = charlie.submit(
        "/en/petitions/new/",
        {"action": ACTION, "background": "The playground sits empty every weekend.", "additional_details": ""},
    )
    assert step.url.endswith("/en/petitions/new/similar/")
    assert "We checked for similar petitions" in step.text
    step = charlie.submit(
        "/en/petitions/new/creator/",
        {"name": "Charlie Creator", "email": "charlie@example.org", "region": "E12000008", "display": "named"},
    )
    assert "Check your petition" in step.text and ACTION in step.text
    done = charlie.submit("/en/petitions/new/check/")
    assert "Check your e-mail" in done.text
    petition = Petition.objects.get(action=ACTION)
    assert charlie.get(f"/en/petitions/{petition.pk}/").status_code == 404  # not public yet

    # He confirms his address and receives the link for sponsors.
    link = confirm_link_for("charlie@example.org")
    page = charlie.get(link)
    assert "Confirm your petition" in page.text and "Charlie Creator" in page.text
    confirmed = charlie.submit(link)
    assert "Your petition is confirmed" in confirmed.text
    sponsor_link = re.search(r"http://\S+/sponsor/\S+/", mail.outbox[-1].body).group(0)
    assert sponsor_link.split("/en/sponsor/")[1] in confirmed.text

    # Laura and four friends sponsor it.
    for n, name in enumerate(["Laura", "Ben", "Chen", "Dara", "Eli"]):
        sponsor = visitor()
        address = f"{name.lower()}@example.org"
        page = sponsor.get(sponsor_link)
        assert ACTION in page.text
        sponsor.submit(
            sponsor_link, {"name": f"{name} Sponsor", "email": address, "region": "E12000007", "display": "counted"}
        )
        assert "confirm your support" in sponsor.last.text
        assert "Thank you for your support" in sponsor.submit(confirm_link_for(address)).text
        petition.refresh_from_db()
        assert petition.state == (PetitionState.SPONSORED if n == 4 else PetitionState.VALIDATED)

    # Maria, a moderator, finds it in her queue and approves it.
    maria = User.objects.create_user("maria", "maria@example.org", "a long moderator password", is_staff=True)
    maria.groups.add(Group.objects.get_or_create(name="moderators")[0])
    moderator = visitor()
    assert "login" in moderator.get("/en/moderation/").url
    moderator.submit("/en/accounts/login/", {"username": "maria", "password": "a long moderator password"})
    assert ACTION in moderator.get("/en/moderation/").text
    moderator.submit(
        f"/en/moderation/petitions/{petition.pk}/approve/", form_page=f"/en/moderation/petitions/{petition.pk}/"
    )
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN and petition.closing_date is not None
    assert any("Your petition has been published" in m.subject for m in mail.outbox if "charlie@example.org" in m.to)

    # The creator's and sponsors' signatures count once it opens.
    log_integrate_all()
    suzie = visitor()
    page = suzie.get(f"/en/petitions/{petition.pk}/")
    assert page.status_code == 200 and "6</span> signatures" in page.text
    assert "Created by Charlie Creator" in page.text

    # Suzie signs, by name, and confirms.
    form = suzie.get(f"/en/petitions/{petition.pk}/sign/")
    assert "no-store" in form.headers["Cache-Control"]
    suzie.submit(
        f"/en/petitions/{petition.pk}/sign/",
        {
            "name": "Suzie Signer",
            "email": "suzie@example.org",
            "region": "S92000003",
            "display": "named",
            "notify_updates": "on",
        },
    )
    assert "Check your e-mail" in suzie.last.text
    link = confirm_link_for("suzie@example.org")
    assert "Suzie Signer" in suzie.get(link).text
    confirmed = suzie.submit(link)
    assert "Your signature has been added" in confirmed.text

    # The count job runs: the count is live. The named signers and the region table wait for
    # the next breakdown snapshot (the counted-only creator and sponsors make one due).
    log_integrate_all()
    count = suzie.get(f"/petitions/{petition.pk}/count.json").json()
    assert count["signature_count"] == 7
    assert "Suzie Signer" not in suzie.get(f"/en/petitions/{petition.pk}/").text
    assert breakdown_snapshots_take_due() == 1
    page = suzie.get(f"/en/petitions/{petition.pk}/")
    assert "Suzie Signer" in page.text and "unverified name" in page.text
    assert "suzie@example.org" not in page.text
    scotland = re.search(r"<td>Scotland</td><td[^>]*>([^<]*)</td>", page.text).group(1)
    assert scotland == "not shown"  # one signature

    # Larry opens the form just before the closing date passes; the periodic job closes it.
    larry = visitor()
    form = larry.get(f"/en/petitions/{petition.pk}/sign/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    petitions_close_due(now=petition.closing_date)
    petition.refresh_from_db()
    assert petition.state == PetitionState.CLOSED
    page = visitor().get(f"/en/petitions/{petition.pk}/")
    assert "closed on" in page.text and "Sign this petition" not in page.text
    late = larry.session.post(
        larry.url(f"/en/petitions/{petition.pk}/sign/"),
        data={
            "csrfmiddlewaretoken": csrf,
            "name": "Late Larry",
            "email": "larry@example.org",
            "region": "E12000007",
            "display": "counted",
        },
        timeout=30,
    )
    assert late.status_code == 409 and "This petition has closed" in late.text
    data = visitor().get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
    assert data["state"] == "closed" and data["signature_count"] == 7
