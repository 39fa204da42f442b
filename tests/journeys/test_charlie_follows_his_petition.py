"""Charlie mistypes his address, is asked whether he meant gmail.com, and corrects it. Behind the
link of his own mails he watches his petition collect supporters (Laura's support counted) and
then wait for the moderators, while its public address still answers 404. All over real HTTP."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.journeys.conftest import confirm_link_for
from undersign.petitions.models import Petition, PetitionState

pytestmark = pytest.mark.django_db(transaction=True)

ACTION = "Light the path along the river"
STATUS_LINK = re.compile(r"https?://\S+/signatures/petition/\S+/\S+/")


def status_link_for(address: str) -> str:
    return next(
        match.group(0)
        for message in reversed(mail.outbox)
        if address in message.to and (match := STATUS_LINK.search(message.body))
    )


def test_charlie_follows_his_petition_from_supporters_to_moderation(visitor, settings):
    settings.SPONSORS_REQUIRED = 2
    charlie = visitor()
    charlie.submit("/en/petitions/new/", {"action": ACTION, "background": "It is dark.", "additional_details": ""})
    details = {"name": "Charlie Creator", "email": "charlie@gmial.com", "region": "E12000008", "display": "named"}
    page = charlie.submit("/en/petitions/new/creator/", details)
    assert "Did you mean charlie@gmail.com?" in page.text and 'href="#id_email"' in page.text
    page = charlie.submit("/en/petitions/new/creator/", {**details, "email": "charlie@gmail.com"})
    assert "Check your petition" in page.text and "charlie@gmail.com" in page.text
    charlie.submit("/en/petitions/new/check/")
    petition = Petition.objects.get(action=ACTION)
    confirmed = charlie.submit(confirm_link_for("charlie@gmail.com"))
    assert "Your petition is confirmed" in confirmed.text

    status = status_link_for("charlie@gmail.com")
    page = charlie.get(status)
    assert "Your petition is collecting supporters" in page.text
    assert "0 supporters of 2 needed have confirmed." in page.text
    sponsor_link = re.search(r"http://\S+/sponsor/\S+/", page.text.replace('"', " ")).group(0)

    laura = visitor()
    thanks = laura.submit(
        sponsor_link, {"name": "Laura", "email": "laura@example.org", "region": "E12000007", "display": "counted"}
    )
    assert "So far 0 supporters of 2 needed have confirmed." in thanks.text
    laura.submit(confirm_link_for("laura@example.org"))
    assert "1 supporter of 2 needed has confirmed." in charlie.get(status).text

    ben = visitor()
    ben.submit(sponsor_link, {"name": "Ben", "email": "ben@example.org", "region": "E12000007", "display": "counted"})
    ben.submit(confirm_link_for("ben@example.org"))
    petition.refresh_from_db()
    assert petition.state == PetitionState.SPONSORED
    assert "Your petition is being checked" in charlie.get(status).text
    assert charlie.get(f"/en/petitions/{petition.pk}/").status_code == 404
    assert visitor().get(f"/en/petitions/{petition.pk}/sign/thank-you/").status_code == 404
