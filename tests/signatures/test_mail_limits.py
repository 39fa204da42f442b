"""E-mail caps per address (signatures.mail_limits): anyone can type anyone's address, so the
forms must not become a way to flood a mailbox, nor to replace what its owner will confirm."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from undersign.signatures.models import Signature
from undersign.signatures.personal_data import signer_name
from undersign.signatures.services import signature_confirm, signature_create

pytestmark = pytest.mark.django_db
SUZIE = "suzie@example.org"
# Any form of confirmation link, so that these tests also run against older code.
LINK = re.compile(r"https?://[^/\s]+(/\S*confirm/[\w-]+/)")


def mails_to(address: str) -> list:
    deliver_outbox()
    return [m for m in mail.outbox if address in m.to]


def links_to(address: str) -> list[str]:
    return [match.group(1) for m in mails_to(address) if (match := LINK.search(m.body))]


def test_at_most_the_per_petition_cap_of_mails_to_one_address(settings):
    settings.MAIL_PER_ADDRESS_PETITION_DAY = 3
    petition = make_petition()
    for n in range(5):
        signature_create(petition=petition, details=signer(email=SUZIE, name=f"Typed By Someone{n}"))
    assert len(mails_to(SUZIE)) == 3


def test_at_most_the_site_wide_cap_of_mails_to_one_address(settings):
    settings.MAIL_PER_ADDRESS_DAY = 2
    petitions = [make_petition(action=f"Petition number {n}") for n in range(3)]
    for petition in petitions:
        signature_create(petition=petition, details=signer(email=SUZIE))
    assert len(mails_to(SUZIE)) == 2
    # The caps count the normalised address: a +tag or capitals are the same mailbox.
    signature_create(petition=make_petition(action="A fourth one"), details=signer(email="Suzie+x@Example.org"))
    assert len(mails_to(SUZIE)) + len(mails_to("Suzie+x@Example.org")) == 2


def test_already_signed_is_mailed_once_per_window(settings):
    petition = make_petition()
    sign_and_confirm(petition, signer(email=SUZIE))
    mail.outbox.clear()
    for _ in range(3):
        signature_create(petition=petition, details=signer(email=SUZIE))
    assert len(mails_to(SUZIE)) == 1


def test_a_capped_submission_keeps_the_pending_data_and_the_owners_link(settings):
    settings.MAIL_PER_ADDRESS_PETITION_DAY = 1
    petition = make_petition()
    signature_create(petition=petition, details=signer(email=SUZIE, name="Suzie Owner", region="E12000007"))
    [link] = links_to(SUZIE)
    token = link.rstrip("/").rsplit("/", 1)[1]
    signature_create(petition=petition, details=signer(email=SUZIE, name="Sam Impostor", region="S92000003"))
    assert links_to(SUZIE) == [link]  # nothing more was sent
    _, signature = signature_confirm(**_confirm_kwargs(link, token))
    signature = Signature.objects.get(pk=signature.pk)
    assert (signer_name(signature), signature.region) == ("Suzie Owner", "E12000007")


def _confirm_kwargs(link: str, token: str) -> dict:
    """``signature_confirm``'s arguments for ``link``, whichever form links have."""
    import inspect

    if "signature_id" in inspect.signature(signature_confirm).parameters:
        return {"signature_id": int(link.split("/")[2]), "token": token}
    return {"token": token}


def test_over_the_cap_the_signer_sees_the_same_page(client, settings):
    settings.MAIL_PER_ADDRESS_PETITION_DAY = 1
    petition = make_petition()
    form = {"name": "Suzie Q", "email": SUZIE, "region": "E12000007", "display": "counted"}
    under = client.post(f"/en/petitions/{petition.pk}/sign/", form)
    over = client.post(f"/en/petitions/{petition.pk}/sign/", {**form, "name": "Sam Impostor"})
    assert len(mails_to(SUZIE)) == 1
    assert (under.status_code, under["Location"]) == (over.status_code, over["Location"])
    assert client.get(under["Location"]).content == client.get(over["Location"]).content


def test_signing_again_when_signed_already_uses_up_none_of_the_address_caps(settings):
    """On PostgreSQL the confirmation mail is counted before the write (one statement for the
    row and its message) and given back when the address turns out to have signed: someone
    typing a signer's address into the form again and again must not use up the caps that
    the signer's own next confirmation mail needs."""
    settings.MAIL_PER_ADDRESS_DAY = 3
    settings.MAIL_PER_ADDRESS_PETITION_DAY = 3
    petition = make_petition()
    sign_and_confirm(petition, signer(email=SUZIE))  # the address's first mail
    for _ in range(5):
        signature_create(petition=petition, details=signer(email=SUZIE))  # one "already signed" mail
    mail.outbox.clear()
    signature_create(petition=make_petition(action="Another petition"), details=signer(email=SUZIE))
    assert len(links_to(SUZIE)) == 1  # the third mail of the day: under the cap
