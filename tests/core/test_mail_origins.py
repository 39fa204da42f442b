"""E-mails from a site served at several addresses (SITE_URLS, ``core.outbox.message_text``):
their links are on the primary, whichever address the signer used, and their foot names the
primary and lists the others, in the recipient's language. With one address, nothing changes."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import translation

from tests.factories import CONFIRM_LINK, deliver_outbox, make_petition, signer
from tests.moderation.conftest import make_held
from tests.origins import CLEARNET_URL, ONION, ONION_URL
from undersign.abuse.proof import proof_solve
from undersign.moderation.alerts import abuse_alerts_raise
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE = re.compile(r'data-proof-challenge="([^"]+)"')


def mail_to(address: str) -> mail.EmailMessage:
    deliver_outbox()
    return next(message for message in reversed(mail.outbox) if address in message.to)


def test_a_signer_on_the_onion_is_mailed_links_on_the_primary_and_told_of_the_onion(client, two_origins):
    petition = make_petition()
    page = client.get(f"/en/petitions/{petition.pk}/sign/", HTTP_HOST=ONION).content.decode()
    person = signer(email="tor@example.org")
    data = {"name": person.name, "email": person.email, "region": person.region, "display": "counted"}
    data["csrfmiddlewaretoken"] = CSRF.search(page).group(1)
    data["proof_challenge"] = challenge = CHALLENGE.search(page).group(1)  # always asked on the onion
    data["proof_counter"] = str(proof_solve(challenge=challenge, email=person.email))
    client.post(f"/en/petitions/{petition.pk}/sign/", data, HTTP_HOST=ONION)
    body = mail_to("tor@example.org").body
    assert CONFIRM_LINK.search(body).group(0).startswith(f"{CLEARNET_URL}/en/signatures/confirm/")
    assert body.endswith(f"Undersign: {CLEARNET_URL}\nAlso reachable with Tor Browser at: {ONION_URL}\n")
    assert [link for link in LINK.findall(body) if ONION in link] == [ONION_URL]  # only in the foot


def test_the_foot_is_in_the_signers_language(two_origins):
    petition = make_petition()
    with translation.override("ru"):
        signature_create(petition=petition, details=signer(email="ksenia@example.org"))
    body = mail_to("ksenia@example.org").body
    assert body.endswith(f"Undersign: {CLEARNET_URL}\nТакже доступен через Tor Browser по адресу: {ONION_URL}\n")


def test_an_address_that_is_not_an_onion_is_listed_plainly(two_origins):
    two_origins.SITE_URLS = [CLEARNET_URL, "https://mirror.example"]
    petition = make_petition()
    signature_create(petition=petition, details=signer(email="ana@example.org"))
    assert mail_to("ana@example.org").body.endswith("\nAlso reachable at: https://mirror.example\n")


def test_moderators_alerts_list_them_too(two_origins, moderator, django_capture_on_commit_callbacks):
    two_origins.ABUSE_ALERT_PER_HOUR = 2
    petition = make_petition()
    for n in range(2):
        make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}")
    with django_capture_on_commit_callbacks(execute=True):
        assert abuse_alerts_raise() == 1
    deliver_outbox()
    alert = next(message for message in mail.outbox if "mod@example.org" in message.bcc)
    assert alert.body.endswith(f"Also reachable with Tor Browser at: {ONION_URL}\n")


def test_with_one_address_a_mail_has_no_such_foot(settings):
    petition = make_petition()
    signature_create(petition=petition, details=signer(email="solo@example.org"))
    body = mail_to("solo@example.org").body
    assert "reachable" not in body and f"{settings.SITE_NAME}: {settings.SITE_URL}" not in body
